"""One date format in the interface: the short Dutch form "9 okt 2026" (lms/dates.py).

Templates show dates only through the ``date`` and ``datetime`` filters and the code that writes
PDFs and messages only through ``short_date``/``short_datetime``; the main pages of every role,
rendered, hold no other form (a full month name or 09-10-2026)."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from lms.dates import short_date, short_datetime
from lms.pdf.certificate import render_certificate
from lms.services.certificates import certificate_text
from tests.scenarios import World, build_world

ROOT = Path(__file__).resolve().parent.parent
OTHER_FORMATTING = re.compile(
    r"\b(dateformat|datetimeformat|format_date|format_datetime|strftime)\s*\("
)
ALLOWED = {
    # The CSV import asks for and explains its input format, dd-mm-yyyy: data, not a date shown.
    ("templates/cohorts/import_format.html", "strftime"),
    ("lms/services/participant_import.py", "strftime"),
    ("lms/services/participant_import.py", "format_date"),
    ("lms/services/outbox.py", "format_datetime"),  # an e-mail's Date header (RFC 5322)
}
FULL_MONTHS = re.compile(
    r"\b(januari|februari|maart|april|juni|juli|augustus|september|oktober|november|december)\b",
    re.I,
)
NUMERIC_DATE = re.compile(r"\b\d{1,2}-\d{1,2}-\d{4}\b")
SHORT_DATE = re.compile(r"\b\d{1,2} (jan|feb|mrt|apr|mei|jun|jul|aug|sep|okt|nov|dec)\.? \d{4}\b")


def test_the_short_dutch_form(app) -> None:
    with app.test_request_context():
        assert short_date(date(2026, 10, 9)) == "9 okt 2026"
        assert short_date(date(2027, 5, 3)) == "3 mei 2027"
        # A moment is shown in Europe/Amsterdam: 23:30 UTC on 9 October is 10 October there.
        assert short_date(datetime(2026, 10, 9, 23, 30, tzinfo=UTC)) == "10 okt 2026"
        assert short_datetime(datetime(2026, 10, 9, 12, 5, tzinfo=UTC)) == "9 okt 2026 14:05"
        assert short_date(None) == ""


def test_a_day_is_shown_in_the_language_of_the_moment(app) -> None:
    """``short_date`` formats each day once per language (a sweep shows the same few due dates in
    thousands of mails): the Dutch form never comes back in English, nor the other way round."""
    from flask_babel import force_locale

    day = date(2026, 10, 9)
    with app.test_request_context():
        for _ in range(2):
            with force_locale("nl"):
                assert short_date(day) == "9 okt 2026"
            with force_locale("en"):
                assert short_date(day) == "9 Oct 2026"


def _sources() -> list[Path]:
    templates = [path for path in (ROOT / "templates").rglob("*") if path.is_file()]
    code = [path for path in (ROOT / "lms").rglob("*.py") if path.name != "dates.py"]
    return templates + code


def test_no_template_or_pdf_formats_a_date_its_own_way() -> None:
    found = []
    for path in _sources():
        relative = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in OTHER_FORMATTING.finditer(line):
                if (relative, match.group(1)) in ALLOWED:
                    continue
                if match.group(1) == "strftime" and "%Y-%m-%dT" in line:
                    continue  # ISO 8601 for machines (JSON), not a date shown
                found.append(f"{relative}:{number}: {line.strip()}")
    assert found == [], "use |date / |datetime (lms/dates.py) instead:\n" + "\n".join(found)


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    return build_world()


def _pages(world: World) -> dict[str, list[str]]:
    enrolment, code = world.enrolment.id, world.assignment.code
    return {
        "participant": [
            "/dashboard/participant",
            "/portfolio/",
            f"/portfolio/assignments/{code}",
            "/hours/",
            "/reviews/",
            f"/reviews/{world.review.id}",
            "/certificates/",
            "/notifications/",
            "/profile",
            "/checklists/mine",
        ],
        "trainer": [
            "/dashboard/trainer",
            "/assessment/queue",
            f"/assessment/submissions/{world.handed_in.id}",
            f"/checklists/enrolments/{enrolment}",
            f"/reviews/enrolments/{enrolment}",
            f"/hours/enrolments/{enrolment}",
            f"/reports/cohorts/{world.cohort.id}",
        ],
        "contact": [
            "/dashboard/employer",
            "/employer/",
            "/employer/confirmations",
            "/hours/to-approve",
        ],
        "coordinator": [
            "/dashboard/coordinator",
            "/cohorts/",
            f"/cohorts/{world.cohort.id}",
            f"/people/{world.participant.id}",
            f"/certificates/enrolment/{enrolment}",
            f"/certificates/cohort/{world.cohort.id}",
            "/api/keys/",
            "/outbox/failed",
        ],
    }


def test_the_main_pages_show_dates_in_the_short_form(auth, client, world) -> None:
    shown = 0
    for who, paths in _pages(world).items():
        auth.login(getattr(world, who).email)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (who, path)
            page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
            assert not FULL_MONTHS.search(page), (who, path, FULL_MONTHS.search(page))
            assert not NUMERIC_DATE.search(page), (who, path, NUMERIC_DATE.search(page))
            shown += len(SHORT_DATE.findall(page))
        auth.logout()
    assert shown > 20  # the pages do show dates, in the short form


def test_the_pdfs_show_dates_in_the_short_form(app, auth, client, world) -> None:
    auth.login(world.coordinator.email)
    response = client.get(f"/certificates/enrolment/{world.enrolment.id}/progress-report.pdf")
    assert response.status_code == 200
    reports = [page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages]
    with app.test_request_context():
        text = certificate_text(
            world.enrolment,
            number="VK-1",
            code="code",
            issued_on=date(2027, 7, 2),
            issuer=world.coordinator,
        )
        certificate = PdfReader(io.BytesIO(render_certificate(text))).pages[0].extract_text()
    for shown in (" ".join(reports), certificate):
        assert SHORT_DATE.search(shown)
        assert not FULL_MONTHS.search(shown), FULL_MONTHS.search(shown)
    assert "2 jul 2027" in certificate
