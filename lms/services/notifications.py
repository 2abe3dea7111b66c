"""In-app notifications: a row per message, stored as a kind with parameters and shown in the reader's
language. ``notify`` adds one (flush, never commit); ``describe`` turns one into a sentence.

A new kind is a constant and a sentence in ``SENTENCES``; its parameters are plain JSON values
(names, codes, an enumeration's value), never text already translated.

A notification that asks for something (assess this, read that, improve this) names its subjects
(``submission_subject(42)``...). The service that does the thing calls ``handled`` in the same
transaction: the notification is marked read once none of its subjects is left, so the bell's count
drops without the count query knowing anything about submissions or reviews.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms import clock
from lms.extensions import db, insert_rows
from lms.i18n import label
from lms.models import Notification, NotificationSubject, SubmissionStatus, User

ASSESSMENT_APPROVED = "assessment_approved"
ASSESSMENT_NEEDS_REVISION = "assessment_needs_revision"
ASSESSMENT_CORRECTED = "assessment_corrected"
REVIEW_RECORDED = "review_recorded"
HOURS_RETURNED = "hours_returned"
WORKPLACE_NOT_CARRIED_OUT = "workplace_not_carried_out"
WORKPLACE_NOT_CARRIED_OUT_TRAINER = "workplace_not_carried_out_trainer"

SENTENCES: dict[str, Any] = {
    REVIEW_RECORDED: _l(
        "%(trainer)s wrote down your progress review. Read it and confirm that you have read it."
    ),
    HOURS_RETURNED: _l(
        "Your workplace hours for the week of %(week)s were sent back. Read the remark."
    ),
    WORKPLACE_NOT_CARRIED_OUT: _l(
        "%(contact)s says that %(code)s %(title)s was not carried out at the workplace. Read the remark."
    ),
    WORKPLACE_NOT_CARRIED_OUT_TRAINER: _l(
        "%(contact)s says that %(participant)s did not carry out %(code)s %(title)s at the workplace."
    ),
    ASSESSMENT_APPROVED: _l("%(trainer)s approved your assignment %(code)s %(title)s."),
    ASSESSMENT_NEEDS_REVISION: _l(
        "%(trainer)s assessed your assignment %(code)s %(title)s: it needs revision. Read the feedback."
    ),
    ASSESSMENT_CORRECTED: _l(
        "%(trainer)s corrected the assessment of your assignment %(code)s %(title)s. New verdict: %(verdict)s."
    ),
}


def submission_subject(submission_id: int) -> str:
    return f"submission:{submission_id}"


def review_subject(review_id: int) -> str:
    return f"review:{review_id}"


def assignment_subject(enrolment_id: int, assignment_id: int) -> str:
    return f"enrolment:{enrolment_id}:assignment:{assignment_id}"


def hours_subject(hours_id: int) -> str:
    return f"hours:{hours_id}"


def attendance_subject(cohort_id: int, day: date) -> str:
    """A training day of a cohort, whose attendance is to be recorded."""
    return f"cohort:{cohort_id}:attendance:{day.isoformat()}"


def notify(
    user: User, kind: str, params: dict[str, Any], link: str = "", subjects: Iterable[str] = ()
) -> Notification:
    """Add a notification for ``user``; ``link`` is a path on this site ("/portfolio/assignments/A1");
    ``subjects`` what it is about, for ``handled``."""
    notification = Notification(
        user=user,
        kind=kind,
        params=dict(params),
        link=link,
        created_at=clock.now(),
        subjects=[NotificationSubject(subject_key=key) for key in sorted(set(subjects))],
    )
    db.session.add(notification)
    db.session.flush()
    return notification


@dataclass(frozen=True)
class NewNotification:
    """A notification ``notify_many`` adds: the arguments of ``notify``, and whether it waits for the
    user's weekly digest mail."""

    user_id: int
    kind: str
    params: dict[str, Any]
    link: str = ""
    subjects: tuple[str, ...] = ()
    digest_pending: bool = False


def notify_many(new: Sequence[NewNotification]) -> int:
    """``notify`` for many at once (the reminder sweep), at most one per user and kind: one INSERT for
    the notifications and one for their subjects (``insert_rows``).
    The rows are not loaded into the session. Returns how many."""
    if not new:
        return 0
    by_key = {(note.user_id, note.kind): note for note in new}
    if len(by_key) != len(new):
        raise ValueError("notify_many: more than one notification for a user and kind")
    now = clock.now()
    # ``insert_rows``: one statement on PostgreSQL, multi-row batches elsewhere; RETURNING in no
    # particular order, so (user, kind) says which row is which.
    table = Notification.__table__
    inserted = insert_rows(
        table,
        [
            {
                "user_id": note.user_id,
                "kind": note.kind,
                "params": dict(note.params),
                "link": note.link,
                "created_at": now,
                "digest_pending": note.digest_pending,
            }
            for note in new
        ],
        returning=(table.c.id, table.c.user_id, table.c.kind),
    )
    subjects = [
        {"notification_id": notification_id, "subject_key": key}
        for notification_id, user_id, kind in inserted
        for key in sorted(set(by_key[(user_id, kind)].subjects))
    ]
    insert_rows(NotificationSubject.__table__, subjects)
    return len(inserted)


def handled(subject: str, kinds: Collection[str], *, at: datetime, user: User | None = None) -> int:
    """``subject`` has been dealt with: it no longer counts for the unread notifications of ``kinds``
    (``user``'s, or anyone's) about it, and those about nothing else now are marked read at ``at``.
    Returns how many were marked read. Three statements; flushes, never commits."""
    about = (
        sa.select(NotificationSubject.notification_id)
        .join(Notification, Notification.id == NotificationSubject.notification_id)
        .where(
            NotificationSubject.subject_key == subject,
            Notification.kind.in_(list(kinds)),
            Notification.read_at.is_(None),
        )
    )
    if user is not None:
        about = about.where(Notification.user_id == user.id)
    ids = list(db.session.scalars(about))
    if not ids:
        return 0
    db.session.execute(
        sa.delete(NotificationSubject).where(
            NotificationSubject.subject_key == subject,
            NotificationSubject.notification_id.in_(ids),
        )
    )
    left = sa.select(NotificationSubject.notification_id).where(
        NotificationSubject.notification_id == Notification.id
    )
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.id.in_(ids), ~sa.exists(left))
        .values(read_at=at)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


def describe(notification: Notification) -> str:
    """The notification as a sentence in the current language."""
    sentence = SENTENCES.get(notification.kind)
    if sentence is None:
        return _("You have a new message.")
    params = dict(notification.params or {})
    if "verdict" in params:
        with contextlib.suppress(ValueError):
            params["verdict"] = label(SubmissionStatus(params["verdict"]))
    try:
        return str(sentence) % params
    except (KeyError, TypeError, ValueError):  # parameters of an older version of the message
        return _("You have a new message.")
