"""Operations commands on ``flask --app wsgi lms``: backup, restore, retention and the storage check.

Kept apart from ``lms/cli.py`` (curriculum, demo, users) and added to the same group by
``register`` in the application factory.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.extensions import db

if TYPE_CHECKING:
    from lms.services.stored_files import StorageReport


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(target: Path) -> None:
    """Write a consistent copy of the database to TARGET (SQLite: online backup; PostgreSQL:
    pg_dump custom format). Evidence files are not included: copy EVIDENCE_STORAGE_PATH too."""
    from lms.backup import BackupError, backup_database

    try:
        backup_database(db.engine.url, target)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    size = target.stat().st_size
    click.echo(f"Backup written to {target} ({size} bytes).")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore(source: Path, yes: bool) -> None:
    """Replace everything in the database with the backup in SOURCE."""
    from lms.backup import BackupError, restore_database

    url = db.engine.url
    if not yes:
        click.confirm(
            f"This replaces ALL data in {url.render_as_string(hide_password=True)} with {source}."
            " Stop the web workers and the scheduler first. Continue?",
            abort=True,
        )
    db.session.remove()
    db.engine.dispose()  # no open connection may hold a lock on what is replaced
    try:
        restore_database(url, source)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Database restored from {source}. Run `flask --app wsgi db upgrade` if it is older."
    )


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Only list who would be erased; change nothing.")
@with_appcontext
def retention(dry_run: bool) -> None:
    """Erase the personal data of participants whose cohorts all ended more than RETENTION_MONTHS
    ago (certificates stay verifiable). Run it monthly; running it again changes nothing."""
    from lms.services import privacy

    cutoff = privacy.retention_cutoff()
    months = current_app.config["RETENTION_MONTHS"]
    candidates = privacy.retention_candidates()
    click.echo(
        f"Retention: {months} months; participants whose last cohort ended before {cutoff.isoformat()}."
    )
    for candidate in candidates:
        user = candidate.user
        click.echo(
            f"  {'would erase' if dry_run else 'erasing'} #{user.id} {user.full_name}"
            f" (last cohort ended {candidate.last_end_date.isoformat()})"
        )
    if dry_run:
        click.echo(f"Dry run: {len(candidates)} participant(s) would be erased; nothing changed.")
        echo_storage_report(_check_storage(dry_run=True))
        return
    reports = privacy.apply_retention()
    db.session.commit()
    files = sum(report.evidence_files for report in reports)
    click.echo(f"Erased {len(reports)} participant(s), {files} evidence file(s) removed.")
    # A file whose deletion failed (or that a killed worker left behind) is tidied here too.
    echo_storage_report(_check_storage(dry_run=False))


@click.group("storage")
def storage_group() -> None:
    """The stored files (evidence, certificate PDFs) against the database."""


@storage_group.command("check")
@click.option("--dry-run", is_flag=True, help="Only report; remove nothing.")
@click.option(
    "--grace-hours",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Files younger than this are never removed (their upload may still be under way).",
)
@with_appcontext
def storage_check(dry_run: bool, grace_hours: float) -> None:
    """Remove stored files that no database row refers to, and report rows whose file is missing
    (those rows are not changed). Exits with status 1 when a row misses its file. Run it daily."""
    report = _check_storage(dry_run=dry_run, grace=timedelta(hours=grace_hours))
    echo_storage_report(report)
    if not report.healthy:
        sys.exit(1)


def _check_storage(*, dry_run: bool, grace: timedelta | None = None) -> StorageReport:
    from lms import clock
    from lms.services.stored_files import DEFAULT_GRACE, check_storage
    from lms.storage import get_storage

    report = check_storage(
        get_storage(),
        now=clock.now(),
        grace=DEFAULT_GRACE if grace is None else grace,
        dry_run=dry_run,
    )
    db.session.rollback()  # the check only reads
    return report


def echo_storage_report(report: StorageReport) -> None:
    removed = "would remove" if report.dry_run else "removed"
    click.echo(f"Storage check: {report.files} stored file(s).")
    for stored in report.orphans:
        click.echo(
            f"  orphan {stored.key} ({stored.size} bytes, {stored.modified:%Y-%m-%d %H:%M} UTC): {removed}"
        )
    for stored in report.unfinished:
        click.echo(f"  unfinished upload {stored.key}: {removed}")
    for missing in report.missing:
        click.echo(
            f"  MISSING: {missing.kind} #{missing.row_id} has no file ({missing.key})", err=True
        )
    click.echo(
        f"{len(report.orphans)} orphan file(s) {removed}, {len(report.unfinished)} unfinished"
        f" upload(s) {removed}, {len(report.young_orphans)} recent file(s) without a row kept,"
        f" {len(report.missing)} row(s) missing their file."
    )


@click.group("badges")
def badges_group() -> None:
    """Signing keys of the Open Badges credentials (kept in BADGE_KEY_DIR, not in the database)."""


@badges_group.command("keygen")
@with_appcontext
def badges_keygen() -> None:
    """Create the first signing key; does nothing when there is one already."""
    from lms import clock
    from lms.services.badge_keys import ensure_key, key_dir
    from lms.services.badges import issuer_did

    key_id, created = ensure_key(key_dir(), clock.now())
    if created:
        click.echo(f"Signing key {issuer_did()}#{key_id} created in {key_dir()}.")
    else:
        click.echo(f"Signing key {issuer_did()}#{key_id} is already there; nothing changed.")


@badges_group.command("rotate")
@with_appcontext
def badges_rotate() -> None:
    """Make a new active signing key. Older public keys stay published, so the credentials they
    signed keep verifying."""
    from lms import clock
    from lms.services.badge_keys import create_key, key_dir, public_keys
    from lms.services.badges import issuer_did

    key_id = create_key(key_dir(), clock.now())
    click.echo(
        f"New active signing key {issuer_did()}#{key_id}; {len(public_keys()) - 1} older key(s)"
        " stay in /.well-known/did.json."
    )


@badges_group.command("keys")
@with_appcontext
def badges_keys() -> None:
    """List the published keys; the active one is marked."""
    from lms.services.badge_keys import active_key_id, key_dir, public_keys
    from lms.services.badges import issuer_did

    active = active_key_id(key_dir())
    keys = public_keys()
    if not keys:
        click.echo(f"No signing key in {key_dir()}: run `flask --app wsgi lms badges keygen`.")
    for key_id in keys:
        click.echo(f"{'*' if key_id == active else ' '} {issuer_did()}#{key_id}")


def register(group: click.Group) -> None:
    for command in (backup, restore, retention, storage_group, badges_group):
        group.add_command(command)
