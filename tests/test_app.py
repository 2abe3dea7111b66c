"""The application factory, configurations, health check, headers and error pages."""

from __future__ import annotations

import pytest
from flask import Flask

from config import ConfigurationError, DevelopmentConfig, ProductionConfig, TestingConfig
from lms import create_app


def test_factory_builds_the_testing_configuration(app: Flask) -> None:
    assert app.testing
    assert app.config["LMS_CONFIG_NAME"] == "testing"


def test_configuration_can_be_chosen_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_CONFIG", "testing")
    assert create_app().config["LMS_CONFIG_NAME"] == "testing"
    assert create_app("testing").testing


def test_unknown_configuration_name_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="staging"):
        create_app("staging")


def test_development_uses_sqlite_in_the_instance_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(DevelopmentConfig)
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"]
        == f"sqlite:///{tmp_path / 'instance' / 'lms.sqlite3'}"
    )
    assert (tmp_path / "instance").is_dir()


def test_database_url_overrides_every_configuration(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.internal:5432/lms")
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    for config in (DevelopmentConfig, TestingConfig, ProductionConfig):
        app = create_app(config)
        # A plain postgres:// URL is served by psycopg 3.
        assert (
            app.config["SQLALCHEMY_DATABASE_URI"]
            == "postgresql+psycopg://someone@db.internal:5432/lms"
        )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL"])
def test_production_refuses_to_start_without_its_settings(monkeypatch, missing: str) -> None:
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigurationError, match=missing):
        create_app(ProductionConfig)


def test_production_sets_secure_cookies(monkeypatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SECRET_KEY"] == "s3cret"
    assert not app.debug


def test_health_check_reports_the_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_health_check_answers_503_when_the_database_is_unreachable(tmp_path) -> None:
    unreachable = type(
        "Unreachable",
        (TestingConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:9/none",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
        },
    )
    response = create_app(unreachable).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unavailable"


def test_pages_carry_security_headers(client) -> None:
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_page_gets_a_dutch_404(client) -> None:
    response = client.get("/bestaat-niet")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Pagina niet gevonden" in page
    assert '<html lang="nl">' in page


def test_server_error_page_is_dutch_and_rolls_back(app: Flask) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/kapot")
    def broken():  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    response = app.test_client().get("/kapot")
    assert response.status_code == 500
    assert "Er ging iets mis aan onze kant" in response.get_data(as_text=True)


def test_static_css_is_served_locally(client) -> None:
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "http://" not in response.get_data(as_text=True)
    assert "https://" not in response.get_data(as_text=True)
