"""Employer actions without an account: a mailed link for one action on one record, single-use,
expiring, and recorded in the audit log as the contact's."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import (
    ActionLink,
    AuditEvent,
    HoursStatus,
    ProgressReview,
    Submission,
    WorkplaceConfirmation,
    WorkplaceHours,
)
from lms.services import reviews, submissions
from lms.services.evidence import EvidenceLimits, Upload
from lms.storage import get_storage
from tests.dashboard_world import build_world, log_hours, mailed_links, record_review
from tests.factories import make_photo_bytes


@pytest.fixture
def world(db):
    return build_world()


def _review(world):
    return record_review(
        world.noel_in, world.trainer, "Goed gesprek over meten.", "Oefenen met de micrometer."
    )


def test_a_review_link_shows_the_review_and_acknowledges_it_once(client, db, world) -> None:
    review = _review(world)
    db.session.commit()
    [path] = mailed_links(world.contact)
    assert mailed_links(world.other_contact) == []
    page = client.get(path)
    assert page.status_code == 200
    assert "Goed gesprek over meten." in page.get_data(as_text=True)
    # Opening the link changes nothing (mail scanners open links too).
    assert db.session.get(ProgressReview, review.id).employer_acknowledged_at is None
    from tests.conftest import CSRF_PATTERN

    token = CSRF_PATTERN.search(page.get_data(as_text=True)).group(1)
    done = client.post(path, data={"csrf_token": token})
    assert done.status_code == 200
    assert "De trainer ziet dat je het voortgangsgesprek gelezen hebt" in done.get_data(
        as_text=True
    )
    db.session.expire_all()
    review = db.session.get(ProgressReview, review.id)
    assert review.employer_acknowledged_by_id == world.contact.id
    events = {
        e.action: e
        for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.actor_id == world.contact.id)
        )
    }
    assert events["review.acknowledge"].details["via"] == "mail_link"
    assert events["action_link.use"].details["link_action"] == "acknowledge_review"
    # Used twice: refused, and nothing changes.
    again = client.get(path)
    assert again.status_code == 410
    assert "al gebruikt" in again.get_data(as_text=True)
    assert client.post(path, data={"csrf_token": token}).status_code == 410


def test_an_expired_or_unknown_link_is_refused(client, db, world) -> None:
    _review(world)
    db.session.commit()
    [path] = mailed_links(world.contact)
    link = db.session.scalar(sa.select(ActionLink))
    with clock.frozen_at(link.expires_at + timedelta(seconds=1)):
        response = client.get(path)
    assert response.status_code == 410 and "verlopen" in response.get_data(as_text=True)
    assert client.get(path + "x").status_code == 404
    assert client.get("/l/not-a-real-token").status_code == 404


def test_a_link_stops_working_when_the_contact_leaves_or_the_employee_moves(
    client, db, world
) -> None:
    _review(world)
    db.session.commit()
    [path] = mailed_links(world.contact)
    world.noel_in.employer_id = world.other_company.id
    db.session.commit()
    assert client.get(path).status_code == 410
    world.noel_in.employer_id = world.company.id
    world.contact.is_active_account = False
    db.session.commit()
    assert client.get(path).status_code == 410


def test_an_hours_link_approves_or_sends_back_that_one_week(client, db, world) -> None:
    first = log_hours(world.noel_in, world.noel, date(2026, 10, 19), 32)
    second = log_hours(world.noel_in, world.noel, date(2026, 10, 26), 30)
    db.session.commit()
    first_path, second_path = mailed_links(world.contact)
    from tests.conftest import CSRF_PATTERN

    page = client.get(first_path).get_data(as_text=True)
    token = CSRF_PATTERN.search(page).group(1)
    assert client.post(first_path, data={"csrf_token": token, "approve": "1"}).status_code == 200
    page = client.get(second_path).get_data(as_text=True)
    # Sending back without a remark is refused, and the link still works afterwards.
    refused = client.post(second_path, data={"csrf_token": token, "send_back": "1", "remark": ""})
    assert "Schrijf wat er niet klopt" in refused.get_data(as_text=True)
    client.post(second_path, data={"csrf_token": token, "send_back": "1", "remark": "Klopt niet"})
    db.session.expire_all()
    assert db.session.get(WorkplaceHours, first.id).status is HoursStatus.APPROVED
    assert db.session.get(WorkplaceHours, first.id).approved_by_id == world.contact.id
    assert db.session.get(WorkplaceHours, second.id).status is HoursStatus.RETURNED
    assert client.get(second_path).status_code == 410


def _hand_in_work_to_confirm(db, world):  # type: ignore[no-untyped-def]
    """Noël hands in A1, which asks for the employer's confirmation (a link is mailed)."""
    assignment = world.assignments[0]
    assignment.requires_workplace_confirmation = True
    db.session.commit()
    result = submissions.save_work(
        world.noel_in,
        assignment,
        actor=world.noel,
        reflection=submissions.Reflection("Ik heb de boor ingesteld.", "Netjes", "Meten"),
        uploads=[Upload.from_bytes("foto.jpg", make_photo_bytes())],
        hand_in=True,
        storage=get_storage(),
        limits=EvidenceLimits(),
        at=clock.now(),
    )
    db.session.commit()
    return result


def test_handing_in_work_that_needs_a_confirmation_mails_a_link(client, db, world) -> None:
    assert _hand_in_work_to_confirm(db, world).handed_in
    [path] = mailed_links(world.contact)
    from tests.conftest import CSRF_PATTERN

    page = client.get(path).get_data(as_text=True)
    assert "Ik heb de boor ingesteld." in page
    token = CSRF_PATTERN.search(page).group(1)
    client.post(path, data={"csrf_token": token, "remark": "Klopt"})
    confirmation = db.session.scalar(sa.select(WorkplaceConfirmation))
    assert confirmation.confirmed_by_id == world.contact.id
    assert confirmation.submission_id == db.session.scalar(sa.select(Submission.id))
    assert client.get(path).status_code == 410


def test_a_link_for_work_already_confirmed_in_the_app_says_so(client, db, world) -> None:
    review = _review(world)
    reviews.acknowledge(review, actor=world.contact, at=clock.now())
    db.session.commit()
    [path] = mailed_links(world.contact)
    page = client.get(path)
    assert page.status_code == 200
    assert "Je hoeft niets meer te doen" in page.get_data(as_text=True)


def test_a_confirmation_link_also_lets_the_contact_say_it_was_not_done_here(
    client, db, world
) -> None:
    from tests.conftest import CSRF_PATTERN

    _hand_in_work_to_confirm(db, world)
    [path] = mailed_links(world.contact)
    page = client.get(path).get_data(as_text=True)
    assert "Niet uitgevoerd op onze werkplek" in page
    token = CSRF_PATTERN.search(page).group(1)
    page = client.post(path, data={"csrf_token": token, "deny": "1", "reason": ""}).get_data(
        as_text=True
    )
    assert "Zeg wat er niet op je werkplek is gedaan" in page
    assert db.session.scalar(sa.select(WorkplaceConfirmation)) is None
    page = client.post(
        path, data={"csrf_token": token, "deny": "1", "reason": "Niet bij ons gedaan."}
    ).get_data(as_text=True)
    assert "niet op je werkplek is uitgevoerd" in page
    denial = db.session.scalar(sa.select(WorkplaceConfirmation))
    assert (denial.carried_out, denial.remark) == (False, "Niet bij ons gedaan.")
    assert client.get(path).status_code == 410
