"""Where one page's time goes, on a benchmark database: SQL, rendering, and the rest.

    python -m benchmarks.profile_page ROLE PATH [--database-url URL] [--repeat 30] [--cprofile 5]

Logged in as ROLE (coordinator, trainer, participant, employer) like ``benchmarks.run``, it prints each SQL
statement of one request with its time, then the median per request over ``--repeat`` requests of the
time in SQL (cursor execute), in Jinja rendering and in the rest of the request, and with ``--cprofile N``
the functions that took the most time over N requests. ``benchmarks/RESULTS.md`` names the causes of
misses from this output.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import flask.templating
import sqlalchemy as sa

from benchmarks.common import (
    COORDINATOR_EMAIL,
    DEFAULT_SQLITE_URL,
    EMPLOYER_EMAIL,
    PARTICIPANT_EMAIL,
    TRAINER_EMAIL,
)
from benchmarks.run import Bench

EMAILS = {
    "coordinator": COORDINATOR_EMAIL,
    "trainer": TRAINER_EMAIL,
    "participant": PARTICIPANT_EMAIL,
    "employer": EMPLOYER_EMAIL,
}


@dataclass
class Split:
    """One request's milliseconds: in total, in SQL, in rendering; and its statements."""

    total_ms: float = 0.0
    sql_ms: float = 0.0
    render_ms: float = 0.0
    statements: list[tuple[float, str]] = field(default_factory=list)

    @property
    def other_ms(self) -> float:
        return self.total_ms - self.sql_ms - self.render_ms


@contextmanager
def timing(bench: Bench, split: Split) -> Iterator[None]:
    """Adds the SQL and rendering time of what runs inside to ``split``."""
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        ms = (time.perf_counter() - started.pop(id(cursor))) * 1000
        split.sql_ms += ms
        split.statements.append((ms, " ".join(statement.split())))

    render = flask.templating._render

    def timed_render(*args: Any, **kwargs: Any) -> str:
        begun = time.perf_counter()
        try:
            return render(*args, **kwargs)
        finally:
            split.render_ms += (time.perf_counter() - begun) * 1000

    sa.event.listen(bench.engine, "before_cursor_execute", before)
    sa.event.listen(bench.engine, "after_cursor_execute", after)
    flask.templating._render = timed_render  # type: ignore[assignment]
    try:
        yield
    finally:
        flask.templating._render = render
        sa.event.remove(bench.engine, "before_cursor_execute", before)
        sa.event.remove(bench.engine, "after_cursor_execute", after)


def measure(bench: Bench, role: str, path: str, repeat: int) -> tuple[int, list[Split]]:
    """The page's status and one ``Split`` per request (after a warm-up)."""
    client = bench.login(EMAILS[role])
    status = client.get(path).status_code
    splits = []
    for _ in range(repeat):
        split = Split()
        with timing(bench, split):
            client.get(path)
        split.total_ms = bench.timer.last * 1000
        splits.append(split)
    return status, splits


def report(status: int, splits: Sequence[Split]) -> list[str]:
    first = splits[0]
    lines = [f"status {status}; statements of one request:"]
    lines += [f"  {ms:7.1f} ms  {text[:150]}" for ms, text in first.statements]
    for name in ("total_ms", "sql_ms", "render_ms", "other_ms"):
        values = [getattr(split, name) for split in splits]
        lines.append(f"{name[:-3]}: median {statistics.median(values):.1f} ms")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=sorted(EMAILS))
    parser.add_argument("path")
    parser.add_argument("--database-url", default=DEFAULT_SQLITE_URL)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--cprofile", type=int, default=0, help="requests to profile (0: none)")
    args = parser.parse_args(argv)
    bench = Bench.create(args.database_url)
    status, splits = measure(bench, args.role, args.path, args.repeat)
    print("\n".join(report(status, splits)))
    if args.cprofile:
        client = bench.login(EMAILS[args.role])
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.cprofile):
            client.get(args.path)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
