"""The bell, the notification list, the mail preference on the profile page, the commands and the
scheduler's set-up."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from lms import clock
from lms.models import MailPreference, Notification, OutboxMessage, OutboxStatus, Role, User
from lms.services import notifications
from lms.services.notifications import notify
from tests.factories import make_cohort, make_enrolment, make_programme, make_user

PARAMS = {
    "trainer": "Ingrid Vaessen",
    "code": "A1",
    "title": "Veilig werken",
    "verdict": "approved",
}


def _notify(
    user: User, count: int = 1, link: str = "/portfolio/assignments/A1"
) -> list[Notification]:
    made = [notify(user, notifications.ASSESSMENT_APPROVED, PARAMS, link) for _ in range(count)]
    return made


def _bell_count(html: str) -> str | None:
    match = re.search(r'class="bell__count"[^>]*>([^<]+)<', html)
    return match.group(1) if match else None


def test_the_bell_shows_the_unread_count(db, client, auth) -> None:
    participant = make_user(Role.PARTICIPANT)
    other = make_user(Role.PARTICIPANT)
    _notify(participant, 3)
    _notify(other, 5)
    db.session.commit()
    auth.login(participant.email)
    page = client.get("/portfolio/").get_data(as_text=True)
    assert _bell_count(page) == "3"
    assert "Meldingen, ongelezen: 3" in page


def test_no_count_when_everything_is_read(db, client, auth) -> None:
    participant = make_user(Role.PARTICIPANT)
    db.session.commit()
    auth.login(participant.email)
    page = client.get("/portfolio/").get_data(as_text=True)
    assert 'href="/notifications/"' in page
    assert _bell_count(page) is None


def test_the_list_shows_own_notifications_newest_first_with_pages(db, client, auth, app) -> None:
    app.config["PER_PAGE"] = 2
    participant = make_user(Role.PARTICIPANT)
    base = datetime(2026, 10, 1, 9, tzinfo=clock.LOCAL_TZ)
    for number, code in enumerate(("A1", "A2", "A3")):
        with clock.frozen_at(base + timedelta(days=number)):
            notify(participant, notifications.ASSESSMENT_APPROVED, {**PARAMS, "code": code})
    notify(make_user(Role.PARTICIPANT), notifications.ASSESSMENT_APPROVED, {**PARAMS, "code": "X9"})
    db.session.commit()
    auth.login(participant.email)
    first = client.get("/notifications/").get_data(as_text=True)
    assert first.index("opdracht A3") < first.index("opdracht A2")
    # "opdracht X9", not "X9" alone: a random form token on the page may hold those two characters.
    assert "opdracht A1" not in first and "opdracht X9" not in first
    assert "Pagina 1 van 2" in first
    second = client.get("/notifications/?page=2").get_data(as_text=True)
    assert "opdracht A1" in second


def test_an_empty_list_says_what_will_come(db, client, auth) -> None:
    participant = make_user(Role.PARTICIPANT)
    db.session.commit()
    auth.login(participant.email)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Nog geen meldingen" in page


def test_open_marks_read_and_goes_to_the_subject(db, client, auth) -> None:
    participant = make_user(Role.PARTICIPANT)
    [note] = _notify(participant)
    db.session.commit()
    auth.login(participant.email)
    response = auth.post(f"/notifications/{note.id}/open")
    assert response.status_code == 302
    assert response.headers["Location"] == "/portfolio/assignments/A1"
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is not None


def test_a_link_to_another_site_is_never_followed(db, client, auth) -> None:
    participant = make_user(Role.PARTICIPANT)
    [note] = _notify(participant, link="https://evil.example/")
    db.session.commit()
    auth.login(participant.email)
    response = auth.post(f"/notifications/{note.id}/open")
    assert response.headers["Location"] == "/notifications/"


def test_mark_one_and_mark_all_as_read(db, client, auth) -> None:
    participant = make_user(Role.PARTICIPANT)
    first, *rest = _notify(participant, 3)
    other_users = _notify(make_user(Role.PARTICIPANT))
    db.session.commit()
    auth.login(participant.email)
    auth.post(f"/notifications/{first.id}/read")
    db.session.expire_all()
    assert db.session.get(Notification, first.id).read_at is not None
    assert all(db.session.get(Notification, note.id).read_at is None for note in rest)
    response = auth.post("/notifications/read-all", follow_redirects=True)
    assert "Alle meldingen zijn als gelezen gemarkeerd." in response.get_data(as_text=True)
    db.session.expire_all()
    assert all(db.session.get(Notification, note.id).read_at is not None for note in rest)
    assert db.session.get(Notification, other_users[0].id).read_at is None
    assert _bell_count(client.get("/notifications/").get_data(as_text=True)) is None


def test_someone_elses_notification_is_not_found(db, client, auth) -> None:
    participant = make_user(Role.PARTICIPANT)
    [theirs] = _notify(make_user(Role.PARTICIPANT))
    db.session.commit()
    auth.login(participant.email)
    assert auth.post(f"/notifications/{theirs.id}/open").status_code == 404
    assert auth.post(f"/notifications/{theirs.id}/read").status_code == 404
    db.session.expire_all()
    assert db.session.get(Notification, theirs.id).read_at is None


def test_notification_pages_need_a_login_and_posts_need_a_token(db, client, auth) -> None:
    participant = make_user(Role.PARTICIPANT)
    [note] = _notify(participant)
    db.session.commit()
    assert client.get("/notifications/").status_code == 302
    auth.login(participant.email)
    assert client.post(f"/notifications/{note.id}/read").status_code == 400


def test_a_reminder_notification_reads_as_a_sentence(db, client, auth) -> None:
    from lms.services import reminders

    participant = make_user(Role.PARTICIPANT)
    notify(participant, reminders.OVERDUE, {"items": "A1 Veilig werken; A2 5S"}, "/portfolio/")
    db.session.commit()
    auth.login(participant.email)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Te laat en nog niet ingeleverd: A1 Veilig werken; A2 5S." in page


def test_the_failed_mail_page_is_for_the_coordinator_only(db, client, auth) -> None:
    message = OutboxMessage(
        recipient="kwijt@example.org",
        subject="Je account",
        body_text="Hallo",
        status=OutboxStatus.FAILED,
        attempts=8,
        last_error="Connection refused",
    )
    db.session.add(message)
    trainer = make_user(Role.TRAINER)
    db.session.commit()
    auth.login(trainer.email)
    assert client.get("/outbox/failed").status_code == 403
    assert auth.post(f"/outbox/{message.id}/retry").status_code == 404
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status is OutboxStatus.FAILED


def test_the_failed_mail_page_searches_and_says_when_all_is_well(db, client, auth) -> None:
    coordinator = make_user(Role.COORDINATOR)
    for address in ("een@example.org", "twee@example.org"):
        db.session.add(
            OutboxMessage(
                recipient=address, subject="Herinnering", body_text="x", status=OutboxStatus.FAILED
            )
        )
    db.session.add(OutboxMessage(recipient="gelukt@example.org", subject="s", body_text="x"))
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get("/outbox/failed?q=twee").get_data(as_text=True)
    assert "twee@example.org" in page and "een@example.org" not in page
    assert "gelukt@example.org" not in client.get("/outbox/failed").get_data(as_text=True)
    db.session.execute(sa.delete(OutboxMessage))
    db.session.commit()
    assert "Alle mail is afgeleverd" in client.get("/outbox/failed").get_data(as_text=True)


def test_the_profile_page_saves_the_mail_preference(db, client, auth) -> None:
    participant = make_user(Role.PARTICIPANT)
    db.session.commit()
    assert participant.mail_preference is MailPreference.IMMEDIATE
    auth.login(participant.email)
    page = client.get("/profile").get_data(as_text=True)
    assert "Herinneringen per mail" in page
    assert re.search(r'value="immediate"[^>]*checked|checked[^>]*value="immediate"', page)
    response = auth.post(
        "/profile/mail-preference", {"mail_preference": "weekly_digest"}, follow_redirects=True
    )
    assert "Je keuze voor herinneringen per mail is opgeslagen." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, participant.id).mail_preference is MailPreference.WEEKLY_DIGEST


def test_an_invalid_mail_preference_is_refused_with_a_message(db, client, auth) -> None:
    participant = make_user(Role.PARTICIPANT)
    db.session.commit()
    auth.login(participant.email)
    response = auth.post("/profile/mail-preference", {"mail_preference": "hourly"})
    assert response.status_code == 400
    assert "field__error" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, participant.id).mail_preference is MailPreference.IMMEDIATE


# --- commands and the scheduler ---------------------------------------------------------------


def _overdue_world(db):  # type: ignore[no-untyped-def]
    cohort = make_cohort(make_programme(), start=date(2026, 9, 7))
    enrolment = make_enrolment(cohort)
    db.session.commit()
    return enrolment


def test_lms_remind_runs_one_sweep_and_can_be_repeated(runner, db) -> None:
    enrolment = _overdue_world(db)
    with clock.frozen_at(datetime(2026, 9, 28, 10, tzinfo=clock.LOCAL_TZ)):
        first = runner.invoke(args=["lms", "remind"])
        second = runner.invoke(args=["lms", "remind"])
    assert first.exit_code == 0, first.output
    assert "assignment_overdue 1" in first.output
    assert "reminders: 0" in second.output
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == enrolment.participant_id)
    )
    assert count == 2  # overdue and no activity for 21 days


def test_lms_outbox_deliver_sends_what_is_due(runner, db, app) -> None:
    from lms.services import accounts
    from tests.mail_helpers import smtp_server, use_smtp

    accounts.send_invitation(make_user(Role.TRAINER, password=None, email="nieuw@example.org"))
    db.session.commit()
    with smtp_server() as (inbox, port):
        use_smtp(app, port)
        result = runner.invoke(args=["lms", "outbox", "deliver"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert [message["To"] for message in inbox.messages] == ["nieuw@example.org"]


def test_the_scheduler_has_its_jobs_with_fixed_ids(app) -> None:
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    from lms.scheduler import (
        LEDGER_JOB_ID,
        NIGHTLY_PRUNE_JOB_ID,
        OUTBOX_JOB_ID,
        REMINDER_JOB_ID,
        create_scheduler,
    )

    scheduler = create_scheduler(app, blocking=False)
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {
            REMINDER_JOB_ID,
            OUTBOX_JOB_ID,
            LEDGER_JOB_ID,
            NIGHTLY_PRUNE_JOB_ID,
        }
        assert isinstance(jobs[REMINDER_JOB_ID].trigger, CronTrigger)
        assert str(jobs[REMINDER_JOB_ID].trigger.fields[6]) == "5"  # minute 5 of every hour
        assert isinstance(jobs[OUTBOX_JOB_ID].trigger, IntervalTrigger)
        assert jobs[OUTBOX_JOB_ID].trigger.interval == timedelta(minutes=1)
        assert str(jobs[LEDGER_JOB_ID].trigger.fields[5]) == "3"  # every night at 3:15
        assert isinstance(jobs[NIGHTLY_PRUNE_JOB_ID].trigger, CronTrigger)
        assert str(jobs[NIGHTLY_PRUNE_JOB_ID].trigger.fields[5]) == "3"  # 03:20 at night
        assert all(job.max_instances == 1 for job in jobs.values())
        # Adding the jobs again replaces them rather than doubling them.
        from lms.scheduler import add_jobs

        add_jobs(scheduler, app)
        assert len(scheduler.get_jobs()) == 4
    finally:
        scheduler.shutdown(wait=False)


def test_the_jobs_run_in_their_own_app_context_and_commit(app, db) -> None:
    from lms.scheduler import run_outbox_delivery, run_reminder_sweep

    enrolment = _overdue_world(db)
    with clock.frozen_at(datetime(2026, 9, 28, 10, tzinfo=clock.LOCAL_TZ)):
        report = run_reminder_sweep(app)
    assert report.claimed
    db.session.rollback()  # the job committed in its own session: the rows are there
    assert db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == enrolment.participant_id)
    )
    with clock.frozen_at(datetime(2026, 9, 28, 10, tzinfo=clock.LOCAL_TZ)):
        delivered = run_outbox_delivery(app)
    assert delivered.sent == report.mails  # development without SMTP: logged and marked sent


def test_web_workers_never_start_a_scheduler(tmp_path) -> None:
    """The web application (what gunicorn loads) does not even import APScheduler."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = (
        "import sys; from lms import create_app; app = create_app('testing'); "
        "print(sorted(m for m in sys.modules if 'apscheduler' in m))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "LMS_INSTANCE_PATH": str(tmp_path)},
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
