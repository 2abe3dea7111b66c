"""Eligibility for the certificate, from the one progress truth, with exactly what is missing."""

from __future__ import annotations

import secrets

from lms import clock
from lms.models import Certificate, Enrolment, EnrolmentStatus, Role, SubmissionStatus, User
from lms.services.certificates import certificate_status, eligibility
from lms.services.signoff import sign_off
from tests.certificate_helpers import (
    AT,
    FINISHED,
    complete,
    make_eligible_enrolment,
    make_finished_cohort,
)
from tests.factories import (
    make_approved_submission,
    make_enrolment,
    make_handed_in_submission,
    make_user,
)


def test_everything_done_is_eligible_with_nothing_missing(db):  # type: ignore[no-untyped-def]
    enrolment = make_eligible_enrolment()

    result = eligibility(enrolment, FINISHED)

    assert result.eligible
    assert not result.missing_anything
    assert result.open_assignments == [] and result.open_items == []


def test_missing_work_and_levels_are_listed_exactly(db):  # type: ignore[no-untyped-def]
    cohort = make_finished_cohort()
    enrolment = make_enrolment(cohort)
    programme = cohort.programme
    a1, a2, a3 = programme.assignments
    make_approved_submission(enrolment, a1, at=AT)
    make_handed_in_submission(enrolment, a2, at=AT)  # waiting for the trainer: not approved
    pbm = programme.checklist_groups[0].items[0]  # required level 2
    sign_off(enrolment=enrolment, item=pbm, level=1, actor=cohort.trainers[0], at=AT)

    result = eligibility(enrolment, FINISHED)

    assert not result.eligible and result.missing_anything
    assert [(a.code, a.status) for a in result.open_assignments] == [
        ("A2", SubmissionStatus.SUBMITTED),
        ("A3", None),
    ]
    assert [(i.code, i.reached_level, i.required_level) for i in result.open_items] == [
        ("T01", 1, 2),
        ("D1", 0, 2),
    ]


def test_an_enrolment_that_is_no_longer_active_is_not_eligible(db):  # type: ignore[no-untyped-def]
    enrolment = make_eligible_enrolment()
    enrolment.status = EnrolmentStatus.WITHDRAWN
    enrolment.ended_on = FINISHED
    db.session.flush()

    result = eligibility(enrolment, FINISHED)

    assert not result.eligible
    assert not result.enrolment_active and result.missing_anything
    assert result.open_assignments == [] and result.open_items == []


def test_status_for_a_set_tells_eligible_and_valid_certificate(db, count_queries):  # type: ignore[no-untyped-def]
    cohort = make_finished_cohort()
    done = make_eligible_enrolment(cohort)
    certified = make_eligible_enrolment(cohort)
    busy = make_enrolment(cohort)
    coordinator = make_user(Role.COORDINATOR)
    revoked = _certificate(certified, coordinator, "VK-2027-PK-0001", revoked=True)
    certificate = _certificate(certified, coordinator, "VK-2027-PK-0002")
    _certificate(done, coordinator, "VK-2027-PK-0003", revoked=True)

    enrolments = [done, certified, busy]
    with count_queries() as counter:
        status = certificate_status(enrolments, FINISHED)

    # The progress summaries (with cohorts and programmes) and the certificates.
    assert counter.count == 2
    assert (status[done.id].eligible, status[done.id].certificate, status[done.id].due) == (
        True,
        None,
        True,
    )
    assert status[certified.id].certificate is certificate and not status[certified.id].due
    assert status[certified.id].certificate is not revoked
    assert not status[busy.id].eligible and not status[busy.id].due
    complete(busy)
    assert certificate_status([busy], FINISHED)[busy.id].due


def _certificate(
    enrolment: Enrolment, coordinator: User, number: str, *, revoked: bool = False
) -> Certificate:
    """A certificate row as issuing leaves it (the PDF itself does not matter here)."""
    from lms.extensions import db

    certificate = Certificate(
        enrolment=enrolment,
        number=number,
        verification_code=secrets.token_urlsafe(32),
        issued_at=clock.now(),
        issued_by=coordinator,
        pdf_storage_key=secrets.token_urlsafe(32) + ".pdf",
        pdf_sha256="0" * 64,
    )
    if revoked:
        certificate.revoked_at = clock.now()
        certificate.revoked_by = coordinator
        certificate.revocation_reason = "Fout in de naam."
    db.session.add(certificate)
    db.session.flush()
    return certificate
