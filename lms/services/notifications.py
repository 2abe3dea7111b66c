"""In-app notifications: a row per message, stored as a kind with parameters and shown in the reader's
language. ``notify`` adds one (flush, never commit); ``describe`` turns one into a sentence.

A new kind is a constant and a sentence in ``SENTENCES``; its parameters are plain JSON values
(names, codes, an enumeration's value), never text already translated.
"""

from __future__ import annotations

import contextlib
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms import clock
from lms.extensions import db
from lms.i18n import label
from lms.models import Notification, SubmissionStatus, User

ASSESSMENT_APPROVED = "assessment_approved"
ASSESSMENT_NEEDS_REVISION = "assessment_needs_revision"
ASSESSMENT_CORRECTED = "assessment_corrected"
REVIEW_RECORDED = "review_recorded"
HOURS_RETURNED = "hours_returned"

SENTENCES: dict[str, Any] = {
    REVIEW_RECORDED: _l(
        "%(trainer)s wrote down your progress review. Read it and confirm that you have read it."
    ),
    HOURS_RETURNED: _l(
        "Your workplace hours for the week of %(week)s were sent back. Read the remark."
    ),
    ASSESSMENT_APPROVED: _l("%(trainer)s approved your assignment %(code)s %(title)s."),
    ASSESSMENT_NEEDS_REVISION: _l(
        "%(trainer)s assessed your assignment %(code)s %(title)s: it needs revision. Read the feedback."
    ),
    ASSESSMENT_CORRECTED: _l(
        "%(trainer)s corrected the assessment of your assignment %(code)s %(title)s. New verdict: %(verdict)s."
    ),
}


def notify(user: User, kind: str, params: dict[str, Any], link: str = "") -> Notification:
    """Add a notification for ``user``; ``link`` is a path on this site ("/portfolio/assignments/A1")."""
    notification = Notification(
        user=user, kind=kind, params=dict(params), link=link, created_at=clock.now()
    )
    db.session.add(notification)
    db.session.flush()
    return notification


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
