"""The issuer: the programme's owner, partners, programme manager and place of issue as configuration,
printed on the certificate PDF, named in the Open Badges credential and on the public verify page."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime

import pypdf
import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from config import ConfigurationError, TestingConfig, parse_partners
from lms import clock, create_app
from lms.dates import short_date
from lms.models import Assessment, Attempt, Role, Submission, Verdict
from lms.services import badge_keys, badges, issuer
from lms.services import certificates as service
from lms.storage import get_storage
from tests.certificate_helpers import complete, make_eligible_enrolment, make_finished_cohort
from tests.factories import make_enrolment, make_photo_bytes, make_user

NOW = datetime(2027, 7, 2, 10, tzinfo=clock.LOCAL_TZ)
LATER = datetime(2027, 7, 20, 10, tzinfo=clock.LOCAL_TZ)


@pytest.fixture
def coordinator(db):  # type: ignore[no-untyped-def]
    return make_user(Role.COORDINATOR, first_name="Corrie", last_name="Coördinator")


@pytest.fixture
def configured(app):  # type: ignore[no-untyped-def]
    """An owner and programme manager other than the demo values, as a deployment would set them."""
    app.config.update(
        ISSUER_NAME="Stichting Opleidingshuis Test",
        ISSUER_STREET_ADDRESS="Proefweg 7",
        ISSUER_POSTAL_CODE="6131 ZZ",
        ISSUER_LOCALITY="Sittard",
        ISSUER_URL="https://opleidingshuis.example/",
        PROGRAMME_MANAGER_NAME="Mara Manager",
        CERTIFICATE_PLACE="Sittard",
        PROGRAMME_PARTNERS=parse_partners('[{"name": "Technicom"}, {"name": "ESZL"}]'),
    )
    return app


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def one_line(text: str) -> str:
    return " ".join(text.split())


def images_in(data: bytes) -> int:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return sum(len(page.images) for page in reader.pages)


# --- the certificate PDF --------------------------------------------------------------------------


def test_the_certificate_names_the_issuer_the_kind_of_document_place_date_and_signatures(
    configured, db, coordinator
):  # type: ignore[no-untyped-def]
    enrolment = make_eligible_enrolment()
    certificate = service.issue_certificate(enrolment, actor=coordinator, now=NOW)

    data = get_storage().read(certificate.pdf_storage_key)
    text = one_line(pdf_text(data))
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages) == 1
    assert "Stichting Opleidingshuis Test verklaart dat" in text
    assert "Hierbij verklaren wij" not in text
    assert "Proefweg 7, 6131 ZZ Sittard" in text and "https://opleidingshuis.example/" in text
    assert "Programmacertificaat (certificaat van deelname) op mbo-niveau 2" in text
    assert "geen mbo-diploma" in text
    with force_locale("nl"):
        issued_on = short_date(NOW.date())
    assert f"Uitgereikt in Sittard op {issued_on}" in text
    assert "Mara Manager" in text and "Programmamanager" in text
    assert "Tinus Trainer" in text  # the cohort's trainer, who signed everything off
    assert "In samenwerking met Technicom, ESZL." in text
    assert images_in(data) == 1  # the demo logo
    assert pypdf.PdfReader(io.BytesIO(data)).metadata.author == "Stichting Opleidingshuis Test"


def test_without_a_logo_file_the_certificate_is_printed_without_one(configured, db, coordinator):  # type: ignore[no-untyped-def]
    configured.config["ISSUER_LOGO"] = "img/does-not-exist.png"
    certificate = service.issue_certificate(make_eligible_enrolment(), actor=coordinator, now=NOW)
    data = get_storage().read(certificate.pdf_storage_key)
    assert images_in(data) == 0
    assert "Stichting Opleidingshuis Test" in pdf_text(data)


def test_a_logo_outside_the_static_folder_or_not_an_image_is_not_used(app, tmp_path):  # type: ignore[no-untyped-def]
    assert issuer.logo_file(issuer.Organisation("X", logo="../../config.py")) is None
    not_an_image = tmp_path / "logo.png"
    not_an_image.write_text("no image")
    assert issuer.logo_file(issuer.Organisation("X", logo=str(not_an_image))) is None
    assert issuer.logo_url(issuer.Organisation("X", logo=str(not_an_image))) is None
    elsewhere = tmp_path / "real.png"
    elsewhere.write_bytes(make_photo_bytes(image_format="PNG"))
    assert issuer.logo_file(issuer.Organisation("X", logo=str(elsewhere))) == elsewhere
    assert issuer.logo_url(issuer.Organisation("X", logo=str(elsewhere))) is None  # not public
    assert issuer.logo_file(issuer.owner()) is not None  # the demo logo ships with the app


def test_the_signing_trainer_is_the_one_who_assessed_most_else_the_first_by_name(db):  # type: ignore[no-untyped-def]
    anna = make_user(Role.TRAINER, first_name="Anna", last_name="Aardse")
    zeger = make_user(Role.TRAINER, first_name="Zeger", last_name="Zwart")
    cohort = make_finished_cohort(trainer=anna)
    cohort.trainers.append(zeger)
    db.session.flush()
    untouched = make_enrolment(cohort)
    assert service.signing_trainer(untouched) == anna  # nobody assessed: the first by name

    enrolment = complete(make_enrolment(cohort))  # Anna signs every checklist item off
    assert service.signing_trainer(enrolment) == anna
    attempts = list(
        db.session.scalars(
            sa.select(Attempt).join(Submission).where(Submission.enrolment_id == enrolment.id)
        )
    )
    signoffs = sum(len(group.items) for group in cohort.programme.checklist_groups)
    assert len(attempts) > signoffs
    for attempt in attempts:  # Zeger gave more verdicts than Anna sign-offs
        db.session.add(Assessment(attempt=attempt, assessor=zeger, verdict=Verdict.APPROVED))
    db.session.flush()
    assert service.signing_trainer(enrolment) == zeger
    assert service.signing_trainer(untouched) == anna  # counted per participant


def test_a_cohort_without_trainers_has_only_the_programme_managers_signature(db, coordinator):  # type: ignore[no-untyped-def]
    enrolment = make_eligible_enrolment()
    enrolment.cohort.trainers.clear()
    db.session.flush()
    text = service.certificate_text(
        enrolment, number="VK-2027-PK-0001", code="x" * 43, issued_on=NOW.date(), issuer=coordinator
    )
    assert [name for _role, name in text.signatures] == [issuer.programme_manager()]


def test_a_stored_certificate_keeps_its_text_and_a_reissue_gets_the_new_one(app, db, coordinator):  # type: ignore[no-untyped-def]
    enrolment = make_eligible_enrolment()
    old = service.issue_certificate(enrolment, actor=coordinator, now=NOW)
    db.session.commit()
    old_bytes = service.certificate_pdf(old)
    assert app.config["ISSUER_NAME"] in pdf_text(old_bytes)

    app.config.update(ISSUER_NAME="Nieuwe Eigenaar B.V.", PROGRAMME_MANAGER_NAME="Nina Nieuw")
    assert service.certificate_pdf(old) == old_bytes  # stored, hashed, never rendered again
    assert hashlib.sha256(old_bytes).hexdigest() == old.pdf_sha256
    new = service.reissue_certificate(old, actor=coordinator, reason="Naam gewijzigd", now=LATER)
    text = one_line(pdf_text(service.certificate_pdf(new)))
    assert "Nieuwe Eigenaar B.V. verklaart dat" in text and "Nina Nieuw" in text


# --- the badge -------------------------------------------------------------------------------------


def test_the_badge_names_the_configured_owner_and_calls_the_scale_the_programmes_own(
    configured, db, coordinator
):  # type: ignore[no-untyped-def]
    badge_keys.ensure_key(badge_keys.key_dir(), NOW)
    certificate = service.issue_certificate(make_eligible_enrolment(), actor=coordinator, now=NOW)
    credential = badges.build_credential(certificate)

    profile = credential["issuer"]
    assert profile["name"] == "Stichting Opleidingshuis Test"
    assert profile["url"] == "https://opleidingshuis.example/"
    assert profile["address"] == {
        "type": ["Address"],
        "streetAddress": "Proefweg 7",
        "postalCode": "6131 ZZ",
        "addressLocality": "Sittard",
        "addressCountry": "NL",
    }
    assert profile["image"]["id"].endswith("/static/img/issuer-logo-demo.png")
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["creator"] == profile
    assert "(SLO)" not in json.dumps(credential, ensure_ascii=False)
    frameworks = {a["targetType"]: a["targetFramework"] for a in achievement["alignment"]}
    assert "SLO" not in frameworks["ceasn:Competency"]
    assert "SLO" in frameworks["ext:21stCenturySkill"]  # only the skill names are SLO's
    narrative = achievement["criteria"]["narrative"]
    assert "eigen beoordelingsschaal van de opleiding" in narrative
    report = badges.verify_credential(badges.credential_jwt(certificate))
    assert report.valid and "Stichting Opleidingshuis Test" in report.issuer.message


# --- the public verify page ------------------------------------------------------------------------


def test_the_verify_page_names_the_issuer(configured, db, client, coordinator):  # type: ignore[no-untyped-def]
    certificate = service.issue_certificate(make_eligible_enrolment(), actor=coordinator, now=NOW)
    db.session.commit()
    page = client.get(f"/verify/{certificate.verification_code}").get_data(as_text=True)
    assert "uitgereikt door Stichting Opleidingshuis Test" in page
    assert "Vakkracht MKB Zuid-Limburg en is geldig" not in page


# --- configuration ---------------------------------------------------------------------------------


def test_the_issuer_settings_come_from_the_environment(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("ISSUER_NAME", "Opleider uit de omgeving")
    monkeypatch.setenv("ISSUER_URL", "https://omgeving.example/")
    monkeypatch.setenv("PROGRAMME_MANAGER_NAME", "Omar Omgeving")
    monkeypatch.setenv("CERTIFICATE_PLACE", "Kerkrade")
    monkeypatch.setenv(
        "PROGRAMME_PARTNERS", '[{"name": "Partner A", "url": "https://a.example/"}, {"name": "B"}]'
    )
    app = create_app(TestingConfig)
    with app.app_context():
        assert issuer.owner().name == "Opleider uit de omgeving"
        assert issuer.owner().url == "https://omgeving.example/"
        assert issuer.programme_manager() == "Omar Omgeving"
        assert issuer.place_of_issue() == "Kerkrade"
        assert issuer.partners() == [
            issuer.Organisation("Partner A", url="https://a.example/"),
            issuer.Organisation("B"),
        ]
        assert issuer.owner().locality == TestingConfig.ISSUER_LOCALITY  # not set: the default


def test_the_defaults_are_demo_values_naming_the_real_partners(app):  # type: ignore[no-untyped-def]
    names = [partner.name for partner in issuer.partners()]
    assert "Technicom" in names and "SIM LeerWerkFabriek" in names
    assert any("ESZL" in name for name in names)
    assert all(
        ".example" in partner.url for partner in issuer.partners() if partner.url
    )  # no real website is claimed
    assert ".example" in issuer.owner().url and "demo" in issuer.programme_manager()


@pytest.mark.parametrize(
    "text",
    ["not json", "{}", '[{"url": "https://x.example/"}]', '[{"name": ""}]', '[{"name": 3}]'],
)
def test_partners_that_cannot_be_read_stop_the_application(monkeypatch, tmp_path, text):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PROGRAMME_PARTNERS", text)
    with pytest.raises(ConfigurationError, match="PROGRAMME_PARTNERS"):
        create_app(TestingConfig)
