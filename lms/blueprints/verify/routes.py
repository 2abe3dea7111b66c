"""Public certificate verification: anyone holding the code (from the QR code or the printed address)
sees whether the certificate is valid, revoked or replaced, the name, the programme and the date of
issue, and nothing more. Unknown codes get a plain 404. Rate-limited per client address."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from lms.blueprints.verify.forms import CredentialForm
from lms.extensions import limiter
from lms.services import badges
from lms.services.certificates import VerificationState, verification_facts
from lms.services.issuer import owner

bp = Blueprint("verify", __name__, url_prefix="/verify")

DEFAULT_RATE_LIMIT = "30 per minute"


def rate_limit() -> str:
    return str(current_app.config.get("VERIFY_RATE_LIMIT") or DEFAULT_RATE_LIMIT)


def _facts_or_404(code: str) -> dict[str, str]:
    facts = verification_facts(code)
    if facts is None:
        abort(404)
    return facts


@bp.url_value_preprocessor
def _small_uploads(endpoint: str | None, values: dict | None) -> None:
    """A credential is small: a larger request to check one is refused (413) before it is read. Set
    here because URL value preprocessors run before the CSRF check reads the form."""
    if endpoint == "verify.credential":
        request.max_content_length = badges.MAX_CREDENTIAL_BYTES * 2 + 16 * 1024


@bp.route("/credential", methods=["GET", "POST"])
@limiter.limit(rate_limit)
def credential():  # type: ignore[no-untyped-def]
    """Check a digital badge (Open Badges credential): pasted or uploaded, at most 64 KB."""
    form = CredentialForm()
    report = None
    if form.validate_on_submit():
        text = form.credential.data or ""
        upload = form.file.data
        if upload and upload.filename:
            data = upload.read(badges.MAX_CREDENTIAL_BYTES + 1)
            text = data.decode("utf-8", "replace")
        try:
            report = badges.verify_credential(text)
        except badges.UnreadableCredential as error:
            form.credential.errors.append(str(error))
    response = current_app.make_response(
        render_template("verify/credential.html", form=form, report=report)
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/<code>")
@limiter.limit(rate_limit)
def show(code: str):  # type: ignore[no-untyped-def]
    facts = _facts_or_404(code)
    response = current_app.make_response(
        render_template(
            "verify/show.html",
            facts=facts,
            state=VerificationState(facts["status"]),
            issued_on=date.fromisoformat(facts["issued_on"]),
            issuer=owner().name,
            code=code,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/<code>.json")
@limiter.limit(rate_limit)
def show_json(code: str):  # type: ignore[no-untyped-def]
    facts = verification_facts(code)
    response = jsonify(facts) if facts is not None else (jsonify(error="not_found"), 404)
    response = current_app.make_response(response)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
