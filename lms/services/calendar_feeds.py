"""Calendar feeds: a person's programme year as an iCalendar feed (RFC 5545) for their phone.

A person (participant, trainer, praktijkopleider, coordinator) makes a private link on
/calendar/ and subscribes to it in their calendar app. The secret in the link is the key: the feed is
fetched without logging in, so only its hash is stored (``CalendarFeed``) and the link is shown once.
A person has at most one working link: making a new one revokes the old one, and a revoked or
unknown link is not found.

The feed holds, for each cohort of ``permissions.calendar_cohorts``, the lines of the cohort's year
plan (``school_calendar.year_plan``): start, period starts, holidays and closed days, due dates,
progress reviews and end, as all-day events. Each event's UID stays the same when its date moves
(the calendar apply, a cohort's exception), so a phone moves the event instead of adding a second.

Functions flush, never commit: the caller commits once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vDuration
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from lms import clock
from lms.extensions import db, savepoint
from lms.i18n import language_of
from lms.models import (
    Assignment,
    CalendarClosure,
    CalendarFeed,
    Cohort,
    Period,
    Programme,
    Role,
    TrainingDayMove,
    User,
)
from lms.permissions import calendar_cohorts
from lms.services import audit
from lms.services.school_calendar import PlanKind, PlanLine, year_plan

TIMEZONE = "Europe/Amsterdam"
PRODID = "-//Vakkracht MKB Zuid-Limburg//LMS//NL"
# The right-hand side of every event's UID: the same on every server and address of this LMS.
UID_DOMAIN = "vakkracht-lms"
# How often a calendar app should fetch the feed again (RFC 7986 REFRESH-INTERVAL; Outlook's
# X-PUBLISHED-TTL). Dates change rarely: when the calendar is applied or a cohort gets an exception.
REFRESH = timedelta(hours=6)


class CalendarFeedError(ValueError):
    """A change to a feed link the rules refuse; the message says why, in the person's language."""


# --- the link -------------------------------------------------------------------------------------


def active_feed(owner: User) -> CalendarFeed | None:
    """The person's working link, if they have one."""
    return db.session.scalar(
        sa.select(CalendarFeed).where(
            CalendarFeed.user_id == owner.id, CalendarFeed.revoked_at.is_(None)
        )
    )


def create_feed(owner: User) -> tuple[CalendarFeed, str]:
    """A new link for ``owner`` and its secret (show it once: only the hash is kept). A link the
    person had before stops working: one person, one link. Two requests at the same moment (a
    double click without the form's token) both succeed and the later one's link is the one that
    works: the one index allows one working link, and the loser tries again after the winner."""
    for attempt in range(2):
        try:
            with savepoint():
                return _replace_feed(owner)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _replace_feed(owner: User) -> tuple[CalendarFeed, str]:
    at = clock.now()
    replaced = list(
        db.session.scalars(
            sa.update(CalendarFeed)
            .where(CalendarFeed.user_id == owner.id, CalendarFeed.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(CalendarFeed.id)
            .execution_options(synchronize_session=False)
        )
    )
    feed, secret = CalendarFeed.issue(owner)
    feed.created_at = at
    db.session.add(feed)
    db.session.flush()
    audit.record("calendar_feed.create", owner, feed, replaced=replaced)
    return feed, secret


def revoke_feed(owner: User) -> CalendarFeed:
    """Stop the person's link from working, at once and for good."""
    feed = active_feed(owner)
    if feed is None:
        raise CalendarFeedError(_("You have no calendar link to revoke."))
    feed.revoked_at = clock.now()
    db.session.flush()
    audit.record("calendar_feed.revoke", owner, feed)
    return feed


def find_feed(secret: str) -> CalendarFeed | None:
    """The working link with this secret, its owner loaded with it (one statement). None for an
    unknown or revoked link, or one whose owner's account is no longer active: the same answer."""
    feed = db.session.scalar(
        sa.select(CalendarFeed)
        .where(
            CalendarFeed.token_hash == CalendarFeed.hash_secret(secret),
            CalendarFeed.revoked_at.is_(None),
        )
        .options(joinedload(CalendarFeed.user))
    )
    if feed is None or not feed.user.is_active:
        return None
    return feed


# --- what the feed holds --------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortYear:
    cohort: Cohort
    lines: list[PlanLine]


def feed_cohorts(user: User) -> list[Cohort]:
    """The cohorts of the person's feed, with what their year plan reads (programme, its periods and
    assignments): three statements however many cohorts."""
    return list(
        db.session.scalars(
            calendar_cohorts(user)
            .options(
                joinedload(Cohort.programme).selectinload(Programme.periods),
                joinedload(Cohort.programme).selectinload(Programme.assignments),
            )
            .order_by(Cohort.start_date, Cohort.name, Cohort.id)
        ).unique()
    )


def cohort_years(cohorts: Sequence[Cohort]) -> list[CohortYear]:
    """Each cohort's year plan, with the closures of all of them read in one statement and their
    moved training days in another."""
    if not cohorts:
        return []
    first = min(cohort.start_date for cohort in cohorts)
    last = max(cohort.end_date for cohort in cohorts)
    ids = [cohort.id for cohort in cohorts]
    closures = list(
        db.session.scalars(
            sa.select(CalendarClosure)
            .where(
                sa.or_(
                    sa.and_(
                        CalendarClosure.calendar_id.is_not(None),
                        CalendarClosure.first_day <= last,
                        CalendarClosure.last_day >= first,
                    ),
                    CalendarClosure.cohort_id.in_(ids),
                )
            )
            .order_by(CalendarClosure.first_day, CalendarClosure.id)
        )
    )
    moves = db.session.scalars(
        sa.select(TrainingDayMove)
        .where(TrainingDayMove.cohort_id.in_(ids))
        .order_by(TrainingDayMove.moved_from)
    ).all()
    return [
        CohortYear(
            cohort,
            year_plan(
                cohort,
                [c for c in closures if c.cohort_id is None or c.cohort_id == cohort.id],
                [move for move in moves if move.cohort_id == cohort.id],
            ),
        )
        for cohort in cohorts
    ]


def event_uid(cohort: Cohort, line: PlanLine) -> str:
    """The same UID for the same event on every fetch, also when its date moves."""
    subject = line.subject
    if isinstance(subject, Assignment | Period):
        key = f"{line.kind.value}-{subject.id}"
    elif isinstance(subject, CalendarClosure):
        if subject.cohort_id is not None:
            key = f"closed-{subject.id}"
        else:
            # A school year's rows are replaced when its file is loaded again: named by their
            # content, not by their id.
            name = hashlib.sha256(f"{subject.kind.value}:{subject.name}".encode()).hexdigest()
            key = f"closed-{subject.first_day:%Y%m%d}-{name[:12]}"
    elif isinstance(subject, TrainingDayMove):
        key = f"moved-{subject.id}"
    elif line.kind is PlanKind.REVIEW:
        key = f"review-week-{line.week}"
    else:
        key = line.kind.value  # start, end: one each
    return f"cohort-{cohort.id}-{key}@{UID_DOMAIN}"


def event_summary(line: PlanLine) -> str:
    subject = line.subject
    if line.kind is PlanKind.DUE and isinstance(subject, Assignment):
        return _("%(code)s due: %(title)s", code=subject.code, title=subject.title)
    if line.kind is PlanKind.PERIOD and isinstance(subject, Period):
        return _("Period %(code)s starts: %(title)s", code=subject.code, title=subject.title)
    if line.kind is PlanKind.CLOSED:
        return _("No programme: %(name)s", name=line.title)
    if line.kind is PlanKind.MOVED:
        return _("Training day (moved) %(what)s", what=line.title)
    if line.kind is PlanKind.REVIEW:
        return _("Progress review (programme week %(week)d)", week=line.week or 0)
    if line.kind is PlanKind.START:
        return _("Start of the programme")
    return _("Last day of the programme")


def event_description(cohort: Cohort, line: PlanLine) -> str:
    if line.kind is PlanKind.CLOSED:
        return _("Cohort %(cohort)s. The programme weeks pause.", cohort=cohort.name)
    return _("Cohort %(cohort)s, programme week %(week)d.", cohort=cohort.name, week=line.week or 0)


def amsterdam_timezone() -> Timezone:
    """Europe/Amsterdam as a VTIMEZONE (the rule of the European Union since 1996: summer time from
    the last Sunday of March, 02:00, to the last Sunday of October, 03:00)."""
    zone = Timezone()
    zone.add("tzid", TIMEZONE)
    summer = TimezoneDaylight()
    summer.add("tzname", "CEST")
    summer.add("dtstart", datetime(1996, 3, 31, 2, 0))  # noqa: DTZ001 - local time, by the rule
    summer.add("tzoffsetfrom", timedelta(hours=1))
    summer.add("tzoffsetto", timedelta(hours=2))
    summer.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1su"})
    winter = TimezoneStandard()
    winter.add("tzname", "CET")
    winter.add("dtstart", datetime(1996, 10, 27, 3, 0))  # noqa: DTZ001 - local time, by the rule
    winter.add("tzoffsetfrom", timedelta(hours=2))
    winter.add("tzoffsetto", timedelta(hours=1))
    winter.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1su"})
    zone.add_component(summer)
    zone.add_component(winter)
    return zone


def calendar_name(user: User, cohorts: Sequence[Cohort]) -> str:
    if user.role is Role.PARTICIPANT and len(cohorts) == 1:
        return _("Vakkracht programme %(cohort)s", cohort=cohorts[0].name)
    return _("Vakkracht programme")


def build_calendar(user: User, years: Sequence[CohortYear], at: datetime) -> Calendar:
    """The feed of ``user``: one all-day event per line of each cohort's year. A participant has one
    cohort; for everyone else each event's name ends with its cohort's."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = calendar_name(user, [year.cohort for year in years])
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    description = _(
        "Start, periods, holidays, due dates and progress reviews of the programme"
        " Productie/montage Vakkracht MKB Zuid-Limburg."
    )
    calendar.add("description", description)
    calendar.add("x-wr-caldesc", description)
    calendar.add("x-wr-timezone", TIMEZONE)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH).to_ical().decode())
    calendar.add_component(amsterdam_timezone())
    with_cohort = user.role is not Role.PARTICIPANT
    for year in years:
        for line in year.lines:
            calendar.add_component(_event(year.cohort, line, at, with_cohort))
    return calendar


def _event(cohort: Cohort, line: PlanLine, at: datetime, with_cohort: bool) -> Event:
    # A period is shown by its start: an event across ten weeks would fill every day of them.
    last: date = line.first_day if line.kind is PlanKind.PERIOD else line.last_day or line.first_day
    summary = event_summary(line)
    if with_cohort:
        summary = f"{summary} · {cohort.name}"
    event = Event()
    event.add("uid", event_uid(cohort, line))
    event.add("dtstamp", at)
    event.add("dtstart", line.first_day)
    event.add("dtend", last + timedelta(days=1))  # an all-day event ends the day after (RFC 5545)
    event.add("summary", summary)
    event.add("description", event_description(cohort, line))
    event.add("transp", "TRANSPARENT")  # a due date or a holiday does not make anyone busy
    event.add("categories", [cohort.name])
    return event


def feed_document(feed: CalendarFeed, at: datetime | None = None) -> bytes:
    """The feed of ``feed``'s owner as RFC 5545 text, in the owner's language: a constant number of
    statements whatever the number of cohorts (three for the cohorts, one for their closures, one for
    their moved training days)."""
    at = at or clock.now()
    user = feed.user
    years = cohort_years(feed_cohorts(user))
    with force_locale(language_of(user)):
        calendar = build_calendar(user, years, at)
    return calendar.to_ical()


# --- the page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionPage:
    feed: CalendarFeed | None  # the working link, if any
    cohorts: list[Cohort]  # what the feed shows


def subscription_page(user: User) -> SubscriptionPage:
    """What /calendar/ shows: whether the person has a working link, and whose year it holds."""
    cohorts = list(
        db.session.scalars(calendar_cohorts(user).order_by(Cohort.start_date, Cohort.name))
    )
    return SubscriptionPage(active_feed(user), cohorts)
