"""Reminders: the rules that keep a one-year course on track, each at most once per subject and period.

``sweep(now)`` is what the scheduler runs every hour (and ``flask lms remind`` once). Every rule looks
at the programme in Europe/Amsterdam time and yields *hits*: (rule, recipient, subject, period, item).
A hit counts only when its row in ``sent_reminders`` can be inserted: the unique key
(rule, subject_key, period_key, recipient_id) with ``INSERT ... ON CONFLICT DO NOTHING`` makes the
database the judge, so a restarted scheduler, or two schedulers at the same moment, never remind twice.
The newly claimed hits are grouped per rule and recipient into one in-app notification and one mail
(a list, not a mail per item), in the recipient's language, held until working hours.

The rules (``period`` is what "once" means for each):

- ``assignment_due_soon``: an assignment due within 7 days and not handed in -> participant (once per
  assignment and due date). Urgent.
- ``assignment_overdue``: past its due date and not handed in -> participant (weekly, one list).
- ``employer_overdue``: the same for all of a company's employees, as one weekly digest -> the
  employer's contacts.
- ``assessment_waiting``: handed in more than 5 working days ago and not assessed -> a daily digest to
  the cohort's trainers (working days only).
- ``review_due``: no progress review in the last 12 weeks (counted from the last review, or from the
  enrolment) -> participant and trainers (once per due date).
- ``end_approaching``: six weeks or less before the cohort's end with assignments or checklist items
  still open -> participant, trainers and coordinators (once per enrolment). Urgent.
- ``certificate_due``: every requirement met but no certificate issued -> coordinators (weekly).
- ``inactive``: nothing done for 21 days -> participant and trainers (after 21, 42, ... days); the
  days of the weeks the cohort's programme skips (school holidays, its exceptions) do not count.
- ``unauthorised_absences``: a participant was absent without permission (reason "ongeoorloofd") on
  three training days within 28 days (the first and the third ``held_on`` at most 27 days apart) ->
  the coordinators, the enrolment's employer contacts (the praktijkopleider) and the cohort's
  trainers: the people who must talk to the participant. Once per occurrence: the participant's
  unauthorised absences are counted oldest first, each toward one reminder at most, from the one
  after the third absence of the previous reminder (read back from ``sent_reminders``); the period
  is the date of the third absence. So a fourth absence in the same weeks reminds of nothing, three
  new ones within 28 days do. Only an occurrence whose third absence is at most four weeks old is
  reminded of (a record made late, or the first sweep on a database with a year of attendance,
  brings up nothing older). Looked at when a session with an unauthorised absence was recorded or
  changed since the previous sweep; the statements read only the records of the last eight weeks.
- ``attendance_unrecorded``: a training date of a cohort (a training weekday on which its programme
  runs, between its start and end; ``lms.services.attendance``) without a recorded session on the
  second working day after it (a Tuesday's on Thursday, a Friday's on Tuesday; public holidays are no
  working days) -> the cohort's trainers and the coordinators, once per cohort and date. Not the
  praktijkopleider: only the trainer can record attendance. Only for cohorts with an active
  enrolment (enrolled on or before the date), and only the training dates of the last four weeks,
  so the first sweep on a database that kept no attendance before does not list a year of dates.
  Recording the day marks the reminder read. Looked at on the first sweep of a day.

Nothing is reminded of for a cohort in a week its programme skips (``lms.services.school_calendar``).
The first sweep of a day after such a week looks at the cohort's enrolments again with every rule, as
a first sweep does: what fell due in the holiday is reminded of then, and the keys keep what was sent
before from being sent again.

Each sweep looks only at what changed or fell due since the previous one (``reminder_sweeps`` holds the
moment of every run): the enrolments whose progress summary was rewritten since then (a write of
theirs), whose review was recorded since then, and those a date passed since then makes due (a due
date entering the 7-day window or passing, a new week, the six-week mark, 21 days of silence, twelve
weeks after the last review). The conditions are SQL on ``progress_summaries`` (``first_open_due_on``,
``last_activity_on``, ``work_complete``, ``updated_at``, ...). An hour later on the same day only the
rewritten summaries count, so the hourly sweep no longer claims every reminder key again. The first
sweep on a database (no run recorded) looks at everything, and writes its notifications and mails in
a few multi-row INSERTs. What the sweep cannot see change (a trainer newly assigned to a cohort, an
account reactivated, a new coordinator or employer contact) counts from the next change or period of
the enrolments concerned.

Non-urgent reminders go to users who chose the weekly digest (``User.mail_preference``) as
notifications only; ``weekly_digest`` mails them those of past weeks on Monday morning.

Progress, overdue work and activity come from ``lms.services.progress`` only. Functions flush, never
commit: the scheduler job or the command commits.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, g
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from lms import clock
from lms.extensions import db, insert_rows
from lms.holidays import is_working_day
from lms.models import (
    AbsenceReason,
    Assignment,
    AttendanceRecord,
    AttendanceSession,
    CalendarClosure,
    Cohort,
    CohortTrainer,
    Enrolment,
    EnrolmentStatus,
    MailPreference,
    Notification,
    ProgressReview,
    ProgressSummary,
    ReminderSweep,
    Role,
    SentReminder,
    Submission,
    SubmissionStatus,
    User,
)
from lms.services import notifications
from lms.services.mail import Mail, queue_mail, queue_mails, render_mails
from lms.services.progress import HANDED_IN, AssignmentFacts, enrolment_progress, last_activity

DUE_SOON = "assignment_due_soon"
OVERDUE = "assignment_overdue"
EMPLOYER_OVERDUE = "employer_overdue"
ASSESSMENT_WAITING = "assessment_waiting"
REVIEW_DUE = "review_due"
END_APPROACHING = "end_approaching"
CERTIFICATE_DUE = "certificate_due"
INACTIVE = "inactive"
UNAUTHORISED_ABSENCES = "unauthorised_absences"
ATTENDANCE_UNRECORDED = "attendance_unrecorded"
WEEKLY_DIGEST = "weekly_digest"

RULES = (
    DUE_SOON,
    OVERDUE,
    EMPLOYER_OVERDUE,
    ASSESSMENT_WAITING,
    REVIEW_DUE,
    END_APPROACHING,
    CERTIFICATE_DUE,
    INACTIVE,
    UNAUTHORISED_ABSENCES,
    ATTENDANCE_UNRECORDED,
)
# Mailed even to users who chose the weekly digest: waiting a week would make them useless.
URGENT = frozenset({DUE_SOON, END_APPROACHING})

DUE_SOON_DAYS = 7
ASSESSMENT_WAITING_WORKING_DAYS = 5
END_WARNING = timedelta(weeks=6)
INACTIVE_DAYS = 21
UNAUTHORISED_ABSENCES_COUNT = 3
ABSENCE_SPAN = timedelta(days=28)  # the three absences' training dates lie within 28 days
ATTENDANCE_RECORDED_WITHIN = 2  # working days after the training day
# How far back the attendance rules look: an occurrence of three absences, or a training date
# without its session, older than this is not reminded of.
ATTENDANCE_LOOKBACK = timedelta(weeks=4)
# A write's transaction may have begun (and stamped its summary) before the previous sweep and
# committed after it: look this much further back than the previous run.
CHANGE_MARGIN = timedelta(minutes=5)

# What the notification says (in the reader's language; see lms.services.notifications).
SENTENCES: dict[str, Any] = {
    DUE_SOON: _l("Due within 7 days and not handed in yet: %(items)s."),
    OVERDUE: _l("Past the due date and not handed in yet: %(items)s."),
    EMPLOYER_OVERDUE: _l("Your employees have work past its due date: %(items)s."),
    ASSESSMENT_WAITING: _l("Work waiting for assessment for more than 5 working days: %(items)s."),
    REVIEW_DUE: _l("A progress review is due (none in the last 12 weeks): %(items)s."),
    END_APPROACHING: _l(
        "The programme ends within six weeks and there is still work open: %(items)s."
    ),
    CERTIFICATE_DUE: _l("A certificate can be issued: %(items)s."),
    INACTIVE: _l("No activity for 21 days or more: %(items)s."),
    UNAUTHORISED_ABSENCES: _l(
        "Absent without permission three times within four weeks: %(items)s."
    ),
    ATTENDANCE_UNRECORDED: _l("Attendance not recorded yet: %(items)s."),
}
notifications.SENTENCES.update(SENTENCES)

# Mail subjects and the first sentence of the mail.
SUBJECTS: dict[str, Any] = {
    DUE_SOON: _l("Reminder: work due within 7 days"),
    OVERDUE: _l("Reminder: work past its due date"),
    EMPLOYER_OVERDUE: _l("Weekly overview: your employees' work past its due date"),
    ASSESSMENT_WAITING: _l("Work waiting for your assessment"),
    REVIEW_DUE: _l("A progress review is due"),
    END_APPROACHING: _l("Six weeks to go: work still open"),
    CERTIFICATE_DUE: _l("Certificates ready to issue"),
    INACTIVE: _l("No activity for three weeks"),
    UNAUTHORISED_ABSENCES: _l("Absent without permission three times"),
    ATTENDANCE_UNRECORDED: _l("Attendance not recorded yet"),
    WEEKLY_DIGEST: _l("Your weekly overview of reminders"),
}
INTROS: dict[str, Any] = {
    DUE_SOON: _l("This work is due within 7 days and you have not handed it in yet:"),
    OVERDUE: _l("This work is past its due date and you have not handed it in yet:"),
    EMPLOYER_OVERDUE: _l(
        "This is the weekly overview of your employees' work that is past its due date:"
    ),
    ASSESSMENT_WAITING: _l(
        "This work was handed in more than 5 working days ago and is waiting for your assessment:"
    ),
    REVIEW_DUE: _l(
        "There has been no progress review in the last 12 weeks. Plan one with the participant"
        " and the employer:"
    ),
    END_APPROACHING: _l(
        "The programme ends within six weeks. There are still assignments or checklist items open:"
    ),
    CERTIFICATE_DUE: _l("These participants have finished everything but have no certificate yet:"),
    INACTIVE: _l("Nothing has been done in the portfolio for 21 days or more:"),
    UNAUTHORISED_ABSENCES: _l(
        "These participants were absent without permission three times within four weeks (the date"
        " is that of the third time). Talk with the participant about it:"
    ),
    ATTENDANCE_UNRECORDED: _l(
        "The attendance of these training days has not been recorded yet, two working days later:"
    ),
    WEEKLY_DIGEST: _l("These reminders came in last week:"),
}
ACTIONS: dict[str, Any] = {
    DUE_SOON: _l("View your assignments"),
    OVERDUE: _l("View your assignments"),
    EMPLOYER_OVERDUE: _l("View your employees"),
    ASSESSMENT_WAITING: _l("Go to assessing"),
    REVIEW_DUE: _l("Open the system"),
    END_APPROACHING: _l("Open the system"),
    CERTIFICATE_DUE: _l("Open the system"),
    INACTIVE: _l("Open the system"),
    UNAUTHORISED_ABSENCES: _l("View the attendance"),
    ATTENDANCE_UNRECORDED: _l("Go to the attendance"),
    WEEKLY_DIGEST: _l("View all notifications"),
}


@dataclass(frozen=True)
class Item:
    """One line of a reminder: what it is about, an optional date, and a path on this site;
    ``group_link`` where a reminder of several such lines leads (the cohort's attendance page for
    several of its days) when they all have the same one."""

    text: str
    on: date | None = None
    link: str = ""
    group_link: str = ""


@dataclass(frozen=True)
class Hit:
    rule: str
    recipient: User
    subject_key: str
    period_key: str
    items: tuple[Item, ...] | Item  # one item or several (a week's overdue work)

    def __post_init__(self) -> None:
        if isinstance(self.items, Item):
            object.__setattr__(self, "items", (self.items,))

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.rule, self.subject_key, self.period_key, self.recipient.id)


@dataclass
class SweepReport:
    claimed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    notifications: int = 0
    mails: int = 0
    digests: int = 0
    checked: int = 0  # enrolments looked at: what changed or fell due since the previous sweep
    since: datetime | None = None  # the previous sweep's moment (None: the first, everything)

    def describe(self) -> str:
        rules = ", ".join(f"{rule} {count}" for rule, count in sorted(self.claimed.items()))
        return (
            f"reminders: {sum(self.claimed.values())} ({rules or 'none'}); "
            f"notifications {self.notifications}, mails {self.mails}, weekly digests {self.digests}; "
            f"{self.checked} enrolments looked at"
            + (f" (changed or due since {self.since.isoformat()})" if self.since else " (all)")
        )


# --- helpers ----------------------------------------------------------------------------------


def path_for(endpoint: str, **values: Any) -> str:
    """A path on this site, with or without a request (one URL adapter per application context, and
    each path built once: a sweep links to the same few pages thousands of times)."""
    paths: dict[tuple[Any, ...], str] | None = g.get("reminder_paths")
    if paths is None:
        paths = g.reminder_paths = {}
    key = (endpoint, *sorted(values.items()))
    path = paths.get(key)
    if path is None:
        if "reminder_url_adapter" not in g:
            g.reminder_url_adapter = current_app.url_map.bind("localhost")
        path = paths[key] = g.reminder_url_adapter.build(endpoint, values)
    return path


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def working_days_between(start: date, end: date) -> int:
    """Working days (Monday to Friday but public holidays) after ``start`` up to and including ``end``."""
    days = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            days += 1
    return days


def claim(hit: Hit, now: datetime) -> bool:
    """Insert the hit's row in ``sent_reminders``; False when it is already there (sent before, or by
    another process at the same moment). The unique key decides, not a read before the write."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    rule, subject_key, period_key, recipient_id = hit.key
    statement = (
        insert(SentReminder)
        .values(
            rule=rule,
            subject_key=subject_key,
            period_key=period_key,
            recipient_id=recipient_id,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(SentReminder.id)
    )
    return db.session.execute(statement).scalar() is not None


def claim_all(hits: Sequence[Hit], now: datetime) -> set[tuple[str, str, str, int]]:
    """``claim`` for many hits at once: the keys of the hits this call inserted.

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (``insert_rows``: on PostgreSQL one statement,
    elsewhere sent in multi-row batches), so a sweep over thousands of enrolments costs a statement or
    a few instead of one per reminder. The unique key still decides, as in ``claim``."""
    if not hits:
        return set()
    table = SentReminder.__table__
    rows = [
        {
            "rule": hit.rule,
            "subject_key": hit.subject_key,
            "period_key": hit.period_key,
            "recipient_id": hit.recipient.id,
            "created_at": now,
        }
        for hit in hits
    ]
    inserted = insert_rows(
        table,
        rows,
        returning=(table.c.rule, table.c.subject_key, table.c.period_key, table.c.recipient_id),
        skip_conflicts=True,
    )
    return {tuple(row) for row in inserted}  # type: ignore[misc]


def _participant_name(enrolment: Enrolment) -> str:
    return enrolment.participant.full_name


# --- what a sweep looks at ------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A sweep at ``now`` after the previous one at ``last`` (None: no sweep ran before)."""

    now: datetime
    last: datetime | None

    @property
    def today(self) -> date:
        return self.now.astimezone(clock.LOCAL_TZ).date()

    @property
    def last_day(self) -> date | None:
        return self.last.astimezone(clock.LOCAL_TZ).date() if self.last else None

    @property
    def new_day(self) -> bool:
        """The first sweep of a day: the day's dates fall due now (every rule counts in days)."""
        return self.last_day is None or self.last_day < self.today

    @property
    def new_week(self) -> bool:
        """The first sweep of an ISO week: the weekly reminders have a new period."""
        return self.last_day is None or iso_week(self.last_day) != iso_week(self.today)


SWEEPS_KEPT = timedelta(days=30)


def prune_sweeps(at: datetime) -> int:
    """Forget the runs older than ``SWEEPS_KEPT`` (the nightly job), but never the latest, which the
    next sweep starts from. Returns how many. Flushes, never commits."""
    latest = sa.select(sa.func.max(ReminderSweep.ran_at)).scalar_subquery()
    result = db.session.execute(
        sa.delete(ReminderSweep)
        .where(ReminderSweep.ran_at < at - SWEEPS_KEPT, ReminderSweep.ran_at < latest)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def previous_sweep(now: datetime) -> datetime | None:
    """The moment of the latest sweep up to ``now`` (committed: a failed one left no row)."""
    return db.session.scalar(
        sa.select(ReminderSweep.ran_at)
        .where(ReminderSweep.ran_at <= now)
        .order_by(ReminderSweep.ran_at.desc())
        .limit(1)
    )


# The rules, grouped by what makes them find something new.
DUE_SOON_GROUP, OVERDUE_GROUP, REVIEW_GROUP, END_GROUP, CERTIFICATE_GROUP, INACTIVE_GROUP = (
    "due_soon",
    "overdue",
    "review",
    "end",
    "certificate",
    "inactive",
)
ABSENCE_GROUP = "absence"
GROUPS = (
    DUE_SOON_GROUP,
    OVERDUE_GROUP,
    REVIEW_GROUP,
    END_GROUP,
    CERTIFICATE_GROUP,
    INACTIVE_GROUP,
    ABSENCE_GROUP,
)


@dataclass
class Candidates:
    """The active enrolments a sweep looks at, and per group of rules the ids of those to check."""

    enrolments: list[Enrolment]
    ids: dict[str, set[int]]

    def of(self, *groups: str) -> list[Enrolment]:
        wanted = set().union(*(self.ids[group] for group in groups))
        return [enrolment for enrolment in self.enrolments if enrolment.id in wanted]


def _days_since(day: date, column: Any) -> sa.ColumnElement[int]:
    """Whole days from ``column`` (a date) to ``day``, in SQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.literal(day, sa.Date()).op("-", return_type=sa.Integer())(column)
    return sa.cast(
        sa.func.julianday(sa.literal(day.isoformat())) - sa.func.julianday(column), sa.Integer()
    )


def _in_holiday(day: date) -> sa.ColumnElement[bool]:
    """The cohort skips the week of ``day`` (``Cohort.in_holiday`` in SQL: its stored programme weeks
    do not hold that week's Monday, between its start and its last week)."""
    monday = day - timedelta(days=day.weekday())
    return sa.and_(
        Cohort.teaching_weeks != "",
        Cohort.start_date <= day,
        Cohort.end_date >= monday,
        sa.not_(Cohort.teaching_weeks.contains(monday.isoformat(), autoescape=True)),
    )


def _cohorts_with_due_date_in(after: date, until: date, today: date) -> list[int]:
    """Running cohorts with an assignment due after ``after`` up to and including ``until``: two
    statements over cohorts and assignments, none over enrolments."""
    running = (Cohort.closed_at.is_(None), Cohort.start_date <= today, Cohort.end_date >= today)
    cohorts = db.session.scalars(sa.select(Cohort).where(*running).order_by(Cohort.id)).all()
    due_weeks: dict[int, set[int]] = defaultdict(set)
    for programme_id, due_week in db.session.execute(
        sa.select(Assignment.programme_id, Assignment.due_week)
        .distinct()
        .where(Assignment.programme_id.in_(sa.select(Cohort.programme_id).where(*running)))
    ):
        due_weeks[programme_id].add(due_week)
    return [
        cohort.id
        for cohort in cohorts
        if any(after < cohort.due_date(week) <= until for week in due_weeks[cohort.programme_id])
    ]


def _absence_recorded_since(since: datetime, today: date) -> sa.ColumnElement[bool]:
    """The enrolment has an unauthorised absence of the last eight weeks in a session recorded or
    recorded again since ``since`` (what ``unauthorised_absence_hits`` counts)."""
    return Enrolment.id.in_(
        sa.select(AttendanceRecord.enrolment_id)
        .join(AttendanceRecord.session)
        .where(
            AttendanceRecord.reason == AbsenceReason.UNAUTHORISED,
            AttendanceSession.held_on >= _first_absence_counted(today),
            sa.or_(AttendanceSession.recorded_at > since, AttendanceSession.updated_at > since),
        )
    )


def candidates(window: Window) -> Candidates:
    """The active enrolments (of started, open cohorts) for which something changed or fell due since
    the previous sweep, with everyone involved: one statement (three more on the first sweep of a day).

    Changed: the progress summary was rewritten since the previous sweep (hand-in, verdict, sign-off,
    hours, enrolment, transfer, certificate, a new start date ...: every write refreshes it), or it
    has none; for reviews also a review recorded since then; for absences (only) a session with an
    unauthorised absence of theirs recorded or changed since then. Fell due, per group of rules, between the
    previous sweep's day and today: an assignment's due date entering the 7-day window; a first
    overdue assignment (in a new week: any); twelve weeks since the last review; six weeks before the
    end; another 21 days of silence; in a new week, work complete without a certificate. Without a
    previous sweep: every active enrolment."""
    today = window.today
    conditions: dict[str, list[sa.ColumnElement[bool]]]
    if window.last is None:
        conditions = {group: [sa.true()] for group in GROUPS}
    else:
        since = window.last - CHANGE_MARGIN
        changed = sa.or_(ProgressSummary.enrolment_id.is_(None), ProgressSummary.updated_at > since)
        conditions = {group: [changed] for group in GROUPS}
        conditions[REVIEW_GROUP].append(
            Enrolment.id.in_(
                sa.select(ProgressReview.enrolment_id).where(ProgressReview.created_at > since)
            )
        )
        # Absences change only with attendance, which rewrites no progress summary.
        conditions[ABSENCE_GROUP] = [_absence_recorded_since(since, today)]
        last_day = window.last_day
        assert last_day is not None
        if window.new_day:
            soon = timedelta(days=DUE_SOON_DAYS)
            cohort_ids = _cohorts_with_due_date_in(last_day + soon, today + soon, today)
            if cohort_ids:
                conditions[DUE_SOON_GROUP].append(
                    sa.and_(
                        Enrolment.cohort_id.in_(cohort_ids),
                        ProgressSummary.first_open_due_on <= today + soon,
                    )
                )
            overdue = ProgressSummary.first_open_due_on < today
            if not window.new_week:  # this week's reminder went out to those overdue before
                overdue = sa.and_(overdue, ProgressSummary.first_open_due_on >= last_day)
            conditions[OVERDUE_GROUP].append(overdue)
            last_held = (
                sa.select(sa.func.max(ProgressReview.held_on))
                .where(ProgressReview.enrolment_id == Enrolment.id)
                .scalar_subquery()
            )
            review_from = sa.func.coalesce(
                last_held,
                sa.case(
                    (Cohort.start_date > Enrolment.enrolled_on, Cohort.start_date),
                    else_=Enrolment.enrolled_on,
                ),
            )
            from lms.services.reviews import REVIEW_INTERVAL

            conditions[REVIEW_GROUP].append(
                sa.and_(
                    review_from > last_day - REVIEW_INTERVAL, review_from <= today - REVIEW_INTERVAL
                )
            )
            conditions[END_GROUP].append(
                sa.and_(
                    Cohort.end_date > last_day + END_WARNING,
                    Cohort.end_date <= today + END_WARNING,
                )
            )
            silent = ProgressSummary.last_activity_on
            # Another multiple of 21 days of silence reached since the previous sweep: counted in
            # days here; the rule leaves out the days of holiday weeks, so the silences that span
            # the latest holiday are looked at every day (the rule's keys send each reminder once).
            crossed = _days_since(today, silent).op("/", return_type=sa.Integer())(
                INACTIVE_DAYS
            ) > _days_since(last_day, silent).op("/", return_type=sa.Integer())(INACTIVE_DAYS)
            holiday_ended = db.session.scalar(
                sa.select(sa.func.max(CalendarClosure.last_day)).where(
                    CalendarClosure.last_day < today
                )
            )
            if holiday_ended is not None:
                crossed = sa.or_(crossed, silent < holiday_ended)
            conditions[INACTIVE_GROUP].append(
                sa.and_(silent <= today - timedelta(days=INACTIVE_DAYS), crossed)
            )
            if window.new_week:
                conditions[CERTIFICATE_GROUP].append(
                    sa.and_(
                        ProgressSummary.work_complete.is_(True),
                        ProgressSummary.valid_certificate_id.is_(None),
                    )
                )
        if window.new_day:
            # Back from a holiday: every rule looks at the cohort again, as on a first sweep (what
            # fell due in the holiday is reminded of now; what was sent before is not sent again).
            back = _in_holiday(last_day)
            for group in GROUPS:
                conditions[group].append(back)
    flags = {group: sa.or_(*found) for group, found in conditions.items()}
    rows = db.session.execute(
        sa.select(Enrolment, *(flag.label(group) for group, flag in flags.items()))
        .join(Enrolment.cohort)
        .outerjoin(ProgressSummary, ProgressSummary.enrolment_id == Enrolment.id)
        .where(
            Enrolment.status == EnrolmentStatus.ACTIVE,
            Cohort.closed_at.is_(None),
            Cohort.start_date <= today,
            # Nothing is reminded of in a holiday week: nobody works on the programme then.
            sa.not_(_in_holiday(today)),
            sa.or_(*flags.values()),
        )
        .options(
            selectinload(Enrolment.participant),
            selectinload(Enrolment.cohort).selectinload(Cohort.trainers),
            selectinload(Enrolment.employer),
        )
        .order_by(Enrolment.id)
    ).all()
    ids: dict[str, set[int]] = {group: set() for group in GROUPS}
    for row in rows:
        for group in GROUPS:
            if getattr(row, group):
                ids[group].add(row[0].id)
    return Candidates([row[0] for row in rows], ids)


def _with_trainers(enrolments: Iterable[Enrolment]) -> None:
    """Make sure the enrolments' cohorts hold their trainers: ``candidates`` loads them, but
    ``enrolment_progress`` reads the cohorts again with ``populate_existing``, which unloads them,
    and each cohort would then load its own (a statement per cohort). One statement, or none."""
    unloaded: dict[int, Cohort] = {}
    for enrolment in enrolments:
        if "trainers" in sa.inspect(enrolment.cohort).unloaded:
            unloaded[enrolment.cohort_id] = enrolment.cohort
    if not unloaded:
        return
    trainers: dict[int, list[User]] = defaultdict(list)
    for cohort_id, trainer in db.session.execute(
        sa.select(CohortTrainer.cohort_id, User)
        .join(User, User.id == CohortTrainer.trainer_id)
        .where(CohortTrainer.cohort_id.in_(sorted(unloaded)))
        .order_by(User.sort_key)
    ):
        trainers[cohort_id].append(trainer)
    for cohort_id, cohort in unloaded.items():
        set_committed_value(cohort, "trainers", trainers[cohort_id])


def _active(users: Iterable[User]) -> list[User]:
    return [user for user in users if user.is_active_account]


def _coordinators() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.role == Role.COORDINATOR, User.is_active_account.is_(True))
            .order_by(User.id)
        )
    )


def _employer_contacts(employer_ids: set[int]) -> dict[int, list[User]]:
    contacts: dict[int, list[User]] = defaultdict(list)
    if not employer_ids:
        return contacts
    for user in db.session.scalars(
        sa.select(User)
        .where(
            User.role == Role.EMPLOYER,
            User.employer_id.in_(employer_ids),
            User.is_active_account.is_(True),
        )
        .order_by(User.id)
    ):
        assert user.employer_id is not None
        contacts[user.employer_id].append(user)
    return contacts


# --- the rules --------------------------------------------------------------------------------


def assignment_hits(
    enrolments: Sequence[Enrolment],
    today: date,
    *,
    due_soon: Collection[int] | None = None,
    overdue: Collection[int] | None = None,
) -> Iterator[Hit]:
    """Due soon (participant), overdue (participant, weekly) and the employer's weekly digest; only
    for the enrolment ids in ``due_soon`` and ``overdue`` respectively when given."""
    if not enrolments:
        return
    facts = AssignmentFacts.load(enrolments)
    programme_ids = {cohort.programme_id for cohort in facts.cohorts.values()}
    assignments = {
        assignment.id: assignment
        for assignment in db.session.scalars(
            sa.select(Assignment).where(Assignment.programme_id.in_(programme_ids))
        )
    }
    # Per programme, once: its assignments in id order, each with its line and link.
    lines: dict[int, list[tuple[int, int, str, str]]] = {
        programme_id: [
            (
                assignment_id,
                due_week,
                f"{assignments[assignment_id].code} {assignments[assignment_id].title}",
                path_for("portfolio.assignment", code=assignments[assignment_id].code),
            )
            for assignment_id, due_week in sorted(due_weeks.items())
        ]
        for programme_id, due_weeks in facts.due_weeks_by_programme.items()
    }
    contacts = _employer_contacts({enrolment.employer_id for enrolment in enrolments})
    employer_items: dict[int, list[Item]] = defaultdict(list)
    employer_link = path_for("employer.index")
    week = iso_week(today)
    soon = today + timedelta(days=DUE_SOON_DAYS)
    for enrolment in enrolments:
        cohort = facts.cohorts[enrolment.cohort_id]
        if today > cohort.end_date:
            continue
        own = facts.statuses[enrolment.id]
        participant = enrolment.participant
        overdue_items: list[Item] = []
        for assignment_id, due_week, label, link in lines.get(cohort.programme_id, ()):
            if own.get(assignment_id) in HANDED_IN:
                continue  # the participant has done their part
            due = facts.due_date(cohort, due_week)
            if due > soon:
                continue
            if due >= today:
                if participant.is_active_account and (due_soon is None or enrolment.id in due_soon):
                    subject = notifications.assignment_subject(enrolment.id, assignment_id)
                    yield Hit(DUE_SOON, participant, subject, f"due:{due}", Item(label, due, link))
            else:
                overdue_items.append(Item(label, due, link))
        if not overdue_items or (overdue is not None and enrolment.id not in overdue):
            continue
        # Once a week per participant, with everything that is overdue at that moment.
        subject = f"enrolment:{enrolment.id}"
        if participant.is_active_account:
            yield Hit(OVERDUE, participant, subject, week, tuple(overdue_items))
        name = _participant_name(enrolment)
        employer_items[enrolment.employer_id].extend(
            Item(f"{name}: {item.text}", item.on, employer_link) for item in overdue_items
        )
    # One digest a week per contact, with all of the company's employees' overdue work.
    for employer_id, items in sorted(employer_items.items()):
        for contact in contacts[employer_id]:
            yield Hit(EMPLOYER_OVERDUE, contact, f"employer:{employer_id}", week, tuple(items))


def assessment_waiting_hits(today: date) -> Iterator[Hit]:
    """Handed in more than 5 working days ago, not assessed: the cohort's trainers, daily."""
    if today.weekday() >= 5:
        return
    # Anything handed in on or after this day is not yet 5 working days old: filter in the database.
    newest = datetime.combine(today - timedelta(days=5), time(0), tzinfo=clock.LOCAL_TZ)
    submissions = db.session.scalars(
        sa.select(Submission)
        .join(Submission.enrolment)
        .where(
            Submission.status == SubmissionStatus.SUBMITTED,
            Submission.submitted_at < newest,
            Enrolment.status == EnrolmentStatus.ACTIVE,
        )
        .options(
            selectinload(Submission.assignment),
            selectinload(Submission.enrolment).selectinload(Enrolment.participant),
            selectinload(Submission.enrolment)
            .selectinload(Enrolment.cohort)
            .selectinload(Cohort.trainers),
        )
        .order_by(Submission.submitted_at, Submission.id)
    )
    for submission in submissions:
        assert submission.submitted_at is not None
        handed_in = submission.submitted_at.astimezone(clock.LOCAL_TZ).date()
        if working_days_between(handed_in, today) <= ASSESSMENT_WAITING_WORKING_DAYS:
            continue
        enrolment = submission.enrolment
        item = Item(
            f"{_participant_name(enrolment)}: {submission.assignment.code}"
            f" {submission.assignment.title}",
            handed_in,
            path_for("assessment.assess", submission_id=submission.id),
        )
        for trainer in _active(enrolment.cohort.trainers):
            yield Hit(
                ASSESSMENT_WAITING,
                trainer,
                notifications.submission_subject(submission.id),
                today.isoformat(),
                item,
            )


def review_due_hits(enrolments: Sequence[Enrolment], today: date) -> Iterator[Hit]:
    """No progress review in the last 12 weeks: participant and trainers, once per due date."""
    if not enrolments:
        return
    from lms.services.reviews import REVIEW_INTERVAL, last_review_dates

    last_held = last_review_dates([e.id for e in enrolments])
    for enrolment in enrolments:
        if today > enrolment.cohort.end_date:
            continue
        # The same rule as the trainer's dashboard (lms.services.reviews.reviews_due).
        since = last_held.get(enrolment.id) or max(
            enrolment.cohort.start_date, enrolment.enrolled_on
        )
        due = since + REVIEW_INTERVAL
        if today < due:
            continue
        subject, period = f"enrolment:{enrolment.id}", f"due:{due}"
        participant = enrolment.participant
        if participant.is_active_account:
            yield Hit(
                REVIEW_DUE,
                participant,
                subject,
                period,
                Item(participant.full_name, due, path_for("reviews.index")),
            )
        for trainer in _active(enrolment.cohort.trainers):
            yield Hit(
                REVIEW_DUE,
                trainer,
                subject,
                period,
                Item(
                    _participant_name(enrolment),
                    due,
                    path_for("reviews.history", enrolment_id=enrolment.id),
                ),
            )


def end_and_certificate_hits(
    enrolments: Sequence[Enrolment],
    today: date,
    *,
    end: Collection[int] | None = None,
    certificate: Collection[int] | None = None,
) -> Iterator[Hit]:
    """Six weeks before the end with work open (participant, trainers, coordinators); certificate
    due but not issued (coordinators, weekly); only for the enrolment ids in ``end`` and
    ``certificate`` respectively when given."""
    if not enrolments:
        return
    from lms.services.certificates import certificate_status

    progress = enrolment_progress(enrolments, today)
    _with_trainers(enrolments)
    # Only those progress calls complete can have a certificate due; ask certificates about them.
    statuses = certificate_status(
        [
            enrolment
            for enrolment in enrolments
            if progress[enrolment.id].certificate_due
            and (certificate is None or enrolment.id in certificate)
        ],
        today,
    )
    coordinators = _coordinators()
    week = iso_week(today)
    for enrolment in enrolments:
        cohort = enrolment.cohort
        p = progress[enrolment.id]
        subject = f"enrolment:{enrolment.id}"
        open_work = (
            p.assignments.approved < p.assignments.total
            or not p.technical.complete
            or not p.skills.complete
        )
        if (
            open_work
            and cohort.end_date - END_WARNING <= today <= cohort.end_date
            and (end is None or enrolment.id in end)
        ):
            period = f"end:{cohort.end_date}"
            participant = enrolment.participant
            if participant.is_active_account:
                yield Hit(
                    END_APPROACHING,
                    participant,
                    subject,
                    period,
                    Item(cohort.name, cohort.end_date, path_for("portfolio.index")),
                )
            name = f"{_participant_name(enrolment)} ({cohort.name})"
            cohort_link = path_for("cohorts.detail", cohort_id=cohort.id)
            for trainer in _active(cohort.trainers):
                yield Hit(
                    END_APPROACHING,
                    trainer,
                    subject,
                    period,
                    Item(name, cohort.end_date, path_for("checklists.matrix", cohort_id=cohort.id)),
                )
            for coordinator in coordinators:
                yield Hit(
                    END_APPROACHING,
                    coordinator,
                    subject,
                    period,
                    Item(name, cohort.end_date, cohort_link),
                )
        status = statuses.get(enrolment.id)
        if status is not None and status.due:
            issue_link = path_for("certificates.enrolment", enrolment_id=enrolment.id)
            for coordinator in coordinators:
                yield Hit(
                    CERTIFICATE_DUE,
                    coordinator,
                    subject,
                    week,
                    Item(f"{_participant_name(enrolment)} ({cohort.name})", None, issue_link),
                )


def inactive_hits(enrolments: Sequence[Enrolment], today: date) -> Iterator[Hit]:
    """Nothing done for 21 days: participant and trainers, after 21, 42, 63 ... days of silence."""
    if not enrolments:
        return
    activity = last_activity(enrolments)
    _with_trainers(enrolments)
    for enrolment in enrolments:
        if today > enrolment.cohort.end_date:
            continue
        last = activity[enrolment.id]
        silent = enrolment.cohort.quiet_days(last, today)  # holiday weeks do not count
        if silent < INACTIVE_DAYS:
            continue
        subject = f"enrolment:{enrolment.id}"
        period = f"since:{last}:{silent // INACTIVE_DAYS}"
        participant = enrolment.participant
        if participant.is_active_account:
            yield Hit(
                INACTIVE,
                participant,
                subject,
                period,
                Item(participant.full_name, last, path_for("portfolio.index")),
            )
        for trainer in _active(enrolment.cohort.trainers):
            yield Hit(
                INACTIVE,
                trainer,
                subject,
                period,
                Item(_participant_name(enrolment), last, path_for("assessment.index")),
            )


def _first_absence_counted(today: date) -> date:
    """The oldest training date an occurrence reminded of on ``today`` can count: its third absence
    is at most ``ATTENDANCE_LOOKBACK`` old, its first less than ``ABSENCE_SPAN`` before that."""
    return today - ATTENDANCE_LOOKBACK - ABSENCE_SPAN + timedelta(days=1)


def absence_occurrences(days: Sequence[date], after: date | None = None) -> list[date]:
    """The dates on which unauthorised absences on ``days`` (oldest first) reach three within
    ``ABSENCE_SPAN``: the third absence of each occurrence. Only absences after ``after`` (the
    third absence of the previous reminder) count, and each toward one occurrence at most."""
    found: list[date] = []
    run: list[date] = []
    for day in days:
        if after is not None and day <= after:
            continue
        run = [*(earlier for earlier in run if day - earlier < ABSENCE_SPAN), day]
        if len(run) == UNAUTHORISED_ABSENCES_COUNT:
            found.append(day)
            run = []
    return found


ABSENCE_PERIOD = "absent:"  # + the ISO date of the third absence, which sort as the days do


def _absence_period(day: date) -> str:
    return f"{ABSENCE_PERIOD}{day.isoformat()}"


def _last_reminded_absences(subjects: Collection[str]) -> dict[str, date]:
    """Per subject (an enrolment), the third absence of its latest ``unauthorised_absences``
    reminder: one statement over the keys in ``sent_reminders``."""
    found: dict[str, date] = {}
    for subject, period in db.session.execute(
        sa.select(SentReminder.subject_key, sa.func.max(SentReminder.period_key))
        .where(
            SentReminder.rule == UNAUTHORISED_ABSENCES,
            SentReminder.subject_key.in_(sorted(subjects)),
        )
        .group_by(SentReminder.subject_key)
    ):
        try:
            found[subject] = date.fromisoformat(period.removeprefix(ABSENCE_PERIOD))
        except ValueError:
            continue
    return found


def unauthorised_absence_hits(enrolments: Sequence[Enrolment], today: date) -> Iterator[Hit]:
    """Three unauthorised absences within 28 days: coordinators, the employer's contacts and the
    cohort's trainers, once per occurrence (see the module's docstring). At most four statements:
    the absences of the last eight weeks, the previous reminders of those with three or more, the
    coordinators and the contacts."""
    if not enrolments:
        return
    absences: dict[int, list[date]] = defaultdict(list)
    for enrolment_id, held_on in db.session.execute(
        sa.select(AttendanceRecord.enrolment_id, AttendanceSession.held_on)
        .join(AttendanceRecord.session)
        .where(
            AttendanceRecord.enrolment_id.in_([enrolment.id for enrolment in enrolments]),
            AttendanceRecord.reason == AbsenceReason.UNAUTHORISED,
            AttendanceSession.held_on >= _first_absence_counted(today),
            AttendanceSession.held_on <= today,
        )
        .order_by(AttendanceRecord.enrolment_id, AttendanceSession.held_on)
    ):
        absences[enrolment_id].append(held_on)
    enough = {
        f"enrolment:{enrolment_id}": days
        for enrolment_id, days in absences.items()
        if len(days) >= UNAUTHORISED_ABSENCES_COUNT
    }
    if not enough:
        return
    previous = _last_reminded_absences(enough)
    recent = today - ATTENDANCE_LOOKBACK
    occurrences = {
        enrolment.id: [
            day
            for day in absence_occurrences(enough[subject], previous.get(subject))
            if day >= recent
        ]
        for enrolment in enrolments
        if (subject := f"enrolment:{enrolment.id}") in enough
    }
    if not any(occurrences.values()):
        return
    _with_trainers(enrolments)
    coordinators = _coordinators()
    contacts = _employer_contacts(
        {enrolment.employer_id for enrolment in enrolments if occurrences.get(enrolment.id)}
    )
    for enrolment in enrolments:
        cohort = enrolment.cohort
        name = f"{_participant_name(enrolment)} ({cohort.name})"
        link = path_for("attendance.enrolment", enrolment_id=enrolment.id)
        # Several participants of one cohort: its attendance page (not the contacts': not theirs).
        cohort_link = path_for("attendance.cohort", cohort_id=cohort.id)
        staff = [*_active(cohort.trainers), *coordinators]
        for day in occurrences.get(enrolment.id, ()):
            for recipient, item in (
                *((user, Item(name, day, link, cohort_link)) for user in staff),
                *((user, Item(name, day, link)) for user in contacts[enrolment.employer_id]),
            ):
                yield Hit(
                    UNAUTHORISED_ABSENCES,
                    recipient,
                    f"enrolment:{enrolment.id}",
                    _absence_period(day),
                    item,
                )


def attendance_unrecorded_hits(window: Window) -> Iterator[Hit]:
    """Training dates of the last four weeks without a recorded session on the second working day
    after them: the cohort's trainers and the coordinators, once per cohort and date. Five
    statements (the cohorts with their trainers, their schedules' closures and moved training days,
    their sessions of those weeks, the coordinators).

    A date is new when its second working day came since the previous sweep; a cohort back from a
    holiday week, and the first sweep, look at all of its dates of the last four weeks."""
    from lms.services.attendance import schedules_of

    today, last_day = window.today, window.last_day
    first = today - ATTENDANCE_LOOKBACK
    first_enrolled = (
        sa.select(sa.func.min(Enrolment.enrolled_on))
        .where(Enrolment.cohort_id == Cohort.id, Enrolment.status == EnrolmentStatus.ACTIVE)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Cohort, first_enrolled)
        .where(
            Cohort.closed_at.is_(None),
            Cohort.start_date <= today,
            Cohort.end_date >= first,
            first_enrolled.is_not(None),
            sa.not_(_in_holiday(today)),  # nothing is reminded of in a holiday week
        )
        .options(selectinload(Cohort.trainers))
        .order_by(Cohort.id)
    ).all()
    due: list[tuple[Cohort, date]] = []
    schedules = schedules_of([cohort for cohort, _ in rows])
    for cohort, enrolled_on in rows:
        # The previous sweep's day, unless the cohort is looked at whole.
        since = None if last_day is None or cohort.in_holiday(last_day) else last_day
        for day in schedules[cohort.id].dates(today, since=max(first, enrolled_on)):
            if working_days_between(day, today) < ATTENDANCE_RECORDED_WITHIN:
                continue  # the trainer still has time
            if since is None or working_days_between(day, since) < ATTENDANCE_RECORDED_WITHIN:
                due.append((cohort, day))
    if not due:
        return
    recorded = {
        (cohort_id, held_on)
        for cohort_id, held_on in db.session.execute(
            sa.select(AttendanceSession.cohort_id, AttendanceSession.held_on).where(
                AttendanceSession.cohort_id.in_({cohort.id for cohort, _ in due}),
                AttendanceSession.held_on >= first,
            )
        )
    }
    coordinators = _coordinators()
    for cohort, day in due:
        if (cohort.id, day) in recorded:
            continue
        item = Item(
            cohort.name,
            day,
            path_for("attendance.session", cohort_id=cohort.id, day=day.isoformat()),
            path_for("attendance.cohort", cohort_id=cohort.id),
        )
        subject = notifications.attendance_subject(cohort.id, day)
        for recipient in [*_active(cohort.trainers), *coordinators]:
            yield Hit(ATTENDANCE_UNRECORDED, recipient, subject, day.isoformat(), item)


def all_hits(window: Window) -> tuple[list[Hit], int]:
    """Every rule's hits among what changed or fell due since the previous sweep, and how many
    enrolments that was."""
    today = window.today
    found = candidates(window)
    ids = found.ids
    hits = [
        *assignment_hits(
            found.of(DUE_SOON_GROUP, OVERDUE_GROUP),
            today,
            due_soon=ids[DUE_SOON_GROUP],
            overdue=ids[OVERDUE_GROUP],
        ),
        # Daily per submission: new only on a new day (the same day's were claimed before).
        *(assessment_waiting_hits(today) if window.new_day else ()),
        *review_due_hits(found.of(REVIEW_GROUP), today),
        *end_and_certificate_hits(
            found.of(END_GROUP, CERTIFICATE_GROUP),
            today,
            end=ids[END_GROUP],
            certificate=ids[CERTIFICATE_GROUP],
        ),
        *inactive_hits(found.of(INACTIVE_GROUP), today),
        *unauthorised_absence_hits(found.of(ABSENCE_GROUP), today),
        # Training dates fall due by the day, and recording one only ends its reminder.
        *(attendance_unrecorded_hits(window) if window.new_day else ()),
    ]
    # Always claim in the same order, so two processes at once wait for each other, never deadlock.
    return sorted(hits, key=lambda hit: hit.key), len(found.enrolments)


# --- sending ----------------------------------------------------------------------------------


def _group_link(rule: str, recipient: User, items: Sequence[Item]) -> str:
    if len(items) == 1 and items[0].link:
        return items[0].link
    group_links = {item.group_link for item in items}
    if len(group_links) == 1 and "" not in group_links:
        return group_links.pop()
    if rule == ASSESSMENT_WAITING:
        return path_for("assessment.queue")
    if rule == REVIEW_DUE:
        return path_for("reviews.index")
    if rule == CERTIFICATE_DUE:
        return path_for("certificates.index")
    if recipient.role is Role.PARTICIPANT:
        return path_for("portfolio.index")
    if recipient.role is Role.EMPLOYER:
        return path_for("employer.index")
    if recipient.role is Role.TRAINER:
        return path_for("assessment.index")
    return path_for("cohorts.index")


def reminder(
    rule: str,
    recipient: User,
    items: Sequence[Item],
    subjects: Iterable[str] = (),
) -> tuple[notifications.NewNotification, Mail | None]:
    """One notification (about ``subjects``: once each is handled it counts as read), as a row to
    insert, and one mail (in working hours; None when it waits for the weekly digest), to render."""
    items = sorted(set(items), key=lambda item: (item.on or date.min, item.text))
    link = _group_link(rule, recipient, items)
    if len({item.link for item in items}) == 1:  # one place for all: the button is enough
        items = [replace(item, link="") for item in items]
    digest = rule not in URGENT and recipient.mail_preference is MailPreference.WEEKLY_DIGEST
    notification = notifications.NewNotification(
        user_id=recipient.id,
        kind=rule,
        # Each text once: several days of one cohort, or two occurrences of one participant.
        params={"items": "; ".join(dict.fromkeys(item.text for item in items))},
        link=link,
        subjects=tuple(subjects),
        digest_pending=digest,
    )
    if digest:
        return notification, None
    base_url = current_app.config["BASE_URL"].rstrip("/")
    mail = Mail(
        recipient,
        "reminder",
        SUBJECTS[rule],
        {
            "intro": INTROS[rule],
            "items": items,
            "action": ACTIONS[rule],
            "link": base_url + link,
            "base_url": base_url,
        },
        working_hours_only=True,
    )
    return notification, mail


def start_of_week(now: datetime) -> datetime:
    """Monday 00:00 of the current week in the Netherlands, as an aware datetime."""
    local = now.astimezone(clock.LOCAL_TZ)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday, time(0), tzinfo=clock.LOCAL_TZ)


def send_weekly_digests(now: datetime, report: SweepReport) -> None:
    """Mail each user their notifications still waiting for the digest from earlier weeks, once a week."""
    week_start = start_of_week(now)
    pending = db.session.scalars(
        sa.select(Notification)
        .where(Notification.digest_pending.is_(True), Notification.created_at < week_start)
        .options(selectinload(Notification.user))
        .order_by(Notification.user_id, Notification.created_at, Notification.id)
    ).all()
    by_user: dict[int, list[Notification]] = defaultdict(list)
    for notification in pending:
        by_user[notification.user_id].append(notification)
    week = iso_week(week_start.date())
    for user_notifications in by_user.values():
        user = user_notifications[0].user
        hit = Hit(WEEKLY_DIGEST, user, f"user:{user.id}", week, ())
        if not claim(hit, now):
            continue
        for notification in user_notifications:
            notification.digest_pending = False
        if not user.is_active_account:
            continue
        queue_mail(
            user,
            "reminder_digest",
            SUBJECTS[WEEKLY_DIGEST],
            working_hours_only=True,
            intro=INTROS[WEEKLY_DIGEST],
            notifications=user_notifications,
            describe=notifications.describe,
            action=ACTIONS[WEEKLY_DIGEST],
            link=current_app.config["BASE_URL"].rstrip("/") + path_for("notifications.index"),
            base_url=current_app.config["BASE_URL"].rstrip("/"),
        )
        report.digests += 1
    db.session.flush()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off inside the block (on again after, if it was on).

    The first sweep on a database holds tens of thousands of enrolments, users, hits and mails at
    once; each time that many new objects have survived, the collector went through all of them
    again: 2.4 of 8 CPU seconds at scale 1, for a few hundred cycles. Reference counting still frees
    everything else at once; the next collection after the block finds those cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def sweep(now: datetime | None = None) -> SweepReport:
    """Run every rule for ``now`` over what changed or fell due since the previous sweep: claim new
    reminders, notify, queue mail (multi-row INSERTs), and record the run. Flushes only."""
    with collector_paused():
        return _sweep(now or clock.now())


def _sweep(now: datetime) -> SweepReport:
    window = Window(now, previous_sweep(now))
    report = SweepReport(since=window.last)
    claimed: dict[tuple[str, int], list[Item]] = defaultdict(list)
    subjects: dict[tuple[str, int], set[str]] = defaultdict(set)
    recipients: dict[int, User] = {}
    hits, report.checked = all_hits(window)
    new = claim_all(hits, now)
    for hit in hits:
        if hit.key in new:
            new.discard(hit.key)  # the same reminder found twice is claimed once
            claimed[(hit.rule, hit.recipient.id)].extend(hit.items)
            subjects[(hit.rule, hit.recipient.id)].add(hit.subject_key)
            recipients[hit.recipient.id] = hit.recipient
            report.claimed[hit.rule] += 1
    new_notifications = []
    mails: list[Mail] = []
    for (rule, recipient_id), items in sorted(claimed.items()):
        notification, mail = reminder(
            rule, recipients[recipient_id], items, subjects[(rule, recipient_id)]
        )
        new_notifications.append(notification)
        if mail is not None:
            mails.append(mail)
    report.notifications += notifications.notify_many(new_notifications)
    report.mails += queue_mails(render_mails(mails))
    send_weekly_digests(now, report)
    db.session.add(
        ReminderSweep(
            ran_at=now,
            enrolments_checked=report.checked,
            reminders_claimed=sum(report.claimed.values()),
            created_at=now,
        )
    )
    db.session.flush()
    return report
