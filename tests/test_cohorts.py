"""Cohorts: the coordinator's list, creating, editing, closing and reopening, and the cohort page."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import AuditEvent, Cohort, EnrolmentStatus, Period, Region, Role
from lms.services import cohorts as cohort_service
from lms.services import school_calendar
from lms.services.cohorts import CohortError
from lms.services.school_calendar import PlanKind
from tests.factories import make_cohort, make_employer, make_enrolment, make_programme, make_user

MONDAY = date(2026, 9, 7)


@pytest.fixture
def coordinator(db):
    user = make_user(Role.COORDINATOR)
    db.session.commit()
    return user


@pytest.fixture
def trainer(db):
    user = make_user(Role.TRAINER, first_name="Ingrid", last_name="Vaessen")
    db.session.commit()
    return user


def events(action: str) -> list[AuditEvent]:
    from lms.extensions import db

    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


# --- the dates of a cohort ---------------------------------------------------------------------


def test_end_date_is_the_friday_of_the_last_week(db) -> None:
    programme = make_programme()  # 40 weeks
    end = cohort_service.end_date_for(programme, MONDAY)
    assert end == date(2027, 6, 11)
    assert end.weekday() == 4
    cohort = make_cohort(programme, start=MONDAY)
    assert end == cohort.due_date(programme.duration_weeks)


def test_period_dates_run_from_monday_of_first_week_to_friday_of_last(db) -> None:
    programme = make_programme()
    db.session.add(
        Period(
            programme=programme, code="P2", title="Monteren", position=2, start_week=11, end_week=40
        )
    )
    db.session.flush()
    cohort = make_cohort(programme, start=MONDAY)
    first, second = [
        line for line in school_calendar.year_plan(cohort, []) if line.kind is PlanKind.PERIOD
    ]
    assert (first.title, first.first_day, first.last_day) == (
        "P1 Veilig starten",
        MONDAY,
        date(2026, 11, 13),
    )
    assert (second.first_day, second.last_day) == (date(2026, 11, 16), date(2027, 6, 11))


# --- the cohort service ------------------------------------------------------------------------


def test_create_cohort_sets_end_date_trainers_and_audit(db, coordinator, trainer) -> None:
    programme = make_programme()
    cohort = cohort_service.create_cohort(
        name="  Parkstad 2026-2027 ",
        region=Region.PARKSTAD,
        programme=programme,
        start_date=MONDAY,
        trainers=[trainer],
        actor=coordinator,
    )
    assert cohort.name == "Parkstad 2026-2027"
    assert cohort.capacity == 12
    assert cohort.end_date == date(2027, 6, 11)
    assert cohort.trainers == [trainer]
    (event,) = events("cohort.create")
    assert event.actor == coordinator
    assert event.subject_id == cohort.id
    assert event.details["programme"] == "TEST v1"
    assert event.details["trainers"] == [trainer.email]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "parkstad 2026-2027"}, "name"),  # the same name, another case
        ({"name": "   "}, "name"),
        ({"start_date": date(2026, 9, 8)}, "start_date"),  # a Tuesday
        ({"capacity": 0}, "capacity"),
        ({"capacity": 13}, "capacity"),
        ({"trainers": []}, "trainers"),
        ({"trainers": "participant"}, "trainers"),
    ],
)
def test_create_cohort_refusals(db, coordinator, trainer, changes, field) -> None:
    programme = make_programme()
    make_cohort(programme, name="Parkstad 2026-2027")
    if changes.get("trainers") == "participant":
        changes["trainers"] = [make_user(Role.PARTICIPANT)]
    arguments = {
        "name": "Maastricht 2026-2027",
        "region": Region.MAASTRICHT_HEUVELLAND,
        "programme": programme,
        "start_date": MONDAY,
        "trainers": [trainer],
        "actor": coordinator,
        **changes,
    }
    with pytest.raises(CohortError) as refused:
        cohort_service.create_cohort(**arguments)
    assert refused.value.field == field
    assert events("cohort.create") == []


def test_update_cohort_moves_end_date_and_records_changes(db, coordinator, trainer) -> None:
    other = make_user(Role.TRAINER)
    cohort = make_cohort(name="Oud", trainers=[trainer], start=MONDAY)
    cohort.end_date = cohort_service.end_date_for(cohort.programme, MONDAY)
    changes = cohort_service.update_cohort(
        cohort,
        name="Nieuw",
        region=Region.WESTELIJKE_MIJNSTREEK,
        start_date=date(2026, 9, 14),
        capacity=10,
        trainers=[trainer, other],
        actor=coordinator,
    )
    assert cohort.name == "Nieuw"
    assert cohort.end_date == date(2027, 6, 18)
    assert cohort.capacity == 10
    assert {t.id for t in cohort.trainers} == {trainer.id, other.id}
    assert changes["name"] == ["Oud", "Nieuw"]
    (event,) = events("cohort.update")
    assert event.details["changes"]["capacity"] == [12, 10]
    assert event.details["changes"]["end_date"] == ["2027-06-11", "2027-06-18"]


def test_update_without_changes_records_nothing(db, coordinator, trainer) -> None:
    cohort = make_cohort(name="Gelijk", trainers=[trainer], start=MONDAY)
    cohort.end_date = cohort_service.end_date_for(cohort.programme, MONDAY)
    changes = cohort_service.update_cohort(
        cohort,
        name="Gelijk",
        region=cohort.region,
        start_date=MONDAY,
        capacity=12,
        trainers=[trainer],
        actor=coordinator,
    )
    assert changes == {}
    assert events("cohort.update") == []


def test_capacity_never_below_seats_taken(db, coordinator, trainer) -> None:
    cohort = make_cohort(trainers=[trainer])
    for _ in range(3):
        make_enrolment(cohort)
    make_enrolment(cohort, status=EnrolmentStatus.WITHDRAWN, ended_on=MONDAY)  # does not count
    arguments = {
        "name": cohort.name,
        "region": cohort.region,
        "start_date": cohort.start_date,
        "trainers": [trainer],
        "actor": coordinator,
    }
    with pytest.raises(CohortError) as refused:
        cohort_service.update_cohort(cohort, capacity=2, **arguments)
    assert refused.value.field == "capacity"
    assert "3" in str(refused.value)
    cohort_service.update_cohort(cohort, capacity=3, **arguments)
    assert cohort.capacity == 3


def test_close_and_reopen(db, coordinator) -> None:
    cohort = make_cohort()
    moment = datetime(2027, 6, 30, 12, tzinfo=clock.LOCAL_TZ)
    cohort_service.close_cohort(cohort, actor=coordinator, now=moment)
    assert cohort.is_closed
    assert cohort.closed_at == moment
    with pytest.raises(CohortError):
        cohort_service.close_cohort(cohort, actor=coordinator, now=moment)
    cohort_service.reopen_cohort(cohort, actor=coordinator)
    assert not cohort.is_closed
    with pytest.raises(CohortError):
        cohort_service.reopen_cohort(cohort, actor=coordinator)
    assert [e.actor for e in events("cohort.close")] == [coordinator]
    assert [e.actor for e in events("cohort.reopen")] == [coordinator]


# --- authorization -----------------------------------------------------------------------------


@pytest.fixture
def some_cohort(db):
    cohort = make_cohort(name="Parkstad 2026-2027")
    enrolment = make_enrolment(cohort)
    db.session.commit()
    return cohort, enrolment


def cohort_pages(cohort, enrolment) -> list[tuple[str, str]]:
    base = f"/cohorts/{cohort.id}"
    return [
        ("GET", "/cohorts/"),
        ("GET", "/cohorts/new"),
        ("POST", "/cohorts/new"),
        ("GET", base),
        ("GET", f"{base}/edit"),
        ("POST", f"{base}/edit"),
        ("GET", f"{base}/close"),
        ("POST", f"{base}/close"),
        ("POST", f"{base}/reopen"),
        ("GET", f"{base}/enrol"),
        ("POST", f"{base}/enrol"),
        ("GET", f"{base}/enrolments/{enrolment.id}/withdraw"),
        ("POST", f"{base}/enrolments/{enrolment.id}/withdraw"),
        ("GET", f"{base}/enrolments/{enrolment.id}/transfer"),
        ("POST", f"{base}/enrolments/{enrolment.id}/transfer"),
    ]


@pytest.mark.parametrize("role", [Role.TRAINER, Role.PARTICIPANT, Role.EMPLOYER])
def test_other_roles_get_403_or_404_on_a_cohort(auth, client, db, some_cohort, role) -> None:
    user = make_user(role)
    db.session.commit()
    auth.login(user.email)
    for method, path in cohort_pages(*some_cohort):
        response = client.get(path) if method == "GET" else auth.post(path, {})
        # A URL with a cohort's id refuses with 404: it does not confirm that the cohort exists.
        expected = 404 if path.startswith(f"/cohorts/{some_cohort[0].id}") else 403
        assert response.status_code == expected, (method, path)


def test_anonymous_visitors_go_to_login(auth, client, some_cohort) -> None:
    for method, path in cohort_pages(*some_cohort):
        response = client.get(path) if method == "GET" else auth.post(path, {})
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/login"), (method, path)


def test_anonymous_get_pages_redirect_to_login_with_next(client, some_cohort) -> None:
    cohort, _ = some_cohort
    response = client.get(f"/cohorts/{cohort.id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_unknown_cohort_is_404(auth, client, coordinator) -> None:
    auth.login(coordinator.email)
    for path in ("/cohorts/999", "/cohorts/999/edit", "/cohorts/999/close", "/cohorts/999/enrol"):
        assert client.get(path).status_code == 404, path


# --- the list ----------------------------------------------------------------------------------


def test_list_searches_filters_marks_closed_and_links(auth, client, db, coordinator) -> None:
    programme = make_programme()
    parkstad = make_cohort(programme, name="Parkstad 2026-2027", region=Region.PARKSTAD)
    make_cohort(
        programme, name="Westelijke Mijnstreek 2026-2027", region=Region.WESTELIJKE_MIJNSTREEK
    )
    make_cohort(
        programme,
        name="Parkstad 2025-2026",
        start=date(2025, 9, 1),
        closed_at=datetime(2026, 7, 1, tzinfo=clock.LOCAL_TZ),
    )
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get("/cohorts/").get_data(as_text=True)
    assert f'href="/cohorts/{parkstad.id}"' in page
    assert 'href="/cohorts/new"' in page
    assert page.count(">gesloten</span>") == 1
    # Open cohorts come before closed ones.
    assert page.index("Parkstad 2026-2027") < page.index("Parkstad 2025-2026")

    found = client.get("/cohorts/?q=parkstad").get_data(as_text=True)
    assert "Parkstad 2026-2027" in found and "Parkstad 2025-2026" in found
    assert "Westelijke Mijnstreek 2026-2027" not in found

    regional = client.get("/cohorts/?region=westelijke_mijnstreek").get_data(as_text=True)
    assert "Westelijke Mijnstreek 2026-2027" in regional
    assert "Parkstad 2026-2027" not in regional

    nothing = client.get("/cohorts/?q=zzz").get_data(as_text=True)
    assert "Geen groepen gevonden" in nothing


def test_list_is_paginated(auth, client, db, app, coordinator) -> None:
    app.config["PER_PAGE"] = 2
    programme = make_programme()
    for number in range(5):
        make_cohort(programme, name=f"Groep {number}")
    db.session.commit()
    auth.login(coordinator.email)
    first = client.get("/cohorts/").get_data(as_text=True)
    assert "Pagina 1 van 3" in first
    third = client.get("/cohorts/?page=3").get_data(as_text=True)
    assert third.count('<th scope="row"') == 1


def test_list_costs_a_constant_number_of_queries(
    auth, client, db, app, coordinator, count_queries
) -> None:
    programme = make_programme()
    trainer = make_user(Role.TRAINER)
    db.session.commit()

    def add_cohorts(count: int) -> None:
        for _ in range(count):
            cohort = make_cohort(programme, trainers=[trainer])
            make_enrolment(cohort)
        db.session.commit()

    auth.login(coordinator.email)
    add_cohorts(2)
    with count_queries() as few:
        client.get("/cohorts/")
    add_cohorts(6)
    with count_queries() as many:
        client.get("/cohorts/")
    assert many.count == few.count


def test_empty_list_without_curriculum_says_whoever_runs_the_server_loads_it(
    auth, client, coordinator
) -> None:
    auth.login(coordinator.email)
    page = client.get("/cohorts/").get_data(as_text=True)
    assert "wie de server beheert" in page
    assert "flask --app" not in page
    assert 'href="/cohorts/new"' not in page


def test_empty_list_with_curriculum_offers_a_new_cohort(auth, client, db, coordinator) -> None:
    make_programme()
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get("/cohorts/").get_data(as_text=True)
    assert "Maak de eerste groep" in page
    assert 'href="/cohorts/new"' in page


# --- create and edit ---------------------------------------------------------------------------


def cohort_form(trainer, programme=None, **changes) -> dict:
    data = {
        "name": "Maastricht-Heuvelland 2026-2027",
        "region": "maastricht_heuvelland",
        "start_date": "2026-09-07",
        "capacity": "12",
        "trainers": [str(trainer.id)],
        "training_days": ["0"],
    }
    if programme is not None:
        data["programme"] = str(programme.id)
    data.update(changes)
    return data


def test_create_page_offers_programmes_and_trainers(auth, client, db, coordinator, trainer) -> None:
    make_programme(version=1)
    make_user(Role.TRAINER, first_name="Weg", last_name="Gegaan", active=False)
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get("/cohorts/new").get_data(as_text=True)
    assert "TEST versie 1 — Testprogramma (40 weken)" in page
    assert "Ingrid Vaessen" in page
    assert "Weg Gegaan" not in page  # deactivated accounts are not offered
    assert 'value="12"' in page


def test_create_without_curriculum_explains(auth, client, coordinator, trainer) -> None:
    auth.login(coordinator.email)
    page = client.get("/cohorts/new").get_data(as_text=True)
    assert "wie de server beheert" in page
    assert 'name="name"' not in page


def test_create_cohort_through_the_form(auth, client, db, coordinator, trainer) -> None:
    programme = make_programme()
    db.session.commit()
    auth.login(coordinator.email)
    response = auth.post("/cohorts/new", cohort_form(trainer, programme))
    db.session.expire_all()
    cohort = db.session.scalar(sa.select(Cohort))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cohorts/{cohort.id}"
    assert cohort.end_date == date(2027, 6, 11)
    assert [t.id for t in cohort.trainers] == [trainer.id]
    assert len(events("cohort.create")) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is aangemaakt" in page
    assert "11 jun 2027" in page


def test_create_refuses_a_taken_name_and_keeps_the_input(
    auth, client, db, coordinator, trainer
) -> None:
    programme = make_programme()
    make_cohort(programme, name="Maastricht-Heuvelland 2026-2027")
    db.session.commit()
    auth.login(coordinator.email)
    response = auth.post("/cohorts/new", cohort_form(trainer, programme, capacity="10"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Er is al een groep met de naam Maastricht-Heuvelland 2026-2027" in page
    assert 'value="10"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cohort)) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"trainers": []}, "Kies minstens één trainer."),
        ({"capacity": "0"}, "minstens 1"),
        ({"start_date": "2026-09-09"}, "Kies een maandag"),
        ({"name": ""}, "Geef de groep een naam."),
    ],
)
def test_create_form_errors(auth, client, db, coordinator, trainer, changes, message) -> None:
    programme = make_programme()
    db.session.commit()
    auth.login(coordinator.email)
    response = auth.post("/cohorts/new", cohort_form(trainer, programme, **changes))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cohort)) == 0


def test_edit_keeps_the_programme_and_refuses_too_few_seats(
    auth, client, db, coordinator, trainer
) -> None:
    programme = make_programme(version=1)
    newer = make_programme(version=2)
    cohort = make_cohort(programme, trainers=[trainer], name="Parkstad 2026-2027")
    for _ in range(4):
        make_enrolment(cohort)
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get(f"/cohorts/{cohort.id}/edit").get_data(as_text=True)
    assert 'name="programme"' not in page
    assert "Er zijn nu 4 plaatsen bezet" in page

    refused = auth.post(
        f"/cohorts/{cohort.id}/edit",
        cohort_form(trainer, name="Parkstad 2026-2027", region="parkstad", capacity="3"),
    )
    assert refused.status_code == 200
    assert "kan de capaciteit niet lager zijn dan 4" in refused.get_data(as_text=True)

    saved = auth.post(
        f"/cohorts/{cohort.id}/edit",
        cohort_form(trainer, newer, name="Parkstad 2026/2027", region="parkstad", capacity="4"),
    )
    assert saved.status_code == 302
    db.session.expire_all()
    cohort = db.session.get(Cohort, cohort.id)
    assert cohort.name == "Parkstad 2026/2027"
    assert cohort.capacity == 4
    assert cohort.programme_id == programme.id  # pinned, whatever is posted
    assert len(events("cohort.update")) == 1


def test_edit_form_shows_current_values(auth, client, db, coordinator, trainer) -> None:
    cohort = make_cohort(trainers=[trainer], name="Parkstad 2026-2027", capacity=9)
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get(f"/cohorts/{cohort.id}/edit").get_data(as_text=True)
    assert 'value="Parkstad 2026-2027"' in page
    assert 'value="9"' in page
    assert (
        f'value="{trainer.id}" checked' in page
        or f'checked id="trainers-0" name="trainers" type="checkbox" value="{trainer.id}"' in page
    )


# --- close and reopen --------------------------------------------------------------------------


def test_close_needs_confirmation_then_closes(auth, client, db, coordinator, trainer) -> None:
    cohort = make_cohort(trainers=[trainer], name="Parkstad 2026-2027")
    make_enrolment(cohort)
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get(f"/cohorts/{cohort.id}/close").get_data(as_text=True)
    assert "blijft 1 deelnemer ingeschreven" in page

    unconfirmed = auth.post(f"/cohorts/{cohort.id}/close", {})
    assert unconfirmed.status_code == 200
    assert "Vink het vakje aan" in unconfirmed.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(Cohort, cohort.id).is_closed

    closed = auth.post(f"/cohorts/{cohort.id}/close", {"confirm": "y"})
    assert closed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Cohort, cohort.id).is_closed
    assert len(events("cohort.close")) == 1


def test_closed_cohort_leaves_the_trainers_list_and_takes_no_enrolments(
    auth, client, db, coordinator, trainer
) -> None:
    cohort = make_cohort(trainers=[trainer], name="Parkstad 2026-2027")
    db.session.commit()
    auth.login(coordinator.email)
    auth.post(f"/cohorts/{cohort.id}/close", {"confirm": "y"})
    detail = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Groep heropenen" in detail
    assert f'href="/cohorts/{cohort.id}/enrol"' not in detail
    enrol_page = client.get(f"/cohorts/{cohort.id}/enrol").get_data(as_text=True)
    assert "Deze groep is gesloten" in enrol_page
    assert 'name="employer"' not in enrol_page
    auth.logout()
    auth.login(trainer.email)
    assert "Parkstad 2026-2027" not in client.get("/assessment/").get_data(as_text=True)


def test_reopen(auth, client, db, coordinator) -> None:
    cohort = make_cohort(closed_at=datetime(2027, 7, 1, tzinfo=clock.LOCAL_TZ))
    db.session.commit()
    auth.login(coordinator.email)
    response = auth.post(f"/cohorts/{cohort.id}/reopen", {})
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(Cohort, cohort.id).is_closed
    assert len(events("cohort.reopen")) == 1


def test_reopen_without_csrf_token_is_refused(auth, client, db, coordinator) -> None:
    cohort = make_cohort(closed_at=datetime(2027, 7, 1, tzinfo=clock.LOCAL_TZ))
    db.session.commit()
    auth.login(coordinator.email)
    assert client.post(f"/cohorts/{cohort.id}/reopen").status_code == 400
    db.session.expire_all()
    assert db.session.get(Cohort, cohort.id).is_closed


# --- the cohort page ---------------------------------------------------------------------------


def test_cohort_page_shows_seats_trainers_employers_dates_and_history(
    auth, client, db, coordinator, trainer
) -> None:
    programme = make_programme()
    cohort = make_cohort(
        programme, name="Parkstad 2026-2027", trainers=[trainer], capacity=5, start=MONDAY
    )
    cohort.end_date = date(2027, 6, 11)
    other = make_cohort(programme, name="Westelijke Mijnstreek 2026-2027")
    company = make_employer(name="Kerkrade Precisie B.V.")
    bram = make_user(
        Role.PARTICIPANT, first_name="Bram", name_prefix="van der", last_name="Heijden"
    )
    noel = make_user(Role.PARTICIPANT, first_name="Noël", last_name="Çelik")
    make_enrolment(cohort, bram, company, enrolled_on=date(2026, 8, 20))
    make_enrolment(cohort, noel, company)
    gone = make_enrolment(
        cohort,
        make_user(Role.PARTICIPANT, first_name="Sanne", last_name="Weg"),
        status=EnrolmentStatus.WITHDRAWN,
        ended_on=date(2026, 10, 2),
        end_reason="Ander werk gevonden",
    )
    moved_participant = make_user(Role.PARTICIPANT, first_name="Tim", last_name="Verhuisd")
    moved = make_enrolment(
        cohort,
        moved_participant,
        status=EnrolmentStatus.TRANSFERRED,
        ended_on=date(2026, 11, 2),
        end_reason="Verhuisd",
    )
    make_enrolment(other, moved_participant, transferred_from=moved, enrolled_on=date(2026, 11, 2))
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    # Seats: two taken (sorted by last name), three free with an enrol action.
    assert page.count('class="seat seat--taken"') == 2
    assert page.count('class="seat seat--free"') == 3
    assert page.index("Noël Çelik") < page.index("Bram van der Heijden")
    assert "20 aug 2026" in page
    assert "Zij-instromer" in page
    assert page.count(f'href="/cohorts/{cohort.id}/enrol"') == 4  # the button and each free seat
    assert "Ingrid Vaessen" in page
    assert "Kerkrade Precisie B.V." in page and "2 deelnemers" in page
    # Dates of the year.
    assert "7 sep 2026" in page
    assert "11 jun 2027" in page
    assert "Veilig starten" in page and "13 nov 2026" in page
    # History.
    assert "Sanne Weg" in page and "Ander werk gevonden" in page and "2 okt 2026" in page
    assert "Tim Verhuisd" in page and f'href="/cohorts/{other.id}"' in page
    assert f"/enrolments/{gone.id}/withdraw" not in page


def test_cohort_page_costs_a_constant_number_of_queries(
    auth, client, db, coordinator, count_queries
) -> None:
    programme = make_programme()
    cohort = make_cohort(programme)
    other = make_cohort(programme)
    db.session.commit()

    def add(count: int) -> None:
        for _ in range(count):
            make_enrolment(cohort)
            moved = make_enrolment(cohort, status=EnrolmentStatus.TRANSFERRED, ended_on=MONDAY)
            make_enrolment(other, moved.participant, transferred_from=moved)
        db.session.commit()

    auth.login(coordinator.email)
    add(1)
    with count_queries() as few:
        client.get(f"/cohorts/{cohort.id}")
    add(4)
    with count_queries() as many:
        client.get(f"/cohorts/{cohort.id}")
    assert many.count == few.count


def test_create_form_shows_every_mistake_at_once(auth, client, db, coordinator, trainer) -> None:
    programme = make_programme()
    db.session.commit()
    auth.login(coordinator.email)
    response = auth.post(
        "/cohorts/new", cohort_form(trainer, programme, start_date="2026-09-08", trainers=[])
    )
    page = response.get_data(as_text=True)
    assert "Kies een maandag" in page
    assert "Kies minstens één trainer." in page


def test_enrol_page_of_a_full_cohort_at_most_capacity_does_not_suggest_more_seats(
    auth, client, db, coordinator
) -> None:
    programme = make_programme()
    small = make_cohort(programme, name="Klein", capacity=2)
    full = make_cohort(programme, name="Vol")
    for _ in range(2):
        make_enrolment(small)
    for _ in range(12):
        make_enrolment(full)
    db.session.commit()
    auth.login(coordinator.email)
    assert "Verhoog dan het aantal plaatsen" in client.get(f"/cohorts/{small.id}/enrol").get_data(
        as_text=True
    )
    page = client.get(f"/cohorts/{full.id}/enrol").get_data(as_text=True)
    assert "Verhoog" not in page
    assert "andere groep" in page
