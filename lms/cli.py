"""Command-line tasks: ``flask --app wsgi lms <command>``. Each command commits once, at the end."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.extensions import db
from lms.models import Employer, Role
from lms.services import accounts

CURRICULUM_DIR = Path(__file__).resolve().parent.parent / "curriculum"


@click.group("lms")
def lms_group() -> None:
    """Vakkracht LMS: curriculum, demo data and accounts."""


# --- curriculum -------------------------------------------------------------------------------


@lms_group.group("curriculum")
def curriculum_group() -> None:
    """The programme as data (curriculum/*.yaml)."""


@curriculum_group.command("load")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def curriculum_load(paths: tuple[Path, ...]) -> None:
    """Validate and load curriculum files (default: every file in curriculum/)."""
    from lms.services.curriculum import CurriculumError, load_curriculum_files

    files = list(paths) or sorted(CURRICULUM_DIR.glob("*.y*ml"))
    if not files:
        raise click.ClickException(f"No curriculum files found in {CURRICULUM_DIR}")
    try:
        outcomes = load_curriculum_files(files)
    except CurriculumError as error:
        db.session.rollback()
        click.echo(str(error), err=True)
        sys.exit(1)
    db.session.commit()
    for path, outcome in zip(files, outcomes, strict=True):
        click.echo(f"{path}: {outcome.describe()}")


# --- school calendar ----------------------------------------------------------------------------


@lms_group.group("calendar")
def calendar_group() -> None:
    """The school calendar (curriculum/calendar/*.yaml): the holidays programme weeks skip."""


@calendar_group.command("load")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def calendar_load(paths: tuple[Path, ...]) -> None:
    """Validate and load school calendar files (default: every file in curriculum/calendar/)."""
    from lms.services.school_calendar import CalendarError, calendar_files, load_calendar_files

    files = list(paths) or calendar_files()
    if not files:
        raise click.ClickException("No calendar files found in curriculum/calendar/")
    try:
        loads = load_calendar_files(files)
    except CalendarError as error:
        db.session.rollback()
        click.echo(str(error), err=True)
        sys.exit(1)
    db.session.commit()
    for path, load in zip(files, loads, strict=True):
        click.echo(f"{path}: {load.describe()}")


@calendar_group.command("apply")
@click.option("--dry-run", is_flag=True, help="List what would change; change nothing.")
@with_appcontext
def calendar_apply(dry_run: bool) -> None:
    """Move the open cohorts that have not ended to the loaded calendar: their programme weeks, due
    dates and end dates (ended cohorts keep theirs: they are history)."""
    from lms import clock
    from lms.services.school_calendar import apply_change, pending_changes

    changes, ended = pending_changes(clock.today())
    for change in changes:
        click.echo(change.describe())
    if ended:
        click.echo(f"{ended} ended cohort(s) left as they are.")
    if not changes:
        click.echo("Every running cohort already follows the calendar: nothing to change.")
        return
    if dry_run:
        click.echo(f"Dry run: {len(changes)} cohort(s) would change; nothing was changed.")
        return
    for change in changes:
        apply_change(change, actor=None)
    db.session.commit()
    click.echo(f"{len(changes)} cohort(s) changed.")


# --- demo -------------------------------------------------------------------------------------


@lms_group.command("demo")
@with_appcontext
def demo() -> None:
    """Create demo accounts, employers and two cohorts with some progress (once)."""
    if current_app.config["LMS_CONFIG_NAME"] == "production":
        raise click.ClickException("The demo data is not for production; refusing to load it.")
    from lms import clock
    from lms.demo import DEMO_PASSWORD, load_demo_data
    from lms.services.badge_keys import ensure_key, key_dir

    # The signing key first (the digital badges and the ledger's checkpoints need it, and it is kept
    # outside the database): the demo's sign-offs are then anchored as they are made.
    key_id, key_created = ensure_key(key_dir(), clock.now())
    if key_created:
        click.echo(f"Badge signing key {key_id} created in {key_dir()}.")
    created = load_demo_data()
    if created:
        db.session.commit()
        click.echo(f"Demo data loaded. Every demo account has the password {DEMO_PASSWORD!r}.")
        from lms.demo_certificates import verification_examples

        click.echo("Try the public certificate check (no login needed):")
        for state, name, url in verification_examples():
            click.echo(f"  {state:<9} {name}: {url}")
    else:
        click.echo("Demo data is already there; nothing changed.")


# --- users ------------------------------------------------------------------------------------


@lms_group.group("user")
def user_group() -> None:
    """Accounts."""


@user_group.command("create")
@click.option("--email", required=True)
@click.option("--first-name", required=True)
@click.option("--last-name", required=True)
@click.option("--name-prefix", default="", help='Tussenvoegsel, e.g. "van der".')
@click.option(
    "--role", required=True, type=click.Choice([role.value for role in Role], case_sensitive=False)
)
@click.option(
    "--employer-kvk", default=None, help="KvK number of the employer (employer role only)."
)
@click.option(
    "--password",
    default=None,
    help="Set a password now; without it, a one-time link to set one is printed.",
)
@with_appcontext
def user_create(
    email: str,
    first_name: str,
    last_name: str,
    name_prefix: str,
    role: str,
    employer_kvk: str | None,
    password: str | None,
) -> None:
    """Add a user from the command line."""
    employer = None
    if employer_kvk:
        employer = db.session.scalar(db.select(Employer).where(Employer.kvk_number == employer_kvk))
        if employer is None:
            raise click.ClickException(f"No employer with KvK number {employer_kvk}.")
    try:
        user = accounts.create_user(
            email=email,
            first_name=first_name,
            last_name=last_name,
            name_prefix=name_prefix,
            role=Role(role.lower()),
            employer=employer,
            password=password,
        )
        link = None if password else accounts.send_invitation(user)
    except accounts.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.full_name} <{user.email}>.")
    if link:
        click.echo(f"Invitation queued in the mail outbox. Set-password link (valid once): {link}")


# --- ledger -----------------------------------------------------------------------------------


@lms_group.group("ledger")
def ledger_group() -> None:
    """The sign-off ledger (append-only, hash-chained)."""


@ledger_group.command("verify")
@click.option(
    "--checkpoint",
    "saved",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A checkpoint saved from /ledger/checkpoint.json (or its JWS alone); may be repeated.",
)
@with_appcontext
def ledger_verify(saved: tuple[Path, ...]) -> None:
    """Recompute the hash chain, then check it against every signed checkpoint (and the saved ones):
    "OK: N records" and what the checkpoints say, or each mismatch and exit status 1."""
    from lms.services.badge_keys import public_keys
    from lms.services.ledger_checkpoints import (
        UnreadableCheckpoint,
        check_checkpoints,
        read_saved,
    )
    from lms.services.signoff import check_ledger

    tokens: dict[str, str] = {}
    for path in saved:
        try:
            tokens[f"saved checkpoint {path}"] = read_saved(path.read_text(encoding="utf-8"))
        except (UnreadableCheckpoint, UnicodeDecodeError) as error:
            raise click.ClickException(f"{path} is not a saved checkpoint: {error}") from None
    failed = False
    report = check_ledger()
    if report.ok:
        click.echo(f"OK: {report.count} records")
    else:
        record = report.first_broken
        assert record is not None
        click.echo(
            f"BROKEN at sequence {record.sequence} (id {record.id}) of {report.count} records:"
            f" {report.problem}",
            err=True,
        )
        failed = True
    checks = check_checkpoints(tokens)
    wrong = [check for check in checks if check.problem]
    for check in wrong[:10]:
        click.echo(f"CHECKPOINT MISMATCH, {check.label}: {check.problem}", err=True)
    if len(wrong) > 10:
        click.echo(f"... and {len(wrong) - 10} more checkpoints that do not match.", err=True)
    if not checks:
        click.echo(
            "NOT ANCHORED: there is no signed checkpoint, so deleting the last records, or"
            " rewriting records with every later hash recomputed, would not be noticed."
            + (
                ""
                if public_keys()
                else " There is no signing key yet: create it with `flask --app wsgi lms badges"
                " keygen`; every sign-off after that, and the daily job, signs a checkpoint."
            )
        )
    elif len(wrong) < len(checks):
        held = max(check.count for check in checks if not check.problem)
        later = report.count - held
        click.echo(
            f"Checkpoints: {len(checks) - len(wrong)} of {len(checks)} signed checkpoints match"
            f" (the longest covers {held} records)."
            + (f" The {later} records after it are not anchored yet." if later > 0 else "")
        )
    if failed or wrong:
        sys.exit(1)


# --- progress summaries -------------------------------------------------------------------------


@lms_group.group("progress")
def progress_group() -> None:
    """The progress summaries pages read (one row per enrolment, kept on every write)."""


@progress_group.command("verify")
@with_appcontext
def progress_verify() -> None:
    """Recompute every summary from the raw rows, and sum up every cohort again from them: "OK: N
    enrolments, M cohorts", or each enrolment and cohort whose stored summary differs and exit
    status 1."""
    from lms.services.progress import verify_summaries

    check = verify_summaries()
    if check.ok:
        click.echo(f"OK: {check.checked} enrolments, {check.cohorts_checked} cohorts")
        return
    differing = [(f"enrolment {d.enrolment_id}", d.fields) for d in check.differences] + [
        (f"cohort {d.cohort_id}", d.fields) for d in check.cohort_differences
    ]
    for name, fields in differing[:50]:
        figures = ", ".join(
            f"{field} stored {_shown(stored)}, recomputed {_shown(recomputed)}"
            for field, (stored, recomputed) in fields.items()
        )
        click.echo(f"DIFFERS: {name}: {figures}", err=True)
    if len(differing) > 50:
        click.echo(f"... and {len(differing) - 50} more.", err=True)
    click.echo(
        f"{len(check.differences)} of {check.checked} summaries differ, and"
        f" {len(check.cohort_differences)} of {check.cohorts_checked} cohort summaries;"
        " `flask --app wsgi lms progress rebuild` rewrites them.",
        err=True,
    )
    sys.exit(1)


def _shown(value: object) -> str:
    """A stored figure as a person reads it: dates as YYYY-MM-DD, lists of dates in brackets."""
    if isinstance(value, tuple):
        return "[" + ", ".join(_shown(item) for item in value) + "]"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@progress_group.command("rebuild")
@with_appcontext
def progress_rebuild() -> None:
    """Recompute and rewrite every summary, then every cohort's."""
    from lms.services.progress import rebuild_cohort_summaries, rebuild_summaries

    count = rebuild_summaries()
    cohorts = rebuild_cohort_summaries()
    db.session.commit()
    click.echo(f"Rebuilt {count} progress summaries and {cohorts} cohort summaries.")


# --- reminders, mail and the scheduler ----------------------------------------------------------


@lms_group.command("scheduler")
@with_appcontext
def scheduler() -> None:
    """Run the scheduled jobs (reminders hourly, mail every minute) until stopped. One process."""
    import logging

    from lms.scheduler import run_forever

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    click.echo(
        "Scheduler running: reminder sweep every hour, outbox delivery every minute,"
        " ledger checkpoint every night."
    )
    run_forever(current_app._get_current_object())  # type: ignore[attr-defined]


@lms_group.command("remind")
@with_appcontext
def remind() -> None:
    """Run the reminder sweep once now (safe to repeat: each reminder goes out once)."""
    from lms.services.reminders import sweep

    report = sweep()
    db.session.commit()
    click.echo(f"Reminder sweep done: {report.describe()}")


@lms_group.group("outbox")
def outbox_group() -> None:
    """The mail outbox."""


@outbox_group.command("deliver")
@with_appcontext
def outbox_deliver() -> None:
    """Deliver the mail that is due now, once."""
    from lms.services.outbox import deliver_outbox

    report = deliver_outbox()
    click.echo(f"Outbox delivery done: {report.describe()}")
