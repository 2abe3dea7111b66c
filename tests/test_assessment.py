"""Assessment: the trainer's queue, the verdict, corrections that never overwrite, and who may assess."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import (
    Assessment,
    Attempt,
    AuditEvent,
    EnrolmentStatus,
    Notification,
    OutboxMessage,
    Role,
    Submission,
    SubmissionStatus,
    Verdict,
    WorkplaceConfirmation,
)
from lms.services import assessment as service
from lms.services.assessment import AssessmentError
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
    """Trainer Ingrid's cohort with two participants, and another trainer's cohort with one."""
    programme = make_programme(assignments=3)
    a1, a2, a3 = programme.assignments
    a1.requires_workplace_confirmation = True
    trainer = make_user(Role.TRAINER, first_name="Ingrid", last_name="Vaessen")
    other_trainer = make_user(Role.TRAINER, first_name="Ruud", last_name="Hendriks")
    cohort = make_cohort(programme, name="Parkstad 2026-2027", trainers=[trainer])
    other_cohort = make_cohort(
        programme, name="Westelijke Mijnstreek 2026-2027", trainers=[other_trainer]
    )
    company = make_employer(name="Kerkrade Precisie B.V.")
    noel = make_user(Role.PARTICIPANT, first_name="Noël", last_name="Çelik")
    sam = make_user(Role.PARTICIPANT, first_name="Sam", last_name="Smith", locale="en")
    bram = make_user(
        Role.PARTICIPANT, first_name="Bram", name_prefix="van der", last_name="Heijden"
    )
    noel_in = make_enrolment(cohort, noel, company)
    sam_in = make_enrolment(cohort, sam, company)
    bram_in = make_enrolment(other_cohort, bram, make_employer())
    # Handed in: Sam's A2 first, then Noël's A1 (made in the other order, so ids do not sort them);
    # Bram's A1 is for the other trainer.
    noel_a1 = make_handed_in_submission(noel_in, a1, at=MONDAY - timedelta(days=2))
    sam_a2 = make_handed_in_submission(sam_in, a2, at=MONDAY - timedelta(days=6))
    bram_a1 = make_handed_in_submission(bram_in, a1, at=MONDAY - timedelta(days=9))
    db.session.commit()
    return {
        "trainer": trainer,
        "other_trainer": other_trainer,
        "noel": noel,
        "sam": sam,
        "noel_a1": noel_a1,
        "sam_a2": sam_a2,
        "bram_a1": bram_a1,
        "a3": a3,
        "noel_in": noel_in,
        "company": company,
    }


def rows(db, model):  # type: ignore[no-untyped-def]
    return db.session.scalars(sa.select(model).order_by(model.id)).all()


# --- the queue (service) ----------------------------------------------------------------------


def test_queue_holds_own_cohorts_submitted_work_oldest_first(db, world) -> None:
    queue = db.session.scalars(service.queue_query(world["trainer"])).all()
    assert queue == [world["sam_a2"], world["noel_a1"]]
    assert service.queue_count(world["trainer"]) == 2
    assert db.session.scalars(service.queue_query(world["other_trainer"])).all() == [
        world["bram_a1"]
    ]


def test_queue_leaves_out_drafts_assessed_work_and_withdrawn_participants(db, world) -> None:
    draft = Submission(
        enrolment=world["noel_in"], assignment=world["a3"], attempts=[Attempt(number=1)]
    )
    db.session.add(draft)
    service.assess_submission(
        world["noel_a1"], actor=world["trainer"], verdict=Verdict.APPROVED, feedback="", at=MONDAY
    )
    sam_in = world["sam_a2"].enrolment
    sam_in.status, sam_in.ended_on = EnrolmentStatus.WITHDRAWN, MONDAY.date()
    db.session.flush()
    assert db.session.scalars(service.queue_query(world["trainer"])).all() == []
    assert service.queue_count(world["trainer"]) == 0


# --- the verdict (service) --------------------------------------------------------------------


def test_approving_records_the_assessment_and_tells_the_participant_in_dutch(db, world) -> None:
    submission = world["noel_a1"]
    assessment = service.assess_submission(
        submission,
        actor=world["trainer"],
        verdict=Verdict.APPROVED,
        feedback="  Mooi gemeten.  ",
        at=MONDAY,
    )
    db.session.commit()
    assert submission.status is SubmissionStatus.APPROVED
    assert submission.approved_at == MONDAY
    assert assessment.attempt is submission.attempts[0]
    assert assessment.feedback == "Mooi gemeten."
    assert assessment.assessor == world["trainer"]

    notification = db.session.scalar(sa.select(Notification))
    assert notification.user == world["noel"]
    assert notification.kind == "assessment_approved"
    assert notification.params["code"] == "A1"
    assert notification.link == "/portfolio/assignments/A1"

    mail = db.session.scalar(sa.select(OutboxMessage))
    assert mail.recipient == world["noel"].email
    assert mail.subject == "Je opdracht A1 is goedgekeurd"
    assert "Hallo Noël," in mail.body_text
    assert "Ingrid Vaessen heeft je opdracht A1 Opdracht 1 beoordeeld." in mail.body_text
    assert "Oordeel: Goedgekeurd" in mail.body_text
    assert "Mooi gemeten." in mail.body_text and "Mooi gemeten." in mail.body_html
    assert "http://127.0.0.1:5000/portfolio/assignments/A1" in mail.body_text
    assert db.session.scalar(sa.select(AuditEvent.action)) == "submission.assess"


def test_needs_revision_mail_is_in_the_participants_language(db, world) -> None:
    service.assess_submission(
        world["sam_a2"],
        actor=world["trainer"],
        verdict=Verdict.NEEDS_REVISION,
        feedback="Add a photo of the torque wrench setting.",
        at=MONDAY,
    )
    assert world["sam_a2"].status is SubmissionStatus.NEEDS_REVISION
    assert world["sam_a2"].approved_at is None
    mail = db.session.scalar(sa.select(OutboxMessage))
    assert mail.subject == "Your assignment A2 needs revision"
    assert "Hello Sam," in mail.body_text
    assert "Verdict: Needs revision" in mail.body_text
    assert "Improve your work with the feedback and hand it in again." in mail.body_text
    assert db.session.scalar(sa.select(Notification.kind)) == "assessment_needs_revision"


def test_needs_revision_requires_feedback(db, world) -> None:
    with pytest.raises(AssessmentError, match="feedback is verplicht"):
        service.assess_submission(
            world["sam_a2"],
            actor=world["trainer"],
            verdict=Verdict.NEEDS_REVISION,
            feedback="  ",
            at=MONDAY,
        )
    assert world["sam_a2"].status is SubmissionStatus.SUBMITTED
    assert rows(db, Assessment) == []


def test_only_a_trainer_of_the_cohort_assesses(db, world) -> None:
    for outsider in (world["other_trainer"], world["noel"], make_user(Role.COORDINATOR)):
        with pytest.raises(AssessmentError):
            service.assess_submission(
                world["noel_a1"], actor=outsider, verdict=Verdict.APPROVED, feedback="", at=MONDAY
            )
    assert rows(db, Assessment) == []


def test_work_is_assessed_once(db, world) -> None:
    kwargs = {"actor": world["trainer"], "verdict": Verdict.APPROVED, "feedback": "", "at": MONDAY}
    service.assess_submission(world["noel_a1"], **kwargs)
    with pytest.raises(AssessmentError, match="wacht niet"):
        service.assess_submission(world["noel_a1"], **kwargs)
    assert len(rows(db, Assessment)) == 1


# --- corrections (service) --------------------------------------------------------------------


def test_a_correction_adds_an_assessment_and_leaves_the_first_unchanged(db, world) -> None:
    submission = world["noel_a1"]
    first = service.assess_submission(
        submission, actor=world["trainer"], verdict=Verdict.APPROVED, feedback="Goed.", at=MONDAY
    )
    db.session.commit()
    before = (
        first.id,
        first.verdict,
        first.feedback,
        first.created_at,
        first.assessor_id,
        first.attempt_id,
    )

    later = MONDAY + timedelta(hours=2)
    correction = service.correct_assessment(
        submission,
        actor=world["trainer"],
        verdict=Verdict.NEEDS_REVISION,
        feedback="Sorry, de foto van de meting ontbreekt nog.",
        at=later,
    )
    db.session.commit()
    db.session.expire_all()

    assessments = rows(db, Assessment)
    assert [a.id for a in assessments] == [first.id, correction.id]
    kept = assessments[0]
    assert (
        kept.id,
        kept.verdict,
        kept.feedback,
        kept.created_at,
        kept.assessor_id,
        kept.attempt_id,
    ) == before
    assert assessments[1].verdict is Verdict.NEEDS_REVISION
    assert assessments[1].attempt_id == first.attempt_id
    submission = db.session.get(Submission, submission.id)
    assert submission.status is SubmissionStatus.NEEDS_REVISION
    assert submission.approved_at is None
    kinds = db.session.scalars(sa.select(Notification.kind).order_by(Notification.id)).all()
    assert kinds == ["assessment_approved", "assessment_corrected"]
    subjects = db.session.scalars(sa.select(OutboxMessage.subject).order_by(OutboxMessage.id)).all()
    assert subjects[-1] == "De beoordeling van je opdracht A1 is gecorrigeerd"
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["submission.assess", "submission.assessment_correct"]


def test_a_correction_needs_an_explanation(db, world) -> None:
    service.assess_submission(
        world["noel_a1"], actor=world["trainer"], verdict=Verdict.APPROVED, feedback="", at=MONDAY
    )
    with pytest.raises(AssessmentError, match="uit waarom"):
        service.correct_assessment(
            world["noel_a1"],
            actor=world["trainer"],
            verdict=Verdict.NEEDS_REVISION,
            feedback="",
            at=MONDAY,
        )
    assert len(rows(db, Assessment)) == 1


def test_nothing_to_correct_before_a_verdict(db, world) -> None:
    with pytest.raises(AssessmentError):
        service.correct_assessment(
            world["noel_a1"],
            actor=world["trainer"],
            verdict=Verdict.APPROVED,
            feedback="Toch goed.",
            at=MONDAY,
        )


def test_no_correction_once_a_new_attempt_is_handed_in(db, world) -> None:
    submission = world["sam_a2"]
    service.assess_submission(
        submission,
        actor=world["trainer"],
        verdict=Verdict.NEEDS_REVISION,
        feedback="Meer foto's.",
        at=MONDAY,
    )
    # The participant starts a second attempt: approving the first is no longer possible.
    submission.attempts.append(Attempt(number=2, what_i_did="Opnieuw"))
    db.session.flush()
    assert submission.correctable_attempt() is submission.attempts[0]
    with pytest.raises(AssessmentError, match="nieuwe poging begonnen"):
        service.correct_assessment(
            submission,
            actor=world["trainer"],
            verdict=Verdict.APPROVED,
            feedback="Toch goed.",
            at=MONDAY,
        )
    # ... and once it is handed in, the first verdict cannot be corrected at all.
    submission.submit(MONDAY + timedelta(days=1))
    assert submission.correctable_attempt() is None
    with pytest.raises(AssessmentError, match="niet meer"):
        service.correct_assessment(
            submission,
            actor=world["trainer"],
            verdict=Verdict.NEEDS_REVISION,
            feedback="Nog iets.",
            at=MONDAY,
        )
    assert len(rows(db, Assessment)) == 1


def test_a_trainer_of_another_cohort_cannot_correct(db, world) -> None:
    service.assess_submission(
        world["noel_a1"], actor=world["trainer"], verdict=Verdict.APPROVED, feedback="", at=MONDAY
    )
    with pytest.raises(AssessmentError):
        service.correct_assessment(
            world["noel_a1"],
            actor=world["other_trainer"],
            verdict=Verdict.NEEDS_REVISION,
            feedback="Nee.",
            at=MONDAY,
        )


# --- the queue page ---------------------------------------------------------------------------


def test_queue_page_shows_own_cohorts_oldest_first(auth, client, world) -> None:
    auth.login(world["trainer"].email)
    with clock.frozen_at(MONDAY.replace(tzinfo=None)):
        page = client.get("/assessment/queue").get_data(as_text=True)
    assert "2 inzendingen wachten op jouw beoordeling" in page
    assert page.index("Sam Smith") < page.index("Noël Çelik")
    assert "wacht 6 dagen" in page and "wacht 2 dagen" in page
    assert "Bram van der Heijden" not in page
    assert "Westelijke Mijnstreek" not in page
    # A1 asks for a workplace confirmation that has not come yet; A2 does not ask for one.
    assert page.count("Praktijkopleider heeft nog niet bevestigd") == 1
    assert f"/assessment/submissions/{world['sam_a2'].id}" in page  # the oldest is offered first
    assert "Beoordeel de oudste: A2 van Sam Smith" in page


def test_queue_count_is_in_the_trainers_navigation_on_every_page(auth, client, world) -> None:
    auth.login(world["trainer"].email)
    for path in ("/assessment/", "/assessment/queue", "/profile"):
        assert "Beoordelen (2)" in client.get(path).get_data(as_text=True), path
    auth.logout()
    auth.login(world["other_trainer"].email)
    assert "Beoordelen (1)" in client.get("/assessment/").get_data(as_text=True)


def test_empty_queue_says_what_happens_next(auth, client, db) -> None:
    trainer = make_user(Role.TRAINER)
    db.session.commit()
    auth.login(trainer.email)
    page = client.get("/assessment/queue").get_data(as_text=True)
    assert "Er wacht niets op je" in page
    assert ">Beoordelen<" in page  # no count when nothing waits


def test_queue_is_only_for_trainers(auth, client, world) -> None:
    auth.login(world["noel"].email)
    assert client.get("/assessment/queue").status_code == 403
    auth.logout()
    assert client.get("/assessment/queue").status_code == 302  # to the login page


def test_queue_page_costs_the_same_queries_for_2_or_10_items(
    auth, client, db, world, count_queries
) -> None:
    auth.login(world["trainer"].email)
    client.get("/assessment/queue")  # warm up
    with count_queries() as few:
        assert client.get("/assessment/queue").status_code == 200
    programme = world["noel_a1"].assignment.programme
    cohort = world["noel_in"].cohort
    contact = make_user(Role.EMPLOYER, employer=world["company"])
    for number in range(8):
        enrolment = make_enrolment(cohort, employer=world["company"])
        submission = make_handed_in_submission(
            enrolment, programme.assignments[number % 3], at=MONDAY
        )
        db.session.add(
            WorkplaceConfirmation(submission=submission, confirmed_by=contact, remark="Klopt.")
        )
    db.session.commit()
    with count_queries() as many:
        page = client.get("/assessment/queue").get_data(as_text=True)
    assert "10 inzendingen" in page
    assert many.count == few.count, many.statements


# --- the assessment page ----------------------------------------------------------------------


def test_assessment_page_shows_the_work_the_assignment_and_the_missing_confirmation(
    auth, client, world
) -> None:
    auth.login(world["trainer"].email)
    page = client.get(f"/assessment/submissions/{world['noel_a1'].id}").get_data(as_text=True)
    assert "Noël Çelik" in page
    assert "Ik heb de machine volgens de instructie ingesteld." in page  # the reflection
    assert "Doe het werk en laat zien wat je deed." in page  # the instructions
    assert "T01" in page and "Draagt juiste PBM" in page and "D1" in page  # linked competencies
    assert "Kerkrade Precisie B.V. heeft nog niet bevestigd" in page
    assert "<title>A1 beoordelen · Noël Çelik · " in page
    assert page.count('name="verdict"') == 2 and page.count('name="feedback"') == 1  # one form


def test_approve_through_the_page_then_back_to_the_queue_with_the_next(
    auth, client, db, world
) -> None:
    auth.login(world["trainer"].email)
    response = auth.post(
        f"/assessment/submissions/{world['sam_a2'].id}",
        {"verdict": "approved", "feedback": "Netjes!"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/assessment/queue"
    page = client.get("/assessment/queue").get_data(as_text=True)
    assert "Goedgekeurd. Sam Smith krijgt een bericht met je feedback." in page
    assert "Beoordeel de oudste: A1 van Noël Çelik" in page
    assert "Beoordelen (1)" in page
    db.session.expire_all()
    submission = db.session.get(Submission, world["sam_a2"].id)
    assert submission.status is SubmissionStatus.APPROVED
    assert [(a.verdict, a.feedback) for a in submission.attempts[0].assessments] == [
        (Verdict.APPROVED, "Netjes!")
    ]
    assert db.session.scalar(sa.select(OutboxMessage.subject)) == "Your assignment A2 is approved"


def test_approving_without_feedback_is_allowed(auth, client, db, world) -> None:
    auth.login(world["trainer"].email)
    response = auth.post(f"/assessment/submissions/{world['sam_a2'].id}", {"verdict": "approved"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Submission, world["sam_a2"].id).status is SubmissionStatus.APPROVED


def test_needs_revision_without_feedback_is_refused_and_the_choice_kept(
    auth, client, db, world
) -> None:
    auth.login(world["trainer"].email)
    response = auth.post(
        f"/assessment/submissions/{world['sam_a2'].id}",
        {"verdict": "needs_revision", "feedback": " "},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Schrijf wat de deelnemer moet verbeteren." in page
    assert 'aria-invalid="true"' in page
    assert '<input checked id="verdict-1" name="verdict"' in page  # the choice is kept
    db.session.expire_all()
    assert db.session.get(Submission, world["sam_a2"].id).status is SubmissionStatus.SUBMITTED
    assert rows(db, Assessment) == []


def test_a_refused_form_keeps_the_typed_feedback(auth, client, db, world) -> None:
    auth.login(world["trainer"].email)
    response = auth.post(
        f"/assessment/submissions/{world['sam_a2'].id}",
        {"feedback": "De foto van de momentsleutel is scherp."},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Kies een oordeel." in page
    assert "De foto van de momentsleutel is scherp." in page
    assert rows(db, Assessment) == []


def test_needs_revision_through_the_page(auth, client, db, world) -> None:
    auth.login(world["trainer"].email)
    response = auth.post(
        f"/assessment/submissions/{world['noel_a1'].id}",
        {"verdict": "needs_revision", "feedback": "Voeg een foto van de meting toe."},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Submission, world["noel_a1"].id).status is SubmissionStatus.NEEDS_REVISION
    assert db.session.scalar(sa.select(Notification.kind)) == "assessment_needs_revision"


@pytest.mark.parametrize("who", ["other_trainer", "noel", "coordinator", "employer"])
def test_only_a_trainer_of_the_cohort_opens_the_assessment_page(
    auth, client, db, world, who
) -> None:
    users = {
        "coordinator": make_user(Role.COORDINATOR),
        "employer": make_user(Role.EMPLOYER, employer=world["company"]),
    }
    db.session.commit()
    user = users.get(who) or world[who]
    auth.login(user.email)
    path = f"/assessment/submissions/{world['noel_a1'].id}"
    assert client.get(path).status_code == 404
    assert auth.post(path, {"verdict": "approved"}).status_code == 404
    assert auth.post(path + "/correct", {"verdict": "approved", "feedback": "x"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Submission, world["noel_a1"].id).status is SubmissionStatus.SUBMITTED


def test_unknown_work_and_drafts_are_not_found(auth, client, db, world) -> None:
    draft = Submission(
        enrolment=world["noel_in"], assignment=world["a3"], attempts=[Attempt(number=1)]
    )
    db.session.add(draft)
    db.session.commit()
    auth.login(world["trainer"].email)
    assert client.get("/assessment/submissions/999999").status_code == 404
    assert client.get(f"/assessment/submissions/{draft.id}").status_code == 404


def test_posting_a_verdict_on_assessed_work_is_refused_politely(auth, client, db, world) -> None:
    service.assess_submission(
        world["noel_a1"], actor=world["trainer"], verdict=Verdict.APPROVED, feedback="", at=MONDAY
    )
    db.session.commit()
    auth.login(world["trainer"].email)
    response = auth.post(
        f"/assessment/submissions/{world['noel_a1'].id}",
        {"verdict": "needs_revision", "feedback": "x"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Dit werk is al beoordeeld." in response.get_data(as_text=True)
    assert len(rows(db, Assessment)) == 1


def test_correct_the_verdict_through_the_page(auth, client, db, world) -> None:
    first = service.assess_submission(
        world["noel_a1"],
        actor=world["trainer"],
        verdict=Verdict.NEEDS_REVISION,
        feedback="Foto ontbreekt.",
        at=MONDAY,
    )
    db.session.commit()
    first_id = first.id
    auth.login(world["trainer"].email)
    path = f"/assessment/submissions/{world['noel_a1'].id}"
    page = client.get(path).get_data(as_text=True)
    assert "Oordeel corrigeren" in page and "Foto ontbreekt." in page

    refused = auth.post(path + "/correct", {"verdict": "approved", "feedback": ""})
    assert refused.status_code == 200
    assert "Leg de deelnemer uit waarom je het oordeel corrigeert." in refused.get_data(
        as_text=True
    )

    response = auth.post(
        path + "/correct", {"verdict": "approved", "feedback": "De foto zat er toch bij."}
    )
    assert response.headers["Location"] == path
    page = client.get(path).get_data(as_text=True)
    assert "Het oordeel is gecorrigeerd." in page
    assert "Correctie" in page and "Foto ontbreekt." in page and "De foto zat er toch bij." in page
    db.session.expire_all()
    assessments = rows(db, Assessment)
    assert [(a.id, a.verdict, a.feedback) for a in assessments] == [
        (first_id, Verdict.NEEDS_REVISION, "Foto ontbreekt."),
        (assessments[1].id, Verdict.APPROVED, "De foto zat er toch bij."),
    ]
    assert db.session.get(Submission, world["noel_a1"].id).status is SubmissionStatus.APPROVED


def test_recent_assessments_are_listed_for_correction(auth, client, db, world) -> None:
    service.assess_submission(
        world["noel_a1"], actor=world["trainer"], verdict=Verdict.APPROVED, feedback="", at=MONDAY
    )
    db.session.commit()
    auth.login(world["trainer"].email)
    page = client.get("/assessment/queue").get_data(as_text=True)
    assert "Onlangs door jou beoordeeld" in page
    assert f'/assessment/submissions/{world["noel_a1"].id}"' in page


def test_recent_assessments_are_the_latest_first_in_one_statement(count_queries, db, world) -> None:
    handed_in = [world["noel_a1"], world["sam_a2"]]
    for hours, submission in enumerate(handed_in):
        service.assess_submission(
            submission,
            actor=world["trainer"],
            verdict=Verdict.APPROVED,
            feedback="",
            at=MONDAY + timedelta(hours=hours),
        )
    db.session.commit()
    expected = [world["sam_a2"].id, world["noel_a1"].id]
    db.session.expire_all()
    assert world["trainer"].id  # loaded again before counting
    with count_queries() as counter:
        recent = service.recent_assessments(world["trainer"], 5)
        shown = [
            (a.attempt.submission.id, a.attempt.submission.enrolment.participant.full_name)
            for a in recent
        ]
    assert [submission_id for submission_id, _ in shown] == expected
    assert counter.count == 1  # the page shows these without a statement per row
    assert [a.attempt.submission.id for a in service.recent_assessments(world["trainer"], 1)] == [
        world["sam_a2"].id
    ]
    assert service.recent_assessments(world["other_trainer"], 2) == []


def test_trainer_home_links_to_the_queue(auth, client, world) -> None:
    auth.login(world["trainer"].email)
    page = client.get("/assessment/").get_data(as_text=True)
    assert 'href="/assessment/queue"' in page
    assert "Naar het werk om te beoordelen" in page


def test_a_refused_correction_is_explained_on_the_page(auth, client, db, world) -> None:
    submission = world["sam_a2"]
    service.assess_submission(
        submission,
        actor=world["trainer"],
        verdict=Verdict.NEEDS_REVISION,
        feedback="Meer foto's.",
        at=MONDAY,
    )
    submission.attempts.append(Attempt(number=2, what_i_did="Opnieuw"))
    db.session.commit()
    auth.login(world["trainer"].email)
    path = f"/assessment/submissions/{submission.id}"
    assert "De deelnemer werkt aan een nieuwe poging." in client.get(path).get_data(as_text=True)
    response = auth.post(path + "/correct", {"verdict": "approved", "feedback": "Toch goed."})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "De deelnemer is al aan een nieuwe poging begonnen." in page
    assert ">Toch goed.</textarea>" in page or "\nToch goed.</textarea>" in page  # kept
    db.session.expire_all()
    assert len(rows(db, Assessment)) == 1
    assert db.session.get(Submission, submission.id).status is SubmissionStatus.NEEDS_REVISION


def test_the_link_is_built_from_the_participants_assignment_page(
    app, db, world, monkeypatch
) -> None:
    app.add_url_rule("/elders/<code>", endpoint="test_assignment", view_func=lambda code: code)
    monkeypatch.setattr(service, "ASSIGNMENT_ENDPOINT", "test_assignment")
    service.assess_submission(
        world["noel_a1"], actor=world["trainer"], verdict=Verdict.APPROVED, feedback="", at=MONDAY
    )
    assert db.session.scalar(sa.select(Notification.link)) == "/elders/A1"
    assert "http://127.0.0.1:5000/elders/A1" in db.session.scalar(
        sa.select(OutboxMessage.body_text)
    )


def test_the_link_falls_back_to_the_known_path(app, monkeypatch) -> None:
    monkeypatch.setattr(service, "ASSIGNMENT_ENDPOINT", "not.there")
    assert service.assignment_path("A7") == "/portfolio/assignments/A7"


def add_evidence(db, submission, name="meting.pdf"):  # type: ignore[no-untyped-def]
    from lms.models import EvidenceFile, EvidenceKind

    evidence = EvidenceFile(
        attempt=submission.attempts[0],
        kind=EvidenceKind.PDF,
        storage_key=f"test/{submission.id}/{name}",
        original_name=name,
        content_type="application/pdf",
        size_bytes=2048,
        sha256="0" * 64,
        uploaded_by=submission.enrolment.participant,
    )
    db.session.add(evidence)
    db.session.flush()
    return evidence


def test_the_assessment_page_links_the_evidence(auth, client, db, world) -> None:
    evidence = add_evidence(db, world["noel_a1"], "momentsleutel.pdf")
    db.session.commit()
    auth.login(world["trainer"].email)
    page = client.get(f"/assessment/submissions/{world['noel_a1'].id}").get_data(as_text=True)
    assert "momentsleutel.pdf" in page
    assert f'href="/portfolio/evidence/{evidence.id}"' in page


def test_the_assessment_page_links_the_participants_checklists_and_portfolio_export(
    auth, client, world
) -> None:
    auth.login(world["trainer"].email)
    page = client.get(f"/assessment/submissions/{world['noel_a1'].id}").get_data(as_text=True)
    enrolment_id = world["noel_in"].id
    checklists = f'href="/checklists/enrolments/{enrolment_id}"'
    export = f'href="/portfolio/export/{enrolment_id}"'
    assert checklists in page and export in page
    # Both links lead somewhere the trainer may go.
    assert client.get(f"/checklists/enrolments/{enrolment_id}").status_code == 200
    assert client.get(f"/portfolio/export/{enrolment_id}").status_code == 200
