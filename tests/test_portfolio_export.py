"""The portfolio as a ZIP: a PDF overview (read back) and the evidence files, for the participant and
their trainers only."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from lms import clock
from lms.models import Assessment, Attempt, AuditEvent, Role, Submission, Verdict
from lms.services.portfolio import ExportFile, PortfolioExport, build_export, zip_chunks
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
    programme = make_programme(assignments=3)
    trainer = make_user(Role.TRAINER, first_name="Ingrid", last_name="Vaessen")
    other_trainer = make_user(Role.TRAINER)
    cohort = make_cohort(
        programme, name="Parkstad 2026-2027", trainers=[trainer], start=date(2026, 9, 7)
    )
    make_cohort(programme, trainers=[other_trainer])
    company = make_employer(name="Kerkrade Precisie B.V.")
    participant = make_user(Role.PARTICIPANT, first_name="Noël", last_name="Çelik Ağaoğlu")
    enrolment = make_enrolment(cohort, participant, company)
    a1, a2, _a3 = programme.assignments
    # A1: attempt 1 needed revision, attempt 2 approved. A2: a draft with a file.
    submission = Submission(
        enrolment=enrolment,
        assignment=a1,
        attempts=[Attempt(number=1, what_i_did="Eerste poging: geboord.")],
    )
    db.session.add(submission)
    db.session.flush()
    make_evidence(submission.attempts[0], name="boring.jpg")
    submission.submit(AT)
    db.session.add(
        Assessment(
            attempt=submission.attempts[0],
            assessor=trainer,
            verdict=Verdict.NEEDS_REVISION,
            feedback="Laat de maat zien.",
            created_at=AT,
        )
    )
    submission.record_verdict(Verdict.NEEDS_REVISION, AT)
    second = submission.start_revision(AT)
    second.what_i_did = "Tweede poging: geboord en gemeten met de schuifmaat."
    db.session.flush()
    make_evidence(second, name="boring.jpg", data=make_photo_bytes(color=(10, 200, 10)))
    make_evidence(second, name="meetrapport.pdf", data=PDF_BYTES)
    submission.submit(AT)
    db.session.add(
        Assessment(
            attempt=second,
            assessor=trainer,
            verdict=Verdict.APPROVED,
            feedback="Goed gemeten, één misstap in de ëxtra's.",
            created_at=AT,
        )
    )
    submission.record_verdict(Verdict.APPROVED, AT)
    draft = Submission(
        enrolment=enrolment, assignment=a2, attempts=[Attempt(number=1, what_i_did="Nog bezig")]
    )
    db.session.add(draft)
    db.session.flush()
    make_evidence(draft.attempts[0], name="concept.jpg")
    users = {
        "contact": make_user(Role.EMPLOYER, employer=company),
        "coordinator": make_user(Role.COORDINATOR),
        "other_participant": make_user(Role.PARTICIPANT),
    }
    db.session.commit()
    return users | {
        "enrolment": enrolment,
        "participant": participant,
        "trainer": trainer,
        "other_trainer": other_trainer,
    }


def download(auth, client, who, enrolment_id):
    auth.login(who.email)
    return client.get(f"/portfolio/export/{enrolment_id}")


def test_the_participant_downloads_a_zip_with_the_pdf_and_every_file(
    auth, client, db, world
) -> None:
    response = download(auth, client, world["participant"], world["enrolment"].id)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "portfolio-noel-celik-agaoglu-" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names[0] == "overzicht.pdf"
    assert sorted(names[1:]) == [
        "A1 Opdracht 1/poging 1 - boring.jpg",
        "A1 Opdracht 1/poging 2 - boring.jpg",
        "A1 Opdracht 1/poging 2 - meetrapport.pdf",
        "A2 Opdracht 2/poging 1 - concept.jpg",  # the participant's own draft comes along
    ]
    db.session.expire_all()
    stored = {
        f.original_name + str(f.attempt.number): f
        for a in db.session.scalars(sa.select(Attempt))
        for f in a.evidence_files
    }
    assert archive.read("A1 Opdracht 1/poging 2 - meetrapport.pdf") == PDF_BYTES
    assert archive.read("A1 Opdracht 1/poging 1 - boring.jpg") == get_storage().read(
        stored["boring.jpg1"].storage_key
    )

    text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(archive.read("overzicht.pdf"))).pages
    )
    assert "Portfolio van Noël Çelik Ağaoğlu" in text
    assert (
        "Parkstad 2026-2027" in text
        and "Kerkrade Precisie B.V." in text
        and "Ingrid Vaessen" in text
    )
    assert "A1 · Opdracht 1" in text and "Goedgekeurd" in text
    assert "Tweede poging: geboord en gemeten met de schuifmaat." in text
    assert "Laat de maat zien." in text and "één misstap in de ëxtra's" in text
    assert "A3 · Opdracht 3" in text and "Nog geen werk bij deze opdracht." in text
    assert "meetrapport.pdf" in text
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "portfolio.export")
        )
        == 1
    )


def test_a_trainer_of_the_cohort_downloads_it_without_the_participants_draft(
    auth, client, world
) -> None:
    response = download(auth, client, world["trainer"], world["enrolment"].id)
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert "A2 Opdracht 2/poging 1 - concept.jpg" not in names
    assert "A1 Opdracht 1/poging 2 - meetrapport.pdf" in names
    text = (
        PdfReader(io.BytesIO(zipfile.ZipFile(io.BytesIO(response.data)).read("overzicht.pdf")))
        .pages[0]
        .extract_text()
    )
    assert "Nog bezig" not in text


@pytest.mark.parametrize(
    ("who", "status"),
    [("other_trainer", 404), ("other_participant", 404), ("contact", 404), ("coordinator", 404)],
)
def test_nobody_else_downloads_the_portfolio(auth, client, world, who, status) -> None:
    assert download(auth, client, world[who], world["enrolment"].id).status_code == status


def test_unknown_enrolments_and_anonymous_visitors(auth, client, world) -> None:
    response = client.get(f"/portfolio/export/{world['enrolment'].id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert (
        download(auth, client, world["participant"], world["enrolment"].id + 99).status_code == 404
    )


def test_the_zip_is_streamed_in_pieces_and_stays_valid(app) -> None:
    storage = get_storage()
    big = storage.save(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 10_000, ".mp4")  # 2.5 MB
    export = PortfolioExport(
        filename="x.zip",
        overview_name="overzicht.pdf",
        overview_pdf=b"%PDF-1.4 test",
        files=[ExportFile("A1 Ëen map/poging 1 - film.mp4", big, AT)],
        created=AT,
    )
    pieces = list(zip_chunks(export, storage))
    assert len(pieces) > 3  # not one big block
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert archive.read("A1 Ëen map/poging 1 - film.mp4") == storage.read(big)
    assert archive.read("overzicht.pdf") == b"%PDF-1.4 test"


def test_export_names_are_safe_to_unpack(app, db, world) -> None:
    world["enrolment"].cohort.programme.assignments[2].title = 'Meten: "a/b" <c>?'
    attempt = Attempt(number=1, what_i_did="x")
    db.session.add(
        Submission(
            enrolment=world["enrolment"],
            assignment=world["enrolment"].cohort.programme.assignments[2],
            attempts=[attempt],
        )
    )
    db.session.flush()
    make_evidence(attempt, name="..\\..\\foto.jpg")
    make_evidence(attempt, name="foto.jpg")
    export = build_export(world["enrolment"], viewer=world["participant"], now=AT)
    paths = [f.path for f in export.files if f.path.startswith("A3")]
    assert paths == [
        "A3 Meten_ _a_b_ _c_/poging 1 - foto.jpg",
        "A3 Meten_ _a_b_ _c_/poging 1 - foto (2).jpg",
    ]
