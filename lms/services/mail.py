"""Mail goes through the outbox: written in the same transaction as the event that causes it.

``queue_mail`` renders ``templates/mail/<name>.txt`` and ``.html`` in the recipient's language and adds
an OutboxMessage; a scheduled job delivers it (``lms.services.outbox``). Nothing here talks to SMTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale

from lms import clock
from lms.extensions import db
from lms.holidays import is_working_day
from lms.i18n import language_of
from lms.models import OutboxMessage, User

# Working hours in the Netherlands, when reminders may be mailed: working days (Monday to Friday but
# public holidays), 08:00-18:00.
WORKING_HOURS_START = time(8, 0)
WORKING_HOURS_END = time(18, 0)


def in_working_hours(moment: datetime) -> bool:
    local = moment.astimezone(clock.LOCAL_TZ)
    return is_working_day(local.date()) and WORKING_HOURS_START <= local.time() < WORKING_HOURS_END


def next_working_moment(moment: datetime) -> datetime:
    """``moment`` itself when it falls in working hours, else the start of the next working day (UTC)."""
    if in_working_hours(moment):
        return moment
    local = moment.astimezone(clock.LOCAL_TZ)
    day = local.date()
    if local.time() >= WORKING_HOURS_END or not is_working_day(day):
        day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    start = datetime.combine(day, WORKING_HOURS_START, tzinfo=clock.LOCAL_TZ)
    return start.astimezone(moment.tzinfo or clock.LOCAL_TZ)


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for mail and the command line, on the configured public address (BASE_URL),
    whether or not there is a request."""
    adapter = current_app.url_map.bind("localhost")
    return current_app.config["BASE_URL"].rstrip("/") + adapter.build(endpoint, values)


def render_mail(
    recipient: User,
    template: str,
    subject: Any,
    *,
    working_hours_only: bool = False,
    **context: Any,
) -> dict[str, Any]:
    """The outbox row's values for mail ``template`` to ``recipient``, rendered in their language
    (see ``queue_mail``); ``queue_mails`` inserts many of them at once."""
    now = clock.now()
    # Never the sender's language: force_locale(None) would leave the request's locale in place.
    with force_locale(language_of(recipient)):
        context = {"recipient": recipient, **context}
        return {
            "recipient": recipient.email,
            "subject": str(subject),
            "body_text": render_template(f"mail/{template}.txt", **context),
            "body_html": render_template(f"mail/{template}.html", **context),
            "working_hours_only": working_hours_only,
            "next_attempt_at": next_working_moment(now) if working_hours_only else now,
            "created_at": now,
        }


def queue_mail(
    recipient: User,
    template: str,
    subject: Any,
    *,
    working_hours_only: bool = False,
    **context: Any,
) -> OutboxMessage:
    """Render mail ``template`` for ``recipient`` in their language and put it in the outbox.

    ``subject`` is a lazy string (``lazy_gettext("...", name=...)``), translated for the recipient.
    ``working_hours_only``: held until working hours (reminders); otherwise it goes out at once
    (invitations, password resets, action links).
    """
    message = OutboxMessage(
        **render_mail(
            recipient, template, subject, working_hours_only=working_hours_only, **context
        )
    )
    db.session.add(message)
    db.session.flush()
    return message


def queue_mails(messages: Sequence[dict[str, Any]]) -> int:
    """Put many rendered mails (``render_mail``) in the outbox: one INSERT, sent by SQLAlchemy in
    multi-row batches, instead of a flush per mail. Returns how many."""
    if messages:
        db.session.execute(sa.insert(OutboxMessage), list(messages))
    return len(messages)
