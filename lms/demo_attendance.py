"""Demo attendance on the training days: every training day of each demo cohort before ``today`` is
recorded by its first trainer, except the most recent one when it was this week (the trainer still has
it to do). Mostly present, some late, a few absent with their reason; the same marks for the same day
whichever later ``today`` the demo is made for. Rows are made directly, dated before ``today``."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from lms.extensions import db
from lms.models import AbsenceReason, AttendanceRecord, AttendanceSession, AttendanceStatus
from lms.services.attendance import training_dates

if TYPE_CHECKING:
    from lms.demo import DemoCohort

# Participant numbers (lms.demo.PARTICIPANTS) who miss more than the others.
OFTEN_ABSENT = {4, 17}
NOTES = {
    AbsenceReason.SICK: (
        "Griep, ziek gemeld door de deelnemer.",
        "Ziek gemeld bij de werkgever.",
        "",
    ),
    AbsenceReason.AUTHORISED: ("Tandarts.", "Afspraak bij de gemeente.", "Begrafenis familielid."),
    AbsenceReason.UNAUTHORISED: ("Niet gekomen, niet afgemeld.", ""),
}
LATE_NOTES = ("Bus te laat.", "Kwart over negen binnen.", "")


def _mark(number: int, day: date) -> tuple[AttendanceStatus, AbsenceReason | None, str]:
    rng = random.Random(f"attendance-{number}-{day.isoformat()}")  # nosec B311 - demo data
    roll = rng.random()
    present_below = 0.72 if number in OFTEN_ABSENT else 0.88
    if roll < present_below:
        return AttendanceStatus.PRESENT, None, ""
    if roll < present_below + 0.06:
        return AttendanceStatus.LATE, None, rng.choice(LATE_NOTES)
    reason = rng.choice(
        [
            AbsenceReason.SICK,
            AbsenceReason.SICK,
            AbsenceReason.AUTHORISED,
            AbsenceReason.UNAUTHORISED,
        ]
    )
    return AttendanceStatus.ABSENT, reason, rng.choice(NOTES[reason])


def create_attendance(cohorts: Sequence[DemoCohort], today: date) -> None:
    from lms.demo import local_moment

    this_monday = today - timedelta(days=today.weekday())
    for demo in cohorts:
        cohort = demo.cohort
        days = training_dates(cohort, today - timedelta(days=1))
        if days and days[-1] >= this_monday:
            days = days[:-1]  # this week's training day: still to record
        for day in days:
            session = AttendanceSession(
                cohort=cohort,
                held_on=day,
                recorded_by=demo.trainers[0],
                recorded_at=local_moment(day, 16, 30),
            )
            for number, enrolment in demo.enrolments:
                status, reason, note = _mark(number, day)
                session.records.append(
                    AttendanceRecord(enrolment=enrolment, status=status, reason=reason, note=note)
                )
            db.session.add(session)
    db.session.flush()
