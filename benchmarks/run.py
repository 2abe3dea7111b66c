"""Measure the application on a benchmark database (made by ``benchmarks.generate``).

    python -m benchmarks.run [--database-url URL] [--repeat 30] [--gunicorn-seconds 10]

Per main page, logged in as the role that uses it: the server time (inside the WSGI application, median
and 95th percentile over --repeat requests after one warm-up) and the SQL statements it sends, beside
/healthz (one ``SELECT 1``) as the floor; one stored certificate PDF downloaded over the application.
Then the certificate PDF's making (text and rendering, as issuing does), the reminder sweep over all
enrolments (rolled back, so it can be repeated), and gunicorn's throughput driven by ``benchmarks.load``
over real HTTP. The progress summaries are verified (``progress.verify_summaries``) before measuring and
after the reminder sweeps.

Every table has a "target" column: met or missed, judged on that run's 95th percentile (and statement
count). The report starts with the exact command line of the run, to be written beside its figures.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from benchmarks.common import (
    COORDINATOR_EMAIL,
    DEFAULT_SQLITE_URL,
    EMPLOYER_EMAIL,
    PARTICIPANT_EMAIL,
    PASSWORD,
    TRAINER_EMAIL,
    bench_app,
    command_line,
    summaries_line,
)

CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# Targets from issue 11 (the certificate's also from issue 19: downloaded over the application).
PAGE_P95_MS = 50.0
PAGE_QUERIES = 10
PAGE_HTML_KIB = 100.0  # issue 19: a main page's HTML at most this at scale 1
CERTIFICATE_MS = 100.0
# Issue 19: the first reminder sweep over the whole backlog, the hourly sweep after it, and the API's
# sign-offs list, first page and 100th page alike.
FIRST_SWEEP_S = 10.0
FIRST_SWEEP_ENROLMENTS = (
    6_000  # the first sweep's target is for this many (scale 1); larger: not judged
)
HOURLY_SWEEP_S = 2.0
API_SIGNOFFS_MS = 30.0
GUNICORN_TRAINER_RPS = 40.0


@dataclass
class Result:
    name: str
    p50_ms: float
    p95_ms: float
    queries: int
    status: int = 200
    note: str = ""
    target_ms: float = PAGE_P95_MS  # the 95th percentile may be at most this
    target_queries: int | None = PAGE_QUERIES  # and the statements at most this (None: no target)
    html_bytes: int | None = None  # the body's size, for HTML pages (target: PAGE_HTML_KIB)

    def missed(self) -> list[str]:
        flags = []
        if self.status >= 400:
            flags.append(f"HTTP {self.status}")
        if self.p95_ms > self.target_ms:
            flags.append(f"p95 > {self.target_ms:g} ms")
        if self.target_queries is not None and self.queries > self.target_queries:
            flags.append(f"> {self.target_queries} queries")
        if self.html_bytes is not None and self.html_bytes > PAGE_HTML_KIB * 1024:
            flags.append(f"HTML > {PAGE_HTML_KIB:g} KiB")
        return flags

    @property
    def target(self) -> str:
        """Met, or "missed: " and what was missed, judged on this run's p95 and statement count."""
        missed = self.missed()
        return "missed: " + "; ".join(missed) if missed else "met"

    def row(self) -> str:
        html = f"{self.html_bytes / 1024:.1f}" if self.html_bytes is not None else ""
        return (
            f"| {self.name} | {self.p50_ms:.1f} | {self.p95_ms:.1f} | {self.queries} | {html}"
            f" | {self.target} | {self.note} |"
        )


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


class ServerTimer:
    """WSGI middleware: how long the application took for the last request, body included."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last = 0.0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        started = time.perf_counter()
        result = self.app(environ, start_response)
        try:
            body = list(result)
        finally:
            if hasattr(result, "close"):
                result.close()
            self.last = time.perf_counter() - started
        return body


class QueryCounter:
    """Counts the SQL statements sent while active (as in tests/conftest.py)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.count = 0

    def _record(self, *args: Any) -> None:
        self.count += 1

    def __enter__(self) -> QueryCounter:
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)


@dataclass
class Bench:
    app: Flask
    timer: ServerTimer
    engine: sa.Engine

    @classmethod
    def create(cls, database_url: str) -> Bench:
        app = bench_app(database_url)
        timer = ServerTimer(app.wsgi_app)
        app.wsgi_app = timer  # type: ignore[method-assign]
        with app.app_context():
            from lms.extensions import db

            engine = db.engine
        return cls(app, timer, engine)

    def login(self, email: str) -> FlaskClient:
        client = self.app.test_client()
        page = client.get("/login").get_data(as_text=True)
        match = CSRF_PATTERN.search(page)
        assert match, "no CSRF token on /login"
        response = client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": match.group(1)}
        )
        assert response.status_code == 302, f"login as {email} failed ({response.status_code})"
        return client

    def measure_page(
        self,
        client: FlaskClient,
        name: str,
        path: str,
        repeat: int,
        headers: dict[str, str] | None = None,
    ) -> Result:
        client.get(path, headers=headers)  # warm-up: templates compiled, caches filled
        times: list[float] = []
        queries = 0
        status = 200
        for _ in range(repeat):
            with QueryCounter(self.engine) as counter:
                response = client.get(path, headers=headers)
            times.append(self.timer.last * 1000)
            queries = max(queries, counter.count)
            status = max(status, response.status_code)
        result = Result(name, statistics.median(times), percentile(times, 0.95), queries, status)
        if response.mimetype == "text/html":
            result.html_bytes = len(response.get_data())
        if name.startswith("API sign-offs"):
            result.target_ms = API_SIGNOFFS_MS
        if response.mimetype == "application/pdf":
            result.target_ms = CERTIFICATE_MS
            result.note = f"{len(response.get_data()) // 1024} KiB PDF"
            if not response.get_data().startswith(b"%PDF-"):
                result.note += ", not a PDF"
        return result


# --- what to ask for ------------------------------------------------------------------------------


def targets(app: Flask) -> dict[str, Any]:
    """Ids for the page addresses: the benchmark trainer's busiest running cohort, one of its
    participants, a submission waiting for assessment, a certificate's verification code."""
    with app.app_context():
        from lms.extensions import db

        one = db.session.execute
        trainer_id = one(
            sa.text("SELECT id FROM users WHERE email = :e"), {"e": TRAINER_EMAIL}
        ).scalar_one()
        cohort_id = one(
            sa.text(
                "SELECT c.id FROM cohorts c JOIN cohort_trainers ct ON ct.cohort_id = c.id"
                " WHERE ct.trainer_id = :t AND c.end_date >= CURRENT_DATE"
                " ORDER BY c.start_date, c.id LIMIT 1"
            ),
            {"t": trainer_id},
        ).scalar_one()
        enrolment_id = one(
            sa.text(
                "SELECT id FROM enrolments WHERE cohort_id = :c AND status = 'active' ORDER BY id LIMIT 1"
            ),
            {"c": cohort_id},
        ).scalar_one()
        submission_id = one(
            sa.text(
                "SELECT s.id FROM submissions s JOIN enrolments e ON e.id = s.enrolment_id"
                " JOIN cohort_trainers ct ON ct.cohort_id = e.cohort_id"
                " WHERE ct.trainer_id = :t AND s.status = 'submitted' ORDER BY s.id LIMIT 1"
            ),
            {"t": trainer_id},
        ).scalar_one()
        assignment_code = one(
            sa.text(
                "SELECT a.code FROM submissions s JOIN assignments a ON a.id = s.assignment_id"
                " JOIN enrolments e ON e.id = s.enrolment_id JOIN users u ON u.id = e.participant_id"
                " WHERE u.email = :e AND s.status <> 'draft' ORDER BY a.due_week DESC LIMIT 1"
            ),
            {"e": PARTICIPANT_EMAIL},
        ).scalar_one()
        certificate = one(
            sa.text(
                "SELECT id, verification_code FROM certificates WHERE revoked_at IS NULL"
                " ORDER BY id LIMIT 1"
            )
        ).first()
        # Where the 100th page of sign-offs starts for the coordinator's key (who sees every record).
        from lms.blueprints.api.params import DEFAULT_PER_PAGE, encode_cursor

        before_100th = one(
            sa.text("SELECT sequence FROM signoffs ORDER BY sequence LIMIT 1 OFFSET :n"),
            {"n": 99 * DEFAULT_PER_PAGE - 1},
        ).scalar()
        return {
            "cohort": cohort_id,
            "enrolment": enrolment_id,
            "submission": submission_id,
            "assignment": assignment_code,
            "code": certificate.verification_code if certificate else None,
            "certificate": certificate.id if certificate else None,
            "signoffs_100th": encode_cursor("signoffs", before_100th) if before_100th else None,
        }


def api_key(app: Flask) -> str:
    """A read key of the benchmark coordinator, made as the API keys page makes it."""
    with app.app_context():
        from lms.extensions import db
        from lms.models import ApiTokenScope, User
        from lms.services.api_tokens import create_token

        owner = db.session.scalars(sa.select(User).where(User.email == COORDINATOR_EMAIL)).one()
        _, secret = create_token(
            owner=owner, name="benchmark", scope=ApiTokenScope.READ, valid_days=30
        )
        db.session.commit()
        return secret


def page_plan(ids: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(role, page name, path) for every main page; role "" is anonymous, "api" the API key."""
    c, e, s = ids["cohort"], ids["enrolment"], ids["submission"]
    plan = [
        ("", "floor: /healthz", "/healthz"),
        ("coordinator", "coordinator dashboard", "/dashboard/coordinator"),
        ("coordinator", "cohort list", "/cohorts/"),
        ("coordinator", "cohort detail", f"/cohorts/{c}"),
        ("coordinator", "participants list", "/people/participants/"),
        ("coordinator", "employers list", "/people/employers/"),
        ("coordinator", "programme report", "/reports/programme"),
        ("coordinator", "cohort report", f"/reports/cohorts/{c}"),
        ("coordinator", "certificates", "/certificates/"),
        ("coordinator", "cohort certificates", f"/certificates/cohort/{c}"),
        ("trainer", "trainer dashboard", "/dashboard/trainer"),
        ("trainer", "assessment queue", "/assessment/queue"),
        ("trainer", "assess submission", f"/assessment/submissions/{s}"),
        ("trainer", "checklist matrix", f"/checklists/cohorts/{c}"),
        ("trainer", "participant checklist", f"/checklists/enrolments/{e}"),
        ("trainer", "reviews", "/reviews/"),
        ("participant", "participant dashboard", "/dashboard/participant"),
        ("participant", "portfolio", "/portfolio/"),
        ("participant", "portfolio assignment", f"/portfolio/assignments/{ids['assignment']}"),
        ("participant", "my checklist", "/checklists/mine"),
        ("employer", "employer dashboard", "/dashboard/employer"),
        ("employer", "employer overview", "/employer/"),
        ("employer", "workplace confirmations", "/employer/confirmations"),
        ("employer", "hours to approve", "/hours/to-approve"),
        ("api", "API cohorts", "/api/v1/cohorts"),
        ("api", "API enrolments", "/api/v1/enrolments"),
        ("api", "API submissions", "/api/v1/submissions"),
        ("api", "API sign-offs", "/api/v1/signoffs"),
        ("api", "API certificates", "/api/v1/certificates"),
    ]
    if ids["signoffs_100th"]:
        plan.append(
            ("api", "API sign-offs, 100th page", f"/api/v1/signoffs?after={ids['signoffs_100th']}")
        )
    if ids["code"]:
        plan.append(("", "certificate verify page", f"/verify/{ids['code']}"))
    if ids["certificate"]:
        # The stored PDF over the application (target: 100 ms at p95, like making one).
        plan.append(
            ("coordinator", "certificate download", f"/certificates/{ids['certificate']}/download")
        )
    return plan


def measure_pages(bench: Bench, repeat: int, only: Sequence[str] = ()) -> list[Result]:
    ids = targets(bench.app)
    emails = {
        "coordinator": COORDINATOR_EMAIL,
        "trainer": TRAINER_EMAIL,
        "participant": PARTICIPANT_EMAIL,
        "employer": EMPLOYER_EMAIL,
    }
    clients: dict[str, FlaskClient] = {}
    headers: dict[str, str] | None = None
    results = []
    for role, name, path in page_plan(ids):
        if only and not any(word in name for word in only):
            continue
        if role not in clients:
            clients[role] = bench.login(emails[role]) if role in emails else bench.app.test_client()
        if role == "api" and headers is None:
            headers = {"Authorization": f"Bearer {api_key(bench.app)}"}
        results.append(
            bench.measure_page(
                clients[role], name, path, repeat, headers if role == "api" else None
            )
        )
    return results


def measure_certificate(bench: Bench, repeat: int) -> Result:
    """The certificate PDF as issuing makes it: the text from the database and ReportLab rendering."""
    from lms import clock
    from lms.extensions import db
    from lms.models import Enrolment, User
    from lms.pdf.certificate import render_certificate
    from lms.services.certificates import certificate_text, new_verification_code

    with bench.app.test_request_context():
        issuer = db.session.scalars(sa.select(User).where(User.email == COORDINATOR_EMAIL)).one()
        enrolment_id = targets(bench.app)["enrolment"]
        times, queries, size = [], 0, 0
        for number in range(repeat + 1):
            db.session.expire_all()
            with QueryCounter(bench.engine) as counter:
                started = time.perf_counter()
                enrolment = db.session.get(Enrolment, enrolment_id)
                assert enrolment is not None
                pdf = render_certificate(
                    certificate_text(
                        enrolment,
                        number=f"VK-BENCH-{number:04d}",
                        code=new_verification_code(),
                        issued_on=clock.today(),
                        issuer=issuer,
                    )
                )
                elapsed = time.perf_counter() - started
            if number:  # the first one warms up fonts and imports
                times.append(elapsed * 1000)
                queries = max(queries, counter.count)
                size = len(pdf)
        db.session.rollback()
    return Result(
        "certificate PDF made (text and rendering, as issuing)",
        statistics.median(times),
        percentile(times, 0.95),
        queries,
        note=f"{size // 1024} KiB",
        target_ms=CERTIFICATE_MS,
        target_queries=None,
    )


@dataclass
class SweepResult:
    rows: list[tuple[str, float, int, str]]  # (label, seconds, queries, report)
    summaries: str  # progress.verify_summaries after the sweeps, before the rollback
    enrolments: int = 0  # active enrolments swept

    def table_rows(self) -> list[str]:
        lines = []
        for name, seconds, queries, described in self.rows:
            first = "first sweep" in name
            limit = FIRST_SWEEP_S if first else HOURLY_SWEEP_S
            target = "met" if seconds <= limit else f"missed: > {limit:g} s"
            if first and self.enrolments > FIRST_SWEEP_ENROLMENTS:
                target = f"no target (it is for {FIRST_SWEEP_ENROLMENTS:,} enrolments)"
            lines.append(
                f"| {name} | {seconds * 1000:.0f} | | {queries} | | {target} (one run) | {described} |"
            )
        return lines


def summaries(bench: Bench) -> str:
    """``progress.verify_summaries()`` on the benchmark data, as one line."""
    from lms.services import progress

    with bench.app.app_context():
        return summaries_line(progress.verify_summaries())


def measure_sweep(bench: Bench) -> SweepResult:
    """The reminder sweep over every enrolment, twice in one transaction that is rolled back: the first
    sweep finds the whole backlog (nothing was ever sent on this data), the second finds every reminder
    already claimed, as the hourly sweep does on a normal day. Then the progress summaries are verified
    against the raw rows, in the same transaction."""
    from lms import clock
    from lms.extensions import db
    from lms.services import progress
    from lms.services.reminders import sweep

    rows = []
    with bench.app.app_context():
        enrolments = int(
            db.session.scalar(sa.text("SELECT count(*) FROM enrolments WHERE status = 'active'"))
            or 0
        )
        first_at = clock.now()
        for label, at in (
            ("first sweep (whole backlog)", first_at),
            ("hourly sweep, an hour later", first_at + timedelta(hours=1)),
        ):
            with QueryCounter(bench.engine) as counter, clock.frozen_at(at):
                started = time.perf_counter()
                report = sweep()
                db.session.flush()
                elapsed = time.perf_counter() - started
            rows.append(
                (
                    f"reminder sweep, {enrolments:,} active enrolments, {label}",
                    elapsed,
                    counter.count,
                    report.describe(),
                )
            )
        checked = summaries_line(progress.verify_summaries())
        db.session.rollback()
    return SweepResult(rows, checked, enrolments)


# --- gunicorn -------------------------------------------------------------------------------------


@contextmanager
def gunicorn(database_url: str, port: int, workers: int) -> Iterator[str]:
    import subprocess  # nosec B404 - starts the project's own server

    env = {**os.environ, "BENCH_DATABASE_URL": database_url}
    command = [
        os.path.join(os.path.dirname(sys.executable), "gunicorn"),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "benchmarks.wsgi:app",
    ]
    process = subprocess.Popen(command, env=env, cwd=os.path.dirname(os.path.dirname(__file__)))  # nosec B603
    base = f"http://127.0.0.1:{port}"
    try:
        from benchmarks.load import wait_until_up

        wait_until_up(base + "/healthz", timeout=30)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure_gunicorn(
    database_url: str, seconds: float, concurrency: int, workers: int
) -> list[str]:
    from benchmarks.load import login, run_load

    rows = []
    with gunicorn(database_url, free_port(), workers) as base:
        cookie = login(base, TRAINER_EMAIL, PASSWORD)
        for name, path, cookies in (
            ("/healthz", "/healthz", None),
            ("trainer dashboard (logged in)", "/dashboard/trainer", cookie),
        ):
            stats = run_load(base + path, seconds=seconds, concurrency=concurrency, cookie=cookies)
            # Issue 19's target is throughput: the trainer dashboard at least 40 requests/s on two
            # CPUs (the floor has none). Under load the times include the queue, so they have none.
            missed = []
            if path != "/healthz" and stats.requests_per_second < GUNICORN_TRAINER_RPS:
                missed.append(f"< {GUNICORN_TRAINER_RPS:g} requests/s")
            if stats.errors:
                missed.append(f"{stats.errors} errors")
            target = "missed: " + "; ".join(missed) if missed else "met"
            rows.append(
                f"| {name} | {stats.requests_per_second:.0f} | {stats.p50_ms:.1f} | {stats.p95_ms:.1f}"
                f" | {stats.p99_ms:.1f} | {stats.requests} | {stats.errors} | {target} |"
            )
    return rows


# --- the report -----------------------------------------------------------------------------------


def data_size(bench: Bench) -> str:
    with bench.app.app_context():
        from lms.extensions import db

        cohorts = int(db.session.scalar(sa.text("SELECT count(*) FROM cohorts")) or 0)
        enrolments = int(db.session.scalar(sa.text("SELECT count(*) FROM enrolments")) or 0)
        signoffs = int(db.session.scalar(sa.text("SELECT count(*) FROM signoffs")) or 0)
    return (
        f"{cohorts:,} cohorts (scale {cohorts / 500:g}), {enrolments:,} enrolments,"
        f" {signoffs:,} sign-off ledger records"
    )


def report(
    database_url: str,
    repeat: int,
    gunicorn_seconds: float,
    only: Sequence[str] = (),
    command: str = "",
) -> str:
    bench = Bench.create(database_url)
    label = sa.make_url(database_url).get_backend_name()
    lines = [f"### {label}: {sa.make_url(database_url).render_as_string(hide_password=True)}", ""]
    if command:
        lines += [f"Command: `{command}`", ""]
    lines += [f"Data: {data_size(bench)}; before measuring, {summaries(bench)}.", ""]
    print("\n".join(lines), file=sys.stderr, flush=True)
    lines += [
        f"Pages ({repeat} requests each after a warm-up; server time inside the WSGI app; target:"
        f" p95 at most {PAGE_P95_MS:g} ms, at most {PAGE_QUERIES} queries and HTML at most"
        f" {PAGE_HTML_KIB:g} KiB, the certificate download p95 at most {CERTIFICATE_MS:g} ms):",
        "",
        "| page | p50 ms | p95 ms | queries | HTML KiB | target | note |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for result in measure_pages(bench, repeat, only):
        lines.append(result.row())
        print(lines[-1], file=sys.stderr, flush=True)
    if only:
        return "\n".join(lines)
    certificate = measure_certificate(bench, max(5, repeat // 2))
    swept = measure_sweep(bench)
    lines += [
        "",
        "| other | p50 ms | p95 ms | queries | HTML KiB | target | note |",
        "|---|---:|---:|---:|---:|---|---|",
        certificate.row(),
        *swept.table_rows(),
        "",
        f"After the reminder sweeps (before their rollback): {swept.summaries}.",
    ]
    print("\n".join(lines[-7:]), file=sys.stderr, flush=True)
    if gunicorn_seconds > 0:
        workers = os.cpu_count() or 2
        lines += [
            "",
            f"gunicorn, {workers} sync workers, load generator benchmarks/load.py (8 threads,"
            f" {gunicorn_seconds:.0f} s each, same machine; target: the trainer dashboard at least {GUNICORN_TRAINER_RPS:g} requests/s):",
            "",
            "| page | requests/s | p50 ms | p95 ms | p99 ms | requests | errors | target |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        lines += measure_gunicorn(database_url, gunicorn_seconds, 8, workers)
        print("\n".join(lines[-3:]), file=sys.stderr, flush=True)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_SQLITE_URL)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--gunicorn-seconds", type=float, default=10.0, help="0 leaves gunicorn out"
    )
    parser.add_argument(
        "--only", nargs="*", default=(), help="only pages whose name has these words"
    )
    parser.add_argument("--output", help="also write the tables (Markdown) to this file")
    args = parser.parse_args(argv)
    command = command_line("benchmarks.run", sys.argv[1:] if argv is None else argv)
    print(f"command: {command}", file=sys.stderr, flush=True)
    text = report(args.database_url, args.repeat, args.gunicorn_seconds, args.only, command)
    print()
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
