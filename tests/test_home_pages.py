"""Each role lands on its own home page and sees its own real data, and nobody else's page."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import Attempt, EnrolmentStatus, Role, Submission, SubmissionStatus
from lms.services import dashboards, progress
from lms.services.certificates import issue_certificate, revoke_certificate
from tests.certificate_helpers import AT, make_eligible_enrolment
from tests.factories import make_cohort, make_employer, make_enrolment, make_programme, make_user

HOMES = {
    Role.COORDINATOR: "/dashboard/coordinator",
    Role.TRAINER: "/dashboard/trainer",
    Role.PARTICIPANT: "/dashboard/participant",
    Role.EMPLOYER: "/dashboard/employer",
}


@pytest.fixture
def world(db):
    """One cohort with a trainer, a participant employed by a company with a contact, a coordinator,
    and a second cohort, trainer, company and participant that the first ones must not see."""
    programme = make_programme(assignments=3)
    trainer = make_user(Role.TRAINER, first_name="Ingrid", last_name="Vaessen")
    other_trainer = make_user(Role.TRAINER, first_name="Ruud", last_name="Hendriks")
    cohort = make_cohort(
        programme, name="Parkstad 2026-2027", trainers=[trainer], start=date(2026, 9, 7)
    )
    other_cohort = make_cohort(
        programme, name="Westelijke Mijnstreek 2026-2027", trainers=[other_trainer]
    )
    company = make_employer(name="Kerkrade Precisie B.V.")
    other_company = make_employer(name="Sittard Assemblage B.V.")
    participant = make_user(Role.PARTICIPANT, first_name="Noël", last_name="Çelik")
    other_participant = make_user(
        Role.PARTICIPANT, first_name="Bram", name_prefix="van der", last_name="Heijden"
    )
    enrolment = make_enrolment(cohort, participant, company)
    make_enrolment(other_cohort, other_participant, other_company)
    contact = make_user(Role.EMPLOYER, employer=company, first_name="Petra", last_name="Janssen")
    coordinator = make_user(Role.COORDINATOR)
    # The participant has one assignment approved and one waiting for assessment.
    first, second, _ = programme.assignments
    at = datetime(2026, 9, 20, 10, tzinfo=clock.LOCAL_TZ)
    for assignment, approve in ((first, True), (second, False)):
        submission = Submission(
            enrolment=enrolment,
            assignment=assignment,
            attempts=[Attempt(number=1, what_i_did="Gedaan")],
        )
        db.session.add(submission)
        submission.submit(at)
        if approve:
            from lms.models import Verdict

            submission.record_verdict(Verdict.APPROVED, at)
    progress.refresh_summaries([enrolment])
    db.session.commit()
    return {
        Role.COORDINATOR: coordinator,
        Role.TRAINER: trainer,
        Role.PARTICIPANT: participant,
        Role.EMPLOYER: contact,
        "other_participant": other_participant,
    }


@pytest.mark.parametrize("role", list(Role))
def test_each_role_lands_on_its_home_page(auth, client, world, role) -> None:
    response = auth.login(world[role].email)
    assert response.headers["Location"] == HOMES[role]
    assert client.get("/").headers["Location"] == HOMES[role]
    assert client.get(HOMES[role]).status_code == 200


@pytest.mark.parametrize("role", list(Role))
def test_other_roles_home_pages_are_forbidden(auth, client, world, role) -> None:
    auth.login(world[role].email)
    for other_role, path in HOMES.items():
        if other_role is not role:
            assert client.get(path).status_code == 403, path


def test_participant_sees_own_assignments_and_progress(auth, client, world) -> None:
    auth.login(world[Role.PARTICIPANT].email)
    with clock.frozen_at(datetime(2026, 10, 30, 12, tzinfo=clock.LOCAL_TZ)):
        page = client.get("/portfolio/").get_data(as_text=True)
    assert "Parkstad 2026-2027" in page
    assert "Kerkrade Precisie B.V." in page
    assert "Ingrid Vaessen" in page
    assert "1 van 3 opdrachten goedgekeurd" in page
    assert "Opdracht 3" in page
    # Opdracht 3 was due on Friday of week 9 (6 November): not overdue yet on 30 October.
    assert "Te laat" not in page
    with clock.frozen_at(datetime(2026, 11, 9, 12, tzinfo=clock.LOCAL_TZ)):
        page = client.get("/portfolio/").get_data(as_text=True)
    assert "Te laat" in page


def test_participant_without_enrolment_gets_an_explanation(auth, client, db) -> None:
    loner = make_user(Role.PARTICIPANT)
    db.session.commit()
    auth.login(loner.email)
    page = client.get("/portfolio/").get_data(as_text=True)
    assert "Je zit nog niet in een groep" in page


def test_trainer_sees_own_cohort_and_waiting_work_only(auth, client, world) -> None:
    auth.login(world[Role.TRAINER].email)
    page = client.get("/assessment/").get_data(as_text=True)
    assert "Parkstad 2026-2027" in page
    assert "Noël Çelik" in page
    assert "1 inzending wacht op jouw beoordeling." in page
    assert "Westelijke Mijnstreek 2026-2027" not in page
    assert "Bram van der Heijden" not in page


def test_employer_sees_own_employees_only(auth, client, world) -> None:
    auth.login(world[Role.EMPLOYER].email)
    page = client.get("/employer/").get_data(as_text=True)
    assert "Noël Çelik" in page
    assert "1 van 3 opdrachten goedgekeurd" in page
    assert "Bram van der Heijden" not in page


def test_a_big_employer_pages_through_its_employees(auth, client, db, world) -> None:
    contact = world[Role.EMPLOYER]
    cohort = make_cohort(make_programme(code="BIG", assignments=1), name="Heuvelland 2026-2027")
    for number in range(30):  # with Noël: 31 employees in the programme
        make_enrolment(
            cohort,
            make_user(Role.PARTICIPANT, first_name="Werknemer", last_name=f"Nr{number:02d}"),
            contact.employer,
        )
    db.session.commit()
    auth.login(contact.email)
    first = client.get("/employer/").get_data(as_text=True)
    second = client.get("/employer/?page=2").get_data(as_text=True)
    beyond = client.get("/employer/?page=99").get_data(as_text=True)
    assert (
        first.count('<h2 class="card__title">') == 25
        and second.count('<h2 class="card__title">') == 6
    )
    assert "Pagina 1 van 2 (31 in totaal)" in first and 'href="/employer/?page=2"' in first
    # Sorted by name across the pages: Noël Çelik first, the last employees on page two.
    assert "Noël Çelik" in first and "Werknemer Nr29" in second and "Werknemer Nr29" not in first
    # A page past the end shows the last one.
    names = re.compile(r'<h2 class="card__title">([^<]+)</h2>')
    assert names.findall(beyond) == names.findall(second)


def test_coordinator_sees_every_cohort_with_seats(auth, client, world) -> None:
    auth.login(world[Role.COORDINATOR].email)
    page = client.get("/cohorts/").get_data(as_text=True)
    assert "Parkstad 2026-2027" in page
    assert "Westelijke Mijnstreek 2026-2027" in page
    assert page.count("1 van 12") == 2
    assert "Ingrid Vaessen" in page


def test_home_pages_have_landmarks_and_navigation(auth, client, world) -> None:
    auth.login(world[Role.TRAINER].email)
    page = client.get("/assessment/").get_data(as_text=True)
    assert '<main id="main"' in page
    assert 'aria-current="page"' in page
    assert 'href="#main"' in page


def _issued_certificate(db):  # type: ignore[no-untyped-def]
    enrolment = make_eligible_enrolment()
    coordinator = make_user(Role.COORDINATOR)
    certificate = issue_certificate(enrolment, actor=coordinator, now=AT)
    db.session.commit()
    return certificate, coordinator


def test_participant_home_offers_the_certificate_once_issued(auth, client, db) -> None:
    certificate, _ = _issued_certificate(db)
    auth.login(certificate.enrolment.participant.email)
    page = client.get("/dashboard/participant").get_data(as_text=True)
    assert "Je certificaat is klaar" in page
    assert f"/certificates/{certificate.id}/download" in page
    assert f"/verify/{certificate.verification_code}" in page
    download = client.get(f"/certificates/{certificate.id}/download")
    assert download.status_code == 200
    assert download.data.startswith(b"%PDF")


def test_a_finished_participant_still_finds_the_certificate_at_home(auth, client, db) -> None:
    certificate, _ = _issued_certificate(db)
    certificate.enrolment.status = EnrolmentStatus.COMPLETED
    certificate.enrolment.ended_on = date(2027, 7, 2)
    db.session.commit()
    auth.login(certificate.enrolment.participant.email)
    page = client.get("/dashboard/participant").get_data(as_text=True)
    assert f"/certificates/{certificate.id}/download" in page
    assert "Je zit nog niet in een groep" not in page


def test_a_revoked_certificate_is_not_offered_at_home(auth, client, db) -> None:
    certificate, coordinator = _issued_certificate(db)
    revoke_certificate(certificate, actor=coordinator, reason="Verkeerde naam", now=AT)
    db.session.commit()
    auth.login(certificate.enrolment.participant.email)
    page = client.get("/dashboard/participant").get_data(as_text=True)
    assert "Je certificaat is klaar" not in page
    assert f"/certificates/{certificate.id}/download" not in page


def test_the_employer_home_lists_the_latest_certificates_and_each_on_its_holders_card(
    auth, client, db
) -> None:
    company = make_employer(name="Kerkrade Precisie")
    contact = make_user(Role.EMPLOYER, employer=company)
    coordinator = make_user(Role.COORDINATOR)
    cohort = None
    certificates = []
    for n in range(7):
        enrolment = make_eligible_enrolment(cohort, employer=company)
        cohort = enrolment.cohort
        certificates.append(
            issue_certificate(enrolment, actor=coordinator, now=AT + timedelta(hours=n))
        )
    revoke_certificate(certificates[0], actor=coordinator, reason="Verkeerde naam", now=AT)
    db.session.commit()
    auth.login(contact.email)
    page = client.get("/dashboard/employer").get_data(as_text=True)
    listed = page[page.index('id="certificates-title"') :]
    cards = page[: page.index('id="certificates-title"')]
    newest_first = [c for c in reversed(certificates[1:])]
    for certificate in newest_first[: dashboards.CERTIFICATES_ON_HOME]:
        assert certificate.number in listed
    for certificate in newest_first[dashboards.CERTIFICATES_ON_HOME :]:
        assert certificate.number not in listed
    assert "En nog 1. Elk certificaat staat ook bij de werknemer onder Mijn werknemers." in listed
    # Each valid certificate is on its holder's card; the revoked one nowhere.
    for certificate in certificates[1:]:
        assert f'href="/certificates/{certificate.id}/download">Certificaat (pdf)' in cards
    assert f"/certificates/{certificates[0].id}/download" not in page


def test_participant_home_says_what_to_do_now_with_links_to_the_work_and_the_review(
    auth, client, db, world
) -> None:
    """Work that came back reads "Verbeter A2" and opens that assignment; "Lezen en bevestigen" opens
    the review itself (the oldest one waiting), not the list."""
    from lms.models import ProgressReview, Verdict
    from lms.services.assessment import assess_submission

    participant = world[Role.PARTICIPANT]
    submission = db.session.scalar(
        sa.select(Submission).where(Submission.status == SubmissionStatus.SUBMITTED)
    )
    at = datetime(2026, 9, 25, 10, tzinfo=clock.LOCAL_TZ)
    assess_submission(
        submission,
        actor=world[Role.TRAINER],
        verdict=Verdict.NEEDS_REVISION,
        feedback="Meet de boring opnieuw.",
        at=at,
    )
    enrolment = submission.enrolment
    older, newer = (
        ProgressReview(
            enrolment=enrolment, trainer=world[Role.TRAINER], held_on=held_on, summary="Goed bezig."
        )
        for held_on in (date(2026, 9, 22), date(2026, 9, 24))
    )
    db.session.add_all([older, newer])
    db.session.commit()

    auth.login(participant.email)
    page = client.get("/dashboard/participant").get_data(as_text=True)

    code = submission.assignment.code
    assert f'href="/portfolio/assignments/{code}" data-revise="{code}">Verbeter {code}</a>' in page
    assert f'href="/reviews/{older.id}" data-review="{older.id}">Lezen en bevestigen</a>' in page
    assert 'href="/reviews/?open=1"' not in page.split("ack-title", 1)[1].split("</section>", 1)[0]
    assert client.get(f"/reviews/{older.id}").status_code == 200

    # Once improved and handed in again, the call to action is gone.
    submission = db.session.get(Submission, submission.id)
    submission.start_revision(at)
    submission.submit(at)
    db.session.commit()
    page = client.get("/dashboard/participant").get_data(as_text=True)
    assert f"Verbeter {code}" not in page
