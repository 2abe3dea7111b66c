"""The demo's finished cohort: last school year in Maastricht-Heuvelland, certificates in every state,
verification addresses printed by ``flask lms demo`` that work at once."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from lms import clock
from lms.models import Certificate, Cohort, EnrolmentStatus, Region
from lms.services import certificates as service
from lms.services.signoff import verify_ledger


def test_demo_has_last_years_cohort_with_certificates_in_every_state(db, runner, client, auth):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output

    year = clock.school_year_start(clock.today())
    cohort = db.session.scalars(
        sa.select(Cohort).where(Cohort.region == Region.MAASTRICHT_HEUVELLAND)
    ).one()
    assert cohort.name == f"Maastricht-Heuvelland {year - 1}-{year}"
    assert cohort.end_date < clock.today() and cohort.is_closed
    assert len(cohort.enrolments) == 6
    assert {e.status for e in cohort.enrolments} == {EnrolmentStatus.COMPLETED}
    certificates = db.session.scalars(sa.select(Certificate).order_by(Certificate.number)).all()
    states = Counter(service.verification_state(c).value for c in certificates)
    assert states == {"valid": 5, "replaced": 1, "revoked": 1}
    assert all(c.number.startswith(f"VK-{year}-MH-") for c in certificates)
    ok, _count, _broken = verify_ledger()
    assert ok

    # The command prints one address per state, and each works without logging in.
    printed = [line.split(": ", 1)[1] for line in result.output.splitlines() if "/verify/" in line]
    assert len(printed) == 3
    seen = set()
    for url in printed:
        assert url.startswith("http://127.0.0.1:5000/verify/")
        response = client.get(url.removeprefix("http://127.0.0.1:5000") + ".json")
        assert response.status_code == 200
        seen.add(response.get_json()["status"])
    assert seen == {"valid", "replaced", "revoked"}

    # A graduate logs in and downloads their certificate; their employer sees it too.
    graduate = cohort.enrolments[0]
    certificate = next(
        c for c in certificates if c.enrolment_id == graduate.id and not c.is_revoked
    )
    auth.login(graduate.participant.email, "vakkracht-demo")
    download = client.get(f"/certificates/{certificate.id}/download")
    assert download.status_code == 200
    assert download.data == service.certificate_pdf(certificate)
    auth.logout()
    contact = graduate.employer.contacts[0]
    auth.login(contact.email, "vakkracht-demo")
    assert certificate.number in client.get("/certificates/").get_data(as_text=True)
