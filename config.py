"""Configuration classes, chosen by name (``LMS_CONFIG``) or passed to ``create_app``.

Environment variables are read when the application is created, not at import time, so a test can set
them and build a fresh application.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

from flask import Flask


class ConfigurationError(RuntimeError):
    """The application cannot start with the configuration it was given."""


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL, whatever scheme the URL was written with."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    NAME = "base"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Interface
    BABEL_DEFAULT_LOCALE = "nl"
    BABEL_DEFAULT_TIMEZONE = "Europe/Amsterdam"
    LANGUAGES = ("nl", "en")
    PER_PAGE = 25

    # Sessions and forms
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # "Stay logged in on this device" lasts this long; no login session lives longer on the server
    # (lms/services/login_sessions.py).
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    # Without "stay logged in", a login session ends on the server after this long unused.
    LOGIN_SESSION_IDLE_MINUTES = 120
    # Strict-Transport-Security header; only production sets it (development and tests run on http).
    STRICT_TRANSPORT_SECURITY: str | None = None
    WTF_CSRF_TIME_LIMIT = None  # a form left open on the shop floor must still submit

    # Accounts: Werkzeug's strongest method (scrypt)
    PASSWORD_HASH_METHOD = "scrypt"
    INVITATION_TOKEN_HOURS = 7 * 24
    PASSWORD_RESET_TOKEN_HOURS = 2

    # Requests and files. Evidence limits are per file (by what the file really is) and per attempt;
    # a request may be a little larger than one attempt's files, so the limit message can name the file.
    EVIDENCE_STORAGE_PATH: str | None = None  # defaults to <instance>/evidence
    EVIDENCE_MAX_PHOTO_BYTES = 15 * 1024 * 1024
    EVIDENCE_MAX_PDF_BYTES = 10 * 1024 * 1024
    EVIDENCE_MAX_VIDEO_BYTES = 50 * 1024 * 1024
    EVIDENCE_MAX_ATTEMPT_BYTES = 100 * 1024 * 1024
    EVIDENCE_MAX_FILES_PER_ATTEMPT = 20
    EVIDENCE_MAX_IMAGE_PIXELS = 50_000_000  # larger photos are refused before they are decoded
    MAX_CONTENT_LENGTH = EVIDENCE_MAX_ATTEMPT_BYTES + 5 * 1024 * 1024

    # Flask-Limiter's store, for the limits on /verify, the API's certificate check and /l/<token> (the
    # login and forgot-password limits are counted in the database instead).
    RATELIMIT_STORAGE_URI = (
        "memory://"  # RATELIMIT_STORAGE_URI in the environment, e.g. redis://...
    )
    RATELIMIT_HEADERS_ENABLED = True
    # Failed logins allowed before that account or address has to wait (lms/services/login_throttle.py,
    # counted in the database so every worker counts together).
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    LOGIN_LIMIT_PER_ADDRESS = "30 per 15 minutes"  # a workshop shares one address
    # Reverse proxies in front of the app (1 behind nginx) whose X-Forwarded-For/-Proto are trusted,
    # so rate limits and the audit log see the visitor's address; TRUSTED_PROXIES in the environment.
    TRUSTED_PROXIES = 0
    # Requests for a reset link per address (counted in the database, like the login limits).
    PASSWORD_RESET_LIMIT_PER_ADDRESS = "10 per hour"
    # Public certificate checks (/verify/<code>) per client address; VERIFY_RATE_LIMIT in the environment.
    VERIFY_RATE_LIMIT = "30 per minute"
    # Fetches of one calendar feed link (/calendar/<secret>.ics), and of all links from one address
    # (Google and Microsoft fetch everyone's subscriptions from a few shared addresses);
    # CALENDAR_FEED_RATE_LIMIT and CALENDAR_FEED_ADDRESS_RATE_LIMIT in the environment.
    CALENDAR_FEED_RATE_LIMIT = "60 per hour"
    CALENDAR_FEED_ADDRESS_RATE_LIMIT = "300 per minute"

    # Privacy: participants' data is erased this many months after their last cohort ended
    # (`flask --app wsgi lms retention`); RETENTION_MONTHS in the environment overrides it.
    RETENTION_MONTHS = 24

    # Where links in mail and on the command line point to: BASE_URL in the environment, else the
    # address `make run` serves on (HOST and PORT, which the Makefile passes to every flask command).
    BASE_URL: str | None = None
    # Open Badges credentials (lms/services/badges.py): the signing keys live in files, not in the
    # database (BADGE_KEY_DIR, default <instance>/badge-keys); the issuer is did:web:<BADGE_DID_DOMAIN>,
    # by default the host of BASE_URL.
    BADGE_KEY_DIR: str | None = None
    BADGE_DID_DOMAIN: str | None = None
    MAIL_DEFAULT_SENDER = "Vakkracht MKB Zuid-Limburg <noreply@vakkracht.example>"

    # The programme's owner, who issues the certificate and the badge (lms/services/issuer.py), and
    # its partners. DEMO VALUES: addresses, websites and the programme manager are made up (.example
    # domains); a deployment sets the real ones in the environment under the same names
    # (PROGRAMME_PARTNERS as a JSON list of {"name", "role", "address", "url", "logo"}). A logo is a
    # PNG or JPEG: a path inside lms/static or an absolute path.
    ISSUER_NAME = "Vakkracht MKB Zuid-Limburg"
    ISSUER_DESCRIPTION = (
        "Leer-, ontwikkel- en kwalificatietraject Productie/montage Vakkracht MKB Zuid-Limburg"
        " (mbo-niveau 2), uitgevoerd met Technicom, de SIM LeerWerkFabriek en groepen bedrijven"
        " in Zuid-Limburg"
    )
    ISSUER_STREET_ADDRESS = "Voorbeeldstraat 1 (demo)"
    ISSUER_POSTAL_CODE = "6411 AA"
    ISSUER_LOCALITY = "Heerlen"
    ISSUER_COUNTRY = "NL"
    ISSUER_URL = "https://vakkracht.example/"
    ISSUER_LOGO = "img/issuer-logo-demo.png"
    PROGRAMME_PARTNERS: tuple[dict[str, str], ...] = (
        {
            "name": "Technicom",
            "role": "landelijk technisch opleider",
            "address": "Demostraat 10, 6221 AA Maastricht (demo)",
            "url": "https://technicom.example/",
            "logo": "",
        },
        {
            "name": "SIM LeerWerkFabriek",
            "role": "leerwerkbedrijf voor productie",
            "address": "Demoweg 5, 6199 AA Maastricht-Airport (demo)",
            "url": "https://sim-leerwerkfabriek.example/",
            "logo": "",
        },
        {
            "name": "Business communities en groepen bedrijven in Zuid-Limburg",
            "role": "leerbedrijven in Parkstad, Westelijke Mijnstreek en Maastricht-Heuvelland",
            "address": "",
            "url": "",
            "logo": "",
        },
        {
            "name": "Economische Samenwerking Zuid-Limburg (ESZL)",
            "role": "faciliteert de MKB-deal Zuid-Limburg",
            "address": "Demoplein 2, 6411 AB Heerlen (demo)",
            "url": "https://eszl.example/",
            "logo": "",
        },
    )
    # Who signs the certificate for the owner, and where it is issued (printed on the PDF).
    PROGRAMME_MANAGER_NAME = "P. de Voorbeeld (demo)"
    CERTIFICATE_PLACE = "Heerlen"

    # Outbox delivery over SMTP (from the environment, see init_app). Without MAIL_SERVER, development
    # and tests print each mail to the log and mark it sent; production leaves it in the outbox.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 587
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = False  # STARTTLS after connecting
    MAIL_USE_SSL = False  # TLS from the start (port 465)
    MAIL_TIMEOUT = 30  # seconds per SMTP conversation
    MAIL_MAX_ATTEMPTS = 8  # then the message is failed permanently and shown to the coordinator
    MAIL_RETRY_BASE_SECONDS = 60  # back-off: 1, 2, 4, 8 ... minutes, at most MAIL_RETRY_MAX_SECONDS
    MAIL_RETRY_MAX_SECONDS = 6 * 3600
    MAIL_BATCH_SIZE = 50  # messages per delivery run

    @classmethod
    def init_app(cls, app: Flask) -> None:
        """Fill in what depends on the environment or on the instance folder."""
        database_url = os.environ.get("DATABASE_URL")
        if database_url:
            app.config["SQLALCHEMY_DATABASE_URI"] = database_url
        if app.config.get("SQLALCHEMY_DATABASE_URI"):
            app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
                app.config["SQLALCHEMY_DATABASE_URI"]
            )
        app.config["BASE_URL"] = (
            os.environ.get("BASE_URL") or app.config.get("BASE_URL") or served_url()
        )
        if os.environ.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
        load_mail_settings(app)
        if os.environ.get("RETENTION_MONTHS"):
            app.config["RETENTION_MONTHS"] = int(os.environ["RETENTION_MONTHS"])
        if os.environ.get("TRUSTED_PROXIES"):
            app.config["TRUSTED_PROXIES"] = int(os.environ["TRUSTED_PROXIES"])
        if os.environ.get("RATELIMIT_STORAGE_URI"):
            app.config["RATELIMIT_STORAGE_URI"] = os.environ["RATELIMIT_STORAGE_URI"]
        for name in (
            "VERIFY_RATE_LIMIT",
            "CALENDAR_FEED_RATE_LIMIT",
            "CALENDAR_FEED_ADDRESS_RATE_LIMIT",
        ):
            if os.environ.get(name):
                app.config[name] = os.environ[name]
        load_issuer_settings(app)
        if os.environ.get("BADGE_DID_DOMAIN"):
            app.config["BADGE_DID_DOMAIN"] = os.environ["BADGE_DID_DOMAIN"]
        if not app.config.get("BADGE_KEY_DIR"):
            app.config["BADGE_KEY_DIR"] = os.environ.get(
                "BADGE_KEY_DIR", str(Path(app.instance_path) / "badge-keys")
            )
        if not app.config.get("EVIDENCE_STORAGE_PATH"):
            app.config["EVIDENCE_STORAGE_PATH"] = os.environ.get(
                "EVIDENCE_STORAGE_PATH", str(Path(app.instance_path) / "evidence")
            )


def served_url() -> str:
    """http://HOST:PORT as `make run` serves it (127.0.0.1:5000 by default); an address that means
    "every interface" is reached on this machine as 127.0.0.1."""
    host = os.environ.get("HOST", "").strip() or "127.0.0.1"
    if host in ("0.0.0.0", "::"):  # nosec B104 - compared with, not bound to
        host = "127.0.0.1"
    elif ":" in host:  # an IPv6 address is written in brackets in a URL
        host = f"[{host}]"
    port = os.environ.get("PORT", "").strip() or "5000"
    return f"http://{host}:{port}"


def _env_flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def load_mail_settings(app: Flask) -> None:
    """SMTP settings from MAIL_SERVER, MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD, MAIL_USE_TLS,
    MAIL_USE_SSL and MAIL_FROM (the sender address)."""
    env = os.environ
    for name in ("MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD"):
        if env.get(name):
            app.config[name] = env[name]
    if env.get("MAIL_PORT"):
        app.config["MAIL_PORT"] = int(env["MAIL_PORT"])
    for name in ("MAIL_USE_TLS", "MAIL_USE_SSL"):
        if env.get(name):
            app.config[name] = _env_flag(env[name])
    if env.get("MAIL_FROM"):
        app.config["MAIL_DEFAULT_SENDER"] = env["MAIL_FROM"]


ISSUER_SETTINGS = (
    "ISSUER_NAME",
    "ISSUER_DESCRIPTION",
    "ISSUER_STREET_ADDRESS",
    "ISSUER_POSTAL_CODE",
    "ISSUER_LOCALITY",
    "ISSUER_COUNTRY",
    "ISSUER_URL",
    "ISSUER_LOGO",
    "PROGRAMME_MANAGER_NAME",
    "CERTIFICATE_PLACE",
)
PARTNER_FIELDS = ("name", "role", "address", "url", "logo")


def load_issuer_settings(app: Flask) -> None:
    """The owner, its partners, the programme manager and the place of issue from the environment
    (the names of ``ISSUER_SETTINGS``, and PROGRAMME_PARTNERS as a JSON list of objects)."""
    env = os.environ
    for name in ISSUER_SETTINGS:
        if env.get(name, "").strip():
            app.config[name] = env[name].strip()
    if env.get("PROGRAMME_PARTNERS", "").strip():
        app.config["PROGRAMME_PARTNERS"] = parse_partners(env["PROGRAMME_PARTNERS"])


def parse_partners(text: str) -> tuple[dict[str, str], ...]:
    """PROGRAMME_PARTNERS: ``[{"name": "...", "url": "..."}, ...]``; every field but the name may be
    left out. Anything else stops the application with a message that says what is wrong."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ConfigurationError(f"PROGRAMME_PARTNERS is not valid JSON: {error}") from None
    if not isinstance(value, list) or not all(
        isinstance(partner, dict)
        and isinstance(partner.get("name"), str)
        and partner["name"].strip()
        and all(isinstance(partner.get(key, ""), str) for key in PARTNER_FIELDS)
        for partner in value
    ):
        raise ConfigurationError(
            "PROGRAMME_PARTNERS must be a JSON list of objects with a name and optionally "
            + ", ".join(PARTNER_FIELDS[1:])
            + " (all text)"
        )
    return tuple({key: partner.get(key, "").strip() for key in PARTNER_FIELDS} for partner in value)


class DevelopmentConfig(Config):
    NAME = "development"
    DEBUG = True
    SECRET_KEY = "dev-only-secret-key-not-for-production"

    @classmethod
    def init_app(cls, app: Flask) -> None:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config.setdefault("SQLALCHEMY_DATABASE_URI", None)
        if not app.config["SQLALCHEMY_DATABASE_URI"]:
            db_file = Path(app.instance_path) / "lms.sqlite3"
            app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_file}"
        super().init_app(app)


class TestingConfig(Config):
    NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Werkzeug's strongest hash is slow by design; tests create many accounts.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"

    @classmethod
    def init_app(cls, app: Flask) -> None:
        # Each test's signing keys sit beside its evidence files, never in the developer's instance.
        if not app.config.get("BADGE_KEY_DIR") and app.config.get("EVIDENCE_STORAGE_PATH"):
            evidence = Path(app.config["EVIDENCE_STORAGE_PATH"])
            app.config["BADGE_KEY_DIR"] = str(evidence.parent / "badge-keys")
        super().init_app(app)


class ProductionConfig(Config):
    NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    # Browsers remember for a year to use only https for this host.
    STRICT_TRANSPORT_SECURITY = "max-age=31536000"

    @classmethod
    def init_app(cls, app: Flask) -> None:
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not os.environ.get(name)]
        if missing:
            raise ConfigurationError(
                "Production configuration refuses to start without: " + ", ".join(missing)
            )
        app.config["RATELIMIT_STORAGE_URI"] = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
        super().init_app(app)


CONFIGS: dict[str, type[Config]] = {
    cls.NAME: cls for cls in (DevelopmentConfig, TestingConfig, ProductionConfig)
}


def config_by_name(name: str) -> type[Config]:
    try:
        return CONFIGS[name.lower()]
    except KeyError:
        raise ConfigurationError(
            f"Unknown configuration {name!r}; choose one of: {', '.join(CONFIGS)}"
        ) from None
