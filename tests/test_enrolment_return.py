"""Coming back into a cohort: enrolling a withdrawn participant again (their enrolment is reactivated with
its work), a transfer back to a cohort the participant was in before (a new enrolment on the transfer
chain: A -> B -> A keeps the work of both), a repeated enrolment (nothing changes, a success), and the
same new e-mail address enrolled into two cohorts at the same moment (one enrolment, one clear 409).

Each of these answered 500 before: the unique (cohort, participant) pair or the unique e-mail address
was hit by an INSERT nobody expected to fail.
"""

from __future__ import annotations

import contextlib
import re
import threading
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from lms.models import (
    ApiTokenScope,
    AuditEvent,
    Cohort,
    Employer,
    Enrolment,
    EnrolmentStatus,
    IntakeType,
    OutboxMessage,
    Role,
    SignOff,
    Submission,
    User,
    WorkplaceHours,
)
from lms.services import accounts, signoff
from lms.services import enrolment as enrolment_service
from lms.services.checklists import build_checklist
from lms.services.enrolment import (
    AlreadyEnrolled,
    CohortFull,
    EnrolmentError,
    EnrolOutcome,
    NewPerson,
    enrol,
    seats_taken,
    transfer,
    withdraw,
)
from lms.services.progress import enrolment_progress, hours_progress
from tests.api_helpers import make_key
from tests.conftest import AuthActions, csrf_token
from tests.factories import (
    make_approved_submission,
    make_cohort,
    make_employer,
    make_enrolment,
    make_programme,
    make_user,
)

START = date(2026, 9, 7)
AT = datetime(2026, 10, 1, 8, tzinfo=UTC)
PROBLEM = "application/problem+json"


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    """Two cohorts of one programme (Parkstad with trainer Ton, Westelijke Mijnstreek with trainer Bea),
    two companies, a coordinator, and Noël, enrolled in Parkstad with approved work and a sign-off."""
    programme = make_programme(assignments=3)
    trainer_a = make_user(Role.TRAINER, first_name="Ton", last_name="Trainer")
    trainer_b = make_user(Role.TRAINER, first_name="Bea", last_name="Begeleider")
    cohort_a = make_cohort(programme, name="Parkstad 2026-2027", trainers=[trainer_a], start=START)
    cohort_b = make_cohort(
        programme, name="Westelijke Mijnstreek 2026-2027", trainers=[trainer_b], start=START
    )
    company = make_employer(name="Kerkrade Precisie B.V.", city="Kerkrade")
    other_company = make_employer(name="Sittard Assemblage B.V.", city="Sittard")
    coordinator = make_user(Role.COORDINATOR)
    participant = make_user(
        Role.PARTICIPANT, first_name="Noël", last_name="Çelik", email="noel@example.org"
    )
    enrolment = make_enrolment(cohort_a, participant, company, enrolled_on=START)
    technical, skill = (item for group in programme.checklist_groups for item in group.items)
    work = make_approved_submission(enrolment, programme.assignments[0], at=AT)
    record = signoff.sign_off(
        enrolment=enrolment, item=technical, level=2, actor=trainer_a, at=AT, evidence=[work]
    )
    db.session.commit()
    return {
        "programme": programme,
        "trainer_a": trainer_a,
        "trainer_b": trainer_b,
        "a": cohort_a,
        "b": cohort_b,
        "company": company,
        "other_company": other_company,
        "coordinator": coordinator,
        "participant": participant,
        "enrolment": enrolment,
        "technical": technical,
        "skill": skill,
        "work": work,
        "record": record,
    }


def audit_events(db, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def enrolments_of(db, participant: User) -> list[Enrolment]:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.participant_id == participant.id)
            .order_by(Enrolment.id)
        )
    )


def enrol_again(world, **changes) -> enrolment_service.Enrolled:  # type: ignore[no-untyped-def]
    arguments = {
        "cohort": world["a"],
        "employer": world["company"],
        "intake_type": IntakeType.SIDE_ENTRANT,
        "actor": world["coordinator"],
        "enrolled_on": date(2026, 11, 2),
        "participant": world["participant"],
        **changes,
    }
    return enrol(**arguments)


def withdraw_noel(db, world, on: date = date(2026, 10, 12)) -> None:  # type: ignore[no-untyped-def]
    withdraw(world["enrolment"], on=on, reason="Ziek", actor=world["coordinator"])
    db.session.commit()


# --- enrolling again after a withdrawal (service) ----------------------------------------------


def test_enrolling_a_withdrawn_participant_again_reactivates_the_enrolment_with_its_work(
    db, world
) -> None:
    enrolment = world["enrolment"]
    db.session.add(
        WorkplaceHours(enrolment=enrolment, week_start=date(2026, 9, 14), hours_worked=32)
    )
    db.session.commit()
    withdraw_noel(db, world)

    done = enrol_again(world, employer=world["other_company"], intake_type=IntakeType.EMPLOYED)
    db.session.commit()

    assert done.outcome is EnrolOutcome.REACTIVATED and not done.invited
    (again,) = enrolments_of(db, world["participant"])
    assert again.id == enrolment.id
    assert again.is_active and again.ended_on is None and again.end_reason == ""
    assert again.enrolled_on == START  # the history keeps its first date
    assert again.employer_id == world["other_company"].id
    assert again.intake_type is IntakeType.EMPLOYED
    assert seats_taken(world["a"]) == 1
    # The work done before the withdrawal counts again: approved work, the sign-off, the hours.
    progress = enrolment_progress([again], date(2026, 11, 2))[again.id]
    assert progress.assignments.approved == 1
    assert progress.technical.signed == 1
    assert hours_progress([again], date(2026, 11, 2))[again.id].waiting == 32
    standing = build_checklist(again).item(world["technical"].id).standing
    assert standing is not None and standing.id == world["record"].id
    (event,) = audit_events(db, "enrolment.reactivate")
    assert (event.actor_id, event.subject_id) == (world["coordinator"].id, enrolment.id)
    assert event.details == {
        "on": "2026-11-02",
        "cohort": "Parkstad 2026-2027",
        "participant": "noel@example.org",
        "employer": "Sittard Assemblage B.V.",
        "withdrawn_on": "2026-10-12",
        "withdrawal_reason": "Ziek",
        "previous_employer": "Kerkrade Precisie B.V.",
    }
    assert audit_events(db, "enrolment.create") == []


def test_a_new_person_with_the_address_of_a_withdrawn_participant_reactivates_too(
    db, world
) -> None:
    withdraw_noel(db, world)
    done = enrol_again(
        world,
        participant=None,
        new_person=NewPerson(email="Noel@Example.org ", first_name="Noël", last_name="Çelik"),
    )
    assert done.outcome is EnrolOutcome.REACTIVATED and not done.invited
    assert done.enrolment.id == world["enrolment"].id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_reactivation_keeps_the_cohort_rules(db, world) -> None:
    cohort = world["a"]
    withdraw_noel(db, world)
    with pytest.raises(EnrolmentError, match="De nieuwe inschrijfdatum kan niet eerder zijn"):
        enrol_again(world, enrolled_on=date(2026, 10, 5))  # before the withdrawal on 12 October
    db.session.rollback()
    others = [make_enrolment(cohort) for _ in range(cohort.capacity)]
    db.session.commit()
    with pytest.raises(CohortFull, match="is vol"):
        enrol_again(world)
    db.session.rollback()
    with pytest.raises(EnrolmentError, match="De inschrijfdatum kan niet later zijn"):
        enrol_again(world, enrolled_on=date(2028, 1, 3))
    db.session.rollback()
    assert enrolments_of(db, world["participant"])[0].status is EnrolmentStatus.WITHDRAWN
    assert audit_events(db, "enrolment.reactivate") == []
    # A seat comes free: now it works.
    withdraw(others[0], on=date(2026, 10, 26), reason="Gestopt", actor=world["coordinator"])
    assert enrol_again(world).outcome is EnrolOutcome.REACTIVATED
    assert seats_taken(cohort) == cohort.capacity


def test_a_completed_cohort_is_not_enrolled_into_again(db, world) -> None:
    enrolment = world["enrolment"]
    enrolment.status, enrolment.ended_on = EnrolmentStatus.COMPLETED, date(2027, 6, 30)
    db.session.commit()
    with pytest.raises(EnrolmentError, match="heeft groep Parkstad 2026-2027 al afgerond"):
        enrol_again(world)


def test_enrolling_someone_already_in_this_cohort_again_changes_nothing(db, world) -> None:
    done = enrol_again(world)
    assert done.outcome is EnrolOutcome.UNCHANGED
    assert done.enrolment.id == world["enrolment"].id
    assert audit_events(db, "enrolment.create") == []
    # With another employer it is not a repeat: the coordinator is told, and nothing changes.
    with pytest.raises(AlreadyEnrolled, match=r"\(werkgever: Kerkrade Precisie B.V.\)"):
        enrol_again(world, employer=world["other_company"])
    assert enrolments_of(db, world["participant"])[0].employer_id == world["company"].id


def test_after_a_transfer_out_and_a_withdrawal_a_new_enrolment_starts_in_the_first_cohort(
    db, world
) -> None:
    """Left Parkstad by a transfer, then withdrew from the other cohort: enrolling into Parkstad is a
    new start (as an enrolment after a withdrawal elsewhere always is), not the transferred one."""
    moved = transfer(
        world["enrolment"],
        to_cohort=world["b"],
        on=date(2026, 10, 5),
        reason="Verhuisd",
        actor=world["coordinator"],
    )
    withdraw(moved, on=date(2026, 10, 12), reason="Gestopt", actor=world["coordinator"])
    db.session.commit()
    done = enrol_again(world)
    db.session.commit()
    assert done.outcome is EnrolOutcome.CREATED
    first, second, third = enrolments_of(db, world["participant"])
    assert (first.status, second.status) == (EnrolmentStatus.TRANSFERRED, EnrolmentStatus.WITHDRAWN)
    assert (third.id, third.cohort_id, third.transferred_from_id) == (
        done.enrolment.id,
        world["a"].id,
        None,
    )
    assert third.is_active


# --- a transfer back (service) ------------------------------------------------------------------


def test_a_transfer_back_keeps_the_work_of_both_cohorts(db, world) -> None:
    """A -> B -> A: the way back is a new enrolment in A that points to the one in B, which points to
    the first one in A. No cycle: the chain is a list, and every sign-off on it counts."""
    coordinator, first = world["coordinator"], world["enrolment"]
    in_b = transfer(
        first, to_cohort=world["b"], on=date(2026, 10, 5), reason="Verhuisd", actor=coordinator
    )
    record_b = signoff.sign_off(
        enrolment=in_b, item=world["skill"], level=3, actor=world["trainer_b"], at=AT
    )
    db.session.commit()
    back = transfer(
        in_b, to_cohort=world["a"], on=date(2026, 11, 2), reason="Terug", actor=coordinator
    )
    db.session.commit()

    first, in_b, back = enrolments_of(db, world["participant"])
    assert (first.cohort_id, in_b.cohort_id, back.cohort_id) == (
        world["a"].id,
        world["b"].id,
        world["a"].id,
    )
    assert (first.status, in_b.status) == (EnrolmentStatus.TRANSFERRED, EnrolmentStatus.TRANSFERRED)
    assert back.is_active and back.transferred_from_id == in_b.id
    assert signoff.enrolment_chains([back])[back.id] == [back.id, in_b.id, first.id]
    assert seats_taken(world["a"]) == 1 and seats_taken(world["b"]) == 0
    # The work moved along, and both cohorts' sign-offs count in A now.
    assert db.session.get(Submission, world["work"].id).enrolment_id == back.id
    progress = enrolment_progress([back], date(2026, 11, 2))[back.id]
    assert progress.assignments.approved == 1
    assert (progress.technical.signed, progress.skills.signed) == (1, 1)
    checklist = build_checklist(back)
    assert checklist.item(world["technical"].id).standing.id == world["record"].id
    assert checklist.item(world["skill"].id).standing.id == record_b.id
    # The trainer in A signs off on the new enrolment; the ledger stays whole.
    signoff.sign_off(
        enrolment=back, item=world["technical"], level=3, actor=world["trainer_a"], at=AT
    )
    db.session.commit()
    assert signoff.verify_ledger().ok
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SignOff)) == 3

    # And once more to B and back: still a list, still all the work.
    again_b = transfer(
        back, to_cohort=world["b"], on=date(2026, 11, 9), reason="Rooster", actor=coordinator
    )
    again_a = transfer(
        again_b, to_cohort=world["a"], on=date(2026, 11, 16), reason="Rooster", actor=coordinator
    )
    db.session.commit()
    chain = signoff.enrolment_chains([again_a])[again_a.id]
    assert chain == [again_a.id, again_b.id, back.id, in_b.id, first.id]
    levels = signoff.current_levels([again_a])[again_a.id]
    assert levels == {world["technical"].id: 3, world["skill"].id: 3}


def test_withdrawn_after_a_transfer_back_then_enrolled_again_reactivates_the_latest(
    db, world
) -> None:
    coordinator = world["coordinator"]
    in_b = transfer(
        world["enrolment"],
        to_cohort=world["b"],
        on=date(2026, 10, 5),
        reason="Weg",
        actor=coordinator,
    )
    back = transfer(
        in_b, to_cohort=world["a"], on=date(2026, 10, 12), reason="Terug", actor=coordinator
    )
    withdraw(back, on=date(2026, 10, 19), reason="Ziek", actor=coordinator)
    db.session.commit()
    done = enrol_again(world)
    assert done.outcome is EnrolOutcome.REACTIVATED and done.enrolment.id == back.id
    assert signoff.enrolment_chains([back])[back.id] == [back.id, in_b.id, world["enrolment"].id]


# --- the pages -----------------------------------------------------------------------------------


def existing_form(world, **changes) -> dict:  # type: ignore[no-untyped-def]
    return {
        "person": "existing",
        "participant": str(world["participant"].id),
        "employer": str(world["company"].id),
        "intake_type": "side_entrant",
        "enrolled_on": "2026-11-02",
        **changes,
    }


def new_person_form(world, **changes) -> dict:  # type: ignore[no-untyped-def]
    return {
        "person": "new",
        "first_name": "Noël",
        "last_name": "Çelik",
        "email": "noel@example.org",
        "employer": str(world["company"].id),
        "intake_type": "side_entrant",
        "enrolled_on": "2026-11-02",
        **changes,
    }


@pytest.mark.parametrize("make_form", [existing_form, new_person_form], ids=["existing", "new"])
def test_the_enrol_page_enrols_a_withdrawn_participant_again(
    auth, client, db, world, make_form
) -> None:
    withdraw_noel(db, world)
    auth.login(world["coordinator"].email)
    response = auth.post(f"/cohorts/{world['a'].id}/enrol", make_form(world))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == f"/cohorts/{world['a'].id}"
    (enrolment,) = enrolments_of(db, world["participant"])
    assert enrolment.id == world["enrolment"].id and enrolment.is_active
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Noël Çelik is weer ingeschreven in Parkstad 2026-2027; eerder werk is bewaard." in page


def test_the_enrol_page_answers_a_repeat_of_the_existing_participant_form_as_a_success(
    auth, client, db, world
) -> None:
    """Noël is no longer offered (he is enrolled here), but the form sent again still names him."""
    auth.login(world["coordinator"].email)
    response = auth.post(f"/cohorts/{world['a'].id}/enrol", existing_form(world))
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Noël Çelik is al ingeschreven in Parkstad 2026-2027; er is niets veranderd." in page
    # With another employer the coordinator is told why nothing happened.
    other = auth.post(
        f"/cohorts/{world['a'].id}/enrol",
        existing_form(world, employer=str(world["other_company"].id)),
    )
    assert other.status_code == 409, other.get_data(as_text=True)
    assert "(werkgever: Kerkrade Precisie B.V.). Er is niets veranderd." in other.get_data(
        as_text=True
    )
    assert enrolments_of(db, world["participant"])[0].employer_id == world["company"].id


@pytest.mark.parametrize("value", ["9" * 30, str(2**31), "-5", "0", "1e5", "Noël"])
def test_the_enrol_page_refuses_a_participant_id_that_cannot_exist(
    auth, client, db, world, value
) -> None:
    """The check for a repeat looks the posted id up before the form is validated: an id no database
    integer can hold is not looked up (PostgreSQL would refuse the comparison with a 500)."""
    withdraw_noel(db, world)
    auth.login(world["coordinator"].email)
    response = auth.post(f"/cohorts/{world['a'].id}/enrol", existing_form(world, participant=value))
    assert response.status_code == 200
    assert re.search(r"Kies een deelnemer( uit de lijst|\.)", response.get_data(as_text=True))
    assert enrolments_of(db, world["participant"])[0].status is EnrolmentStatus.WITHDRAWN


def test_the_enrol_page_answers_a_repeat_as_a_success(auth, client, db, world) -> None:
    """The new-person form sent twice (a double click, the back button): the second one finds the
    account and enrolment the first one made, and says so."""
    auth.login(world["coordinator"].email)
    form = new_person_form(world, email="sanne@example.org", first_name="Sanne", last_name="Vries")
    assert auth.post(f"/cohorts/{world['b'].id}/enrol", form).status_code == 302
    client.get(f"/cohorts/{world['b'].id}")  # read the first message
    response = auth.post(f"/cohorts/{world['b'].id}/enrol", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        "Sanne Vries is al ingeschreven in Westelijke Mijnstreek 2026-2027; er is niets veranderd."
        in page
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
    assert seats_taken(world["b"]) == 1


def test_the_transfer_page_moves_a_participant_back(auth, client, db, world) -> None:
    coordinator = world["coordinator"]
    in_b = transfer(
        world["enrolment"],
        to_cohort=world["b"],
        on=date(2026, 10, 5),
        reason="Weg",
        actor=coordinator,
    )
    db.session.commit()
    auth.login(coordinator.email)
    url = f"/cohorts/{world['b'].id}/enrolments/{in_b.id}/transfer"
    assert "Parkstad 2026-2027 (12 van 12 plaatsen vrij)" in client.get(url).get_data(as_text=True)
    response = auth.post(
        url,
        {
            "to_cohort": str(world["a"].id),
            "ended_on": "2026-11-02",
            "reason": "Terug",
            "employer": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == f"/cohorts/{world['a'].id}"
    first, in_b, back = enrolments_of(db, world["participant"])
    assert (
        back.is_active and back.cohort_id == world["a"].id and back.transferred_from_id == in_b.id
    )
    page = client.get(f"/cohorts/{world['a'].id}").get_data(as_text=True)
    assert "Noël Çelik is overgeplaatst naar Parkstad 2026-2027" in page
    # The participant's checklist in A shows the sign-off made there before the round trip.
    checklist = client.get(f"/checklists/enrolments/{back.id}").get_data(as_text=True)
    assert "Ton Trainer" in checklist


# --- the API ---------------------------------------------------------------------------------------


def api_body(world, **fields) -> dict:  # type: ignore[no-untyped-def]
    return {
        "cohort_id": world["a"].id,
        "employer_id": world["company"].id,
        "intake_type": "side_entrant",
        "enrolled_on": "2026-11-02",
        "participant_id": world["participant"].id,
        **fields,
    }


@pytest.mark.parametrize("person", ["participant_id", "participant"])
def test_the_api_enrols_a_withdrawn_participant_again(client, db, world, person) -> None:
    withdraw_noel(db, world)
    _token, headers = make_key(world["coordinator"], ApiTokenScope.READ_WRITE)
    body = api_body(world)
    if person == "participant":
        del body["participant_id"]
        body["participant"] = {
            "first_name": "Noël",
            "last_name": "Çelik",
            "email": "noel@example.org",
        }
    response = client.post("/api/v1/enrolments", headers=headers, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["id"] == world["enrolment"].id and answer["status"] == "active"
    assert answer["progress"]["assignments"]["approved"] == 1
    assert response.headers["Location"].endswith(f"/api/v1/enrolments/{answer['id']}")


def test_the_api_answers_a_repeated_enrolment_with_the_enrolment(client, db, world) -> None:
    _token, headers = make_key(world["coordinator"], ApiTokenScope.READ_WRITE)
    response = client.post("/api/v1/enrolments", headers=headers, json=api_body(world))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["id"] == world["enrolment"].id
    other = client.post(
        "/api/v1/enrolments",
        headers=headers,
        json=api_body(world, employer_id=world["other_company"].id),
    )
    assert other.status_code == 409 and other.mimetype == PROBLEM
    assert other.get_json()["type"] == "/api/v1/docs#problem-already-enrolled"


def test_the_api_document_describes_the_answers(client, world) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    responses = document["paths"]["/enrolments"]["post"]["responses"]
    assert {"200", "201", "409", "422"} <= set(responses)
    assert "same moment" in responses["409"]["description"]


# --- the same new address in two cohorts at the same moment ---------------------------------------


@pytest.fixture
def race(app, db, world, monkeypatch):  # type: ignore[no-untyped-def]
    """Make two enrolments of one new address overlap: each waits, after looking the address up and
    finding nobody, until the other has looked too (or for a second, if the other cannot look yet
    because it waits for a lock). Without a lock or a savepoint both then insert the account."""
    both_looked = threading.Barrier(2, timeout=1.5)
    real_find = accounts.find_user_by_email
    waited = threading.local()

    def find_then_wait(email: str) -> User | None:
        user = real_find(email)
        if user is None and not getattr(waited, "done", False):
            waited.done = True
            with contextlib.suppress(threading.BrokenBarrierError):
                both_looked.wait()
        return user

    monkeypatch.setattr(accounts, "find_user_by_email", find_then_wait)
    return world


def run_at_once(target, *arguments) -> None:  # type: ignore[no-untyped-def]
    """``target(argument)`` for each argument, each in a thread of its own, all at the same time."""
    threads = [threading.Thread(target=target, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)


def assert_one_person_one_enrolment(db) -> None:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    (person,) = db.session.scalars(sa.select(User).where(User.email == "sanne@example.org")).all()
    assert len(enrolments_of(db, person)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1


def test_the_same_new_address_in_two_cohorts_at_once_enrols_once(app, db, race) -> None:
    ids = {"employer": race["company"].id, "actor": race["coordinator"].id}
    outcomes: dict[str, str] = {}

    def enrol_in(cohort_id: int) -> None:
        with app.app_context():
            from lms.extensions import db as thread_db

            session = thread_db.session
            try:
                done = enrol(
                    cohort=session.get(Cohort, cohort_id),
                    employer=session.get(Employer, ids["employer"]),
                    intake_type=IntakeType.SIDE_ENTRANT,
                    actor=session.get(User, ids["actor"]),
                    enrolled_on=START,
                    new_person=NewPerson(
                        email="sanne@example.org", first_name="Sanne", last_name="Vries"
                    ),
                )
                session.commit()
                outcomes[str(cohort_id)] = f"enrolled, invited={done.invited}"
            except AlreadyEnrolled as error:
                session.rollback()
                outcomes[str(cohort_id)] = f"already enrolled: {error}"
            except Exception as error:  # pragma: no cover - reported by the assertion below
                session.rollback()
                outcomes[str(cohort_id)] = f"error: {error!r}"

    run_at_once(enrol_in, race["a"].id, race["b"].id)
    answers = sorted(outcome.split(":")[0] for outcome in outcomes.values())
    assert answers == ["already enrolled", "enrolled, invited=True"], outcomes
    assert_one_person_one_enrolment(db)


def test_the_same_new_address_through_the_api_at_once_is_a_201_and_a_409(app, db, race) -> None:
    _token, headers = make_key(race["coordinator"], ApiTokenScope.READ_WRITE)
    person = {"first_name": "Sanne", "last_name": "Vries", "email": "sanne@example.org"}
    answers: dict[int, object] = {}
    bodies = {}
    for cohort_id in (race["a"].id, race["b"].id):
        bodies[cohort_id] = api_body(race, cohort_id=cohort_id, participant=person)
        del bodies[cohort_id]["participant_id"]

    def post(cohort_id: int) -> None:
        answers[cohort_id] = app.test_client().post(
            "/api/v1/enrolments", headers=headers, json=bodies[cohort_id]
        )

    run_at_once(post, *bodies)
    statuses = sorted(response.status_code for response in answers.values())
    assert statuses == [201, 409], [r.get_data(as_text=True) for r in answers.values()]
    (refused,) = (r for r in answers.values() if r.status_code == 409)
    assert refused.mimetype == PROBLEM
    assert refused.get_json()["type"] == "/api/v1/docs#problem-already-enrolled"
    assert_one_person_one_enrolment(db)


def test_the_same_new_address_through_two_enrol_pages_at_once(app, db, race) -> None:
    answers: dict[int, object] = {}
    clients = {}
    for cohort_id in (race["a"].id, race["b"].id):
        clients[cohort_id] = app.test_client()
        AuthActions(clients[cohort_id]).login(race["coordinator"].email)
    form = new_person_form(
        race,
        email="sanne@example.org",
        first_name="Sanne",
        last_name="Vries",
        enrolled_on="2026-09-07",
    )
    forms = {
        cohort_id: {**form, "csrf_token": csrf_token(c, f"/cohorts/{cohort_id}/enrol")}
        for cohort_id, c in clients.items()
    }

    def post(cohort_id: int) -> None:
        answers[cohort_id] = clients[cohort_id].post(
            f"/cohorts/{cohort_id}/enrol", data=forms[cohort_id]
        )

    run_at_once(post, *forms)
    statuses = sorted(response.status_code for response in answers.values())
    assert statuses == [302, 409], statuses
    (refused,) = (r for r in answers.values() if r.status_code == 409)
    assert "Sanne Vries is al ingeschreven in groep" in refused.get_data(as_text=True)
    assert_one_person_one_enrolment(db)
