"""Flask extensions, created once here and bound to an application in ``create_app``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, SessionTransaction

# Stable constraint names, so Alembic can find and alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def _sqlite_foreign_keys_on(dbapi_connection: Any, connection_record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def enforce_sqlite_foreign_keys() -> None:
    """SQLite ignores foreign keys unless each connection asks for them."""
    if not event.contains(Engine, "connect", _sqlite_foreign_keys_on):
        event.listen(Engine, "connect", _sqlite_foreign_keys_on)


@contextmanager
def savepoint() -> Iterator[SessionTransaction]:
    """``db.session.begin_nested()`` that stays inside the session's transaction on SQLite too.

    The sqlite3 driver opens its transaction lazily, at the first INSERT, UPDATE or DELETE. A SAVEPOINT
    sent before that (after reads only) opens a transaction of its own, and its RELEASE commits it: what
    the savepoint wrote would outlive a rollback of the request. So on SQLite the transaction is begun
    first when the driver has not begun it yet."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        driver_connection = connection.connection.driver_connection
        if (
            isinstance(driver_connection, sqlite3.Connection)
            and not driver_connection.in_transaction
        ):
            connection.exec_driver_sql("BEGIN")
    with db.session.begin_nested() as nested:
        yield nested


def insert_rows(
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: Sequence[sa.ColumnElement[Any]] = (),
    skip_conflicts: bool = False,
) -> list[sa.Row[Any]]:
    """INSERT ``rows`` (dicts with the same keys) into ``table`` in the session's transaction, and
    return the ``returning`` columns of the rows inserted, in no particular order. ``skip_conflicts``:
    a row that a unique key refuses is left out (``ON CONFLICT DO NOTHING``), not an error.

    On PostgreSQL one statement however many rows: each column's values go as one array parameter,
    ``INSERT ... SELECT ... FROM unnest(...)``, in the order of ``rows``. Why not SQLAlchemy's own
    multi-row VALUES batches for an INSERT with RETURNING: they put a placeholder in the SQL text for
    every value, which the driver then rewrites one by one; that was most of the time of the first
    reminder sweep's INSERTs (25,000 reminder keys, 10,000 notifications). On SQLite, those batches
    are used. For rows of many columns or long texts (the outbox) a plain executemany is faster."""
    if not rows:
        return []
    statement: Any
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        names = list(rows[0])
        values = (
            sa.func.unnest(
                *(
                    sa.bindparam(
                        f"{name}_values",
                        [row[name] for row in rows],
                        type_=ARRAY(table.c[name].type),
                    )
                    for name in names
                )
            )
            .table_valued(*names)
            .render_derived(name="new_rows")
        )
        statement = pg_insert(table).from_select(
            names, sa.select(*(values.c[name] for name in names))
        )
        parameters = None
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table)
        parameters = list(rows)
    if skip_conflicts:
        statement = statement.on_conflict_do_nothing()
    if not returning:
        db.session.execute(statement, parameters)
        return []
    return list(db.session.execute(statement.returning(*returning), parameters))
