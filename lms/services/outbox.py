"""Delivering the mail outbox over SMTP, each message once, with retries and back-off.

``deliver_outbox`` is what the scheduler runs every minute (and ``flask lms outbox deliver`` once):

1. **Claim** due messages for this process in one statement that moves their ``next_attempt_at`` a
   lease ahead: ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING id`` on
   PostgreSQL, the same atomic ``UPDATE ... RETURNING`` on SQLite (which has one writer at a time). A
   second delivery process at the same moment skips the claimed rows; a process that dies mid-send
   leaves a lease that runs out, so the message is tried again later.
2. **Send** them over one SMTP connection; record each outcome at once in its own transaction.
3. A message that cannot be sent (server down, a temporary refusal) is tried again after 1, 2, 4, ...
   minutes (at most ``MAIL_RETRY_MAX_SECONDS``); after ``MAIL_MAX_ATTEMPTS`` tries, or at once when the
   server refuses the address for good (5xx), it is *failed*: the coordinators get a notification (at
   most once a day), see it on the failed-mail page and can send it again.

Without ``MAIL_SERVER`` outside production each message is written to the log and marked sent, so
development needs no mail server. This module commits: it is a job, not a rule called by a route.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms import clock
from lms.extensions import db
from lms.models import OutboxMessage, OutboxStatus, Role, User
from lms.services import audit, notifications
from lms.services.mail import next_working_moment

log = logging.getLogger(__name__)

# How long a claimed message is reserved for the process that claimed it.
LEASE = timedelta(minutes=10)

# The coordinators hear of failed mail under the bell, at most once a day.
MAIL_FAILED = "mail_failed"
notifications.SENTENCES[MAIL_FAILED] = _l(
    "Some mail could not be delivered (%(count)d). Check the e-mail addresses and send it again."
)


class PermanentFailure(Exception):
    """The server refused this message for good (e.g. the address does not exist)."""


class Sender(Protocol):
    def __enter__(self) -> Sender: ...
    def __exit__(self, *exc: object) -> None: ...
    def send(self, message: EmailMessage) -> None: ...


class SmtpSender:
    """One SMTP conversation for a batch of messages (smtplib, STARTTLS or TLS, optional login)."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        config = self.config
        host, port, timeout = (
            config["MAIL_SERVER"],
            int(config["MAIL_PORT"]),
            config["MAIL_TIMEOUT"],
        )
        if config.get("MAIL_USE_SSL"):
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(host, port, timeout=timeout)
            if config.get("MAIL_USE_TLS"):
                connection.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            connection.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        self.connection = connection
        return self

    def __exit__(self, *exc: object) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()

    def send(self, message: EmailMessage) -> None:
        assert self.connection is not None
        try:
            self.connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure(str(error)) from error
            raise
        except smtplib.SMTPResponseException as error:
            if error.smtp_code >= 500 and not isinstance(
                error, smtplib.SMTPServerDisconnected | smtplib.SMTPSenderRefused
            ):
                raise PermanentFailure(f"{error.smtp_code} {error.smtp_error!r}") from error
            raise


class LogSender:
    """Development without a mail server: write the mail to the log."""

    def __enter__(self) -> LogSender:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, message: EmailMessage) -> None:
        text = message.get_body(preferencelist=("plain",))
        current_app.logger.info(
            "Mail (no MAIL_SERVER set, not sent):\nTo: %s\nSubject: %s\n\n%s",
            message["To"],
            message["Subject"],
            text.get_content() if text is not None else "",
        )


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def describe(self) -> str:
        return f"sent {self.sent}, to retry {self.retrying}, failed {self.failed}"


def make_sender() -> Sender | None:
    config = current_app.config
    if config.get("MAIL_SERVER"):
        return SmtpSender(config)
    if config.get("LMS_CONFIG_NAME") == "production":
        return None
    return LogSender()


def build_email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.recipient
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain="vakkracht.lms")
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: base, 2x base, 4x base, ... up to the maximum."""
    config = current_app.config
    seconds = config["MAIL_RETRY_BASE_SECONDS"] * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, config["MAIL_RETRY_MAX_SECONDS"]))


def claim_due_messages(now: datetime, limit: int) -> list[int]:
    """Reserve up to ``limit`` due messages for this process (one statement) and commit."""
    due = (
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = db.session.scalars(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=now + LEASE)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(claimed)


def _record_outcome(message_id: int, values: dict[str, Any]) -> None:
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _failure_values(message: OutboxMessage, error: str, now: datetime, permanent: bool) -> dict:
    attempts = message.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "last_error": error[:2000]}
    if permanent or attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        values["status"] = OutboxStatus.FAILED
    else:
        retry_at = now + retry_delay(attempts)
        values["next_attempt_at"] = (
            next_working_moment(retry_at) if message.working_hours_only else retry_at
        )
    return values


def deliver_outbox(now: datetime | None = None, sender: Sender | None = None) -> DeliveryReport:
    """Send what is due in the outbox; commits each outcome. Safe to run in several processes."""
    now = now or clock.now()
    report = DeliveryReport()
    sender = sender or make_sender()
    if sender is None:
        log.error("MAIL_SERVER is not set: the outbox is not delivered.")
        return report
    ids = claim_due_messages(now, current_app.config["MAIL_BATCH_SIZE"])
    if not ids:
        return report
    messages = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
    ).all()
    db.session.commit()  # end the read; each outcome below is its own short transaction
    try:
        connection = sender.__enter__()
    except (smtplib.SMTPException, OSError) as error:
        log.warning("Mail server unreachable (%s); %d message(s) will be retried.", error, len(ids))
        for message in messages:
            values = _failure_values(message, f"connect: {error}", now, permanent=False)
            _record_outcome(message.id, values)
            report.failed += values.get("status") is OutboxStatus.FAILED
            report.retrying += values.get("status") is not OutboxStatus.FAILED
        if report.failed:
            tell_coordinators(now, report.failed)
        return report
    try:
        for message in messages:
            try:
                connection.send(build_email(message))
            except PermanentFailure as error:
                _record_outcome(message.id, _failure_values(message, str(error), now, True))
                report.failed += 1
            except (smtplib.SMTPException, OSError) as error:
                values = _failure_values(message, str(error), now, permanent=False)
                _record_outcome(message.id, values)
                if values.get("status") is OutboxStatus.FAILED:
                    report.failed += 1
                else:
                    report.retrying += 1
            else:
                _record_outcome(
                    message.id,
                    {
                        "status": OutboxStatus.SENT,
                        "sent_at": now,
                        "attempts": message.attempts + 1,
                        "last_error": "",
                    },
                )
                report.sent += 1
    finally:
        sender.__exit__(None, None, None)
    if report.failed:
        tell_coordinators(now, report.failed)
    return report


def tell_coordinators(now: datetime, count: int) -> None:
    """A notification for each coordinator that mail failed for good (once a day), and commit."""
    from lms.services.reminders import Hit, claim, path_for

    day = now.astimezone(clock.LOCAL_TZ).date().isoformat()
    coordinators = db.session.scalars(
        sa.select(User).where(User.role == Role.COORDINATOR, User.is_active_account.is_(True))
    ).all()
    for coordinator in coordinators:
        if claim(Hit(MAIL_FAILED, coordinator, "outbox", day, ()), now):
            notifications.notify(
                coordinator, MAIL_FAILED, {"count": count}, path_for("outbox.failed")
            )
    db.session.commit()


def failed_messages() -> sa.Select[tuple[OutboxMessage]]:
    """Mail that could not be delivered, newest first (for the coordinator's page)."""
    return (
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    )


def retry_message(message: OutboxMessage, actor: User) -> bool:
    """Put a failed message back in the outbox to be sent at once; False when it is not failed.
    Flushes; the route commits."""
    if message.status is not OutboxStatus.FAILED:
        return False
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = clock.now()
    audit.record("mail.retry", actor, message, recipient=message.recipient)
    db.session.flush()
    return True
