"""A user's notifications in the app: the unread count for the bell, the list, marking as read.
Functions flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from lms import clock
from lms.extensions import db
from lms.models import MailPreference, Notification, Role, User
from lms.services import audit


def _unread(user: User) -> sa.Select[tuple[int]]:
    # Answered from the index ix_notifications_user_unread (user_id, read_at) alone.
    return (
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def unread_count(user: User) -> int:
    """One query."""
    return db.session.scalar(_unread(user)) or 0


@dataclass(frozen=True)
class HeaderCounts:
    """The numbers in every page's header: unread notifications (the bell) and, for a trainer, the
    work waiting in the assessment queue ("Assess (3)")."""

    unread: int
    queue: int = 0


def header_counts(user: User) -> HeaderCounts:
    """Both counts in one statement (two scalar subqueries), however many rows."""
    from lms.services.assessment import queue_count_query

    columns = [_unread(user).scalar_subquery()]
    if user.role is Role.TRAINER:
        columns.append(queue_count_query(user).scalar_subquery())
    row = db.session.execute(sa.select(*columns)).one()
    return HeaderCounts(unread=int(row[0] or 0), queue=int(row[1] or 0) if len(row) > 1 else 0)


def notifications_of(user: User) -> sa.Select[tuple[Notification]]:
    """Newest first; unread and read together."""
    return (
        sa.select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def own_notification(user: User, notification_id: int) -> Notification | None:
    """The notification when it is ``user``'s, else None (someone else's is never shown)."""
    return db.session.scalar(
        sa.select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user.id
        )
    )


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = clock.now()
        db.session.flush()


def mark_all_read(user: User) -> int:
    """Mark every unread notification of ``user`` as read; returns how many."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def set_mail_preference(user: User, preference: MailPreference) -> None:
    """Immediate mail or the weekly digest for reminders that are not urgent."""
    if user.mail_preference is not preference:
        audit.record(
            "user.mail_preference", user, user, old=user.mail_preference.value, new=preference.value
        )
        user.mail_preference = preference
        db.session.flush()
