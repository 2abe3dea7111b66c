"""The Vakkracht LMS: an application factory and the named steps it takes."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from config import Config, config_by_name

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: str | type[Config] | Mapping[str, Any] | None = None) -> Flask:
    """Build the application.

    ``config`` is a configuration name ("development", "testing", "production"), a config class, or a
    mapping of settings applied on top of the configuration named by ``LMS_CONFIG``. Without it the
    configuration is ``LMS_CONFIG`` (default: development).
    """
    app = Flask(
        __name__,
        template_folder=os.path.join(PROJECT_ROOT, "templates"),
        instance_path=os.environ.get("LMS_INSTANCE_PATH") or os.path.join(PROJECT_ROOT, "instance"),
    )
    load_config(app, config)
    init_extensions(app)
    init_auth(app)
    init_i18n(app)
    register_blueprints(app)
    register_error_pages(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_idempotent_forms(app)
    register_cli(app)
    return app


def load_config(app: Flask, config: str | type[Config] | Mapping[str, Any] | None) -> None:
    overrides: Mapping[str, Any] = {}
    if config is None or isinstance(config, str):
        config_class = config_by_name(config or os.environ.get("LMS_CONFIG", "development"))
    elif isinstance(config, Mapping):
        config_class = config_by_name(os.environ.get("LMS_CONFIG", "development"))
        overrides = config
    else:
        config_class = config
    app.config.from_object(config_class)
    app.config.update(overrides)
    config_class.init_app(app)
    app.config["LMS_CONFIG_NAME"] = config_class.NAME


def init_extensions(app: Flask) -> None:
    from lms.extensions import csrf, db, enforce_sqlite_foreign_keys, limiter, migrate

    db.init_app(app)
    enforce_sqlite_foreign_keys()
    migrate.init_app(app, db, directory=os.path.join(PROJECT_ROOT, "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)


def init_auth(app: Flask) -> None:
    from lms.permissions import init_login_manager

    init_login_manager(app)


def init_i18n(app: Flask) -> None:
    from lms.i18n import init_babel

    init_babel(app)


def register_blueprints(app: Flask) -> None:
    from lms.blueprints.api import bp as api_bp
    from lms.blueprints.api import tokens_bp as api_tokens_bp
    from lms.blueprints.assessment import bp as assessment_bp
    from lms.blueprints.attendance import bp as attendance_bp
    from lms.blueprints.auth import bp as auth_bp
    from lms.blueprints.badges import bp as badges_bp
    from lms.blueprints.calendar import bp as calendar_bp
    from lms.blueprints.certificates import bp as certificates_bp
    from lms.blueprints.checklists import bp as checklists_bp
    from lms.blueprints.cohorts import bp as cohorts_bp
    from lms.blueprints.dashboard import bp as dashboard_bp
    from lms.blueprints.employer import bp as employer_bp
    from lms.blueprints.hours import bp as hours_bp
    from lms.blueprints.links import bp as links_bp
    from lms.blueprints.main import bp as main_bp
    from lms.blueprints.notifications import bp as notifications_bp
    from lms.blueprints.outbox import bp as outbox_bp
    from lms.blueprints.people import bp as people_bp
    from lms.blueprints.portfolio import bp as portfolio_bp
    from lms.blueprints.privacy import bp as privacy_bp
    from lms.blueprints.reports import bp as reports_bp
    from lms.blueprints.reviews import bp as reviews_bp
    from lms.blueprints.verify import bp as verify_bp

    blueprints = (
        main_bp,
        auth_bp,
        cohorts_bp,
        people_bp,
        portfolio_bp,
        assessment_bp,
        employer_bp,
        checklists_bp,
        notifications_bp,
        outbox_bp,
        dashboard_bp,
        reviews_bp,
        hours_bp,
        calendar_bp,
        attendance_bp,
        links_bp,
        reports_bp,
        privacy_bp,
        certificates_bp,
        verify_bp,
        badges_bp,
        api_bp,
        api_tokens_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def register_error_pages(app: Flask) -> None:
    from lms.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from lms.templating import register

    register(app)


def register_security_headers(app: Flask) -> None:
    from lms.security import register

    register(app)


def register_idempotent_forms(app: Flask) -> None:
    from lms.idempotent_forms import register

    register(app)


def register_cli(app: Flask) -> None:
    from lms.cli import lms_group
    from lms.cli_operations import register as register_operations

    register_operations(lms_group)
    app.cli.add_command(lms_group)
