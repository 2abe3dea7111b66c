"""The benchmark code runs: the generator at a tiny scale and each of the runner's measurements once.
No timing assertions (make bench measures); this only keeps benchmarks/ from rotting."""

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


@pytest.fixture(params=BACKENDS)
def bench_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own (the generator migrates it and fills it), dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bench.sqlite3'}"
        return
    server = sa.make_url(normalise_database_url(os.environ["LMS_TEST_DATABASE_URL"]))
    url = server.set(database=f"lms_bench_test_{uuid.uuid4().hex[:12]}")
    yield url.render_as_string(hide_password=False)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def test_generator_and_runner_work_at_a_tiny_scale(bench_url: str) -> None:
    counts = generate.generate(bench_url, factor=0.01, force=True)
    assert counts["cohorts"] == 5
    assert counts["enrolments"] == 60
    assert counts["submissions"] == 60 * 16
    assert counts["signoffs"] > 0
    # A second run finds the data there and leaves it.
    assert generate.generate(bench_url, factor=0.01) == counts

    bench = run.Bench.create(bench_url)
    with bench.app.app_context():
        from lms.services.signoff import verify_ledger

        check = verify_ledger()
        assert check.ok, check.first_broken
        assert check.count == counts["signoffs"]

    results = run.measure_pages(bench, repeat=1)
    assert {r.name for r in results} >= {"floor: /healthz", "trainer dashboard", "checklist matrix"}
    assert [r.name for r in results if r.status != 200] == []
    assert all(r.queries >= 1 and r.p95_ms > 0 for r in results)

    certificate = run.measure_certificate(bench, repeat=1)
    assert certificate.queries > 0
    first, again = run.measure_sweep(bench)
    assert first[2] > 0 and "reminders" in first[3]
    assert again[2] > 0
    with bench.app.app_context():
        from lms.extensions import db

        # The sweep was rolled back: it can be measured again on the same data.
        assert db.session.scalar(sa.text("SELECT count(*) FROM sent_reminders")) == 0
    bench.engine.dispose()
