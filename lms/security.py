"""Response headers that keep pages from being framed, sniffed or running foreign scripts; the audit
record of a coordinator opening a participant's file; addresses holding a NUL character are refused.
(The login throttle is in lms/services/login_throttle.py.)"""

from __future__ import annotations

from flask import Flask, Response, abort, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from lms.extensions import db
from lms.forms import unusable_post
from lms.models import Role
from lms.services import audit

# No inline scripts or styles anywhere: every script and stylesheet is a file in lms/static.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def register(app: Flask) -> None:
    proxies = int(app.config.get("TRUSTED_PROXIES", 0))
    if proxies:
        # Behind a reverse proxy every request comes from the proxy: take the visitor's address and
        # scheme from the headers the trusted proxies add (and only from those).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    def refuse_nul_characters() -> None:
        """No page or search has a use for a NUL character, and PostgreSQL refuses it in any text it
        is asked to compare: answer 400 rather than fail with 500. A form's own fields are left to
        the form (``lms.forms.Form`` answers with a message next to the field); this catches the
        address, the query and whatever is posted outside the forms. The JSON API checks its own
        input and answers in its own format (problem+json)."""
        if request.blueprint == "api":
            return
        if (
            "\x00" in request.path
            or any(
                "\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)
            )
            or unusable_post()
        ):
            abort(400)

    # First of all, before the CSRF check: that check fails on a posted part without a name.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_nul_characters)

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        hsts = app.config.get("STRICT_TRANSPORT_SECURITY")
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", hsts)
        return response

    @app.after_request
    def audit_coordinator_file_access(response: Response) -> Response:
        """A coordinator who opens a participant's file (a page or download about one enrolment,
        submission, evidence file or person) leaves a record in the audit log."""
        if (
            request.method != "GET"
            or response.status_code != 200
            or request.endpoint is None
            or not request.view_args
            or not current_user.is_authenticated
            or current_user.role is not Role.COORDINATOR
        ):
            return response
        subject = audit.file_access_subject(request.endpoint, request.view_args)
        if subject is not None:
            audit.record_file_access(
                current_user._get_current_object(),
                *subject,
                endpoint=request.endpoint,
                ip_address=request.remote_addr or "",
            )
            db.session.commit()
        return response
