"""Certificate pages over HTTP: public verification (page, JSON, 404, rate limit), issuing one and a
whole cohort (JSON for the progress bar, a plain form post without JavaScript), the ZIP, revoke and
reissue with confirmation, downloads for participant and employer, the progress report, and that
nobody but the coordinator can issue or revoke."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from pypdf import PdfReader

from lms import clock
from lms.models import Certificate, Region, Role
from lms.models.reviews import ProgressReview
from lms.services import certificates as service
from tests.certificate_helpers import make_eligible_enrolment, make_finished_cohort
from tests.factories import make_employer, make_enrolment, make_user

NOW = datetime(2027, 7, 2, 10, tzinfo=clock.LOCAL_TZ)


@pytest.fixture(autouse=True)
def early_july_2027():  # type: ignore[no-untyped-def]
    """The programme year is over; certificates are issued now."""
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    trainer = make_user(Role.TRAINER, first_name="Ingrid", last_name="Vaessen")
    cohort = make_finished_cohort(
        region=Region.MAASTRICHT_HEUVELLAND, trainer=trainer, name="Maastricht 2026-2027"
    )
    company = make_employer(name="Kerkrade Precisie B.V.")
    other_company = make_employer(name="Sittard Assemblage B.V.")
    participant = make_user(Role.PARTICIPANT, first_name="Noël", last_name="Çelik Ağaoğlu")
    enrolment = make_eligible_enrolment(cohort, participant, employer=company)
    colleague = make_eligible_enrolment(cohort, employer=other_company)
    busy = make_enrolment(cohort, employer=company)
    people = {
        "coordinator": make_user(Role.COORDINATOR),
        "trainer": trainer,
        "other_trainer": make_user(Role.TRAINER),
        "participant": participant,
        "other_participant": colleague.participant,
        "contact": make_user(Role.EMPLOYER, employer=company),
        "other_contact": make_user(Role.EMPLOYER, employer=other_company),
    }
    db.session.commit()
    return {
        "cohort": cohort,
        "enrolment": enrolment,
        "colleague": colleague,
        "busy": busy,
        **people,
    }


def issue(db, world, enrolment=None) -> Certificate:  # type: ignore[no-untyped-def]
    certificate = service.issue_certificate(
        enrolment or world["enrolment"], actor=world["coordinator"], now=NOW
    )
    db.session.commit()
    return certificate


# --- public verification ---------------------------------------------------------------------


def test_verify_a_valid_certificate_shows_only_state_name_programme_and_date(client, db, world):  # type: ignore[no-untyped-def]
    certificate = issue(db, world)

    response = client.get(f"/verify/{certificate.verification_code}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Geldig" in page
    assert "Noël Çelik Ağaoğlu" in page
    assert world["cohort"].programme.title in page
    assert "2 jul 2027" in page
    for private in (certificate.number, "Kerkrade Precisie", "Ingrid Vaessen", "Maastricht 2026"):
        assert private not in page
    assert response.headers["Cache-Control"] == "no-store"


def test_verify_json_gives_the_same_facts(client, db, world):  # type: ignore[no-untyped-def]
    certificate = issue(db, world)

    response = client.get(f"/verify/{certificate.verification_code}.json")

    assert response.status_code == 200
    assert response.get_json() == {
        "status": "valid",
        "name": "Noël Çelik Ağaoğlu",
        "programme": world["cohort"].programme.title,
        "issued_on": "2027-07-02",
    }


def test_verify_a_revoked_and_a_replaced_certificate(client, db, world):  # type: ignore[no-untyped-def]
    revoked = issue(db, world)
    service.revoke_certificate(revoked, actor=world["coordinator"], reason="Fraude", now=NOW)
    replaced = issue(db, world, world["colleague"])
    new = service.reissue_certificate(
        replaced, actor=world["coordinator"], reason="Naam fout", now=NOW
    )
    db.session.commit()

    page = client.get(f"/verify/{revoked.verification_code}").get_data(as_text=True)
    assert "Ingetrokken" in page and "Geldig" not in page
    assert "Fraude" not in page  # the reason stays internal
    assert client.get(f"/verify/{revoked.verification_code}.json").get_json()["status"] == (
        "revoked"
    )
    page = client.get(f"/verify/{replaced.verification_code}").get_data(as_text=True)
    assert "Vervangen" in page and new.number not in page
    assert client.get(f"/verify/{replaced.verification_code}.json").get_json()["status"] == (
        "replaced"
    )
    assert client.get(f"/verify/{new.verification_code}.json").get_json()["status"] == "valid"


def test_an_unknown_code_is_a_plain_404(client, db, world):  # type: ignore[no-untyped-def]
    issue(db, world)
    assert client.get("/verify/" + "A" * 43).status_code == 404
    response = client.get("/verify/" + "A" * 43 + ".json")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found"}


def test_verification_is_rate_limited(app, client, db, world):  # type: ignore[no-untyped-def]
    app.config["VERIFY_RATE_LIMIT"] = "3 per minute"
    certificate = issue(db, world)
    codes = [client.get(f"/verify/{certificate.verification_code}").status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    assert client.get(f"/verify/{certificate.verification_code}").status_code == 429
    assert client.get("/verify/unknown").status_code == 429  # guessing is limited too


# --- issuing -----------------------------------------------------------------------------------


def test_the_coordinator_sees_what_is_missing(auth, client, db, world):  # type: ignore[no-untyped-def]
    auth.login(world["coordinator"].email)

    page = client.get(f"/certificates/enrolment/{world['busy'].id}").get_data(as_text=True)

    assert "Dit ontbreekt nog" in page
    assert "A1 Opdracht 1" in page and "T01 Draagt juiste PBM" in page
    assert "Certificaat uitgeven" not in page


def test_the_coordinator_issues_one_certificate(auth, client, db, world):  # type: ignore[no-untyped-def]
    auth.login(world["coordinator"].email)
    enrolment = world["enrolment"]
    page = client.get(f"/certificates/enrolment/{enrolment.id}").get_data(as_text=True)
    assert "Certificaat uitgeven" in page

    response = auth.post(f"/certificates/enrolment/{enrolment.id}/issue")

    assert response.status_code == 302
    certificate = db.session.query(Certificate).one()
    assert certificate.enrolment_id == enrolment.id
    assert certificate.number == "VK-2027-MH-0001"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "VK-2027-MH-0001" in page


def test_issue_answers_json_for_the_progress_bar(auth, client, db, world):  # type: ignore[no-untyped-def]
    auth.login(world["coordinator"].email)
    enrolment = world["enrolment"]
    headers = {"Accept": "application/json"}

    first = auth.post(f"/certificates/enrolment/{enrolment.id}/issue", headers=headers)
    again = auth.post(f"/certificates/enrolment/{enrolment.id}/issue", headers=headers)
    busy = auth.post(f"/certificates/enrolment/{world['busy'].id}/issue", headers=headers)

    assert first.status_code == 200
    body = first.get_json()
    assert body["ok"] is True and body["number"] == "VK-2027-MH-0001"
    assert client.get(body["download_url"]).status_code == 200
    assert again.status_code == 409 and again.get_json()["ok"] is False
    assert "geldig certificaat" in again.get_json()["error"]
    assert busy.status_code == 409
    assert db.session.query(Certificate).count() == 1


def test_the_cohort_page_offers_bulk_issue_with_a_progress_bar_and_no_inline_script(
    auth, client, db, world
):  # type: ignore[no-untyped-def]
    auth.login(world["coordinator"].email)

    page = client.get(f"/certificates/cohort/{world['cohort'].id}").get_data(as_text=True)

    assert "2 certificaten uitgeven" in page
    assert "<progress" in page
    assert 'src="/static/js/certificates-bulk.js"' in page
    assert "<script>" not in page and " onclick=" not in page and " onsubmit=" not in page
    assert page.count('name="enrolment"') == 2  # the two who are ready, not the busy one
    assert client.get("/static/js/certificates-bulk.js").status_code == 200


def test_bulk_without_javascript_issues_all_then_the_zip_holds_them(auth, client, db, world):  # type: ignore[no-untyped-def]
    auth.login(world["coordinator"].email)
    cohort = world["cohort"]

    response = auth.post(f"/certificates/cohort/{cohort.id}/issue", follow_redirects=True)

    assert "2 certificaten uitgegeven" in response.get_data(as_text=True)
    certificates = db.session.query(Certificate).order_by(Certificate.number).all()
    assert [c.number for c in certificates] == ["VK-2027-MH-0001", "VK-2027-MH-0002"]
    archive_response = client.get(f"/certificates/cohort/{cohort.id}/certificates.zip")
    assert archive_response.status_code == 200
    assert archive_response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive_response.data)) as archive:
        names = sorted(archive.namelist())
        assert [n.split("-", 4)[:4] for n in names] == [
            ["VK", "2027", "MH", "0001"],
            ["VK", "2027", "MH", "0002"],
        ]
        for certificate, name in zip(certificates, names, strict=True):
            assert archive.read(name) == service.certificate_pdf(certificate)
    again = auth.post(f"/certificates/cohort/{cohort.id}/issue", follow_redirects=True)
    assert "Niemand in deze groep wacht" in again.get_data(as_text=True)


# --- revoke and reissue ----------------------------------------------------------------------


def test_revoke_needs_confirmation_and_a_reason(auth, client, db, world):  # type: ignore[no-untyped-def]
    certificate = issue(db, world)
    auth.login(world["coordinator"].email)
    url = f"/certificates/{certificate.id}/revoke"
    assert "intrekken?" in client.get(url).get_data(as_text=True)

    refused = auth.post(url, data={"reason": "Fout in bewijs"})  # no tick
    assert refused.status_code == 200
    assert "Fout in bewijs" in refused.get_data(as_text=True)  # what was typed is kept
    db.session.expire_all()
    assert not db.session.get(Certificate, certificate.id).is_revoked

    done = auth.post(url, data={"reason": "Fout in bewijs", "confirm": "y"})
    assert done.status_code == 302
    db.session.expire_all()
    revoked = db.session.get(Certificate, certificate.id)
    assert revoked.is_revoked and revoked.revocation_reason == "Fout in bewijs"
    assert revoked.revoked_by_id == world["coordinator"].id


def test_reissue_makes_a_new_number_and_the_old_one_is_replaced(auth, client, db, world):  # type: ignore[no-untyped-def]
    old = issue(db, world)
    auth.login(world["coordinator"].email)

    response = auth.post(
        f"/certificates/{old.id}/reissue",
        data={"reason": "Naam verkeerd gespeld", "confirm": "y"},
        follow_redirects=True,
    )

    assert "VK-2027-MH-0002 vervangt VK-2027-MH-0001" in response.get_data(as_text=True)
    db.session.expire_all()
    old = db.session.get(Certificate, old.id)
    assert old.replaced_by.number == "VK-2027-MH-0002"
    assert client.get(f"/verify/{old.verification_code}.json").get_json()["status"] == "replaced"


ISSUE_OR_REVOKE = [
    ("post", "/certificates/enrolment/{enrolment}/issue"),
    ("post", "/certificates/cohort/{cohort}/issue"),
    ("get", "/certificates/cohort/{cohort}"),
    ("get", "/certificates/cohort/{cohort}/certificates.zip"),
    ("get", "/certificates/enrolment/{enrolment}"),
    ("get", "/certificates/{certificate}/revoke"),
    ("post", "/certificates/{certificate}/revoke"),
    ("get", "/certificates/{certificate}/reissue"),
    ("post", "/certificates/{certificate}/reissue"),
]


@pytest.mark.parametrize(
    "who", ["trainer", "other_trainer", "participant", "contact", "other_contact"]
)
def test_nobody_but_the_coordinator_issues_or_revokes(auth, client, db, world, who):  # type: ignore[no-untyped-def]
    certificate = issue(db, world)
    auth.login(world[who].email)
    ids = {
        "enrolment": world["colleague"].id,
        "cohort": world["cohort"].id,
        "certificate": certificate.id,
    }
    for method, template in ISSUE_OR_REVOKE:
        url = template.format(**ids)
        if method == "post":
            response = auth.post(url, data={"reason": "x", "confirm": "y"})
        else:
            response = client.get(url)
        assert response.status_code == 404, (who, method, url)
    db.session.expire_all()
    assert db.session.query(Certificate).count() == 1
    assert not db.session.get(Certificate, certificate.id).is_revoked


def test_anonymous_visitors_are_sent_to_the_login_page(client, db, world):  # type: ignore[no-untyped-def]
    certificate = issue(db, world)
    for url in (
        "/certificates/",
        f"/certificates/{certificate.id}/download",
        f"/certificates/cohort/{world['cohort'].id}",
        f"/certificates/enrolment/{world['enrolment'].id}/progress-report.pdf",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


# --- downloads -------------------------------------------------------------------------------


def test_every_download_returns_the_same_stored_bytes(auth, client, db, world):  # type: ignore[no-untyped-def]
    certificate = issue(db, world)
    auth.login(world["participant"].email)

    first = client.get(f"/certificates/{certificate.id}/download")
    second = client.get(f"/certificates/{certificate.id}/download")

    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.data == second.data
    import hashlib

    assert hashlib.sha256(first.data).hexdigest() == certificate.pdf_sha256
    assert "VK-2027-MH-0001" in first.headers["Content-Disposition"]
    text = PdfReader(io.BytesIO(first.data)).pages[0].extract_text()
    assert "Noël Çelik Ağaoğlu" in text


def test_participant_finds_their_certificate_from_the_portfolio(auth, client, db, world):  # type: ignore[no-untyped-def]
    certificate = issue(db, world)
    auth.login(world["participant"].email)

    portfolio = client.get("/portfolio/").get_data(as_text=True)
    assert 'href="/certificates/"' in portfolio
    page = client.get("/certificates/").get_data(as_text=True)
    assert certificate.number in page
    assert f"/certificates/{certificate.id}/download" in page


def test_the_employer_sees_and_downloads_only_its_employees_certificates(auth, client, db, world):  # type: ignore[no-untyped-def]
    own = issue(db, world)
    other = issue(db, world, world["colleague"])
    auth.login(world["contact"].email)

    page = client.get("/certificates/").get_data(as_text=True)

    assert own.number in page and other.number not in page
    assert client.get(f"/certificates/{own.id}/download").status_code == 200
    assert client.get(f"/certificates/{other.id}/download").status_code == 404


def test_the_trainer_finds_the_certificates_of_their_cohorts_in_the_menu(auth, client, db, world):  # type: ignore[no-untyped-def]
    certificate = issue(db, world)
    auth.login(world["trainer"].email)
    home = client.get("/dashboard/trainer").get_data(as_text=True)
    assert 'href="/certificates/"' in home.split('class="site-nav', 1)[1].split("</nav>", 1)[0]
    page = client.get("/certificates/").get_data(as_text=True)
    assert certificate.number in page
    auth.logout()
    auth.login(world["other_trainer"].email)
    assert certificate.number not in client.get("/certificates/").get_data(as_text=True)


def test_a_participant_cannot_download_someone_elses_or_a_revoked_certificate(
    auth, client, db, world
):  # type: ignore[no-untyped-def]
    own = issue(db, world)
    other = issue(db, world, world["colleague"])
    auth.login(world["participant"].email)
    assert client.get(f"/certificates/{other.id}/download").status_code == 404
    service.revoke_certificate(own, actor=world["coordinator"], reason="Fout", now=NOW)
    db.session.commit()
    assert client.get(f"/certificates/{own.id}/download").status_code == 404


# --- progress report -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["coordinator", "trainer", "participant", "contact"])
def test_the_progress_report_for_those_who_may_see_the_participant(auth, client, db, world, who):  # type: ignore[no-untyped-def]
    enrolment = world["busy"]
    db.session.add(
        ProgressReview(
            enrolment=enrolment,
            trainer=world["trainer"],
            held_on=date(2027, 2, 3),
            summary="Gaat goed vooruit met meten.",
            agreements="Oefent met de micrometer.",
        )
    )
    db.session.commit()

    # Logged in on the day itself: a login session from months before would have run out.
    with clock.frozen_at(datetime(2027, 7, 3, 9, 30, tzinfo=clock.LOCAL_TZ)):
        auth.login(enrolment.participant.email if who == "participant" else world[who].email)
        response = client.get(f"/certificates/enrolment/{enrolment.id}/progress-report.pdf")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert enrolment.participant.full_name in text
    assert "Voortgangsrapport" in text
    assert "A1" in text and "Opdracht 1" in text  # assignments
    assert "T01" in text and "Draagt juiste PBM" in text  # checklist levels
    assert "Gaat goed vooruit met meten." in text and "Oefent met de micrometer." in text
    assert "Staat nog open" in text
    assert "3 jul 2027 09:30" in text  # the moment it was made
    assert reader.metadata.title.startswith("Voortgangsrapport van")


@pytest.mark.parametrize("who", ["other_trainer", "other_contact", "other_participant"])
def test_the_progress_report_is_refused_to_others(auth, client, db, world, who):  # type: ignore[no-untyped-def]
    auth.login(world[who].email)
    response = client.get(f"/certificates/enrolment/{world['enrolment'].id}/progress-report.pdf")
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["coordinator", "trainer", "contact"])
def test_the_participants_checklist_page_links_the_progress_report(auth, client, db, world, who):  # type: ignore[no-untyped-def]
    enrolment = world["enrolment"]
    auth.login(world[who].email)

    page = client.get(f"/checklists/enrolments/{enrolment.id}").get_data(as_text=True)

    assert f"/certificates/enrolment/{enrolment.id}/progress-report.pdf" in page
    assert (f'href="/certificates/enrolment/{enrolment.id}"' in page) == (who == "coordinator")


def test_the_cohort_and_list_pages_cost_the_same_queries_for_more_participants(  # type: ignore[no-untyped-def]
    auth, client, db, world, count_queries
):
    auth.login(world["coordinator"].email)
    cohort_url = f"/certificates/cohort/{world['cohort'].id}"
    issue(db, world)
    client.get(cohort_url)  # warm up: the session's user, translations
    with count_queries() as few:
        assert client.get(cohort_url).status_code == 200
    with count_queries() as few_list:
        client.get("/certificates/")

    for _ in range(4):
        issue(db, world, make_eligible_enrolment(world["cohort"]))
    make_eligible_enrolment(world["cohort"])
    db.session.commit()
    with count_queries() as many:
        assert client.get(cohort_url).status_code == 200
    with count_queries() as many_list:
        client.get("/certificates/")

    assert many.count == few.count
    assert many_list.count == few_list.count
