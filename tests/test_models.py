"""Rules the database itself enforces, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError

from lms.models import Cohort, Enrolment, EnrolmentStatus, Role, User
from tests.factories import make_cohort, make_employer, make_enrolment, make_user


def insert_fails(db, statement: str, **params: object) -> bool:
    try:
        with db.session.begin_nested():
            db.session.execute(sa.text(statement), params)
    except IntegrityError:
        return True
    return False


def test_email_is_unique(db) -> None:
    make_user(email="dubbel@example.org")
    with pytest.raises(IntegrityError):
        make_user(email="dubbel@example.org")


def test_role_is_checked_by_the_database(db) -> None:
    assert insert_fails(
        db,
        "INSERT INTO users (email, first_name, name_prefix, last_name, role, is_active, locale, phone, created_at)"
        " VALUES ('x@example.org', 'X', '', 'Y', 'admin', true, 'nl', '', :now)",
        now=datetime.now(UTC),
    )


def test_employer_contact_needs_an_employer(db) -> None:
    with pytest.raises(IntegrityError):
        db.session.add(
            User(email="c@example.org", first_name="C", last_name="D", role=Role.EMPLOYER)
        )
        db.session.flush()


def test_kvk_number_is_unique_and_eight_characters(db) -> None:
    make_employer(kvk_number="12345678")
    with pytest.raises(IntegrityError), db.session.begin_nested():
        make_employer(kvk_number="12345678")
    with pytest.raises(IntegrityError):
        make_employer(kvk_number="1234")


def test_a_cohort_may_hold_an_ended_and_an_active_enrolment_of_one_participant(db) -> None:
    """A transfer back into a cohort starts a new enrolment there; the one that ended stays."""
    enrolment = make_enrolment()
    enrolment.status = EnrolmentStatus.TRANSFERRED
    enrolment.ended_on = date(2026, 10, 1)
    db.session.flush()
    again = make_enrolment(enrolment.cohort, enrolment.participant)
    assert again.is_active
    with pytest.raises(IntegrityError), db.session.begin_nested():
        make_enrolment(enrolment.cohort, enrolment.participant)


def test_a_participant_has_at_most_one_active_enrolment(db) -> None:
    first = make_enrolment()
    other_cohort = make_cohort(first.cohort.programme)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        make_enrolment(other_cohort, first.participant)
    # After the first one ends, a new active enrolment is allowed.
    first.status = EnrolmentStatus.TRANSFERRED
    first.ended_on = date(2026, 11, 1)
    db.session.flush()
    assert make_enrolment(other_cohort, first.participant, transferred_from=first).is_active


def test_an_ended_enrolment_needs_an_end_date(db) -> None:
    enrolment = make_enrolment()
    enrolment.status = EnrolmentStatus.WITHDRAWN
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_foreign_keys_are_enforced(db) -> None:
    assert insert_fails(
        db,
        "INSERT INTO cohort_trainers (cohort_id, trainer_id, assigned_at) VALUES (987654, 987654, :now)",
        now=datetime.now(UTC),
    )


def test_capacity_must_be_positive(db) -> None:
    with pytest.raises(IntegrityError):
        make_cohort(capacity=0)


def test_invalid_enum_value_is_refused_before_the_database(db) -> None:
    with pytest.raises(StatementError):
        db.session.execute(sa.select(Cohort).where(Cohort.region == "limburg")).all()


def test_datetimes_come_back_aware_in_utc(db) -> None:
    user = make_user()
    db.session.commit()
    db.session.expire_all()
    created = db.session.get(User, user.id).created_at
    assert created.tzinfo is not None
    assert created.utcoffset().total_seconds() == 0


def test_naive_datetimes_are_refused(db) -> None:
    user = make_user()
    user.last_login_at = datetime(2026, 9, 1, 12, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(StatementError):
        db.session.flush()


def test_due_date_is_the_friday_of_the_due_week(db) -> None:
    cohort = make_cohort(start=date(2026, 9, 7))  # a Monday
    assert cohort.due_date(1) == date(2026, 9, 11)
    assert cohort.due_date(10) == date(2026, 11, 13)
    assert cohort.week_of_programme(date(2026, 9, 6)) == 0
    assert cohort.week_of_programme(date(2026, 9, 13)) == 1
    assert cohort.week_of_programme(date(2026, 9, 14)) == 2


def test_names_follow_dutch_conventions(db) -> None:
    user = make_user(first_name="Bram", name_prefix="van der", last_name="Heijden")
    assert user.full_name == "Bram van der Heijden"
    assert user.sort_name == "Heijden, Bram van der"
    assert db.session.scalar(sa.select(Enrolment).limit(1)) is None
