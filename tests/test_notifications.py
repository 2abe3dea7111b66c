"""In-app notifications are stored as a kind with parameters and read in the reader's language."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import force_locale

from lms.models import Notification, Role
from lms.services import notifications
from lms.services.notifications import describe, notify
from tests.factories import make_user

PARAMS = {
    "trainer": "Ingrid Vaessen",
    "code": "A1",
    "title": "Veilig werken",
    "verdict": "approved",
}


def test_notify_stores_a_row_for_the_user(db) -> None:
    user = make_user(Role.PARTICIPANT)
    notification = notify(
        user, notifications.ASSESSMENT_APPROVED, PARAMS, "/portfolio/assignments/A1"
    )
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalar(sa.select(Notification))
    assert stored.id == notification.id
    assert stored.user_id == user.id
    assert stored.kind == "assessment_approved"
    assert stored.params == PARAMS
    assert stored.link == "/portfolio/assignments/A1"
    assert stored.read_at is None
    assert stored.created_at is not None


def test_describe_speaks_the_readers_language(db) -> None:
    notification = Notification(kind=notifications.ASSESSMENT_APPROVED, params=PARAMS)
    with force_locale("nl"):
        assert (
            describe(notification)
            == "Ingrid Vaessen heeft je opdracht A1 Veilig werken goedgekeurd."
        )
    with force_locale("en"):
        assert describe(notification) == "Ingrid Vaessen approved your assignment A1 Veilig werken."


def test_describe_needs_revision(db) -> None:
    notification = Notification(
        kind=notifications.ASSESSMENT_NEEDS_REVISION, params={**PARAMS, "verdict": "needs_revision"}
    )
    with force_locale("nl"):
        assert describe(notification) == (
            "Ingrid Vaessen heeft je opdracht A1 Veilig werken beoordeeld: verbetering nodig. Lees de feedback."
        )


def test_describe_translates_the_verdict_of_a_correction(db) -> None:
    notification = Notification(
        kind=notifications.ASSESSMENT_CORRECTED, params={**PARAMS, "verdict": "needs_revision"}
    )
    with force_locale("nl"):
        assert describe(notification).endswith("Nieuw oordeel: Verbetering nodig.")
    with force_locale("en"):
        assert describe(notification).endswith("New verdict: Needs revision.")


def test_an_unknown_kind_or_missing_parameters_still_give_a_sentence(db) -> None:
    with force_locale("nl"):
        assert (
            describe(Notification(kind="something_new", params={})) == "Je hebt een nieuw bericht."
        )
        assert (
            describe(Notification(kind=notifications.ASSESSMENT_APPROVED, params={"code": "A1"}))
            == "Je hebt een nieuw bericht."
        )
