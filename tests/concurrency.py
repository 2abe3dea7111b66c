"""Two requests at the same moment, in a fixed order: the first is held inside its transaction while the
second starts, so a test sees what the second does while the first has written but not committed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from lms.extensions import db


def hold_first_after(
    statement_start: str, first: Callable[[], Any], second: Callable[[], Any]
) -> tuple[Any, Any, bool]:
    """Run ``first`` in a thread and pause it right after it sent a statement starting with
    ``statement_start`` (upper case, e.g. "INSERT INTO SIGNOFFS"); then run ``second`` in another
    thread. Returns both answers and whether the second was still waiting a second later, before the
    first was let go."""
    wrote = threading.Event()
    release = threading.Event()
    answers: dict[str, Any] = {}
    errors: list[BaseException] = []

    def pause(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if (
            threading.current_thread().name == "first"
            and statement.lstrip().upper().startswith(statement_start)
            and not wrote.is_set()
        ):
            wrote.set()
            release.wait(timeout=10)

    def run(name: str, call: Callable[[], Any]) -> None:
        try:
            answers[name] = call()
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            wrote.set()

    sa.event.listen(db.engine, "after_cursor_execute", pause)
    try:
        first_thread = threading.Thread(target=run, args=("first", first), name="first")
        first_thread.start()
        assert wrote.wait(timeout=10)
        second_thread = threading.Thread(target=run, args=("second", second), name="second")
        second_thread.start()
        second_thread.join(timeout=1.0)
        second_waited = second_thread.is_alive()
        release.set()
        first_thread.join(timeout=20)
        second_thread.join(timeout=20)
    finally:
        release.set()
        sa.event.remove(db.engine, "after_cursor_execute", pause)
    assert not errors, errors
    return answers["first"], answers["second"], second_waited
