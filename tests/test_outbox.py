"""Outbox delivery over SMTP to a real server on loopback: once each, retried with back-off when the
server is down, failed for good after the last try or a permanent refusal, held to working hours."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import sqlalchemy as sa

from lms import clock
from lms.models import Notification, OutboxMessage, OutboxStatus, Role
from lms.services import accounts
from lms.services.mail import in_working_hours, next_working_moment, queue_mail
from lms.services.outbox import deliver_outbox
from tests.factories import make_user
from tests.mail_helpers import free_port, smtp_server, use_smtp

# A Wednesday morning in the Netherlands.
WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=clock.LOCAL_TZ)


def _queue_invitation(db, email: str = "ingrid@example.org", **fields):  # type: ignore[no-untyped-def]
    user = make_user(Role.TRAINER, password=None, email=email, first_name="Ingrid", **fields)
    accounts.send_invitation(user)
    db.session.commit()
    return db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == email))


def _reload(db, message_id: int) -> OutboxMessage:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def test_working_hours_are_monday_to_friday_eight_to_six_in_amsterdam() -> None:
    def local(*args: int) -> datetime:
        return datetime(*args, tzinfo=clock.LOCAL_TZ)

    assert in_working_hours(local(2026, 11, 25, 8, 0))
    assert not in_working_hours(local(2026, 11, 25, 7, 59))
    assert not in_working_hours(local(2026, 11, 25, 18, 0))
    assert not in_working_hours(local(2026, 11, 28, 12, 0))  # Saturday
    # Friday evening and the weekend wait for Monday 08:00; an early morning for 08:00 that day.
    assert next_working_moment(local(2026, 11, 27, 18, 30)) == local(2026, 11, 30, 8, 0)
    assert next_working_moment(local(2026, 11, 29, 9, 0)) == local(2026, 11, 30, 8, 0)
    assert next_working_moment(local(2026, 11, 24, 6, 15)) == local(2026, 11, 24, 8, 0)
    moment = local(2026, 11, 24, 11, 0)
    assert next_working_moment(moment) == moment
    # Summer time: 08:00 in Amsterdam is 06:00 UTC.
    assert next_working_moment(local(2027, 6, 5, 9, 0)).astimezone(clock.UTC).hour == 6


def test_a_message_is_delivered_with_text_and_html_and_marked_sent(app, db) -> None:
    with clock.frozen_at(WEDNESDAY):
        message = _queue_invitation(db)
    with smtp_server() as (inbox, port):
        use_smtp(app, port)
        report = deliver_outbox(WEDNESDAY)
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    [received] = inbox.messages
    assert received["To"] == "ingrid@example.org"
    assert received["Subject"] == "Je account voor Vakkracht MKB"
    assert received["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert "Hallo Ingrid," in received.get_body(("plain",)).get_content()
    assert "<p>Hallo Ingrid,</p>" in received.get_body(("html",)).get_content()
    stored = _reload(db, message.id)
    assert stored.status is OutboxStatus.SENT
    assert stored.attempts == 1
    assert stored.sent_at == WEDNESDAY


def test_smtp_down_then_up_loses_nothing_and_sends_each_mail_once(app, db) -> None:
    with clock.frozen_at(WEDNESDAY):
        first = _queue_invitation(db, "een@example.org")
        second = _queue_invitation(db, "twee@example.org")
    port = free_port()
    use_smtp(app, port)

    # Nothing listens: both are kept, to be tried again after a minute.
    report = deliver_outbox(WEDNESDAY)
    assert (report.sent, report.retrying) == (0, 2)
    stored = _reload(db, first.id)
    assert stored.status is OutboxStatus.PENDING
    assert stored.attempts == 1
    assert stored.next_attempt_at == WEDNESDAY + timedelta(minutes=1)
    assert stored.last_error

    # Still down a minute later: the wait doubles.
    deliver_outbox(WEDNESDAY + timedelta(minutes=1))
    assert _reload(db, first.id).next_attempt_at == WEDNESDAY + timedelta(minutes=3)

    with smtp_server(port) as (inbox, _):
        # Not due yet: nothing is sent before its time.
        assert deliver_outbox(WEDNESDAY + timedelta(minutes=2)).sent == 0
        assert deliver_outbox(WEDNESDAY + timedelta(minutes=3)).sent == 2
        # Running again (the next minute, or a restarted scheduler) sends nothing twice.
        assert deliver_outbox(WEDNESDAY + timedelta(minutes=4)).sent == 0
        assert deliver_outbox(WEDNESDAY + timedelta(hours=5)).sent == 0
    assert sorted(message["To"] for message in inbox.messages) == [
        "een@example.org",
        "twee@example.org",
    ]
    assert _reload(db, second.id).status is OutboxStatus.SENT
    assert _reload(db, second.id).attempts == 3


def test_after_the_last_attempt_the_message_fails_and_the_coordinator_can_retry_it(
    app, db, client, auth
) -> None:
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    coordinator = make_user(Role.COORDINATOR)
    with clock.frozen_at(WEDNESDAY):
        message = _queue_invitation(db, "kwijt@example.org")
    use_smtp(app, free_port())
    moment = WEDNESDAY
    for _ in range(3):
        deliver_outbox(moment)
        moment = _reload(db, message.id).next_attempt_at
    stored = _reload(db, message.id)
    assert stored.status is OutboxStatus.FAILED
    assert stored.attempts == 3
    # A failed message is no longer tried.
    assert deliver_outbox(moment + timedelta(days=1)).retrying == 0

    # The coordinator hears of it under the bell, and the notification leads to the page.
    [note] = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == coordinator.id)
    ).all()
    assert note.link == "/outbox/failed"
    auth.login(coordinator.email)
    assert "Er kon mail niet worden afgeleverd (1)." in client.get("/notifications/").get_data(
        as_text=True
    )
    page = client.get("/outbox/failed").get_data(as_text=True)
    assert "kwijt@example.org" in page
    assert "Opnieuw versturen" in page
    response = auth.post(f"/outbox/{message.id}/retry", follow_redirects=True)
    assert "wordt binnen een minuut opnieuw verstuurd" in response.get_data(as_text=True)
    stored = _reload(db, message.id)
    assert stored.status is OutboxStatus.PENDING
    assert stored.attempts == 0
    assert "kwijt@example.org" not in client.get("/outbox/failed").get_data(as_text=True)

    with smtp_server() as (inbox, port):
        use_smtp(app, port)
        deliver_outbox(clock.now())
    assert [received["To"] for received in inbox.messages] == ["kwijt@example.org"]


def test_a_permanent_refusal_fails_at_once_and_other_mail_still_goes(app, db) -> None:
    with clock.frozen_at(WEDNESDAY):
        refused = _queue_invitation(db, "refused@example.org")
        fine = _queue_invitation(db, "fine@example.org")
    with smtp_server() as (inbox, port):
        use_smtp(app, port)
        report = deliver_outbox(WEDNESDAY)
    assert (report.sent, report.failed) == (1, 1)
    assert _reload(db, refused.id).status is OutboxStatus.FAILED
    assert "550" in _reload(db, refused.id).last_error
    assert _reload(db, fine.id).status is OutboxStatus.SENT
    assert [received["To"] for received in inbox.messages] == ["fine@example.org"]


def test_reminder_mail_waits_for_working_hours_but_an_invitation_does_not(app, db) -> None:
    saturday = datetime(2026, 11, 28, 11, 0, tzinfo=clock.LOCAL_TZ)
    user = make_user(Role.PARTICIPANT, first_name="Sanne")
    with clock.frozen_at(saturday):
        reminder = queue_mail(
            user,
            "reminder",
            "Herinnering",
            working_hours_only=True,
            intro="Intro",
            items=[],
            action="Bekijk",
            link="http://x/",
            base_url="http://x",
        )
        invitation = _queue_invitation(db, "nieuw@example.org")
    db.session.commit()
    monday = datetime(2026, 11, 30, 8, 0, tzinfo=clock.LOCAL_TZ)
    with smtp_server() as (inbox, port):
        use_smtp(app, port)
        assert deliver_outbox(saturday).sent == 1
        assert [m["To"] for m in inbox.messages] == ["nieuw@example.org"]
        assert deliver_outbox(monday - timedelta(minutes=1)).sent == 0
        assert deliver_outbox(monday).sent == 1
    assert _reload(db, reminder.id).sent_at == monday
    assert _reload(db, invitation.id).sent_at == saturday


def test_a_retry_of_reminder_mail_is_moved_into_working_hours(app, db) -> None:
    friday_evening = datetime(2026, 11, 27, 17, 59, tzinfo=clock.LOCAL_TZ)
    user = make_user(Role.PARTICIPANT)
    with clock.frozen_at(friday_evening):
        message = queue_mail(
            user,
            "reminder",
            "Herinnering",
            working_hours_only=True,
            intro="Intro",
            items=[],
            action="Bekijk",
            link="http://x/",
            base_url="http://x",
        )
    db.session.commit()
    use_smtp(app, free_port())
    deliver_outbox(friday_evening)
    assert _reload(db, message.id).next_attempt_at == datetime(
        2026, 11, 30, 8, 0, tzinfo=clock.LOCAL_TZ
    )


def test_two_delivery_processes_at_once_send_each_message_once(app, db) -> None:
    with clock.frozen_at(WEDNESDAY):
        for number in range(12):
            make_user(Role.TRAINER, password=None, email=f"t{number}@example.org")
        db.session.commit()
        for user in db.session.scalars(sa.select(accounts.User)).all():
            accounts.send_invitation(user)
        db.session.commit()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            with app.app_context():
                start.wait()
                deliver_outbox(WEDNESDAY)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    with smtp_server() as (inbox, port):
        use_smtp(app, port)
        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    received = sorted(message["To"] for message in inbox.messages)
    assert received == sorted(f"t{number}@example.org" for number in range(12))
    db.session.expire_all()
    statuses = db.session.scalars(sa.select(OutboxMessage.status)).all()
    assert statuses == [OutboxStatus.SENT] * 12


def test_without_a_mail_server_development_logs_the_mail_and_marks_it_sent(app, db, caplog) -> None:
    with clock.frozen_at(WEDNESDAY):
        message = _queue_invitation(db, "log@example.org")
    assert not app.config.get("MAIL_SERVER")
    # Alembic's fileConfig (tests/test_migrations.py runs `db upgrade` in this process) disables the
    # loggers that existed then; a scheduler process never runs it.
    app.logger.disabled = False
    with caplog.at_level(logging.INFO, logger=app.logger.name):
        report = deliver_outbox(WEDNESDAY)
    assert report.sent == 1
    assert "log@example.org" in caplog.text
    assert "Hallo Ingrid," in caplog.text
    assert _reload(db, message.id).status is OutboxStatus.SENT


def test_production_without_a_mail_server_keeps_the_mail(app, db) -> None:
    with clock.frozen_at(WEDNESDAY):
        message = _queue_invitation(db)
    app.config["LMS_CONFIG_NAME"] = "production"
    assert deliver_outbox(WEDNESDAY).sent == 0
    assert _reload(db, message.id).status is OutboxStatus.PENDING


def test_password_reset_mail_goes_through_the_outbox_to_the_server(app, db) -> None:
    user = make_user(Role.PARTICIPANT, email="vergeten@example.org")
    db.session.commit()
    with clock.frozen_at(WEDNESDAY):
        assert accounts.request_password_reset(user.email) is not None
        db.session.commit()
    with smtp_server() as (inbox, port):
        use_smtp(app, port)
        deliver_outbox(WEDNESDAY)
    [received] = inbox.messages
    assert received["To"] == "vergeten@example.org"
    assert "/set-password/" in received.get_body(("plain",)).get_content()


def test_mail_settings_come_from_the_environment(monkeypatch) -> None:
    from config import TestingConfig
    from lms import create_app

    monkeypatch.setenv("MAIL_SERVER", "smtp.example.nl")
    monkeypatch.setenv("MAIL_PORT", "465")
    monkeypatch.setenv("MAIL_USERNAME", "lms")
    monkeypatch.setenv("MAIL_PASSWORD", "geheim")
    monkeypatch.setenv("MAIL_USE_SSL", "true")
    monkeypatch.setenv("MAIL_FROM", "Vakkracht <lms@vakkracht.nl>")
    app = create_app(TestingConfig)
    assert app.config["MAIL_SERVER"] == "smtp.example.nl"
    assert app.config["MAIL_PORT"] == 465
    assert app.config["MAIL_USERNAME"] == "lms"
    assert app.config["MAIL_PASSWORD"] == "geheim"
    assert app.config["MAIL_USE_SSL"] is True
    assert app.config["MAIL_USE_TLS"] is False
    assert app.config["MAIL_DEFAULT_SENDER"] == "Vakkracht <lms@vakkracht.nl>"
