"""The store and the database in step: ``check_storage`` finds files that no row refers to (a worker
killed between writing a file and committing its row leaves one behind) and rows whose file is gone.

Orphans are removed only when older than the grace period, so a file whose upload is still on its
way to the commit is never touched. Rows whose file is missing are reported, never changed: the
person who uploaded it may still have the original. ``flask --app wsgi lms storage check`` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from lms.extensions import db
from lms.models import Certificate, EvidenceFile
from lms.storage import Storage, StorageError, StoredFile

DEFAULT_GRACE = timedelta(hours=1)

# Every column that holds a storage key, with the name the report gives its rows. A new kind of
# stored file adds its column here (tests/test_stored_files.py checks that none is forgotten).
STORED_KEY_COLUMNS: tuple[tuple[str, Any, Any], ...] = (
    ("evidence file", EvidenceFile.id, EvidenceFile.storage_key),
    ("certificate", Certificate.id, Certificate.pdf_storage_key),
)


@dataclass(frozen=True)
class MissingFile:
    kind: str
    row_id: int
    key: str


@dataclass
class StorageReport:
    files: int = 0  # stored files looked at (unfinished writes not counted)
    orphans: list[StoredFile] = field(default_factory=list)  # removed (or, dry run, to remove)
    young_orphans: list[StoredFile] = field(default_factory=list)  # within the grace period: kept
    unfinished: list[StoredFile] = field(default_factory=list)  # old left-over temporary files
    missing: list[MissingFile] = field(default_factory=list)
    dry_run: bool = False

    @property
    def healthy(self) -> bool:
        """No row misses its file (orphans are tidied, not alarming)."""
        return not self.missing


def referenced_keys() -> dict[str, tuple[str, int]]:
    """Every storage key a row refers to: key -> (kind, row id)."""
    keys: dict[str, tuple[str, int]] = {}
    for kind, id_column, key_column in STORED_KEY_COLUMNS:
        for row_id, key in db.session.execute(sa.select(id_column, key_column)):
            keys[key] = (kind, row_id)
    return keys


def check_storage(
    storage: Storage,
    *,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
    dry_run: bool = False,
) -> StorageReport:
    """Remove files no row refers to that are older than ``grace`` (``dry_run``: only report them),
    and report rows whose file is missing. Changes no row; safe to run at any time, twice at once too."""
    report = StorageReport(dry_run=dry_run)
    cutoff = now - grace
    # The rows first: a file written after this query is younger than the grace period, so it
    # cannot be taken for an orphan.
    keys = referenced_keys()
    seen: set[str] = set()
    for stored in storage.list_files():
        if stored.unfinished:
            if stored.modified < cutoff:
                report.unfinished.append(stored)
                if not dry_run:
                    storage.discard_unfinished(stored.key)
            continue
        report.files += 1
        seen.add(stored.key)
        if stored.key in keys:
            continue
        if stored.modified >= cutoff:
            report.young_orphans.append(stored)
            continue
        report.orphans.append(stored)
        if not dry_run:
            storage.delete(stored.key)
    for key, (kind, row_id) in sorted(keys.items(), key=lambda item: (item[1][0], item[1][1])):
        # A file saved just after the listing is not missing: look once more before reporting.
        if key not in seen and not _exists(storage, key):
            report.missing.append(MissingFile(kind, row_id, key))
    return report


def _exists(storage: Storage, key: str) -> bool:
    try:
        return storage.exists(key)
    except StorageError:  # a malformed key in a row: its file cannot be there
        return False
