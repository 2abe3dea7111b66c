"""The benchmark code runs: the generator at a tiny scale and each of the runner's measurements once.
No timing assertions (make bench measures); this keeps benchmarks/ from rotting, and checks that the
generated data is what the application itself would hold: certificates that download, progress summaries
that verify, a chain-valid ledger with revocations."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
import sqlalchemy as sa

from benchmarks import generate, run
from benchmarks.common import COORDINATOR_EMAIL, evidence_folder
from config import normalise_database_url
from lms.storage import KEY_PATTERN
from tests.conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def bench_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own (the generator migrates it and fills it), dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bench.sqlite3'}"
        return
    server = sa.make_url(normalise_database_url(os.environ["LMS_TEST_DATABASE_URL"]))
    url = server.set(database=f"lms_bench_test_{uuid.uuid4().hex[:12]}")
    rendered = url.render_as_string(hide_password=False)
    yield rendered
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()
    shutil.rmtree(evidence_folder(rendered), ignore_errors=True)


@pytest.fixture(scope="module", params=BACKENDS)
def generated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One tiny generated database per backend, shared by the checks of the generated data."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('bench') / 'bench.sqlite3'}"
        generate.generate(url, factor=0.01, force=True)
        yield url
        return
    server = sa.make_url(normalise_database_url(os.environ["LMS_TEST_DATABASE_URL"]))
    database = server.set(database=f"lms_bench_test_{uuid.uuid4().hex[:12]}")
    url = database.render_as_string(hide_password=False)
    generate.generate(url, factor=0.01, force=True)
    yield url
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database.database}" WITH (FORCE)'))
    admin.dispose()
    shutil.rmtree(evidence_folder(url), ignore_errors=True)


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
    assert {r.name for r in results if r.html_bytes} >= {"trainer dashboard", "checklist matrix"}
    assert all(r.html_bytes is None for r in results if r.name.startswith("API"))

    certificate = run.measure_certificate(bench, repeat=1)
    assert certificate.queries > 0
    swept = run.measure_sweep(bench)
    first, again = swept.rows
    assert first[2] > 0 and "reminders" in first[3]
    assert again[2] > 0
    assert swept.summaries == "progress summaries: OK: 60 enrolments, 5 cohorts"
    with bench.app.app_context():
        from lms.extensions import db

        # The sweep was rolled back: it can be measured again on the same data.
        assert db.session.scalar(sa.text("SELECT count(*) FROM sent_reminders")) == 0
    bench.engine.dispose()

    # Another scale (make bench BENCH_SCALE=5 after a run at 1): generated again, not refused.
    bigger = generate.generate(bench_url, factor=0.02)
    assert bigger["cohorts"] == 10 and bigger["enrolments"] == 120


def test_every_generated_certificate_is_stored_under_a_real_key_and_downloads(
    generated: str,
) -> None:
    bench = run.Bench.create(generated)
    with bench.app.app_context():
        from lms.extensions import db
        from lms.models import Certificate
        from lms.storage import get_storage

        certificates = db.session.scalars(sa.select(Certificate).order_by(Certificate.id)).all()
        assert certificates  # the generator makes sure one cohort has finished, even this small
        storage = get_storage()
        for certificate in certificates:
            assert KEY_PATTERN.match(certificate.pdf_storage_key)
            stored = storage.read(certificate.pdf_storage_key)
            assert hashlib.sha256(stored).hexdigest() == certificate.pdf_sha256
        first = certificates[0]
        holder, number = first.holder_name, first.number

    client = bench.login(COORDINATOR_EMAIL)
    response = client.get(f"/certificates/{first.id}/download")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(response.get_data())).pages[0].extract_text()
    assert holder in text and number in text  # the certificate as issuing makes it

    # The runner times this download, against the certificate's target.
    (download,) = run.measure_pages(bench, repeat=1, only=["certificate download"])
    assert download.status == 200 and download.note.endswith("KiB PDF")
    assert download.target_ms == run.CERTIFICATE_MS
    bench.engine.dispose()


def test_the_generated_summaries_verify_and_the_ledger_holds_revocations(generated: str) -> None:
    bench = run.Bench.create(generated)
    with bench.app.app_context():
        from lms.extensions import db
        from lms.models import Enrolment, ProgressSummary, SignOff, SignOffKind
        from lms.services import progress
        from lms.services.signoff import verify_ledger

        enrolments = db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment))
        summaries = db.session.scalar(sa.select(sa.func.count()).select_from(ProgressSummary))
        assert summaries == enrolments == 60
        check = progress.verify_summaries()
        assert check.ok, check.differences[:3]
        assert check.checked == 60

        revocations = db.session.scalar(
            sa.select(sa.func.count()).where(SignOff.kind == SignOffKind.REVOCATION)
        )
        assert revocations and revocations > 0
        assert verify_ledger().ok
    assert run.summaries(bench) == "progress summaries: OK: 60 enrolments, 5 cohorts"
    bench.engine.dispose()


def test_the_revocation_check_reads_only_the_revocations_from_their_unique_index(
    generated: str,
) -> None:
    if not generated.startswith("postgresql"):
        pytest.skip("the query plan is PostgreSQL's")
    bench = run.Bench.create(generated)
    with bench.app.app_context():
        from lms.extensions import db
        from lms.models import Enrolment
        from lms.services.signoff import current_levels

        enrolments = db.session.scalars(sa.select(Enrolment).order_by(Enrolment.id)).all()
        sent: list[tuple[str, object]] = []

        def remember(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            sent.append((statement, parameters))

        sa.event.listen(db.engine, "before_cursor_execute", remember)
        try:
            current_levels(enrolments)  # the read every progress computation makes of the ledger
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", remember)
        ((statement, parameters),) = [(s, p) for s, p in sent if "revokes_id" in s]
        plan = "\n".join(
            row[0]
            for row in db.session.connection().exec_driver_sql("EXPLAIN " + statement, parameters)
        )
        # NOT EXISTS on signoffs.revokes_id, answered from uq_signoffs_revokes_id's non-null entries
        # (the revocations), not from the whole ledger.
        assert "uq_signoffs_revokes_id" in plan
        assert "Index Cond: (revokes_id IS NOT NULL)" in plan
    bench.engine.dispose()


def test_each_row_says_whether_its_target_was_met_on_that_runs_p95() -> None:
    assert run.Result("page", 10.0, 40.0, 3).target == "met"
    assert run.Result("page", 10.0, 60.0, 3).target == "missed: p95 > 50 ms"
    assert run.Result("page", 10.0, 40.0, 11).target == "missed: > 10 queries"
    assert run.Result("page", 1.0, 1.0, 1, status=404).target == "missed: HTTP 404"
    pdf = run.Result("certificate download", 50.0, 60.0, 2, target_ms=run.CERTIFICATE_MS)
    assert pdf.target == "met"
    assert "| 60.0 | 2 |  | met |" in pdf.row()
    # HTML pages: the body's size, at most PAGE_HTML_KIB.
    small = run.Result("page", 10.0, 40.0, 3, html_bytes=int(run.PAGE_HTML_KIB * 1024))
    assert small.target == "met" and "| 100.0 | met |" in small.row()
    big = run.Result("page", 10.0, 40.0, 3, html_bytes=int(run.PAGE_HTML_KIB * 1024) + 1)
    assert big.target == "missed: HTML > 100 KiB"


def test_the_report_starts_with_its_exact_command_line(
    generated: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--database-url", generated, "--repeat", "1", "--gunicorn-seconds", "0"]
    assert run.main([*argv, "--only", "healthz"]) == 0
    out = capsys.readouterr().out
    assert "-m benchmarks.run --database-url " in out
    assert (
        out.split("Command: `", 1)[1]
        .split("`", 1)[0]
        .endswith("-m benchmarks.run " + " ".join(argv + ["--only", "healthz"]))
    )
    assert "| page | p50 ms | p95 ms | queries | HTML KiB | target | note |" in out
    assert "progress summaries: OK: 60 enrolments, 5 cohorts" in out


def _report(p95: dict[str, float]) -> str:
    rows = "\n".join(f"| {name} | 1.0 | {ms} | 3 | 10.0 | met |  |" for name, ms in p95.items())
    return (
        "Pages (...):\n\n| page | p50 ms | p95 ms | queries | HTML KiB | target | note |\n"
        f"|---|---:|---:|---:|---:|---|---|\n{rows}\n\n| other | p50 ms | p95 ms | queries |\n"
        "|---|---:|---:|---:|\n| reminder sweep | 5 | | 4 |\n"
    )


def test_the_comparison_judges_each_persons_page_on_its_ratio() -> None:
    from benchmarks import compare

    persons = compare.person_pages()
    assert "trainer dashboard" in persons and "my checklist" in persons
    assert "coordinator dashboard" not in persons and "API sign-offs" not in persons
    small = _report({name: 20.0 for name in persons} | {"coordinator dashboard": 5.0})
    large = dict.fromkeys(persons, 30.0) | {"trainer dashboard": 30.2, "my checklist": 25.0}
    rows = compare.compare(small, _report(large))
    assert "| trainer dashboard | 20.0 | 30.2 | 1.51 | missed: > 1.5× |" in rows
    assert "| my checklist | 20.0 | 25.0 | 1.25 | met |" in rows
    assert "| employer dashboard | 20.0 | 30.0 | 1.50 | met |" in rows
    assert not any("coordinator" in row or "reminder" in row for row in rows)
    del large["reviews"]
    assert "| reviews | | | | not measured in both |" in compare.compare(small, _report(large))


def test_profile_page_splits_a_request_into_sql_rendering_and_the_rest(generated: str) -> None:
    from benchmarks import profile_page

    bench = run.Bench.create(generated)
    status, splits = profile_page.measure(bench, "trainer", "/dashboard/trainer", repeat=2)
    assert status == 200 and len(splits) == 2
    for split in splits:
        assert split.sql_ms > 0 and split.render_ms > 0
        assert split.total_ms >= split.sql_ms + split.render_ms
        assert any("FROM cohorts" in text for _, text in split.statements)
    lines = profile_page.report(status, splits)
    assert lines[0].startswith("status 200") and lines[-1].startswith("other: median")
    bench.engine.dispose()
