"""The front door (/), the language switch and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user

from lms.blueprints.auth.forms import EmptyForm
from lms.blueprints.auth.routes import is_safe_next
from lms.extensions import db
from lms.permissions import home_endpoint
from lms.services import accounts

bp = Blueprint("main", __name__)


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    return redirect(url_for("auth.login"))


@bp.post("/language")
def set_language():  # type: ignore[no-untyped-def]
    form = EmptyForm()
    locale = request.form.get("locale", "")
    if form.validate_on_submit() and locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated:
            accounts.choose_language(current_user, locale)
            db.session.commit()
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("main.index"))


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """For load balancers and monitoring: is the app up, and can it reach its database?"""
    try:
        db.session.execute(sa.text("SELECT 1"))
        database = "ok"
    except sa.exc.SQLAlchemyError as error:
        current_app.logger.warning("Health check: database unreachable: %s", error)
        db.session.rollback()
        database = "unavailable"
    healthy = database == "ok"
    body = {"status": "ok" if healthy else "unavailable", "database": database}
    return jsonify(body), 200 if healthy else 503
