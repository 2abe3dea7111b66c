"""The attendance reminders (issue 20, part 5): three unauthorised absences within four weeks, and a
training day whose attendance is not recorded two working days later; each once, with an injected
clock, through the reminder sweep of lms/services/reminders.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.extensions import db as _db
from lms.models import (
    AbsenceReason,
    AttendanceStatus,
    Cohort,
    Enrolment,
    EnrolmentStatus,
    MailPreference,
    OutboxMessage,
    ProgressSummary,
    Role,
    TrainingDayMove,
    User,
)
from lms.models.cohorts import format_weeks, weekday_bits
from lms.services import attendance, reminders
from lms.services.attendance import Mark
from lms.services.reminders import (
    ATTENDANCE_UNRECORDED,
    UNAUTHORISED_ABSENCES,
    absence_occurrences,
    sweep,
)
from tests.factories import (
    make_attendance_recorded,
    make_cohort,
    make_employer,
    make_enrolment,
    make_programme,
    make_user,
)
from tests.test_reminders import at, notes, run

START = date(2026, 9, 7)  # a Monday; the group trains on Tuesdays
TUESDAY, FRIDAY = 1, 4
TUESDAYS = [START + timedelta(days=1, weeks=n) for n in range(12)]  # 8 September ... 24 November
PRESENT = Mark(AttendanceStatus.PRESENT)
UNAUTHORISED = Mark(AttendanceStatus.ABSENT, AbsenceReason.UNAUTHORISED, note="Niet gekomen.")
SICK = Mark(AttendanceStatus.ABSENT, AbsenceReason.SICK)
AUTHORISED = Mark(AttendanceStatus.ABSENT, AbsenceReason.AUTHORISED)


@dataclass
class Group:
    cohort: Cohort
    trainer: User
    coordinator: User
    contact: User  # the praktijkopleider of Anna and Cor
    other_contact: User  # Bram's company's
    other_trainer: User  # of another cohort
    inactive: list[User]  # a trainer of the cohort, a coordinator and a contact, all deactivated
    anna: Enrolment
    bram: Enrolment
    cor: Enrolment

    @property
    def enrolments(self) -> list[Enrolment]:
        return [self.anna, self.bram, self.cor]

    @property
    def staff(self) -> list[User]:
        return [self.trainer, self.coordinator]


@pytest.fixture
def group(db) -> Group:  # type: ignore[no-untyped-def]
    trainer = make_user(Role.TRAINER, first_name="Ingrid", last_name="Vaessen")
    gone_trainer = make_user(Role.TRAINER, active=False)
    other_trainer = make_user(Role.TRAINER, first_name="Olaf")
    programme = make_programme()
    tuesdays = weekday_bits([TUESDAY])
    cohort = make_cohort(
        programme,
        name="Parkstad 2026-2027",
        start=START,
        trainers=[trainer, gone_trainer],
        training_days=tuesdays,
    )
    company, other_company = make_employer(name="Kerkrade Precisie"), make_employer(name="Anders")
    contact = make_user(Role.EMPLOYER, employer=company, first_name="Els")
    gone_contact = make_user(Role.EMPLOYER, employer=company, active=False)
    other_contact = make_user(Role.EMPLOYER, employer=other_company, first_name="Olga")
    anna, bram, cor = (
        make_enrolment(cohort, make_user(Role.PARTICIPANT, first_name=first), employer)
        for first, employer in (("Anna", company), ("Bram", other_company), ("Cor", company))
    )
    # Another cohort, whose trainer records every day: its trainer hears of nothing here.
    other = make_cohort(
        programme,
        name="Sittard 2026-2027",
        start=START,
        trainers=[other_trainer],
        training_days=tuesdays,
    )
    make_enrolment(other, make_user(Role.PARTICIPANT), company)
    make_attendance_recorded(other)
    coordinator = make_user(Role.COORDINATOR, first_name="Carla")
    gone_coordinator = make_user(Role.COORDINATOR, active=False)
    db.session.commit()
    return Group(
        cohort,
        trainer,
        coordinator,
        contact,
        other_contact,
        other_trainer,
        [gone_trainer, gone_coordinator, gone_contact],
        anna,
        bram,
        cor,
    )


def record(group: Group, day: date, *, hour: int = 16, **marks: Mark) -> None:
    """The trainer records ``day`` that day at ``hour``: everyone present but those named by first
    name (``Anna=UNAUTHORISED``)."""
    record_on(group, day, day, hour=hour, **marks)


def record_on(group: Group, day: date, on: date, *, hour: int = 16, **marks: Mark) -> None:
    """As ``record``, on the day ``on`` (later: recorded late, or recorded again)."""
    chosen = {e.id: marks.get(e.participant.first_name, PRESENT) for e in group.enrolments}
    with clock.frozen_at(at(on, hour)):
        attendance.record_attendance(
            group.cohort, day, chosen, actor=group.trainer, at=clock.now(), today=on
        )
    _db.session.commit()


def mails(user: User, subject: str) -> list[OutboxMessage]:
    return list(
        _db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.recipient == user.email, OutboxMessage.subject == subject)
            .order_by(OutboxMessage.id)
        )
    )


def opens(auth, client, user: User, link: str, moment: datetime) -> bool:  # type: ignore[no-untyped-def]
    """Whether ``user`` gets the page ``link`` leads to."""
    with clock.frozen_at(moment):
        auth.login(user.email)
        status = client.get(link).status_code
        auth.logout()
    return status == 200


def everyone_but_the_staff(group: Group) -> list[User]:
    return [
        group.other_contact,
        group.other_trainer,
        *group.inactive,
        *(e.participant for e in group.enrolments),
    ]


# --- the rule for counting absences -----------------------------------------------------------


def test_an_occurrence_is_three_absences_within_28_days_each_counted_once() -> None:
    day = date(2026, 9, 8)
    week = timedelta(weeks=1)
    assert absence_occurrences([day, day + week]) == []
    assert absence_occurrences([day, day + week, day + 2 * week]) == [day + 2 * week]
    # The first and the third 27 days apart: within; 28 days apart: not.
    assert absence_occurrences([day, day + timedelta(days=13), day + timedelta(days=27)]) == [
        day + timedelta(days=27)
    ]
    assert absence_occurrences([day, day + 2 * week, day + 4 * week]) == []
    # A fourth absence in the same weeks makes no second occurrence; three more do.
    weekly = [day + n * week for n in range(7)]
    assert absence_occurrences(weekly[:4]) == [weekly[2]]
    assert absence_occurrences(weekly) == [weekly[2], weekly[5]]
    # Counting starts after the previous reminder's third absence.
    assert absence_occurrences(weekly, after=weekly[2]) == [weekly[5]]
    assert absence_occurrences(weekly[:5], after=weekly[2]) == []


# --- three unauthorised absences ---------------------------------------------------------------


def test_three_unauthorised_absences_in_four_weeks_notify_those_who_must_act_once(
    auth, client, group: Group
) -> None:  # type: ignore[no-untyped-def]
    digest_coordinator = make_user(
        Role.COORDINATOR, first_name="Dirk", mail_preference=MailPreference.WEEKLY_DIGEST
    )
    _db.session.commit()
    run(at(START))
    for day in TUESDAYS[:2]:
        record(group, day, Anna=UNAUTHORISED)
        assert run(at(day, 17)).claimed.get(UNAUTHORISED_ABSENCES) is None
    record(group, TUESDAYS[2], Anna=UNAUTHORISED)
    report = run(at(TUESDAYS[2], 17))
    recipients = [group.trainer, group.coordinator, digest_coordinator, group.contact]
    assert report.claimed[UNAUTHORISED_ABSENCES] == len(recipients)
    link = f"/attendance/enrolments/{group.anna.id}"
    for user in recipients:
        [note] = notes(user, UNAUTHORISED_ABSENCES)
        assert note.link == link
        assert opens(auth, client, user, link, at(TUESDAYS[2], 18))
        assert note.params["items"] == f"{group.anna.participant.full_name} (Parkstad 2026-2027)"
    for user in everyone_but_the_staff(group):
        assert notes(user, UNAUTHORISED_ABSENCES) == [], user
    # In Dutch, with the date of the third absence and the link; the weekly digest waits.
    [mail] = mails(group.contact, "Drie keer ongeoorloofd afwezig")
    assert "binnen vier weken drie keer ongeoorloofd afwezig" in mail.body_text
    assert "(22 sep 2026)" in mail.body_text
    assert link in mail.body_text
    assert mails(digest_coordinator, "Drie keer ongeoorloofd afwezig") == []
    [pending] = notes(digest_coordinator, UNAUTHORISED_ABSENCES)
    assert pending.digest_pending

    # The next sweep, and a fourth absence in the same weeks: nothing again.
    assert run(at(TUESDAYS[2], 18)).claimed.get(UNAUTHORISED_ABSENCES) is None
    record(group, TUESDAYS[3], Anna=UNAUTHORISED)
    assert run(at(TUESDAYS[3], 17)).claimed.get(UNAUTHORISED_ABSENCES) is None
    # Three more within four weeks (the fourth among them): a new occurrence.
    record(group, TUESDAYS[4])
    record(group, TUESDAYS[5], Anna=UNAUTHORISED)
    assert run(at(TUESDAYS[5], 17)).claimed.get(UNAUTHORISED_ABSENCES) is None
    record(group, TUESDAYS[6], Anna=UNAUTHORISED)
    assert run(at(TUESDAYS[6], 17)).claimed[UNAUTHORISED_ABSENCES] == len(recipients)
    for user in recipients:
        assert len(notes(user, UNAUTHORISED_ABSENCES)) == 2
    [_, mail] = mails(group.trainer, "Drie keer ongeoorloofd afwezig")
    assert "(20 okt 2026)" in mail.body_text
    assert notes(group.other_contact, UNAUTHORISED_ABSENCES) == []


def test_sick_and_authorised_absences_do_not_count(group: Group) -> None:
    run(at(START))
    for day, anna, bram in zip(
        TUESDAYS[:4],
        (SICK, AUTHORISED, SICK, UNAUTHORISED),
        (UNAUTHORISED, UNAUTHORISED, SICK, AUTHORISED),
        strict=True,
    ):
        record(group, day, Anna=anna, Bram=bram)
        run(at(day, 17))
    for user in (group.trainer, group.coordinator, group.contact, group.other_contact):
        assert notes(user, UNAUTHORISED_ABSENCES) == []


def test_three_absences_spread_over_more_than_four_weeks_do_not_count(group: Group) -> None:
    """8 September, 22 September and 6 October: the first and the third 28 days apart. With 13
    October, the last three lie within 21 days: reminded of on 13 October."""
    run(at(START))
    for day in TUESDAYS[:5]:
        record(group, day, Anna=UNAUTHORISED if day in TUESDAYS[0:5:2] else PRESENT)
        run(at(day, 17))
    assert notes(group.coordinator, UNAUTHORISED_ABSENCES) == []
    record(group, TUESDAYS[5], Anna=UNAUTHORISED)
    run(at(TUESDAYS[5], 17))
    [note] = notes(group.coordinator, UNAUTHORISED_ABSENCES)
    [mail] = mails(group.coordinator, "Drie keer ongeoorloofd afwezig")
    assert "(13 okt 2026)" in mail.body_text


def test_an_absence_corrected_to_unauthorised_later_counts(group: Group) -> None:
    run(at(START))
    for day in TUESDAYS[:3]:
        record(group, day, Anna=UNAUTHORISED if day != TUESDAYS[1] else SICK)
        run(at(day, 17))
    assert notes(group.trainer, UNAUTHORISED_ABSENCES) == []
    # On Wednesday the trainer hears that Anna was not sick on the 15th: recorded again.
    record_on(group, TUESDAYS[1], TUESDAYS[2] + timedelta(days=1), hour=9, Anna=UNAUTHORISED)
    run(at(TUESDAYS[2] + timedelta(days=1), 10))
    assert len(notes(group.trainer, UNAUTHORISED_ABSENCES)) == 1


def test_only_active_enrolments_and_recent_occurrences_are_reminded_of(group: Group) -> None:
    """Bram left after his three absences; Anna's three are of September and the first sweep on
    this database is in December: nobody hears of either."""
    for day in TUESDAYS[:3]:
        record(group, day, Anna=UNAUTHORISED, Bram=UNAUTHORISED)
    group.bram.status, group.bram.ended_on = EnrolmentStatus.WITHDRAWN, TUESDAYS[2]
    make_attendance_recorded(group.cohort, date(2026, 12, 1))  # the later weeks, everyone present
    _db.session.commit()
    run(at(date(2026, 12, 1)))
    for user in (group.trainer, group.coordinator, group.contact, group.other_contact):
        assert notes(user, UNAUTHORISED_ABSENCES) == []
    # The same on the day itself: Anna's are reminded of, Bram's not.
    _db.session.execute(sa.delete(reminders.ReminderSweep))
    _db.session.commit()
    run(at(TUESDAYS[2], 17))
    [note] = notes(group.coordinator, UNAUTHORISED_ABSENCES)
    assert note.params["items"].startswith("Anna")
    assert notes(group.other_contact, UNAUTHORISED_ABSENCES) == []


# --- attendance not recorded -------------------------------------------------------------------


def test_a_day_not_recorded_two_working_days_later_reminds_the_trainer_and_coordinator_once(
    auth, client, group: Group
) -> None:  # type: ignore[no-untyped-def]
    run(at(START))
    tuesday = TUESDAYS[0]
    for day in (tuesday, tuesday + timedelta(days=1)):  # the day itself and one working day later
        assert run(at(day, 17)).claimed.get(ATTENDANCE_UNRECORDED) is None
    thursday = tuesday + timedelta(days=2)
    report = run(at(thursday, 7))
    assert report.claimed[ATTENDANCE_UNRECORDED] == 2
    link = f"/attendance/cohorts/{group.cohort.id}/2026-09-08"
    for user in group.staff:
        [note] = notes(user, ATTENDANCE_UNRECORDED)
        assert note.link == link and note.params["items"] == "Parkstad 2026-2027"
        assert note.read_at is None
        assert opens(auth, client, user, link, at(thursday, 9))
    # Not the praktijkopleider (who cannot record it), nor anyone else.
    for user in [group.contact, *everyone_but_the_staff(group)]:
        assert notes(user, ATTENDANCE_UNRECORDED) == [], user
    [mail] = mails(group.trainer, "Aanwezigheid nog niet geregistreerd")
    assert "twee werkdagen later nog niet geregistreerd" in mail.body_text
    assert "(8 sep 2026)" in mail.body_text and link in mail.body_text
    assert "Naar de aanwezigheid" in mail.body_html
    # Once: not an hour later, nor the next day.
    for moment in (at(thursday, 8), at(thursday + timedelta(days=1))):
        assert run(moment).claimed.get(ATTENDANCE_UNRECORDED) is None
    # Recorded on Friday: the reminder is read, for the trainer and the coordinator.
    record_on(group, tuesday, tuesday + timedelta(days=3), hour=11)
    for user in group.staff:
        [note] = notes(user, ATTENDANCE_UNRECORDED)
        assert note.read_at is not None
    # A day recorded in time reminds of nothing.
    record(group, TUESDAYS[1])
    for day in (TUESDAYS[1] + timedelta(days=2), TUESDAYS[1] + timedelta(days=3)):
        assert run(at(day)).claimed.get(ATTENDANCE_UNRECORDED) is None
    assert len(notes(group.trainer, ATTENDANCE_UNRECORDED)) == 1


def friday_group(group: Group) -> Group:
    group.cohort.training_weekdays = [FRIDAY]
    _db.session.commit()
    return group


def test_the_weekend_is_no_working_day(group: Group) -> None:
    friday_group(group)
    friday = date(2026, 9, 11)
    run(at(friday - timedelta(days=1)))
    assert run(at(date(2026, 9, 14))).claimed.get(ATTENDANCE_UNRECORDED) is None  # Monday
    assert run(at(date(2026, 9, 15))).claimed[ATTENDANCE_UNRECORDED] == 2  # Tuesday
    [mail] = mails(group.coordinator, "Aanwezigheid nog niet geregistreerd")
    assert "(11 sep 2026)" in mail.body_text


def test_a_public_holiday_is_no_working_day(group: Group) -> None:
    """Friday 14 May 2027; Whit Monday the 17th: Tuesday is the first working day after it."""
    friday_group(group)
    friday = date(2027, 5, 14)
    make_attendance_recorded(group.cohort, friday - timedelta(days=1))
    _db.session.commit()
    run(at(friday))
    assert run(at(date(2027, 5, 18))).claimed.get(ATTENDANCE_UNRECORDED) is None
    assert run(at(date(2027, 5, 19))).claimed[ATTENDANCE_UNRECORDED] == 2
    [note] = notes(group.trainer, ATTENDANCE_UNRECORDED)
    assert note.link.endswith("/2027-05-14")


def test_nothing_in_a_holiday_week_and_what_fell_due_in_it_comes_after(group: Group) -> None:
    """The autumn holiday (19-23 October) is skipped: its Friday is no training day, and Friday 16
    October, due on the Tuesday of the holiday, is reminded of on the Monday after it."""
    friday_group(group)
    autumn = date(2026, 10, 19)
    weeks = [START + timedelta(weeks=n) for n in range(45)]
    group.cohort.teaching_weeks = format_weeks([week for week in weeks if week != autumn][:40])
    make_attendance_recorded(group.cohort, date(2026, 10, 9))
    _db.session.commit()
    run(at(date(2026, 10, 12)))
    for day in range(19, 24):
        assert run(at(date(2026, 10, day))).claimed.get(ATTENDANCE_UNRECORDED) is None
    assert run(at(date(2026, 10, 26))).claimed[ATTENDANCE_UNRECORDED] == 2
    [note] = notes(group.trainer, ATTENDANCE_UNRECORDED)
    assert note.link.endswith("/2026-10-16")
    assert run(at(date(2026, 10, 27))).claimed.get(ATTENDANCE_UNRECORDED) is None


def test_the_first_sweep_looks_back_four_weeks_only(group: Group) -> None:
    """Nothing recorded since September: the first sweep on Tuesday 1 December lists the four
    Tuesdays of November (with two working days gone), not the whole autumn."""
    record(group, TUESDAYS[0])
    run(at(date(2026, 12, 1), 9))
    [note] = notes(group.trainer, ATTENDANCE_UNRECORDED)
    assert note.link == f"/attendance/cohorts/{group.cohort.id}"  # several days: the cohort's page
    assert note.params["items"] == "Parkstad 2026-2027"
    [mail] = mails(group.trainer, "Aanwezigheid nog niet geregistreerd")
    listed = [line for line in mail.body_text.splitlines() if line.startswith("- ")]
    assert len(listed) == 4 and "(3 nov 2026)" in listed[0] and "(24 nov 2026)" in listed[-1]


def test_a_moved_training_day_is_reminded_of_on_its_new_day(group: Group) -> None:
    """The first Tuesday held on the Wednesday: due two working days after the Wednesday (Friday),
    for the Wednesday; the Tuesday itself is no training day."""
    tuesday = TUESDAYS[0]
    _db.session.add(
        TrainingDayMove(
            cohort_id=group.cohort.id,
            moved_from=tuesday,
            moved_to=tuesday + timedelta(days=1),
            reason="Vakbeurs",
        )
    )
    _db.session.commit()
    run(at(START))
    assert run(at(tuesday + timedelta(days=2))).claimed.get(ATTENDANCE_UNRECORDED) is None
    assert run(at(tuesday + timedelta(days=3))).claimed[ATTENDANCE_UNRECORDED] == 2
    [note] = notes(group.trainer, ATTENDANCE_UNRECORDED)
    assert note.link.endswith("/2026-09-09")


def test_no_reminder_for_a_cohort_without_active_participants(group: Group) -> None:
    """The group finished (or left) before its first training day: nobody to record."""
    run(at(START))
    for enrolment in group.enrolments:
        enrolment.status, enrolment.ended_on = EnrolmentStatus.COMPLETED, START
    _db.session.commit()
    assert run(at(TUESDAYS[0] + timedelta(days=2))).claimed.get(ATTENDANCE_UNRECORDED) is None


# --- cost --------------------------------------------------------------------------------------


def add_cohort(group: Group, number: int) -> None:
    """Another cohort with a participant absent without permission on the first three Tuesdays,
    nothing recorded after that."""
    trainer = make_user(Role.TRAINER)
    cohort = make_cohort(
        group.cohort.programme,
        name=f"Extra {number}",
        start=START,
        trainers=[trainer],
        training_days=weekday_bits([TUESDAY]),
    )
    enrolment = make_enrolment(cohort, make_user(Role.PARTICIPANT), make_employer())
    make_user(Role.EMPLOYER, employer=enrolment.employer)
    for day in TUESDAYS[:3]:
        with clock.frozen_at(at(day, 16)):
            attendance.record_attendance(
                cohort, day, {enrolment.id: UNAUTHORISED}, actor=trainer, at=clock.now(), today=day
            )
    _db.session.commit()


def test_the_attendance_rules_cost_the_same_few_statements_for_more_cohorts(
    group: Group, count_queries
) -> None:  # type: ignore[no-untyped-def]
    """The first sweep reads the recent sessions and records in a fixed number of statements,
    however many cohorts and absences; an hour later, with nothing recorded since, at most the four
    statements of any hourly sweep."""
    for day in TUESDAYS[:3]:
        record(group, day, Anna=UNAUTHORISED)
    thursday = TUESDAYS[3] + timedelta(days=2)  # Tuesday the 29th was not recorded

    def sweeps() -> tuple[int, int, reminders.SweepReport]:
        # Every progress summary written before the sweeps, as on a real server.
        _db.session.execute(sa.update(ProgressSummary).values(updated_at=at(START)))
        _db.session.commit()
        with count_queries() as first, clock.frozen_at(at(thursday)):
            report = sweep(clock.now())
        with count_queries() as hourly, clock.frozen_at(at(thursday, 11)):
            again = sweep(clock.now())
        _db.session.rollback()
        assert sum(again.claimed.values()) == 0
        return first.count, hourly.count, report

    few, hourly, report = sweeps()
    assert report.claimed[ATTENDANCE_UNRECORDED] == 2  # the 29th: the trainer and the coordinator
    assert report.claimed[UNAUTHORISED_ABSENCES] == 3  # Anna: trainer, coordinator, contact
    assert hourly <= 4
    add_cohort(group, 1)
    add_cohort(group, 2)
    many, hourly_many, report = sweeps()
    assert report.claimed[ATTENDANCE_UNRECORDED] == 2 + 2 * 2
    assert report.claimed[UNAUTHORISED_ABSENCES] == 3 + 2 * 3
    assert (many, hourly_many) == (few, hourly)
