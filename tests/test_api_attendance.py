"""The JSON API's attendance and calendar: who may read them (the same people as on the pages), their
shapes, paging, date filters, bad parameters and a statement count that does not grow with the data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from lms.extensions import db
from lms.holidays import is_public_holiday
from lms.models import (
    AbsenceReason,
    ApiTokenScope,
    AttendanceStatus,
    CalendarClosure,
    TrainingDayMove,
)
from lms.services import school_calendar
from lms.services.attendance import Mark
from lms.services.school_calendar import PlanKind
from tests import scenarios
from tests.api_helpers import World, build_world, make_key, record_day
from tests.factories import make_cohort, make_enrolment, make_programme
from tests.test_authorization_matrix import MATRIX, VISITORS

PROBLEM = "application/problem+json"
PRESENT = Mark(AttendanceStatus.PRESENT)
LATE = Mark(AttendanceStatus.LATE)
SICK = Mark(AttendanceStatus.ABSENT, AbsenceReason.SICK)
UNAUTHORISED = Mark(AttendanceStatus.ABSENT, AbsenceReason.UNAUTHORISED, note="Geen bericht")


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    return build_world()


def record(world: World, day: date, a1: Mark, a2: Mark) -> None:
    record_day(world.cohort_a, day, {world.a1: a1, world.a2: a2}, actor=world.trainer_a)
    db.session.commit()


def mondays(world: World, weeks: range) -> list[date]:
    return [world.cohort_a.start_date + timedelta(weeks=week) for week in weeks]


def held_on(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["held_on"] for item in response.get_json()["data"]]


# --- who may read: the pages' rules ------------------------------------------------------------


def test_every_role_reads_attendance_where_the_pages_show_it_to_them(client, db) -> None:
    """The API's answer per visitor is the web page's row of the authorization matrix: the cohort's
    attendance (attendance.cohort), a participant's (attendance.enrolment), and a cohort's year as
    the API shows the cohort itself."""
    world = scenarios.build_world()
    users = world.visitors()
    paths = {
        "attendance.cohort": f"/api/v1/cohorts/{world.cohort.id}/attendance",
        "attendance.enrolment": f"/api/v1/enrolments/{world.enrolment.id}/attendance",
    }
    for endpoint, path in paths.items():
        row = MATRIX[endpoint]
        assert isinstance(row, tuple)
        for name, expected in zip(VISITORS, row, strict=True):
            user = users[name]
            if user is None:
                assert client.get(path).status_code == 401
                continue
            _token, headers = make_key(user)
            response = client.get(path, headers=headers)
            assert response.status_code == expected, (endpoint, name)
            if response.status_code == 404:
                assert response.mimetype == PROBLEM
    for name, user in users.items():
        if user is None:
            continue
        _token, headers = make_key(user)
        cohort = client.get(f"/api/v1/cohorts/{world.cohort.id}", headers=headers).status_code
        calendar = client.get(f"/api/v1/cohorts/{world.cohort.id}/calendar", headers=headers)
        assert calendar.status_code == cohort, name
    assert client.get(f"/api/v1/cohorts/{world.cohort.id}/calendar").status_code == 401


def test_a_trainer_of_another_cohort_finds_nothing_as_for_a_missing_id(client, world) -> None:
    _token, trainer_b = make_key(world.trainer_b)
    missing = client.get("/api/v1/cohorts/999999/attendance", headers=trainer_b).get_json()
    for path in (
        f"/api/v1/cohorts/{world.cohort_a.id}/attendance",
        f"/api/v1/cohorts/{world.cohort_a.id}/calendar",
        f"/api/v1/enrolments/{world.a1.id}/attendance",
    ):
        response = client.get(path, headers=trainer_b)
        assert response.status_code == 404, path
        assert response.mimetype == PROBLEM
        assert response.get_json()["type"] == missing["type"]
    own = client.get(f"/api/v1/cohorts/{world.cohort_b.id}/attendance", headers=trainer_b)
    assert held_on(own) == []  # their own cohort: nothing recorded there yet


def test_an_employer_contact_sees_only_their_employees_attendance(client, world) -> None:
    _token, contact = make_key(world.contact_one)  # employer_one employs a1 and b1, not a2
    expected = {
        f"/api/v1/enrolments/{world.a1.id}/attendance": 200,
        f"/api/v1/enrolments/{world.b1.id}/attendance": 200,
        f"/api/v1/enrolments/{world.a2.id}/attendance": 404,
        # A cohort's attendance as a whole is for its trainers and the coordinator, as on the pages.
        f"/api/v1/cohorts/{world.cohort_a.id}/attendance": 404,
    }
    assert {path: client.get(path, headers=contact).status_code for path in expected} == expected


def test_a_participant_reads_their_own_attendance_with_the_trainers_notes(client, world) -> None:
    # The attendance page shows the participant (and their employer) the note: so does the API.
    _token, own = make_key(world.a2.participant)
    body = client.get(f"/api/v1/enrolments/{world.a2.id}/attendance", headers=own).get_json()
    assert [(r["status"], r["reason"], r["note"]) for r in body["data"]] == [
        ("absent", "sick", "Griep")
    ]
    assert (
        client.get(f"/api/v1/enrolments/{world.a1.id}/attendance", headers=own).status_code == 404
    )


# --- shapes ------------------------------------------------------------------------------------


def test_a_cohorts_training_days_carry_their_counts_and_every_record(client, world) -> None:
    _token, headers = make_key(world.trainer_a)
    response = client.get(f"/api/v1/cohorts/{world.cohort_a.id}/attendance", headers=headers)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    (session,) = response.get_json()["data"]
    assert session["held_on"] == world.training_day.isoformat()
    assert session["cohort_id"] == world.cohort_a.id
    assert session["recorded_by"] == {"id": world.trainer_a.id, "name": world.trainer_a.full_name}
    assert session["updated_at"] is None and session["updated_by"] is None
    assert session["counts"] == {"present": 1, "late": 0, "absent": 1}
    assert session["records"] == [
        {"enrolment_id": world.a1.id, "status": "present", "reason": None, "note": ""},
        {"enrolment_id": world.a2.id, "status": "absent", "reason": "sick", "note": "Griep"},
    ]
    # Recorded again: the counts follow, and who changed it when is shown.
    record(world, world.training_day, LATE, SICK)
    again = client.get(f"/api/v1/cohorts/{world.cohort_a.id}/attendance", headers=headers)
    (session,) = again.get_json()["data"]
    assert session["counts"] == {"present": 0, "late": 1, "absent": 1}
    assert session["updated_by"]["id"] == world.trainer_a.id and session["updated_at"]


def test_a_participants_figures_count_every_recorded_day(client, world) -> None:
    second, third, fourth = mondays(world, range(2, 5))
    record(world, second, LATE, UNAUTHORISED)
    record(world, third, SICK, UNAUTHORISED)
    record(world, fourth, PRESENT, PRESENT)
    _token, headers = make_key(world.coordinator)
    a1 = client.get(f"/api/v1/enrolments/{world.a1.id}/attendance", headers=headers).get_json()
    # a1: present, late, sick, present over four days: three attended.
    assert a1["enrolment_id"] == world.a1.id
    assert a1["figures"] == {
        "sessions": 4,
        "attended": 3,
        "present": 2,
        "late": 1,
        "absent": 1,
        "sick": 1,
        "authorised": 0,
        "unauthorised": 0,
        "percent": 75,
    }
    assert [(r["held_on"], r["status"], r["reason"]) for r in a1["data"]] == [
        (world.training_day.isoformat(), "present", None),
        (second.isoformat(), "late", None),
        (third.isoformat(), "absent", "sick"),
        (fourth.isoformat(), "present", None),
    ]
    assert {r["enrolment_id"] for r in a1["data"]} == {world.a1.id}
    a2 = client.get(f"/api/v1/enrolments/{world.a2.id}/attendance", headers=headers).get_json()
    assert a2["figures"]["unauthorised"] == 2 and a2["figures"]["percent"] == 25
    # Nothing recorded: no percentage rather than 0 %.
    b1 = client.get(f"/api/v1/enrolments/{world.b1.id}/attendance", headers=headers).get_json()
    assert b1["figures"]["sessions"] == 0 and b1["figures"]["percent"] is None
    assert b1["data"] == [] and b1["meta"]["total"] == 0


# --- paging and filters ------------------------------------------------------------------------


def test_training_days_come_in_numbered_pages_by_date(client, world) -> None:
    later = mondays(world, range(2, 7))
    for day in reversed(later):  # recorded in another order than their dates
        record(world, day, PRESENT, PRESENT)
    expected = [day.isoformat() for day in [world.training_day, *later]]
    _token, headers = make_key(world.coordinator)
    for path in (
        f"/api/v1/cohorts/{world.cohort_a.id}/attendance",
        f"/api/v1/enrolments/{world.a1.id}/attendance",
    ):
        first = client.get(f"{path}?per_page=4", headers=headers)
        assert first.get_json()["meta"] == {"page": 1, "per_page": 4, "total": 6, "pages": 2}
        seen, url = held_on(first), first.headers["Link"]
        assert 'rel="next"' in url
        second = client.get(f"{path}?per_page=4&page=2", headers=headers)
        seen += held_on(second)
        assert 'rel="next"' not in second.headers["Link"]
        assert seen == expected, path
        for page in ("99", str(2**31 - 1)):  # past the end: an empty page, not an error
            assert held_on(client.get(f"{path}?page={page}", headers=headers)) == []


def test_from_and_to_pick_the_training_days_between_them(client, world) -> None:
    later = mondays(world, range(2, 5))
    for day in later:
        record(world, day, PRESENT, SICK)
    _token, headers = make_key(world.coordinator)
    first, last = later[0].isoformat(), later[1].isoformat()
    for path in (
        f"/api/v1/cohorts/{world.cohort_a.id}/attendance",
        f"/api/v1/enrolments/{world.a2.id}/attendance",
    ):
        assert held_on(client.get(f"{path}?from={first}&to={last}", headers=headers)) == [
            first,
            last,
        ]
        assert held_on(client.get(f"{path}?from={last}", headers=headers)) == [
            last,
            later[2].isoformat(),
        ]
        assert held_on(client.get(f"{path}?to={first}", headers=headers)) == [
            world.training_day.isoformat(),
            first,
        ]
        assert held_on(client.get(f"{path}?from={first}&to={first}", headers=headers)) == [first]
    # The figures stay those of every recorded day, whatever page or dates are asked for.
    body = client.get(
        f"/api/v1/enrolments/{world.a2.id}/attendance?from={first}&to={first}", headers=headers
    ).get_json()
    assert body["figures"]["sessions"] == 4


BAD_QUERIES = [
    ("from=yesterday", "from"),
    ("from=2026-13-01", "from"),
    ("from=2026-02-30", "from"),
    ("from=20260914", "from"),  # date.fromisoformat reads it; RFC 3339 does not
    ("from=2026-W38-1", "from"),
    ("from=2026-09-14T00:00:00", "from"),
    ("from=2026-9-14", "from"),
    ("from=", "from"),
    ("from=%00", "from"),
    ("from=2026-09-14%00", "from"),
    ("to=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96-09-14", "to"),  # full-width digits
    ("to=0000-01-01", "to"),
    ("from=2026-09-21&to=2026-09-14", "to"),  # ends before it starts
    ("page=0", "page"),
    ("page=2147483648", "page"),
    ("page=99999999999999999999999999", "page"),
    ("page=%00", "page"),
    ("per_page=101", "per_page"),
    ("per_page=-1", "per_page"),
]


@pytest.mark.parametrize(("query", "field"), BAD_QUERIES)
@pytest.mark.parametrize("kind", ["cohort", "enrolment"])
def test_a_bad_parameter_is_a_400_problem_naming_it(client, world, query, field, kind) -> None:
    _token, headers = make_key(world.coordinator)
    path = (
        f"/api/v1/cohorts/{world.cohort_a.id}/attendance"
        if kind == "cohort"
        else f"/api/v1/enrolments/{world.a1.id}/attendance"
    )
    response = client.get(f"{path}?{query}", headers=headers)
    assert response.status_code == 400, query
    assert response.mimetype == PROBLEM
    assert response.get_json()["errors"][0]["field"] == field


def test_ids_that_cannot_exist_are_refused_as_problems(client, world) -> None:
    _token, headers = make_key(world.coordinator)
    for path in (
        "/api/v1/cohorts/99999999999/attendance",
        "/api/v1/cohorts/99999999999/calendar",
        "/api/v1/enrolments/99999999999/attendance",
        "/api/v1/enrolments/-1/attendance",
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.mimetype == PROBLEM
    # A NUL where an id belongs: refused before any route, as a problem too.
    response = client.get("/api/v1/cohorts/%00/attendance", headers=headers)
    assert response.status_code == 400
    assert response.mimetype == PROBLEM


# --- the calendar ------------------------------------------------------------------------------

# The 2026-2027 school holidays of region Zuid (curriculum/calendar/2026-2027.yaml) by their Mondays.
HOLIDAY_MONDAYS = {
    date(2026, 10, 19),
    date(2026, 12, 21),
    date(2026, 12, 28),
    date(2027, 2, 8),
    date(2027, 4, 26),
}


def test_a_cohorts_year_follows_the_school_calendar(client, db) -> None:
    school_calendar.load_calendar_files(school_calendar.calendar_files())
    world = build_world()  # its cohorts are made with the school years loaded
    cohort = world.cohort_a
    cohort.training_weekdays = [0, 3]  # Monday and Thursday
    exception = CalendarClosure(
        cohort_id=cohort.id,
        kind=school_calendar.ClosureKind.COHORT,
        name="Bedrijfssluiting",
        first_day=date(2026, 11, 2),
        last_day=date(2026, 11, 6),
    )
    db.session.add(exception)
    monday = cohort.week_start(6)
    db.session.add(
        TrainingDayMove(
            cohort_id=cohort.id,
            moved_from=monday,
            moved_to=monday + timedelta(days=1),
            reason="Vakbeurs",
        )
    )
    db.session.commit()
    _token, headers = make_key(world.trainer_a)
    response = client.get(f"/api/v1/cohorts/{cohort.id}/calendar", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["cohort"] == {"id": cohort.id, "name": cohort.name, "region": "parkstad"}
    assert body["start_date"] == cohort.start_date.isoformat()
    assert body["end_date"] == cohort.end_date.isoformat()
    assert body["training_weekdays"] == ["monday", "thursday"]

    weeks = [date.fromisoformat(week["starts_on"]) for week in body["teaching_weeks"]]
    assert [week["week"] for week in body["teaching_weeks"]] == list(range(1, 41))
    assert weeks[0] == cohort.start_date and weeks == sorted(weeks)
    assert not HOLIDAY_MONDAYS & set(weeks)  # programme weeks skip the holidays
    assert cohort.end_date == weeks[-1] + timedelta(days=4)

    training = [date.fromisoformat(day) for day in body["training_dates"]]
    assert training[0] == cohort.start_date and training[-1] <= cohort.end_date
    # Mondays and Thursdays, but the sixth week's Monday is held on its Tuesday.
    assert {day.weekday() for day in training} == {0, 1, 3}
    assert monday not in training and monday + timedelta(days=1) in training
    assert not any(day - timedelta(days=day.weekday()) not in weeks for day in training)
    assert not any(is_public_holiday(day) for day in training)

    plan = body["plan"]
    kinds = [line["kind"] for line in plan]
    assert kinds[0] == PlanKind.START and kinds[-1] == PlanKind.END
    assert [line["first_day"] for line in plan] == sorted(line["first_day"] for line in plan)
    due = {line["assignment"]["code"]: line["first_day"] for line in plan if line["kind"] == "due"}
    assert due == {
        assignment.code: cohort.due_date(assignment.due_week).isoformat()
        for assignment in cohort.programme.assignments
    }
    closed = {line["title"]: line for line in plan if line["kind"] == "closed"}
    assert closed["Kerstvakantie"]["closure_kind"] == "christmas"
    assert closed["Kerstvakantie"]["week"] is None
    assert closed["Bedrijfssluiting"]["closure_kind"] == "cohort"
    assert closed["Bedrijfssluiting"]["last_day"] == "2026-11-06"
    (period,) = [line for line in plan if line["kind"] == "period"]
    assert period["period"]["code"] == "P1" and period["week"] == 1
    assert [line["week"] for line in plan if line["kind"] == "review"] == [12, 24, 36]
    (moved,) = [line for line in plan if line["kind"] == "moved"]
    assert (moved["first_day"], moved["moved_from"], moved["week"]) == (
        (monday + timedelta(days=1)).isoformat(),
        monday.isoformat(),
        6,
    )
    assert body["missing_school_years"] == []


def test_a_cohorts_year_names_the_school_years_not_loaded(client, world) -> None:
    _token, headers = make_key(world.coordinator)
    body = client.get(f"/api/v1/cohorts/{world.cohort_a.id}/calendar", headers=headers).get_json()
    assert body["missing_school_years"] == school_calendar.school_years_of(
        world.cohort_a.start_date, world.cohort_a.end_date
    )
    assert "2026-2027" in body["missing_school_years"]


def test_the_school_years_list_holidays_closed_days_and_public_holidays(client, db) -> None:
    school_calendar.load_calendar_files(school_calendar.calendar_files())
    world = build_world()
    _token, headers = make_key(world.a1.participant)  # every key: it is no one's personal data
    listing = client.get("/api/v1/school-calendars", headers=headers)
    assert listing.status_code == 200
    years = [item["school_year"] for item in listing.get_json()["data"]]
    assert years == sorted(years) and {"2025-2026", "2026-2027"} <= set(years)
    response = client.get("/api/v1/school-calendars?school_year=2026-2027", headers=headers)
    (year,) = response.get_json()["data"]
    assert year["region"] == "zuid" and "Rijksoverheid" in year["source"]
    kinds = {closure["kind"]: closure for closure in year["closures"]}
    assert kinds["christmas"] == {
        "kind": "christmas",
        "name": "Kerstvakantie",
        "first_day": "2026-12-19",
        "last_day": "2027-01-03",
    }
    assert set(kinds) >= {"autumn", "christmas", "spring", "may", "summer"}
    holidays = [date.fromisoformat(day) for day in year["public_holidays"]]
    assert date(2026, 12, 25) in holidays and date(2027, 4, 27) in holidays  # Christmas, King's Day
    assert all(is_public_holiday(day) for day in holidays)
    assert year["first_day"] <= min(year["public_holidays"])
    assert max(year["public_holidays"]) <= year["last_day"]
    none = client.get("/api/v1/school-calendars?school_year=2040-2041", headers=headers)
    assert none.get_json()["data"] == []


@pytest.mark.parametrize(
    "school_year", ["2026-2028", "2026/2027", "26-27", "", "%00", "2026-2027%00", "٢٠٢٦-٢٠٢٧"]
)
def test_a_bad_school_year_is_a_400(client, world, school_year) -> None:
    _token, headers = make_key(world.coordinator)
    response = client.get(f"/api/v1/school-calendars?school_year={school_year}", headers=headers)
    assert response.status_code == 400
    assert response.mimetype == PROBLEM
    assert response.get_json()["errors"][0]["field"] == "school_year"


# --- statements --------------------------------------------------------------------------------


def _statements(client, count_queries, path: str, headers) -> int:  # type: ignore[no-untyped-def]
    client.get(path, headers=headers)  # the key's first use is noted once: not counted below
    with count_queries() as counted:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, path
    return counted.count


def test_attendance_and_calendar_cost_the_same_statements_however_much_there_is(
    client, db, world, count_queries
) -> None:
    first_year, *other_years = school_calendar.calendar_files()
    assert other_years  # more school years to load below
    school_calendar.load_calendar_files([first_year])
    db.session.commit()
    _token, headers = make_key(world.trainer_a)
    paths = {
        f"/api/v1/cohorts/{world.cohort_a.id}/attendance": 5,  # key, cohort, count, page, records
        # key, enrolment, its cohort's trainers, figures, count, page
        f"/api/v1/enrolments/{world.a1.id}/attendance": 6,
        # key, cohort with programme, periods, assignments, closures, moved training days, school
        # years loaded
        f"/api/v1/cohorts/{world.cohort_a.id}/calendar": 7,
        "/api/v1/school-calendars": 4,  # key, count, page, closures
    }
    few = {path: _statements(client, count_queries, path, headers) for path in paths}
    assert few == paths
    # More of everything: participants, recorded days, school years, exceptions.
    school_calendar.load_calendar_files(other_years)
    more = [make_enrolment(world.cohort_a) for _ in range(6)]
    for day in [world.cohort_a.start_date, *mondays(world, range(2, 6))]:
        record_day(
            world.cohort_a,
            day,
            dict.fromkeys([world.a1, world.a2, *more], SICK),
            actor=world.trainer_b,  # another account recorded them: one more person to show
        )
    db.session.add(
        CalendarClosure(
            cohort_id=world.cohort_a.id,
            kind=school_calendar.ClosureKind.COHORT,
            name="Sluiting",
            first_day=date(2026, 11, 2),
            last_day=date(2026, 11, 6),
        )
    )
    db.session.commit()
    many = {path: _statements(client, count_queries, path, headers) for path in paths}
    assert many == few


def test_the_cohort_calendar_reads_no_more_for_a_bigger_programme(
    client, db, world, count_queries
) -> None:
    big = make_cohort(make_programme(code="BIG", assignments=30), trainers=[world.trainer_a])
    db.session.commit()
    _token, headers = make_key(world.trainer_a, ApiTokenScope.READ)
    small = _statements(
        client, count_queries, f"/api/v1/cohorts/{world.cohort_a.id}/calendar", headers
    )
    large = _statements(client, count_queries, f"/api/v1/cohorts/{big.id}/calendar", headers)
    assert small == large
