"""Notifications in the app: the bell's count on every page, the list, and marking as read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.blueprints.auth.forms import EmptyForm
from lms.blueprints.auth.routes import is_safe_next
from lms.extensions import db
from lms.header import header_counts
from lms.pagination import paginate
from lms.services import inbox
from lms.services import reminders as _reminders  # noqa: F401  (registers the reminder sentences)
from lms.services.notifications import describe

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def unread_notifications() -> int:
    """For the bell in the header: the current user's unread count, one query per page."""
    return header_counts().unread


@bp.app_context_processor
def inject_bell() -> dict[str, Any]:
    return {"unread_notifications": unread_notifications}


def _own_or_404(notification_id: int):  # type: ignore[no-untyped-def]
    notification = inbox.own_notification(current_user, notification_id)
    if notification is None:
        abort(404)
    return notification


def _back_to_list() -> str:
    page = request.form.get("page", type=int)
    return (
        url_for("notifications.index", page=page)
        if page and page > 1
        else url_for("notifications.index")
    )


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    page = paginate(inbox.notifications_of(current_user))
    return render_template(
        "notifications/index.html",
        page=page,
        describe=describe,
        form=EmptyForm(),
        unread=unread_notifications(),
    )


@bp.post("/<int:notification_id>/open")
@login_required
def open_notification(notification_id: int):  # type: ignore[no-untyped-def]
    """Mark as read and go to what the notification is about."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    notification = _own_or_404(notification_id)
    inbox.mark_read(notification)
    db.session.commit()
    target = notification.link
    return redirect(target if is_safe_next(target) else url_for("notifications.index"))


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int):  # type: ignore[no-untyped-def]
    if not EmptyForm().validate_on_submit():
        abort(400)
    notification = _own_or_404(notification_id)
    inbox.mark_read(notification)
    db.session.commit()
    return redirect(_back_to_list())


@bp.post("/read-all")
@login_required
def read_all():  # type: ignore[no-untyped-def]
    if not EmptyForm().validate_on_submit():
        abort(400)
    count = inbox.mark_all_read(current_user)
    db.session.commit()
    if count:
        flash(_("All notifications are marked as read."), "success")
    return redirect(_back_to_list())
