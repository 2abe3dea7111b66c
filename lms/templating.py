"""What every template can use: navigation for the user's role, labels, languages."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2.ext import Extension

from lms import dates
from lms.blueprints.assessment.navigation import QueueNavText
from lms.i18n import LANGUAGE_NAMES, day_with_weekday, label, weekday_name
from lms.models import Role
from lms.services.accounts import MIN_PASSWORD_LENGTH


class NavItem(NamedTuple):
    endpoint: str
    text: Any


NAVIGATION: dict[Role, tuple[NavItem, ...]] = {
    Role.COORDINATOR: (
        NavItem("dashboard.coordinator", _l("Overview")),
        NavItem("cohorts.index", _l("Cohorts")),
        NavItem("people.employers", _l("Employers")),
        NavItem("people.trainers", _l("Trainers")),
        NavItem("people.participants", _l("Participants")),
        NavItem("reports.programme", _l("Report")),
        NavItem("certificates.index", _l("Certificates")),
        NavItem("api_tokens.index", _l("API keys")),
    ),
    Role.TRAINER: (
        NavItem("dashboard.trainer", _l("Overview")),
        NavItem("assessment.index", _l("My cohorts")),
        NavItem("assessment.queue", QueueNavText()),  # "Assess (3)": the queue's length, one query
        NavItem("certificates.index", _l("Certificates")),
    ),
    Role.PARTICIPANT: (
        NavItem("dashboard.participant", _l("Overview")),
        NavItem("portfolio.index", _l("My assignments")),
        NavItem("checklists.mine", _l("My checklists")),
        NavItem("hours.mine", _l("My hours")),
        NavItem("attendance.mine", _l("Attendance")),
    ),
    Role.EMPLOYER: (
        NavItem("dashboard.employer", _l("Overview")),
        NavItem("employer.index", _l("My employees")),
        NavItem("hours.to_approve", _l("Hours")),
        NavItem("checklists.index", _l("Checklists")),
        NavItem("certificates.index", _l("Certificates")),
    ),
}


class StripIndentation(Extension):
    """Drops the indentation of every line of an HTML template when it is compiled (once per
    template, nothing at render time): a tenth of a long page's bytes were spaces that a browser
    collapses anyway. Line breaks stay, so text reads the same, also under ``white-space: pre-line``.
    No template has a ``<pre>`` or ``<textarea>`` whose content runs over lines of the template
    (``tests/test_templates.py`` holds that); plain-text mails (``.txt``) keep their layout."""

    INDENTATION = re.compile(r"^[ \t]+", re.MULTILINE)

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if name is None or not name.endswith(".html"):
            return source
        return self.INDENTATION.sub("", source)


def navigation_for(user: Any) -> tuple[NavItem, ...]:
    if not user or not user.is_authenticated:
        return ()
    return NAVIGATION[user.role]


def register(app: Flask) -> None:
    app.jinja_env.add_extension(StripIndentation)
    dates.register(app)  # |date and |datetime: the one date format of the interface
    app.add_template_filter(day_with_weekday, "weekday_date")  # "maandag 14 sep 2026"
    # Globals (not context variables) so that imported macros can use them too.
    app.jinja_env.globals.update(
        label=label,
        weekday_name=weekday_name,
        language_names=LANGUAGE_NAMES,
        Role=Role,
        get_locale=get_locale,
        min_password_length=MIN_PASSWORD_LENGTH,
    )

    @app.context_processor
    def inject_navigation() -> dict[str, Any]:
        return {"navigation": navigation_for(current_user)}
