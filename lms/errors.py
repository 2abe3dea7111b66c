"""Error pages in the user's language; a failed request never leaves a half-written transaction."""

from __future__ import annotations

from flask import Flask, current_app, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from lms.blueprints.api.problems import http_problem, is_api_request
from lms.extensions import db

# code: (title, what happened and what to do next)
MESSAGES = {
    400: (
        _l("Something went wrong with this request"),
        _l("The page may have been open for a long time. Go back, reload the page and try again."),
    ),
    403: (_l("No access"), _l("You are logged in, but this page is not meant for your account.")),
    404: (
        _l("Page not found"),
        _l(
            "This page does not exist (any more). Check the address or start again from your home page."
        ),
    ),
    405: (
        _l("This does not work here"),
        _l("This page cannot be used like this. Start again from your home page."),
    ),
    413: (
        _l("Too large"),
        _l("What you sent is larger than allowed. Make the file smaller and try again."),
    ),
    429: (_l("Too many attempts"), _l("Wait a few minutes and try again.")),
    503: (
        _l("The system cannot reach its data"),
        _l(
            "Nothing you did caused this, and nothing was saved halfway. Try again in a few minutes; if it keeps happening, tell the coordinator."
        ),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l(
            "Nothing you did caused this, and nothing was saved halfway. Try again in a moment; if it keeps happening, tell the coordinator."
        ),
    ),
}


def render_error(code: int):  # type: ignore[no-untyped-def]
    title, message = MESSAGES[code]
    return render_template("errors/page.html", code=code, title=title, message=message), code


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        if is_api_request():  # the JSON API answers with problem documents, also for 404/405
            return http_problem(error)
        if error.code not in MESSAGES:
            return error
        return render_error(error.code)

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):  # type: ignore[no-untyped-def]
        db.session.rollback()
        if is_api_request():
            return http_problem(error)
        return render_error(500)

    @app.errorhandler(SQLAlchemyError)
    def database_error(error: SQLAlchemyError):  # type: ignore[no-untyped-def]
        """Whatever the database refused is rolled back; the visitor gets a page, not a trace."""
        db.session.rollback()
        current_app.logger.exception("database error")
        lost_connection = isinstance(error, DBAPIError) and error.connection_invalidated
        unreachable = lost_connection or (isinstance(error, OperationalError) and _unreachable(error))
        if is_api_request():
            return http_problem(ServiceUnavailable() if unreachable else InternalServerError())
        if unreachable:
            return render_error(503)
        return render_error(500)


def _unreachable(error: SQLAlchemyError) -> bool:
    """An OperationalError that means "no database" rather than "this statement failed"."""
    text = str(getattr(error, "orig", error)).lower()
    return any(
        phrase in text
        for phrase in (
            "unable to open database",
            "connection",
            "could not connect",
            "server closed",
        )
    )
