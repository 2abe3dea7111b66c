"""Workplace (BPV) hours: the participant logs a week, a contact of the employer approves it or sends
it back with a remark; approved hours count toward the programme's target (see
``progress.hours_progress``). Functions flush, never commit."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from lms import clock
from lms.dates import short_date
from lms.extensions import db
from lms.models import (
    ActionLink,
    Enrolment,
    EnrolmentStatus,
    HoursStatus,
    InvalidTransition,
    LinkAction,
    Role,
    User,
    WorkplaceHours,
)
from lms.models.hours import MAX_HOURS_PER_WEEK
from lms.permissions import visible_enrolments
from lms.services import action_links, audit, notifications, progress


class HoursError(ValueError):
    """Hours the rules refuse; the message says why."""


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_label(entry: WorkplaceHours) -> str:
    """ "Week 12 (15–19 mrt 2027)": the week of the participant's programme and its working days, so a
    contact approving several weeks knows which one a message is about."""
    number = (entry.week_start - monday_of(entry.enrolment.cohort.start_date)).days // 7 + 1
    friday = entry.week_start + timedelta(days=4)
    # The interface's one date format ("16–20 mrt 2027"); the Monday alone when both are in one month.
    if entry.week_start.month == friday.month:
        days = f"{entry.week_start.day}–{short_date(friday)}"
    else:
        days = f"{short_date(entry.week_start)} – {short_date(friday)}"
    return _("Week %(number)d (%(days)s)", number=number, days=days)


def find_week(enrolment: Enrolment, week_start: date) -> WorkplaceHours | None:
    return db.session.scalar(
        sa.select(WorkplaceHours).where(
            WorkplaceHours.enrolment_id == enrolment.id, WorkplaceHours.week_start == week_start
        )
    )


def log_hours(
    enrolment: Enrolment,
    *,
    actor: User,
    week_start: date,
    hours_worked: float,
    hours_learning: float,
    note: str,
    today: date,
) -> WorkplaceHours:
    """Log (or correct, while not approved) the hours of one week; the employer's contacts get a
    link to approve them."""
    if actor.role is not Role.PARTICIPANT or enrolment.participant_id != actor.id:
        raise HoursError(_("Only the participant logs their own hours."))
    if enrolment.status is not EnrolmentStatus.ACTIVE:
        raise HoursError(_("Hours can only be logged while you are enrolled."))
    week_start = monday_of(week_start)
    if week_start > today:
        raise HoursError(
            _("You can log hours for this week or an earlier week, not for a later one.")
        )
    cohort = enrolment.cohort
    if week_start < monday_of(max(cohort.start_date, enrolment.enrolled_on)):
        raise HoursError(_("This week is before the start of your programme."))
    if week_start > cohort.end_date:
        raise HoursError(_("This week is after the end of your programme."))
    if not 0 <= hours_worked <= MAX_HOURS_PER_WEEK:
        raise HoursError(_("Hours worked must be between 0 and %(max)d.", max=MAX_HOURS_PER_WEEK))
    if not 0 <= hours_learning <= hours_worked:
        raise HoursError(_("Learning hours are part of the hours worked: they cannot be more."))
    entry = db.session.scalar(
        sa.select(WorkplaceHours)
        .where(WorkplaceHours.enrolment_id == enrolment.id, WorkplaceHours.week_start == week_start)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if entry is None:
        entry = WorkplaceHours(enrolment=enrolment, week_start=week_start)
        db.session.add(entry)
        action = "hours.log"
    else:
        try:
            entry.resubmit()
        except InvalidTransition as error:
            raise HoursError(
                _("These hours are already approved and cannot be changed any more.")
            ) from error
        action = "hours.correct"
        # Corrected hours answer the contact's "sent back": that notification is done with.
        notifications.handled(
            notifications.hours_subject(entry.id),
            {notifications.HOURS_RETURNED},
            at=clock.now(),
            user=actor,
        )
    entry.hours_worked = round(hours_worked, 1)
    entry.hours_learning = round(hours_learning, 1)
    entry.note = note.strip()
    db.session.flush()
    audit.record(
        action,
        actor,
        entry,
        week=week_start.isoformat(),
        worked=entry.hours_worked,
        learning=entry.hours_learning,
    )
    action_links.send_links(
        enrolment.employer_id,
        LinkAction.APPROVE_HOURS,
        entry.id,
        entry=entry,
        participant=enrolment.participant,
    )
    progress.refresh_summaries([enrolment])
    return entry


def may_decide(user: User, entry: WorkplaceHours) -> bool:
    return (
        user.role is Role.EMPLOYER
        and user.employer_id is not None
        and user.employer_id == entry.enrolment.employer_id
    )


def _locked(entry: WorkplaceHours) -> WorkplaceHours:
    return db.session.scalar(
        sa.select(WorkplaceHours)
        .where(WorkplaceHours.id == entry.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def approve_hours(
    entry: WorkplaceHours,
    *,
    actor: User,
    at: datetime,
    remark: str = "",
    link: ActionLink | None = None,
) -> WorkplaceHours:
    entry = _locked(entry)
    if not may_decide(actor, entry):
        raise HoursError(_("Only a contact of the participant's employer can approve these hours."))
    try:
        entry.approve(actor, at, remark.strip())
    except InvalidTransition as error:
        raise HoursError(_("These hours are not waiting for approval any more.")) from error
    db.session.flush()
    details = {"week": entry.week_start.isoformat(), "worked": entry.hours_worked}
    if link is not None:
        details.update(via="mail_link", link=link.id)
    audit.record("hours.approve", actor, entry, **details)
    progress.refresh_summaries([entry.enrolment_id])
    return entry


def approve_weeks(
    entries: list[WorkplaceHours], *, actor: User, at: datetime
) -> list[WorkplaceHours]:
    """Approve several weeks in one go (one transaction: the caller commits all or nothing). A week
    already approved counts as done, so a repeat succeeds; any other refusal names its week."""
    approved = []
    # One order for the row locks, so two requests for overlapping weeks cannot deadlock.
    for entry in sorted(entries, key=lambda entry: entry.id):
        try:
            approved.append(approve_hours(entry, actor=actor, at=at))
        except HoursError as error:
            locked = _locked(entry)
            if locked.is_approved and may_decide(actor, locked):
                approved.append(locked)  # approved meanwhile (a colleague, another click)
                continue
            raise HoursError(
                _("%(week)s: %(problem)s", week=week_label(locked), problem=error)
            ) from error
    return approved


def send_back_hours(
    entry: WorkplaceHours,
    *,
    actor: User,
    remark: str,
    link: ActionLink | None = None,
) -> WorkplaceHours:
    entry = _locked(entry)
    if not may_decide(actor, entry):
        raise HoursError(_("Only a contact of the participant's employer can check these hours."))
    if not remark.strip():
        raise HoursError(_("Say what is wrong, so the participant can correct it."))
    try:
        entry.send_back(remark.strip())
    except InvalidTransition as error:
        raise HoursError(_("These hours are not waiting for approval any more.")) from error
    db.session.flush()
    details = {"week": entry.week_start.isoformat()}
    if link is not None:
        details.update(via="mail_link", link=link.id)
    audit.record("hours.send_back", actor, entry, **details)
    notifications.notify(
        entry.enrolment.participant,
        notifications.HOURS_RETURNED,
        {"week": entry.week_start.isoformat()},
        "/hours/",
        subjects=[notifications.hours_subject(entry.id)],
    )
    progress.refresh_summaries([entry.enrolment_id])
    return entry


def visible_hours(user: User) -> sa.Select[tuple[WorkplaceHours]]:
    enrolment_ids = visible_enrolments(user).with_only_columns(Enrolment.id)
    return sa.select(WorkplaceHours).where(WorkplaceHours.enrolment_id.in_(enrolment_ids))


def awaiting_approval_query(contact: User) -> sa.Select[tuple[WorkplaceHours]]:
    if contact.role is not Role.EMPLOYER:
        return sa.select(WorkplaceHours).where(sa.false())
    return (
        visible_hours(contact)
        .where(WorkplaceHours.status == HoursStatus.SUBMITTED)
        .order_by(WorkplaceHours.week_start, WorkplaceHours.id)
    )
