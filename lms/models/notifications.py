"""In-app notifications, the mail outbox, and the log that keeps each reminder to once per period."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.extensions import db
from lms.models.base import UTCDateTime, created_at_column, enum_column

if TYPE_CHECKING:
    from lms.models.people import User


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(60))
    # Stored as a message id and parameters, so it is shown in the reader's language.
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    link: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = created_at_column()
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Waiting for the user's weekly digest mail (users who chose the digest for non-urgent reminders).
    digest_pending: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    user: Mapped[User] = relationship()
    subjects: Mapped[list[NotificationSubject]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class NotificationSubject(db.Model):
    """What a notification is about ("submission:42", "review:7"). The service that handles a subject
    removes it; a notification left with none of its subjects is marked read in that same transaction,
    so the bell's unread count stays one plain count."""

    __tablename__ = "notification_subjects"
    __table_args__ = (sa.Index("ix_notification_subjects_subject_key", "subject_key"),)

    notification_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True
    )
    subject_key: Mapped[str] = mapped_column(sa.String(120), primary_key=True)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanently; shown to the coordinator


class OutboxMessage(db.Model):
    """A mail written in the same transaction as the event that caused it; a job delivers it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(250))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    # Reminders go out in working hours only: a retry is moved to the next working-hours moment too.
    working_hours_only: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SentReminder(db.Model):
    """One row per reminder rule, subject and period: the database refuses a second one."""

    __tablename__ = "sent_reminders"
    __table_args__ = (sa.UniqueConstraint("rule", "subject_key", "period_key", "recipient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(sa.String(60))
    subject_key: Mapped[str] = mapped_column(sa.String(120))  # e.g. "submission:42"
    period_key: Mapped[str] = mapped_column(sa.String(40))  # e.g. "2026-W48"
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = created_at_column()


class ReminderSweep(db.Model):
    """One row per reminder sweep that ran: the next sweep looks only at what changed or fell due
    since the latest of these moments (``lms.services.reminders``)."""

    __tablename__ = "reminder_sweeps"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The moment the sweep swept for (its "now"), and what it looked at and claimed.
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    enrolments_checked: Mapped[int] = mapped_column(default=0)
    reminders_claimed: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = created_at_column()
