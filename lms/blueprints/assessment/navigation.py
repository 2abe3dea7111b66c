"""The trainer's menu item for the queue, with the number of submissions waiting: "Beoordelen (3)"."""

from __future__ import annotations

from flask import has_request_context
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import escape

from lms.header import header_counts
from lms.models import Role


def waiting_for_current_user() -> int:
    """The current trainer's queue length, counted once per request with the bell's count (one
    statement for both)."""
    if not has_request_context() or not current_user.is_authenticated:
        return 0
    if current_user.role is not Role.TRAINER:
        return 0
    return header_counts().queue


class QueueNavText:
    """A menu text that, like a lazy string, is made when the page shows it, in the reader's language."""

    def __str__(self) -> str:
        count = waiting_for_current_user()
        return _("Assess (%(count)d)", count=count) if count else _("Assess")

    def __html__(self) -> str:
        return str(escape(str(self)))
