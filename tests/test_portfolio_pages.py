"""The participant's assignment page, uploading evidence, and who may open an evidence file."""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import (
    Assessment,
    Attempt,
    EvidenceFile,
    Role,
    Submission,
    SubmissionStatus,
    Verdict,
    WorkplaceConfirmation,
)
from lms.storage import get_storage
from tests.factories import (
    PDF_BYTES,
    make_cohort,
    make_employer,
    make_enrolment,
    make_evidence,
    make_photo_bytes,
    make_programme,
    make_user,
)

AT = datetime(2026, 9, 21, 10, tzinfo=clock.LOCAL_TZ)


@pytest.fixture
def world(db):
    """Noël (Kerkrade Precisie, cohort of Ingrid) and Bram (Sittard Assemblage, cohort of Ruud), each with
    their company's contact; a coordinator. A1 asks for a workplace confirmation."""
    programme = make_programme(assignments=3)
    programme.assignments[0].requires_workplace_confirmation = True
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
    noel = make_user(Role.PARTICIPANT, first_name="Noël", last_name="Çelik")
    bram = make_user(
        Role.PARTICIPANT, first_name="Bram", name_prefix="van der", last_name="Heijden"
    )
    enrolment = make_enrolment(cohort, noel, company)
    other_enrolment = make_enrolment(other_cohort, bram, other_company)
    world = {
        "programme": programme,
        "enrolment": enrolment,
        "other_enrolment": other_enrolment,
        "noel": noel,
        "bram": bram,
        "trainer": trainer,
        "other_trainer": other_trainer,
        "contact": make_user(
            Role.EMPLOYER, employer=company, first_name="Petra", last_name="Janssen"
        ),
        "other_contact": make_user(Role.EMPLOYER, employer=other_company),
        "coordinator": make_user(Role.COORDINATOR),
    }
    db.session.commit()
    return world


def hand_in(db, enrolment, assignment, *, files=1, at=AT) -> Submission:
    submission = Submission(
        enrolment=enrolment,
        assignment=assignment,
        attempts=[Attempt(number=1, what_i_did="Gezaagd en geboord.")],
    )
    db.session.add(submission)
    db.session.flush()
    for n in range(files):
        make_evidence(submission.attempts[0], name=f"foto{n + 1}.jpg")
    submission.submit(at)
    db.session.commit()
    return submission


def draft(db, enrolment, assignment, *, what_i_did="Half af") -> Submission:
    submission = Submission(
        enrolment=enrolment,
        assignment=assignment,
        attempts=[Attempt(number=1, what_i_did=what_i_did)],
    )
    db.session.add(submission)
    db.session.flush()
    make_evidence(submission.attempts[0], name="concept.jpg")
    db.session.commit()
    return submission


def upload(name: str, data: bytes) -> tuple[io.BytesIO, str]:
    return (io.BytesIO(data), name)


def text(response) -> str:
    return response.get_data(as_text=True)


# The pages ------------------------------------------------------------------------------------------


def test_each_assignment_on_the_portfolio_links_to_its_page(auth, client, world) -> None:
    auth.login(world["noel"].email)
    page = text(client.get("/portfolio/"))
    for code in ("A1", "A2", "A3"):
        assert f'href="/portfolio/assignments/{code}"' in page
    assert f'href="/portfolio/export/{world["enrolment"].id}"' in page


def test_the_assignment_page_shows_what_to_do_and_where_it_stands(auth, client, world) -> None:
    auth.login(world["noel"].email)
    with clock.frozen_at(
        datetime(2026, 10, 30, 12, tzinfo=clock.LOCAL_TZ)
    ):  # A1 was due on Friday 25 September
        page = text(client.get("/portfolio/assignments/A1"))
    assert "A1 · Opdracht 1" in page
    assert "Doe het werk en laat zien wat je deed." in page  # instructions
    assert "25 sep 2026" in page  # due date
    assert "Nog niet begonnen" in page and "Te laat" in page  # status and overdue
    assert "Draagt juiste PBM" in page and "Logt veilig in" in page  # linked competencies
    assert "Kerkrade Precisie B.V." in page  # the employer must confirm
    assert 'capture="environment"' in page and 'accept="image/*"' in page
    assert 'accept="image/*,application/pdf,video/mp4,video/quicktime,video/webm"' in page
    assert 'enctype="multipart/form-data"' in page
    assert "minstens één foto, pdf of video" in page  # what handing in needs


def test_a_participant_saves_a_draft_and_hands_it_in(auth, client, db, world) -> None:
    auth.login(world["noel"].email)
    response = auth.post(
        "/portfolio/assignments/A2",
        {
            "what_i_did": "Ik heb een beugel gezet.",
            "what_went_well": "Haaks gewerkt.",
            "photo": upload("camera.jpg", make_photo_bytes()),
            "files": [upload("tekening.pdf", PDF_BYTES)],
            "save": "Opslaan als concept",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/portfolio/assignments/A2")
    page = text(client.get("/portfolio/assignments/A2"))
    assert "Je concept is opgeslagen. 2 bestanden toegevoegd." in page
    assert "Ik heb een beugel gezet." in page and "camera.jpg" in page and "tekening.pdf" in page
    db.session.expire_all()
    submission = db.session.scalar(sa.select(Submission))
    assert submission.status is SubmissionStatus.DRAFT

    response = auth.post(
        "/portfolio/assignments/A2",
        {
            "what_i_did": "Ik heb een beugel gezet.",
            "what_went_well": "Haaks gewerkt.",
            "hand_in": "Inleveren",
        },
    )
    page = text(client.get(response.headers["Location"]))
    assert "Ingeleverd." in page
    assert '<form method="post" enctype' not in page  # read-only now
    db.session.expire_all()
    submission = db.session.scalar(sa.select(Submission))
    assert submission.status is SubmissionStatus.SUBMITTED
    assert len(submission.attempts[0].evidence_files) == 2

    # A late POST (another tab) changes nothing.
    response = auth.post("/portfolio/assignments/A2", {"what_i_did": "Anders", "save": "x"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(Attempt.what_i_did)) == "Ik heb een beugel gezet."


def test_handing_in_without_what_you_did_saves_a_draft_and_says_what_is_missing(
    auth, client, db, world
) -> None:
    auth.login(world["noel"].email)
    response = auth.post(
        "/portfolio/assignments/A2", {"what_went_well": "Mooi", "hand_in": "Inleveren"}
    )
    page = text(client.get(response.headers["Location"]))
    assert "Nog niet ingeleverd." in page and "Wat heb je gedaan?" in page
    db.session.expire_all()
    assert db.session.scalar(sa.select(Submission.status)) is SubmissionStatus.DRAFT
    assert db.session.scalar(sa.select(Attempt.what_went_well)) == "Mooi"


def test_handing_in_nothing_is_refused_and_saves_nothing(auth, client, db, world) -> None:
    auth.login(world["noel"].email)
    response = auth.post("/portfolio/assignments/A2", {"hand_in": "Inleveren"})

    page = text(client.get(response.headers["Location"]))
    assert "Er is nog niets om in te leveren." in page
    assert "flash--error" in page and "flash--success" not in page
    assert "concept is opgeslagen" not in page
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 0


def test_handing_in_nothing_with_only_a_refused_file_saves_nothing(auth, client, db, world) -> None:
    auth.login(world["noel"].email)
    response = auth.post(
        "/portfolio/assignments/A2",
        {"files": [upload("lasnaad.jpg", b"geen foto\n" * 30)], "hand_in": "Inleveren"},
    )

    page = text(client.get(response.headers["Location"]))
    assert "Er is nog niets om in te leveren." in page and "lasnaad.jpg" in page
    assert "concept is opgeslagen" not in page
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 0
    assert list(get_storage().root.rglob("*.*")) == []


def test_an_unfinished_hand_in_keeps_the_draft_in_one_warning(auth, client, db, world) -> None:
    auth.login(world["noel"].email)
    response = auth.post(
        "/portfolio/assignments/A2", {"what_i_did": "Half af", "hand_in": "Inleveren"}
    )

    page = text(client.get(response.headers["Location"]))
    assert "flash--success" not in page
    warning = page.split('class="flash flash--warning">', 1)[1].split("</p>", 1)[0]
    assert "Nog niet ingeleverd." in warning and "concept is opgeslagen" in warning
    db.session.expire_all()
    assert db.session.scalar(sa.select(Attempt.what_i_did)) == "Half af"


def test_a_text_file_renamed_to_jpg_is_refused_with_a_clear_message(
    auth, client, db, world
) -> None:
    auth.login(world["noel"].email)
    response = auth.post(
        "/portfolio/assignments/A2",
        {
            "what_i_did": "Mijn verslag",
            "files": [upload("lasnaad.jpg", b"Dit is tekst en geen foto.\n" * 30)],
            "hand_in": "Inleveren",
        },
    )
    page = text(client.get(response.headers["Location"]))
    assert "&#34;lasnaad.jpg&#34; is geen foto, pdf of video" in page
    assert "Nog niet ingeleverd: een bestand is geweigerd." in page
    assert "Mijn verslag" in page  # the text is kept
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(EvidenceFile.id))) == 0
    assert db.session.scalar(sa.select(Submission.status)) is SubmissionStatus.DRAFT
    assert list(get_storage().root.rglob("*.*")) == []


def test_an_oversized_upload_is_refused_and_the_draft_text_kept(
    app, auth, client, db, world
) -> None:
    app.config["EVIDENCE_MAX_PDF_BYTES"] = 2048
    auth.login(world["noel"].email)
    big = PDF_BYTES + b"%" * 5000
    response = auth.post(
        "/portfolio/assignments/A2",
        {
            "what_i_did": "Wat ik typte op de vloer",
            "files": [upload("handboek.pdf", big)],
            "save": "x",
        },
    )
    page = text(client.get(response.headers["Location"]))
    assert "&#34;handboek.pdf&#34; is 5 kB; een pdf mag hoogstens 2 kB zijn." in page
    assert "Wat ik typte op de vloer" in page
    db.session.expire_all()
    assert db.session.scalar(sa.select(Attempt.what_i_did)) == "Wat ik typte op de vloer"
    assert db.session.scalar(sa.select(sa.func.count(EvidenceFile.id))) == 0


def test_a_request_larger_than_allowed_gets_the_too_large_page(app, auth, client, world) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 4096
    auth.login(world["noel"].email)
    response = auth.post(
        "/portfolio/assignments/A2",
        {"what_i_did": "x", "files": [upload("groot.pdf", PDF_BYTES * 200)]},
    )
    assert response.status_code == 413


def test_an_invalid_form_is_shown_again_with_what_was_typed(auth, client, db, world) -> None:
    auth.login(world["noel"].email)
    response = auth.post(
        "/portfolio/assignments/A2",
        {"what_i_did": "x" * 5001, "what_i_learned": "Bewaard", "save": "x"},
    )
    assert response.status_code == 200
    page = text(response)
    assert "Bewaard" in page and 'aria-invalid="true"' in page
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 0


def test_after_needs_revision_the_page_shows_the_feedback_and_a_new_attempt(
    auth, client, db, world
) -> None:
    submission = hand_in(db, world["enrolment"], world["programme"].assignments[0])
    db.session.add(
        Assessment(
            attempt=submission.attempts[0],
            assessor=world["trainer"],
            verdict=Verdict.NEEDS_REVISION,
            feedback="Laat de meetwaarden zien.",
            created_at=AT,
        )
    )
    submission.record_verdict(Verdict.NEEDS_REVISION, AT)
    db.session.add(
        WorkplaceConfirmation(
            submission=submission,
            attempt_id=submission.attempts[0].id,
            confirmed_by=world["contact"],
            remark="Netjes gedaan",
            confirmed_at=AT,
        )
    )
    db.session.commit()
    auth.login(world["noel"].email)
    page = text(client.get("/portfolio/assignments/A1"))
    assert "Laat de meetwaarden zien." in page and "Ingrid Vaessen" in page
    assert "Je werk: poging 2" in page
    assert ">Gezaagd en geboord.</textarea>" in page or "\nGezaagd en geboord.</textarea>" in page
    assert "Eerdere pogingen" in page and "Poging 1, ingeleverd op" in page
    assert "Petra Janssen" in page and "Netjes gedaan" in page  # the employer confirmed
    # Save: attempt 2 is opened with the copied photo; attempt 1 stays as it was.
    auth.post(
        "/portfolio/assignments/A1", {"what_i_did": "Gezaagd, geboord en gemeten.", "hand_in": "x"}
    )
    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    assert submission.status is SubmissionStatus.SUBMITTED
    assert [(a.number, a.what_i_did) for a in submission.attempts] == [
        (1, "Gezaagd en geboord."),
        (2, "Gezaagd, geboord en gemeten."),
    ]
    assert len(submission.attempts[1].evidence_files) == 1


def test_handed_in_work_waits_for_the_employers_confirmation(auth, client, db, world) -> None:
    hand_in(db, world["enrolment"], world["programme"].assignments[0])
    auth.login(world["noel"].email)
    page = text(client.get("/portfolio/assignments/A1"))
    assert "Nog niet bevestigd" in page
    assert (
        "Je praktijkopleider bij Kerkrade Precisie B.V. heeft nog niet in de app bevestigd" in page
    )
    assert "Ingeleverd op 21 sep 2026 10:00. Je trainer beoordeelt het" in page
    assert 'name="what_i_did"' not in page


def test_approved_work_shows_the_feedback_and_no_form(auth, client, db, world) -> None:
    submission = hand_in(db, world["enrolment"], world["programme"].assignments[1])
    db.session.add(
        Assessment(
            attempt=submission.attempts[0],
            assessor=world["trainer"],
            verdict=Verdict.APPROVED,
            feedback="Sterk werk.",
            created_at=AT,
        )
    )
    submission.record_verdict(Verdict.APPROVED, AT)
    db.session.commit()
    auth.login(world["noel"].email)
    page = text(client.get("/portfolio/assignments/A2"))
    assert "Sterk werk." in page and "Goedgekeurd" in page
    assert 'name="what_i_did"' not in page
    assert "foto1.jpg" in page


@pytest.mark.parametrize("role", [Role.TRAINER, Role.EMPLOYER, Role.COORDINATOR])
def test_the_assignment_page_is_the_participants_own(auth, client, world, role) -> None:
    user = {
        Role.TRAINER: world["trainer"],
        Role.EMPLOYER: world["contact"],
        Role.COORDINATOR: world["coordinator"],
    }[role]
    auth.login(user.email)
    assert client.get("/portfolio/assignments/A1").status_code == 404
    assert auth.post("/portfolio/assignments/A1", {"what_i_did": "x"}).status_code == 404


def test_unknown_assignments_and_participants_without_a_group_get_404(
    auth, client, db, world
) -> None:
    auth.login(world["noel"].email)
    assert client.get("/portfolio/assignments/Z9").status_code == 404
    loner = make_user(Role.PARTICIPANT)
    db.session.commit()
    auth.logout()
    auth.login(loner.email)
    assert client.get("/portfolio/assignments/A1").status_code == 404


def test_the_assignment_page_costs_the_same_number_of_queries_however_much_work(
    auth, client, db, world, count_queries
) -> None:
    auth.login(world["noel"].email)
    hand_in(db, world["enrolment"], world["programme"].assignments[0], files=1)
    with count_queries() as few:
        client.get("/portfolio/assignments/A1")
    submission = hand_in(db, world["enrolment"], world["programme"].assignments[1], files=4)
    for _revision in range(2):
        db.session.add(
            Assessment(
                attempt=submission.attempts[-1],
                assessor=world["trainer"],
                verdict=Verdict.NEEDS_REVISION,
                feedback="Meer",
                created_at=AT,
            )
        )
        submission.record_verdict(Verdict.NEEDS_REVISION, AT)
        attempt = submission.start_revision(AT)
        db.session.flush()
        make_evidence(attempt)
        submission.submit(AT)
    db.session.commit()
    with count_queries() as many:
        assert "Poging 2, ingeleverd" in text(client.get("/portfolio/assignments/A2"))
    assert many.count == few.count


# Evidence files -------------------------------------------------------------------------------------


def test_a_photo_is_served_inline_with_safe_headers(auth, client, db, world) -> None:
    submission = hand_in(db, world["enrolment"], world["programme"].assignments[0])
    evidence = submission.attempts[0].evidence_files[0]
    auth.login(world["noel"].email)
    response = client.get(f"/portfolio/evidence/{evidence.id}")
    assert response.status_code == 200
    assert response.data == get_storage().read(evidence.storage_key)
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert (
        "private" in response.headers["Cache-Control"]
        and "public" not in response.headers["Cache-Control"]
    )
    assert "sandbox" in response.headers["Content-Security-Policy"]
    again = client.get(
        f"/portfolio/evidence/{evidence.id}", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_pdf_and_video_are_downloads(auth, client, db, world) -> None:
    submission = hand_in(db, world["enrolment"], world["programme"].assignments[0], files=0)
    attempt = submission.attempts[0]
    pdf = make_evidence(attempt, name="Werkbon één.pdf", data=PDF_BYTES)
    video = make_evidence(
        attempt, name="film.mp4", data=b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200
    )
    db.session.commit()
    auth.login(world["noel"].email)
    response = client.get(f"/portfolio/evidence/{pdf.id}")
    assert response.headers["Content-Type"] == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert (
        disposition.startswith("attachment;")
        and "filename*=UTF-8''Werkbon%20%C3%A9%C3%A9n.pdf" in disposition
    )
    response = client.get(f"/portfolio/evidence/{video.id}")
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Content-Disposition"].startswith("attachment;")


WHO_SEES_HANDED_IN_WORK = {
    "noel": 200,
    "trainer": 200,
    "contact": 200,
    "coordinator": 200,
    "bram": 404,
    "other_trainer": 404,
    "other_contact": 404,
}


@pytest.mark.parametrize(("who", "status"), WHO_SEES_HANDED_IN_WORK.items())
def test_evidence_is_only_for_people_who_may_see_the_enrolment(
    auth, client, db, world, who, status
) -> None:
    submission = hand_in(db, world["enrolment"], world["programme"].assignments[0])
    file_id = submission.attempts[0].evidence_files[0].id
    auth.login(world[who].email)
    assert client.get(f"/portfolio/evidence/{file_id}").status_code == status


@pytest.mark.parametrize(
    ("who", "status"), [("noel", 200), ("trainer", 404), ("contact", 404), ("bram", 404)]
)
def test_files_of_a_draft_are_the_participants_own(auth, client, db, world, who, status) -> None:
    submission = draft(db, world["enrolment"], world["programme"].assignments[0])
    file_id = submission.attempts[0].evidence_files[0].id
    auth.login(world[who].email)
    assert client.get(f"/portfolio/evidence/{file_id}").status_code == status


def test_evidence_needs_a_login_and_unknown_ids_are_404(auth, client, db, world) -> None:
    submission = hand_in(db, world["enrolment"], world["programme"].assignments[0])
    file_id = submission.attempts[0].evidence_files[0].id
    response = client.get(f"/portfolio/evidence/{file_id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    auth.login(world["noel"].email)
    assert client.get(f"/portfolio/evidence/{file_id + 999}").status_code == 404


def test_the_assessment_page_links_to_the_evidence(auth, client, db, world) -> None:
    submission = hand_in(db, world["enrolment"], world["programme"].assignments[0])
    file_id = submission.attempts[0].evidence_files[0].id
    auth.login(world["trainer"].email)
    page = text(client.get(f"/assessment/submissions/{submission.id}"))
    assert f'href="/portfolio/evidence/{file_id}"' in page


# Removing a file from a draft -----------------------------------------------------------------------


def test_a_file_is_removed_from_a_draft_after_confirmation(auth, client, db, world) -> None:
    submission = draft(db, world["enrolment"], world["programme"].assignments[0])
    evidence = submission.attempts[0].evidence_files[0]
    key, file_id = evidence.storage_key, evidence.id
    auth.login(world["noel"].email)
    assert f'href="/portfolio/evidence/{file_id}/delete"' in text(
        client.get("/portfolio/assignments/A1")
    )
    page = text(client.get(f"/portfolio/evidence/{file_id}/delete"))
    assert "Dit bestand verwijderen?" in page and "concept.jpg" in page
    response = auth.post(f"/portfolio/evidence/{file_id}/delete")
    assert response.headers["Location"].endswith("/portfolio/assignments/A1")
    assert "concept.jpg is verwijderd." in text(client.get("/portfolio/assignments/A1"))
    db.session.expire_all()
    assert db.session.get(EvidenceFile, file_id) is None
    assert not get_storage().exists(key)


def test_files_of_handed_in_work_or_of_others_cannot_be_removed(auth, client, db, world) -> None:
    submission = hand_in(db, world["enrolment"], world["programme"].assignments[0])
    file_id = submission.attempts[0].evidence_files[0].id
    auth.login(world["noel"].email)
    response = auth.post(f"/portfolio/evidence/{file_id}/delete")
    assert response.status_code == 302
    assert "kan niet meer worden verwijderd" in text(client.get(response.headers["Location"]))
    auth.logout()
    auth.login(world["bram"].email)
    assert client.get(f"/portfolio/evidence/{file_id}/delete").status_code == 404
    assert auth.post(f"/portfolio/evidence/{file_id}/delete").status_code == 404
    db.session.expire_all()
    assert db.session.get(EvidenceFile, file_id) is not None


def test_removing_needs_the_csrf_token(auth, client, db, world) -> None:
    submission = draft(db, world["enrolment"], world["programme"].assignments[0])
    file_id = submission.attempts[0].evidence_files[0].id
    auth.login(world["noel"].email)
    assert client.post(f"/portfolio/evidence/{file_id}/delete").status_code == 400
    assert re.search(r"concept\.jpg", text(client.get("/portfolio/assignments/A1")))
