"""Fixtures: an application per test on SQLite, and on PostgreSQL when LMS_TEST_DATABASE_URL is set.

The schema is created once per database; after each test every table is emptied, so tests never see
each other's rows and can run in any order.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from config import TestingConfig, normalise_database_url
from lms import create_app
from lms.extensions import db as _db

# A developer's DATABASE_URL must never point the tests at a real database.
os.environ.pop("DATABASE_URL", None)
os.environ.pop("LMS_CONFIG", None)
# Links in mail are on the default address (http://127.0.0.1:5000), whatever the shell's make run set.
for _name in ("BASE_URL", "HOST", "PORT"):
    os.environ.pop(_name, None)

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("LMS_TEST_DATABASE_URL") else [])

CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def make_config(database_url: str, storage: Path) -> type[TestingConfig]:
    return type(
        "PerTestConfig",
        (TestingConfig,),
        {"SQLALCHEMY_DATABASE_URI": database_url, "EVIDENCE_STORAGE_PATH": str(storage)},
    )


class FreshContextClient(FlaskClient):
    """Each request gets its own application context, as in production: its own ``g`` and its own
    database session, so nothing leaks from the test (or an earlier request) into the request."""

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
        return
    # A database of its own for each test run, so two runs on one server never meet.
    server_url = normalise_database_url(os.environ["LMS_TEST_DATABASE_URL"])
    name = f"lms_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def schema(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    app = create_app(make_config(database_url, tmp_path_factory.mktemp("storage")))
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield
    with app.app_context():
        _db.drop_all()
        _db.engine.dispose()


@pytest.fixture
def app(database_url: str, schema: None, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(make_config(database_url, tmp_path / "evidence"))
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app
        _db.session.remove()
        empty_all_tables()
        _db.engine.dispose()


def empty_all_tables() -> None:
    tables = list(reversed(_db.metadata.sorted_tables))
    if _db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{table.name}"' for table in tables)
        with _db.engine.begin() as connection:
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return
    # Rows that point at rows of their own table (a transfer, a revocation, a reissue) are protected
    # by ON DELETE RESTRICT, which SQLite checks row by row; the pragma only works outside a transaction.
    with _db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
        connection.commit()
        for table in tables:
            connection.execute(table.delete())
        connection.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys = ON")
        connection.commit()


@pytest.fixture
def db(app: Flask):  # type: ignore[no-untyped-def]
    return _db


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The session's CSRF token, read from a page's form as a browser would."""
    page = client.get(path, follow_redirects=True)
    match = CSRF_PATTERN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class AuthActions:
    """Log in and out through the real form, CSRF token included."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, email: str, password: str = "correct-horse-battery", **kwargs):  # type: ignore[no-untyped-def]
        token = csrf_token(self._client)
        return self._client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": token},
            **kwargs,
        )

    def logout(self):  # type: ignore[no-untyped-def]
        token = csrf_token(self._client)
        return self._client.post("/logout", data={"csrf_token": token})

    def post(self, path: str, data: dict | None = None, **kwargs):  # type: ignore[no-untyped-def]
        """POST a form with the session's CSRF token added."""
        payload = {"csrf_token": csrf_token(self._client), **(data or {})}
        return self._client.post(path, data=payload, **kwargs)


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


class QueryCounter:
    """Counts the SQL statements the application sends while active."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask):  # type: ignore[no-untyped-def]
    return lambda: QueryCounter(_db.engine)
