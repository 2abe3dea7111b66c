"""Issuing, numbering, the PDF itself, revoking, reissuing and verification, on the service level."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import datetime

import pypdf
import pytest

from lms import clock
from lms.models import Certificate, Region, Role
from lms.services import certificates as service
from lms.services import issuer
from lms.storage import get_storage
from tests.certificate_helpers import FINISHED, make_eligible_enrolment, make_finished_cohort
from tests.factories import make_enrolment, make_user

NOW = datetime(2027, 7, 2, 10, tzinfo=clock.LOCAL_TZ)


@pytest.fixture
def coordinator(db):  # type: ignore[no-untyped-def]
    return make_user(Role.COORDINATOR, first_name="Corrie", last_name="Coördinator")


def read_pdf(data: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(data))


def pdf_text(reader: pypdf.PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def link_targets(reader: pypdf.PdfReader) -> set[str]:
    targets = set()
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and action.get("/S") == "/URI":
                targets.add(str(action["/URI"]))
    return targets


def test_issue_makes_a_numbered_certificate_with_a_stored_pdf(db, coordinator):  # type: ignore[no-untyped-def]
    participant = make_user(first_name="Zoë", last_name="Çelik-Doğan", name_prefix="")
    cohort = make_finished_cohort(region=Region.MAASTRICHT_HEUVELLAND, name="MH 2026-2027")
    enrolment = make_eligible_enrolment(cohort, participant)

    certificate = service.issue_certificate(enrolment, actor=coordinator, now=NOW)

    assert certificate.number == "VK-2027-MH-0001"
    assert len(certificate.verification_code) >= 43
    stored = get_storage().read(certificate.pdf_storage_key)
    assert hashlib.sha256(stored).hexdigest() == certificate.pdf_sha256
    reader = read_pdf(stored)
    text = pdf_text(reader)
    assert "Zoë Çelik-Doğan" in text
    assert "VK-2027-MH-0001" in text
    assert cohort.programme.title in text
    assert "Certificaat" in text  # Dutch, whatever the coordinator's language
    assert "Maastricht-Heuvelland" in text
    assert "Veiligheid" in text and "ICT-basisvaardigheden" in text  # groups and skills achieved
    # Signed by the programme manager and the trainer; the issuing coordinator is on record, not printed.
    assert "Tinus Trainer" in text and issuer.programme_manager() in text
    assert "Corrie Coördinator" not in text
    assert certificate.issued_by == coordinator
    verify_url = "http://127.0.0.1:5000/verify/" + certificate.verification_code
    assert service.verification_url(certificate.verification_code) == verify_url
    assert verify_url in link_targets(reader)  # the QR code is a link to the same address
    assert reader.metadata.title == "Certificaat VK-2027-MH-0001"
    assert reader.metadata.author == issuer.owner().name
    assert "Zoë Çelik-Doğan" in reader.metadata.subject
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1)  # A4
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("DejaVuSans" in font for font in fonts)  # embedded, so ë, ç and ğ print


def test_the_qr_code_encodes_the_verification_address_in_one_drawn_path() -> None:
    from itertools import groupby

    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.pdfgen.canvas import Canvas

    from lms.pdf.certificate import QR_BORDER, draw_qr, qr_modules

    url = "https://lms.example/verify/abc"
    widget = QrCodeWidget(url, barLevel="M")  # ReportLab's own QR code of the address
    widget.qr.make()
    modules = qr_modules(url)
    assert modules == [[bool(m) for m in row] for row in widget.qr.modules]

    # Drawn as one filled path, one rectangle per run of dark modules, inside the square given.
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pageCompression=0)
    draw_qr(canvas, url, 100, 200, size=90)
    canvas.showPage()
    canvas.save()
    content = read_pdf(buffer.getvalue()).pages[0].get_contents().get_data().decode()
    (scale,) = re.findall(r"^(\S+) 0 0 (\S+) 100 200 cm$", content, re.MULTILINE)
    side = len(modules) + 2 * QR_BORDER
    assert float(scale[0]) == float(scale[1]) == pytest.approx(90 / side, abs=1e-4)
    rectangles = [
        tuple(map(int, found))
        for found in re.findall(r"^(\d+) (\d+) (\d+) 1 re$", content, re.MULTILINE)
    ]
    runs = sum(1 for row in modules for dark, _ in groupby(row) if dark)
    assert len(rectangles) == runs
    assert len(re.findall(r"^f$", content, re.MULTILINE)) == 1  # filled once
    # Painted back module by module (y counts from the bottom), the picture is the code, quiet zone blank.
    painted = [[False] * side for _ in range(side)]
    for x, y, width in rectangles:
        for column in range(x, x + width):
            painted[side - 1 - y][column] = True
    inner = [row[QR_BORDER : side - QR_BORDER] for row in painted[QR_BORDER : side - QR_BORDER]]
    assert inner == modules
    assert sum(map(sum, painted)) == sum(map(sum, modules))


def test_numbers_count_up_per_region_and_year(db, coordinator):  # type: ignore[no-untyped-def]
    parkstad = make_finished_cohort(region=Region.PARKSTAD)
    mijnstreek = make_finished_cohort(region=Region.WESTELIJKE_MIJNSTREEK)
    now = NOW
    numbers = [
        service.issue_certificate(
            make_eligible_enrolment(parkstad), actor=coordinator, now=now
        ).number,
        service.issue_certificate(
            make_eligible_enrolment(parkstad), actor=coordinator, now=now
        ).number,
        service.issue_certificate(
            make_eligible_enrolment(mijnstreek), actor=coordinator, now=now
        ).number,
    ]
    later = datetime(2028, 1, 5, 10, tzinfo=clock.LOCAL_TZ)
    numbers.append(
        service.issue_certificate(
            make_eligible_enrolment(parkstad), actor=coordinator, now=later
        ).number
    )

    assert numbers == ["VK-2027-PK-0001", "VK-2027-PK-0002", "VK-2027-WM-0001", "VK-2028-PK-0001"]


def test_a_participant_who_is_not_eligible_gets_no_certificate(db, coordinator):  # type: ignore[no-untyped-def]
    enrolment = make_enrolment(make_finished_cohort())

    with pytest.raises(service.CertificateError, match="heeft nog geen recht"):
        service.issue_certificate(enrolment, actor=coordinator, now=NOW)
    assert db.session.query(Certificate).count() == 0


def test_a_second_valid_certificate_is_refused(db, coordinator):  # type: ignore[no-untyped-def]
    enrolment = make_eligible_enrolment()
    service.issue_certificate(enrolment, actor=coordinator, now=NOW)

    with pytest.raises(service.CertificateError, match="heeft al een geldig certificaat"):
        service.issue_certificate(enrolment, actor=coordinator, now=NOW)


@pytest.mark.parametrize("role", [Role.TRAINER, Role.PARTICIPANT, Role.EMPLOYER])
def test_only_the_coordinator_issues_or_revokes(db, coordinator, role):  # type: ignore[no-untyped-def]
    enrolment = make_eligible_enrolment()
    other = make_user(role)
    with pytest.raises(service.CertificateError, match="Alleen de coördinator"):
        service.issue_certificate(enrolment, actor=other, now=NOW)
    certificate = service.issue_certificate(enrolment, actor=coordinator, now=NOW)
    with pytest.raises(service.CertificateError, match="Alleen de coördinator"):
        service.revoke_certificate(certificate, actor=other, reason="Fout", now=NOW)
    with pytest.raises(service.CertificateError, match="Alleen de coördinator"):
        service.reissue_certificate(certificate, actor=other, reason="Fout", now=NOW)
    assert not certificate.is_revoked


def test_verification_facts_show_state_name_programme_and_date_only(db, coordinator):  # type: ignore[no-untyped-def]
    enrolment = make_eligible_enrolment()
    certificate = service.issue_certificate(enrolment, actor=coordinator, now=NOW)

    facts = service.verification_facts(certificate.verification_code)

    assert facts == {
        "status": "valid",
        "name": enrolment.participant.full_name,
        "programme": enrolment.cohort.programme.title,
        "issued_on": "2027-07-02",
    }
    assert service.verification_facts("unknown-code") is None
    assert service.verification_facts("") is None


def test_revoke_needs_a_reason_and_shows_revoked(db, coordinator):  # type: ignore[no-untyped-def]
    enrolment = make_eligible_enrolment()
    certificate = service.issue_certificate(enrolment, actor=coordinator, now=NOW)

    with pytest.raises(service.CertificateError, match="Geef een reden"):
        service.revoke_certificate(certificate, actor=coordinator, reason="  ", now=NOW)
    service.revoke_certificate(certificate, actor=coordinator, reason="Fraude met bewijs.", now=NOW)

    assert certificate.revocation_reason == "Fraude met bewijs."
    assert service.verification_facts(certificate.verification_code)["status"] == "revoked"
    status = service.certificate_status([enrolment], FINISHED)[enrolment.id]
    assert status.certificate is None and status.due  # may get a new one
    with pytest.raises(service.CertificateError, match="is al ingetrokken"):
        service.revoke_certificate(certificate, actor=coordinator, reason="Nog eens", now=NOW)


def test_reissue_gives_a_new_number_and_the_old_one_shows_replaced(db, coordinator):  # type: ignore[no-untyped-def]
    participant = make_user(first_name="Jeanne", last_name="Janssen-Dreesen")
    enrolment = make_eligible_enrolment(participant=participant)
    old = service.issue_certificate(enrolment, actor=coordinator, now=NOW)
    participant.last_name = "Janssen-Dreessen"  # the name was misspelt

    new = service.reissue_certificate(
        old, actor=coordinator, reason="Naam verkeerd gespeld.", now=NOW
    )

    assert new.number == "VK-2027-PK-0002" and new.number != old.number
    assert new.verification_code != old.verification_code
    assert new.replaces is old and old.replaced_by is new
    assert old.is_revoked and old.revocation_reason == "Naam verkeerd gespeld."
    old_facts = service.verification_facts(old.verification_code)
    new_facts = service.verification_facts(new.verification_code)
    assert old_facts["status"] == "replaced" and new_facts["status"] == "valid"
    # Each shows the name as printed on its own paper.
    assert old_facts["name"] == "Jeanne Janssen-Dreesen"
    assert new_facts["name"] == "Jeanne Janssen-Dreessen"
    assert "Janssen-Dreessen" in pdf_text(read_pdf(service.certificate_pdf(new)))
    with pytest.raises(service.CertificateError, match="is al vervangen"):
        service.reissue_certificate(old, actor=coordinator, reason="Nog eens", now=NOW)


def test_every_download_returns_the_stored_bytes_and_a_changed_file_is_refused(db, coordinator):  # type: ignore[no-untyped-def]
    certificate = service.issue_certificate(make_eligible_enrolment(), actor=coordinator, now=NOW)
    first = service.certificate_pdf(certificate)
    assert service.certificate_pdf(certificate) == first

    storage = get_storage()
    path = storage._path(certificate.pdf_storage_key)  # type: ignore[attr-defined]
    path.write_bytes(
        first.replace(b"VK-2027", b"VK-2099", 1) if b"VK-2027" in first else first + b"x"
    )
    with pytest.raises(service.CertificateFileError):
        service.certificate_pdf(certificate)


def test_bulk_issues_everyone_due_and_the_zip_holds_their_pdfs(db, coordinator):  # type: ignore[no-untyped-def]
    cohort = make_finished_cohort()
    ready = [make_eligible_enrolment(cohort) for _ in range(3)]
    busy = make_enrolment(cohort)
    already = make_eligible_enrolment(cohort)
    earlier = service.issue_certificate(already, actor=coordinator, now=NOW)

    issued = service.issue_for_cohort(cohort, actor=coordinator, now=NOW)

    assert sorted(c.enrolment_id for c in issued) == sorted(e.id for e in ready)
    assert busy.id not in {c.enrolment_id for c in issued}
    data, count = service.cohort_zip(cohort)
    assert count == 4
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert len(names) == 4
        for certificate in [*issued, earlier]:
            (name,) = [n for n in names if n.startswith(certificate.number + "-")]
            assert archive.read(name) == service.certificate_pdf(certificate)


def test_a_failed_transaction_leaves_no_stored_pdf(db, coordinator):  # type: ignore[no-untyped-def]
    enrolment = make_eligible_enrolment()
    db.session.commit()
    certificate = service.issue_certificate(enrolment, actor=coordinator, now=NOW)
    key = certificate.pdf_storage_key
    assert get_storage().exists(key)

    db.session.rollback()

    assert not get_storage().exists(key)


def test_a_number_taken_in_the_meantime_is_retried_with_the_next_one(  # type: ignore[no-untyped-def]
    db, coordinator, monkeypatch
):
    """Another process took VK-2027-PK-0001 between reading and writing: the insert hits the unique
    number, that savepoint is rolled back (its PDF removed) and the next number is taken."""
    cohort = make_finished_cohort()
    first = service.issue_certificate(make_eligible_enrolment(cohort), actor=coordinator, now=NOW)
    enrolment = make_eligible_enrolment(cohort)
    real_next_number = service.next_number
    calls = []

    def stale_then_real(region, year):  # type: ignore[no-untyped-def]
        calls.append(year)
        return first.number if len(calls) == 1 else real_next_number(region, year)

    monkeypatch.setattr(service, "next_number", stale_then_real)
    saved: list[str] = []
    storage = get_storage()
    real_save = storage.save
    monkeypatch.setattr(
        storage, "save", lambda data, suffix: saved.append(real_save(data, suffix)) or saved[-1]
    )

    second = service.issue_certificate(enrolment, actor=coordinator, now=NOW)

    assert second.number == "VK-2027-PK-0002" and len(calls) == 2
    assert len(saved) == 2 and not storage.exists(saved[0]) and storage.exists(saved[1])
    assert "VK-2027-PK-0002" in pdf_text(read_pdf(service.certificate_pdf(second)))
    db.session.commit()
    assert db.session.query(Certificate).count() == 2


def test_two_coordinators_issuing_at_once_get_different_numbers(app, db, coordinator, monkeypatch):  # type: ignore[no-untyped-def]
    """Two connections issue in the same region and year at the same moment. Each thread reads the
    highest number and then waits at a barrier for the other; without the numbering lock both would read
    nothing and choose 0001 (and only the retry on the unique number would save the second). With it the
    second cannot read until the first has committed."""
    import contextlib
    import threading

    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has one writer at a time")
    cohort = make_finished_cohort()
    enrolments = [make_eligible_enrolment(cohort), make_eligible_enrolment(cohort)]
    db.session.commit()
    ids = [e.id for e in enrolments]
    coordinator_id = coordinator.id
    both_read = threading.Barrier(2, timeout=3)
    real_next_number = service.next_number

    def read_then_wait(region, year):  # type: ignore[no-untyped-def]
        number = real_next_number(region, year)
        # A broken barrier: the other one waits for the lock, not reading.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait()
        return number

    monkeypatch.setattr(service, "next_number", read_then_wait)
    outcomes: dict[int, str] = {}

    def issue_one(enrolment_id: int) -> None:
        with app.app_context():
            from lms.extensions import db as thread_db
            from lms.models import Enrolment, User

            session = thread_db.session
            try:
                certificate = service.issue_certificate(
                    session.get(Enrolment, enrolment_id),
                    actor=session.get(User, coordinator_id),
                    now=NOW,
                )
                session.commit()
                outcomes[enrolment_id] = certificate.number
            except Exception as error:  # pragma: no cover - reported by the assertion below
                session.rollback()
                outcomes[enrolment_id] = f"error: {error!r}"

    threads = [threading.Thread(target=issue_one, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["VK-2027-PK-0001", "VK-2027-PK-0002"], outcomes


def test_a_completed_enrolment_can_have_its_certificate_reissued_but_not_a_first_one(  # type: ignore[no-untyped-def]
    db, coordinator
):
    from lms.models import EnrolmentStatus

    enrolment = make_eligible_enrolment()
    old = service.issue_certificate(enrolment, actor=coordinator, now=NOW)
    enrolment.status = EnrolmentStatus.COMPLETED
    enrolment.ended_on = FINISHED
    other = make_eligible_enrolment(enrolment.cohort)
    other.status = EnrolmentStatus.COMPLETED
    other.ended_on = FINISHED
    db.session.flush()

    new = service.reissue_certificate(old, actor=coordinator, reason="Naam fout", now=NOW)

    assert new.replaces is old
    assert service.eligibility(enrolment, FINISHED).may_reissue
    with pytest.raises(service.CertificateError, match="heeft nog geen recht"):
        service.issue_certificate(other, actor=coordinator, now=NOW)
