"""Backing up and restoring the database: ``flask --app wsgi lms backup|restore <file>``.

- SQLite: the online backup API of sqlite3, so a backup taken while the app runs is consistent.
  The backup is written next to the target first and renamed into place.
- PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --single-transaction``, so a
  failed restore changes nothing. The password goes to the tools through PGPASSWORD, never on the
  command line.

Evidence files are not in the database: back up EVIDENCE_STORAGE_PATH alongside (see the README).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # nosec B404 - runs pg_dump/pg_restore with a fixed argument list, no shell
import tempfile
from pathlib import Path

import sqlalchemy as sa

SQLITE_HEADER = b"SQLite format 3\x00"
PG_CUSTOM_HEADER = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


def backup_database(url: sa.URL, target: Path) -> None:
    if url.get_backend_name() == "sqlite":
        _sqlite_backup(_sqlite_path(url), target)
    elif url.get_backend_name() == "postgresql":
        _pg_dump(url, target)
    else:
        raise BackupError(f"No backup for a {url.get_backend_name()} database.")


def restore_database(url: sa.URL, source: Path) -> None:
    if not source.is_file():
        raise BackupError(f"{source} does not exist.")
    header = source.read_bytes()[:16]
    if url.get_backend_name() == "sqlite":
        if not header.startswith(SQLITE_HEADER):
            raise BackupError(f"{source} is not a SQLite backup.")
        _sqlite_restore(source, _sqlite_path(url))
    elif url.get_backend_name() == "postgresql":
        if not header.startswith(PG_CUSTOM_HEADER):
            raise BackupError(f"{source} is not a PostgreSQL backup (pg_dump --format=custom).")
        _pg_restore(url, source)
    else:
        raise BackupError(f"No restore for a {url.get_backend_name()} database.")


# --- SQLite -----------------------------------------------------------------------------------


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def _sqlite_backup(database: Path, target: Path) -> None:
    if not database.is_file():
        raise BackupError(f"The database {database} does not exist.")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".backup-", suffix=".sqlite3")
    os.close(handle)
    try:
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        destination = sqlite3.connect(temporary)
        try:
            with destination:
                source.backup(destination)
        finally:
            destination.close()
            source.close()
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _sqlite_restore(source: Path, database: Path) -> None:
    backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        (result,) = backup.execute("PRAGMA integrity_check").fetchone()
        if result != "ok":
            raise BackupError(f"{source} is damaged: {result}")
        live = sqlite3.connect(database)
        try:
            with live:
                backup.backup(live)
        finally:
            live.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{source} cannot be read as a SQLite database: {error}") from None
    finally:
        backup.close()


# --- PostgreSQL -------------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (apt-get install postgresql-client).")
    return path


def _pg_connection(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq address without the password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(arguments: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(  # nosec B603 - fixed tool path and arguments, no shell
        arguments, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{Path(arguments[0]).name} failed: {result.stderr.strip()}")


def _pg_dump(url: sa.URL, target: Path) -> None:
    address, env = _pg_connection(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".backup-", suffix=".dump")
    os.close(handle)
    try:
        _run(
            [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", temporary, address],
            env,
        )
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _pg_restore(url: sa.URL, source: Path) -> None:
    address, env = _pg_connection(url)
    _run(
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            address,
            str(source),
        ],
        env,
    )
