"""Issuing a whole cohort in a real browser: the script posts one participant at a time, the progress bar
fills, each row shows its new number, and the ZIP link appears. The verification page passes axe."""

from __future__ import annotations

import pytest

from lms import clock
from lms.extensions import db
from lms.models import Certificate, Enrolment, Role, User
from lms.services.certificates import issue_certificate
from tests.browser.conftest import LiveServer
from tests.browser.pages import log_in, serious_violations
from tests.certificate_helpers import make_eligible_enrolment, make_finished_cohort
from tests.factories import PASSWORD, make_enrolment, make_user

pytestmark = pytest.mark.browser


def build(server: LiveServer) -> dict[str, object]:
    with server.app.app_context():
        cohort = make_finished_cohort(name="Maastricht 2026-2027")
        ready = [make_eligible_enrolment(cohort) for _ in range(3)]
        make_enrolment(cohort)  # not ready
        coordinator = make_user(Role.COORDINATOR, email="coordinator@example.org")
        db.session.commit()
        return {
            "cohort": cohort.id,
            "ready": [e.id for e in ready],
            "coordinator": coordinator.email,
        }


def test_bulk_issue_shows_progress_and_then_the_zip_link(server, context) -> None:
    world = build(server)
    page = context.new_page()
    log_in(page, server, str(world["coordinator"]), PASSWORD)
    page.goto(server(f"/certificates/cohort/{world['cohort']}"))
    assert page.locator("#zip-link").is_hidden()

    page.get_by_role("button", name="3 certificaten uitgeven").click()

    page.get_by_text("Klaar: 3 van 3 certificaten uitgegeven.").wait_for()
    assert page.locator("#bulk-progress-bar").evaluate("bar => bar.value") == 3
    assert page.locator("#zip-link").is_visible()
    for enrolment_id in world["ready"]:  # type: ignore[union-attr]
        assert page.locator(f"#certificate-{enrolment_id} a").inner_text().startswith("VK-")
    assert page.locator("#bulk-progress-errors li").count() == 0
    with server.app.app_context():
        assert db.session.query(Certificate).count() == 3


def test_the_verification_page_has_no_serious_accessibility_findings(server, context) -> None:
    world = build(server)
    with server.app.app_context():
        enrolment = db.session.get(Enrolment, world["ready"][0])  # type: ignore[index]
        coordinator = db.session.query(User).filter_by(email=world["coordinator"]).one()
        certificate = issue_certificate(enrolment, actor=coordinator, now=clock.now())
        db.session.commit()
        code = certificate.verification_code
    page = context.new_page()
    page.goto(server(f"/verify/{code}"))
    assert page.get_by_text("Geldig").first.is_visible()
    assert serious_violations(page) == []
