"""Languages: Dutch first, English second; and the Dutch words for the domain's enumerations."""

from __future__ import annotations

import os
from datetime import date
from enum import Enum

from babel.support import NullTranslations
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import format_decimal, get_translations
from flask_babel import lazy_gettext as _l
from flask_login import current_user, user_loaded_from_cookie

from lms.extensions import babel
from lms.models import (
    AbsenceReason,
    AttendanceStatus,
    CertificateState,
    ChecklistKind,
    EnrolmentStatus,
    IntakeType,
    Region,
    Role,
    SubmissionStatus,
    User,
)

LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}

LABELS: dict[Enum, object] = {
    Role.COORDINATOR: _l("Coordinator"),
    Role.TRAINER: _l("Trainer"),
    Role.PARTICIPANT: _l("Participant"),
    Role.EMPLOYER: _l("Workplace trainer"),
    Region.PARKSTAD: _l("Parkstad"),
    Region.WESTELIJKE_MIJNSTREEK: _l("Westelijke Mijnstreek"),
    Region.MAASTRICHT_HEUVELLAND: _l("Maastricht-Heuvelland"),
    IntakeType.SIDE_ENTRANT: _l("Side-entrant"),
    IntakeType.EMPLOYED: _l("Already employed at the SME"),
    EnrolmentStatus.ACTIVE: _l("Active"),
    EnrolmentStatus.COMPLETED: _l("Completed"),
    EnrolmentStatus.WITHDRAWN: _l("Withdrawn"),
    EnrolmentStatus.TRANSFERRED: _l("Transferred"),
    SubmissionStatus.DRAFT: _l("Draft"),
    SubmissionStatus.SUBMITTED: _l("Submitted"),
    SubmissionStatus.NEEDS_REVISION: _l("Needs revision"),
    SubmissionStatus.APPROVED: _l("Approved"),
    CertificateState.ACHIEVED: _l("Certificate achieved"),
    CertificateState.REVOKED: _l("Revoked"),
    CertificateState.READY: _l("Ready to issue"),
    CertificateState.IN_PROGRESS: _l("Not yet"),
    CertificateState.ENDED: _l("Enrolment ended"),
    ChecklistKind.TECHNICAL: _l("Technical competencies"),
    ChecklistKind.SKILL21: _l("21st-century skills"),
    AttendanceStatus.PRESENT: _l("present"),
    AttendanceStatus.LATE: _l("late"),
    AttendanceStatus.ABSENT: _l("absent"),
    AbsenceReason.SICK: _l("sick"),
    AbsenceReason.AUTHORISED: _l("authorised"),
    AbsenceReason.UNAUTHORISED: _l("unauthorised"),
}
# Monday (0) to Sunday (6), as datetime.date.weekday() counts.
WEEKDAY_NAMES = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)


def label(value: Enum) -> str:
    """The interface's word for an enumeration value, in the reader's language."""
    return str(LABELS.get(value, value.value))


def weekday_name(weekday: int) -> str:
    """The name of a weekday (0 = Monday), in the reader's language."""
    return str(WEEKDAY_NAMES[weekday])


def day_with_weekday(day: date) -> str:
    """ "Monday 14 Sep 2026": a training day, with its weekday."""
    from lms.dates import short_date

    return f"{weekday_name(day.weekday())} {short_date(day)}"


def hours_text(value: float | None) -> str:
    """7.5 → "7,5" in Dutch; 32.0 → "32"."""
    return format_decimal(value or 0, format="#,##0.#")


def language_of(user: User) -> str:
    """The language of a person's pages and mail: their choice, else Dutch."""
    if user.locale in current_app.config["LANGUAGES"]:
        return user.locale
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def select_locale() -> str:
    """Dutch unless the person chose English: a logged-in person's choice is on the account, a
    visitor's in the session. The browser's Accept-Language never decides for a person; only the
    addresses machines read (the JSON API, .json) honour it, as the API documents."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():  # command line, scheduled jobs
        return default
    if current_user and current_user.is_authenticated:
        return language_of(current_user)
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    from lms.errors import wants_problem_json  # lms.errors needs the blueprints, built after this

    if wants_problem_json():
        return request.accept_languages.best_match(languages) or default
    return default


def keep_in_session(user: User) -> None:
    """A copy of the person's choice in the session (at login), so the pages made without the
    database (lms/errors.py unavailable()) are in their language too."""
    if user.locale in current_app.config["LANGUAGES"]:
        session["locale"] = user.locale
    else:
        session.pop("locale", None)


def init_babel(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=os.path.join(os.path.dirname(__file__), "translations"),
    )
    # Templates call _() hundreds of times a page; each goes through the catalogue of the locale
    # the context has now, looked up once per locale instead of once per call.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: template_translations().ugettext(s),
        ngettext=lambda s, p, n: template_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: template_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: template_translations().unpgettext(c, s, p, n),
    )

    # Logged in again through the remember cookie: a new session, so copy the choice into it.
    @user_loaded_from_cookie.connect_via(app)
    def copy_language(_app: Flask, user: User) -> None:
        keep_in_session(user)


def template_translations() -> NullTranslations:
    """``flask_babel.get_translations()``, remembered with the locale it is for. Flask-Babel keeps
    the context's locale in ``g._flask_babel.babel_locale`` and replaces that object whenever the
    locale changes (``force_locale`` for a mail in the recipient's language, and back), so the
    catalogue is looked up again exactly then; without a locale yet, Flask-Babel chooses one."""
    state = getattr(g, "_flask_babel", None) if g else None
    locale = getattr(state, "babel_locale", None)
    remembered = getattr(state, "lms_translations", None)
    if locale is not None and remembered is not None and remembered[0] is locale:
        return remembered[1]  # type: ignore[no-any-return]
    translations = get_translations()
    state = getattr(g, "_flask_babel", None) if g else None
    if state is not None and getattr(state, "babel_locale", None) is not None:
        state.lms_translations = (state.babel_locale, translations)
    return translations
