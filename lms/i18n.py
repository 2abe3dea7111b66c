"""Languages: Dutch first, English second; and the Dutch words for the domain's enumerations."""

from __future__ import annotations

import os
from enum import Enum

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.extensions import babel
from lms.models import (
    CertificateState,
    ChecklistKind,
    EnrolmentStatus,
    IntakeType,
    Region,
    Role,
    SubmissionStatus,
)

LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}

LABELS: dict[Enum, object] = {
    Role.COORDINATOR: _l("Coordinator"),
    Role.TRAINER: _l("Trainer"),
    Role.PARTICIPANT: _l("Participant"),
    Role.EMPLOYER: _l("Employer"),
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
}


def label(value: Enum) -> str:
    """The interface's word for an enumeration value, in the reader's language."""
    return str(LABELS.get(value, value.value))


def select_locale() -> str:
    """The user's own choice, else the session's, else the browser's, else Dutch."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # command line, scheduled jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def init_babel(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=os.path.join(os.path.dirname(__file__), "translations"),
    )
