"""The coordinator's pages for API keys: list, make (the secret is shown once) and revoke."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from lms import clock
from lms.blueprints.api.forms import ApiTokenForm, ConfirmForm
from lms.extensions import db
from lms.models import ApiToken, ApiTokenScope, Role, User
from lms.pagination import paginate
from lms.permissions import role_required
from lms.services import api_tokens

bp = Blueprint("api_tokens", __name__, url_prefix="/api/keys")


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


@bp.get("/")
@role_required(Role.COORDINATOR)
def index():  # type: ignore[no-untyped-def]
    page = paginate(
        sa.select(ApiToken)
        .options(joinedload(ApiToken.user), joinedload(ApiToken.revoked_by))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return render_template(
        "api_tokens/index.html", page=page, now=clock.now(), ApiTokenScope=ApiTokenScope
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def create():  # type: ignore[no-untyped-def]
    form = ApiTokenForm()
    if form.validate_on_submit():
        try:
            token, secret = api_tokens.create_token(
                owner=_actor(),
                name=form.name.data,
                scope=ApiTokenScope(form.scope.data),
                valid_days=form.valid_days.data,
            )
        except api_tokens.ApiTokenError as error:
            form.name.errors.append(str(error))
        else:
            db.session.commit()
            # Rendered, not redirected: the secret is never stored, not even in the session.
            response = render_template("api_tokens/created.html", token=token, secret=secret)
            return response, 200, {"Cache-Control": "no-store"}
    return render_template("api_tokens/new.html", form=form), 400 if form.errors else 200


@bp.route("/<int:token_id>/revoke", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def revoke(token_id: int):  # type: ignore[no-untyped-def]
    token = db.session.get(ApiToken, token_id)
    if token is None:
        abort(404)
    form = ConfirmForm()
    if token.is_revoked:
        flash(_("This key has already been revoked."), "info")
        return redirect(url_for("api_tokens.index"))
    if form.validate_on_submit():
        api_tokens.revoke_token(token, actor=_actor())
        db.session.commit()
        flash(
            _("The key '%(name)s' has been revoked. It no longer works.", name=token.name),
            "success",
        )
        return redirect(url_for("api_tokens.index"))
    return render_template("api_tokens/revoke.html", token=token, form=form)
