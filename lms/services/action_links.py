"""Links that let an employer's contact do one thing without logging in.

A link is sent by mail through the outbox. It names one action on one record, works once, and expires
after ``LINK_VALID_FOR``. What the contact does through it is recorded in the audit log as theirs, with
the link's id. Functions flush, never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms import clock
from lms.extensions import db
from lms.models import ActionLink, Employer, LinkAction, Role, User
from lms.services.mail import external_url, queue_mail

LINK_VALID_FOR = timedelta(days=14)

SUBJECTS = {
    LinkAction.CONFIRM_WORKPLACE: _l("Please confirm work done at your workplace"),
    LinkAction.ACKNOWLEDGE_REVIEW: _l("Please read the report of a progress review"),
    LinkAction.APPROVE_HOURS: _l("Please approve workplace hours"),
}


class LinkRefused(ValueError):
    """A link that cannot be used (any more); the message says why, in the reader's language."""


def contacts_of(employer_id: int) -> list[User]:
    """The active contact persons of one employer, who get the mailed links."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.employer_id == employer_id,
                User.role == Role.EMPLOYER,
                User.is_active_account.is_(True),
            )
            .order_by(User.id)
        )
    )


def send_links(
    employer: Employer | int, action: LinkAction, subject_id: int, **context: object
) -> list[ActionLink]:
    """Mail each active contact of ``employer`` their own link for ``action`` on ``subject_id``."""
    employer_id = employer if isinstance(employer, int) else employer.id
    links = []
    for contact in contacts_of(employer_id):
        link, secret = ActionLink.issue(contact, action, subject_id, LINK_VALID_FOR)
        db.session.add(link)
        queue_mail(
            contact,
            f"action_{action.value}",
            SUBJECTS[action],
            url=external_url("links.use", token=secret),
            expires_at=link.expires_at,
            **context,
        )
        links.append(link)
    db.session.flush()
    return links


def find(secret: str, *, lock: bool = False) -> ActionLink | None:
    query = sa.select(ActionLink).where(ActionLink.token_hash == ActionLink.hash_token(secret))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def check_usable(link: ActionLink | None, at: datetime) -> ActionLink:
    """The link, if it may still be used now; else ``LinkRefused`` saying why."""
    if link is None:
        raise LinkRefused(_("This link is not valid. Check that you copied the whole link."))
    if link.used_at is not None:
        raise LinkRefused(
            _("This link has already been used. Each link works once; nothing more to do here.")
        )
    if at >= link.expires_at:
        raise LinkRefused(
            _("This link has expired. Ask the trainer or the coordinator for a new one.")
        )
    if not link.user.is_active or link.user.role is not Role.EMPLOYER:
        raise LinkRefused(_("This link is not valid any more."))
    return link


def mark_used(link: ActionLink, at: datetime) -> None:
    link.used_at = at
    db.session.flush()


def now() -> datetime:
    return clock.now()
