"""The year in a phone's calendar: a person makes a private link to their iCalendar feed (shown
once), revokes it, or makes a new one; the feed itself is fetched with the link alone (no login).
The rules are in ``lms.services.calendar_feeds``."""

from __future__ import annotations

import hashlib

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.blueprints.calendar.forms import EmptyForm
from lms.extensions import db, limiter
from lms.models import User
from lms.services import calendar_feeds
from lms.services.mail import external_url

bp = Blueprint("calendar", __name__, url_prefix="/calendar")

# A phone fetches its feed every few minutes to hours; Google and Microsoft fetch everyone's feeds
# from a few shared addresses, so the limit is counted per link, with a wide one per address.
DEFAULT_LINK_RATE_LIMIT = "60 per hour"
DEFAULT_ADDRESS_RATE_LIMIT = "300 per minute"
# A calendar app may keep the feed this long before it asks again.
FEED_MAX_AGE = 300


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def link_rate_limit() -> str:
    return str(current_app.config.get("CALENDAR_FEED_RATE_LIMIT") or DEFAULT_LINK_RATE_LIMIT)


def address_rate_limit() -> str:
    return str(
        current_app.config.get("CALENDAR_FEED_ADDRESS_RATE_LIMIT") or DEFAULT_ADDRESS_RATE_LIMIT
    )


def _link_key() -> str:
    secret = (request.view_args or {}).get("secret", "")
    return "calendar-feed:" + hashlib.sha256(str(secret).encode()).hexdigest()[:32]


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    page = calendar_feeds.subscription_page(_actor())
    return render_template("calendar/index.html", page=page, form=EmptyForm())


@bp.post("/new")
@login_required
def create():  # type: ignore[no-untyped-def]
    form = EmptyForm()
    if not form.validate_on_submit():
        flash(_("The page was too old to send. Try again."), "error")
        return redirect(url_for("calendar.index"))
    feed, secret = calendar_feeds.create_feed(_actor())
    db.session.commit()
    url = external_url("calendar.feed", secret=secret)
    # Rendered, not redirected: the secret is never stored, not even in the session.
    response = render_template(
        "calendar/created.html",
        feed=feed,
        url=url,
        webcal_url="webcal://" + url.split("://", 1)[1],
    )
    return response, 200, {"Cache-Control": "no-store"}


@bp.route("/revoke", methods=["GET", "POST"])
@login_required
def revoke():  # type: ignore[no-untyped-def]
    feed = calendar_feeds.active_feed(_actor())
    if feed is None:
        flash(_("You have no calendar link that works: there is nothing to revoke."), "info")
        return redirect(url_for("calendar.index"))
    form = EmptyForm()
    if form.validate_on_submit():
        calendar_feeds.revoke_feed(_actor())
        db.session.commit()
        flash(
            _("Your calendar link has been revoked: it no longer works anywhere."),
            "success",
        )
        return redirect(url_for("calendar.index"))
    return render_template("calendar/revoke.html", feed=feed, form=form)


@bp.get("/<secret>.ics")
@limiter.limit(link_rate_limit, key_func=_link_key)
@limiter.limit(address_rate_limit)
def feed(secret: str) -> Response:
    """The feed (RFC 5545), for whoever holds the link; an unknown or revoked link is not found."""
    found = calendar_feeds.find_feed(secret)
    if found is None:
        abort(404)
    response = Response(calendar_feeds.feed_document(found), mimetype="text/calendar")
    response.headers["Cache-Control"] = f"private, max-age={FEED_MAX_AGE}"
    response.headers["Content-Disposition"] = 'inline; filename="vakkracht.ics"'
    response.headers["X-Robots-Tag"] = "noindex"
    return response
