"""The coordinator's programme-wide pages (the overview per region, the programme report, the
certificate lists) and the cohort pages (report, certificates): their figures come from the progress
summaries, the overview pages its cohorts, and every page costs the same few statements (at most 10,
no list of ids that grows with the data) however many cohorts and enrolments there are."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from lms import clock
from lms.extensions import db as _db
from lms.models import Certificate, Cohort, Enrolment, EnrolmentStatus, Region, Role
from lms.services import certificates as certificate_service
from lms.services import dashboards, progress
from lms.services.progress import enrolment_progress, risk_reasons
from tests.certificate_helpers import complete
from tests.dashboard_world import TODAY, build_world
from tests.factories import (
    make_approved_submission,
    make_cohort,
    make_enrolment,
    make_handed_in_submission,
    make_user,
)

HANDED_IN_AT = datetime(2026, 10, 20, 10, tzinfo=clock.LOCAL_TZ)
LONG_AGO = datetime(2026, 9, 25, 10, tzinfo=clock.LOCAL_TZ)  # more than two weeks before TODAY
# Started, started later, not started yet on TODAY, and a year earlier.
STARTS = [date(2026, 9, 7), date(2026, 10, 5), date(2026, 11, 30), date(2025, 9, 1)]
_numbers = itertools.count(1)


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    """The dashboard world: Noël handed in A1 (waiting) and A2 (approved) on 20 October; Bram and
    Sanne did nothing."""
    world = build_world()
    a1, a2, _ = world.assignments
    make_handed_in_submission(world.noel_in, a1, at=HANDED_IN_AT)
    make_approved_submission(world.noel_in, a2, at=HANDED_IN_AT)
    db.session.commit()
    return world


def certify(enrolment: Enrolment, issuer_id: int, *, revoked: bool = False) -> Certificate:
    """A certificate row (no PDF needed here), with the summary refreshed as the services do."""
    n = next(_numbers)
    certificate = Certificate(
        enrolment=enrolment,
        number=f"VK-2027-PP-{n:04d}",
        verification_code=f"programme-pages-{n}",
        issued_at=clock.now(),
        issued_by_id=issuer_id,
        pdf_storage_key=f"certificates/{n}.pdf",
        pdf_sha256="0" * 64,
    )
    if revoked:
        certificate.revoked_at = clock.now()
        certificate.revoked_by_id = issuer_id
        certificate.revocation_reason = "Fout"
    _db.session.add(certificate)
    _db.session.flush()
    progress.refresh_summaries([enrolment])
    return certificate


def fill(world, cohort: Cohort, participants: int) -> None:  # type: ignore[no-untyped-def]
    """``participants`` enrolments in ``cohort``, in turn: on schedule, behind and inactive, done
    with a certificate (completed), withdrawn, active with a revoked certificate, not started."""
    a1, a2, a3 = world.assignments
    for k in range(participants):
        enrolment = make_enrolment(cohort, make_user(Role.PARTICIPANT), world.company)
        kind = k % 6
        if kind == 0:
            make_approved_submission(enrolment, a1, at=HANDED_IN_AT)
            make_handed_in_submission(enrolment, a2, at=HANDED_IN_AT)
        elif kind == 1:
            make_handed_in_submission(enrolment, a1, at=LONG_AGO)
        elif kind == 2:
            for assignment in (a1, a2, a3):
                make_approved_submission(enrolment, assignment, at=HANDED_IN_AT)
            enrolment.status = EnrolmentStatus.COMPLETED
            enrolment.ended_on = date(2026, 10, 23)
            certify(enrolment, world.coordinator.id)
        elif kind == 3:
            enrolment.status = EnrolmentStatus.WITHDRAWN
            enrolment.ended_on = date(2026, 10, 1)
        elif kind == 4:
            make_approved_submission(enrolment, a1, at=HANDED_IN_AT)
            certify(enrolment, world.coordinator.id, revoked=True)
    _db.session.flush()


def add_cohorts(world, count: int, participants: int = 4) -> None:  # type: ignore[no-untyped-def]
    """``count`` more cohorts over the regions and start dates; every fifth is closed."""
    regions = list(Region)
    for n in range(count):
        cohort = make_cohort(
            world.programme,
            region=regions[n % len(regions)],
            start=STARTS[n % len(STARTS)],
            name=f"Groep {next(_numbers):04d}",
            trainers=[world.trainer],
        )
        if n % 5 == 4:
            cohort.closed_at = clock.now()
        fill(world, cohort, participants)
    _db.session.commit()


# --- The overview's figures: the same answers as the rules in Python --------------------------------


@dataclass
class Expected:
    cohort_count: int = 0
    seats: int = 0
    seats_taken: int = 0
    active: int = 0
    completed: int = 0
    withdrawn: int = 0
    at_risk: int = 0
    behind: int = 0
    overdue: int = 0
    inactive: int = 0
    approved: int = 0
    assignments: int = 0
    expected: int = 0
    cohorts: dict[int, tuple[int, ...]] = field(default_factory=dict)


def by_the_rules(
    today: date, region: Region | None, include_closed: bool
) -> dict[Region, Expected]:
    """Every enrolment loaded and judged by ``progress.risk_reasons``: what the overview must show."""
    query = sa.select(Cohort)
    if region is not None:
        query = query.where(Cohort.region == region)
    if not include_closed:
        query = query.where(Cohort.closed_at.is_(None))
    cohorts = _db.session.scalars(query).all()
    enrolments = _db.session.scalars(
        sa.select(Enrolment).where(Enrolment.cohort_id.in_([c.id for c in cohorts]))
    ).all()
    active = [e for e in enrolments if e.status is EnrolmentStatus.ACTIVE]
    figures = enrolment_progress(active, today)
    reasons = risk_reasons(active, figures, today)
    result = {r: Expected() for r in Region if region is None or r is region}
    for cohort in cohorts:
        mine = [e for e in enrolments if e.cohort_id == cohort.id]
        statuses = Counter(e.status for e in mine)
        mine_active = [e for e in mine if e.status is EnrolmentStatus.ACTIVE]
        approved = sum(figures[e.id].assignments.approved for e in mine_active)
        total = sum(figures[e.id].assignments.total for e in mine_active)
        expected = sum(figures[e.id].expected_assignments for e in mine_active)
        row = result[cohort.region]
        row.cohort_count += 1
        row.seats += cohort.capacity
        row.active += statuses[EnrolmentStatus.ACTIVE]
        row.completed += statuses[EnrolmentStatus.COMPLETED]
        row.withdrawn += statuses[EnrolmentStatus.WITHDRAWN]
        row.seats_taken += statuses[EnrolmentStatus.ACTIVE] + statuses[EnrolmentStatus.COMPLETED]
        row.at_risk += sum(1 for e in mine_active if reasons[e.id])
        for name in ("behind", "overdue", "inactive"):
            setattr(
                row,
                name,
                getattr(row, name)
                + sum(1 for e in mine_active if any(r.value == name for r in reasons[e.id])),
            )
        row.approved += approved
        row.assignments += total
        row.cohorts[cohort.id] = (
            statuses[EnrolmentStatus.ACTIVE] + statuses[EnrolmentStatus.COMPLETED],
            statuses[EnrolmentStatus.ACTIVE],
            statuses[EnrolmentStatus.COMPLETED],
            statuses[EnrolmentStatus.WITHDRAWN],
            sum(1 for e in mine_active if reasons[e.id]),
            round(100 * approved / total) if total else 0,
            round(100 * expected / total) if total else 0,
        )
    return result


CASES = [
    (date(2026, 10, 30), None, False),
    (date(2026, 10, 30), Region.PARKSTAD, False),
    (date(2026, 12, 11), None, True),
    (date(2026, 9, 8), Region.MAASTRICHT_HEUVELLAND, True),
    (date(2027, 3, 1), None, False),
]


def test_the_overview_figures_are_those_of_the_rules(db, world):  # type: ignore[no-untyped-def]
    add_cohorts(world, 12, participants=6)
    for day, region, include_closed in CASES:
        check_overview(day, region, include_closed)


def check_overview(day: date, region: Region | None, include_closed: bool) -> None:
    overview = dashboards.coordinator_overview(day, region, include_closed, 1)
    expected = by_the_rules(day, region, include_closed)
    assert [r.region for r in overview.regions] == list(expected)
    seen: dict[int, tuple[int, ...]] = {}
    number = 1
    while True:
        overview = dashboards.coordinator_overview(day, region, include_closed, number)
        for figures in overview.regions:
            want = expected[figures.region]
            assert (
                figures.cohort_count,
                figures.seats,
                figures.seats_taken,
                figures.active,
                figures.completed,
                figures.withdrawn,
                figures.at_risk,
                figures.behind,
                figures.overdue,
                figures.inactive,
                figures.percent_approved,
            ) == (
                want.cohort_count,
                want.seats,
                want.seats_taken,
                want.active,
                want.completed,
                want.withdrawn,
                want.at_risk,
                want.behind,
                want.overdue,
                want.inactive,
                round(100 * want.approved / want.assignments) if want.assignments else 0,
            ), figures.region
            for f in figures.cohorts:
                assert f.cohort.id not in seen
                seen[f.cohort.id] = (
                    f.seats_taken,
                    f.active,
                    f.completed,
                    f.withdrawn,
                    f.at_risk,
                    f.percent_approved,
                    f.expected_percent,
                )
        if not overview.page.has_next:
            break
        number += 1
    assert seen == {k: v for row in expected.values() for k, v in row.cohorts.items()}
    # The world holds every reason somewhere, so the comparison means something.
    assert any(want.behind and want.overdue and want.inactive for want in expected.values()) or (
        day < date(2026, 9, 10)
    )


def test_the_overview_pages_its_cohorts_by_region_then_newest(auth, client, db, world):  # type: ignore[no-untyped-def]
    add_cohorts(world, 40, participants=1)
    auth.login(world.coordinator.email)
    names: list[str] = []
    with clock.frozen_at(TODAY):
        first = client.get("/dashboard/coordinator").get_data(as_text=True)
        assert "Pagina 1 van 2 (34 in totaal)" in first  # 42 cohorts, of which 8 closed
        for number in (1, 2):
            page = client.get(f"/dashboard/coordinator?page={number}").get_data(as_text=True)
            rows = re.findall(
                r'<th scope="row" data-label="Groep"><a href="[^"]+">([^<]+)</a>', page
            )
            assert len(rows) == (25 if number == 1 else 9)
            names += rows
        # Past the end: the last page, never an error; nonsense: the first.
        assert (
            client.get("/dashboard/coordinator?page=99")
            .get_data(as_text=True)
            .count('data-label="Groep"><a')
            == 9
        )
        assert client.get("/dashboard/coordinator?page=x").status_code == 200
        # The filter keeps to its region, and the page links keep the filter.
        filtered = client.get("/dashboard/coordinator?region=parkstad&closed=1").get_data(
            as_text=True
        )
        with_closed = client.get("/dashboard/coordinator?closed=1").get_data(as_text=True)
    open_cohorts = _db.session.scalars(sa.select(Cohort).where(Cohort.closed_at.is_(None))).all()
    order = sorted(
        open_cohorts,
        key=lambda c: (list(Region).index(c.region), -c.start_date.toordinal(), c.name, c.id),
    )
    assert names == [c.name for c in order]
    assert 'id="region-westelijke_mijnstreek"' not in filtered
    parkstad = _db.session.scalar(
        sa.select(sa.func.count(Cohort.id)).where(Cohort.region == Region.PARKSTAD)
    )
    assert filtered.count('data-label="Groep"><a') == min(parkstad, 25)
    # All 42 with the closed ones: two pages, and the link to the next keeps the choice.
    assert "Pagina 1 van 2 (42 in totaal)" in with_closed
    links = with_closed[with_closed.index('class="pagination"') :]
    assert re.search(r'href="/dashboard/coordinator\?closed=1&amp;page=2"', links)


# --- The certificates list per cohort: the same answers as certificate_status ---------------------


def test_the_certificates_list_counts_per_cohort_as_certificate_status(db, world):  # type: ignore[no-untyped-def]
    add_cohorts(world, 6, participants=6)
    # One participant of each cohort done with all work and still active: due.
    for cohort in _db.session.scalars(sa.select(Cohort)).all():
        complete(make_enrolment(cohort, make_user(Role.PARTICIPANT), world.company))
    _db.session.commit()
    cohorts = _db.session.scalars(sa.select(Cohort)).all()
    today = TODAY.date()
    counts = certificate_service.cohort_certificate_counts(cohorts)
    for cohort in cohorts:
        enrolments = _db.session.scalars(
            sa.select(Enrolment).where(Enrolment.cohort_id == cohort.id)
        ).all()
        status = certificate_service.certificate_status(enrolments, today)
        assert counts[cohort.id] == certificate_service.CohortCertificates(
            participants=len(enrolments),
            issued=sum(1 for e in enrolments if status[e.id].has_valid_certificate),
            due=sum(1 for e in enrolments if status[e.id].due),
        )
    # The world has each kind, so the comparison means something.
    assert sum(c.issued for c in counts.values()) and sum(c.due for c in counts.values())
    assert certificate_service.cohort_certificate_counts([]) == {}


# --- Statements: the same few for a small and a larger world -------------------------------------


PLACEHOLDER = r"(?:\?|%s|%\([^)]+\)s|\$\d+)"
IN_LIST = re.compile(rf"\bIN \(({PLACEHOLDER}(?:, {PLACEHOLDER})*)\)")


class StatementLog:
    """The statements sent while active, and the longest list of values after an ``IN``."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, int]] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        lists = [match.group(1).count(",") + 1 for match in IN_LIST.finditer(statement)]
        self.statements.append((statement, max(lists, default=0)))

    def __enter__(self) -> StatementLog:
        sa.event.listen(_db.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(_db.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def longest_in_list(self) -> int:
        return max(values for _, values in self.statements)


PAGES = [
    ("coordinator", "/dashboard/coordinator"),
    ("coordinator", "/dashboard/coordinator?region=parkstad&closed=1&page=2"),
    ("coordinator", "/reports/programme"),
    ("coordinator", "/reports/programme?year=2026"),
    ("coordinator", "/reports/programme.csv"),
    ("coordinator", "/reports/programme.pdf"),
    ("coordinator", "/reports/cohorts/{cohort}"),
    ("trainer", "/reports/cohorts/{cohort}"),
    ("coordinator", "/certificates/"),
    ("coordinator", "/certificates/?page=2"),
    ("trainer", "/certificates/"),
    ("contact", "/certificates/"),
    ("coordinator", "/certificates/cohort/{cohort}"),
    ("coordinator", "/certificates/enrolment/{enrolment}"),
]


def _measure(auth, client, world) -> dict[tuple[str, str], StatementLog]:  # type: ignore[no-untyped-def]
    logs = {}
    for user, path in PAGES:
        url = path.format(cohort=world.cohort.id, enrolment=world.noel_in.id)
        auth.login(getattr(world, user).email)
        with clock.frozen_at(TODAY):
            assert client.get(url).status_code == 200  # warm up: translations, the session
            with StatementLog() as log:
                assert client.get(url).status_code == 200, url
        auth.logout()
        logs[(user, path)] = log
    return logs


def test_each_programme_page_costs_the_same_few_statements_however_much_data(  # type: ignore[no-untyped-def]
    auth, client, db, world
):
    add_cohorts(world, 2, participants=2)
    small = _measure(auth, client, world)

    # Thirty more cohorts (two pages of them), a fuller cohort in view, a year's certificates.
    add_cohorts(world, 30, participants=6)
    fill(world, world.cohort, 8)
    certify(world.noel_in, world.coordinator.id, revoked=True)
    certify(world.noel_in, world.coordinator.id)
    _db.session.commit()
    large = _measure(auth, client, world)

    enrolments = _db.session.scalar(sa.select(sa.func.count(Enrolment.id)))
    assert enrolments > 150
    for page in PAGES:
        assert small[page].count == large[page].count, (page, small[page].count, large[page].count)
        assert large[page].count <= 10, (page, large[page].count)
        # No list of ids that grows with the programme: at most a page of cohorts (25), or one
        # cohort's enrolments (twelve seats, plus those who left).
        assert large[page].longest_in_list <= 25, (page, large[page].longest_in_list)
    # The overview and the report send the very same statements for four cohorts as for
    # thirty-four: the page's cohorts are chosen by a subquery, not by their ids.
    for page in PAGES:
        if page[1].startswith(("/dashboard/coordinator", "/reports/programme")):
            assert [s for s, _ in small[page].statements] == [
                s for s, _ in large[page].statements
            ], page


def test_the_overview_never_loads_enrolments_or_the_ledger(auth, client, db, world):  # type: ignore[no-untyped-def]
    add_cohorts(world, 3, participants=3)
    auth.login(world.coordinator.email)
    with clock.frozen_at(TODAY):
        client.get("/dashboard/coordinator")
        with StatementLog() as log:
            assert client.get("/dashboard/coordinator").status_code == 200
    for statement, _ in log.statements:
        assert "signoffs" not in statement and "submissions" not in statement
        # Enrolments only inside aggregates, never as rows.
        assert "enrolments.participant_id" not in statement, statement


def test_the_overview_and_the_report_read_a_row_per_cohort_never_one_per_enrolment(  # type: ignore[no-untyped-def]
    auth, client, db, world
):
    """Their cost follows the cohorts they show (and the report's year reads only that year's
    cohorts): no statement reads the enrolments or their summaries, only the cohorts' rows."""
    add_cohorts(world, 3, participants=3)
    auth.login(world.coordinator.email)
    for path in (
        "/dashboard/coordinator",
        "/dashboard/coordinator?closed=1&region=parkstad",
        "/reports/programme",
        "/reports/programme?year=2026",
    ):
        with clock.frozen_at(TODAY):
            client.get(path)
            with StatementLog() as log:
                assert client.get(path).status_code == 200
        read = " ".join(statement for statement, _ in log.statements)
        assert "cohort_summaries" in read, path
        assert not re.search(r"\b(enrolments|progress_summaries)\b", read), path
        if "year=" in path:
            report = next(s for s, _ in log.statements if "cohort_summaries" in s)
            assert "cohorts.start_date >=" in report and "cohorts.start_date <" in report
