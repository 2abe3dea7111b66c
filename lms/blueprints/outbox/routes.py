"""The coordinator's view of mail that could not be delivered, with a button to send it again."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.blueprints.auth.forms import EmptyForm
from lms.extensions import db
from lms.models import OutboxMessage, Role
from lms.pagination import contains, paginate, search_term
from lms.permissions import role_required
from lms.services import outbox as outbox_service

bp = Blueprint("outbox", __name__, url_prefix="/outbox")


@bp.get("/failed")
@role_required(Role.COORDINATOR)
def failed():  # type: ignore[no-untyped-def]
    term = search_term()
    query = outbox_service.failed_messages()
    if term:
        query = query.where(
            contains(OutboxMessage.recipient, term) | contains(OutboxMessage.subject, term)
        )
    return render_template("outbox/failed.html", page=paginate(query), term=term, form=EmptyForm())


@bp.post("/<int:message_id>/retry")
@role_required(Role.COORDINATOR)
def retry(message_id: int):  # type: ignore[no-untyped-def]
    if not EmptyForm().validate_on_submit():
        abort(400)
    message = db.get_or_404(OutboxMessage, message_id)
    if outbox_service.retry_message(message, current_user):
        db.session.commit()
        flash(
            _(
                "The mail to %(recipient)s will be sent again within a minute.",
                recipient=message.recipient,
            ),
            "success",
        )
    else:
        flash(_("This mail is no longer waiting to be sent again."), "info")
    return redirect(url_for("outbox.failed"))
