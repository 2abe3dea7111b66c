"""The year in a real browser, as its four kinds of users live it.

The coordinator creates a cohort and enrols a new participant (who gets an invitation) and one who already
has an account; the participant, on a phone, chooses a password, hands in an assignment with a photo; the
employer confirms it was done at the workplace; the trainer asks for a revision, approves the second
attempt and signs off the checklist; the coordinator issues the certificate; the participant downloads
it and its digital badge (Open Badges 3.0); anyone checks both on the public pages. The programme is small (one assignment, one item of each kind)
so the whole year fits in one test; every step goes through the pages, none through the database.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import BrowserContext, Locator, Page, expect
from pypdf import PdfReader

from lms import clock
from lms.extensions import db
from lms.models import OutboxMessage, Role
from lms.services.badge_keys import ensure_key, key_dir
from tests.browser.conftest import LiveServer
from tests.browser.pages import log_in
from tests.factories import PASSWORD, make_employer, make_photo_bytes, make_programme, make_user

pytestmark = pytest.mark.browser

NEW_PARTICIPANT = "sanne.jacobs@example.org"
NEW_PASSWORD = "Draaibank-Heerlen-2026"


def build(server: LiveServer) -> dict[str, str]:
    """What exists before the year starts: the curriculum, the people in the address book."""
    with server.app.app_context():
        ensure_key(key_dir(), clock.now())  # the key that signs digital badges, as `make run` makes
        programme = make_programme(assignments=1)
        programme.assignments[0].requires_workplace_confirmation = True
        employer = make_employer(name="Metaalwerken Kerkrade B.V.")
        people = {
            "coordinator": make_user(Role.COORDINATOR, email="coordinator@example.org"),
            "trainer": make_user(
                Role.TRAINER, email="trainer@example.org", first_name="Ruud", last_name="Hermans"
            ),
            "employer": make_user(Role.EMPLOYER, email="contact@example.org", employer=employer),
            "participant": make_user(
                Role.PARTICIPANT,
                email="kevin@example.org",
                first_name="Kevin",
                last_name="Smeets",
            ),
        }
        db.session.commit()
        return {role: user.email for role, user in people.items()}


def choose(select: Locator, text: str) -> None:
    """Choose the option whose label contains ``text`` (labels add details such as a city)."""
    value = select.locator("option", has_text=text).first.get_attribute("value")
    select.select_option(value=value)


def this_weeks_monday() -> str:
    today = clock.today()
    return (today - timedelta(days=today.weekday())).isoformat()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/login")


def coordinator_creates_cohort_and_enrols(page: Page, server: LiveServer, world: dict) -> str:
    log_in(page, server, world["coordinator"], PASSWORD)
    page.goto(server("/cohorts/new"))
    page.get_by_label("Naam", exact=True).fill("Parkstad 2026-2027")
    page.get_by_label("Regio").select_option(label="Parkstad")
    page.get_by_label("Startdatum").fill(this_weeks_monday())
    page.get_by_label("Ruud Hermans").check()
    page.get_by_role("button", name="Groep maken").click()
    expect(page.locator(".flash, [role=status], .alert").first).to_contain_text(
        "Parkstad 2026-2027"
    )
    cohort_path = urlsplit(page.url).path

    # A new person: the form asks for the name and address; an invitation follows.
    page.get_by_role("link", name="Deelnemer inschrijven").first.click()
    page.get_by_role("radio", name="Een nieuwe persoon").check()
    page.get_by_label("Voornaam", exact=True).fill("Sanne")
    page.get_by_label("Achternaam", exact=True).fill("Jacobs")
    page.get_by_label("E-mailadres", exact=True).fill(NEW_PARTICIPANT)
    choose(page.get_by_label("Werkgever", exact=True), "Metaalwerken Kerkrade")
    page.get_by_label("Zij-instromer").check()
    page.get_by_role("button", name="Inschrijven").click()
    expect(page.locator("body")).to_contain_text("Sanne Jacobs")

    # Someone with an account already.
    page.get_by_role("link", name="Deelnemer inschrijven").first.click()
    choose(page.get_by_label("Deelnemer", exact=True), "Smeets, Kevin")
    choose(page.get_by_label("Werkgever", exact=True), "Metaalwerken Kerkrade")
    page.get_by_label("Werkt al bij het mkb-bedrijf").check()
    page.get_by_role("button", name="Inschrijven").click()
    expect(page.locator("main")).to_contain_text("Kevin Smeets")
    expect(page.locator("main")).to_contain_text("Sanne Jacobs")
    log_out(page)
    return cohort_path


def participant_hands_in_with_photo(phone: Page) -> None:
    phone.get_by_role("link", name=re.compile("Opdracht 1")).first.click()
    phone.get_by_label("Wat heb je gedaan?").fill(
        "Ik heb de beschermkap van de draaibank vervangen."
    )
    phone.get_by_label("Wat ging goed?").fill("Ik werkte veilig met de juiste PBM.")
    phone.get_by_label("Wat heb je geleerd?").fill("Eerst de machine spanningsloos maken.")
    phone.get_by_label("Maak een foto").set_input_files(
        files=[{"name": "kap.jpg", "mimeType": "image/jpeg", "buffer": make_photo_bytes()}]
    )
    phone.get_by_role("button", name="Inleveren").click()


def trainer_assesses(workshop: Page, verdict: str, feedback: str) -> None:
    workshop.get_by_role("link", name="Overzicht", exact=True).click()
    queue = workshop.locator("section, .card", has_text="Te beoordelen").last
    queue.get_by_role("link", name=re.compile("Opdracht 1")).click()
    workshop.get_by_role("radio", name=verdict).check()
    workshop.get_by_label("Feedback voor de deelnemer").fill(feedback)
    workshop.get_by_role("button", name="Beoordeling opslaan").click()


def invitation_link(server: LiveServer, email: str) -> str:
    with server.app.app_context():
        body = db.session.scalars(
            sa.select(OutboxMessage.body_text).where(OutboxMessage.recipient == email)
        ).first()
    assert body is not None, f"no invitation was sent to {email}"
    match = re.search(r"https?://\S+/set-password/\S+", body)
    assert match, body
    return match.group(0)


def test_a_year_from_enrolment_to_verified_certificate(
    server: LiveServer, context: BrowserContext, phone: BrowserContext
) -> None:
    world = build(server)
    desk = context.new_page()
    coordinator_creates_cohort_and_enrols(desk, server, world)

    # The new participant, on a phone, follows the invitation and chooses a password.
    participant = phone.new_page()
    participant.goto(invitation_link(server, NEW_PARTICIPANT))
    participant.locator("input[type=password]").nth(0).fill(NEW_PASSWORD)
    participant.locator("input[type=password]").nth(1).fill(NEW_PASSWORD)
    participant.get_by_role("button", name="Wachtwoord opslaan").click()
    participant.wait_for_url(lambda url: "/set-password/" not in url)
    log_in(participant, server, NEW_PARTICIPANT, NEW_PASSWORD)
    participant_hands_in_with_photo(participant)
    expect(participant.locator("main")).to_contain_text("Ingeleverd")
    photo = participant.get_by_role("img", name="Foto kap.jpg")
    expect(photo).to_be_visible()
    # The photo loads (a broken image never gets a width); it may still be loading when it shows.
    participant.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
    )

    # The employer's contact confirms the work was done at the company.
    office = context.new_page()
    log_in(office, server, world["employer"], PASSWORD)
    waiting = office.locator("section, .card", has_text="Werk dat wacht op jouw bevestiging").last
    waiting.get_by_role("link", name=re.compile("Opdracht 1")).click()
    office.get_by_role("button", name="Bevestigen: gedaan op onze werkplek").click()
    expect(office.locator("main")).to_contain_text("bevestigd")
    log_out(office)

    # The trainer asks for a revision.
    workshop = context.new_page()
    log_in(workshop, server, world["trainer"], PASSWORD)
    trainer_assesses(workshop, "Verbetering nodig", "Laat ook zien hoe je de kap hebt vastgezet.")

    # The participant sees what to improve, on the phone, and hands in again.
    participant.reload()
    expect(participant.locator("main")).to_contain_text(
        "Laat ook zien hoe je de kap hebt vastgezet."
    )
    participant.get_by_label("Wat heb je gedaan?").fill(
        "Ik heb de beschermkap vervangen en met vier bouten vastgezet; zie de foto."
    )
    participant.get_by_role("button", name="Inleveren").click()
    expect(participant.locator("main")).to_contain_text("Ingeleverd")

    # The trainer approves the second attempt and signs off the checklist.
    trainer_assesses(workshop, "Goedgekeurd", "Goed gedaan, veilig en netjes.")
    expect(workshop.locator("main")).to_contain_text("Goedgekeurd")
    workshop.get_by_role("link", name="Overzicht", exact=True).click()
    workshop.get_by_role("link", name="Sanne Jacobs").click()
    workshop.get_by_role("link", name="Onderdelen aftekenen").click()
    workshop.locator("summary", has_text="Veiligheid").click()  # the groups start folded
    workshop.get_by_label("Draagt juiste PBM").check()
    workshop.locator("summary", has_text="ICT-basisvaardigheden").click()
    workshop.get_by_label("Logt veilig in").check()
    workshop.get_by_role("radio", name="Niveau 2").check()
    workshop.get_by_label(re.compile("Opdracht 1")).check()
    workshop.get_by_role("button", name="Aftekenen").click()
    expect(workshop.locator("main")).to_contain_text("het certificaat kan worden uitgereikt")
    log_out(workshop)

    # The coordinator issues the certificate.
    log_in(desk, server, world["coordinator"], PASSWORD)
    desk.get_by_role("link", name="Certificaten", exact=True).click()
    desk.get_by_role("link", name="Parkstad 2026-2027").click()
    desk.get_by_role("link", name="Sanne Jacobs").click()
    desk.get_by_role("button", name="Certificaat uitgeven").click()
    notice = desk.locator(".flash, [role=status], .alert").first
    expect(notice).to_contain_text("Sanne Jacobs")
    number = re.search(r"VK-\d{4}-PK-\d{4}", notice.inner_text()).group(0)
    log_out(desk)

    # The participant downloads it on the phone, from the home page.
    participant.get_by_role("link", name="Overzicht", exact=True).click()
    with participant.expect_download() as download_info:
        participant.get_by_role("link", name="Mijn certificaat downloaden (PDF)").click()
    pdf = PdfReader(io.BytesIO(download_info.value.path().read_bytes()))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "Sanne Jacobs" in text
    assert number in text
    verification_link = participant.get_by_role(
        "link", name="Openbare controlepagina"
    ).get_attribute("href")
    with participant.expect_download() as download_info:
        participant.get_by_role("link", name="Digitale badge (JSON)").click()
    badge = download_info.value.path()
    participant.get_by_role("link", name="Mijn opdrachten", exact=True).click()
    participant.get_by_role("link", name="Mijn certificaat", exact=True).click()
    actions = participant.locator("td.cell-actions a")
    expect(actions.first).to_be_visible()
    # On the phone each link of the stacked table stays whole, not broken in the middle of a word.
    lines = actions.evaluate_all(
        "links => links.map(a => Math.round(a.getBoundingClientRect().height"
        " / parseFloat(getComputedStyle(a).lineHeight)))"
    )
    assert lines == [1] * len(lines)

    # Anyone, without an account, checks it on the public page.
    stranger = context.new_page()  # the coordinator has logged out
    stranger.goto(server(urlsplit(verification_link).path))
    expect(stranger.locator("main")).to_contain_text("Geldig")
    expect(stranger.locator("main")).to_contain_text("Sanne Jacobs")
    expect(stranger.locator("main")).to_contain_text("Testprogramma")

    # Software, or a person, checks the digital badge file on the public page.
    stranger.goto(server("/verify/credential"))
    stranger.get_by_label("Of kies het bestand").set_input_files(str(badge))
    stranger.get_by_role("button", name="Controleren").click()
    result = stranger.get_by_role("status")
    expect(result).to_contain_text("Deze digitale badge is echt en geldig.")
    expect(result.locator(".status", has_text="Klopt")).to_have_count(3)
