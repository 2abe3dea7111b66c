"""Mail is written to the outbox in the recipient's language, in the same transaction as the event."""

from __future__ import annotations

import sqlalchemy as sa

from lms.models import OutboxMessage, OutboxStatus, Role
from lms.services import accounts
from lms.services.mail import external_url
from tests.factories import make_user


def test_external_url_uses_the_configured_address(app) -> None:
    app.config["BASE_URL"] = "https://vakkracht.example.nl/"
    assert (
        external_url("auth.set_password", token="abc")
        == "https://vakkracht.example.nl/set-password/abc"
    )


def test_invitation_is_queued_in_the_outbox_in_dutch(db, client) -> None:
    user = make_user(Role.TRAINER, password=None, first_name="Ingrid")
    link = accounts.send_invitation(user)
    db.session.commit()
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.recipient == user.email
    assert message.status is OutboxStatus.PENDING
    assert message.subject == "Je account voor Vakkracht MKB"
    assert "Hallo Ingrid," in message.body_text
    assert link in message.body_text and link in message.body_html
    # The link in the mail works.
    assert client.get(link.removeprefix(client.application.config["BASE_URL"])).status_code == 200


def test_invitation_mail_is_in_english_for_an_english_user(db) -> None:
    user = make_user(Role.PARTICIPANT, password=None, first_name="Sam", locale="en")
    accounts.send_invitation(user)
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.subject == "Your account for Vakkracht MKB"
    assert "Hello Sam," in message.body_text


def test_cli_user_create_queues_the_invitation(runner, db) -> None:
    result = runner.invoke(
        args=[
            "lms",
            "user",
            "create",
            "--email",
            "nieuw@example.org",
            "--first-name",
            "Nieuw",
            "--last-name",
            "Persoon",
            "--role",
            "participant",
        ]
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(OutboxMessage.recipient)) == "nieuw@example.org"


def test_nothing_is_queued_when_the_transaction_rolls_back(db) -> None:
    user = make_user(Role.TRAINER, password=None)
    db.session.commit()
    accounts.send_invitation(user)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
