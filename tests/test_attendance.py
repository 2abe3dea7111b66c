"""Training days and attendance (issue 20, part 4): the rules of lms/services/attendance.py, the
cohort's training days, the trainer's screen and who sees what."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from lms import clock
from lms.models import (
    AbsenceReason,
    AttendanceRecord,
    AttendanceSession,
    AttendanceStatus,
    AuditEvent,
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Role,
    User,
)
from lms.models.cohorts import format_weeks, weekday_bits
from lms.services import attendance, progress
from lms.services import cohorts as cohort_service
from lms.services.attendance import AttendanceError, Figures, Mark
from tests.concurrency import hold_first_after
from tests.conftest import AuthActions
from tests.factories import make_cohort, make_employer, make_enrolment, make_programme, make_user

START = date(2026, 9, 7)  # a Monday
TUESDAY, THURSDAY = 1, 3
TODAY = date(2026, 10, 30)  # a Friday, week 8
NOW = datetime(2026, 10, 30, 12, tzinfo=clock.LOCAL_TZ)
TUESDAYS = [START + timedelta(days=1, weeks=n) for n in range(8)]  # 8 Sep ... 27 Oct
PRESENT = Mark(AttendanceStatus.PRESENT)
LATE = Mark(AttendanceStatus.LATE, note="Bus te laat.")
SICK = Mark(AttendanceStatus.ABSENT, AbsenceReason.SICK, note="Griep")


@dataclass
class Group:
    cohort: Cohort
    trainer: User
    other_trainer: User
    coordinator: User
    contact: User
    other_contact: User
    participants: list[User]
    enrolments: list[Enrolment]


@pytest.fixture
def group(db) -> Group:  # type: ignore[no-untyped-def]
    trainer = make_user(Role.TRAINER, first_name="Ingrid", last_name="Vaessen")
    other_trainer = make_user(Role.TRAINER, first_name="Olaf", last_name="Anders")
    programme = make_programme()
    cohort = make_cohort(
        programme,
        name="Parkstad 2026-2027",
        start=START,
        trainers=[trainer],
        training_days=weekday_bits([TUESDAY]),
    )
    make_cohort(programme, name="Sittard 2026-2027", trainers=[other_trainer])
    company, other_company = make_employer(name="Kerkrade Precisie"), make_employer(name="Anders")
    contact = make_user(Role.EMPLOYER, employer=company, first_name="Els", last_name="Werkgever")
    other_contact = make_user(Role.EMPLOYER, employer=other_company)
    names = [("Anna", "Aerts"), ("Bram", "Bos"), ("Cor", "Claessens")]
    participants = [
        make_user(Role.PARTICIPANT, first_name=first, last_name=last) for first, last in names
    ]
    enrolments = [make_enrolment(cohort, person, company) for person in participants]
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    return Group(
        cohort,
        trainer,
        other_trainer,
        coordinator,
        contact,
        other_contact,
        participants,
        enrolments,
    )


def everyone(group: Group, mark: Mark = PRESENT, **others: Mark) -> dict[int, Mark]:
    """A mark for each participant: ``mark``, or the one named by first name (``Bram=SICK``)."""
    return {
        e.id: others.get(p.first_name, mark)
        for e, p in zip(group.enrolments, group.participants, strict=True)
    }


def record(group: Group, day: date, marks: dict[int, Mark], actor: User | None = None):  # type: ignore[no-untyped-def]
    return attendance.record_attendance(
        group.cohort, day, marks, actor=actor or group.trainer, at=clock.now(), today=TODAY
    )


def sessions(db) -> list[AttendanceSession]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(sa.select(AttendanceSession).order_by(AttendanceSession.id)))


def records(db) -> list[AttendanceRecord]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(sa.select(AttendanceRecord).order_by(AttendanceRecord.id)))


def events(db, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return text_of_html(response.get_data(as_text=True))


def text_of_html(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- training dates ----------------------------------------------------------------------------


def test_training_dates_are_the_training_weekdays_from_the_start_up_to_a_day(group) -> None:
    assert attendance.training_dates(group.cohort, TODAY) == TUESDAYS
    assert attendance.training_dates(group.cohort, START) == []
    assert attendance.training_dates(group.cohort, TUESDAYS[0]) == TUESDAYS[:1]
    group.cohort.training_weekdays = [TUESDAY, THURSDAY]
    both = attendance.training_dates(group.cohort, date(2026, 9, 20))
    assert both == [date(2026, 9, 8), date(2026, 9, 10), date(2026, 9, 15), date(2026, 9, 17)]


def test_training_dates_stop_at_the_end_of_the_cohort(group) -> None:
    dates = attendance.training_dates(group.cohort, group.cohort.end_date + timedelta(weeks=10))
    assert dates[-1] <= group.cohort.end_date
    assert dates[-1] > group.cohort.end_date - timedelta(days=7)


def test_training_dates_skip_holiday_weeks_and_public_holidays(group) -> None:
    """The school calendar's holiday weeks (``Cohort.in_holiday``) and public holidays (King's Day,
    Tuesday 27 April 2027) are no training days."""
    autumn = date(2026, 10, 19)
    weeks = [START + timedelta(weeks=n) for n in range(45)]
    group.cohort.teaching_weeks = format_weeks([week for week in weeks if week != autumn][:40])
    dates = attendance.training_dates(group.cohort, date(2027, 5, 1))
    assert date(2026, 10, 20) not in dates  # the autumn holiday
    assert date(2026, 10, 13) in dates and date(2026, 10, 27) in dates
    assert date(2027, 4, 20) in dates and date(2027, 4, 27) not in dates  # King's Day
    assert not attendance.is_training_date(group.cohort, date(2027, 4, 27))
    assert "geen trainingsdag" in attendance.date_problem(group.cohort, date(2026, 10, 20), TODAY)


def test_a_date_to_come_or_not_a_training_day_is_refused(db, group) -> None:
    with pytest.raises(AttendanceError, match="ligt nog in de toekomst"):
        record(group, TODAY + timedelta(days=4), everyone(group))
    with pytest.raises(AttendanceError, match="geen trainingsdag van Parkstad 2026-2027"):
        record(group, TUESDAYS[0] + timedelta(days=1), everyone(group))  # a Wednesday
    with pytest.raises(AttendanceError, match="geen trainingsdag"):
        record(group, START - timedelta(days=6), everyone(group))  # a Tuesday before the start
    assert sessions(db) == []


# --- recording ----------------------------------------------------------------------------------


def test_recording_a_session_writes_one_record_per_participant(db, group) -> None:
    done = record(group, TUESDAYS[0], everyone(group, Bram=SICK, Cor=LATE))
    db.session.commit()
    assert done.created
    [session] = sessions(db)
    assert (session.cohort_id, session.held_on, session.recorded_by_id) == (
        group.cohort.id,
        TUESDAYS[0],
        group.trainer.id,
    )
    assert session.updated_at is None
    assert [(r.enrolment_id, r.status, r.reason, r.note) for r in records(db)] == [
        (group.enrolments[0].id, AttendanceStatus.PRESENT, None, ""),
        (group.enrolments[1].id, AttendanceStatus.ABSENT, AbsenceReason.SICK, "Griep"),
        (group.enrolments[2].id, AttendanceStatus.LATE, None, "Bus te laat."),
    ]
    assert events(db, "attendance.update") == []


def test_recording_again_updates_the_session_and_leaves_an_audit_record(db, group) -> None:
    record(group, TUESDAYS[0], everyone(group))
    db.session.commit()
    unauthorised = Mark(AttendanceStatus.ABSENT, AbsenceReason.UNAUTHORISED)
    done = record(group, TUESDAYS[0], everyone(group, Anna=unauthorised), actor=group.coordinator)
    db.session.commit()
    assert not done.created
    assert len(sessions(db)) == 1 and len(records(db)) == 3
    assert records(db)[0].status is AttendanceStatus.ABSENT
    assert records(db)[0].reason is AbsenceReason.UNAUTHORISED
    [event] = events(db, "attendance.update")
    assert event.actor_id == group.coordinator.id
    assert event.subject_type == "AttendanceSession"
    assert event.details["held_on"] == "2026-09-08"
    assert event.details["changes"] == {
        str(group.enrolments[0].id): ["present", "absent:unauthorised"]
    }
    assert sessions(db)[0].updated_by_id == group.coordinator.id

    # The same marks once more: nothing changes, nothing is recorded.
    again = record(group, TUESDAYS[0], everyone(group, Anna=unauthorised))
    db.session.commit()
    assert again.changes == {}
    assert len(events(db, "attendance.update")) == 1


def test_every_participant_needs_a_mark_and_an_absence_a_reason(db, group) -> None:
    marks = everyone(group)
    del marks[group.enrolments[2].id]
    with pytest.raises(AttendanceError) as refused:
        record(group, TUESDAYS[0], marks)
    assert refused.value.enrolment_id == group.enrolments[2].id
    db.session.rollback()
    with pytest.raises(AttendanceError, match="Kies waarom"):
        record(group, TUESDAYS[0], everyone(group, Anna=Mark(AttendanceStatus.ABSENT)))
    with pytest.raises(AttendanceError, match="alleen bij afwezigheid"):
        record(
            group,
            TUESDAYS[0],
            everyone(group, Anna=Mark(AttendanceStatus.LATE, AbsenceReason.SICK)),
        )
    with pytest.raises(AttendanceError, match="200 tekens"):
        record(
            group, TUESDAYS[0], everyone(group, Anna=Mark(AttendanceStatus.LATE, note="x" * 201))
        )
    with pytest.raises(AttendanceError):
        record(group, TUESDAYS[0], everyone(group, Anna=Mark(AttendanceStatus.LATE, note="a\x01b")))
    outsider = make_enrolment(make_cohort(group.cohort.programme))
    with pytest.raises(AttendanceError, match="niet in de groep"):
        record(group, TUESDAYS[0], {**everyone(group), outsider.id: PRESENT})
    db.session.rollback()
    assert sessions(db) == []


def test_the_roster_is_who_was_in_the_group_on_the_day(db, group) -> None:
    late_comer = make_enrolment(group.cohort, make_user(Role.PARTICIPANT), enrolled_on=TUESDAYS[2])
    leaver = group.enrolments[2]
    leaver.status, leaver.ended_on = EnrolmentStatus.WITHDRAWN, TUESDAYS[1]
    db.session.commit()
    ids = lambda day: {e.id for e in attendance.roster(group.cohort, day)}  # noqa: E731
    first = group.enrolments[0].id
    assert late_comer.id not in ids(TUESDAYS[1]) and late_comer.id in ids(TUESDAYS[2])
    assert leaver.id in ids(TUESDAYS[0]) and leaver.id not in ids(TUESDAYS[1])
    assert first in ids(TUESDAYS[0])
    # Recorded on a day, a participant stays on that day's session, and on the cohort's page.
    assert leaver.id not in {e.id for e in attendance.participants_of(group.cohort)}
    record(
        group, TUESDAYS[0], {e.id: PRESENT for e in attendance.roster(group.cohort, TUESDAYS[0])}
    )
    session = attendance.session_on(group.cohort, TUESDAYS[0])
    assert leaver.id in {e.id for e in attendance.roster(group.cohort, TUESDAYS[0], session)}
    assert leaver.id in {e.id for e in attendance.participants_of(group.cohort)}
    assert late_comer.id in {e.id for e in attendance.participants_of(group.cohort)}


def test_two_trainers_saving_the_same_day_at_once_make_one_session(app, db, group) -> None:
    """The first is held right after it wrote the session; the second waits for the cohort's lock,
    then finds the session and updates it: no error, no second session or record. On PostgreSQL
    (row lock) as on SQLite (the writer's lock)."""
    co_trainer = make_user(Role.TRAINER, first_name="Tom", last_name="Tweede")
    group.cohort.trainers.append(co_trainer)
    db.session.commit()
    ids = {"cohort": group.cohort.id, "first": group.trainer.id, "second": co_trainer.id}
    first_marks, second_marks = everyone(group), everyone(group, Bram=SICK)

    def save(actor: str, marks: dict[int, Mark]):  # type: ignore[no-untyped-def]
        def run() -> bool:
            with app.app_context():
                from lms.extensions import db as thread_db

                done = attendance.record_attendance(
                    thread_db.session.get(Cohort, ids["cohort"]),
                    TUESDAYS[0],
                    marks,
                    actor=thread_db.session.get(User, ids[actor]),
                    at=clock.now(),
                    today=TODAY,
                )
                thread_db.session.commit()
                created = done.created
                thread_db.session.remove()
                return created

        return run

    first, second, second_waited = hold_first_after(
        "INSERT INTO ATTENDANCE_SESSIONS", save("first", first_marks), save("second", second_marks)
    )
    assert second_waited, "the second save did not wait for the first"
    assert (first, second) == (True, False)
    db.session.expire_all()
    assert len(sessions(db)) == 1
    assert [(r.enrolment_id, r.status) for r in records(db)] == [
        (group.enrolments[0].id, AttendanceStatus.PRESENT),
        (group.enrolments[1].id, AttendanceStatus.ABSENT),
        (group.enrolments[2].id, AttendanceStatus.PRESENT),
    ]
    [event] = events(db, "attendance.update")
    assert event.actor_id == co_trainer.id


def test_the_database_keeps_one_session_per_day_and_one_record_per_participant(db, group) -> None:
    from sqlalchemy.exc import IntegrityError

    record(group, TUESDAYS[0], everyone(group))
    db.session.commit()
    db.session.add(AttendanceSession(cohort_id=group.cohort.id, held_on=TUESDAYS[0]))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    session = sessions(db)[0]
    db.session.add(
        AttendanceRecord(
            session_id=session.id, enrolment_id=group.enrolments[0].id, status="present"
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    db.session.add(AttendanceSession(cohort_id=group.cohort.id, held_on=TUESDAYS[1]))
    db.session.flush()
    absent_without_reason = AttendanceRecord(
        session_id=sessions(db)[1].id,
        enrolment_id=group.enrolments[0].id,
        status=AttendanceStatus.ABSENT,
    )
    db.session.add(absent_without_reason)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# --- figures ----------------------------------------------------------------------------------


def test_percentages_count_present_and_late_over_recorded_sessions(db, group) -> None:
    anna, bram, cor = (e.id for e in group.enrolments)
    record(group, TUESDAYS[0], everyone(group, Bram=SICK))
    record(group, TUESDAYS[1], everyone(group, Anna=LATE))
    authorised = Mark(AttendanceStatus.ABSENT, AbsenceReason.AUTHORISED)
    unauthorised = Mark(AttendanceStatus.ABSENT, AbsenceReason.UNAUTHORISED)
    record(group, TUESDAYS[2], everyone(group, Bram=authorised))
    record(group, TUESDAYS[3], everyone(group, Bram=unauthorised, Anna=LATE))
    nobody = make_enrolment(group.cohort, make_user(Role.PARTICIPANT), enrolled_on=TODAY)
    figures = attendance.figures_for([anna, bram, cor, nobody.id])
    assert figures[anna] == Figures(present=2, late=2)
    assert figures[anna].percent == 100  # late counts as attended
    assert figures[bram] == Figures(present=1, sick=1, authorised=1, unauthorised=1)
    assert (figures[bram].percent, figures[bram].absent, figures[bram].sessions) == (25, 3, 4)
    assert figures[cor].percent == 100
    assert figures[nobody.id] == Figures() and figures[nobody.id].percent is None
    assert attendance.figures_for([]) == {}
    assert Figures(present=2, sick=1).percent == 67


def test_date_lines_list_every_training_day_up_to_today_newest_first(db, group) -> None:
    record(group, TUESDAYS[1], everyone(group, Bram=SICK, Cor=LATE))
    lines = attendance.date_lines(group.cohort, TODAY)
    assert [line.day for line in lines] == list(reversed(TUESDAYS))
    recorded = [line for line in lines if line.recorded]
    assert [(line.day, line.present, line.late, line.absent) for line in recorded] == [
        (TUESDAYS[1], 1, 1, 1)
    ]
    assert attendance.next_training_date(group.cohort, TODAY) == date(2026, 11, 3)


# --- the cohort's training days -------------------------------------------------------------------


def test_a_cohort_trains_on_its_start_weekday_unless_told_otherwise(db, group) -> None:
    programme = group.cohort.programme
    arguments = {
        "region": group.cohort.region,
        "programme": programme,
        "start_date": START,
        "trainers": [group.trainer],
        "actor": group.coordinator,
    }
    plain = cohort_service.create_cohort(name="Standaard", **arguments)
    assert plain.training_weekdays == (0,)
    chosen = cohort_service.create_cohort(
        name="Dinsdag en donderdag", training_weekdays=[THURSDAY, TUESDAY], **arguments
    )
    assert chosen.training_weekdays == (TUESDAY, THURSDAY)
    assert chosen.training_days == 2 + 8
    with pytest.raises(cohort_service.CohortError) as refused:
        cohort_service.create_cohort(name="Geen dag", training_weekdays=[], **arguments)
    assert refused.value.field == "training_days"
    with pytest.raises(cohort_service.CohortError):
        cohort_service.create_cohort(name="Zaterdag", training_weekdays=[5], **arguments)


def test_changing_the_training_days_is_audited(db, group) -> None:
    cohort = group.cohort
    changes = cohort_service.update_cohort(
        cohort,
        name=cohort.name,
        region=cohort.region,
        start_date=cohort.start_date,
        capacity=cohort.capacity,
        trainers=cohort.trainers,
        training_weekdays=[THURSDAY],
        actor=group.coordinator,
    )
    assert changes == {"training_weekdays": [[TUESDAY], [THURSDAY]]}
    assert cohort.training_weekdays == (THURSDAY,)
    assert events(db, "cohort.update")[0].details["changes"] == {"training_weekdays": [[1], [3]]}


def test_the_coordinator_sets_the_training_days_on_the_cohort_forms(
    auth, client, db, group
) -> None:
    auth.login(group.coordinator.email)
    page = client.get("/cohorts/new").get_data(as_text=True)
    assert "Trainingsdagen" in page and "dinsdag" in page
    data = {
        "name": "Sittard 2027",
        "region": "westelijke_mijnstreek",
        "programme": str(group.cohort.programme_id),
        "start_date": "2026-09-07",
        "capacity": "12",
        "trainers": [str(group.trainer.id)],
    }
    refused = auth.post("/cohorts/new", data)
    assert refused.status_code == 200
    assert "Kies minstens één trainingsdag." in text_of(refused)
    assert 'value="Sittard 2027"' in refused.get_data(as_text=True)
    created = auth.post("/cohorts/new", {**data, "training_days": ["1", "3"]})
    assert created.status_code == 302
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == "Sittard 2027"))
    assert cohort.training_weekdays == (TUESDAY, THURSDAY)

    form = client.get(f"/cohorts/{group.cohort.id}/edit").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="training_days"[^>]*value="1"', form)
    data = {
        "name": group.cohort.name,
        "region": "parkstad",
        "start_date": "2026-09-07",
        "capacity": "12",
        "trainers": [str(group.trainer.id)],
        "training_days": ["4"],
    }
    assert auth.post(f"/cohorts/{group.cohort.id}/edit", data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Cohort, group.cohort.id).training_weekdays == (4,)
    detail = text_of(client.get(f"/cohorts/{group.cohort.id}"))
    assert "Trainingsdagen vrijdag · Aanwezigheid" in detail


# --- the trainer's screen -------------------------------------------------------------------------


def session_url(group: Group, day: date) -> str:
    return f"/attendance/cohorts/{group.cohort.id}/{day.isoformat()}"


def test_the_trainer_lists_the_training_days_newest_first_recorded_or_not(
    auth, client, db, group
) -> None:
    record(group, TUESDAYS[1], everyone(group, Bram=SICK))
    db.session.commit()
    auth.login(group.trainer.email)
    with clock.frozen_at(NOW):
        dashboard = client.get("/assessment/").get_data(as_text=True)
        assert f'href="/attendance/cohorts/{group.cohort.id}"' in dashboard
        response = client.get(f"/attendance/cohorts/{group.cohort.id}")
    text = text_of(response)
    assert "Aanwezigheid van Parkstad 2026-2027" in text
    assert "Trainingsdag: dinsdag · volgende trainingsdag: dinsdag 3 nov 2026" in text
    assert "7 trainingsdagen zonder geregistreerde aanwezigheid." in text
    assert text.index("dinsdag 27 okt 2026") < text.index("dinsdag 8 sep 2026")
    assert "dinsdag 15 sep 2026 ✓ Geregistreerd 2 aanwezig, 0 te laat, 1 afwezig Openen" in text
    assert text.count("Aanwezigheid registreren") == 7
    assert "Bram Bos Kerkrade Precisie 0% aanwezig (0 van 1 trainingsdagen, afwezig: 1 ziek" in text


def test_a_long_list_of_training_days_is_paged(auth, client, db, group) -> None:
    group.cohort.training_weekdays = [0, 1, 2, 3, 4]
    db.session.commit()
    auth.login(group.trainer.email)
    with clock.frozen_at(NOW):
        first = text_of(client.get(f"/attendance/cohorts/{group.cohort.id}"))
        second = text_of(client.get(f"/attendance/cohorts/{group.cohort.id}?page=2"))
    assert "Pagina 1 van 2 (40 in totaal)" in first
    assert "vrijdag 30 okt 2026" in first and "maandag 7 sep 2026" not in first
    assert "maandag 7 sep 2026" in second


def test_a_new_session_starts_with_everyone_present_and_is_saved_in_one_go(
    auth, client, db, group
) -> None:
    auth.login(group.trainer.email)
    with clock.frozen_at(NOW):
        page = client.get(session_url(group, TUESDAYS[7])).get_data(as_text=True)
        checked = re.findall(r'name="mark_(\d+)" value="(\w+)" checked', page)
        assert sorted(checked) == sorted((str(e.id), "present") for e in group.enrolments)
        # Each participant's choices are a group named after them, each choice labelled.
        assert '<legend class="attendance-row__name">Bram Bos</legend>' in page
        assert "Afwezig: ongeoorloofd" in page
        anna, bram, cor = (e.id for e in group.enrolments)
        response = auth.post(
            session_url(group, TUESDAYS[7]),
            {
                f"mark_{anna}": "present",
                f"mark_{bram}": "sick",
                f"note_{bram}": "Griep, belde om 8 uur",
                f"mark_{cor}": "late",
            },
        )
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/attendance/cohorts/{group.cohort.id}")
        text = text_of(client.get(response.headers["Location"]))
    assert (
        "Aanwezigheid van dinsdag 27 okt 2026 opgeslagen: 1 aanwezig, 1 te laat, 1 afwezig." in text
    )
    assert [(r.status, r.reason, r.note) for r in records(db)] == [
        (AttendanceStatus.PRESENT, None, ""),
        (AttendanceStatus.ABSENT, AbsenceReason.SICK, "Griep, belde om 8 uur"),
        (AttendanceStatus.LATE, None, ""),
    ]


def test_a_recorded_session_shows_what_was_saved_and_saves_changes(auth, client, db, group) -> None:
    record(group, TUESDAYS[0], everyone(group, Bram=SICK))
    db.session.commit()
    auth.login(group.trainer.email)
    anna, bram, cor = (e.id for e in group.enrolments)
    with clock.frozen_at(NOW):
        page = client.get(session_url(group, TUESDAYS[0])).get_data(as_text=True)
        assert f'name="mark_{bram}" value="sick" checked' in page
        assert 'value="Griep"' in page
        assert "geregistreerd door Ingrid Vaessen" in text_of(
            client.get(session_url(group, TUESDAYS[0]))
        )
        response = auth.post(
            session_url(group, TUESDAYS[0]),
            {f"mark_{anna}": "present", f"mark_{bram}": "authorised", f"mark_{cor}": "present"},
        )
    assert response.status_code == 302
    assert records(db)[1].reason is AbsenceReason.AUTHORISED
    assert len(events(db, "attendance.update")) == 1


def test_an_incomplete_form_is_shown_again_with_what_was_chosen(auth, client, db, group) -> None:
    auth.login(group.trainer.email)
    anna, bram, cor = (e.id for e in group.enrolments)
    with clock.frozen_at(NOW):
        response = auth.post(
            session_url(group, TUESDAYS[7]),
            {
                f"mark_{anna}": "late",
                f"note_{anna}": "Tien minuten",
                f"mark_{bram}": "ergens",
                f"note_{cor}": "x" * 201,
                f"mark_{cor}": "present",
            },
        )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    text = text_of(response)
    assert "Nog niet opgeslagen" in text
    assert "Kies aanwezig, te laat of afwezig (met de reden)." in text
    assert "Houd de notitie korter dan 200 tekens." in text
    assert f'name="mark_{anna}" value="late" checked' in page
    assert 'value="Tien minuten"' in page
    assert f'aria-describedby="mark_{bram}-error"' in page
    assert sessions(db) == []


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (date(2026, 11, 3), "De datum dinsdag 3 nov 2026 ligt nog in de toekomst."),
        (date(2026, 10, 28), "Op woensdag 28 okt 2026 is er geen trainingsdag van Parkstad"),
    ],
)
def test_a_day_to_come_or_not_a_training_day_is_refused_with_a_message(
    auth, client, db, group, day, message
) -> None:
    auth.login(group.trainer.email)
    with clock.frozen_at(NOW):
        for method in ("get", "post"):
            if method == "get":
                response = client.get(session_url(group, day))
            else:
                response = auth.post(session_url(group, day), everyone_form(group))
            assert response.status_code == 302
            assert response.headers["Location"].endswith(f"/attendance/cohorts/{group.cohort.id}")
            assert message in text_of(client.get(response.headers["Location"]))
    assert sessions(db) == []


def everyone_form(group: Group) -> dict[str, str]:
    return {f"mark_{e.id}": "present" for e in group.enrolments}


def test_a_date_that_is_no_date_is_not_found(auth, client, db, group) -> None:
    auth.login(group.trainer.email)
    assert client.get(f"/attendance/cohorts/{group.cohort.id}/2026-13-40").status_code == 404
    assert client.get(f"/attendance/cohorts/{group.cohort.id}/morgen").status_code == 404


def test_the_coordinator_sees_a_session_but_does_not_record_it(auth, client, db, group) -> None:
    record(group, TUESDAYS[0], everyone(group, Bram=SICK))
    db.session.commit()
    auth.login(group.coordinator.email)
    with clock.frozen_at(NOW):
        page = client.get(session_url(group, TUESDAYS[0]))
        assert page.status_code == 200
        assert 'name="mark_' not in page.get_data(as_text=True)
        assert "Bram Bos ✗ afwezig (ziek) Griep" in text_of(page)
        refused = auth.post(session_url(group, TUESDAYS[0]), everyone_form(group))
        assert refused.status_code == 404
        overview = text_of(client.get(f"/attendance/cohorts/{group.cohort.id}"))
    assert "Aanwezigheid registreren" not in overview and "Openen" in overview
    assert len(records(db)) == 3 and records(db)[1].status is AttendanceStatus.ABSENT


def test_another_trainer_cannot_see_or_record_the_cohort(auth, client, db, group) -> None:
    auth.login(group.other_trainer.email)
    with clock.frozen_at(NOW):
        assert client.get(f"/attendance/cohorts/{group.cohort.id}").status_code == 404
        assert client.get(session_url(group, TUESDAYS[0])).status_code == 404
        assert auth.post(session_url(group, TUESDAYS[0]), everyone_form(group)).status_code == 404
    assert sessions(db) == []


# --- who sees a participant's attendance ----------------------------------------------------------


def test_the_participant_sees_their_own_attendance(auth, client, db, group) -> None:
    record(group, TUESDAYS[0], everyone(group, Anna=SICK))
    record(group, TUESDAYS[1], everyone(group, Anna=LATE))
    record(group, TUESDAYS[2], everyone(group))
    db.session.commit()
    auth.login(group.participants[0].email)
    page = client.get("/dashboard/participant").get_data(as_text=True)
    assert 'href="/attendance/"' in page  # in the menu
    text = text_of(client.get("/attendance/"))
    assert "Mijn aanwezigheid" in text
    assert "67% aanwezig (2 van 3 trainingsdagen, één keer te laat, afwezig: 1 ziek" in text
    assert text.index("dinsdag 22 sep 2026") < text.index("dinsdag 8 sep 2026")
    assert "dinsdag 8 sep 2026 ✗ afwezig (ziek) Griep" in text
    assert "dinsdag 15 sep 2026 ◔ te laat Bus te laat." in text
    # Their own enrolment's page too; another participant's is not found.
    mine = client.get(f"/attendance/enrolments/{group.enrolments[0].id}")
    assert mine.status_code == 200
    assert client.get(f"/attendance/enrolments/{group.enrolments[1].id}").status_code == 404


def test_a_participant_without_an_enrolment_is_told_so(auth, client, db) -> None:
    person = make_user(Role.PARTICIPANT)
    db.session.commit()
    auth.login(person.email)
    assert "U bent niet ingeschreven in een groep" in text_of(client.get("/attendance/"))


def test_the_employer_contact_sees_their_employees_attendance_only(auth, client, db, group) -> None:
    record(group, TUESDAYS[0], everyone(group, Bram=SICK))
    db.session.commit()
    url = f"/attendance/enrolments/{group.enrolments[1].id}"
    auth.login(group.contact.email)
    employees = client.get("/employer/").get_data(as_text=True)
    assert f'href="{url}"' in employees
    text = text_of(client.get(url))
    assert "Aanwezigheid van Bram Bos" in text and "0% aanwezig" in text
    auth.logout()
    auth.login(group.other_contact.email)
    assert client.get(url).status_code == 404


def test_trainer_and_coordinator_reach_the_cohort_from_their_pages(auth, client, db, group) -> None:
    target = f'href="/attendance/cohorts/{group.cohort.id}"'
    auth.login(group.trainer.email)
    with clock.frozen_at(NOW):
        assert target in client.get("/dashboard/trainer").get_data(as_text=True)
    auth.logout()
    AuthActions(client).login(group.coordinator.email)
    assert target in client.get(f"/cohorts/{group.cohort.id}").get_data(as_text=True)


# --- the figures in the progress read model, on the dashboards and in the reports ----------------


def three_days(group: Group) -> None:
    """Anna always there (late once), Bram sick once, Cor absent without leave once."""
    unauthorised = Mark(AttendanceStatus.ABSENT, AbsenceReason.UNAUTHORISED)
    record(group, TUESDAYS[0], everyone(group, Anna=LATE))
    record(group, TUESDAYS[1], everyone(group, Bram=SICK))
    record(group, TUESDAYS[2], everyone(group, Cor=unauthorised))


def test_recording_rewrites_the_progress_figures_and_training_hours(db, group) -> None:
    anna, bram, cor = group.enrolments
    three_days(group)
    db.session.commit()
    found = progress.enrolment_progress(group.enrolments, TODAY)
    assert [
        (found[e.id].attendance.recorded, found[e.id].attendance.attended) for e in group.enrolments
    ] == [(3, 3), (3, 2), (3, 2)]
    # Each attended day counts the programme's hours of a training day toward its target.
    programme = group.cohort.programme
    bram_figures = found[bram.id].attendance
    assert bram_figures.hours == 2 * programme.training_day_hours
    assert bram_figures.target == programme.training_hours_target
    assert (bram_figures.percent, found[anna.id].attendance.percent) == (67, 100)
    totals = progress.cohort_totals([group.cohort.id])[group.cohort.id]
    assert (totals.attendance_recorded, totals.attendance_attended) == (9, 7)

    # Recording a day again changes the figures of whom it changed.
    record(group, TUESDAYS[1], everyone(group))
    db.session.commit()
    again = progress.enrolment_progress(group.enrolments, TODAY)
    assert again[bram.id].attendance.attended == 3
    assert again[cor.id].attendance.attended == 2
    assert progress.verify_summaries().ok


def test_nothing_recorded_is_no_figure_rather_than_zero(db, group) -> None:
    found = progress.enrolment_progress(group.enrolments[:1], TODAY)[group.enrolments[0].id]
    assert found.attendance.percent is None
    assert (found.attendance.hours, found.attendance.hours_percent) == (0, 0)


def test_the_participants_home_shows_attendance_and_training_hours(auth, client, db, group) -> None:
    three_days(group)
    db.session.commit()
    auth.login(group.participants[1].email)  # Bram
    with clock.frozen_at(NOW):
        page = client.get("/dashboard/participant").get_data(as_text=True)
    text = text_of_html(page)
    assert "Aanwezig op 2 van 3 trainingsdagen (67%). Mijn aanwezigheid" in text
    assert '<a href="/attendance/">Mijn aanwezigheid</a>' in page
    assert "12 van 200 trainingsuren bij de trainer" in text


def test_the_employer_and_the_trainer_see_the_percentage_per_participant(
    auth, client, db, group
) -> None:
    three_days(group)
    db.session.commit()
    auth.login(group.contact.email)
    with clock.frozen_at(NOW):
        employer = text_of(client.get("/dashboard/employer"))
    assert "Trainingsdagen: 67% aanwezig (12 van 200 trainingsuren)" in employer
    assert "Trainingsdagen: 100% aanwezig (18 van 200 trainingsuren)" in employer
    auth.logout()
    auth.login(group.trainer.email)
    with clock.frozen_at(NOW):
        trainer = client.get("/dashboard/trainer").get_data(as_text=True)
    table = trainer[trainer.index("<tbody>") :]
    bram_row = table[table.index("Bram Bos") : table.index("Cor Claessens")]
    assert f'href="/attendance/enrolments/{group.enrolments[1].id}">67% aanwezig</a>' in bram_row
    with clock.frozen_at(NOW):
        overview = text_of(client.get(f"/assessment/participants/{group.enrolments[1].id}"))
    assert "Aanwezig op 2 van 3 trainingsdagen (67%)." in overview


def test_the_coordinator_sees_attendance_per_region_and_cohort(auth, client, db, group) -> None:
    three_days(group)
    db.session.commit()
    auth.login(group.coordinator.email)
    with clock.frozen_at(NOW):
        page = client.get("/dashboard/coordinator").get_data(as_text=True)
    assert "Aanwezigheid op de trainingsdagen: 78%" in text_of_html(page)  # 7 of 9
    assert ">78%</td>" in table_row(page, "Parkstad 2026-2027")
    # A cohort without anything recorded shows no figure.
    assert '<span class="muted">–</span>' in table_row(page, "Sittard 2026-2027")


def table_row(page: str, name: str) -> str:
    """The table row (in a tbody, not a chart) whose cell links ``name``."""
    start = page.index(f">{name}</a>", page.index("<tbody>"))
    return page[start : page.index("</tr>", start)]


def test_the_progress_report_states_attendance_and_training_hours(auth, client, db, group) -> None:
    three_days(group)
    db.session.commit()
    auth.login(group.trainer.email)
    with clock.frozen_at(NOW):
        response = client.get(
            f"/certificates/enrolment/{group.enrolments[2].id}/progress-report.pdf"
        )
    assert response.mimetype == "application/pdf"
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.data)).pages
    )
    assert (
        "67% aanwezig: 2 van 3 geregistreerde trainingsdagen, 0 keer te laat; afwezig 0 ziek,"
        " 0 geoorloofd, 1 ongeoorloofd." in text
    )
    assert "Trainingsuren (bijgewoonde trainingsdagen) 12 200" in text


# --- the demo and the migration -------------------------------------------------------------------


def test_the_demo_records_plausible_attendance_before_its_today(db) -> None:
    from lms.demo import load_demo_data

    today = date(2026, 10, 9)  # a Friday in week 5
    assert load_demo_data(today=today) is True
    cohorts = db.session.scalars(sa.select(Cohort).where(Cohort.closed_at.is_(None))).all()
    this_years = {c.name: c for c in cohorts if c.start_date.year == 2026}
    assert sorted(c.training_weekdays for c in this_years.values()) == [(TUESDAY,), (THURSDAY,)]
    found = sessions(db)
    assert found and all(session.held_on < today for session in found)
    assert all(session.recorded_at.astimezone(clock.LOCAL_TZ).date() < today for session in found)
    for cohort in this_years.values():
        days = attendance.training_dates(cohort, today - timedelta(days=1))
        held = sorted(s.held_on for s in found if s.cohort_id == cohort.id)
        assert held == days[:-1]  # this week's training day is still to record
    statuses = [(r.status, r.reason) for r in records(db)]
    assert len(statuses) == 12 * len(found)
    present = statuses.count((AttendanceStatus.PRESENT, None))
    assert present > 0.7 * len(statuses)
    assert (AttendanceStatus.LATE, None) in statuses
    assert {reason for status, reason in statuses if status is AttendanceStatus.ABSENT} - {None}


def test_the_migration_gives_existing_cohorts_the_weekday_of_their_start(
    database_url, tmp_path
) -> None:
    from lms import create_app
    from tests.conftest import make_config

    if not database_url.startswith("sqlite"):
        pytest.skip("the migrations themselves are tested on both in tests/test_migrations.py")
    url = f"sqlite:///{tmp_path / 'before.sqlite3'}"
    migrated = create_app(make_config(url, tmp_path / "evidence"))
    runner = migrated.test_cli_runner()  # no application context of the test database around
    assert runner.invoke(args=["db", "upgrade", "5f83ef526a87"]).exit_code == 0
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO programmes (id, code, version, title, level, description, start_month,"
                " duration_weeks, bpv_hours_target, levels, source_file, content_hash, loaded_at)"
                " VALUES (1, 'T', 1, 'T', 2, '', 9, 40, 610, '[]', '', 'x', '2026-01-01')"
            )
        )
        for number, start in enumerate(["2026-09-07", "2026-09-09", "2026-09-12"], start=1):
            connection.execute(
                sa.text(
                    "INSERT INTO cohorts (id, name, region, programme_id, start_date, end_date,"
                    " teaching_weeks, capacity, created_at) VALUES (:id, :name, 'parkstad', 1,"
                    " :start, '2027-06-30', '', 12, '2026-01-01')"
                ),
                {"id": number, "name": f"C{number}", "start": start},
            )
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with engine.connect() as connection:
        days = connection.execute(sa.text("SELECT id, training_days FROM cohorts ORDER BY id"))
        # Monday, Wednesday, and a Saturday start: Monday.
        assert days.all() == [(1, 1), (2, 4), (3, 1)]
    engine.dispose()
