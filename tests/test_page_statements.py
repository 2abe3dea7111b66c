"""Every main page sends at most ten SQL statements, and the same number whatever the size of the
programme: the benchmark's pages (``benchmarks/run.py``'s plan) on its generated data at two sizes.

Statement counts, not times (``make bench`` measures those): a count is exact on a shared machine.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from benchmarks import generate, run
from config import normalise_database_url
from tests.conftest import BACKENDS

MOST_STATEMENTS = 10


def _database(backend: str, directory: Path, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{directory / f'{name}.sqlite3'}"
    server = sa.make_url(normalise_database_url(os.environ["LMS_TEST_DATABASE_URL"]))
    return server.set(database=f"lms_pages_{name}_{uuid.uuid4().hex[:10]}").render_as_string(
        hide_password=False
    )


def _drop(url: str) -> None:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def _statements(url: str, factor: float) -> dict[str, int]:
    generate.generate(url, factor=factor, force=True)
    bench = run.Bench.create(url)
    try:
        results = run.measure_pages(bench, repeat=1)
    finally:
        bench.engine.dispose()
    assert [r.name for r in results if r.status != 200] == []
    return {r.name: r.queries for r in results}


@pytest.fixture(params=BACKENDS, scope="module")
def small_and_larger(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, int], dict[str, int]]]:
    directory = tmp_path_factory.mktemp("pages")
    urls = [_database(request.param, directory, name) for name in ("small", "larger")]
    try:
        # 120 and 480 enrolments: 10 and 40 cohorts, four times the history.
        yield _statements(urls[0], 0.02), _statements(urls[1], 0.08)
    finally:
        for url in urls:
            _drop(url)


def test_every_page_costs_the_same_statements_at_any_size(small_and_larger) -> None:
    small, larger = small_and_larger
    assert small.keys() == larger.keys()
    assert {
        name: (small[name], larger[name]) for name in small if small[name] != larger[name]
    } == {}


def test_every_page_sends_at_most_ten_statements(small_and_larger) -> None:
    small, _ = small_and_larger
    over = {name: count for name, count in small.items() if count > MOST_STATEMENTS}
    assert over == {}, f"pages over {MOST_STATEMENTS} statements: {over}"
