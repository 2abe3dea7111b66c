"""One truth about a person's certificate: ``CertificateStatus.state`` decides, and every page that shows
certificate readiness or enrolment state asks it. A graduate with a valid certificate has "achieved" it
(never "not yet … enrolment not active"), a revoked certificate reads "revoked" (never "not yet"), and a
completed enrolment is named as completed (never "not enrolled")."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from pypdf import PdfReader

from lms import clock
from lms.models import CertificateState, EnrolmentStatus, Region, Role
from lms.services import certificates as service
from lms.services import enrolment as enrolment_service
from tests.certificate_helpers import make_eligible_enrolment, make_finished_cohort
from tests.factories import make_employer, make_enrolment, make_user

NOW = datetime(2027, 7, 2, 10, tzinfo=clock.LOCAL_TZ)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def early_july_2027():  # type: ignore[no-untyped-def]
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def finished(db):  # type: ignore[no-untyped-def]
    """Last year's cohort after the coordinator issued the certificates and closed the enrolments:
    one graduate with a valid certificate, one whose certificate was revoked, one still busy."""
    trainer = make_user(Role.TRAINER, first_name="Ingrid", last_name="Vaessen")
    cohort = make_finished_cohort(
        region=Region.MAASTRICHT_HEUVELLAND, trainer=trainer, name="Maastricht 2026-2027"
    )
    company = make_employer(name="Kerkrade Precisie B.V.")
    coordinator = make_user(Role.COORDINATOR)
    graduate = make_eligible_enrolment(cohort, employer=company)
    revoked = make_eligible_enrolment(cohort, employer=company)
    busy = make_enrolment(cohort, employer=company)
    valid_certificate = service.issue_certificate(graduate, actor=coordinator, now=NOW)
    revoked_certificate = service.issue_certificate(revoked, actor=coordinator, now=NOW)
    for enrolment in (graduate, revoked):
        enrolment.status = EnrolmentStatus.COMPLETED
        enrolment.ended_on = TODAY
        enrolment.end_reason = "Opleiding afgerond."
    service.revoke_certificate(revoked_certificate, actor=coordinator, reason="Fraude", now=NOW)
    contact = make_user(Role.EMPLOYER, employer=company)
    db.session.commit()
    return {
        "cohort": cohort,
        "trainer": trainer,
        "coordinator": coordinator,
        "contact": contact,
        "graduate": graduate,
        "revoked": revoked,
        "busy": busy,
        "valid_certificate": valid_certificate,
        "revoked_certificate": revoked_certificate,
    }


def _state(enrolment):  # type: ignore[no-untyped-def]
    return service.certificate_status([enrolment], TODAY)[enrolment.id].state


# --- the rule ------------------------------------------------------------------------------------


def test_every_state_follows_from_the_records(db):  # type: ignore[no-untyped-def]
    coordinator = make_user(Role.COORDINATOR)
    cohort = make_finished_cohort()
    busy = make_enrolment(cohort)
    ready = make_eligible_enrolment(cohort)
    left = make_enrolment(cohort)
    enrolment_service.withdraw(left, on=TODAY, reason="Andere baan", actor=coordinator)
    db.session.flush()

    assert _state(busy) is CertificateState.IN_PROGRESS
    assert _state(ready) is CertificateState.READY
    assert _state(left) is CertificateState.ENDED

    certificate = service.issue_certificate(ready, actor=coordinator, now=NOW)
    assert _state(ready) is CertificateState.ACHIEVED
    # Graduating (the enrolment completed) keeps the certificate achieved.
    ready.status, ready.ended_on = EnrolmentStatus.COMPLETED, TODAY
    db.session.flush()
    assert _state(ready) is CertificateState.ACHIEVED
    assert service.eligibility(ready, TODAY).state is CertificateState.ACHIEVED

    service.revoke_certificate(certificate, actor=coordinator, reason="Fout", now=NOW)
    status = service.certificate_status([ready], TODAY)[ready.id]
    assert status.state is CertificateState.REVOKED and status.revoked == certificate
    assert service.eligibility(ready, TODAY).state is CertificateState.REVOKED

    new = service.issue_certificate(ready, actor=coordinator, now=NOW, replaces=certificate)
    status = service.certificate_status([ready], TODAY)[ready.id]
    assert status.state is CertificateState.ACHIEVED and status.certificate == new
    assert status.revoked is None


def test_the_state_of_many_costs_the_same_queries(db, count_queries):  # type: ignore[no-untyped-def]
    cohort = make_finished_cohort()
    few = [make_eligible_enrolment(cohort) for _ in range(2)]
    with count_queries() as small:
        service.certificate_status(few, TODAY)
    many = few + [make_eligible_enrolment(cohort) for _ in range(3)]
    with count_queries() as large:
        states = service.certificate_status(many, TODAY)
    assert small.count == large.count
    assert {status.state for status in states.values()} == {CertificateState.READY}


# --- the pages -----------------------------------------------------------------------------------


def test_the_coordinators_page_of_a_graduate_says_achieved(auth, client, finished):  # type: ignore[no-untyped-def]
    auth.login(finished["coordinator"].email)
    page = client.get(f"/certificates/enrolment/{finished['graduate'].id}").get_data(as_text=True)

    assert 'data-certificate-state="achieved"' in page
    assert "Certificaat behaald" in page
    assert "Nog niet" not in page and "niet actief" not in page
    assert finished["valid_certificate"].number in page


def test_the_coordinators_page_of_a_revoked_certificate_says_revoked(auth, client, finished):  # type: ignore[no-untyped-def]
    auth.login(finished["coordinator"].email)
    page = client.get(f"/certificates/enrolment/{finished['revoked'].id}").get_data(as_text=True)

    assert 'data-certificate-state="revoked"' in page
    assert "Nog niet" not in page and "niet actief" not in page
    assert "Het werk is af" in page  # the coordinator can reissue


def test_the_cohort_page_names_each_state(auth, client, finished):  # type: ignore[no-untyped-def]
    auth.login(finished["coordinator"].email)
    page = client.get(f"/certificates/cohort/{finished['cohort'].id}").get_data(as_text=True)

    def cell(enrolment):  # type: ignore[no-untyped-def]
        return page.split(f'id="certificate-{enrolment.id}"', 1)[1].split("</td>", 1)[0]

    assert 'data-certificate-state="achieved"' in cell(finished["graduate"])
    assert finished["valid_certificate"].number in cell(finished["graduate"])
    assert 'data-certificate-state="revoked"' in cell(finished["revoked"])
    assert "Ingetrokken" in cell(finished["revoked"])
    assert 'data-certificate-state="in_progress"' in cell(finished["busy"])


def test_the_participant_list_names_graduates_as_completed(auth, client, finished):  # type: ignore[no-untyped-def]
    auth.login(finished["coordinator"].email)
    page = client.get("/people/participants/").get_data(as_text=True)

    row = page.split(finished["graduate"].participant.email, 1)[1].split("</tr>", 1)[0]
    assert "Niet ingeschreven" not in row
    assert finished["cohort"].name in row and 'data-enrolment-status="completed"' in row
    busy_row = page.split(finished["busy"].participant.email, 1)[1].split("</tr>", 1)[0]
    assert finished["cohort"].name in busy_row and "data-enrolment-status" not in busy_row


@pytest.mark.parametrize("path", ["/dashboard/participant", "/portfolio/"])
@pytest.mark.parametrize(("who", "state"), [("graduate", "achieved"), ("revoked", "revoked")])
def test_a_graduates_own_pages_say_completed_with_the_certificate_state(  # type: ignore[no-untyped-def]
    auth, client, finished, path, who, state
):
    auth.login(finished[who].participant.email)
    page = client.get(path).get_data(as_text=True)

    assert "Je hebt de opleiding afgerond" in page
    assert f'data-certificate-state="{state}"' in page
    assert "nog niet in een groep" not in page


@pytest.mark.parametrize("who", ["trainer", "contact"])
def test_the_checklist_page_tells_the_certificate_state(auth, client, finished, who):  # type: ignore[no-untyped-def]
    auth.login(finished[who].email)
    for enrolment, state in ((finished["graduate"], "achieved"), (finished["revoked"], "revoked")):
        page = client.get(f"/checklists/enrolments/{enrolment.id}").get_data(as_text=True)
        assert f'data-certificate-state="{state}"' in page


def test_the_progress_report_of_a_graduate_tells_the_same(auth, client, finished):  # type: ignore[no-untyped-def]
    auth.login(finished["coordinator"].email)

    def report(enrolment) -> str:  # type: ignore[no-untyped-def]
        response = client.get(f"/certificates/enrolment/{enrolment.id}/progress-report.pdf")
        reader = PdfReader(io.BytesIO(response.data))
        return "\n".join(page.extract_text() for page in reader.pages)

    graduate = report(finished["graduate"])
    assert f"Uitgegeven: {finished['valid_certificate'].number}" in graduate
    assert "niet actief" not in graduate and "Nog niet" not in graduate
    revoked = report(finished["revoked"])
    assert f"Ingetrokken: {finished['revoked_certificate'].number}" in revoked
    assert "Nog niet" not in revoked


def test_a_participant_who_never_finished_still_sees_not_in_a_group(auth, client, db):  # type: ignore[no-untyped-def]
    participant = make_user(Role.PARTICIPANT)
    db.session.commit()
    auth.login(participant.email)
    assert "nog niet in een groep" in client.get("/portfolio/").get_data(as_text=True)
