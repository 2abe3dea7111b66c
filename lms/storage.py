"""Evidence files behind a small interface, so object storage can replace the local folder later.

- ``Storage``: ``save(data, suffix) -> key``, ``open(key)``, ``read(key)``, ``delete(key)``; and for
  ``lms storage check``: ``list_files()`` (every key, with when it was written, and the left-overs of
  writes that never finished) and ``discard_unfinished(name)``.
- ``LocalStorage``: files in a folder outside the static folder (``EVIDENCE_STORAGE_PATH``), under random,
  unguessable keys. A write goes to a temporary file first and is renamed into place, so a key never
  points at half a file.
- ``get_storage()``: the application's storage.
- ``discard_on_rollback`` / ``delete_after_commit``: keep the folder and the database in step. A file
  saved for a row that is rolled back is removed again; a file whose row is deleted goes only once the
  deletion has committed.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

logger = logging.getLogger(__name__)

# 32 random bytes, URL-safe; plus a short lower-case suffix such as ".jpg".
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}\.[a-z0-9]{1,5}$")
SUFFIX_PATTERN = re.compile(r"^\.[a-z0-9]{1,5}$")
TEMPORARY_PREFIX = ".upload-"
# A write that never finished, as ``list_files`` names it: "<sub-folder>/.upload-<random>".
UNFINISHED_PATTERN = re.compile(r"^[A-Za-z0-9_-]{2}/\.upload-[A-Za-z0-9_]{1,64}$")


class StorageError(Exception):
    """A key that is malformed or does not exist, or a write that failed."""


@dataclass(frozen=True)
class StoredFile:
    """One file in the store. ``unfinished``: the temporary file of a write that never finished (a
    worker killed mid-upload); ``key`` is then its name, for ``discard_unfinished``."""

    key: str
    modified: datetime
    size: int
    unfinished: bool = False


class Storage(Protocol):
    def save(self, data: bytes, suffix: str) -> str: ...

    def open(self, key: str) -> BinaryIO: ...

    def read(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def list_files(self) -> Iterator[StoredFile]: ...

    def discard_unfinished(self, name: str) -> None: ...


class LocalStorage:
    """Files in one folder, spread over sub-folders by the key's first two characters."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        if not KEY_PATTERN.match(key):
            raise StorageError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key

    def save(self, data: bytes, suffix: str) -> str:
        if not SUFFIX_PATTERN.match(suffix):
            raise StorageError(f"not a file suffix: {suffix!r}")
        key = secrets.token_urlsafe(32) + suffix
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=TEMPORARY_PREFIX)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, 0o640)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return key

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise StorageError(f"no stored file {key!r}") from None

    def read(self, key: str) -> bytes:
        with self.open(key) as file:
            return file.read()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list_files(self) -> Iterator[StoredFile]:
        """Every stored file and every left-over temporary file; anything else in the folder is
        not ours and is left out."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if not folder.is_dir() or len(folder.name) != 2:
                continue
            for path in sorted(folder.iterdir()):
                try:
                    status = path.lstat()
                except FileNotFoundError:  # deleted while we looked
                    continue
                name = f"{folder.name}/{path.name}"
                modified = datetime.fromtimestamp(status.st_mtime, UTC)
                if KEY_PATTERN.match(path.name) and path.name[:2] == folder.name:
                    yield StoredFile(path.name, modified, status.st_size)
                elif UNFINISHED_PATTERN.match(name):
                    yield StoredFile(name, modified, status.st_size, unfinished=True)

    def discard_unfinished(self, name: str) -> None:
        if not UNFINISHED_PATTERN.match(name):
            raise StorageError(f"not an unfinished write: {name!r}")
        (self.root / name).unlink(missing_ok=True)


def create_storage(app: Flask) -> Storage:
    root = Path(app.config["EVIDENCE_STORAGE_PATH"]).resolve()
    if app.static_folder and root.is_relative_to(Path(app.static_folder).resolve()):
        raise StorageError("EVIDENCE_STORAGE_PATH must not be inside the static folder")
    return LocalStorage(root)


def get_storage() -> Storage:
    """The current application's storage, made on first use."""
    storage = current_app.extensions.get("evidence_storage")
    if storage is None:
        storage = current_app.extensions["evidence_storage"] = create_storage(current_app)
    return storage


# Keeping storage and database in step ---------------------------------------------------------------

_NEW = "storage_new_keys"
_DOOMED = "storage_delete_after_commit"


def discard_on_rollback(session: Session, storage: Storage, key: str) -> None:
    """Remove the just-saved ``key`` again if the session's transaction is rolled back."""
    _install_session_hooks()
    session.info.setdefault(_NEW, []).append((storage, key))


def delete_after_commit(session: Session, storage: Storage, key: str) -> None:
    """Remove ``key`` once the session's transaction (which deletes its row) has committed."""
    _install_session_hooks()
    session.info.setdefault(_DOOMED, []).append((storage, key))


def _after_commit(session: Session) -> None:
    session.info.pop(_NEW, None)
    for storage, key in session.info.pop(_DOOMED, []):
        _delete_quietly(storage, key)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """Whatever ended the outermost transaction without a commit (rollback, close) undoes the saves."""
    if transaction.parent is not None:
        return
    session.info.pop(_DOOMED, None)
    for storage, key in session.info.pop(_NEW, []):
        _delete_quietly(storage, key)


def _delete_quietly(storage: Storage, key: str) -> None:
    try:
        storage.delete(key)
    except (OSError, StorageError):  # a left-over file is harmless; a lost row is not
        logger.warning("could not delete stored file %s", key, exc_info=True)


def _install_session_hooks() -> None:
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)
