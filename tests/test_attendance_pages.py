"""The attendance pages cost a fixed number of SQL statements, at most ten, however many
participants and recorded training days there are (as tests/test_person_pages.py pins the other
pages of one person)."""

from __future__ import annotations

import pytest

from lms import clock
from lms.extensions import db as _db
from lms.models import Role
from lms.services import attendance
from tests.factories import make_enrolment, make_user
from tests.test_attendance import LATE, NOW, PRESENT, SICK, TODAY, TUESDAYS, Group
from tests.test_attendance import group as group  # noqa: F401 - the fixture

MAX_STATEMENTS = 10


def _record(group: Group, days: list) -> None:  # type: ignore[type-arg]
    with clock.frozen_at(NOW):
        for number, day in enumerate(days):
            roster = attendance.roster(group.cohort, day)
            marks = {
                e.id: (
                    SICK
                    if (e.id + number) % 5 == 0
                    else LATE
                    if (e.id + number) % 7 == 0
                    else PRESENT
                )
                for e in roster
            }
            attendance.record_attendance(
                group.cohort, day, marks, actor=group.trainer, at=clock.now(), today=TODAY
            )
    _db.session.commit()


def _grow(group: Group, participants: int) -> None:
    for _ in range(participants):
        make_enrolment(group.cohort, make_user(Role.PARTICIPANT), group.enrolments[0].employer)
    _db.session.commit()


PAGES = [
    ("trainer", "/attendance/cohorts/{cohort}"),
    ("trainer", "/attendance/cohorts/{cohort}/{recorded}"),
    ("trainer", "/attendance/cohorts/{cohort}/{new}"),
    ("coordinator", "/attendance/cohorts/{cohort}"),
    ("coordinator", "/attendance/cohorts/{cohort}/{recorded}"),
    ("participant", "/attendance/"),
    ("contact", "/attendance/enrolments/{enrolment}"),
]


@pytest.mark.parametrize(("user", "path"), PAGES)
def test_each_attendance_page_costs_the_same_few_statements(
    auth, client, db, group, count_queries, user, path
) -> None:
    path = path.format(
        cohort=group.cohort.id,
        recorded=TUESDAYS[0].isoformat(),
        new=TUESDAYS[-1].isoformat(),
        enrolment=group.enrolments[0].id,
    )
    _record(group, TUESDAYS[:1])
    visitor = group.participants[0] if user == "participant" else getattr(group, user)
    auth.login(visitor.email)
    with clock.frozen_at(NOW):
        assert client.get(path).status_code == 200
        with count_queries() as few:
            assert client.get(path).status_code == 200
    _grow(group, 9)
    _record(group, TUESDAYS[:-1])  # the first one again, with everyone, and six more
    with clock.frozen_at(NOW), count_queries() as many:
        response = client.get(path)
    assert response.status_code == 200
    assert few.count == many.count, (few.count, many.count, many.statements)
    assert many.count <= MAX_STATEMENTS, many.statements
    if path.endswith(TUESDAYS[0].isoformat()):
        assert response.get_data(as_text=True).count("attendance-row__name") in (0, 12)
