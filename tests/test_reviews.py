"""Progress reviews: the trainer records one; participant and employer contact acknowledge it; the
history is kept per participant and seen only by those involved."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import AuditEvent, Notification, OutboxMessage, ProgressReview
from lms.services import reviews
from tests.dashboard_world import TODAY, build_world


@pytest.fixture
def world(db):
    return build_world()


def _record(world, **fields):
    values = {
        "held_on": date(2026, 10, 28),
        "summary": "Noël werkt netjes; meten gaat nog langzaam.",
        "agreements": "Elke dag tien metingen oefenen met de schuifmaat.",
        "today": TODAY.date(),
    }
    values.update(fields)
    return reviews.record_review(world.noel_in, actor=world.trainer, **values)


def test_the_trainer_records_a_review_and_both_others_are_asked_to_read_it(db, world) -> None:
    with clock.frozen_at(TODAY):
        review = _record(world)
    db.session.commit()
    assert review.trainer_id == world.trainer.id
    assert review.participant_acknowledged_at is None and review.employer_acknowledged_at is None
    notification = db.session.scalar(
        sa.select(Notification).where(Notification.user_id == world.noel.id)
    )
    assert notification.link == f"/reviews/{review.id}"
    mails = db.session.scalars(sa.select(OutboxMessage)).all()
    assert [m.recipient for m in mails] == [world.contact.email]  # Petra, not Karel
    assert "/l/" in mails[0].body_text and "Çelik" in mails[0].body_text
    assert (
        db.session.scalar(
            sa.select(AuditEvent.action).where(AuditEvent.subject_type == "ProgressReview")
        )
        == "review.record"
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"held_on": date(2026, 10, 31)}, "toekomst"),
        ({"held_on": date(2026, 9, 1)}, "vóór de inschrijving"),
        ({"summary": "   "}, "samenvatting"),
    ],
)
def test_the_rules_refuse_a_wrong_review(db, world, fields, message) -> None:
    with pytest.raises(reviews.ReviewError, match=message):
        _record(world, **fields)


def test_only_a_trainer_of_the_cohort_records_a_review(db, world) -> None:
    with pytest.raises(reviews.ReviewError):
        reviews.record_review(
            world.noel_in,
            actor=world.other_trainer,
            held_on=date(2026, 10, 28),
            summary="x",
            agreements="",
            today=TODAY.date(),
        )


def test_participant_and_contact_acknowledge_once_each(db, world) -> None:
    review = _record(world)
    at = clock.now()
    assert reviews.acknowledge(review, actor=world.noel, at=at) is True
    assert reviews.acknowledge(review, actor=world.noel, at=at) is False
    assert review.participant_acknowledged_at == at and review.employer_acknowledged_at is None
    assert reviews.acknowledge(review, actor=world.contact, at=at) is True
    assert review.employer_acknowledged_by_id == world.contact.id
    assert review.fully_acknowledged
    for outsider in (world.other_contact, world.bram, world.trainer):
        with pytest.raises(reviews.ReviewError):
            reviews.acknowledge(review, actor=outsider, at=at)


def test_the_acknowledgement_flow_through_the_pages(auth, client, db, world) -> None:
    auth.login(world.trainer.email)
    with clock.frozen_at(TODAY):
        page = client.get(f"/reviews/enrolments/{world.noel_in.id}").get_data(as_text=True)
        assert "Nog geen voortgangsgesprekken" in page
        response = auth.post(
            f"/reviews/enrolments/{world.noel_in.id}",
            {"held_on": "2026-10-29", "summary": "Goed bezig.", "agreements": "Meer meten."},
        )
    assert response.status_code == 302
    review = db.session.scalar(sa.select(ProgressReview))
    assert response.headers["Location"] == f"/reviews/{review.id}"
    # A refused date keeps what was typed.
    with clock.frozen_at(TODAY):
        page = auth.post(
            f"/reviews/enrolments/{world.noel_in.id}",
            {"held_on": "2026-11-20", "summary": "Mijn getypte tekst", "agreements": ""},
        ).get_data(as_text=True)
    assert "toekomst" in page and "Mijn getypte tekst" in page
    auth.logout()

    auth.login(world.noel.email)
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Goed bezig." in page and "Nog niet gelezen door de deelnemer" in page
    response = auth.post(f"/reviews/{review.id}/acknowledge")
    assert response.status_code == 302
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Gelezen door de deelnemer" in page
    assert "Ik heb dit voortgangsgesprek gelezen" not in page
    auth.logout()

    auth.login(world.contact.email)
    assert "1" in client.get("/reviews/?open=1").get_data(as_text=True)
    auth.post(f"/reviews/{review.id}/acknowledge")
    db.session.expire_all()
    review = db.session.get(ProgressReview, review.id)
    assert review.fully_acknowledged


def test_other_people_never_see_a_review(auth, client, db, world) -> None:
    review = _record(world)
    db.session.commit()
    for outsider in (world.other_contact, world.bram, world.other_trainer):
        auth.login(outsider.email)
        assert client.get(f"/reviews/{review.id}").status_code == 404, outsider
        assert client.get(f"/reviews/enrolments/{world.noel_in.id}").status_code == 404
        assert "Noël" not in client.get("/reviews/").get_data(as_text=True)
        auth.logout()
    auth.login(world.bram.email)
    assert auth.post(f"/reviews/{review.id}/acknowledge").status_code == 404


def test_the_history_lists_every_review_newest_first(auth, client, db, world) -> None:
    _record(world, held_on=date(2026, 9, 20), summary="Eerste gesprek")
    _record(world, held_on=date(2026, 10, 20), summary="Tweede gesprek")
    db.session.commit()
    auth.login(world.contact.email)
    page = client.get(f"/reviews/enrolments/{world.noel_in.id}").get_data(as_text=True)
    assert page.index("Tweede gesprek") < page.index("Eerste gesprek")
    assert "Voortgangsgesprek vastleggen" not in page  # only the trainer records


def test_reviews_due_within_three_weeks_or_overdue(db, world) -> None:
    # Start 7 September: the first review is due 12 weeks later, on 30 November.
    due = reviews.reviews_due(world.trainer, date(2026, 11, 10))
    assert {d.enrolment.id for d in due} == {world.noel_in.id, world.bram_in.id}
    assert due[0].due_on == date(2026, 11, 30)
    assert reviews.reviews_due(world.trainer, date(2026, 11, 8)) == []
    _record(world, held_on=date(2026, 10, 28))
    due = reviews.reviews_due(world.trainer, date(2026, 11, 10))
    assert [d.enrolment.id for d in due] == [world.bram_in.id]
    assert due[0].overdue(date(2026, 12, 1))
