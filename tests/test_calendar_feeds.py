"""The year as an iCalendar feed: a private, revocable link per person (/calendar/), and the feed
itself (/calendar/<secret>.ics) parsed back with the ``icalendar`` package."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import sqlalchemy as sa

from lms import clock
from lms.models import AuditEvent, CalendarClosure, CalendarFeed, Cohort, Role, User
from lms.permissions import calendar_cohorts
from lms.services import calendar_feeds
from lms.services import school_calendar as calendar
from tests.concurrency import hold_first_after
from tests.conftest import AuthActions, csrf_token
from tests.factories import (
    make_cohort,
    make_employer,
    make_enrolment,
    make_programme,
    make_user,
)

START = date(2026, 9, 7)  # the first Monday of September 2026
URL = re.compile(r'id="feed-url"[^>]*value="([^"]+)"')


def subscribe(db, user: User) -> str:  # type: ignore[no-untyped-def]
    """A committed link for ``user``; its secret."""
    _feed, secret = calendar_feeds.create_feed(user)
    db.session.commit()
    return secret


def fetch(client, secret: str):  # type: ignore[no-untyped-def]
    return client.get(f"/calendar/{secret}.ics")


def parse(response) -> icalendar.Calendar:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    return icalendar.Calendar.from_ical(response.get_data())


def events(feed: icalendar.Calendar) -> dict[str, icalendar.Event]:
    """The events by summary (the summaries of one cohort's year are all different)."""
    found = {str(event["summary"]): event for event in feed.walk("VEVENT")}
    assert len(found) == len(feed.walk("VEVENT"))
    return found


def days(event: icalendar.Event) -> tuple[date, date]:
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    # All-day: dates, not times (a datetime is a date too, so check the type exactly).
    assert type(start) is date and type(end) is date, (start, end)
    return start, end


def a_year(db):  # type: ignore[no-untyped-def]
    """The shipped school calendar, a cohort from September 2026 and a participant in it."""
    calendar.load_calendar_files(calendar.calendar_files())
    cohort = make_cohort(make_programme(), name="Parkstad 2026", start=START)
    participant = make_user(Role.PARTICIPANT)
    make_enrolment(cohort, participant)
    db.session.commit()
    return cohort, participant


# --- the feed ---------------------------------------------------------------------------------------


def test_the_feed_parses_back_with_its_events_dates_and_time_zone(client, db) -> None:  # type: ignore[no-untyped-def]
    cohort, participant = a_year(db)
    secret = subscribe(db, participant)
    moment = datetime(2026, 12, 7, 21, 30, tzinfo=UTC)
    with clock.frozen_at(moment):
        response = fetch(client, secret)

    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, max-age=300"
    feed = parse(response)
    assert str(feed["version"]) == "2.0" and "Vakkracht" in str(feed["prodid"])
    assert str(feed["x-wr-calname"]) == "Vakkracht-opleiding Parkstad 2026"
    assert str(feed["x-wr-timezone"]) == "Europe/Amsterdam"
    assert feed.decoded("refresh-interval") == timedelta(hours=6)
    assert b"X-PUBLISHED-TTL:PT6H" in response.get_data()
    # The time zone a client may apply is Amsterdam's, summer and winter time at the right moments.
    (zone,) = feed.walk("VTIMEZONE")
    assert str(zone["tzid"]) == "Europe/Amsterdam"
    # icalendar maps a known TZID to zoneinfo: under another name its own rules are what counts.
    renamed = zone.to_ical().replace(b"TZID:Europe/Amsterdam", b"TZID:Test/Rules")
    tz, amsterdam = icalendar.Timezone.from_ical(renamed).to_tz(), ZoneInfo("Europe/Amsterdam")
    for instant in (
        datetime(2026, 12, 21, 12, tzinfo=UTC),
        datetime(2027, 3, 28, 0, 59, tzinfo=UTC),  # just before summer time (02:00 there)
        datetime(2027, 3, 28, 1, 0, tzinfo=UTC),  # summer time
        datetime(2027, 7, 1, 12, tzinfo=UTC),
        datetime(2027, 10, 31, 0, 59, tzinfo=UTC),  # the last minute of summer time
        datetime(2027, 10, 31, 1, 0, tzinfo=UTC),  # winter time again
    ):
        assert instant.astimezone(tz).utcoffset() == instant.astimezone(amsterdam).utcoffset()

    found = events(feed)
    assert days(found["A1 inleveren: Opdracht 1"]) == (date(2026, 9, 25), date(2026, 9, 26))
    # Programme weeks skip the autumn holiday: A3 (week 9) is due a week later than counted straight.
    a3 = cohort.due_date(9)
    assert a3 == date(2026, 11, 13) and days(found["A3 inleveren: Opdracht 3"])[0] == a3
    # Holidays are multi-day events that end the day after their last day.
    assert days(found["Geen programma: Kerstvakantie"]) == (date(2026, 12, 19), date(2027, 1, 4))
    assert days(found["Geen programma: Herfstvakantie"]) == (date(2026, 10, 17), date(2026, 10, 26))
    assert "Geen programma: Voorjaarsvakantie (Carnaval)" in found
    assert "Geen programma: Zomervakantie" not in found  # after the cohort's end
    # The cohort's own exception too (none yet): the start, the period, reviews and the end.
    assert days(found["Start van de opleiding"])[0] == START
    assert days(found["Periode P1 begint: Veilig starten"]) == (START, START + timedelta(days=1))
    reviews = sorted(days(e)[0] for s, e in found.items() if s.startswith("Voortgangsgesprek"))
    assert reviews == [cohort.week_start(12), cohort.week_start(24), cohort.week_start(36)]
    assert days(found["Laatste dag van de opleiding"])[0] == cohort.end_date == date(2027, 7, 16)
    assert "programmaweek 3" in str(found["A1 inleveren: Opdracht 1"]["description"])

    uids = [str(event["uid"]) for event in feed.walk("VEVENT")]
    assert len(set(uids)) == len(uids) == 3 + 1 + 4 + 3 + 2  # due, period, holidays, reviews, ends
    for event in feed.walk("VEVENT"):
        assert event.decoded("dtstamp") == moment  # in UTC (a "Z" time)
        assert str(event["transp"]) == "TRANSPARENT"
    assert b"DTSTAMP:20261207T213000Z" in response.get_data()


def test_event_ids_stay_the_same_when_dates_move(client, db) -> None:  # type: ignore[no-untyped-def]
    """A phone moves an event whose date changes instead of adding a second one."""
    cohort, participant = a_year(db)
    coordinator = make_user(Role.COORDINATOR)
    secret = subscribe(db, participant)
    before = {str(e["summary"]): e for e in parse(fetch(client, secret)).walk("VEVENT")}

    calendar.add_exception(
        db.session.get(Cohort, cohort.id),
        name="Bedrijfssluiting",
        first_day=date(2026, 9, 21),
        last_day=date(2026, 9, 25),
        actor=coordinator,
    )
    db.session.commit()
    # Loading a school year again replaces its rows (new ids): the holidays keep their events' ids.
    year = db.session.scalars(sa.select(CalendarClosure).where(CalendarClosure.cohort_id.is_(None)))
    for closure in list(year):
        db.session.add(
            CalendarClosure(
                calendar_id=closure.calendar_id,
                kind=closure.kind,
                name=closure.name,
                first_day=closure.first_day,
                last_day=closure.last_day,
            )
        )
        db.session.delete(closure)
    db.session.commit()
    after = {str(e["summary"]): e for e in parse(fetch(client, secret)).walk("VEVENT")}

    a1_before, a1_after = before["A1 inleveren: Opdracht 1"], after["A1 inleveren: Opdracht 1"]
    assert a1_after.decoded("dtstart") == a1_before.decoded("dtstart") + timedelta(weeks=1)
    assert set(before) < set(after)
    for summary, event in before.items():
        assert str(after[summary]["uid"]) == str(event["uid"]), summary
    assert days(after["Geen programma: Bedrijfssluiting"]) == (date(2026, 9, 21), date(2026, 9, 26))


def test_a_participant_feed_holds_their_own_cohort_only(client, db) -> None:  # type: ignore[no-untyped-def]
    cohort, participant = a_year(db)
    other = make_cohort(make_programme(code="OTHER"), name="Maastricht 2026", start=START)
    make_enrolment(other, make_user(Role.PARTICIPANT))
    calendar.add_exception(
        other,
        name="Sluiting Maastricht",
        first_day=date(2026, 11, 2),
        last_day=date(2026, 11, 6),
        actor=make_user(Role.COORDINATOR),
    )
    db.session.commit()
    text = fetch(client, subscribe(db, participant)).get_data(as_text=True)
    feed = icalendar.Calendar.from_ical(text)
    assert feed.walk("VEVENT")
    assert "Maastricht" not in text
    assert {str(e["uid"]).split("-")[1] for e in feed.walk("VEVENT")} == {str(cohort.id)}
    assert " · " not in text  # one cohort: its name is not repeated in every event

    # A withdrawn participant's feed is empty (and still a valid calendar).
    enrolment = participant.enrolments[0]
    enrolment.status, enrolment.ended_on = enrolment.status.WITHDRAWN, START + timedelta(days=30)
    db.session.commit()
    empty = parse(fetch(client, subscribe(db, participant)))
    assert empty.walk("VEVENT") == [] and len(empty.walk("VTIMEZONE")) == 1


def test_each_role_gets_the_cohorts_it_works_with(client, db) -> None:  # type: ignore[no-untyped-def]
    programme = make_programme()
    trainer, other_trainer = make_user(Role.TRAINER), make_user(Role.TRAINER)
    employer, other_employer = make_employer(), make_employer()
    contact = make_user(Role.EMPLOYER, employer=employer)
    coordinator = make_user(Role.COORDINATOR)
    mine = make_cohort(programme, name="Heerlen 2026", trainers=[trainer])
    theirs = make_cohort(programme, name="Sittard 2026", trainers=[other_trainer])
    closed = make_cohort(programme, name="Kerkrade 2025", trainers=[trainer])
    closed.closed_at = clock.now()
    make_enrolment(theirs, make_user(Role.PARTICIPANT), employer)  # the contact's employee
    make_enrolment(mine, make_user(Role.PARTICIPANT), other_employer)
    ended = make_enrolment(mine, make_user(Role.PARTICIPANT), employer)
    ended.status, ended.ended_on = ended.status.WITHDRAWN, START + timedelta(days=10)
    db.session.commit()

    def names(user: User) -> set[str]:
        return {c.name for c in db.session.scalars(calendar_cohorts(user))}

    assert names(trainer) == {"Heerlen 2026"}  # not the closed one
    assert names(other_trainer) == {"Sittard 2026"}
    assert names(contact) == {"Sittard 2026"}  # where an employee is enrolled now
    assert names(coordinator) == {"Heerlen 2026", "Sittard 2026"}
    assert names(make_user(Role.EMPLOYER)) == set()

    text = fetch(client, subscribe(db, coordinator)).get_data(as_text=True)
    feed = icalendar.Calendar.from_ical(text)
    assert str(feed["x-wr-calname"]) == "Vakkracht-opleiding"
    summaries = {str(e["summary"]) for e in feed.walk("VEVENT")}
    assert {
        "A1 inleveren: Opdracht 1 · Heerlen 2026",
        "A1 inleveren: Opdracht 1 · Sittard 2026",
    } <= summaries
    assert "Kerkrade" not in text


def test_the_feed_costs_the_same_statements_for_one_cohort_or_many(  # type: ignore[no-untyped-def]
    client, db, count_queries
) -> None:
    calendar.load_calendar_files(calendar.calendar_files())
    coordinator = make_user(Role.COORDINATOR)
    first = make_cohort(make_programme(code="ONE"), start=START)
    calendar.add_exception(
        first,
        name="Sluiting",
        first_day=date(2026, 11, 2),
        last_day=date(2026, 11, 6),
        actor=coordinator,
    )
    secret = subscribe(db, coordinator)
    fetch(client, secret)  # the first request of an app warms what it caches
    with count_queries() as one:
        assert len(parse(fetch(client, secret)).walk("VEVENT")) > 10
    for n in range(4):
        cohort = make_cohort(make_programme(code=f"MORE{n}"), start=START + timedelta(weeks=n))
        calendar.add_exception(
            cohort,
            name="Sluiting",
            first_day=date(2026, 11, 2),
            last_day=date(2026, 11, 6),
            actor=coordinator,
        )
    db.session.commit()
    with count_queries() as five:
        assert len({str(e["uid"]) for e in parse(fetch(client, secret)).walk("VEVENT")}) > 50
    assert one.count == five.count, (one.statements, five.statements)
    # The link, its person, the cohorts with their programmes, closures and moved training days.
    assert five.count <= 6, five.statements


def test_the_feed_speaks_the_language_of_its_owner(client, db) -> None:  # type: ignore[no-untyped-def]
    _cohort, participant = a_year(db)
    participant.locale = "en"
    db.session.commit()
    feed = parse(fetch(client, subscribe(db, participant)))
    assert "A1 due: Opdracht 1" in {str(e["summary"]) for e in feed.walk("VEVENT")}
    assert str(feed["x-wr-calname"]) == "Vakkracht programme Parkstad 2026"


# --- the link -----------------------------------------------------------------------------------------


def test_a_revoked_unknown_or_replaced_link_is_not_found_alike(client, db) -> None:  # type: ignore[no-untyped-def]
    _cohort, participant = a_year(db)
    first = subscribe(db, participant)
    assert fetch(client, first).status_code == 200
    second = subscribe(db, participant)  # a new link: the old one stops working
    revoked = fetch(client, first)
    unknown = fetch(client, "A" * 43)
    assert revoked.status_code == unknown.status_code == 404
    # No hint which: the same page, but for the address it names.
    assert revoked.get_data(as_text=True).replace(first, "A" * 43) == unknown.get_data(as_text=True)
    assert fetch(client, second).status_code == 200
    active = db.session.scalars(
        sa.select(CalendarFeed).where(
            CalendarFeed.user_id == participant.id, CalendarFeed.revoked_at.is_(None)
        )
    ).all()
    assert len(active) == 1

    calendar_feeds.revoke_feed(participant)
    db.session.commit()
    assert fetch(client, second).status_code == 404
    # A deactivated account's link stops too.
    third = subscribe(db, participant)
    participant.is_active_account = False
    db.session.commit()
    assert fetch(client, third).status_code == 404


def test_only_the_hash_of_the_secret_is_stored(db) -> None:  # type: ignore[no-untyped-def]
    _cohort, participant = a_year(db)
    feed, secret = calendar_feeds.create_feed(participant)
    db.session.commit()
    assert feed.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    for table in ("calendar_feeds", "audit_events"):
        rows = db.session.execute(sa.text(f"SELECT * FROM {table}")).all()  # noqa: S608
        assert secret not in repr(rows)


def test_the_feed_is_rate_limited_per_link(app, client, db) -> None:  # type: ignore[no-untyped-def]
    app.config["CALENDAR_FEED_RATE_LIMIT"] = "2 per minute"
    _cohort, participant = a_year(db)
    secret = subscribe(db, participant)
    other = subscribe(db, make_user(Role.COORDINATOR))
    assert [fetch(client, secret).status_code for _ in range(2)] == [200, 200]
    assert fetch(client, secret).status_code == 429
    assert fetch(client, other).status_code == 200  # another link, from the same address


def test_guessing_links_from_one_address_is_rate_limited(app, client, db) -> None:  # type: ignore[no-untyped-def]
    app.config["CALENDAR_FEED_ADDRESS_RATE_LIMIT"] = "3 per minute"
    guesses = [fetch(client, letter * 43).status_code for letter in "ABCD"]
    assert guesses == [404, 404, 404, 429]


# --- the pages --------------------------------------------------------------------------------------


def test_making_a_link_shows_it_once_with_webcal_and_instructions(auth, client, db) -> None:  # type: ignore[no-untyped-def]
    _cohort, participant = a_year(db)
    auth.login(participant.email)
    page = client.get("/calendar/").get_data(as_text=True)
    assert "Agenda op je telefoon" in page and "Parkstad 2026" in page
    assert "Abonneer in je agenda" in page and "Link intrekken" not in page

    response = auth.post("/calendar/new")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    shown = response.get_data(as_text=True)
    url = URL.search(shown)
    assert url, shown
    link = url.group(1)
    assert link.startswith("http://127.0.0.1:5000/calendar/") and link.endswith(".ics")
    assert 'href="webcal://127.0.0.1:5000/calendar/' in shown
    assert "Agenda-abonnement" in shown and "iPhone" in shown and "Android" in shown
    assert "Kopieer link" in shown
    secret = link.rsplit("/", 1)[1].removesuffix(".ics")
    assert fetch(client, secret).status_code == 200

    again = client.get("/calendar/").get_data(as_text=True)
    assert secret not in again
    assert "Maak een nieuwe link" in again and "Link intrekken" in again
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "calendar_feed.create")
        )
        == 1
    )


def test_revoking_asks_first_and_then_the_link_stops(auth, client, db) -> None:  # type: ignore[no-untyped-def]
    _cohort, participant = a_year(db)
    auth.login(participant.email)
    # Nothing to revoke yet: back to the page, with a word why.
    response = client.get("/calendar/revoke")
    assert response.status_code == 302 and response.headers["Location"] == "/calendar/"
    assert "niets in te trekken" in client.get("/calendar/").get_data(as_text=True)

    secret = URL.search(auth.post("/calendar/new").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    secret = secret.rsplit("/", 1)[1].removesuffix(".ics")
    confirm = client.get("/calendar/revoke").get_data(as_text=True)
    assert "Je agendalink intrekken?" in confirm
    assert fetch(client, secret).status_code == 200  # asking changes nothing

    response = auth.post("/calendar/revoke", follow_redirects=True)
    assert "Je agendalink is ingetrokken" in response.get_data(as_text=True)
    assert fetch(client, secret).status_code == 404
    feed = db.session.scalar(sa.select(CalendarFeed).where(CalendarFeed.user_id == participant.id))
    assert feed is not None and feed.revoked_at is not None
    assert (
        db.session.scalar(
            sa.select(AuditEvent.actor_id).where(AuditEvent.action == "calendar_feed.revoke")
        )
        == participant.id
    )


def test_the_pages_link_to_it(auth, client, db) -> None:  # type: ignore[no-untyped-def]
    _cohort, participant = a_year(db)
    auth.login(participant.email)
    for page in ("/profile", "/dashboard/participant"):
        response = client.get(page, follow_redirects=True)
        assert 'href="/calendar/"' in response.get_data(as_text=True), page


def test_two_links_made_at_the_same_moment_leave_one_that_works(app, db) -> None:  # type: ignore[no-untyped-def]
    """A double click that the form's token does not catch (a page without it): both answers show a
    link, and the later one's is the one that works (the one-working-link index and a retry)."""
    _cohort, participant = a_year(db)
    tabs = []
    for _ in range(2):
        tab = app.test_client()
        AuthActions(tab).login(participant.email)
        tabs.append((tab, csrf_token(tab, "/calendar/")))

    def make(tab):  # type: ignore[no-untyped-def]
        client, token = tab
        return lambda: client.post("/calendar/new", data={"csrf_token": token})

    first, second, _waited = hold_first_after(
        "INSERT INTO CALENDAR_FEEDS", make(tabs[0]), make(tabs[1])
    )
    assert first.status_code == second.status_code == 200
    links = [URL.search(r.get_data(as_text=True)).group(1) for r in (first, second)]  # type: ignore[union-attr]
    client = app.test_client()
    answers = sorted(
        client.get(link.removeprefix("http://127.0.0.1:5000")).status_code for link in links
    )
    assert answers == [200, 404]
    db.session.expire_all()
    active = db.session.scalars(
        sa.select(CalendarFeed).where(CalendarFeed.revoked_at.is_(None))
    ).all()
    assert len(active) == 1
