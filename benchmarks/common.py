"""What the generator and the runner share: the application for a benchmark database, and the
accounts the runner logs in with."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_URL = f"sqlite:///{ROOT / 'instance' / 'bench.sqlite3'}"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/lms_bench"

PASSWORD = "bench-password-not-secret"  # nosec B105 - known password of generated benchmark accounts
COORDINATOR_EMAIL = "coordinator@bench.example"
TRAINER_EMAIL = "trainer@bench.example"  # assigned to many cohorts
PARTICIPANT_EMAIL = "participant@bench.example"  # halfway through the year
EMPLOYER_EMAIL = "employer@bench.example"  # the contact of the largest employer


def bench_app(database_url: str, **settings: Any) -> Flask:
    """The real application against the benchmark database, as production runs it: no debug mode.

    Rate limits are off: the runner asks the public verification page far more often than a visitor may.
    """
    from lms import create_app

    os.environ.pop("DATABASE_URL", None)  # the URL given here wins over the environment
    config: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "DEBUG": False,
        "TESTING": False,
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SECRET_KEY": "benchmark-secret-key-not-for-production",
        "EVIDENCE_STORAGE_PATH": str(evidence_folder(database_url)),
    }
    config.update(settings)
    return create_app(config)


def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


def evidence_folder(database_url: str) -> Path:
    """The stored files (the certificates' PDFs) of one benchmark database, in a folder of its own: beside
    the SQLite file (``bench.sqlite3.files``), or ``instance/bench-files/<database>`` for PostgreSQL. So the
    two databases, and a test's throw-away one, never share or delete each other's files."""
    url = sa.make_url(database_url)
    if is_postgres(database_url):
        return ROOT / "instance" / "bench-files" / (url.database or "postgres")
    target = ROOT / (url.database or "bench.sqlite3")  # an absolute path stays itself
    return target.with_name(target.name + ".files")


def summaries_line(check: Any) -> str:
    """One line for ``progress.verify_summaries()``'s answer, as ``lms progress verify`` words it."""
    if check.ok:
        return (
            f"progress summaries: OK: {check.checked:,} enrolments,"
            f" {check.cohorts_checked:,} cohorts"
        )
    ids = ", ".join(str(d.enrolment_id) for d in check.differences[:10])
    more = " ..." if len(check.differences) > 10 else ""
    cohorts = ", ".join(str(d.cohort_id) for d in check.cohort_differences[:10])
    more_cohorts = " ..." if len(check.cohort_differences) > 10 else ""
    return (
        f"progress summaries: DIFFER: {len(check.differences):,} of {check.checked:,} enrolments"
        f" (enrolments {ids}{more}), {len(check.cohort_differences):,} of"
        f" {check.cohorts_checked:,} cohorts (cohorts {cohorts}{more_cohorts})"
    )


def command_line(module: str, argv: Sequence[str]) -> str:
    """The command that ran ``module`` with ``argv``, to print beside its figures: the interpreter as
    invoked (relative to the working folder when inside it, e.g. ``.venv/bin/python``)."""
    python = sys.executable or "python"
    if os.path.isabs(python) and Path(python).is_relative_to(Path.cwd()):
        python = os.path.relpath(python)
    return shlex.join([python, "-m", module, *argv])
