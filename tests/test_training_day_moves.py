"""A cohort's training days as they really run (issue 20): a training day held on another day, and a
closed day inside a week that still counts; the coordinator's pages for both."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import AttendanceStatus, AuditEvent, Role, TrainingDayMove
from lms.models.cohorts import weekday_bits
from lms.services import attendance, school_calendar
from lms.services.attendance import AttendanceError, Mark, MoveError
from lms.services.school_calendar import PlanKind
from tests.factories import make_cohort, make_enrolment, make_programme, make_user

START = date(2026, 9, 7)  # a Monday; the cohort trains on Tuesdays
TUESDAY = 1
TUESDAYS = [START + timedelta(days=1, weeks=n) for n in range(10)]
TODAY = date(2026, 10, 30)
NOW = datetime(2026, 10, 30, 12, tzinfo=clock.LOCAL_TZ)


@pytest.fixture
def setting(db):  # type: ignore[no-untyped-def]
    trainer = make_user(Role.TRAINER)
    coordinator = make_user(Role.COORDINATOR)
    cohort = make_cohort(
        make_programme(),
        name="Parkstad 2026-2027",
        start=START,
        trainers=[trainer],
        training_days=weekday_bits([TUESDAY]),
    )
    enrolments = [make_enrolment(cohort, make_user(Role.PARTICIPANT)) for _ in range(2)]
    db.session.commit()
    return cohort, trainer, coordinator, enrolments


def move(setting, moved_from: date, moved_to: date, reason: str = "Trainer op de vakbeurs"):  # type: ignore[no-untyped-def]
    cohort, _, coordinator, _ = setting
    return attendance.move_training_day(
        cohort, moved_from=moved_from, moved_to=moved_to, reason=reason, actor=coordinator
    )


def record(setting, day: date):  # type: ignore[no-untyped-def]
    cohort, trainer, _, enrolments = setting
    marks = {e.id: Mark(AttendanceStatus.PRESENT) for e in enrolments}
    return attendance.record_attendance(cohort, day, marks, actor=trainer, at=NOW, today=TODAY)


def audit_actions(db) -> list[str]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_moved_training_day_is_held_on_its_new_day(db, setting) -> None:
    cohort = setting[0]
    thursday = TUESDAYS[3] + timedelta(days=2)
    move(setting, TUESDAYS[3], thursday)
    db.session.commit()

    dates = attendance.training_dates(cohort, TUESDAYS[5])
    assert TUESDAYS[3] not in dates and thursday in dates
    assert dates == sorted([*TUESDAYS[:3], thursday, *TUESDAYS[4:6]])
    assert attendance.next_training_date(cohort, TUESDAYS[2]) == thursday
    # The weeks do not change: the day moves, the programme does not pause.
    assert cohort.week_of_programme(thursday) == 4

    record(setting, thursday)
    with pytest.raises(AttendanceError, match="geen trainingsdag"):
        record(setting, TUESDAYS[3])


def test_moving_the_same_day_twice_keeps_one_move_and_one_audit_record(db, setting) -> None:
    first = move(setting, TUESDAYS[4], TUESDAYS[4] + timedelta(days=1))
    again = move(setting, TUESDAYS[4], TUESDAYS[4] + timedelta(days=1))
    db.session.commit()
    assert again.id == first.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingDayMove)) == 1
    assert audit_actions(db).count("cohort.training_day_move") == 1


@pytest.mark.parametrize(
    ("moved_from", "moved_to", "reason", "field", "message"),
    [
        (TUESDAYS[4] + timedelta(days=1), TUESDAYS[4] + timedelta(days=2), "x", "moved_from",
         "geen trainingsdag"),
        (TUESDAYS[4], TUESDAYS[4] + timedelta(days=4), "x", "moved_to", "loopt de opleiding niet"),
        (TUESDAYS[4], TUESDAYS[5], "x", "moved_to", "is al een trainingsdag"),
        (TUESDAYS[4], TUESDAYS[4], "x", "moved_to", "is al een trainingsdag"),
        (TUESDAYS[4], START - timedelta(days=3), "x", "moved_to", "loopt de opleiding niet"),
        (TUESDAYS[4], TUESDAYS[4] + timedelta(days=1), "   ", "reason", "waarom"),
        (TUESDAYS[4], TUESDAYS[4] + timedelta(days=1), "vak\x00beurs", "reason", "teken"),
        (TUESDAYS[4], TUESDAYS[4] + timedelta(days=1), "x" * 121, "reason", "120"),
    ],
    ids=["not a training day", "a Saturday", "a training day", "the same day",
         "before the start", "no reason", "a NUL byte", "too long"],
)  # fmt: skip
def test_a_move_the_rules_refuse_says_why_at_its_field(
    db, setting, moved_from, moved_to, reason, field, message
) -> None:
    with pytest.raises(MoveError, match=message) as refused:
        move(setting, moved_from, moved_to, reason)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingDayMove)) == 0


def test_a_public_holiday_or_a_closed_day_cannot_take_a_training_day(db, setting) -> None:
    cohort, _, coordinator, _ = setting
    christmas = date(2026, 12, 25)  # a Friday
    with pytest.raises(MoveError, match="loopt de opleiding niet"):
        move(setting, date(2026, 12, 22), christmas)
    db.session.rollback()
    school_calendar.add_exception(
        cohort, name="Studiedag", first_day=TUESDAYS[6] + timedelta(days=1),
        last_day=TUESDAYS[6] + timedelta(days=1), actor=coordinator,
    )  # fmt: skip
    with pytest.raises(MoveError, match="loopt de opleiding niet"):
        move(setting, TUESDAYS[6], TUESDAYS[6] + timedelta(days=1))


def test_a_day_that_took_place_or_is_moved_already_stays(db, setting) -> None:
    record(setting, TUESDAYS[1])
    db.session.commit()
    with pytest.raises(MoveError, match="al geregistreerd"):
        move(setting, TUESDAYS[1], TUESDAYS[1] + timedelta(days=1))
    db.session.rollback()
    move(setting, TUESDAYS[5], TUESDAYS[5] + timedelta(days=1))
    with pytest.raises(MoveError, match="al verplaatst naar") as refused:
        move(setting, TUESDAYS[5], TUESDAYS[5] + timedelta(days=2))
    assert refused.value.field == "moved_from"
    assert attendance.movable_training_dates(setting[0])[:5] == [
        TUESDAYS[0], TUESDAYS[2], TUESDAYS[3], TUESDAYS[4], TUESDAYS[6]
    ]  # fmt: skip


def test_undoing_a_move_brings_the_day_back_unless_it_took_place(db, setting) -> None:
    cohort, _, coordinator, _ = setting
    wednesday = TUESDAYS[2] + timedelta(days=1)
    moved = move(setting, TUESDAYS[2], wednesday)
    assert attendance.undo_problem(moved) is None
    attendance.undo_move(moved, actor=coordinator)
    db.session.commit()
    assert TUESDAYS[2] in attendance.training_dates(cohort, TODAY)
    assert wednesday not in attendance.training_dates(cohort, TODAY)
    assert audit_actions(db)[-2:] == ["cohort.training_day_move", "cohort.training_day_move_undo"]

    held = move(setting, TUESDAYS[2], wednesday)
    record(setting, wednesday)
    assert "heeft toen plaatsgevonden" in attendance.undo_problem(held)
    with pytest.raises(MoveError):
        attendance.undo_move(held, actor=coordinator)

    # A day another training day moved onto cannot take its own back.
    first = move(setting, TUESDAYS[5], TUESDAYS[5] + timedelta(days=1))
    move(setting, TUESDAYS[6], TUESDAYS[5])
    assert "Maak die verplaatsing eerst ongedaan" in attendance.undo_problem(first)


def test_a_closed_day_inside_a_week_that_counts_is_no_training_day(db, setting) -> None:
    cohort, _, coordinator, _ = setting
    weeks_before = cohort.teaching_weeks
    school_calendar.add_exception(
        cohort, name="Bedrijfsuitje", first_day=TUESDAYS[7], last_day=TUESDAYS[7],
        actor=coordinator,
    )  # fmt: skip
    db.session.commit()
    assert cohort.teaching_weeks == weeks_before  # the week still counts
    assert TUESDAYS[7] not in attendance.training_dates(cohort, TUESDAYS[9])
    assert TUESDAYS[8] in attendance.training_dates(cohort, TUESDAYS[9])
    with pytest.raises(AttendanceError, match="geen trainingsdag"):
        attendance.record_attendance(
            cohort, TUESDAYS[7], {}, actor=setting[1], at=NOW, today=TUESDAYS[9]
        )


def test_the_year_plan_shows_the_moved_day(db, setting) -> None:
    cohort = setting[0]
    thursday = TUESDAYS[3] + timedelta(days=2)
    moved = move(setting, TUESDAYS[3], thursday)
    with clock.frozen_at(NOW):
        plan = school_calendar.year_plan(cohort, [], [moved])
    line = next(line for line in plan if line.kind is PlanKind.MOVED)
    assert (line.first_day, line.week, line.subject) == (thursday, 4, moved)
    assert line.title == "in plaats van dinsdag 29 sep 2026: Trainer op de vakbeurs"


# --- the coordinator's pages ----------------------------------------------------------------------


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def test_the_coordinator_moves_a_training_day_from_the_cohort_page(
    auth, client, db, setting
) -> None:
    cohort, _, coordinator, _ = setting
    auth.login(coordinator.email)
    with clock.frozen_at(NOW):
        page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
        assert f'href="/cohorts/{cohort.id}/training-days/move"' in page
        form = client.get(f"/cohorts/{cohort.id}/training-days/move").get_data(as_text=True)
    # Every training day still to move is a choice, the next one chosen.
    assert '<option selected value="2026-11-03">dinsdag 3 nov 2026</option>' in form
    assert '<option value="2026-09-08">dinsdag 8 sep 2026</option>' in form

    thursday = "2026-11-05"
    with clock.frozen_at(NOW):
        response = auth.post(
            f"/cohorts/{cohort.id}/training-days/move",
            data={"moved_from": "2026-11-03", "moved_to": thursday, "reason": "Vakbeurs"},
            follow_redirects=True,
        )
    text = text_of(response)
    assert "De trainingsdag van dinsdag 3 nov 2026 wordt gehouden op donderdag 5 nov 2026." in text
    assert "dinsdag 3 nov 2026 → donderdag 5 nov 2026: Vakbeurs" in text
    assert "Trainingsdag verplaatst in plaats van dinsdag 3 nov 2026: Vakbeurs" in text


def test_a_refused_move_shows_the_form_again_with_what_was_typed(auth, client, db, setting) -> None:
    cohort, _, coordinator, _ = setting
    auth.login(coordinator.email)
    with clock.frozen_at(NOW):
        response = auth.post(
            f"/cohorts/{cohort.id}/training-days/move",
            data={"moved_from": "2026-11-03", "moved_to": "2026-11-07", "reason": "Vakbeurs"},
        )
    assert response.status_code == 200
    text = text_of(response)
    assert "Op zaterdag 7 nov 2026 loopt de opleiding niet" in text
    page = response.get_data(as_text=True)
    assert 'value="Vakbeurs"' in page and 'value="2026-11-07"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingDayMove)) == 0
    # A day that is no choice of the list is refused by the form.
    with clock.frozen_at(NOW):
        response = auth.post(
            f"/cohorts/{cohort.id}/training-days/move",
            data={"moved_from": "2026-11-04", "moved_to": "2026-11-05", "reason": "Vakbeurs"},
        )
    assert response.status_code == 200
    assert "Ongeldige keuze" in text_of(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingDayMove)) == 0


def test_the_coordinator_undoes_a_move_after_confirming(auth, client, db, setting) -> None:
    cohort, _, coordinator, _ = setting
    moved = move(setting, TUESDAYS[8], TUESDAYS[8] + timedelta(days=1))
    db.session.commit()
    url = f"/cohorts/{cohort.id}/training-days/moves/{moved.id}/undo"
    auth.login(coordinator.email)
    assert "De trainingsdag weer op dinsdag 3 nov 2026 houden?" in text_of(client.get(url))
    response = auth.post(url, follow_redirects=True)
    assert "De trainingsdag is weer op dinsdag 3 nov 2026." in text_of(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingDayMove)) == 0


def test_a_move_that_took_place_is_not_offered_to_undo(auth, client, db, setting) -> None:
    cohort, _, coordinator, _ = setting
    wednesday = TUESDAYS[2] + timedelta(days=1)
    moved = move(setting, TUESDAYS[2], wednesday)
    record(setting, wednesday)
    db.session.commit()
    url = f"/cohorts/{cohort.id}/training-days/moves/{moved.id}/undo"
    auth.login(coordinator.email)
    page = client.get(url)
    assert "heeft toen plaatsgevonden" in text_of(page)
    assert "Ja, maak de verplaatsing ongedaan" not in text_of(page)
    auth.post(url)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingDayMove)) == 1
