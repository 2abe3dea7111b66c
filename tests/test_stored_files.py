"""The store and the database in step (issue 17, point 7): a worker killed between writing an
evidence file and committing its row leaves an orphan; ``check_storage`` and ``lms storage check``
remove orphans older than the grace period and report rows whose file is missing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from lms import clock
from lms.extensions import db
from lms.models import Attempt, EvidenceFile
from lms.services.stored_files import STORED_KEY_COLUMNS, check_storage
from lms.storage import get_storage
from tests.scenarios import build_world

ROOT = Path(__file__).resolve().parent.parent

# A worker process that stores a photo for an attempt and is killed before its request commits.
KILLED_UPLOAD = """
import os, signal, sys
from lms import clock, create_app
from lms.extensions import db
from lms.models import Attempt
from lms.services.evidence import EvidenceLimits, Upload, prepare_upload, store_evidence
from lms.storage import get_storage
from tests.conftest import make_config
from tests.factories import make_photo_bytes

url, storage, attempt_id = sys.argv[1:]
app = create_app(make_config(url, storage))
with app.app_context():
    attempt = db.session.get(Attempt, int(attempt_id))
    prepared = prepare_upload(Upload.from_bytes("foto.jpg", make_photo_bytes()), EvidenceLimits())
    participant = attempt.submission.enrolment.participant
    store_evidence(attempt, prepared, actor=participant, storage=get_storage(), at=clock.now())
    os.kill(os.getpid(), signal.SIGKILL)  # the worker dies before the commit
"""


def stored_keys() -> set[str]:
    return {stored.key for stored in get_storage().list_files() if not stored.unfinished}


def age(key: str, hours: float) -> None:
    """Make a stored file look ``hours`` old."""
    path = Path(get_storage().root) / key[:2] / key  # type: ignore[attr-defined]
    moment = time.time() - hours * 3600
    os.utime(path, (moment, moment))


def kill_a_worker_mid_upload(app, attempt_id: int) -> str:  # type: ignore[no-untyped-def]
    """Run a real worker process that dies mid-upload; the key of the file it left behind."""
    before = stored_keys()
    process = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_UPLOAD,
            app.config["SQLALCHEMY_DATABASE_URI"],
            app.config["EVIDENCE_STORAGE_PATH"],
            str(attempt_id),
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()
    (orphan,) = stored_keys() - before
    return orphan


def test_a_worker_killed_mid_upload_leaves_an_orphan_that_the_check_removes_after_the_grace_period(
    app,
) -> None:
    world = build_world()
    db.session.commit()
    attempt_id = world.handed_in.attempts[0].id
    kept = {world.evidence.storage_key, world.certificate.pdf_storage_key}
    storage = get_storage()

    orphan = kill_a_worker_mid_upload(app, attempt_id)
    # The row never committed; the file is on disk.
    db.session.expire_all()
    assert db.session.get(Attempt, attempt_id).evidence_files == [world.evidence]  # type: ignore[union-attr]
    assert storage.exists(orphan)

    now = clock.now()
    # Within the grace period the file may be an upload on its way to its commit: kept.
    report = check_storage(storage, now=now)
    assert [stored.key for stored in report.young_orphans] == [orphan]
    assert report.orphans == [] and storage.exists(orphan)

    later = now + timedelta(hours=2)
    dry = check_storage(storage, now=later, dry_run=True)
    assert [stored.key for stored in dry.orphans] == [orphan] and storage.exists(orphan)

    report = check_storage(storage, now=later)
    assert [stored.key for stored in report.orphans] == [orphan]
    assert not storage.exists(orphan)
    assert report.missing == [] and report.healthy
    assert kept <= stored_keys()  # the evidence and the certificate PDF the rows refer to stay
    assert check_storage(storage, now=later).orphans == []  # again: nothing left to do


def test_rows_whose_file_is_missing_are_reported_and_left_unchanged(app) -> None:
    world = build_world()
    db.session.commit()
    storage = get_storage()
    storage.delete(world.evidence.storage_key)
    storage.delete(world.certificate.pdf_storage_key)

    report = check_storage(storage, now=clock.now() + timedelta(days=1))

    assert {(missing.kind, missing.row_id) for missing in report.missing} == {
        ("evidence file", world.evidence.id),
        ("certificate", world.certificate.id),
    }
    assert not report.healthy
    db.session.expire_all()
    assert db.session.get(EvidenceFile, world.evidence.id) is not None


def test_the_command_removes_old_orphans_and_unfinished_uploads_and_alarms_on_missing_files(
    app, runner
) -> None:
    world = build_world()
    db.session.commit()
    storage = get_storage()
    old_orphan = storage.save(b"left behind", ".jpg")
    new_orphan = storage.save(b"on its way", ".jpg")
    age(old_orphan, 3)
    # A write interrupted before its rename: a temporary file next to the stored ones.
    unfinished = Path(storage.root) / old_orphan[:2] / ".upload-abc123"  # type: ignore[attr-defined]
    unfinished.write_bytes(b"half a fi")
    moment = time.time() - 3 * 3600
    os.utime(unfinished, (moment, moment))

    dry = runner.invoke(args=["lms", "storage", "check", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"orphan {old_orphan}" in dry.output and "would remove" in dry.output
    assert new_orphan not in dry.output
    assert storage.exists(old_orphan) and unfinished.exists()

    result = runner.invoke(args=["lms", "storage", "check"])
    assert result.exit_code == 0, result.output
    assert "1 orphan file(s) removed, 1 unfinished upload(s) removed" in result.output
    assert "1 recent file(s) without a row kept" in result.output
    assert not storage.exists(old_orphan) and not unfinished.exists()
    assert storage.exists(new_orphan)

    shorter = runner.invoke(args=["lms", "storage", "check", "--grace-hours", "0"])
    assert shorter.exit_code == 0 and not storage.exists(new_orphan)

    storage.delete(world.evidence.storage_key)
    missing = runner.invoke(args=["lms", "storage", "check"])
    assert missing.exit_code == 1  # for cron and monitoring
    assert f"MISSING: evidence file #{world.evidence.id}" in missing.output
    db.session.expire_all()
    assert db.session.get(EvidenceFile, world.evidence.id) is not None


def test_retention_tidies_the_store_too(app, runner) -> None:
    storage = get_storage()
    orphan = storage.save(b"left behind", ".pdf")
    age(orphan, 2)

    dry = runner.invoke(args=["lms", "retention", "--dry-run"])
    assert f"orphan {orphan}" in dry.output and storage.exists(orphan)
    result = runner.invoke(args=["lms", "retention"])
    assert result.exit_code == 0, result.output
    assert "1 orphan file(s) removed" in result.output and not storage.exists(orphan)


def test_every_column_holding_a_storage_key_is_checked(app) -> None:
    """A new kind of stored file must be added to STORED_KEY_COLUMNS, or its files would be
    taken for orphans and removed."""
    holding_keys = {
        f"{table.name}.{column.name}"
        for table in db.metadata.tables.values()
        for column in table.columns
        if "storage_key" in column.name
    }
    checked = {
        f"{key_column.expression.table.name}.{key_column.expression.name}"
        for _kind, _id, key_column in STORED_KEY_COLUMNS
    }
    assert holding_keys == checked
