"""The demo data (``flask lms demo``): who and what it creates, once, never in production, never ahead
of ``today``, and with a sign-off ledger that verifies."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from lms import clock, create_app
from lms.demo import DEMO_PASSWORD, load_demo_data
from lms.extensions import db as _db
from lms.models import (
    Assessment,
    Attempt,
    ChecklistItem,
    ChecklistKind,
    ClosureKind,
    Cohort,
    Employer,
    Enrolment,
    EnrolmentStatus,
    IntakeType,
    Programme,
    Region,
    Role,
    SignOff,
    Submission,
    SubmissionStatus,
    User,
    Verdict,
    WorkplaceConfirmation,
)
from lms.models.base import UTCDateTime
from lms.services import progress, school_calendar
from lms.services.signoff import verify_ledger

EARLY = date(2026, 10, 9)  # week 5 of the school year 2026-2027 (start Monday 7 September 2026)
LATE = date(
    2026, 4, 20
)  # before 1 September: the school year 2025-2026 (start Monday 1 September 2025)


def emails(db, role: Role) -> set[str]:
    return set(db.session.scalars(sa.select(User.email).where(User.role == role)))


def row_counts(db) -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def every_timestamp(db) -> list[tuple[str, datetime]]:
    """Every stored date-time in every table, as (table.column, value)."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, UTCDateTime):
                for value in db.session.scalars(sa.select(column).where(column.is_not(None))):
                    found.append((f"{table.name}.{column.name}", value))
    return found


def test_demo_command_creates_the_named_accounts_employers_and_cohorts(db, runner) -> None:
    result = runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD in result.output

    assert emails(db, Role.COORDINATOR) == {"coordinator@vakkracht.example"}
    assert emails(db, Role.TRAINER) == {f"trainer{n}@vakkracht.example" for n in (1, 2, 3)}
    # 1-6 and 01-24: this year's cohorts; 7-8 and 25-30: last year's finished cohort (certificates).
    assert emails(db, Role.EMPLOYER) == {f"werkgever{n}@vakkracht.example" for n in range(1, 9)}
    assert emails(db, Role.PARTICIPANT) == {
        f"deelnemer{n:02d}@vakkracht.example" for n in range(1, 31)
    }
    users = db.session.scalars(sa.select(User)).all()
    assert len(users) == 1 + 3 + 8 + 30
    assert all(user.check_password(DEMO_PASSWORD) for user in users)
    participants = [user for user in users if user.role is Role.PARTICIPANT]
    assert any(user.name_prefix for user in participants)
    assert any(not user.full_name.isascii() for user in participants)

    employers = db.session.scalars(sa.select(Employer)).all()
    assert len(employers) == 8
    assert len({employer.kvk_number for employer in employers}) == 8
    for employer in employers:
        assert employer.kvk_number.isdigit() and len(employer.kvk_number) == 8
        assert employer.street and employer.postcode and employer.city
        assert [contact.role for contact in employer.contacts] == [Role.EMPLOYER]
    assert {employer.region for employer in employers} == set(Region)

    programme = db.session.scalar(sa.select(Programme).where(Programme.code == "VAKKRACHT-PM"))
    assert programme is not None
    year = clock.school_year_start(clock.today())
    cohorts = {
        cohort.region: cohort
        for cohort in db.session.scalars(
            sa.select(Cohort).where(Cohort.start_date >= date(year, 9, 1))
        )
    }
    assert set(cohorts) == {Region.PARKSTAD, Region.WESTELIJKE_MIJNSTREEK}
    assert cohorts[Region.PARKSTAD].name == f"Parkstad {year}-{year + 1}"
    assert cohorts[Region.WESTELIJKE_MIJNSTREEK].name == f"Westelijke Mijnstreek {year}-{year + 1}"
    trainer_emails = {
        Region.PARKSTAD: {"trainer1@vakkracht.example", "trainer3@vakkracht.example"},
        Region.WESTELIJKE_MIJNSTREEK: {"trainer2@vakkracht.example", "trainer3@vakkracht.example"},
    }
    numbers = {Region.PARKSTAD: range(1, 13), Region.WESTELIJKE_MIJNSTREEK: range(13, 25)}
    for region, cohort in cohorts.items():
        assert cohort.start_date == date(year, 9, cohort.start_date.day)
        assert cohort.start_date.weekday() == 0 and cohort.start_date.day <= 7
        # The Friday of the programme's last week, as for a cohort the coordinator creates: the
        # weeks skip the school holidays (curriculum/calendar/), and no work falls due in one.
        assert cohort.end_date == cohort.due_date(programme.duration_weeks)
        holidays = school_calendar.closures_between(cohort.start_date, cohort.end_date)
        assert {holiday.kind for holiday in holidays} >= {ClosureKind.CHRISTMAS, ClosureKind.SPRING}
        due_dates = [cohort.due_date(assignment.due_week) for assignment in programme.assignments]
        assert [day for day in due_dates if any(h.covers(day) for h in holidays)] == []
        assert cohort.programme_id == programme.id
        assert cohort.capacity == 12
        assert {trainer.email for trainer in cohort.trainers} == trainer_emails[region]
        active = [e for e in cohort.enrolments if e.status is EnrolmentStatus.ACTIVE]
        assert len(active) == 12
        assert {e.participant.email for e in active} == {
            f"deelnemer{n:02d}@vakkracht.example" for n in numbers[region]
        }
        assert all(e.employer.region is region for e in active)
        assert {e.intake_type for e in active} == set(IntakeType)
    # Its rows are summarised as the services would have: per enrolment and per cohort.
    check = progress.verify_summaries()
    assert check.ok and check.cohorts_checked == len(db.session.scalars(sa.select(Cohort)).all())


def test_second_run_changes_nothing(db, runner) -> None:
    assert runner.invoke(args=["lms", "demo"]).exit_code == 0
    before = row_counts(db)
    result = runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output
    assert "nothing changed" in result.output
    assert row_counts(db) == before
    assert before["users"] == 42


def test_production_refuses_the_demo(db, database_url, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SECRET_KEY", "production-secret-for-this-test")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("EVIDENCE_STORAGE_PATH", str(tmp_path / "evidence"))
    production = create_app("production")
    assert production.config["LMS_CONFIG_NAME"] == "production"
    try:
        with production.app_context():
            result = production.test_cli_runner().invoke(args=["lms", "demo"])
    finally:
        with production.app_context():
            _db.session.remove()
            _db.engine.dispose()
    assert result.exit_code != 0
    assert "production" in result.output
    assert all(count == 0 for count in row_counts(db).values())


def load_on(db, today: date) -> None:
    assert load_demo_data(today=today) is True
    db.session.flush()
    db.session.expire_all()


def test_progress_only_before_today_and_nothing_dated_after_it(db) -> None:
    load_on(db, EARLY)
    check_nothing_dated_from(db, EARLY)  # and LATE: test_the_late_demo_holds_together


def check_nothing_dated_from(db, today: date) -> None:
    start_of_today = datetime.combine(today, time(), clock.LOCAL_TZ)
    end_of_today = start_of_today + timedelta(days=1)

    stamps = every_timestamp(db)
    assert stamps
    late_ones = [(where, value) for where, value in stamps if value >= end_of_today]
    assert late_ones == []

    submissions = db.session.scalars(sa.select(Submission)).all()
    for submission in submissions:
        assert submission.enrolment.cohort.due_date(submission.assignment.due_week) < today
        moments = [submission.created_at, submission.submitted_at, submission.approved_at]
        moments += [attempt.created_at for attempt in submission.attempts]
        moments += [attempt.submitted_at for attempt in submission.attempts]
        assert all(moment < start_of_today for moment in moments if moment is not None)
    progress_moments = [
        *db.session.scalars(sa.select(Assessment.created_at)),
        *db.session.scalars(sa.select(WorkplaceConfirmation.confirmed_at)),
        *db.session.scalars(sa.select(SignOff.signed_at)),
    ]
    assert all(moment < start_of_today for moment in progress_moments)

    for cohort in db.session.scalars(sa.select(Cohort)):
        assert cohort.start_date <= today
        assert cohort.start_date.weekday() == 0 and cohort.start_date.month == 9


def test_early_in_the_year_there_is_little_progress_and_late_there_is_variety(db) -> None:
    load_on(db, EARLY)
    this_year = (
        sa.select(sa.func.count())
        .select_from(Submission)
        .join(Enrolment)
        .join(Cohort)
        .where(Cohort.start_date >= date(2026, 9, 1))
    )
    early = db.session.scalar(this_year)
    cohort = db.session.scalars(sa.select(Cohort).order_by(Cohort.id)).first()
    assert cohort.name == "Parkstad 2026-2027" and cohort.start_date == date(2026, 9, 7)
    due_early = [a for a in cohort.programme.assignments if cohort.due_date(a.due_week) < EARLY]
    assert early <= 24 * len(due_early)

    db.session.rollback()  # the demo only flushes: this undoes it
    load_on(db, LATE)
    cohort = db.session.scalars(sa.select(Cohort).where(Cohort.region == Region.PARKSTAD)).one()
    assert cohort.name == "Parkstad 2025-2026" and cohort.start_date == date(2025, 9, 1)
    statuses = set(db.session.scalars(sa.select(Submission.status)))
    assert statuses == set(SubmissionStatus)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) > early
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WorkplaceConfirmation)) > 0
    signed_items = db.session.scalars(sa.select(ChecklistItem).join(SignOff)).all()
    assert {item.kind for item in signed_items} == set(ChecklistKind)
    revised = db.session.scalars(sa.select(Attempt).where(Attempt.number == 2)).all()
    assert revised, "some work was sent back and handed in again"

    # Some participants are behind: work due in the last weeks is not handed in.
    handed_in = dict(
        db.session.execute(
            sa.select(Enrolment.id, sa.func.count(Submission.id))
            .join(Submission, Submission.enrolment_id == Enrolment.id, isouter=True)
            .where(Submission.status.in_([SubmissionStatus.SUBMITTED, SubmissionStatus.APPROVED]))
            .group_by(Enrolment.id)
        ).all()
    )
    assert max(handed_in.values()) - min(handed_in.values()) >= 3


def check_every_verdict_is_by_a_trainer_of_the_cohort_and_matches_the_status(db) -> None:
    for submission in db.session.scalars(sa.select(Submission)):
        trainers = set(submission.enrolment.cohort.trainers)
        assessments = [a for attempt in submission.attempts for a in attempt.assessments]
        assert all(a.assessor in trainers and a.feedback for a in assessments)
        last_attempt = submission.attempts[-1]
        if submission.status is SubmissionStatus.APPROVED:
            assert last_attempt.assessments[-1].verdict is Verdict.APPROVED
            assert submission.approved_at == last_attempt.assessments[-1].created_at
        elif submission.status is SubmissionStatus.NEEDS_REVISION:
            assert assessments[-1].verdict is Verdict.NEEDS_REVISION
        elif submission.status is SubmissionStatus.SUBMITTED:
            assert last_attempt.submitted_at is not None and not last_attempt.assessments
        else:
            assert last_attempt.submitted_at is None
        for confirmation in submission.workplace_confirmations:
            assert submission.assignment.requires_workplace_confirmation
            assert confirmation.confirmed_by.employer_id == submission.enrolment.employer_id
    for record in db.session.scalars(sa.select(SignOff)):
        assert record.signed_by in record.enrolment.cohort.trainers
        assert record.evidence and all(
            s.status is SubmissionStatus.APPROVED for s in record.evidence
        )
        assert all(s.approved_at <= record.signed_at for s in record.evidence)


def check_ledger_verifies_and_notices_a_changed_row(db) -> None:
    ok, count, broken = verify_ledger()
    assert ok and broken is None
    assert count == db.session.scalar(sa.select(sa.func.count()).select_from(SignOff)) > 2
    db.session.execute(
        sa.text(
            "UPDATE signoffs SET level = CASE WHEN level = 4 THEN 3 ELSE level + 1 END WHERE sequence = 2"
        )
    )
    ok, count_after, broken = verify_ledger()
    assert not ok and count_after == count
    assert broken.sequence == 2


def demo_submissions(db) -> list:  # type: ignore[type-arg]
    return sorted(
        db.session.execute(
            sa.select(User.email, Submission.status, Submission.submitted_at)
            .join(Enrolment, Enrolment.participant_id == User.id)
            .join(Submission, Submission.enrolment_id == Enrolment.id)
        ).all()
    )


def test_the_late_demo_holds_together(db) -> None:
    """Late in the year (one demo load shared by the checks; each is a function above, named for what
    it checks): nothing dated from today on, every verdict by a trainer of the cohort and matching the
    status, the sign-off ledger verifying (and noticing a changed row), and the same day giving the
    same demo again."""
    load_on(db, LATE)
    check_nothing_dated_from(db, LATE)
    check_every_verdict_is_by_a_trainer_of_the_cohort_and_matches_the_status(db)
    first = demo_submissions(db)
    check_ledger_verifies_and_notices_a_changed_row(db)  # changes a row: last on this load
    db.session.rollback()  # the demo only flushes: this undoes it
    load_on(db, LATE)
    assert demo_submissions(db) == first
