"""Enrolment: the capacity rule (one by one and at the same moment), withdraw and transfer keeping the
history and the work, the audit trail, and the coordinator's enrol / withdraw / transfer pages."""

from __future__ import annotations

import contextlib
import threading
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms.models import (
    Attempt,
    AuditEvent,
    Cohort,
    Employer,
    Enrolment,
    EnrolmentStatus,
    IntakeType,
    OutboxMessage,
    Role,
    Submission,
    User,
)
from lms.services import enrolment as enrolment_service
from lms.services.enrolment import (
    AlreadyEnrolled,
    CohortFull,
    EnrolmentError,
    NewPerson,
    enrol_participant,
    seats_taken,
    transfer,
    withdraw,
)
from tests.factories import make_cohort, make_employer, make_enrolment, make_programme, make_user

START = date(2026, 9, 7)


@pytest.fixture
def coordinator(db):
    user = make_user(Role.COORDINATOR)
    db.session.commit()
    return user


def active_count(cohort: Cohort) -> int:
    from lms.extensions import db

    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ACTIVE)
    )


def audit_events(action: str) -> list[AuditEvent]:
    from lms.extensions import db

    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def fill(cohort: Cohort, count: int) -> list[Enrolment]:
    return [make_enrolment(cohort) for _ in range(count)]


def enrol(cohort, actor, participant=None, new_person=None, on=START, employer=None) -> Enrolment:
    return enrol_participant(
        cohort=cohort,
        employer=employer or make_employer(),
        intake_type=IntakeType.SIDE_ENTRANT,
        actor=actor,
        enrolled_on=on,
        participant=participant,
        new_person=new_person,
    )


# --- enrol -------------------------------------------------------------------------------------


def test_enrol_an_existing_participant_is_audited(db, coordinator) -> None:
    cohort = make_cohort(name="Parkstad 2026-2027")
    participant = make_user(Role.PARTICIPANT)
    employer = make_employer(name="Kerkrade Precisie B.V.")
    enrolment = enrol(cohort, coordinator, participant=participant, employer=employer)
    assert enrolment.is_active
    assert enrolment.enrolled_on == START
    (event,) = audit_events("enrolment.create")
    assert event.actor_id == coordinator.id
    assert event.occurred_at is not None
    assert (event.subject_type, event.subject_id) == ("Enrolment", enrolment.id)
    assert event.details == {
        "cohort": "Parkstad 2026-2027",
        "participant": participant.email,
        "employer": "Kerkrade Precisie B.V.",
    }


def test_enrol_a_new_person_creates_an_account_and_queues_an_invitation(db, coordinator) -> None:
    cohort = make_cohort()
    enrolment = enrol(
        cohort,
        coordinator,
        new_person=NewPerson(
            email=" Bram.Heijden@Example.org ",
            first_name="Bram",
            name_prefix="van der",
            last_name="Heijden",
        ),
    )
    participant = enrolment.participant
    assert participant.role is Role.PARTICIPANT
    assert participant.email == "bram.heijden@example.org"
    assert participant.full_name == "Bram van der Heijden"
    assert participant.password_hash is None
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.recipient == "bram.heijden@example.org"
    assert len(audit_events("user.invite")) == 1


def test_new_person_with_a_known_address_uses_that_account_without_a_new_invitation(
    db, coordinator
) -> None:
    known = make_user(Role.PARTICIPANT, email="known@example.org")
    enrolment = enrol(
        make_cohort(), coordinator, new_person=NewPerson("known@example.org", "K", "Nown")
    )
    assert enrolment.participant == known
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_the_thirteenth_enrolment_is_refused(db, coordinator) -> None:
    cohort = make_cohort(name="Parkstad 2026-2027")
    for _ in range(12):
        enrol(cohort, coordinator, participant=make_user(Role.PARTICIPANT))
    assert seats_taken(cohort) == 12
    with pytest.raises(CohortFull, match="Parkstad 2026-2027 is vol: alle 12 plaatsen zijn bezet"):
        enrol(cohort, coordinator, participant=make_user(Role.PARTICIPANT))
    assert active_count(cohort) == 12


def test_a_smaller_capacity_is_respected(db, coordinator) -> None:
    cohort = make_cohort(capacity=2)
    fill(cohort, 2)
    with pytest.raises(CohortFull):
        enrol(cohort, coordinator, participant=make_user(Role.PARTICIPANT))


def test_ended_enrolments_do_not_take_a_seat(db, coordinator) -> None:
    cohort = make_cohort(capacity=2)
    fill(cohort, 1)
    make_enrolment(cohort, status=EnrolmentStatus.WITHDRAWN, ended_on=START)
    make_enrolment(cohort, status=EnrolmentStatus.TRANSFERRED, ended_on=START)
    enrol(cohort, coordinator, participant=make_user(Role.PARTICIPANT))
    assert active_count(cohort) == 2


def test_a_closed_cohort_takes_no_enrolment(db, coordinator) -> None:
    from lms import clock

    cohort = make_cohort(name="Oud", closed_at=clock.now())
    with pytest.raises(EnrolmentError, match="Groep Oud is gesloten"):
        enrol(cohort, coordinator, participant=make_user(Role.PARTICIPANT))


def test_no_enrolment_after_the_cohort_has_ended(db, coordinator) -> None:
    cohort = make_cohort(start=START)
    with pytest.raises(EnrolmentError, match="kan niet later zijn"):
        enrol(
            cohort,
            coordinator,
            participant=make_user(Role.PARTICIPANT),
            on=cohort.end_date.replace(year=2028),
        )


def test_a_participant_is_never_in_two_active_enrolments(db, coordinator) -> None:
    programme = make_programme()
    first = make_cohort(programme, name="Eerste")
    second = make_cohort(programme, name="Tweede")
    participant = make_user(Role.PARTICIPANT, first_name="Noël", last_name="Çelik")
    enrol(first, coordinator, participant=participant)
    with pytest.raises(AlreadyEnrolled, match="Noël Çelik is al ingeschreven in groep Eerste"):
        enrol(second, coordinator, participant=participant)
    with pytest.raises(AlreadyEnrolled):
        enrol(first, coordinator, new_person=NewPerson(participant.email, "Noël", "Çelik"))


def test_the_database_refuses_two_active_enrolments_too(db) -> None:
    programme = make_programme()
    participant = make_user(Role.PARTICIPANT)
    make_enrolment(make_cohort(programme), participant)
    db.session.commit()
    with pytest.raises(IntegrityError):
        make_enrolment(make_cohort(programme), participant)
    db.session.rollback()


def test_only_participants_can_be_enrolled(db, coordinator) -> None:
    trainer = make_user(Role.TRAINER, email="trainer@example.org")
    cohort = make_cohort()
    with pytest.raises(EnrolmentError, match="trainer@example.org"):
        enrol(cohort, coordinator, participant=trainer)
    with pytest.raises(EnrolmentError, match="trainer@example.org"):
        enrol(cohort, coordinator, new_person=NewPerson("trainer@example.org", "T", "R"))


# --- withdraw ----------------------------------------------------------------------------------


def test_withdraw_frees_the_seat_and_keeps_the_history(db, coordinator) -> None:
    cohort = make_cohort(capacity=2)
    leaving, _staying = fill(cohort, 2)
    withdraw(leaving, on=date(2026, 10, 2), reason="  Ander werk gevonden ", actor=coordinator)
    assert leaving.status is EnrolmentStatus.WITHDRAWN
    assert leaving.ended_on == date(2026, 10, 2)
    assert leaving.end_reason == "Ander werk gevonden"
    assert seats_taken(cohort) == 1
    # The freed seat can be taken, and the old enrolment is still there.
    enrol(cohort, coordinator, participant=make_user(Role.PARTICIPANT))
    db.session.commit()
    assert db.session.get(Enrolment, leaving.id).status is EnrolmentStatus.WITHDRAWN
    (event,) = audit_events("enrolment.withdraw")
    assert event.actor_id == coordinator.id
    assert event.subject_id == leaving.id
    assert event.details == {"on": "2026-10-02", "reason": "Ander werk gevonden"}


def test_a_withdrawn_participant_can_enrol_again(db, coordinator) -> None:
    programme = make_programme()
    enrolment = make_enrolment(make_cohort(programme))
    withdraw(enrolment, on=START, reason="Gestopt", actor=coordinator)
    again = enrol(make_cohort(programme), coordinator, participant=enrolment.participant)
    assert again.is_active


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"reason": "   "}, "Geef een reden"),
        ({"on": date(2026, 9, 1)}, "kan niet voor de inschrijfdatum"),
    ],
)
def test_withdraw_refusals(db, coordinator, arguments, message) -> None:
    enrolment = make_enrolment(make_cohort(start=START), enrolled_on=START)
    with pytest.raises(EnrolmentError, match=message):
        withdraw(enrolment, **{"on": START, "reason": "Reden", "actor": coordinator, **arguments})
    assert enrolment.is_active


def test_only_an_active_enrolment_can_be_withdrawn(db, coordinator) -> None:
    enrolment = make_enrolment(status=EnrolmentStatus.WITHDRAWN, ended_on=START)
    with pytest.raises(EnrolmentError, match="Alleen een actieve inschrijving"):
        withdraw(enrolment, on=START, reason="Nog eens", actor=coordinator)


# --- transfer ----------------------------------------------------------------------------------


def test_transfer_keeps_history_and_moves_the_work(db, coordinator) -> None:
    programme = make_programme()
    source = make_cohort(programme, name="Parkstad 2026-2027")
    target = make_cohort(programme, name="Westelijke Mijnstreek 2026-2027")
    enrolment = make_enrolment(source, intake_type=IntakeType.EMPLOYED)
    submission = Submission(
        enrolment=enrolment,
        assignment=programme.assignments[0],
        attempts=[Attempt(number=1, what_i_did="Gezaagd")],
    )
    db.session.add(submission)
    db.session.flush()
    new_employer = make_employer(name="Sittard Assemblage B.V.")
    new = transfer(
        enrolment,
        to_cohort=target,
        on=date(2026, 11, 2),
        reason="Verhuisd",
        actor=coordinator,
        employer=new_employer,
    )
    db.session.commit()
    db.session.expire_all()
    old = db.session.get(Enrolment, enrolment.id)
    new = db.session.get(Enrolment, new.id)
    assert old.status is EnrolmentStatus.TRANSFERRED
    assert (old.ended_on, old.end_reason) == (date(2026, 11, 2), "Verhuisd")
    assert new.is_active and new.cohort_id == target.id
    assert new.transferred_from_id == old.id
    assert new.enrolled_on == date(2026, 11, 2)
    assert new.employer.name == "Sittard Assemblage B.V."
    assert new.intake_type is IntakeType.EMPLOYED
    assert db.session.get(Submission, submission.id).enrolment_id == new.id
    assert seats_taken(source) == 0 and seats_taken(target) == 1
    (event,) = audit_events("enrolment.transfer")
    assert event.actor_id == coordinator.id
    assert event.subject_id == old.id
    assert event.details == {
        "to_cohort": "Westelijke Mijnstreek 2026-2027",
        "new_enrolment": new.id,
        "submissions_moved": 1,
    }


def test_transfer_keeps_the_employer_unless_told(db, coordinator) -> None:
    programme = make_programme()
    enrolment = make_enrolment(make_cohort(programme))
    new = transfer(
        enrolment, to_cohort=make_cohort(programme), on=START, reason="Regio", actor=coordinator
    )
    assert new.employer_id == enrolment.employer_id


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("same cohort", "Kies een andere groep"),
        ("other programme", "dezelfde versie"),
        ("target closed", "is gesloten"),
        ("target full", "is vol"),
        ("no reason", "Geef een reden"),
        ("date before enrolment", "kan niet voor de inschrijfdatum"),
        ("not active", "Alleen een actieve inschrijving"),
    ],
)
def test_transfer_refusals_leave_everything_as_it_was(db, coordinator, case, message) -> None:
    from lms import clock

    programme = make_programme()
    source = make_cohort(programme)
    target = make_cohort(programme, capacity=1)
    enrolment = make_enrolment(source, enrolled_on=START)
    arguments = {"to_cohort": target, "on": START, "reason": "Verhuisd", "actor": coordinator}
    if case == "same cohort":
        arguments["to_cohort"] = source
    elif case == "other programme":
        arguments["to_cohort"] = make_cohort(make_programme(code="ANDER"))
    elif case == "target closed":
        target.closed_at = clock.now()
    elif case == "target full":
        fill(target, 1)
    elif case == "no reason":
        arguments["reason"] = " "
    elif case == "date before enrolment":
        arguments["on"] = date(2026, 9, 4)
    elif case == "not active":
        enrolment.status, enrolment.ended_on = EnrolmentStatus.WITHDRAWN, START
    db.session.commit()
    expected_status = enrolment.status
    with pytest.raises(EnrolmentError, match=message):
        transfer(enrolment, **arguments)
    # Nothing was flushed before the refusal: the session holds the enrolment unchanged.
    db.session.flush()
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).status is expected_status
    assert audit_events("enrolment.transfer") == []


# --- at the same moment (PostgreSQL) -----------------------------------------------------------


def test_two_coordinators_taking_the_last_seat_leave_exactly_twelve(
    app, db, coordinator, monkeypatch
) -> None:
    """Two connections at once try to take the last free seat. Each thread counts the seats and then
    waits at a barrier until the other has counted too, so without the row lock both would see eleven
    and both would insert. With the lock (SELECT ... FOR UPDATE on the cohort; on SQLite the writer's
    lock taken before counting), the second thread cannot even count until the first has committed;
    its wait at the barrier times out, and it then counts twelve and is refused."""
    cohort = make_cohort(name="Parkstad 2026-2027")
    fill(cohort, 11)
    first, second = make_user(Role.PARTICIPANT), make_user(Role.PARTICIPANT)
    employer = make_employer()
    db.session.commit()
    ids = {"cohort": cohort.id, "employer": employer.id, "actor": coordinator.id}

    both_counted = threading.Barrier(2, timeout=3)
    real_seats_taken = enrolment_service.seats_taken

    def seats_taken_then_wait(cohort: Cohort) -> int:
        taken = real_seats_taken(cohort)
        # A broken barrier: the other thread is waiting for the lock, not counting.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_counted.wait()
        return taken

    monkeypatch.setattr(enrolment_service, "seats_taken", seats_taken_then_wait)
    outcomes: dict[int, str] = {}

    def take_the_last_seat(participant_id: int) -> None:
        with app.app_context():
            from lms.extensions import db as thread_db

            session = thread_db.session
            try:
                enrol_participant(
                    cohort=session.get(Cohort, ids["cohort"]),
                    employer=session.get(Employer, ids["employer"]),
                    intake_type=IntakeType.SIDE_ENTRANT,
                    actor=session.get(User, ids["actor"]),
                    enrolled_on=START,
                    participant=session.get(User, participant_id),
                )
                session.commit()
                outcomes[participant_id] = "enrolled"
            except CohortFull:
                session.rollback()
                outcomes[participant_id] = "full"
            except Exception as error:  # pragma: no cover - reported by the assertion below
                session.rollback()
                outcomes[participant_id] = f"error: {error!r}"

    threads = [threading.Thread(target=take_the_last_seat, args=(p.id,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["enrolled", "full"], outcomes
    db.session.expire_all()
    assert active_count(cohort) == 12


# --- the pages ---------------------------------------------------------------------------------


@pytest.fixture
def setting(db, coordinator):
    """A cohort, a company, a participant without enrolment and one already enrolled elsewhere."""
    programme = make_programme()
    cohort = make_cohort(programme, name="Parkstad 2026-2027", start=START)
    other = make_cohort(programme, name="Westelijke Mijnstreek 2026-2027", start=START)
    company = make_employer(name="Kerkrade Precisie B.V.", city="Kerkrade")
    make_employer(name="Sittard Assemblage B.V.", city="Sittard")
    free = make_user(
        Role.PARTICIPANT, first_name="Noël", last_name="Çelik", email="noel@example.org"
    )
    busy = make_user(
        Role.PARTICIPANT, first_name="Bram", last_name="Bezet", email="bram@example.org"
    )
    make_enrolment(other, busy, company)
    db.session.commit()
    return {"cohort": cohort, "other": other, "company": company, "free": free, "busy": busy}


def new_person_form(company, **changes) -> dict:
    return {
        "person": "new",
        "first_name": "Sanne",
        "name_prefix": "de",
        "last_name": "Vries",
        "email": "sanne.devries@example.org",
        "employer": str(company.id),
        "intake_type": "side_entrant",
        "enrolled_on": "2026-09-01",
        **changes,
    }


def test_enrol_page_offers_only_participants_without_an_active_enrolment(
    auth, client, coordinator, setting
) -> None:
    auth.login(coordinator.email)
    page = client.get(f"/cohorts/{setting['cohort'].id}/enrol").get_data(as_text=True)
    assert "Çelik, Noël (noel@example.org)" in page
    assert "bram@example.org" not in page
    assert "Kerkrade Precisie B.V. (Kerkrade)" in page
    assert "Zij-instromer" in page and "Werkt al bij het mkb-bedrijf" in page


def test_enrol_page_searches_participants_and_employers(
    auth, client, db, coordinator, setting
) -> None:
    make_user(Role.PARTICIPANT, first_name="Anouk", last_name="Schmitz", email="anouk@example.org")
    db.session.commit()
    auth.login(coordinator.email)
    base = f"/cohorts/{setting['cohort'].id}/enrol"
    page = client.get(f"{base}?q=schmi").get_data(as_text=True)
    assert "anouk@example.org" in page and "noel@example.org" not in page
    page = client.get(f"{base}?employer_q=sittard").get_data(as_text=True)
    assert "Sittard Assemblage B.V." in page and "Kerkrade Precisie B.V." not in page


def test_enrol_an_existing_participant_through_the_form(
    auth, client, db, coordinator, setting
) -> None:
    auth.login(coordinator.email)
    cohort = setting["cohort"]
    response = auth.post(
        f"/cohorts/{cohort.id}/enrol",
        {
            "person": "existing",
            "participant": str(setting["free"].id),
            "employer": str(setting["company"].id),
            "intake_type": "employed",
            "enrolled_on": "2026-09-01",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cohorts/{cohort.id}"
    db.session.expire_all()
    enrolment = db.session.scalar(
        sa.select(Enrolment).where(Enrolment.participant_id == setting["free"].id)
    )
    assert enrolment.cohort_id == cohort.id
    assert enrolment.intake_type is IntakeType.EMPLOYED
    assert enrolment.enrolled_on == date(2026, 9, 1)
    assert len(audit_events("enrolment.create")) == 1
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Noël Çelik is ingeschreven in Parkstad 2026-2027." in page


def test_enrol_a_new_person_through_the_form(auth, client, db, coordinator, setting) -> None:
    auth.login(coordinator.email)
    response = auth.post(
        f"/cohorts/{setting['cohort'].id}/enrol", new_person_form(setting["company"])
    )
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.scalar(sa.select(User).where(User.email == "sanne.devries@example.org"))
    assert person.full_name == "Sanne de Vries"
    assert person.role is Role.PARTICIPANT
    assert db.session.scalar(sa.select(OutboxMessage.recipient)) == "sanne.devries@example.org"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Er is een uitnodiging onderweg naar sanne.devries@example.org" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"last_name": ""}, "Vul de achternaam in."),
        ({"email": "geen-adres"}, "Dit is geen geldig e-mailadres."),
        ({"employer": ""}, "Kies de werkgever."),
        ({"person": "existing"}, "Kies een deelnemer."),
        ({"intake_type": ""}, "Kies hoe de deelnemer instroomt."),
    ],
)
def test_enrol_form_errors_keep_what_was_typed(
    auth, client, db, coordinator, setting, changes, message
) -> None:
    auth.login(coordinator.email)
    response = auth.post(
        f"/cohorts/{setting['cohort'].id}/enrol", new_person_form(setting["company"], **changes)
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert 'value="Sanne"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 1


def test_the_thirteenth_enrolment_is_refused_on_the_page(
    auth, client, db, coordinator, setting
) -> None:
    cohort = setting["cohort"]
    fill(cohort, 12)
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get(f"/cohorts/{cohort.id}/enrol").get_data(as_text=True)
    assert "Deze groep is vol" in page
    assert 'name="employer"' not in page
    # Posted anyway (the page was opened when a seat was still free): refused, and nothing typed is lost.
    response = auth.post(f"/cohorts/{cohort.id}/enrol", new_person_form(setting["company"]))
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Groep Parkstad 2026-2027 is vol: alle 12 plaatsen zijn bezet." in page
    assert (
        'value="Sanne"' in page
        and 'value="Vries"' in page
        and 'value="sanne.devries@example.org"' in page
    )
    db.session.expire_all()
    assert active_count(cohort) == 12
    assert (
        db.session.scalar(sa.select(User).where(User.email == "sanne.devries@example.org")) is None
    )


def test_withdraw_needs_confirmation_then_frees_the_seat(
    auth, client, db, coordinator, setting
) -> None:
    cohort = setting["cohort"]
    enrolment = make_enrolment(cohort, setting["free"], setting["company"])
    db.session.commit()
    auth.login(coordinator.email)
    url = f"/cohorts/{cohort.id}/enrolments/{enrolment.id}/withdraw"
    assert "Noël Çelik" in client.get(url).get_data(as_text=True)
    unconfirmed = auth.post(url, {"ended_on": "2026-10-02", "reason": "Ander werk"})
    assert unconfirmed.status_code == 200
    assert "Vink het vakje aan" in unconfirmed.get_data(as_text=True)
    assert "Ander werk" in unconfirmed.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).is_active

    done = auth.post(url, {"ended_on": "2026-10-02", "reason": "Ander werk", "confirm": "y"})
    assert done.status_code == 302
    db.session.expire_all()
    ended = db.session.get(Enrolment, enrolment.id)
    assert ended.status is EnrolmentStatus.WITHDRAWN
    assert ended.ended_on == date(2026, 10, 2)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert page.count('class="seat seat--free"') == 12
    assert "Ander werk" in page
    # The link is stale now: back to the cohort page.
    assert client.get(url).status_code == 302


def test_withdraw_refused_by_the_rules_shows_why(auth, client, db, coordinator, setting) -> None:
    enrolment = make_enrolment(
        setting["cohort"], setting["free"], setting["company"], enrolled_on=START
    )
    db.session.commit()
    auth.login(coordinator.email)
    response = auth.post(
        f"/cohorts/{setting['cohort'].id}/enrolments/{enrolment.id}/withdraw",
        {"ended_on": "2026-09-01", "reason": "Te vroeg", "confirm": "y"},
    )
    assert response.status_code == 409
    assert "kan niet voor de inschrijfdatum" in response.get_data(as_text=True)


def test_enrolment_of_another_cohort_is_404(auth, client, db, coordinator, setting) -> None:
    elsewhere = db.session.scalar(
        sa.select(Enrolment).where(Enrolment.participant_id == setting["busy"].id)
    )
    auth.login(coordinator.email)
    for action in ("withdraw", "transfer"):
        url = f"/cohorts/{setting['cohort'].id}/enrolments/{elsewhere.id}/{action}"
        assert client.get(url).status_code == 404


def test_transfer_page_offers_open_cohorts_with_the_same_programme(
    auth, client, db, coordinator, setting
) -> None:
    from lms import clock

    make_cohort(setting["cohort"].programme, name="Dicht 2025-2026", closed_at=clock.now())
    make_cohort(make_programme(code="ANDER"), name="Ander programma")
    db.session.commit()
    elsewhere = db.session.scalar(
        sa.select(Enrolment).where(Enrolment.participant_id == setting["busy"].id)
    )
    auth.login(coordinator.email)
    page = client.get(
        f"/cohorts/{setting['other'].id}/enrolments/{elsewhere.id}/transfer"
    ).get_data(as_text=True)
    assert "Parkstad 2026-2027 (12 van 12 plaatsen vrij)" in page
    assert "Dicht 2025-2026" not in page
    assert "Ander programma" not in page
    assert "Huidige werkgever houden (Kerkrade Precisie B.V.)" in page


def test_transfer_through_the_form(auth, client, db, coordinator, setting) -> None:
    elsewhere = db.session.scalar(
        sa.select(Enrolment).where(Enrolment.participant_id == setting["busy"].id)
    )
    target = setting["cohort"]
    auth.login(coordinator.email)
    response = auth.post(
        f"/cohorts/{setting['other'].id}/enrolments/{elsewhere.id}/transfer",
        {
            "to_cohort": str(target.id),
            "ended_on": "2026-11-02",
            "reason": "Verhuisd",
            "employer": "",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cohorts/{target.id}"
    db.session.expire_all()
    assert db.session.get(Enrolment, elsewhere.id).status is EnrolmentStatus.TRANSFERRED
    assert active_count(target) == 1
    history = client.get(f"/cohorts/{setting['other'].id}").get_data(as_text=True)
    assert "Verhuisd" in history and f'href="/cohorts/{target.id}"' in history
    arrived = client.get(f"/cohorts/{target.id}").get_data(as_text=True)
    assert "Bram Bezet" in arrived and "Westelijke Mijnstreek 2026-2027" in arrived


def test_transfer_to_a_full_cohort_is_refused_and_changes_nothing(
    auth, client, db, coordinator, setting
) -> None:
    target = setting["cohort"]
    fill(target, 12)
    db.session.commit()
    elsewhere = db.session.scalar(
        sa.select(Enrolment).where(Enrolment.participant_id == setting["busy"].id)
    )
    auth.login(coordinator.email)
    response = auth.post(
        f"/cohorts/{setting['other'].id}/enrolments/{elsewhere.id}/transfer",
        {"to_cohort": str(target.id), "ended_on": "2026-11-02", "reason": "Verhuisd"},
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "is vol" in page and "Verhuisd" in page
    db.session.expire_all()
    assert db.session.get(Enrolment, elsewhere.id).is_active
    assert active_count(target) == 12
