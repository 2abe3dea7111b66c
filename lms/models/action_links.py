"""Action links: a mailed link that lets an employer's contact do one thing without logging in
(confirm a workplace assignment, acknowledge a progress review, approve a week of hours).
Scoped to that one action on that one record, single-use and expiring; only the hash is stored."""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.base import SingleUseToken, enum_column

if TYPE_CHECKING:
    from lms.models.people import User


class LinkAction(enum.StrEnum):
    CONFIRM_WORKPLACE = "confirm_workplace"  # subject: Submission
    ACKNOWLEDGE_REVIEW = "acknowledge_review"  # subject: ProgressReview
    APPROVE_HOURS = "approve_hours"  # subject: WorkplaceHours


class ActionLink(SingleUseToken, db.Model):
    __tablename__ = "action_links"
    __table_args__ = (sa.Index("ix_action_links_subject", "action", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The contact the link was sent to; what they do through it is recorded as theirs.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    action: Mapped[LinkAction] = mapped_column(enum_column(LinkAction, "link_action"))
    subject_id: Mapped[int]

    user: Mapped[User] = relationship()

    @classmethod
    def issue(
        cls, user: User, action: LinkAction, subject_id: int, valid_for: timedelta
    ) -> tuple[ActionLink, str]:
        """A new link row and the secret for the URL; the secret is not stored."""
        return cls.with_new_secret(valid_for, user=user, action=action, subject_id=subject_id)
