"""Privacy (AVG/GDPR): data export, erasure, retention, no national id, audited file access."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.extensions import db as _db
from lms.models import (
    AccountToken,
    Attempt,
    AuditEvent,
    Certificate,
    EnrolmentStatus,
    EvidenceFile,
    Notification,
    OutboxMessage,
    Role,
    SignOff,
    User,
    WorkplaceConfirmation,
    WorkplaceObservation,
)
from lms.services import accounts, privacy
from lms.services.signoff import check_ledger
from lms.storage import get_storage
from tests.factories import make_cohort, make_enrolment, make_user
from tests.scenarios import build_world


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    return build_world()


def read_zip(response) -> zipfile.ZipFile:  # type: ignore[no-untyped-def]
    return zipfile.ZipFile(io.BytesIO(response.data))


def end(enrolment, status=EnrolmentStatus.COMPLETED):  # type: ignore[no-untyped-def]
    ended_on = enrolment.cohort.end_date
    enrolment.status, enrolment.ended_on = status, ended_on
    enrolment.end_reason = "Afgerond, met een persoonlijke toelichting."


# --- no national id -------------------------------------------------------------------------------

NATIONAL_ID = re.compile(
    r"bsn|burgerservice|social_?security|sofi|national_?id|citizen_?id|passport|paspoort|"
    r"id_?card|identiteit|id_?number|document_?number",
    re.I,
)


def test_no_table_or_column_holds_a_national_id(app) -> None:
    offenders = [
        f"{table.name}.{column.name}"
        for table in _db.metadata.sorted_tables
        for column in table.columns
        if NATIONAL_ID.search(column.name) or NATIONAL_ID.search(column.comment or "")
    ]
    offenders += [
        table.name for table in _db.metadata.sorted_tables if NATIONAL_ID.search(table.name)
    ]
    assert offenders == [], "BSN or another national id must never be stored: " + ", ".join(
        offenders
    )


# --- export ---------------------------------------------------------------------------------------


def test_a_person_downloads_their_own_data_with_their_files(client, auth, world) -> None:
    auth.login(world.participant.email)
    assert 'href="/privacy/mine/export"' in client.get("/profile").get_data(as_text=True)
    response = client.get("/privacy/mine/export")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    archive = read_zip(response)
    data = json.loads(archive.read("gegevens.json"))
    tables = data["tables"]
    assert tables["users"][0]["email"] == world.participant.email
    assert "password_hash" not in tables["users"][0]
    assert tables["enrolments"][0]["id"] == world.enrolment.id
    reflections = {row["what_i_did"] for row in tables["attempts"]}
    assert "Ik heb de draaibank van oom Jan ingesteld." in reflections
    assert {row["id"] for row in tables["signoffs"]} == {world.signoff.id}
    assert tables["workplace_observations"][0]["note"].startswith("Priya droeg")
    assert tables["notifications"][0]["kind"] == "test"
    # Nothing of the other participant.
    assert all(row["participant_id"] == world.participant.id for row in tables["enrolments"])
    # The evidence file itself, byte for byte.
    (name,) = [n for n in archive.namelist() if n.startswith("files/evidence-")]
    assert archive.read(name) == get_storage().read(world.evidence.storage_key)
    certificate = f"files/certificate-{world.certificate.number}.pdf"
    assert data["files"] == [name, certificate]
    assert archive.read(certificate) == get_storage().read(world.certificate.pdf_storage_key)


def test_the_coordinator_exports_a_persons_data_and_it_is_audited(client, auth, db, world) -> None:
    auth.login(world.coordinator.email)
    page = client.get(f"/people/{world.participant.id}").get_data(as_text=True)
    assert f'href="/privacy/people/{world.participant.id}/export"' in page
    response = client.get(f"/privacy/people/{world.participant.id}/export")
    assert response.status_code == 200
    data = json.loads(read_zip(response).read("gegevens.json"))
    assert data["person"]["id"] == world.participant.id
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "person.export"))
    assert (event.actor_id, event.subject_id) == (world.coordinator.id, world.participant.id)


@pytest.mark.parametrize("who", ["participant", "trainer", "contact", "other_participant"])
def test_only_the_coordinator_exports_someone_else(client, auth, world, who: str) -> None:
    auth.login(getattr(world, who).email)
    assert client.get(f"/privacy/people/{world.other_participant.id}/export").status_code == 404
    assert client.get(f"/privacy/people/{world.other_participant.id}/erase").status_code == 404


def test_export_needs_a_login(client, world) -> None:
    response = client.get("/privacy/mine/export")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- erasure --------------------------------------------------------------------------------------


def test_an_active_participant_cannot_be_erased(client, auth, db, world) -> None:
    auth.login(world.coordinator.email)
    page = client.get(f"/privacy/people/{world.participant.id}/erase").get_data(as_text=True)
    assert "is nog ingeschreven" in page
    response = auth.post(f"/privacy/people/{world.participant.id}/erase", {"understood": "y"})
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(User, world.participant.id).email == world.participant.email


def test_erasure_needs_the_box_ticked(client, auth, db, world) -> None:
    end(world.enrolment)
    db.session.commit()
    auth.login(world.coordinator.email)
    response = auth.post(f"/privacy/people/{world.participant.id}/erase", {"reason": "Verzoek"})
    assert response.status_code == 200
    assert "Vink het vakje aan" in response.get_data(as_text=True)
    db.session.expire_all()
    assert not privacy.is_erased(db.session.get(User, world.participant.id))


def test_erasure_removes_personal_data_and_keeps_the_records(app, client, auth, db, world) -> None:
    participant_id, email = world.participant.id, world.participant.email
    key = world.evidence.storage_key
    accounts.request_password_reset(email)
    end(world.enrolment)
    db.session.commit()
    # The participant is logged in somewhere.
    device = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(device).login(email)
    auth.login(world.coordinator.email)
    response = auth.post(
        f"/privacy/people/{participant_id}/erase",
        {"reason": "Verzoek van de deelnemer", "understood": "y"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/people/{participant_id}"
    db.session.expire_all()
    user = db.session.get(User, participant_id)
    assert user.email == f"erased-{participant_id}@erased.invalid"
    assert "Priya" not in user.full_name and user.phone == "" and user.password_hash is None
    assert not user.is_active
    assert device.get("/portfolio/").status_code == 302  # their session ended
    # Evidence: rows and files gone.
    assert db.session.scalar(sa.select(sa.func.count(EvidenceFile.id))) == 0
    assert not get_storage().exists(key)
    # Free text cleared; the records themselves stay.
    attempts = db.session.scalars(
        sa.select(Attempt).where(Attempt.submission_id == world.handed_in.id)
    ).all()
    assert attempts and all(a.what_i_did == "" for a in attempts)
    assert db.session.scalar(sa.select(WorkplaceConfirmation.remark)) == ""
    assert db.session.scalar(sa.select(WorkplaceObservation.note)) == ""
    assert db.session.scalar(sa.select(sa.func.count(SignOff.id))) == 1
    assert check_ledger().ok  # the hash chain is untouched
    # Account-only rows deleted: tokens, notifications, mail to them.
    assert db.session.scalar(sa.select(sa.func.count(AccountToken.id))) == 0
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(Notification.user_id == participant_id)
        )
        == 0
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.recipient == email)
        )
        == 0
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.actor_id == participant_id, AuditEvent.ip_address != ""
            )
        )
        == 0
    )
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "person.erase"))
    assert event.details["reason"] == "Verzoek van de deelnemer"
    # The other participant is untouched.
    assert db.session.get(User, world.other_participant.id).email == world.other_participant.email
    # A second erasure is refused with a reason.
    page = client.get(f"/privacy/people/{participant_id}/erase").get_data(as_text=True)
    assert "al gewist" in page


def test_a_certificate_stays_verifiable_after_erasure(app, db, world) -> None:
    end(world.enrolment)
    db.session.commit()
    certificate = world.certificate
    assert certificate.holder_name == ""  # issued before names were stored on certificates
    report = privacy.erase_person(world.participant, actor=world.coordinator)
    db.session.commit()
    assert report.certificates_kept == 1
    db.session.expire_all()
    kept = db.session.get(Certificate, certificate.id)
    assert kept.verification_code == certificate.verification_code and kept.revoked_at is None
    assert get_storage().exists(kept.pdf_storage_key)
    # The account is pseudonymised; the certificate keeps the name printed on it.
    assert "Priya" not in kept.enrolment.participant.full_name
    assert privacy.is_erased(kept.enrolment.participant)
    assert kept.holder_name == "Priya Deelnemer"
    assert kept.programme_title == world.programme.title
    from lms.services.certificates import verification_facts

    facts = verification_facts(kept.verification_code)
    assert facts["status"] == "valid" and facts["name"] == "Priya Deelnemer"


def test_a_coordinator_cannot_erase_themselves(db, world) -> None:
    with pytest.raises(privacy.PrivacyError):
        privacy.erase_person(world.coordinator, actor=world.coordinator)


def test_a_trainer_is_pseudonymised_and_their_sign_offs_stay(db, world) -> None:
    privacy.erase_person(world.trainer, actor=world.coordinator)
    db.session.commit()
    db.session.expire_all()
    signoff = db.session.get(SignOff, world.signoff.id)
    assert signoff.signed_by_id == world.trainer.id
    assert "Tineke" not in signoff.signed_by.full_name
    assert check_ledger().ok


# --- retention ------------------------------------------------------------------------------------


def test_retention_dry_run_lists_and_changes_nothing(app, runner, db, world) -> None:
    old_cohort = make_cohort(world.programme, name="Parkstad 2022", start=date(2022, 9, 5))
    old = make_enrolment(old_cohort, make_user(Role.PARTICIPANT, first_name="Oud"))
    end(old)
    db.session.commit()
    result = runner.invoke(args=["lms", "retention", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"would erase #{old.participant_id} Oud" in result.output
    assert "Priya" not in result.output  # her cohort is running
    assert "1 participant(s) would be erased; nothing changed" in result.output
    db.session.expire_all()
    assert not privacy.is_erased(db.session.get(User, old.participant_id))


def test_retention_erases_finished_cohorts_once(app, runner, db, world) -> None:
    old_cohort = make_cohort(world.programme, name="Parkstad 2022", start=date(2022, 9, 5))
    old = make_enrolment(old_cohort, make_user(Role.PARTICIPANT, first_name="Oud"))
    end(old)
    # Finished, but recently: kept.
    recent_cohort = make_cohort(
        world.programme, name="Parkstad 2025", start=clock.today() - timedelta(days=400)
    )
    recent = make_enrolment(recent_cohort, make_user(Role.PARTICIPANT, first_name="Recent"))
    end(recent)
    db.session.commit()
    result = runner.invoke(args=["lms", "retention"])
    assert result.exit_code == 0, result.output
    assert "Erased 1 participant(s)" in result.output
    db.session.expire_all()
    assert privacy.is_erased(db.session.get(User, old.participant_id))
    assert not privacy.is_erased(db.session.get(User, recent.participant_id))
    assert not privacy.is_erased(db.session.get(User, world.participant.id))
    again = runner.invoke(args=["lms", "retention"])
    assert "Erased 0 participant(s)" in again.output


def test_retention_period_is_configurable(app, db, world) -> None:
    old_cohort = make_cohort(world.programme, name="Parkstad 2022", start=date(2022, 9, 5))
    end(make_enrolment(old_cohort, make_user(Role.PARTICIPANT)))
    db.session.commit()
    assert len(privacy.retention_candidates()) == 1
    app.config["RETENTION_MONTHS"] = 12 * 10
    assert privacy.retention_candidates() == []


# --- audited access -------------------------------------------------------------------------------


def test_coordinator_opening_a_participants_file_is_audited(client, auth, db, world) -> None:
    auth.login(world.coordinator.email)
    assert client.get(f"/people/{world.participant.id}").status_code == 200
    assert client.get(f"/checklists/enrolments/{world.enrolment.id}").status_code == 200
    assert client.get(f"/portfolio/evidence/{world.evidence.id}").status_code == 200
    events = db.session.execute(
        sa.select(AuditEvent.subject_type, AuditEvent.subject_id, AuditEvent.details)
        .where(
            AuditEvent.action == "participant_file.view",
            AuditEvent.actor_id == world.coordinator.id,
        )
        .order_by(AuditEvent.id)
    ).all()
    assert [(kind, subject) for kind, subject, _ in events] == [
        ("User", world.participant.id),
        ("Enrolment", world.enrolment.id),
        ("EvidenceFile", world.evidence.id),
    ]
    assert events[1].details["endpoint"] == "checklists.enrolment"


def test_other_roles_and_lists_are_not_logged_as_file_access(client, auth, db, world) -> None:
    auth.login(world.trainer.email)
    assert client.get(f"/checklists/enrolments/{world.enrolment.id}").status_code == 200
    auth.logout()
    auth.login(world.coordinator.email)
    assert client.get("/people/participants/").status_code == 200
    assert client.get("/people/99999").status_code == 404
    count = db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "participant_file.view")
    )
    assert count == 0
