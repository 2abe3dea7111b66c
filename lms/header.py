"""The counts in every page's header (the bell's unread notifications, the trainer's "Assess (3)"),
fetched together once per request: one statement, however many pages parts ask for them."""

from __future__ import annotations

from flask import g, has_request_context
from flask_login import current_user

from lms.services import inbox


def header_counts() -> inbox.HeaderCounts:
    if not has_request_context() or not current_user.is_authenticated:
        return inbox.HeaderCounts(unread=0)
    if "header_counts" not in g:
        g.header_counts = inbox.header_counts(current_user)
    counts: inbox.HeaderCounts = g.header_counts
    return counts
