"""Workplace confirmation: an employer's contact confirms their own employees' work, once; the trainer
sees it; another company's contact never sees it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import Attempt, AuditEvent, Role, Submission, Verdict, WorkplaceConfirmation
from lms.services import assessment, workplace
from lms.services.workplace import AlreadyConfirmed, WorkplaceError
from tests.factories import (
    make_cohort,
    make_employer,
    make_enrolment,
    make_handed_in_submission,
    make_programme,
    make_user,
)

MONDAY = datetime(2026, 10, 5, 9, tzinfo=clock.LOCAL_TZ)


@pytest.fixture
def world(db):
    """Kerkrade Precisie employs Noël; Sittard Assemblage employs Bram; both in Ingrid's cohort.
    A1 and A2 need a workplace confirmation, A3 does not."""
    programme = make_programme(assignments=3)
    a1, a2, a3 = programme.assignments
    a1.requires_workplace_confirmation = True
    a2.requires_workplace_confirmation = True
    trainer = make_user(Role.TRAINER, first_name="Ingrid", last_name="Vaessen")
    cohort = make_cohort(programme, name="Parkstad 2026-2027", trainers=[trainer])
    company = make_employer(name="Kerkrade Precisie B.V.")
    other_company = make_employer(name="Sittard Assemblage B.V.")
    contact = make_user(Role.EMPLOYER, employer=company, first_name="Petra", last_name="Janssen")
    other_contact = make_user(
        Role.EMPLOYER, employer=other_company, first_name="Karel", last_name="Dassen"
    )
    noel_in = make_enrolment(
        cohort, make_user(Role.PARTICIPANT, first_name="Noël", last_name="Çelik"), company
    )
    bram_in = make_enrolment(
        cohort, make_user(Role.PARTICIPANT, first_name="Bram", last_name="Heijden"), other_company
    )
    # Made newest first, so that ids do not give the order of hand-in.
    noel_a2 = make_handed_in_submission(noel_in, a2, at=MONDAY - timedelta(days=1))
    noel_a1 = make_handed_in_submission(
        noel_in, a1, at=MONDAY - timedelta(days=3), what_i_did="Ik heb de kolomboor ingesteld."
    )
    noel_a3 = make_handed_in_submission(noel_in, a3, at=MONDAY)  # needs no confirmation
    bram_a1 = make_handed_in_submission(bram_in, a1, at=MONDAY - timedelta(days=5))
    db.session.commit()
    return {
        "trainer": trainer,
        "contact": contact,
        "other_contact": other_contact,
        "noel_in": noel_in,
        "noel_a1": noel_a1,
        "noel_a2": noel_a2,
        "noel_a3": noel_a3,
        "bram_a1": bram_a1,
    }


def confirmations(db):  # type: ignore[no-untyped-def]
    return db.session.scalars(
        sa.select(WorkplaceConfirmation).order_by(WorkplaceConfirmation.id)
    ).all()


# --- the rules --------------------------------------------------------------------------------


def test_the_list_holds_own_employees_handed_in_work_that_needs_a_confirmation(db, world) -> None:
    waiting = db.session.scalars(workplace.awaiting_confirmation_query(world["contact"])).all()
    assert waiting == [world["noel_a1"], world["noel_a2"]]  # oldest first; not A3, not Bram's
    assert workplace.awaiting_confirmation_count(world["contact"]) == 2
    assert db.session.scalars(
        workplace.awaiting_confirmation_query(world["other_contact"])
    ).all() == [world["bram_a1"]]


def test_approved_work_still_waits_but_drafts_and_revisions_do_not(db, world) -> None:
    assessment.assess_submission(
        world["noel_a1"], actor=world["trainer"], verdict=Verdict.APPROVED, feedback="", at=MONDAY
    )
    assessment.assess_submission(
        world["noel_a2"],
        actor=world["trainer"],
        verdict=Verdict.NEEDS_REVISION,
        feedback="Meer.",
        at=MONDAY,
    )
    assert db.session.scalars(workplace.awaiting_confirmation_query(world["contact"])).all() == [
        world["noel_a1"]
    ]


def test_confirming_records_who_when_which_attempt_and_an_audit_event(db, world) -> None:
    submission = world["noel_a1"]
    confirmation = workplace.confirm_workplace(
        submission, actor=world["contact"], remark="  Zelfstandig gedaan.  ", at=MONDAY
    )
    db.session.commit()
    assert confirmation.submission == submission
    assert confirmation.attempt_id == submission.attempts[0].id
    assert confirmation.confirmed_by == world["contact"]
    assert confirmation.confirmed_at == MONDAY
    assert confirmation.remark == "Zelfstandig gedaan."
    event = db.session.scalar(sa.select(AuditEvent))
    assert (event.action, event.subject_type, event.subject_id) == (
        "submission.workplace_confirm",
        "Submission",
        submission.id,
    )
    assert workplace.awaiting_confirmation_count(world["contact"]) == 1


def test_confirming_twice_is_refused(db, world) -> None:
    workplace.confirm_workplace(world["noel_a1"], actor=world["contact"], remark="", at=MONDAY)
    with pytest.raises(AlreadyConfirmed, match="Petra Janssen"):
        workplace.confirm_workplace(world["noel_a1"], actor=world["contact"], remark="", at=MONDAY)
    assert len(confirmations(db)) == 1


def test_only_the_employers_contact_confirms(db, world) -> None:
    for outsider in (world["other_contact"], world["trainer"], world["noel_in"].participant):
        with pytest.raises(WorkplaceError):
            workplace.confirm_workplace(world["noel_a1"], actor=outsider, remark="", at=MONDAY)
    assert confirmations(db) == []


def test_work_that_needs_no_confirmation_or_is_not_handed_in_is_refused(db, world) -> None:
    with pytest.raises(WorkplaceError):
        workplace.confirm_workplace(world["noel_a3"], actor=world["contact"], remark="", at=MONDAY)
    colleague = make_enrolment(world["noel_in"].cohort, employer=world["noel_in"].employer)
    draft = Submission(
        enrolment=colleague, assignment=world["noel_a1"].assignment, attempts=[Attempt(number=1)]
    )
    db.session.add(draft)
    db.session.flush()
    with pytest.raises(WorkplaceError, match="nog niet ingeleverd"):
        workplace.confirm_workplace(draft, actor=world["contact"], remark="", at=MONDAY)
    assert confirmations(db) == []


# --- the employer's pages ---------------------------------------------------------------------


def test_employer_home_and_list_show_what_waits_for_confirmation(auth, client, world) -> None:
    auth.login(world["contact"].email)
    home = client.get("/employer/").get_data(as_text=True)
    assert "2 opdrachten wachten op jouw bevestiging" in home
    assert f"/employer/confirmations/{world['noel_a1'].id}" in home
    listing = client.get("/employer/confirmations").get_data(as_text=True)
    assert listing.index(f"/employer/confirmations/{world['noel_a1'].id}") < listing.index(
        f"/employer/confirmations/{world['noel_a2'].id}"
    )
    assert "Noël Çelik" in listing
    assert "Bram" not in listing and "Bram" not in home
    assert f"/employer/confirmations/{world['noel_a3'].id}" not in listing


def test_employer_confirms_own_employees_work(auth, client, db, world) -> None:
    auth.login(world["contact"].email)
    path = f"/employer/confirmations/{world['noel_a1'].id}"
    page = client.get(path).get_data(as_text=True)
    assert "Ik heb de kolomboor ingesteld." in page  # the reflection
    assert "Bevestigen: gedaan op onze werkplek" in page
    response = auth.post(path, {"remark": "Heeft dit zelfstandig gedaan."})
    assert response.status_code == 302
    assert response.headers["Location"] == "/employer/confirmations"
    listing = client.get("/employer/confirmations").get_data(as_text=True)
    assert "Dank je. Je hebt bevestigd dat Noël Çelik A1 op jouw werkplek heeft gedaan." in listing
    assert f"/employer/confirmations/{world['noel_a1'].id}" not in listing
    db.session.expire_all()
    [confirmation] = confirmations(db)
    assert confirmation.remark == "Heeft dit zelfstandig gedaan."
    assert confirmation.confirmed_by_id == world["contact"].id


def test_confirming_twice_through_the_page_is_refused_politely(auth, client, db, world) -> None:
    auth.login(world["contact"].email)
    path = f"/employer/confirmations/{world['noel_a1'].id}"
    auth.post(path, {"remark": ""})
    response = auth.post(path, {"remark": "Nog een keer"}, follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Dit werk is al bevestigd door Petra Janssen." in page
    assert "Al bevestigd door Petra Janssen" in page
    assert "Bevestigen: gedaan op onze werkplek" not in page  # no second form
    assert len(confirmations(db)) == 1


def test_a_long_remark_is_refused_and_kept(auth, client, db, world) -> None:
    auth.login(world["contact"].email)
    remark = "Goed gedaan. " * 100
    response = auth.post(f"/employer/confirmations/{world['noel_a1'].id}", {"remark": remark})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Houd de opmerking korter dan 1000 tekens." in page
    assert "Goed gedaan. Goed gedaan." in page
    assert confirmations(db) == []


def test_another_companys_contact_gets_not_found(auth, client, db, world) -> None:
    auth.login(world["other_contact"].email)
    path = f"/employer/confirmations/{world['noel_a1'].id}"
    assert client.get(path).status_code == 404
    assert auth.post(path, {"remark": "Hack"}).status_code == 404
    assert client.get(f"/employer/confirmations/{world['noel_a3'].id}").status_code == 404
    assert client.get("/employer/confirmations/999999").status_code == 404
    assert confirmations(db) == []


def test_work_that_needs_no_confirmation_is_not_found(auth, client, world) -> None:
    auth.login(world["contact"].email)
    assert client.get(f"/employer/confirmations/{world['noel_a3'].id}").status_code == 404


@pytest.mark.parametrize("role", [Role.TRAINER, Role.PARTICIPANT, Role.COORDINATOR])
def test_confirmation_pages_are_for_employer_contacts_only(auth, client, db, world, role) -> None:
    user = {Role.TRAINER: world["trainer"], Role.PARTICIPANT: world["noel_in"].participant}.get(
        role
    ) or make_user(role)
    db.session.commit()
    auth.login(user.email)
    assert client.get("/employer/confirmations").status_code == 403
    assert client.get(f"/employer/confirmations/{world['noel_a1'].id}").status_code == 404
    assert auth.post(f"/employer/confirmations/{world['noel_a1'].id}", {}).status_code == 404


def test_empty_list_says_what_happens_next(auth, client, db) -> None:
    contact = make_user(Role.EMPLOYER)
    db.session.commit()
    auth.login(contact.email)
    assert "Niets te bevestigen" in client.get("/employer/confirmations").get_data(as_text=True)


# --- the trainer sees it ----------------------------------------------------------------------


def test_the_trainer_sees_the_confirmation_in_the_queue_and_on_the_assessment_page(
    auth, client, db, world
) -> None:
    workplace.confirm_workplace(
        world["noel_a1"], actor=world["contact"], remark="Prima gewerkt.", at=MONDAY
    )
    db.session.commit()
    auth.login(world["trainer"].email)
    queue = client.get("/assessment/queue").get_data(as_text=True)
    assert queue.count("Praktijkopleider heeft bevestigd") == 1  # Noël's A1
    assert queue.count("Praktijkopleider heeft nog niet bevestigd") == 2  # Noël's A2, Bram's A1
    page = client.get(f"/assessment/submissions/{world['noel_a1'].id}").get_data(as_text=True)
    assert "Petra Janssen heeft op 5 okt 2026 09:00 bevestigd" in page
    assert "Prima gewerkt." in page
    assert "(poging 1)" in page
    other = client.get(f"/assessment/submissions/{world['noel_a2'].id}").get_data(as_text=True)
    assert "Kerkrade Precisie B.V. heeft nog niet bevestigd" in other


def test_the_employer_sees_the_evidence_of_the_work_to_confirm(auth, client, db, world) -> None:
    from lms.models import EvidenceFile, EvidenceKind

    submission = world["noel_a1"]
    evidence = EvidenceFile(
        attempt=submission.attempts[0],
        kind=EvidenceKind.PDF,
        storage_key="test/kolomboor.pdf",
        original_name="kolomboor.pdf",
        content_type="application/pdf",
        size_bytes=4096,
        sha256="0" * 64,
        uploaded_by=submission.enrolment.participant,
    )
    db.session.add(evidence)
    db.session.commit()
    auth.login(world["contact"].email)
    page = client.get(f"/employer/confirmations/{submission.id}").get_data(as_text=True)
    assert "kolomboor.pdf" in page
    assert f'href="/portfolio/evidence/{evidence.id}"' in page


# --- not carried out at the workplace (issue 18) ----------------------------------------------

DENIAL = "Dit werk is bij ons niet gedaan; de kolomboor staat in de hal van de school."


def test_the_contact_says_work_was_not_carried_out_and_both_are_told(db, world) -> None:
    from lms.models import Notification, OutboxMessage

    submission = world["noel_a1"]
    with pytest.raises(WorkplaceError, match="Zeg wat er niet"):
        workplace.deny_workplace(submission, actor=world["contact"], remark="  ", at=MONDAY)
    with pytest.raises(WorkplaceError):
        workplace.deny_workplace(submission, actor=world["other_contact"], remark=DENIAL, at=MONDAY)
    denial = workplace.deny_workplace(submission, actor=world["contact"], remark=DENIAL, at=MONDAY)
    assert (denial.carried_out, denial.remark) == (False, DENIAL)
    assert submission.workplace_denial is denial and submission.workplace_confirmation is None
    # Answered: no longer in the contact's list.
    assert db.session.scalars(workplace.awaiting_confirmation_query(world["contact"])).all() == [
        world["noel_a2"]
    ]
    # Said twice: one record, told once.
    assert (
        workplace.deny_workplace(submission, actor=world["contact"], remark=DENIAL, at=MONDAY)
        is denial
    )
    assert len(confirmations(db)) == 1
    told = db.session.execute(
        sa.select(Notification.user_id, Notification.kind).order_by(Notification.id)
    ).all()
    noel = world["noel_in"].participant
    assert told == [
        (noel.id, "workplace_not_carried_out"),
        (world["trainer"].id, "workplace_not_carried_out_trainer"),
    ]
    mails = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [mail.recipient for mail in mails] == [noel.email, world["trainer"].email]
    assert all(DENIAL in mail.body_text for mail in mails)
    assert db.session.scalar(
        sa.select(AuditEvent.action).where(AuditEvent.action == "submission.workplace_deny")
    )
    # The other answer on the same hand-in is refused, with who said what.
    with pytest.raises(workplace.AlreadyDenied, match="Petra Janssen"):
        workplace.confirm_workplace(submission, actor=world["contact"], remark="", at=MONDAY)


def test_a_confirmed_work_cannot_be_denied_and_a_revision_is_asked_about_again(db, world) -> None:
    workplace.confirm_workplace(world["noel_a2"], actor=world["contact"], remark="", at=MONDAY)
    with pytest.raises(AlreadyConfirmed):
        workplace.deny_workplace(world["noel_a2"], actor=world["contact"], remark=DENIAL, at=MONDAY)

    submission = world["noel_a1"]
    workplace.deny_workplace(submission, actor=world["contact"], remark=DENIAL, at=MONDAY)
    assessment.assess_submission(
        submission,
        actor=world["trainer"],
        verdict=Verdict.NEEDS_REVISION,
        feedback="Doe het op je werkplek.",
        at=MONDAY + timedelta(hours=1),
    )
    submission.start_revision(MONDAY + timedelta(days=1))
    submission.submit(MONDAY + timedelta(days=2))
    db.session.flush()
    assert submission.workplace_answer_pending
    assert (
        world["noel_a1"]
        in db.session.scalars(workplace.awaiting_confirmation_query(world["contact"])).all()
    )
    confirmation = workplace.confirm_workplace(
        submission, actor=world["contact"], remark="Nu wel.", at=MONDAY + timedelta(days=3)
    )
    assert confirmation.carried_out and submission.workplace_denial is None


def test_the_page_needs_a_remark_and_keeps_what_was_typed(auth, client, db, world) -> None:
    submission_id = world["noel_a1"].id
    auth.login(world["contact"].email)
    page = client.get(f"/employer/confirmations/{submission_id}").get_data(as_text=True)
    assert "Niet uitgevoerd op onze werkplek" in page
    page = auth.post(
        f"/employer/confirmations/{submission_id}", {"deny": "1", "reason": "  "}
    ).get_data(as_text=True)
    assert "Zeg wat er niet op je werkplek is gedaan" in page
    assert not confirmations(db)
    long = "x" * 1001
    page = auth.post(
        f"/employer/confirmations/{submission_id}", {"deny": "1", "reason": long, "remark": ""}
    ).get_data(as_text=True)
    assert long in page and not confirmations(db)

    for _repeat in range(2):  # a second click gets the same answer
        response = auth.post(
            f"/employer/confirmations/{submission_id}",
            {"deny": "1", "reason": DENIAL},
            follow_redirects=True,
        )
        assert "weten nu dat A1 niet op je werkplek is uitgevoerd" in response.get_data(
            as_text=True
        )
    assert [row.carried_out for row in confirmations(db)] == [False]
    page = client.get(f"/employer/confirmations/{submission_id}").get_data(as_text=True)
    assert f"Niet op de werkplek uitgevoerd volgens Petra Janssen: {DENIAL}" in page
    auth.logout()

    auth.login(world["trainer"].email)
    page = client.get(f"/assessment/submissions/{submission_id}").get_data(as_text=True)
    assert f"Niet op de werkplek uitgevoerd volgens Petra Janssen: {DENIAL}" in page
    # Above the work, so the trainer reads it before judging.
    assert page.index("Niet op de werkplek uitgevoerd") < page.index('id="attempt-title"')
    assert "Niet op de werkplek uitgevoerd</span>" in client.get("/assessment/queue").get_data(
        as_text=True
    )
    auth.logout()

    noel = world["noel_in"].participant
    auth.login(noel.email)
    code = world["noel_a1"].assignment.code
    page = client.get(f"/portfolio/assignments/{code}").get_data(as_text=True)
    assert f"Niet op de werkplek uitgevoerd volgens Petra Janssen: {DENIAL}" in page
