"""The coordinator's address book: employers and their contact persons, trainers, participants,
invitations, deactivation, audit events, and that only coordinators get in."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import (
    AccountToken,
    AuditEvent,
    Employer,
    EnrolmentStatus,
    OutboxMessage,
    Region,
    Role,
    TokenPurpose,
    User,
)
from lms.services import accounts, people
from tests.conftest import AuthActions
from tests.factories import (
    login_token,
    make_cohort,
    make_employer,
    make_enrolment,
    make_programme,
    make_user,
)

LINK = re.compile(r"https?://\S+/set-password/[A-Za-z0-9_\-]+")


@pytest.fixture
def coordinator(db) -> User:
    user = make_user(Role.COORDINATOR, first_name="Carla", last_name="Coenen")
    db.session.commit()
    return user


@pytest.fixture
def as_coordinator(auth, coordinator) -> AuthActions:
    auth.login(coordinator.email)
    return auth


def events(db, action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def outbox_for(db, email: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id)
        )
    )


def employer_data(**fields: object) -> people.EmployerData:
    values = {
        "name": "Heuvelland Metaal B.V.",
        "kvk_number": "14093527",
        "region": Region.MAASTRICHT_HEUVELLAND,
        "street": "Mergelweg 12",
        "postcode": "6301ab",
        "city": "Valkenburg",
    }
    values.update(fields)
    return people.EmployerData(**values)  # type: ignore[arg-type]


def person_data(**fields: str) -> people.PersonData:
    values = {
        "first_name": "Petra",
        "name_prefix": "",
        "last_name": "Janssen",
        "email": "petra@bedrijf.example",
    }
    values.update(fields)
    return people.PersonData(**values)


# --- rules, without HTTP -----------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["1234567", "123456789", "1234567a", "KVK12345", "", "1234-5678"])
def test_kvk_number_must_be_exactly_eight_digits(app, typed) -> None:
    assert (
        people.kvk_problem(typed)
        == "Een KvK-nummer heeft precies 8 cijfers, bijvoorbeeld 14093527."
    )


@pytest.mark.parametrize("typed", ["14093527", " 1409 3527 ", "14 09 35 27"])
def test_kvk_number_may_be_typed_with_spaces(app, typed) -> None:
    assert people.kvk_problem(typed) is None
    assert people.normalise_kvk(typed) == "14093527"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("6411ab", "6411 AB"),
        ("6411 AB", "6411 AB"),
        (" 6411  ab ", "6411 AB"),
        ("6301Ab", "6301 AB"),
        ("", ""),
    ],
)
def test_postcode_is_normalised(app, typed, stored) -> None:
    assert people.normalise_postcode(typed) == stored


@pytest.mark.parametrize(
    "typed", ["641 AB", "0411 AB", "6411 A", "6411 SS", "ABCD 12", "64111AB", "6411-AB"]
)
def test_postcode_that_is_not_dutch_is_refused(app, typed) -> None:
    with pytest.raises(people.PeopleError) as refused:
        people.normalise_postcode(typed)
    assert refused.value.field == "postcode"


def test_create_employer_stores_normalised_values_and_audits(db, coordinator) -> None:
    employer = people.create_employer(employer_data(kvk_number="1409 3527"), actor=coordinator)
    db.session.commit()
    assert (employer.kvk_number, employer.postcode) == ("14093527", "6301 AB")
    assert employer.region is Region.MAASTRICHT_HEUVELLAND
    [event] = events(db, "employer.create")
    assert event.actor_id == coordinator.id and event.subject_id == employer.id


def test_duplicate_kvk_number_is_refused_naming_the_company(db, coordinator) -> None:
    make_employer(name="Oranje-Nassau Metaaltechniek B.V.", kvk_number="14093527")
    with pytest.raises(people.PeopleError) as refused:
        people.create_employer(employer_data(kvk_number="1409 3527"), actor=coordinator)
    assert refused.value.field == "kvk_number"
    assert "Oranje-Nassau Metaaltechniek B.V." in str(refused.value)


def test_update_employer_records_changes_and_keeps_own_kvk(db, coordinator) -> None:
    employer = make_employer(kvk_number="14093527", city="Heerlen")
    changes = people.update_employer(
        employer,
        employer_data(kvk_number="14093527", city="Kerkrade", postcode="6461 AA"),
        actor=coordinator,
    )
    assert changes["city"] == ["Heerlen", "Kerkrade"]
    assert (
        people.update_employer(
            employer,
            employer_data(kvk_number="14093527", city="Kerkrade", postcode="6461aa"),
            actor=coordinator,
        )
        == {}
    )
    [event] = events(db, "employer.update")
    assert event.details["changes"]["city"] == ["Heerlen", "Kerkrade"]


def test_street_needs_a_house_number(app) -> None:
    assert people.street_problem("Schelsberg") is not None
    assert people.street_problem("Schelsberg 214") is None
    assert people.street_problem("") is None


def test_add_contact_makes_an_employer_account_and_queues_the_invitation(db, coordinator) -> None:
    employer = make_employer()
    contact = people.add_contact(
        employer,
        person_data(email=" Petra@Bedrijf.example ", phone="06  1234 5678"),
        actor=coordinator,
    )
    db.session.commit()
    assert contact.role is Role.EMPLOYER and contact.employer_id == employer.id
    assert contact.email == "petra@bedrijf.example" and contact.phone == "06 1234 5678"
    assert contact.password_hash is None
    assert people.account_state(contact) is people.AccountState.INVITED
    [mail] = outbox_for(db, "petra@bedrijf.example")
    secret = LINK.search(mail.body_text).group(0).rsplit("/", 1)[1]
    assert accounts.find_usable_token(secret).user_id == contact.id
    assert events(db, "user.create")[0].subject_id == contact.id
    assert events(db, "user.invite")[0].actor_id == coordinator.id
    assert contact.id in people.last_invitations([contact.id])


def test_e_mail_addresses_are_unique_whatever_the_case(db, coordinator) -> None:
    make_user(
        Role.TRAINER, email="ingrid@vakkracht.example", first_name="Ingrid", last_name="Vaessen"
    )
    with pytest.raises(people.PeopleError) as refused:
        people.add_trainer(person_data(email="INGRID@Vakkracht.example"), actor=coordinator)
    assert refused.value.field == "email"
    assert "Ingrid Vaessen" in str(refused.value)
    other = make_user(Role.PARTICIPANT, email="bram@example.org")
    with pytest.raises(people.PeopleError):
        people.update_person(
            other, person_data(email="Ingrid@vakkracht.example"), actor=coordinator
        )
    # One's own address in another case is no conflict.
    changes = people.update_person(other, person_data(email="BRAM@example.org"), actor=coordinator)
    assert other.email == "bram@example.org" and "email" not in changes


def test_update_person_records_an_audit_event(db, coordinator) -> None:
    trainer = make_user(Role.TRAINER, first_name="Ruud", last_name="Hendriks")
    changes = people.update_person(
        trainer,
        person_data(
            first_name="Ruud", name_prefix="van", last_name="Hendriks", email=trainer.email
        ),
        actor=coordinator,
    )
    assert changes == {"name_prefix": ["", "van"]}
    assert trainer.full_name == "Ruud van Hendriks"
    [event] = events(db, "user.update")
    assert event.subject_id == trainer.id


def test_deactivate_ends_sessions_and_links_and_reactivate_undoes_it(db, coordinator) -> None:
    contact = make_user(Role.EMPLOYER, password=None)
    secret = accounts.create_invitation(contact)
    login_token(contact)
    people.deactivate(contact, actor=coordinator)
    assert not contact.is_active_account and contact.login_session.ended_at is not None
    assert accounts.find_usable_token(secret) is None
    with pytest.raises(people.PeopleError):
        people.deactivate(contact, actor=coordinator)
    people.reactivate(contact, actor=coordinator)
    assert contact.is_active_account
    assert accounts.find_usable_token(secret) is None  # the old link stays dead
    with pytest.raises(people.PeopleError):
        people.reactivate(contact, actor=coordinator)
    assert len(events(db, "user.deactivate")) == 1 and len(events(db, "user.reactivate")) == 1


def test_participants_and_coordinators_are_not_deactivated_here(db, coordinator) -> None:
    with pytest.raises(people.PeopleError):
        people.deactivate(make_user(Role.PARTICIPANT), actor=coordinator)
    with pytest.raises(people.PeopleError):
        people.deactivate(make_user(Role.COORDINATOR), actor=coordinator)


def test_resend_invitation_makes_a_new_link_and_kills_the_old_one(db, coordinator) -> None:
    trainer = people.add_trainer(person_data(), actor=coordinator)
    [first] = outbox_for(db, trainer.email)
    old_secret = LINK.search(first.body_text).group(0).rsplit("/", 1)[1]
    later = clock.now() + timedelta(days=2)
    with clock.frozen_at(later):
        link = people.resend_invitation(trainer, actor=coordinator)
        assert people.last_invitations([trainer.id])[trainer.id] == later
        assert accounts.find_usable_token(old_secret) is None
        assert accounts.find_usable_token(link.rsplit("/", 1)[1]).user_id == trainer.id
    mails = outbox_for(db, trainer.email)
    assert len(mails) == 2 and link in mails[1].body_text
    assert events(db, "user.invitation_resend")[0].actor_id == coordinator.id


def test_resend_invitation_is_refused_with_a_password_or_when_deactivated(db, coordinator) -> None:
    active = make_user(Role.TRAINER)
    with pytest.raises(people.PeopleError):
        people.resend_invitation(active, actor=coordinator)
    deactivated = make_user(Role.TRAINER, password=None, active=False)
    with pytest.raises(people.PeopleError):
        people.resend_invitation(deactivated, actor=coordinator)
    assert people.account_state(active) is people.AccountState.ACTIVE
    assert people.account_state(deactivated) is people.AccountState.DEACTIVATED


def test_employer_search_by_name_kvk_city_and_region(db) -> None:
    make_employer(
        name="Rolduc Montage B.V.", kvk_number="14127408", city="Kerkrade", region=Region.PARKSTAD
    )
    make_employer(
        name="Maurits Machinebouw B.V.",
        kvk_number="14048865",
        city="Geleen",
        region=Region.WESTELIJKE_MIJNSTREEK,
    )

    def names(term: str = "", region: Region | None = None) -> list[str]:
        return [
            employer.name for employer in db.session.scalars(people.employer_search(term, region))
        ]

    assert names() == ["Maurits Machinebouw B.V.", "Rolduc Montage B.V."]
    assert names("rolduc") == ["Rolduc Montage B.V."]
    assert names("1404 8865") == ["Maurits Machinebouw B.V."]
    assert names("GELEEN") == ["Maurits Machinebouw B.V."]
    assert names(region=Region.PARKSTAD) == ["Rolduc Montage B.V."]
    assert names("rolduc", Region.WESTELIJKE_MIJNSTREEK) == []
    assert names("100%") == []


def test_people_search_matches_every_word_in_name_or_email(db) -> None:
    make_user(
        Role.PARTICIPANT,
        first_name="Bram",
        name_prefix="van der",
        last_name="Heijden",
        email="bram@example.org",
    )
    make_user(Role.PARTICIPANT, first_name="Noël", last_name="Çelik", email="noel@example.org")
    make_user(Role.TRAINER, first_name="Bram", last_name="Trainer")

    def names(term: str) -> list[str]:
        return [user.full_name for user in db.session.scalars(people.participant_search(term))]

    assert names("bram heijden") == ["Bram van der Heijden"]
    assert names("van der") == ["Bram van der Heijden"]
    assert names("noel@") == ["Noël Çelik"]
    assert names("bram trainer") == []


# --- pages: who gets in ------------------------------------------------------------------------


@pytest.fixture
def address_book(db, coordinator):
    """A company with a contact, a trainer and a participant in a cohort: one of each person page."""
    employer = make_employer(name="Kerkrade Precisie B.V.")
    contact = make_user(Role.EMPLOYER, employer=employer, first_name="Petra", last_name="Janssen")
    trainer = make_user(Role.TRAINER, first_name="Ingrid", last_name="Vaessen")
    participant = make_user(Role.PARTICIPANT, first_name="Noël", last_name="Çelik")
    cohort = make_cohort(name="Parkstad 2026-2027", trainers=[trainer])
    make_enrolment(cohort, participant, employer)
    invited = make_user(Role.TRAINER, password=None, first_name="Nieuwe", last_name="Trainer")
    db.session.commit()
    return {
        "employer": employer,
        "contact": contact,
        "trainer": trainer,
        "participant": participant,
        "invited": invited,
        "coordinator": coordinator,
    }


def read_only(path: str) -> bool:
    """Lists and detail pages answer GET only; the others are forms."""
    return path.endswith("/") or path.rsplit("/", 1)[1].isdigit()


def pages(world) -> list[str]:
    employer = world["employer"].id
    return [
        "/people/employers/",
        "/people/employers/new",
        f"/people/employers/{employer}",
        f"/people/employers/{employer}/edit",
        f"/people/employers/{employer}/contacts/new",
        "/people/trainers/",
        "/people/trainers/new",
        "/people/participants/",
        f"/people/{world['contact'].id}",
        f"/people/{world['trainer'].id}",
        f"/people/{world['participant'].id}",
        f"/people/{world['participant'].id}/edit",
        f"/people/{world['contact'].id}/deactivate",
        f"/people/{world['invited'].id}/invitation",
    ]


def test_coordinator_reaches_every_page(auth, client, address_book) -> None:
    auth.login(address_book["coordinator"].email)
    for path in pages(address_book):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("role", [Role.TRAINER, Role.PARTICIPANT, Role.EMPLOYER])
def test_other_roles_are_forbidden_everywhere(auth, client, db, address_book, role) -> None:
    user = {Role.TRAINER: "trainer", Role.PARTICIPANT: "participant", Role.EMPLOYER: "contact"}[
        role
    ]
    auth.login(address_book[user].email)
    for path in pages(address_book):
        # Refused on a URL with a record id: 404, so the record's existence is not confirmed.
        refused = 404 if re.search(r"/\d+", path) else 403
        assert client.get(path).status_code == refused, path
        if not read_only(path):
            assert auth.post(path, {"name": "x"}).status_code == refused, path
    db.session.expire_all()
    assert db.session.get(User, address_book["contact"].id).is_active_account
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Employer)) == 1


def test_anonymous_visitors_are_sent_to_login(client, address_book) -> None:
    for path in pages(address_book):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path
        if not read_only(path):
            assert client.post(path).status_code in (302, 400), path


def test_coordinators_and_unknown_ids_are_not_in_the_address_book(
    as_coordinator, client, address_book
) -> None:
    assert client.get(f"/people/{address_book['coordinator'].id}").status_code == 404
    assert client.get("/people/99999").status_code == 404
    assert client.get("/people/employers/99999").status_code == 404
    # A participant's account is not switched off here.
    assert client.get(f"/people/{address_book['participant'].id}/deactivate").status_code == 404


def test_coordinator_menu_links_to_the_address_book(as_coordinator, client) -> None:
    page = client.get("/people/employers/").get_data(as_text=True)
    for path in ("/people/employers/", "/people/trainers/", "/people/participants/"):
        assert f'href="{path}"' in page
    assert 'href="/people/employers/" aria-current="page"' in page


# --- employers ---------------------------------------------------------------------------------


def test_employer_list_pages_searches_and_filters(as_coordinator, client, db) -> None:
    for n in range(30):
        make_employer(
            name=f"Bedrijf {n:02d} B.V.",
            kvk_number=f"{20000000 + n:08d}",
            city="Sittard" if n == 7 else "Heerlen",
            region=Region.WESTELIJKE_MIJNSTREEK if n % 10 == 0 else Region.PARKSTAD,
        )
    db.session.commit()
    first = client.get("/people/employers/").get_data(as_text=True)
    assert (
        "Bedrijf 00 B.V." in first and "Bedrijf 24 B.V." in first and "Bedrijf 25 B.V." not in first
    )
    assert "Pagina 1 van 2 (30 in totaal)" in first
    second = client.get("/people/employers/?page=2").get_data(as_text=True)
    assert (
        "Bedrijf 25 B.V." in second
        and "Bedrijf 29 B.V." in second
        and "Bedrijf 24 B.V." not in second
    )
    found = client.get("/people/employers/?q=sittard").get_data(as_text=True)
    assert "Bedrijf 07 B.V." in found and "Bedrijf 08 B.V." not in found
    found = client.get("/people/employers/?q=2000+0012").get_data(as_text=True)
    assert "Bedrijf 12 B.V." in found and "Bedrijf 11 B.V." not in found
    region = client.get("/people/employers/?region=westelijke_mijnstreek").get_data(as_text=True)
    assert [name for name in re.findall(r"Bedrijf \d\d B\.V\.", region)] == [
        "Bedrijf 00 B.V.",
        "Bedrijf 10 B.V.",
        "Bedrijf 20 B.V.",
    ]
    assert "Geen werkgevers gevonden" in client.get("/people/employers/?q=nergens").get_data(
        as_text=True
    )


def test_employer_list_is_empty_with_a_next_step(as_coordinator, client) -> None:
    page = client.get("/people/employers/").get_data(as_text=True)
    assert "Nog geen werkgevers" in page
    assert 'href="/people/employers/new"' in page


def test_employer_list_costs_the_same_queries_for_more_rows(
    as_coordinator, client, db, count_queries
) -> None:
    def measure() -> int:
        with count_queries() as counter:
            assert client.get("/people/employers/").status_code == 200
        return counter.count

    cohort = make_cohort()
    make_enrolment(cohort, employer=make_employer())
    db.session.commit()
    few = measure()
    for _ in range(20):
        make_enrolment(cohort, employer=make_employer())
    db.session.commit()
    assert measure() == few


def test_create_employer_with_bad_values_shows_dutch_errors_and_keeps_input(
    as_coordinator, client, db
) -> None:
    response = as_coordinator.post(
        "/people/employers/new",
        {
            "name": "Heuvelland Metaal",
            "kvk_number": "1234567",
            "postcode": "641 AB",
            "street": "Mergelweg",
            "city": "Gulpen",
            "region": "maastricht_heuvelland",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Een KvK-nummer heeft precies 8 cijfers" in page
    assert "Vul een Nederlandse postcode in" in page
    assert "Vul de straat en het huisnummer in" in page
    assert (
        'value="Heuvelland Metaal"' in page
        and 'value="1234567"' in page
        and 'value="641 AB"' in page
    )
    assert 'aria-invalid="true"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Employer)) == 0


def test_create_employer_with_letters_in_kvk_or_no_region_is_refused(
    as_coordinator, client, db
) -> None:
    page = as_coordinator.post(
        "/people/employers/new", {"name": "X", "kvk_number": "1234567a", "region": ""}
    ).get_data(as_text=True)
    assert "Een KvK-nummer heeft precies 8 cijfers" in page
    assert "Kies een regio." in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Employer)) == 0


def test_create_employer_stores_it_and_shows_its_page(as_coordinator, client, db) -> None:
    response = as_coordinator.post(
        "/people/employers/new",
        {
            "name": "Heuvelland Metaal B.V.",
            "kvk_number": "1409 3527",
            "street": "Mergelweg 12",
            "postcode": "6301ab",
            "city": "Valkenburg",
            "region": "maastricht_heuvelland",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    employer = db.session.scalar(sa.select(Employer))
    assert (employer.kvk_number, employer.postcode) == ("14093527", "6301 AB")
    assert response.headers["Location"] == f"/people/employers/{employer.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Heuvelland Metaal B.V. is toegevoegd." in page
    assert "6301 AB Valkenburg" in page and "Maastricht-Heuvelland" in page
    assert len(events(db, "employer.create")) == 1


def test_duplicate_kvk_number_is_refused_on_the_form(as_coordinator, client, db) -> None:
    make_employer(name="Oranje-Nassau Metaaltechniek B.V.", kvk_number="14093527")
    db.session.commit()
    page = as_coordinator.post(
        "/people/employers/new",
        {"name": "Kopie B.V.", "kvk_number": "14093527", "region": "parkstad"},
    ).get_data(as_text=True)
    assert "KvK-nummer 14093527 hoort al bij Oranje-Nassau Metaaltechniek B.V." in page
    assert 'value="Kopie B.V."' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Employer)) == 1


def test_edit_employer(as_coordinator, client, db) -> None:
    employer = make_employer(name="Oud B.V.", kvk_number="14093527")
    other = make_employer(name="Ander B.V.", kvk_number="14127408")
    db.session.commit()
    form = client.get(f"/people/employers/{employer.id}/edit").get_data(as_text=True)
    assert 'value="Oud B.V."' in form and 'selected value="parkstad"' in form
    page = as_coordinator.post(
        f"/people/employers/{employer.id}/edit",
        {"name": "Nieuw B.V.", "kvk_number": other.kvk_number, "region": "parkstad"},
    ).get_data(as_text=True)
    assert "hoort al bij Ander B.V." in page
    response = as_coordinator.post(
        f"/people/employers/{employer.id}/edit",
        {"name": "Nieuw B.V.", "kvk_number": "14093527", "region": "parkstad"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Employer, employer.id).name == "Nieuw B.V."
    assert events(db, "employer.update")[0].details["changes"]["name"] == ["Oud B.V.", "Nieuw B.V."]


def test_employer_page_shows_contacts_current_and_earlier_employees(
    as_coordinator, client, db
) -> None:
    employer = make_employer(name="Kerkrade Precisie B.V.")
    make_user(Role.EMPLOYER, employer=employer, first_name="Petra", last_name="Janssen")
    make_user(
        Role.EMPLOYER, employer=employer, first_name="Huub", last_name="Ramaekers", password=None
    )
    cohort = make_cohort(name="Parkstad 2026-2027")
    now = make_user(Role.PARTICIPANT, first_name="Noël", last_name="Çelik")
    make_enrolment(cohort, now, employer, enrolled_on=date(2026, 9, 14))
    gone = make_user(Role.PARTICIPANT, first_name="Bram", last_name="Heijden")
    make_enrolment(
        make_cohort(cohort.programme, name="Parkstad 2025-2026"),
        gone,
        employer,
        status=EnrolmentStatus.WITHDRAWN,
        ended_on=date(2026, 1, 9),
        end_reason="Verhuisd",
    )
    other_company = make_user(Role.PARTICIPANT, first_name="Anders", last_name="Elders")
    make_enrolment(cohort, other_company, make_employer())
    db.session.commit()
    page = client.get(f"/people/employers/{employer.id}").get_data(as_text=True)
    assert "Petra Janssen" in page and "Huub Ramaekers" in page
    assert "Uitgenodigd, nog geen wachtwoord" in page and "Actief" in page
    current, earlier = page.split("Eerdere werknemers")
    assert "Noël Çelik" in current and "Parkstad 2026-2027" in current and "14 sep 2026" in current
    assert "Bram Heijden" in earlier and "Gestopt" in earlier
    assert "Anders Elders" not in page


# --- contact persons, invitations, deactivation ------------------------------------------------


def test_add_contact_person_queues_an_invitation_with_a_working_link(
    as_coordinator, client, db
) -> None:
    employer = make_employer(name="Kerkrade Precisie B.V.")
    db.session.commit()
    response = as_coordinator.post(
        f"/people/employers/{employer.id}/contacts/new",
        {
            "first_name": "Sandra",
            "name_prefix": "de",
            "last_name": "Wit",
            "email": "Sandra@Precisie.example",
            "phone": "045 123 45 67",
        },
    )
    assert response.headers["Location"] == f"/people/employers/{employer.id}"
    db.session.expire_all()
    contact = accounts.find_user_by_email("sandra@precisie.example")
    assert contact.role is Role.EMPLOYER and contact.employer_id == employer.id
    assert contact.full_name == "Sandra de Wit" and contact.phone == "045 123 45 67"
    [mail] = outbox_for(db, "sandra@precisie.example")
    link = LINK.search(mail.body_text).group(0)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sandra de Wit is toegevoegd" in page
    assert client.get(urlsplit(link).path).status_code == 200


def test_add_contact_person_with_a_taken_email_keeps_the_input(as_coordinator, client, db) -> None:
    employer = make_employer()
    make_user(Role.TRAINER, email="petra@bedrijf.example", first_name="Petra", last_name="Trainer")
    db.session.commit()
    page = as_coordinator.post(
        f"/people/employers/{employer.id}/contacts/new",
        {
            "first_name": "Petra",
            "last_name": "Janssen",
            "email": "PETRA@bedrijf.example",
            "phone": "abc",
        },
    ).get_data(as_text=True)
    assert "Gebruik in een telefoonnummer alleen cijfers" in page
    assert 'value="PETRA@bedrijf.example"' in page and 'value="Janssen"' in page
    page = as_coordinator.post(
        f"/people/employers/{employer.id}/contacts/new",
        {"first_name": "Petra", "last_name": "Janssen", "email": "PETRA@bedrijf.example"},
    ).get_data(as_text=True)
    assert "Het e-mailadres petra@bedrijf.example is al in gebruik bij Petra Trainer." in page
    assert outbox_for(db, "petra@bedrijf.example") == []


def test_person_page_shows_the_invitation_state_and_resend_works(
    as_coordinator, client, db, address_book
) -> None:
    invited = address_book["invited"]
    old_secret = accounts.create_invitation(invited)
    db.session.commit()
    page = client.get(f"/people/{invited.id}").get_data(as_text=True)
    assert "Uitgenodigd, nog geen wachtwoord" in page
    assert "Laatste uitnodiging verstuurd" in page and "nooit" not in page
    assert f'href="/people/{invited.id}/invitation"' in page
    confirm = client.get(f"/people/{invited.id}/invitation").get_data(as_text=True)
    assert "Links die eerder zijn verstuurd, werken niet meer." in confirm
    response = as_coordinator.post(f"/people/{invited.id}/invitation")
    assert response.headers["Location"] == f"/people/{invited.id}"
    [mail] = outbox_for(db, invited.email)
    new_link = LINK.search(mail.body_text).group(0)
    assert client.get(f"/set-password/{old_secret}").status_code == 404
    assert client.get("/set-password/" + new_link.rsplit("/", 1)[1]).status_code == 200
    assert len(events(db, "user.invitation_resend")) == 1


def test_active_person_has_no_resend_button_and_resend_is_refused(
    as_coordinator, client, db, address_book
) -> None:
    trainer = address_book["trainer"]
    page = client.get(f"/people/{trainer.id}").get_data(as_text=True)
    assert "Actief" in page and "nooit" in page
    assert f"/people/{trainer.id}/invitation" not in page
    assert "Parkstad 2026-2027" in page
    response = as_coordinator.post(f"/people/{trainer.id}/invitation", follow_redirects=True)
    assert "heeft al een wachtwoord gekozen" in response.get_data(as_text=True)
    assert outbox_for(db, trainer.email) == []


def test_deactivate_needs_confirmation_and_blocks_login_at_once(
    app, as_coordinator, client, db, address_book
) -> None:
    contact = address_book["contact"]
    contact_client = app.test_client()
    contact_auth = AuthActions(contact_client)
    contact_auth.login(contact.email)
    assert contact_client.get("/employer/").status_code == 200

    confirm = client.get(f"/people/{contact.id}/deactivate").get_data(as_text=True)
    assert "Petra Janssen deactiveren?" in confirm
    # Without the form's token nothing happens.
    assert client.post(f"/people/{contact.id}/deactivate").status_code in (302, 400)
    db.session.expire_all()
    assert db.session.get(User, contact.id).is_active_account

    response = as_coordinator.post(f"/people/{contact.id}/deactivate")
    assert response.headers["Location"] == f"/people/{contact.id}"
    db.session.expire_all()
    assert not db.session.get(User, contact.id).is_active_account
    assert len(events(db, "user.deactivate")) == 1
    # The contact's running session ends, and logging in again is refused.
    assert contact_client.get("/employer/").headers["Location"].startswith("/login")
    login = contact_auth.login(contact.email)
    assert login.status_code == 401
    assert "gedeactiveerd" in login.get_data(as_text=True)
    page = client.get(f"/people/{contact.id}").get_data(as_text=True)
    assert "Gedeactiveerd" in page and f"/people/{contact.id}/reactivate" in page

    assert as_coordinator.post(f"/people/{contact.id}/reactivate").status_code == 302
    assert len(events(db, "user.reactivate")) == 1
    assert contact_auth.login(contact.email).status_code == 302


def test_deactivating_a_trainer_warns_about_their_cohorts(
    as_coordinator, client, address_book
) -> None:
    page = client.get(f"/people/{address_book['trainer'].id}/deactivate").get_data(as_text=True)
    assert "Parkstad 2026-2027" in page


# --- trainers ----------------------------------------------------------------------------------


def test_trainer_list_shows_cohorts_searches_and_pages(
    as_coordinator, client, db, count_queries
) -> None:
    programme = make_programme()
    ingrid = make_user(Role.TRAINER, first_name="Ingrid", last_name="Vaessen")
    make_cohort(programme, name="Parkstad 2026-2027", trainers=[ingrid])
    make_cohort(programme, name="Westelijke Mijnstreek 2026-2027", trainers=[ingrid])
    make_user(Role.TRAINER, first_name="Ruud", last_name="Hendriks", active=False)
    db.session.commit()
    page = client.get("/people/trainers/").get_data(as_text=True)
    assert (
        "Vaessen, Ingrid" in page
        and "Parkstad 2026-2027" in page
        and "Westelijke Mijnstreek 2026-2027" in page
    )
    assert "Hendriks, Ruud" in page and "Gedeactiveerd" in page and "nog geen" in page
    found = client.get("/people/trainers/?q=ingrid").get_data(as_text=True)
    assert "Vaessen, Ingrid" in found and "Hendriks" not in found

    with count_queries() as few:
        client.get("/people/trainers/")
    for n in range(30):
        make_user(Role.TRAINER, last_name=f"Trainer{n:02d}")
        make_cohort(programme, trainers=[ingrid])
    db.session.commit()
    with count_queries() as many:
        second = client.get("/people/trainers/?page=2").get_data(as_text=True)
    assert many.count == few.count
    assert "Pagina 2 van 2" in second


def test_add_trainer_invites_them(as_coordinator, client, db) -> None:
    response = as_coordinator.post(
        "/people/trainers/new",
        {"first_name": "Marij", "last_name": "Ortmans", "email": "marij@vakkracht.example"},
    )
    db.session.expire_all()
    trainer = accounts.find_user_by_email("marij@vakkracht.example")
    assert trainer.role is Role.TRAINER
    assert response.headers["Location"] == f"/people/{trainer.id}"
    assert len(outbox_for(db, trainer.email)) == 1
    page = client.get(f"/people/{trainer.id}").get_data(as_text=True)
    assert "Uitgenodigd, nog geen wachtwoord" in page


def test_trainer_list_empty_state(as_coordinator, client) -> None:
    page = client.get("/people/trainers/").get_data(as_text=True)
    assert "Nog geen trainers" in page and 'href="/people/trainers/new"' in page


# --- participants ------------------------------------------------------------------------------


def test_participant_list_shows_current_cohort_or_not_enrolled(
    as_coordinator, client, db, count_queries
) -> None:
    employer = make_employer(name="Kerkrade Precisie B.V.")
    cohort = make_cohort(name="Parkstad 2026-2027")
    noel = make_user(
        Role.PARTICIPANT, first_name="Noël", last_name="Çelik", email="noel@example.org"
    )
    make_enrolment(cohort, noel, employer)
    loner = make_user(Role.PARTICIPANT, first_name="Bram", last_name="Alleen")
    make_enrolment(
        make_cohort(cohort.programme, name="Oud cohort"),
        loner,
        employer,
        status=EnrolmentStatus.WITHDRAWN,
        ended_on=date(2026, 1, 1),
    )
    make_user(Role.TRAINER, first_name="Geen", last_name="Deelnemer")
    db.session.commit()
    with count_queries() as few:
        page = client.get("/people/participants/").get_data(as_text=True)
    assert (
        "Çelik, Noël" in page and "Parkstad 2026-2027" in page and "Kerkrade Precisie B.V." in page
    )
    assert "Alleen, Bram" in page and "Niet ingeschreven" in page and "Oud cohort" not in page
    assert "Deelnemer, Geen" not in page
    found = client.get("/people/participants/?q=NOEL@example").get_data(as_text=True)
    assert "Çelik, Noël" in found and "Alleen, Bram" not in found
    for _ in range(10):
        make_enrolment(make_cohort(programme=cohort.programme), employer=make_employer())
    db.session.commit()
    with count_queries() as many:
        client.get("/people/participants/")
    assert many.count == few.count


def test_participant_page_shows_enrolment_history(as_coordinator, client, db) -> None:
    participant = make_user(Role.PARTICIPANT, first_name="Noël", last_name="Çelik")
    first_employer = make_employer(name="Eerste B.V.")
    programme = make_programme()
    make_enrolment(
        make_cohort(programme, name="Parkstad 2025-2026"),
        participant,
        first_employer,
        enrolled_on=date(2025, 9, 8),
        status=EnrolmentStatus.TRANSFERRED,
        ended_on=date(2026, 2, 2),
        end_reason="Andere regio",
    )
    make_enrolment(
        make_cohort(programme, name="Westelijke Mijnstreek 2025-2026"),
        participant,
        make_employer(name="Tweede B.V."),
        enrolled_on=date(2026, 2, 2),
    )
    db.session.commit()
    page = client.get(f"/people/{participant.id}").get_data(as_text=True)
    assert "Parkstad 2025-2026" in page and "Westelijke Mijnstreek 2025-2026" in page
    assert "Overgeplaatst" in page and "Andere regio" in page and "8 sep 2025" in page
    assert page.index("Westelijke Mijnstreek 2025-2026") < page.index("Parkstad 2025-2026")


def test_participant_without_enrolments_page_says_what_to_do(as_coordinator, client, db) -> None:
    participant = make_user(Role.PARTICIPANT)
    db.session.commit()
    page = client.get(f"/people/{participant.id}").get_data(as_text=True)
    assert "Niet ingeschreven in een groep" in page


def test_edit_participant_name_and_email(as_coordinator, client, db) -> None:
    participant = make_user(
        Role.PARTICIPANT, first_name="Noel", last_name="Celik", email="noel@example.org"
    )
    make_user(Role.PARTICIPANT, email="bram@example.org", first_name="Bram", last_name="Heijden")
    db.session.commit()
    form = client.get(f"/people/{participant.id}/edit").get_data(as_text=True)
    assert 'value="noel@example.org"' in form
    page = as_coordinator.post(
        f"/people/{participant.id}/edit",
        {"first_name": "Noël", "last_name": "Çelik", "email": "Bram@Example.org"},
    ).get_data(as_text=True)
    assert "is al in gebruik bij Bram Heijden" in page and 'value="Noël"' in page
    response = as_coordinator.post(
        f"/people/{participant.id}/edit",
        {"first_name": "Noël", "last_name": "Çelik", "email": "Noel.Celik@Example.org"},
    )
    assert response.headers["Location"] == f"/people/{participant.id}"
    db.session.expire_all()
    changed = db.session.get(User, participant.id)
    assert (changed.full_name, changed.email) == ("Noël Çelik", "noel.celik@example.org")
    assert events(db, "user.update")[0].details["changes"]["email"] == [
        "noel@example.org",
        "noel.celik@example.org",
    ]


def test_changing_the_email_of_an_invited_person_suggests_a_new_invitation(
    as_coordinator, client, db
) -> None:
    invited = make_user(Role.TRAINER, password=None, first_name="Marij", last_name="Ortmans")
    db.session.commit()
    response = as_coordinator.post(
        f"/people/{invited.id}/edit",
        {"first_name": "Marij", "last_name": "Ortmans", "email": "marij.ortmans@vakkracht.example"},
        follow_redirects=True,
    )
    assert "Stuur een nieuwe uitnodiging" in response.get_data(as_text=True)


def test_invitation_tokens_only_count_invitations(db, coordinator) -> None:
    user = make_user(Role.TRAINER)
    token, _ = AccountToken.issue(user, TokenPurpose.PASSWORD_RESET, timedelta(hours=2))
    db.session.add(token)
    db.session.flush()
    assert people.last_invitations([user.id]) == {}
    sent = datetime(2026, 9, 1, 9, tzinfo=clock.LOCAL_TZ)
    with clock.frozen_at(sent):
        accounts.create_invitation(user)
    assert people.last_invitations([user.id])[user.id] == sent
