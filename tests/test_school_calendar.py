"""The school calendar: files validated and loaded like the curriculum, programme weeks that skip the
holidays, a cohort's own exceptions, and `lms calendar apply` for the cohorts already running."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms import clock
from lms.extensions import db as _db
from lms.models import (
    AuditEvent,
    CalendarClosure,
    Cohort,
    Enrolment,
    Notification,
    ProgressSummary,
    Region,
    Role,
    SchoolCalendar,
)
from lms.services import cohorts as cohort_service
from lms.services import progress, reminders
from lms.services import school_calendar as calendar
from lms.services.progress import RiskReason
from lms.services.school_calendar import CalendarError, PlanKind, Span, count_weeks
from tests.factories import make_cohort, make_enrolment, make_programme, make_user

START = date(2026, 9, 7)  # the first Monday of September 2026
# The 2026-2027 school holidays of region Zuid, by their Mondays (curriculum/calendar/2026-2027.yaml).
AUTUMN = date(2026, 10, 19)
CHRISTMAS = (date(2026, 12, 21), date(2026, 12, 28))
CARNAVAL = date(2027, 2, 8)
MAY = date(2027, 4, 26)
HOLIDAY_MONDAYS = {AUTUMN, *CHRISTMAS, CARNAVAL, MAY}


def load_shipped_calendars() -> None:
    calendar.load_calendar_files(calendar.calendar_files())


def test_the_shipped_files_load_and_a_second_load_changes_nothing(db) -> None:
    first = calendar.load_calendar_files(calendar.calendar_files())
    assert [load.action for load in first] == ["loaded"] * len(first)
    assert {load.spec.school_year for load in first} >= {"2025-2026", "2026-2027"}
    again = calendar.load_calendar_files(calendar.calendar_files())
    assert [load.action for load in again] == ["unchanged"] * len(first)
    year = db.session.scalar(
        sa.select(SchoolCalendar).where(SchoolCalendar.school_year == "2026-2027")
    )
    assert year is not None and "Rijksoverheid" in year.source
    assert {closure.name for closure in year.closures} >= {"Kerstvakantie", "Zomervakantie"}
    # Public holidays are lms/holidays.py's: the file does not list them again.
    assert not any("Pasen" in closure.name for closure in year.closures)


GOOD = """\
school_year: 2026-2027
region: zuid
source: a test
holidays:
  - {kind: autumn, name: Herfst, first_day: 2026-10-17, last_day: 2026-10-25}
  - {kind: christmas, name: Kerst, first_day: 2026-12-19, last_day: 2027-01-03}
  - {kind: spring, name: Carnaval, first_day: 2027-02-06, last_day: 2027-02-14}
  - {kind: may, name: Mei, first_day: 2027-04-24, last_day: 2027-05-02}
  - {kind: summer, name: Zomer, first_day: 2027-07-17, last_day: 2027-08-29}
"""


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            (
                "Herfst, first_day: 2026-10-17, last_day: 2026-10-25",
                "Herfst, first_day: 2026-10-27, last_day: 2026-10-25",
            ),
            "holidays[0].last_day (line 5): the last day comes before the first day",
        ),
        (("kind: may", "kind: autumn"), "list the may holiday once (found 0)"),
        (
            (
                "first_day: 2027-07-17, last_day: 2027-08-29",
                "first_day: 2028-07-17, last_day: 2028-08-29",
            ),
            "holidays[4].first_day (line 9): outside the school year",
        ),
        (
            ("school_year: 2026-2027", "school_year: 2026-2028"),
            "school_year (line 1): write two years in a row",
        ),
        (("region: zuid", "region: noord"), "region (line 2)"),
        (("source: a test", "source: a test\nsauce: typo"), "sauce (line 4): unknown key"),
        (("kind: summer", "kind: winter"), "holidays[4].kind (line 9)"),
    ],
)
def test_a_wrong_file_is_refused_with_each_problem_and_its_line(
    db, tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    path = tmp_path / "2026-2027.yaml"
    path.write_text(GOOD.replace(*change), encoding="utf-8")
    with pytest.raises(CalendarError) as refused:
        calendar.load_calendar_files([path])
    assert expected in str(refused.value)
    assert f"{path}: not loaded" in str(refused.value)
    assert db.session.scalar(sa.select(sa.func.count(SchoolCalendar.id))) == 0


def test_a_week_is_skipped_only_when_all_its_working_days_are_closed() -> None:
    monday = date(2027, 3, 22)
    # Easter Monday (29 March 2027) and Ascension Day close one day: the weeks still count.
    assert count_weeks(monday, 3, []) == [monday + timedelta(weeks=n) for n in range(3)]
    four_days = [Span(monday, monday + timedelta(days=3))]
    assert count_weeks(monday, 2, four_days)[0] == monday
    whole_week = [Span(monday - timedelta(days=2), monday + timedelta(days=6))]
    assert count_weeks(monday, 2, whole_week) == [
        monday + timedelta(weeks=1),
        monday + timedelta(weeks=2),
    ]
    # Monday to Thursday closed by an exception, Friday by a public holiday: skipped.
    good_friday = date(2027, 3, 26)  # not a public holiday in lms/holidays.py
    assert count_weeks(good_friday - timedelta(days=4), 1, four_days)[0] == monday


def test_a_september_cohort_skips_the_holidays_and_ends_before_the_summer(db) -> None:
    load_shipped_calendars()
    trainer = make_user(Role.TRAINER)
    programme = make_programme(assignments=13)  # due weeks 3, 6, ..., 39
    cohort = cohort_service.create_cohort(
        name="Parkstad 2026-2027",
        region=Region.PARKSTAD,
        programme=programme,
        start_date=START,
        trainers=[trainer],
        actor=make_user(),
    )
    weeks = [cohort.week_start(n) for n in range(1, 41)]
    assert not HOLIDAY_MONDAYS & set(weeks)
    assert weeks[0] == START and weeks[-1] == date(2027, 7, 12)
    assert cohort.end_date == date(2027, 7, 16)  # the Friday before the summer holiday (17 July)
    due_dates = [cohort.due_date(a.due_week) for a in programme.assignments]
    holidays = calendar.closures_between(START, cohort.end_date)
    assert not [day for day in due_dates for c in holidays if c.covers(day)]
    # "Week X of 40" pauses in the holidays.
    assert cohort.week_of_programme(date(2026, 12, 18)) == 14  # the autumn week was skipped
    assert cohort.week_of_programme(date(2026, 12, 23)) == 14
    assert cohort.week_of_programme(date(2027, 1, 1)) == 14
    assert cohort.week_of_programme(date(2027, 1, 4)) == 15
    assert cohort.week_of_programme(CARNAVAL) == cohort.week_of_programme(
        CARNAVAL - timedelta(days=3)
    )
    assert cohort.in_holiday(CARNAVAL + timedelta(days=1))
    assert not cohort.in_holiday(CARNAVAL + timedelta(days=7))
    assert cohort.week_of_programme(START - timedelta(days=1)) == 0
    # The periods run through the holidays: their first Monday to their last Friday.
    period = next(line for line in calendar.year_plan(cohort, []) if line.kind is PlanKind.PERIOD)
    assert (period.first_day, period.last_day) == (START, cohort.due_date(10))
    assert cohort.due_date(10) == date(2026, 11, 20)  # ten weeks with the autumn week skipped


def test_without_a_calendar_the_weeks_follow_each_other(db) -> None:
    cohort = make_cohort(make_programme(), start=START)
    assert cohort.due_date(40) == START + timedelta(weeks=39, days=4) == cohort.end_date
    assert cohort.week_of_programme(date(2026, 12, 23)) == 16
    assert calendar.missing_school_years(cohort.start_date, cohort.end_date) == ["2026-2027"]


def test_a_cohort_exception_moves_the_weeks_once_with_an_audit_record(db) -> None:
    load_shipped_calendars()
    coordinator = make_user(Role.COORDINATOR)
    trainer = make_user(Role.TRAINER)
    cohort = cohort_service.create_cohort(
        name="Westelijke Mijnstreek 2026-2027",
        region=Region.WESTELIJKE_MIJNSTREEK,
        programme=make_programme(assignments=13),
        start_date=START,
        trainers=[trainer],
        actor=coordinator,
    )
    enrolment = make_enrolment(cohort)
    progress.refresh_summaries([enrolment])
    before = cohort.due_date(12)
    shutdown = date(2026, 11, 2)  # a Monday in programme week 8
    closure = calendar.add_exception(
        cohort,
        name="  Bedrijfssluiting   week 45 ",
        first_day=shutdown,
        last_day=shutdown + timedelta(days=4),
        actor=coordinator,
    )
    assert closure.name == "Bedrijfssluiting week 45"
    assert cohort.due_date(12) == before + timedelta(weeks=1)
    # Its last week would fall in the summer holiday, so it comes after it.
    assert cohort.end_date == date(2027, 9, 3)
    assert shutdown not in {cohort.week_start(n) for n in range(1, 41)}
    # A double click adds nothing more.
    again = calendar.add_exception(
        cohort,
        name="Bedrijfssluiting",
        first_day=shutdown,
        last_day=shutdown + timedelta(days=4),
        actor=coordinator,
    )
    assert again.id == closure.id
    actions = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.subject_id == cohort.id)
        .order_by(AuditEvent.id)
    ).all()
    assert actions.count("cohort.exception_add") == 1 and actions.count("cohort.calendar") == 1
    assert progress.verify_summaries().ok  # the participant's due dates were recomputed
    # Another cohort is not touched.
    other = cohort_service.create_cohort(
        name="Maastricht 2026-2027",
        region=cohort.region,
        programme=cohort.programme,
        start_date=START,
        trainers=[trainer],
        actor=coordinator,
    )
    assert other.end_date == date(2027, 7, 16)

    calendar.remove_exception(closure, actor=coordinator)
    assert cohort.due_date(12) == before
    assert progress.verify_summaries().ok


@pytest.mark.parametrize(
    ("name", "first", "last", "field", "message"),
    [
        ("", date(2026, 11, 2), date(2026, 11, 6), "name", "Geef aan waarom"),
        ("Sluiting", date(2026, 11, 6), date(2026, 11, 2), "last_day", "vóór de eerste dag"),
        ("Sluiting", date(2026, 11, 2), date(2027, 1, 2), "last_day", "hoogstens 6 weken"),
        (
            "Sluiting",
            date(2026, 8, 3),
            date(2026, 8, 7),
            "first_day",
            "(7 sep 2026) en het einde (11 jun 2027)",
        ),
        ("x" * 121, date(2026, 11, 2), date(2026, 11, 6), "name", "hoogstens 120 tekens"),
        ("Slui\x00ting", date(2026, 11, 2), date(2026, 11, 6), "name", "onzichtbaar stuurteken"),
    ],
)
def test_an_exception_is_refused_with_a_reason(db, name, first, last, field, message) -> None:
    cohort = make_cohort(make_programme(), start=START)
    with pytest.raises(CalendarError) as refused:
        calendar.add_exception(cohort, name=name, first_day=first, last_day=last, actor=make_user())
    assert refused.value.field == field and message in str(refused.value)
    assert db.session.scalar(sa.select(sa.func.count(CalendarClosure.id))) == 0


def test_apply_lists_first_then_moves_running_cohorts_only(db, runner) -> None:
    programme = make_programme(assignments=13)
    running = make_cohort(programme, start=START, name="Loopt")
    ended = make_cohort(programme, start=date(2025, 9, 1), name="Afgelopen")
    enrolment = make_enrolment(running)
    progress.refresh_summaries([enrolment])
    ended_weeks = ended.teaching_weeks
    db.session.commit()
    assert runner.invoke(args=["lms", "calendar", "load"]).exit_code == 0

    dry = runner.invoke(args=["lms", "calendar", "apply", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Loopt: ends 2027-06-11 -> 2027-07-16" in dry.output
    assert "A3: 2026-11-06 -> 2026-11-13" in dry.output  # due in week 9, after the autumn week
    assert "1 ended cohort(s) left as they are" in dry.output
    assert "nothing was changed" in dry.output
    db.session.expire_all()
    assert db.session.get(Cohort, running.id).end_date == date(2027, 6, 11)

    applied = runner.invoke(args=["lms", "calendar", "apply"])
    assert applied.exit_code == 0, applied.output
    assert "1 cohort(s) changed" in applied.output
    db.session.expire_all()
    moved = db.session.get(Cohort, running.id)
    assert moved.end_date == date(2027, 7, 16) and moved.due_date(3) == date(2026, 9, 25)
    assert db.session.get(Cohort, ended.id).teaching_weeks == ended_weeks
    assert progress.verify_summaries().ok
    assert "nothing to change" in runner.invoke(args=["lms", "calendar", "apply"]).output


# --- the cohort page --------------------------------------------------------------------------


def test_the_cohort_page_shows_the_year_and_takes_an_exception(auth, client, db) -> None:
    load_shipped_calendars()
    coordinator = make_user(Role.COORDINATOR)
    cohort = cohort_service.create_cohort(
        name="Parkstad 2026-2027",
        region=Region.PARKSTAD,
        programme=make_programme(assignments=13),
        start_date=START,
        trainers=[make_user(Role.TRAINER)],
        actor=coordinator,
    )
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Het jaar in één overzicht" in page
    assert "Kerstvakantie" in page and "19 dec 2026 – 3 jan 2027" in page
    assert "A3 Opdracht 3" in page and "13 nov 2026" in page  # due in week 9, after the autumn week
    assert "Voortgangsgesprek" in page and "16 jul 2027" in page  # the end
    assert "geen schoolkalender geladen" not in page.lower()
    assert "Geen: de groep volgt de schoolkalender" in page

    form = f"/cohorts/{cohort.id}/exceptions/new"
    refused = auth.post(
        form, {"name": "Sluiting", "first_day": "2026-11-06", "last_day": "2026-11-02"}
    )
    assert refused.status_code == 200
    text = refused.get_data(as_text=True)
    assert "De laatste dag ligt vóór de eerste dag." in text and 'value="Sluiting"' in text
    added = auth.post(
        form,
        {"name": "Bedrijfssluiting week 45", "first_day": "2026-11-02", "last_day": "2026-11-06"},
    )
    assert added.status_code == 302 and added.headers["Location"].endswith("#year-title")
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "schuiven mee" in page  # the message
    assert "Bedrijfssluiting week 45: 2 nov 2026 – 6 nov 2026" in page
    assert "20 nov 2026" in page  # A3 moved a week
    db.session.expire_all()
    closure = db.session.scalar(
        sa.select(CalendarClosure).where(CalendarClosure.cohort_id == cohort.id)
    )
    assert closure is not None

    remove = f"/cohorts/{cohort.id}/exceptions/{closure.id}/remove"
    confirm = client.get(remove).get_data(as_text=True)
    assert "„Bedrijfssluiting week 45” verwijderen?" in confirm
    assert auth.post(remove, {}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Cohort, cohort.id).due_date(9) == date(2026, 11, 13)
    assert client.get(remove).status_code == 404  # gone


def test_the_cohort_page_warns_when_its_school_year_has_no_calendar(auth, client, db) -> None:
    coordinator = make_user(Role.COORDINATOR)
    cohort = make_cohort(make_programme(), start=START)
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Er is geen schoolkalender geladen voor 2026-2027" in page


# --- inactivity and reminders in the holidays ----------------------------------------------------


def christmas_cohort(db):  # type: ignore[no-untyped-def]
    """A September cohort on the shipped calendar, one participant enrolled on Friday 11 December
    (so nothing done since then) and a trainer."""
    load_shipped_calendars()
    trainer = make_user(Role.TRAINER, first_name="Tinus")
    cohort = cohort_service.create_cohort(
        name="Parkstad 2026-2027",
        region=Region.PARKSTAD,
        programme=make_programme(assignments=13),
        start_date=START,
        trainers=[trainer],
        actor=make_user(Role.COORDINATOR),
    )
    enrolment = make_enrolment(cohort, enrolled_on=date(2026, 12, 11))
    progress.refresh_summaries([enrolment])
    db.session.commit()
    return cohort, enrolment, trainer


def test_the_christmas_weeks_do_not_count_as_inactive(db) -> None:
    cohort, enrolment, _ = christmas_cohort(db)
    # 9 days to Sunday 20 December, the two holiday weeks not counted, then 5 more: 8 January.
    assert cohort.quiet_days(date(2026, 12, 11), date(2027, 1, 3)) == 9
    summary = db.session.get(ProgressSummary, enrolment.id)
    assert summary.inactive_from == date(2027, 1, 8)
    for day, inactive in (
        (date(2026, 12, 28), False),
        (date(2027, 1, 7), False),
        (date(2027, 1, 8), True),
    ):
        [found] = progress.enrolment_progress([enrolment], day).values()
        assert (
            RiskReason.INACTIVE
            in progress.risk_reasons([enrolment], {enrolment.id: found}, day)[enrolment.id]
        ) is inactive
        in_sql = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Enrolment)
            .join(Enrolment.cohort)
            .join(ProgressSummary, ProgressSummary.enrolment_id == Enrolment.id)
            .where(progress.inactive_on(day))
        )
        assert in_sql == int(inactive), day


def sweep_on(day: date) -> None:
    with clock.frozen_at(datetime.combine(day, time(10), tzinfo=clock.LOCAL_TZ)):
        reminders.sweep(clock.now())
    _db.session.commit()


def notes_of(user, kind: str | None = None) -> list[Notification]:  # type: ignore[no-untyped-def]
    query = sa.select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(_db.session.scalars(query))


def test_no_reminders_in_the_holiday_and_inactivity_counts_only_school_weeks(db) -> None:
    cohort, enrolment, trainer = christmas_cohort(db)
    participant = enrolment.participant
    sweep_on(date(2026, 12, 14))  # the first sweep: whatever is due by then
    before = len(notes_of(participant))
    for day in (date(2026, 12, 21), date(2026, 12, 22), date(2026, 12, 29), date(2027, 1, 2)):
        sweep_on(day)
    assert len(notes_of(participant)) == before  # nothing in the holiday
    sweep_on(date(2027, 1, 4))  # back: what fell due in the holiday comes now
    assert len(notes_of(participant)) > before
    # 21 days without work, the holiday not counted: 9 before it and 12 after it, on 15 January.
    sweep_on(date(2027, 1, 14))
    assert notes_of(participant, reminders.INACTIVE) == []
    sweep_on(date(2027, 1, 15))
    assert len(notes_of(participant, reminders.INACTIVE)) == 1
    assert len(notes_of(trainer, reminders.INACTIVE)) == 1
    sweep_on(date(2027, 1, 16))
    assert len(notes_of(participant, reminders.INACTIVE)) == 1


def test_the_participant_sees_the_holiday_on_the_home_page(auth, client, db) -> None:
    cohort, enrolment, _ = christmas_cohort(db)
    with clock.frozen_at(datetime(2026, 12, 22, 10, tzinfo=clock.LOCAL_TZ)):
        auth.login(enrolment.participant.email)
        page = client.get("/dashboard/participant").get_data(as_text=True)
    assert "Week 14 van 40 van je opleiding." in page
    assert "Het is een vakantieweek" in page
    with clock.frozen_at(datetime(2027, 1, 5, 10, tzinfo=clock.LOCAL_TZ)):
        auth.login(enrolment.participant.email)
        page = client.get("/dashboard/participant").get_data(as_text=True)
    assert "Week 15 van 40 van je opleiding." in page and "vakantieweek" not in page
