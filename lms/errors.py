"""Error pages in the user's language; a failed request never leaves a half-written transaction."""

from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

from lms.extensions import db

PAGES = {400, 403, 404, 405, 413, 429}


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        if error.code not in PAGES:
            return error
        return render_template(f"errors/{error.code}.html", error=error), error.code

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):  # type: ignore[no-untyped-def]
        db.session.rollback()
        return render_template("errors/500.html"), 500
