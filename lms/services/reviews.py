"""Progress reviews (voortgangsgesprekken): recorded by a trainer of the cohort, then acknowledged by
the participant and by a contact of the employer (in the app or through a mailed link).
Functions flush, never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager, joinedload

from lms.extensions import db
from lms.models import (
    ActionLink,
    Cohort,
    CohortTrainer,
    Enrolment,
    EnrolmentStatus,
    LinkAction,
    ProgressReview,
    Role,
    User,
)
from lms.permissions import is_trainer_of, visible_enrolments
from lms.services import action_links, audit, notifications

REVIEW_INTERVAL = timedelta(weeks=12)  # a review is due when none was held in the last twelve weeks
UPCOMING_WITHIN = timedelta(weeks=3)
REVIEW_RECORDED = notifications.REVIEW_RECORDED


class ReviewError(ValueError):
    """A review the rules refuse; the message says why."""


def may_record(user: User, enrolment: Enrolment) -> bool:
    return (
        user.role is Role.TRAINER
        and enrolment.status is EnrolmentStatus.ACTIVE
        and is_trainer_of(user, enrolment.cohort)
    )


def record_review(
    enrolment: Enrolment,
    *,
    actor: User,
    held_on: date,
    summary: str,
    agreements: str,
    today: date,
) -> ProgressReview:
    if not may_record(actor, enrolment):
        raise ReviewError(
            _("Only a trainer of this cohort can record a review of this participant.")
        )
    if held_on > today:
        raise ReviewError(
            _("A review is recorded after it took place: the date cannot be in the future.")
        )
    if held_on < enrolment.enrolled_on:
        raise ReviewError(_("The date is before the participant was enrolled."))
    if not summary.strip():
        raise ReviewError(_("Write a short summary of the conversation."))
    review = ProgressReview(
        enrolment=enrolment,
        trainer=actor,
        held_on=held_on,
        summary=summary.strip(),
        agreements=agreements.strip(),
    )
    db.session.add(review)
    db.session.flush()
    audit.record(
        "review.record", actor, review, enrolment=enrolment.id, held_on=held_on.isoformat()
    )
    notifications.notify(
        enrolment.participant,
        REVIEW_RECORDED,
        {"trainer": actor.full_name, "date": held_on.isoformat()},
        f"/reviews/{review.id}",
        subjects=[notifications.review_subject(review.id)],
    )
    action_links.send_links(
        enrolment.employer_id,
        LinkAction.ACKNOWLEDGE_REVIEW,
        review.id,
        review=review,
        participant=enrolment.participant,
    )
    return review


def may_acknowledge(user: User, review: ProgressReview) -> bool:
    enrolment = review.enrolment
    if user.role is Role.PARTICIPANT:
        return enrolment.participant_id == user.id
    if user.role is Role.EMPLOYER:
        return user.employer_id is not None and user.employer_id == enrolment.employer_id
    return False


def acknowledge(
    review: ProgressReview, *, actor: User, at: datetime, link: ActionLink | None = None
) -> bool:
    """The participant or an employer contact has read the review. False if it was already
    acknowledged on their side (nothing changes)."""
    review = db.session.scalar(
        sa.select(ProgressReview)
        .where(ProgressReview.id == review.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if not may_acknowledge(actor, review):
        raise ReviewError(_("You cannot acknowledge this review."))
    if actor.role is Role.PARTICIPANT:
        if review.participant_acknowledged_at is not None:
            return False
        review.participant_acknowledged_at = at
    else:
        if review.employer_acknowledged_at is not None:
            return False
        review.employer_acknowledged_at = at
        review.employer_acknowledged_by = actor
    db.session.flush()
    details = {"side": actor.role.value}
    if link is not None:
        details.update(via="mail_link", link=link.id)
    audit.record("review.acknowledge", actor, review, **details)
    notifications.handled(
        notifications.review_subject(review.id),
        {notifications.REVIEW_RECORDED},
        at=at,
        user=actor,
    )
    return True


def visible_reviews(user: User) -> sa.Select[tuple[ProgressReview]]:
    enrolment_ids = visible_enrolments(user).with_only_columns(Enrolment.id)
    return sa.select(ProgressReview).where(ProgressReview.enrolment_id.in_(enrolment_ids))


def to_acknowledge_query(user: User) -> sa.Select[tuple[ProgressReview]]:
    """Reviews waiting for this participant's or employer contact's acknowledgement, oldest first."""
    query = visible_reviews(user)
    if user.role is Role.PARTICIPANT:
        query = query.where(ProgressReview.participant_acknowledged_at.is_(None))
    elif user.role is Role.EMPLOYER:
        query = query.where(ProgressReview.employer_acknowledged_at.is_(None))
    else:
        query = query.where(sa.false())
    return query.order_by(ProgressReview.held_on, ProgressReview.id)


@dataclass(frozen=True)
class ReviewDue:
    enrolment: Enrolment
    last_held_on: date | None
    due_on: date

    def overdue(self, today: date) -> bool:
        return self.due_on < today


def reviews_due(trainer: User, today: date) -> list[ReviewDue]:
    """Active participants in the trainer's cohorts whose next review is due within
    ``UPCOMING_WITHIN`` (or already overdue), soonest first. Two queries.

    The next review is due twelve weeks after the last one, or after the start of the cohort (or the
    enrolment, if later) when there was none yet."""
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .join(CohortTrainer, CohortTrainer.cohort_id == Enrolment.cohort_id)
        .join(Enrolment.cohort)
        .where(
            CohortTrainer.trainer_id == trainer.id,
            Enrolment.status == EnrolmentStatus.ACTIVE,
            Cohort.closed_at.is_(None),
        )
        .options(joinedload(Enrolment.participant), joinedload(Enrolment.cohort))
    ).all()
    return due_reviews(enrolments, today)


def due_reviews(enrolments: Sequence[Enrolment], today: date) -> list[ReviewDue]:
    """``reviews_due`` for enrolments a page already loaded (with participant and cohort): one
    query."""
    last = last_review_dates([e.id for e in enrolments])
    result = []
    for enrolment in enrolments:
        held = last.get(enrolment.id)
        base = held or max(enrolment.cohort.start_date, enrolment.enrolled_on)
        due_on = base + REVIEW_INTERVAL
        if due_on <= today + UPCOMING_WITHIN:
            result.append(ReviewDue(enrolment, held, due_on))
    return sorted(result, key=lambda r: (r.due_on, r.enrolment.participant.sort_key))


def first_reviews_due(
    enrolments: sa.ColumnElement[bool], today: date, limit: int
) -> tuple[list[ReviewDue], int]:
    """The same rule as ``due_reviews`` in SQL, for more enrolments than a page loads: the first
    ``limit`` reviews due among the active enrolments meeting the condition ``enrolments``, soonest
    first, and how many are due in all. One statement."""
    last_held = (
        sa.select(sa.func.max(ProgressReview.held_on))
        .where(ProgressReview.enrolment_id == Enrolment.id)
        .correlate(Enrolment)
        .scalar_subquery()
    )
    started = sa.case(
        (Cohort.start_date > Enrolment.enrolled_on, Cohort.start_date), else_=Enrolment.enrolled_on
    )
    # Due on base + REVIEW_INTERVAL, shown from UPCOMING_WITHIN before: compare the base with a date.
    shown_from = today + UPCOMING_WITHIN - REVIEW_INTERVAL
    base = sa.func.coalesce(last_held, started)
    rows = db.session.execute(
        sa.select(Enrolment, last_held.label("last_held"), sa.func.count().over().label("due"))
        .join(Enrolment.cohort)
        .join(Enrolment.participant)
        .where(enrolments, Enrolment.status == EnrolmentStatus.ACTIVE, base <= shown_from)
        .order_by(base, User.sort_key, Enrolment.id)
        .limit(limit)
        .options(contains_eager(Enrolment.participant), contains_eager(Enrolment.cohort))
    ).all()
    due = [
        ReviewDue(
            row.Enrolment,
            row.last_held,
            (row.last_held or max(row.Enrolment.cohort.start_date, row.Enrolment.enrolled_on))
            + REVIEW_INTERVAL,
        )
        for row in rows
    ]
    return due, (rows[0].due if rows else 0)


def last_review_dates(enrolment_ids: list[int]) -> dict[int, date]:
    if not enrolment_ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(ProgressReview.enrolment_id, sa.func.max(ProgressReview.held_on))
            .where(ProgressReview.enrolment_id.in_(enrolment_ids))
            .group_by(ProgressReview.enrolment_id)
        ).all()
    )
