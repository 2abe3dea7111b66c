"""What every template can use: navigation for the user's role, labels, languages."""

from __future__ import annotations

from typing import Any, NamedTuple

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms import dates
from lms.blueprints.assessment.navigation import QueueNavText
from lms.i18n import LANGUAGE_NAMES, label
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
    ),
    Role.EMPLOYER: (
        NavItem("dashboard.employer", _l("Overview")),
        NavItem("employer.index", _l("My employees")),
        NavItem("hours.to_approve", _l("Hours")),
        NavItem("checklists.index", _l("Checklists")),
        NavItem("certificates.index", _l("Certificates")),
    ),
}


def navigation_for(user: Any) -> tuple[NavItem, ...]:
    if not user or not user.is_authenticated:
        return ()
    return NAVIGATION[user.role]


def register(app: Flask) -> None:
    dates.register(app)  # |date and |datetime: the one date format of the interface
    # Globals (not context variables) so that imported macros can use them too.
    app.jinja_env.globals.update(
        label=label,
        language_names=LANGUAGE_NAMES,
        Role=Role,
        get_locale=get_locale,
        min_password_length=MIN_PASSWORD_LENGTH,
    )

    @app.context_processor
    def inject_navigation() -> dict[str, Any]:
        return {"navigation": navigation_for(current_user)}
