"""The migrations build exactly the schema the models describe, on an empty database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lms import create_app
from lms.extensions import db
from tests.conftest import make_config


@pytest.fixture
def empty_database_url(database_url: str, tmp_path) -> Iterator[str]:
    """A new, empty database beside the test database."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    name = f"lms_migrations_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            sa.engine.make_url(database_url)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_builds_the_models_schema_and_downgrade_removes_it(
    empty_database_url, tmp_path
) -> None:
    app = create_app(make_config(empty_database_url, tmp_path / "evidence"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
            tables = set(sa.inspect(connection).get_table_names())
        assert differences == []
        assert set(db.metadata.tables) <= tables

        result = runner.invoke(args=["db", "downgrade", "base"])
        assert result.exit_code == 0, result.output
        with db.engine.connect() as connection:
            assert set(sa.inspect(connection).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_the_attendance_figures_of_existing_data_are_filled_in(
    empty_database_url, tmp_path
) -> None:
    """Migration 7b3e91c0d4a2 fills the new summary columns from the attendance records, and gives
    the programmes loaded before the training-hours figures of the curriculum file."""
    from datetime import date, datetime

    from lms import clock
    from lms.models import AttendanceStatus, Programme, Role
    from lms.services import attendance, progress
    from lms.services.attendance import Mark
    from tests.factories import make_cohort, make_enrolment, make_programme, make_user

    app = create_app(make_config(empty_database_url, tmp_path / "evidence"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        trainer = make_user(Role.TRAINER)
        cohort = make_cohort(make_programme(), start=date(2026, 9, 7), trainers=[trainer])
        enrolments = [make_enrolment(cohort, make_user(Role.PARTICIPANT)) for _ in range(2)]
        absent = Mark(AttendanceStatus.ABSENT, attendance.AbsenceReason.SICK)
        for day, second in [
            (date(2026, 9, 7), absent),
            (date(2026, 9, 14), Mark(AttendanceStatus.LATE)),
        ]:
            attendance.record_attendance(
                cohort,
                day,
                {enrolments[0].id: Mark(AttendanceStatus.PRESENT), enrolments[1].id: second},
                actor=trainer,
                at=datetime(2026, 9, 14, 12, tzinfo=clock.LOCAL_TZ),
                today=date(2026, 9, 14),
            )
        db.session.commit()
        db.session.remove()

        for step in (["db", "downgrade", "d2a7c4e9b1f3"], ["db", "upgrade"]):
            result = runner.invoke(args=step)
            assert result.exit_code == 0, result.output

        rows = db.session.execute(
            sa.text(
                "SELECT attendance_recorded, attendance_attended FROM progress_summaries"
                " ORDER BY enrolment_id"
            )
        ).all()
        assert [tuple(row) for row in rows] == [(2, 2), (2, 1)]
        assert db.session.execute(
            sa.text("SELECT attendance_recorded, attendance_attended FROM cohort_summaries")
        ).one() == (4, 3)
        assert progress.verify_summaries().ok
        programme = db.session.scalar(sa.select(Programme))
        assert (programme.training_hours_target, programme.training_day_hours) == (200, 6)
        db.session.remove()
        db.engine.dispose()
