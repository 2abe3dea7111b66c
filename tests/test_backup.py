"""`lms backup` and `lms restore`: a round trip on the database under test (SQLite or PostgreSQL)."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from lms.extensions import db as _db
from lms.models import Employer, Region, User
from tests.factories import make_employer, make_user


def employer_names() -> list[str]:
    return list(_db.session.scalars(sa.select(Employer.name).order_by(Employer.name)))


def test_backup_and_restore_round_trip(app, runner, db, tmp_path) -> None:
    if db.engine.dialect.name == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    make_employer(name="Bewaard B.V.")
    kept = make_user(first_name="Blijft")
    db.session.commit()
    kept_id = kept.id
    target = tmp_path / "backups" / "lms.backup"

    result = runner.invoke(args=["lms", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0
    expected = b"PGDMP" if db.engine.dialect.name == "postgresql" else b"SQLite format 3\x00"
    assert target.read_bytes().startswith(expected)

    # Life goes on after the backup: a row changes, one is deleted, one is added.
    db.session.get(User, kept_id).first_name = "Veranderd"
    db.session.execute(sa.delete(Employer).where(Employer.name == "Bewaard B.V."))
    db.session.add(Employer(name="Nieuw B.V.", kvk_number="55555555", region=Region.PARKSTAD))
    db.session.commit()
    assert employer_names() == ["Nieuw B.V."]

    refused = runner.invoke(args=["lms", "restore", str(target)], input="n\n")
    assert refused.exit_code != 0
    assert employer_names() == ["Nieuw B.V."]

    result = runner.invoke(args=["lms", "restore", "--yes", str(target)])
    assert result.exit_code == 0, result.output
    _db.session.remove()
    assert employer_names() == ["Bewaard B.V."]
    assert _db.session.get(User, kept_id).first_name == "Blijft"
    # The restored database takes new rows as before (sequences restored too).
    _db.session.add(Employer(name="Daarna B.V.", kvk_number="66666666", region=Region.PARKSTAD))
    _db.session.commit()


def test_restore_refuses_a_file_that_is_not_a_backup(app, runner, db, tmp_path) -> None:
    make_employer(name="Blijft staan B.V.")
    db.session.commit()
    bogus = tmp_path / "not-a-backup.txt"
    bogus.write_text("hello")
    result = runner.invoke(args=["lms", "restore", "--yes", str(bogus)])
    assert result.exit_code != 0
    assert "is not a" in result.output
    _db.session.remove()
    assert employer_names() == ["Blijft staan B.V."]


def test_backup_of_an_in_memory_database_is_refused(tmp_path) -> None:
    from lms import create_app
    from tests.conftest import make_config

    app = create_app(make_config("sqlite://", tmp_path / "files"))
    result = app.test_cli_runner().invoke(args=["lms", "backup", str(tmp_path / "x")])
    assert result.exit_code != 0
    assert "in-memory" in result.output
