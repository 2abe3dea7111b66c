"""Measure the application on a benchmark database (made by ``benchmarks.generate``).

    python -m benchmarks.run [--database-url URL] [--repeat 30] [--no-gunicorn]

Per main page, logged in as the role that uses it: the server time (inside the WSGI application, median
and 95th percentile over --repeat requests after one warm-up) and the SQL statements it sends, beside
/healthz (one ``SELECT 1``) as the floor. Then the certificate PDF (text and rendering, as issuing does),
the reminder sweep over all enrolments (rolled back, so it can be repeated), and gunicorn's throughput
driven by ``benchmarks.load`` over real HTTP.
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
)

CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# Targets from issue 11.
PAGE_P95_MS = 50.0
PAGE_QUERIES = 10
CERTIFICATE_MS = 100.0
SWEEP_S = 5.0


@dataclass
class Result:
    name: str
    p50_ms: float
    p95_ms: float
    queries: int
    status: int = 200
    note: str = ""

    def row(self) -> str:
        flags = []
        if self.status >= 400:
            flags.append(f"HTTP {self.status}")
        if self.p95_ms > PAGE_P95_MS:
            flags.append("p95 > 50 ms")
        if self.queries > PAGE_QUERIES:
            flags.append("> 10 queries")
        note = "; ".join(flags + ([self.note] if self.note else []))
        return f"| {self.name} | {self.p50_ms:.1f} | {self.p95_ms:.1f} | {self.queries} | {note} |"


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
            status = response.status_code
        return Result(name, statistics.median(times), percentile(times, 0.95), queries, status)


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
        code = one(
            sa.text("SELECT verification_code FROM certificates ORDER BY id LIMIT 1")
        ).scalar()
        return {
            "cohort": cohort_id,
            "enrolment": enrolment_id,
            "submission": submission_id,
            "assignment": assignment_code,
            "code": code,
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
    if ids["code"]:
        plan.append(("", "certificate verify page", f"/verify/{ids['code']}"))
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
        "certificate PDF",
        statistics.median(times),
        percentile(times, 0.95),
        queries,
        note=f"{size // 1024} KiB"
        + ("; > 100 ms" if percentile(times, 0.95) > CERTIFICATE_MS else ""),
    )


def measure_sweep(bench: Bench) -> list[tuple[str, float, int, str]]:
    """The reminder sweep over every enrolment, twice in one transaction that is rolled back: the first
    sweep finds the whole backlog (nothing was ever sent on this data), the second finds every reminder
    already claimed, as the hourly sweep does on a normal day. (label, seconds, queries, report)."""
    from lms.extensions import db
    from lms.services.reminders import sweep

    rows = []
    with bench.app.app_context():
        enrolments = int(
            db.session.scalar(sa.text("SELECT count(*) FROM enrolments WHERE status = 'active'"))
            or 0
        )
        for label in ("first sweep (whole backlog)", "next sweep (all claimed)"):
            with QueryCounter(bench.engine) as counter:
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
        db.session.rollback()
    return rows


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
            rows.append(
                f"| {name} | {stats.requests_per_second:.0f} | {stats.p50_ms:.1f} | {stats.p95_ms:.1f}"
                f" | {stats.p99_ms:.1f} | {stats.requests} | {stats.errors} |"
            )
    return rows


# --- the report -----------------------------------------------------------------------------------


def report(
    database_url: str, repeat: int, gunicorn_seconds: float, only: Sequence[str] = ()
) -> str:
    bench = Bench.create(database_url)
    label = sa.make_url(database_url).get_backend_name()
    lines = [f"### {label}: {sa.make_url(database_url).render_as_string(hide_password=True)}", ""]
    lines += [
        f"Pages ({repeat} requests each after a warm-up; server time inside the WSGI app):",
        "",
        "| page | p50 ms | p95 ms | queries | missed |",
        "|---|---:|---:|---:|---|",
    ]
    for result in measure_pages(bench, repeat, only):
        lines.append(result.row())
        print(lines[-1], file=sys.stderr, flush=True)
    if only:
        return "\n".join(lines)
    certificate = measure_certificate(bench, max(5, repeat // 2))
    lines += ["", "| other | p50 ms | p95 ms | queries | note |", "|---|---:|---:|---:|---|"]
    lines.append(
        f"| certificate PDF | {certificate.p50_ms:.1f} | {certificate.p95_ms:.1f} | {certificate.queries}"
        f" | {certificate.note} |"
    )
    for name, seconds, queries, described in measure_sweep(bench):
        missed = "; > 5 s" if seconds > SWEEP_S else ""
        lines.append(f"| {name} | {seconds * 1000:.0f} | | {queries} | {described}{missed} |")
    print("\n".join(lines[-5:]), file=sys.stderr, flush=True)
    if gunicorn_seconds > 0:
        workers = os.cpu_count() or 2
        lines += [
            "",
            f"gunicorn, {workers} sync workers, load generator benchmarks/load.py (8 threads,"
            f" {gunicorn_seconds:.0f} s each, same machine):",
            "",
            "| page | requests/s | p50 ms | p95 ms | p99 ms | requests | errors |",
            "|---|---:|---:|---:|---:|---:|---:|",
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
    text = report(args.database_url, args.repeat, args.gunicorn_seconds, args.only)
    print()
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
