"""Error pages in the user's language; a failed request never leaves a half-written transaction."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from lms.blueprints.api.problems import http_problem, is_api_request
from lms.extensions import db, login_manager

# Addresses outside the API that machines read (verifiers, wallets): their errors are problem+json.
MACHINE_SUFFIXES = (".json", ".jwt")
MACHINE_PREFIXES = ("/.well-known/", "/badges/status/")
# How long a client should wait before trying again while the database is unreachable.
RETRY_AFTER_SECONDS = 30

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


def wants_problem_json() -> bool:
    """The JSON API and the other addresses that answer machines, not people."""
    path = request.path
    return is_api_request() or path.endswith(MACHINE_SUFFIXES) or path.startswith(MACHINE_PREFIXES)


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
        """Also where Flask sends an exception raised by another error handler or after the view:
        then ``original_exception`` holds it. This handler must not raise again, or the visitor
        gets the server's bare "Internal Server Error"."""
        _rollback()
        original = getattr(error, "original_exception", None)
        if isinstance(original, SQLAlchemyError) and database_unreachable(original):
            return unavailable()
        if wants_problem_json():
            return http_problem(error)
        try:
            return render_error(500)
        except Exception as failure:  # the page itself failed (its layout reads the database)
            current_app.logger.exception("the error page failed")
            _rollback()
            lost = isinstance(failure, SQLAlchemyError) and database_unreachable(failure)
            return unavailable(code=503 if lost else 500)

    @app.errorhandler(SQLAlchemyError)
    def database_error(error: SQLAlchemyError):  # type: ignore[no-untyped-def]
        """Whatever the database refused is rolled back; the visitor gets a page, not a trace."""
        _rollback()
        current_app.logger.exception("database error")
        if database_unreachable(error):
            return unavailable()
        if wants_problem_json():
            return http_problem(InternalServerError())
        return render_error(500)


def unavailable(code: int = 503):  # type: ignore[no-untyped-def]
    """The answer while the database cannot be reached, made without it: the visitor is shown as
    anonymous (no name, menu or notification bell, all of which read the database) and the locale
    comes from the session only (a logged-in person's choice is copied there at login), else Dutch.
    Never raises."""
    # Flask-Login keeps the request's user in g._login_user; a user loaded earlier in this request is
    # expired by the rollback and would be read again from the database by the layout.
    g._login_user = login_manager.anonymous_user()
    try:
        if wants_problem_json():
            error = ServiceUnavailable() if code == 503 else InternalServerError()
            response = http_problem(error)
        else:
            title, message = MESSAGES[code]
            page = render_template(
                "errors/unavailable.html", code=code, title=title, message=message
            )
            response = current_app.make_response((page, code))
    except Exception:  # a last resort that needs no template, translation or database
        current_app.logger.exception("the database-unavailable page failed")
        title, message = MESSAGES[code]
        response = Response(
            f"<!doctype html><title>{escape(str(title))}</title><h1>{escape(str(title))}</h1>"
            f"<p>{escape(str(message))}</p>",
            status=code,
            mimetype="text/html",
        )
    if code == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _rollback() -> None:
    """Roll back what the request began; on a lost connection even that may fail, and must not
    turn the error page into a second error."""
    try:
        db.session.rollback()
    except Exception:
        current_app.logger.exception("rollback after an error failed")


def database_unreachable(error: BaseException) -> bool:
    """A database error that means "no database" rather than "this statement failed"."""
    if isinstance(error, PoolTimeout):  # every connection busy: the database is overloaded
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError) and _unreachable(error)


def _unreachable(error: SQLAlchemyError) -> bool:
    """An OperationalError that means "no database" rather than "this statement failed"."""
    text = str(getattr(error, "orig", error)).lower()
    return any(
        phrase in text
        for phrase in (
            "unable to open database",
            "disk i/o error",
            "connection",
            "could not connect",
            "server closed",
        )
    )
