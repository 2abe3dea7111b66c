"""Demo progress reviews and workplace hours, so the dashboards show something real: every participant's
hours week by week (the last two weeks still waiting for the employer), and a progress review for the
first participants of each cohort once the cohort has run for six weeks (the newest not yet read by
everyone). Everything is dated before ``today``; rows are made directly, without mail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from lms.extensions import db
from lms.models import HoursStatus, ProgressReview, WorkplaceHours

if TYPE_CHECKING:
    from lms.demo import DemoCohort

REVIEW_SUMMARIES = [
    (
        "Goed gesprek op de werkplek. Het werk gaat steeds zelfstandiger; meten met de schuifmaat "
        "gaat nog langzaam.",
        "Elke dag vijf metingen oefenen en noteren. Volgende keer de micrometer erbij.",
    ),
    (
        "De deelnemer loopt wat achter met het inleveren van opdrachten. Op het werk gaat het goed.",
        "Deze week de openstaande opdracht inleveren. De praktijkopleider plant er tijd voor in.",
    ),
]
WAITING_WEEKS = 2  # the newest weeks still wait for the employer's approval


def create_reviews_and_hours(cohorts: Sequence[DemoCohort], today: date) -> None:
    from lms.demo import local_moment

    for demo in cohorts:
        cohort = demo.cohort
        trainer = demo.trainers[0]
        weeks = [
            cohort.start_date + timedelta(weeks=n)
            for n in range(cohort.programme.duration_weeks)
            if cohort.start_date + timedelta(weeks=n, days=4) < today
        ]
        for number, enrolment in demo.enrolments:
            contact = enrolment.employer.contacts[0]
            for index, week in enumerate(weeks):
                logged = local_moment(week + timedelta(days=4), 16)
                waiting = index >= len(weeks) - WAITING_WEEKS
                approved_on = week + timedelta(days=7)
                if not waiting and approved_on >= today:
                    waiting = True
                worked = 32.0 if (number + index) % 4 else 28.5
                db.session.add(
                    WorkplaceHours(
                        enrolment=enrolment,
                        week_start=week,
                        hours_worked=worked,
                        hours_learning=4.0 + (number + index) % 3,
                        note="",
                        status=HoursStatus.SUBMITTED if waiting else HoursStatus.APPROVED,
                        created_at=logged,
                        updated_at=logged,
                        approved_by=None if waiting else contact,
                        approved_at=None if waiting else local_moment(approved_on, 9),
                    )
                )
            if number > len(REVIEW_SUMMARIES) or len(weeks) < 6:
                continue
            held_on = weeks[-1] + timedelta(days=1)  # the Tuesday of the last full week
            summary, agreements = REVIEW_SUMMARIES[number - 1]
            review = ProgressReview(
                enrolment=enrolment,
                trainer=trainer,
                held_on=held_on,
                summary=summary,
                agreements=agreements,
                created_at=local_moment(held_on, 15),
            )
            if number == 1:  # the first one is read by both; the second waits for them
                review.participant_acknowledged_at = local_moment(held_on + timedelta(days=1), 19)
                review.employer_acknowledged_at = local_moment(held_on + timedelta(days=1), 8)
                review.employer_acknowledged_by = contact
            db.session.add(review)
    db.session.flush()
