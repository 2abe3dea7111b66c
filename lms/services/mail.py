"""Mail goes through the outbox: written in the same transaction as the event that causes it.

``queue_mail`` renders ``templates/mail/<name>.txt`` and ``.html`` in the recipient's language and adds
an OutboxMessage; a scheduled job delivers it (see the reminders issue). Nothing here talks to SMTP.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale

from lms.extensions import db
from lms.models import OutboxMessage, User


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for mail and the command line, on the configured public address (BASE_URL),
    whether or not there is a request."""
    adapter = current_app.url_map.bind("localhost")
    return current_app.config["BASE_URL"].rstrip("/") + adapter.build(endpoint, values)


def queue_mail(recipient: User, template: str, subject: Any, **context: Any) -> OutboxMessage:
    """Render mail ``template`` for ``recipient`` in their language and put it in the outbox.

    ``subject`` is a lazy string (``lazy_gettext("...", name=...)``), translated for the recipient.
    """
    with force_locale(recipient.locale):
        context = {"recipient": recipient, **context}
        message = OutboxMessage(
            recipient=recipient.email,
            subject=str(subject),
            body_text=render_template(f"mail/{template}.txt", **context),
            body_html=render_template(f"mail/{template}.html", **context),
        )
    db.session.add(message)
    db.session.flush()
    return message
