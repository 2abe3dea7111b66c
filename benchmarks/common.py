"""What the generator and the runner share: the application for a benchmark database, and the
accounts the runner logs in with."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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
        "EVIDENCE_STORAGE_PATH": str(ROOT / "instance" / "bench-evidence"),
    }
    config.update(settings)
    return create_app(config)


def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")
