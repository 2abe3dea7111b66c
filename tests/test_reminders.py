"""Reminder rules, each at most once per subject and period, in Amsterdam time, with an injected clock."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask import session

from lms import clock
from lms.extensions import db as _db
from lms.models import (
    Enrolment,
    MailPreference,
    Notification,
    OutboxMessage,
    ProgressReview,
    ProgressSummary,
    ReminderSweep,
    Role,
    SentReminder,
    User,
    Verdict,
)
from lms.services import progress, reminders
from lms.services.assessment import assess_submission
from lms.services.mail import render_mails
from lms.services.outbox import deliver_outbox
from lms.services.reminders import sweep
from tests.certificate_helpers import complete
from tests.factories import (
    make_attendance_recorded,
    make_cohort,
    make_employer,
    make_enrolment,
    make_handed_in_submission,
    make_programme,
    make_user,
)
from tests.mail_helpers import smtp_server, use_smtp

START = date(
    2026, 9, 7
)  # a Monday; A1 is due on Friday 25 September, A2 on 16 October, A3 on 6 November
END = date(2027, 6, 11)  # the Friday of week 40
LAST_DAY = date(2027, 6, 30)  # the simulated year runs until here


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=clock.LOCAL_TZ)


@dataclass
class World:
    trainer: User
    coordinator: User
    contact: User  # the employer's praktijkopleider
    idle: Enrolment  # does nothing all year
    busy: Enrolment  # hands in everything early

    @property
    def assignments(self):  # type: ignore[no-untyped-def]
        return sorted(self.idle.cohort.programme.assignments, key=lambda a: a.due_week)


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    trainer = make_user(Role.TRAINER, first_name="Tinus")
    coordinator = make_user(Role.COORDINATOR, first_name="Carla")
    employer = make_employer(name="Draaierij Kerkrade B.V.")
    contact = make_user(Role.EMPLOYER, employer=employer, first_name="Karin")
    cohort = make_cohort(make_programme(), start=START, trainers=[trainer])
    assert cohort.end_date == END
    idle = make_enrolment(
        cohort, make_user(Role.PARTICIPANT, first_name="Ivo", last_name="Idle"), employer
    )
    busy = make_enrolment(
        cohort, make_user(Role.PARTICIPANT, first_name="Bea", last_name="Busy"), employer
    )
    make_attendance_recorded(cohort)  # the attendance rules: tests/test_reminders_attendance.py
    db.session.commit()
    return World(trainer, coordinator, contact, idle, busy)


def new_process(app):  # type: ignore[no-untyped-def]
    """Another application on the same database, as a second or restarted scheduler process has."""
    from pathlib import Path

    from lms import create_app
    from tests.conftest import make_config

    return create_app(
        make_config(
            app.config["SQLALCHEMY_DATABASE_URI"], Path(app.config["EVIDENCE_STORAGE_PATH"])
        )
    )


def run(moment: datetime) -> reminders.SweepReport:
    with clock.frozen_at(moment):
        report = sweep(clock.now())
    _db.session.commit()
    return report


def settle(moment: datetime) -> None:
    """Make every summary look written at ``moment`` (before the first sweep): a sweep then finds only
    what falls due after it or what is written after it, as on a real server."""
    _db.session.execute(sa.update(ProgressSummary).values(updated_at=moment))
    _db.session.commit()


def notes(user: User, kind: str | None = None) -> list[Notification]:
    query = sa.select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(_db.session.scalars(query.order_by(Notification.id)))


def mails(user: User) -> list[OutboxMessage]:
    return list(
        _db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.recipient == user.email)
            .order_by(OutboxMessage.id)
        )
    )


def hand_in_early(world: World, enrolment: Enrolment) -> None:
    for assignment in world.assignments:
        make_handed_in_submission(enrolment, assignment, at=at(START + timedelta(days=3)))
    _db.session.commit()


# --- each rule --------------------------------------------------------------------------------


def test_due_within_seven_days_reminds_the_participant_once(world: World) -> None:
    hand_in_early(world, world.busy)
    assert run(at(date(2026, 9, 17))).claimed == {}  # eight days before A1's due date
    run(at(date(2026, 9, 18)))
    [note] = notes(world.idle.participant, reminders.DUE_SOON)
    assert note.link == "/portfolio/assignments/A1"
    assert "A1 Opdracht 1" in note.params["items"]
    [mail] = mails(world.idle.participant)
    assert mail.subject == "Herinnering: werk dat binnen 7 dagen af moet"
    assert "A1 Opdracht 1 (25 sep 2026)" in mail.body_text
    assert "/portfolio/assignments/A1" in mail.body_html
    # The next days of the window: nothing new. Work handed in early: no reminder at all.
    for day in range(19, 26):
        run(at(date(2026, 9, day)))
    assert len(notes(world.idle.participant, reminders.DUE_SOON)) == 1
    assert notes(world.busy.participant) == []


def test_overdue_reminds_the_participant_and_the_employer_weekly(world: World) -> None:
    hand_in_early(world, world.busy)
    run(at(date(2026, 9, 28)))  # Monday after A1's due date
    [note] = notes(world.idle.participant, reminders.OVERDUE)
    assert "A1 Opdracht 1" in note.params["items"]
    [digest] = mails(world.contact)
    assert digest.subject == "Weekoverzicht: werk van je werknemers dat te laat is"
    assert f"{world.idle.participant.full_name}: A1 Opdracht 1" in digest.body_text
    assert world.busy.participant.full_name not in digest.body_text
    for day in range(29, 31):
        run(at(date(2026, 9, day)))
    run(at(date(2026, 10, 4)))  # Sunday: still the same week
    assert len(notes(world.idle.participant, reminders.OVERDUE)) == 1
    assert len(mails(world.contact)) == 1
    run(at(date(2026, 10, 5)))  # a new week
    assert len(notes(world.idle.participant, reminders.OVERDUE)) == 2
    assert len(mails(world.contact)) == 2


def test_work_waiting_more_than_five_working_days_goes_to_the_trainers_daily(
    world: World,
) -> None:
    submission = make_handed_in_submission(
        world.busy,
        world.assignments[0],
        at=at(date(2026, 9, 21), 16),  # a Monday
    )
    _db.session.commit()
    run(at(date(2026, 9, 28)))  # five working days later: not yet
    assert notes(world.trainer, reminders.ASSESSMENT_WAITING) == []
    run(at(date(2026, 9, 29)))  # the sixth working day
    [note] = notes(world.trainer, reminders.ASSESSMENT_WAITING)
    assert note.link == f"/assessment/submissions/{submission.id}"
    assert "Bea Busy: A1 Opdracht 1" in note.params["items"]
    run(at(date(2026, 9, 29), 15))  # the same day: no second digest
    run(at(date(2026, 10, 3)))  # Saturday: none
    assert len(notes(world.trainer, reminders.ASSESSMENT_WAITING)) == 1
    run(at(date(2026, 9, 30)))
    assert len(notes(world.trainer, reminders.ASSESSMENT_WAITING)) == 2
    submission.record_verdict(Verdict.APPROVED, clock.now())
    _db.session.commit()
    run(at(date(2026, 10, 1)))
    assert len(notes(world.trainer, reminders.ASSESSMENT_WAITING)) == 2


def test_progress_review_due_after_twelve_weeks_without_one(world: World) -> None:
    _db.session.add(
        ProgressReview(
            enrolment=world.busy,
            trainer_id=world.trainer.id,
            held_on=date(2026, 11, 16),
            summary="Gaat goed.",
        )
    )
    _db.session.commit()
    run(at(date(2026, 11, 29)))  # 12 weeks after the start is Monday 30 November
    assert notes(world.idle.participant, reminders.REVIEW_DUE) == []
    run(at(date(2026, 11, 30)))
    assert len(notes(world.idle.participant, reminders.REVIEW_DUE)) == 1
    [trainer_note] = notes(world.trainer, reminders.REVIEW_DUE)
    assert trainer_note.link == f"/reviews/enrolments/{world.idle.id}"
    assert world.idle.participant.full_name in trainer_note.params["items"]
    assert world.busy.participant.full_name not in trainer_note.params["items"]
    run(at(date(2026, 12, 7)))
    assert len(notes(world.trainer, reminders.REVIEW_DUE)) == 1
    # Twelve weeks after Bea's review it is her turn.
    run(at(date(2027, 2, 8)))
    assert len(notes(world.busy.participant, reminders.REVIEW_DUE)) == 1


def test_six_weeks_before_the_end_with_work_open(world: World) -> None:
    complete(world.busy, at=at(date(2027, 3, 1)))
    _db.session.commit()
    run(at(date(2027, 4, 29)))
    assert notes(world.idle.participant, reminders.END_APPROACHING) == []
    run(at(date(2027, 4, 30)))  # six weeks before Friday 11 June
    assert len(notes(world.idle.participant, reminders.END_APPROACHING)) == 1
    for user in (world.trainer, world.coordinator):
        [note] = notes(user, reminders.END_APPROACHING)
        assert world.idle.participant.full_name in note.params["items"]
        assert world.busy.participant.full_name not in note.params["items"]
    assert notes(world.busy.participant, reminders.END_APPROACHING) == []
    run(at(date(2027, 5, 20)))
    assert len(notes(world.coordinator, reminders.END_APPROACHING)) == 1


def test_certificate_due_but_not_issued_reminds_the_coordinator_weekly(world: World) -> None:
    complete(world.busy, at=at(date(2027, 3, 1)))
    _db.session.commit()
    run(at(date(2027, 3, 2)))
    [note] = notes(world.coordinator, reminders.CERTIFICATE_DUE)
    assert world.busy.participant.full_name in note.params["items"]
    assert world.idle.participant.full_name not in note.params["items"]
    assert note.link == f"/certificates/enrolment/{world.busy.id}"
    run(at(date(2027, 3, 5)))
    assert len(notes(world.coordinator, reminders.CERTIFICATE_DUE)) == 1
    run(at(date(2027, 3, 8)))
    assert len(notes(world.coordinator, reminders.CERTIFICATE_DUE)) == 2
    assert notes(world.trainer, reminders.CERTIFICATE_DUE) == []


def test_no_activity_for_21_days(world: World) -> None:
    make_handed_in_submission(world.busy, world.assignments[0], at=at(date(2026, 9, 20)))
    _db.session.commit()
    run(at(date(2026, 9, 27)))  # 20 days after the start
    assert notes(world.idle.participant, reminders.INACTIVE) == []
    run(at(date(2026, 9, 28)))
    assert len(notes(world.idle.participant, reminders.INACTIVE)) == 1
    [note] = notes(world.trainer, reminders.INACTIVE)
    assert world.idle.participant.full_name in note.params["items"]
    assert world.busy.participant.full_name not in note.params["items"]
    run(at(date(2026, 10, 18)))
    assert len(notes(world.idle.participant, reminders.INACTIVE)) == 1
    run(at(date(2026, 10, 19)))  # 42 days: once more
    assert len(notes(world.idle.participant, reminders.INACTIVE)) == 2


def test_reminders_speak_the_recipients_language(world: World) -> None:
    world.idle.participant.locale = "en"
    _db.session.commit()
    run(at(date(2026, 9, 18)))
    [mail] = mails(world.idle.participant)
    assert mail.subject == "Reminder: work due within 7 days"
    assert mail.body_text.startswith("Hello Ivo,")
    assert "(25 Sep 2026)" in mail.body_text


def test_a_deactivated_account_gets_no_reminders(world: World) -> None:
    world.idle.participant.is_active_account = False
    _db.session.commit()
    run(at(date(2026, 9, 18)))
    assert notes(world.idle.participant) == []


def test_weekly_digest_preference_holds_non_urgent_mail_for_monday(world: World) -> None:
    participant = world.idle.participant
    participant.mail_preference = MailPreference.WEEKLY_DIGEST
    _db.session.commit()
    run(at(date(2026, 9, 28)))  # overdue and inactive: not urgent
    kinds = {note.kind for note in notes(participant)}
    assert kinds == {reminders.OVERDUE, reminders.INACTIVE}
    assert all(note.digest_pending for note in notes(participant))
    assert mails(participant) == []
    # Monday night: one overview of last week's reminders, and only once.
    run(at(date(2026, 10, 5), 0))
    run(at(date(2026, 10, 5), 1))
    [digest] = mails(participant)
    assert digest.subject == "Je weekoverzicht van herinneringen"
    assert "A1 Opdracht 1" in digest.body_text
    assert digest.next_attempt_at == at(date(2026, 10, 5), 8)  # held until working hours
    # Everything of last week went in; what came this Monday waits for next week's overview.
    pending = [note for note in notes(participant) if note.digest_pending]
    assert pending and all(note.created_at >= at(date(2026, 10, 5), 0) for note in pending)
    # Due soon is urgent: mailed at once all the same.
    run(at(date(2026, 10, 9)))
    assert mails(participant)[-1].subject == "Herinnering: werk dat binnen 7 dagen af moet"
    assert len(mails(participant)) == 2


def test_reminder_mail_is_held_until_working_hours(world: World) -> None:
    run(at(date(2026, 9, 19), 22))  # Saturday evening: A1 is due within 7 days
    [mail] = mails(world.idle.participant)
    assert mail.working_hours_only
    assert mail.next_attempt_at == at(date(2026, 9, 21), 8)


@pytest.mark.parametrize("in_request", [False, True], ids=["job", "request"])
def test_the_sweep_renders_each_mail_byte_for_byte_as_render_mail_does(
    app, world: World, in_request: bool
) -> None:
    """The sweep renders its mails in one batch (``render_mails``: each template and language set up
    once); every mail is what ``render_mail`` makes of it alone: subject, text and HTML, for every
    kind of reminder, in both languages, one item or several, text that HTML must escape."""
    dutch = world.contact
    english = make_user(
        Role.EMPLOYER, employer=world.idle.employer, first_name="Sam <&> O'Neil", locale="en"
    )
    items = (
        reminders.Item(
            "A1 Lassen & <b>solderen</b> 'veilig'", date(2026, 9, 25), "/portfolio/a/A1"
        ),
        reminders.Item('A2 "Opdracht" 2', date(2026, 10, 16), "/portfolio/a/A2"),
        reminders.Item("Zonder datum", None, "/certificates/"),
    )
    mails = []
    for rule in reminders.RULES:
        for recipient in (english, dutch):
            for chosen in (items[:1], items):
                _, mail = reminders.reminder(rule, recipient, chosen, {"enrolment:1"})
                assert mail is not None
                mails.append(mail)
    with clock.frozen_at(at(date(2026, 9, 19), 22)):
        if in_request:  # a page's request, in the other language than the recipient's
            with app.test_request_context():
                session["locale"] = "en"
                batch, one_by_one = render_mails(mails), [mail.render() for mail in mails]
        else:
            batch, one_by_one = render_mails(mails), [mail.render() for mail in mails]
    assert batch == one_by_one
    assert len({row["body_html"] for row in batch}) == len(mails)  # no two alike: all were rendered
    # What the comparison covers: escaping in both bodies, both languages, the button's sentence.
    english_digest = batch[2 * 2 * reminders.RULES.index(reminders.EMPLOYER_OVERDUE) + 1]
    assert english_digest["subject"] == "Weekly overview: your employees' work past its due date"
    assert "Hello Sam &lt;&amp;&gt; O&#39;Neil," in english_digest["body_html"]
    assert "Hello Sam <&> O'Neil," in english_digest["body_text"]


def test_claim_all_returns_the_keys_it_inserted(world: World) -> None:
    """One statement on PostgreSQL, batches on SQLite: a key claimed before, or twice in the same
    call, counts once, and only the keys inserted now come back."""
    now = clock.now()
    participant = world.idle.participant

    def hit(subject: str) -> reminders.Hit:
        return reminders.Hit(reminders.DUE_SOON, participant, subject, "due:2026-09-25", ())

    assert reminders.claim_all([hit("s:1")], now) == {hit("s:1").key}
    claimed = reminders.claim_all([hit("s:1"), hit("s:2"), hit("s:3"), hit("s:2")], now)
    assert claimed == {hit("s:2").key, hit("s:3").key}
    assert rows(SentReminder) == 3


def test_the_unique_key_refuses_a_second_row(world: World) -> None:
    row = {
        "rule": reminders.DUE_SOON,
        "subject_key": "enrolment:1:assignment:1",
        "period_key": "due:2026-09-25",
        "recipient_id": world.idle.participant_id,
    }
    _db.session.add(SentReminder(**row))
    _db.session.commit()
    _db.session.add(SentReminder(**row))
    with pytest.raises(sa.exc.IntegrityError):
        _db.session.commit()
    _db.session.rollback()


# --- restart, concurrency and a whole year ----------------------------------------------------


def test_a_restarted_scheduler_does_not_resend(app, world: World) -> None:
    from lms.scheduler import run_reminder_sweep

    with clock.frozen_at(at(date(2026, 9, 28))):
        first = run_reminder_sweep(app)
        assert sum(first.claimed.values()) > 0
        # A new process: a new application on the same database.
        restarted = new_process(app)
        second = run_reminder_sweep(restarted)
    assert sum(second.claimed.values()) == 0
    assert second.mails == 0
    _db.session.expire_all()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == first.mails


def test_two_schedulers_at_the_same_moment_send_each_reminder_once(app, world: World) -> None:
    moment = at(date(2026, 9, 28))  # overdue, inactive and the employer's digest at once
    start = threading.Barrier(2)
    reports: list[reminders.SweepReport] = []
    errors: list[BaseException] = []

    def scheduler_process() -> None:
        try:
            with app.app_context():
                start.wait()
                reports.append(sweep(moment))
                _db.session.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=scheduler_process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _db.session.expire_all()
    claimed = sum(sum(report.claimed.values()) for report in reports)
    rows = _db.session.scalar(sa.select(sa.func.count()).select_from(SentReminder))
    assert claimed == rows > 0
    # Each reminder once: one row per key, and no reminder mailed twice to anyone.
    per_recipient = Counter(
        (note.user_id, note.kind, note.params["items"])
        for note in _db.session.scalars(sa.select(Notification))
    )
    assert max(per_recipient.values()) == 1
    overdue = [note for note in notes(world.idle.participant) if note.kind == reminders.OVERDUE]
    assert len(overdue) == 1


@pytest.mark.parametrize("settled", [False, True], ids=["summaries-changed", "summaries-settled"])
def test_a_simulated_cohort_year(app, world: World, settled: bool) -> None:
    """Every day of the year at 10:00 the scheduler sweeps; a restarted one sweeps right after it on
    every day that brought reminders (and every Monday).
    Ivo does nothing; Bea hands in everything in the first week and it is approved at once; Wim hands
    in A1 on 21 September and no trainer looks at it until March.

    The world is built at the real time of the test run, so its summaries look rewritten after most
    of these sweeps (every sweep then looks at every enrolment). ``settled``: they were written before
    the first sweep, so each sweep finds only what fell due or changed since the previous one: the
    same reminders."""
    waiting = make_enrolment(
        world.idle.cohort,
        make_user(Role.PARTICIPANT, first_name="Wim", last_name="Wacht"),
        world.idle.employer,
    )
    waiting_work = make_handed_in_submission(
        waiting, world.assignments[0], at=at(date(2026, 9, 21))
    )
    for assignment in world.assignments:
        submission = make_handed_in_submission(world.busy, assignment, at=at(date(2026, 9, 9)))
        submission.record_verdict(Verdict.APPROVED, at(date(2026, 9, 10)))
    progress.refresh_summaries([world.busy])
    _db.session.commit()
    if settled:
        settle(at(date(2026, 8, 31)))
    restarted = new_process(app)

    def deliver_all(moment: datetime) -> None:
        while deliver_outbox(moment).sent:
            pass

    day = date(2026, 9, 1)
    with smtp_server() as (smtp, port):
        use_smtp(app, port)
        while day <= LAST_DAY:
            if day == date(2027, 3, 1):  # at last the trainer assesses Wim's work
                with clock.frozen_at(at(day, 9)):
                    assess_submission(
                        waiting_work,
                        actor=world.trainer,
                        verdict=Verdict.NEEDS_REVISION,
                        feedback="Foto's ontbreken.",
                        at=clock.now(),
                    )
                _db.session.commit()
            first = run(at(day))
            if first.claimed or day.weekday() == 0:  # a restarted process right after it
                with restarted.app_context(), clock.frozen_at(at(day, 10)):
                    again = sweep(clock.now())
                    _db.session.commit()
                assert sum(again.claimed.values()) == 0, day
            if day.weekday() == 0:  # the outbox job, on Monday afternoons for speed
                deliver_all(at(day, 14))
            day += timedelta(days=1)
        deliver_all(at(LAST_DAY + timedelta(days=5), 14))

    def count(user: User, kind: str) -> int:
        return len(notes(user, kind))

    def days(first: date, last: date) -> list[date]:
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    ivo, bea, wim = world.idle.participant, world.busy.participant, waiting.participant
    # Due soon: once per assignment.
    assert count(ivo, reminders.DUE_SOON) == 3
    assert count(wim, reminders.DUE_SOON) == 2  # A1 was handed in before its window
    assert count(bea, reminders.DUE_SOON) == 0
    # Overdue: once a week from the day after A1's due date until the end of the programme.
    overdue_weeks = {d.isocalendar()[:2] for d in days(date(2026, 9, 26), END)}
    assert count(ivo, reminders.OVERDUE) == len(overdue_weeks)
    assert count(bea, reminders.OVERDUE) == 0
    assert count(world.contact, reminders.EMPLOYER_OVERDUE) == len(overdue_weeks)
    # The trainer: a daily digest on every working day from the sixth working day after 21 September,
    # as long as the work waits.
    working_days = [d for d in days(date(2026, 9, 29), date(2027, 2, 28)) if d.weekday() < 5]
    assert count(world.trainer, reminders.ASSESSMENT_WAITING) == len(working_days)
    # A progress review 12 weeks after the start (none was ever held): once each.
    assert count(ivo, reminders.REVIEW_DUE) == count(bea, reminders.REVIEW_DUE) == 1
    assert count(world.trainer, reminders.REVIEW_DUE) == 1  # one list for the whole cohort
    # Six weeks before the end: everyone with work open, and one list for trainer and coordinator.
    assert count(ivo, reminders.END_APPROACHING) == count(wim, reminders.END_APPROACHING) == 1
    assert count(world.coordinator, reminders.END_APPROACHING) == 1
    [end_note] = notes(world.coordinator, reminders.END_APPROACHING)
    assert ivo.full_name in end_note.params["items"] and wim.full_name in end_note.params["items"]
    # No activity: after 21, 42, ... days without anything, until the end.
    assert count(ivo, reminders.INACTIVE) == (END - START).days // 21
    # Nothing after the programme ended.
    late = _db.session.scalars(
        sa.select(Notification.kind).where(Notification.created_at > at(END, 23))
    ).all()
    assert late == []
    # Every notification was mailed exactly once (nobody chose the digest here), over SMTP.
    per_user = Counter(
        email
        for email in _db.session.scalars(
            sa.select(User.email).join(Notification, Notification.user_id == User.id)
        )
    )
    assert Counter(message["To"] for message in smtp.messages) == per_user
    assert sum(per_user.values()) > 200


def test_a_sweep_claims_in_a_few_statements_however_many_reminders(world: World, count_queries):  # type: ignore[no-untyped-def]
    """Each reminder used to be claimed with an INSERT of its own: a sweep over 6,000 enrolments sent
    over 20,000 statements even when everything had gone out an hour before (benchmarks/RESULTS.md)."""
    moment = at(date(2026, 10, 19))  # A1 and A2 overdue for everybody
    employer = world.idle.employer

    def repeated_sweep() -> int:
        run(moment)  # claims what is new
        with count_queries() as counter, clock.frozen_at(moment):
            again = sweep(clock.now())
        _db.session.rollback()
        assert sum(again.claimed.values()) == 0
        return counter.count

    few = repeated_sweep()
    for number in range(10):
        make_enrolment(
            world.idle.cohort, make_user(Role.PARTICIPANT, first_name=f"Extra{number}"), employer
        )
    _db.session.commit()
    first = run(moment)
    assert first.claimed["assignment_overdue"] >= 10
    assert repeated_sweep() == few


# --- only what changed or fell due since the previous sweep ------------------------------------


def rows(model) -> int:  # type: ignore[no-untyped-def]
    _db.session.expire_all()
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def add_participants(world: World, number: int) -> None:
    for n in range(number):
        make_enrolment(
            world.idle.cohort,
            make_user(Role.PARTICIPANT, first_name=f"Extra{n}"),
            world.idle.employer,
        )
    _db.session.commit()


def test_an_hour_later_the_sweep_sends_and_inserts_nothing_in_a_few_statements(
    world: World, count_queries
) -> None:  # type: ignore[no-untyped-def]
    """The hourly sweep used to claim every reminder key again (25,243 INSERTs an hour at scale 1)."""
    moment = at(date(2026, 10, 19))  # A1 and A2 overdue, inactive, the employer's digest

    def hour_later() -> tuple[int, list[str], reminders.SweepReport]:
        settle(moment - timedelta(days=1))
        first = run(moment)
        assert sum(first.claimed.values()) > 0 and first.checked == 2 + extra
        counts = (rows(SentReminder), rows(Notification), rows(OutboxMessage))
        with count_queries() as counter, clock.frozen_at(moment + timedelta(hours=1)):
            again = sweep(clock.now())
        _db.session.commit()
        assert (rows(SentReminder), rows(Notification), rows(OutboxMessage)) == counts
        return counter.count, counter.statements, again

    extra = 0
    few, statements, again = hour_later()
    assert sum(again.claimed.values()) == again.notifications == again.mails == 0
    assert again.checked == 0 and again.since == moment
    assert not [s for s in statements if "sent_reminders" in s]  # no key claimed again
    assert few <= 4, statements  # the previous run, what changed, the digest check, the run's row
    # Ten more participants: the same few statements.
    _db.session.execute(sa.delete(ReminderSweep))
    _db.session.execute(sa.delete(SentReminder))
    _db.session.commit()
    extra = 10
    add_participants(world, extra)
    assert hour_later()[0] == few


def test_a_reminder_that_fell_due_since_the_last_sweep_is_found(world: World) -> None:
    hand_in_early(world, world.busy)
    settle(at(date(2026, 9, 1)))
    run(at(date(2026, 9, 25)))  # Friday: A1 due today, not overdue yet
    assert notes(world.idle.participant, reminders.OVERDUE) == []
    report = run(at(date(2026, 9, 26)))  # Saturday, the same week: A1 is overdue now
    assert report.checked == 1  # Ivo only: nothing changed or fell due for Bea
    [note] = notes(world.idle.participant, reminders.OVERDUE)
    assert "A1 Opdracht 1" in note.params["items"]
    assert len(mails(world.contact)) == 1  # the employer's weekly overview too
    # The next days of that week nothing new is overdue: nobody is looked at.
    assert run(at(date(2026, 9, 27))).checked == 0


def test_a_change_since_the_last_sweep_is_picked_up_within_the_hour(world: World) -> None:
    """Bea handed in A1 in time; an hour after the sweep the trainer sends it back: it is overdue now,
    and the next hourly sweep (the same day, the same week) reminds her."""
    submission = make_handed_in_submission(world.busy, world.assignments[0], at=at(START))
    _db.session.commit()
    settle(at(date(2026, 9, 1)))
    run(at(date(2026, 9, 29)))  # Tuesday
    assert notes(world.busy.participant, reminders.OVERDUE) == []
    with clock.frozen_at(at(date(2026, 9, 29), 10) + timedelta(minutes=30)):
        assess_submission(
            submission,
            actor=world.trainer,
            verdict=Verdict.NEEDS_REVISION,
            feedback="Maak de foto's opnieuw.",
            at=clock.now(),
        )
    _db.session.commit()
    report = run(at(date(2026, 9, 29), 11))
    assert report.checked == 1
    assert report.claimed == {reminders.OVERDUE: 1}  # the employer had this week's overview
    [note] = notes(world.busy.participant, reminders.OVERDUE)
    assert "A1 Opdracht 1" in note.params["items"]


def test_a_review_recorded_since_the_last_sweep_counts(world: World) -> None:
    """A review written down late (held long ago) makes the next one due at once."""
    settle(at(date(2026, 9, 1)))
    run(at(date(2027, 3, 1), 9))
    with clock.frozen_at(at(date(2027, 3, 1), 10)):
        _db.session.add(
            ProgressReview(
                enrolment=world.busy,
                trainer_id=world.trainer.id,
                held_on=date(2026, 11, 30),
                summary="Gaat goed.",
                created_at=clock.now(),
            )
        )
        _db.session.commit()
    before = len(notes(world.busy.participant, reminders.REVIEW_DUE))
    report = run(at(date(2027, 3, 1), 11))
    assert report.claimed.get(reminders.REVIEW_DUE, 0) >= 1
    assert len(notes(world.busy.participant, reminders.REVIEW_DUE)) == before + 1


def test_the_first_sweep_writes_in_batches_whatever_the_number_of_reminders(
    world: World, count_queries
) -> None:  # type: ignore[no-untyped-def]
    """The first sweep on a database that never sent anything: one flush per notification and per
    mail made 21,252 statements at scale 1. Now a few multi-row INSERTs, as many for 12 as for 2."""
    make_handed_in_submission(world.busy, world.assignments[0], at=at(date(2026, 9, 21)))
    _db.session.commit()
    moment = at(date(2026, 11, 30))  # overdue, review due, inactive, waiting work, the digest

    def first_sweep() -> tuple[int, reminders.SweepReport]:
        with count_queries() as counter, clock.frozen_at(moment):
            report = sweep(clock.now())
        _db.session.rollback()
        return counter.count, report

    few, report = first_sweep()
    assert report.since is None and report.notifications > 4 and report.mails > 4
    add_participants(world, 10)
    many, report = first_sweep()
    assert report.notifications > 10
    assert many == few


def test_the_nightly_job_forgets_old_sweeps_but_never_the_latest(app, world: World) -> None:
    from lms.scheduler import run_nightly_prune

    now = clock.now()
    for age in (timedelta(days=40), timedelta(days=31)):
        _db.session.add(ReminderSweep(ran_at=now - age))
    _db.session.commit()
    assert run_nightly_prune(app)["reminder sweeps"] == 1  # the latest stays: the next starts there
    assert reminders.previous_sweep(now) == now - timedelta(days=31)
    _db.session.add(ReminderSweep(ran_at=now - timedelta(hours=1)))
    _db.session.commit()
    assert run_nightly_prune(app)["reminder sweeps"] == 1
    assert rows(ReminderSweep) == 1


def test_the_cycle_collector_rests_during_a_sweep_only(world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The first sweep holds every enrolment, hit and mail at once: the collector went through them
    all again and again (a third of its time at scale 1). Off during the sweep, as it was after."""
    import gc

    seen: list[bool] = []
    all_hits = reminders.all_hits

    def watched(window: reminders.Window):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return all_hits(window)

    monkeypatch.setattr(reminders, "all_hits", watched)
    assert gc.isenabled()
    run(at(date(2026, 9, 28)))
    assert seen == [False] and gc.isenabled()
    gc.disable()  # a caller that had it off keeps it off
    try:
        run(at(date(2026, 9, 29)))
        assert not gc.isenabled()
    finally:
        gc.enable()
