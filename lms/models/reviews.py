"""Progress reviews (voortgangsgesprekken): the periodic three-way conversation between trainer,
participant and the employer's contact, recorded by the trainer and acknowledged by the other two."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.base import UTCDateTime, created_at_column

if TYPE_CHECKING:
    from lms.models.cohorts import Enrolment
    from lms.models.people import User


class ProgressReview(db.Model):
    __tablename__ = "progress_reviews"
    __table_args__ = (
        sa.Index("ix_progress_reviews_enrolment_held_on", "enrolment_id", "held_on"),
        sa.CheckConstraint(
            "(employer_acknowledged_at IS NULL AND employer_acknowledged_by_id IS NULL)"
            " OR (employer_acknowledged_at IS NOT NULL AND employer_acknowledged_by_id IS NOT NULL)",
            name="employer_acknowledgement_complete",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id", ondelete="RESTRICT"))
    trainer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    held_on: Mapped[date]
    summary: Mapped[str] = mapped_column(sa.Text)
    agreements: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = created_at_column()
    participant_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    employer_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    employer_acknowledged_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )

    enrolment: Mapped[Enrolment] = relationship()
    trainer: Mapped[User] = relationship(foreign_keys=[trainer_id])
    employer_acknowledged_by: Mapped[User | None] = relationship(
        foreign_keys=[employer_acknowledged_by_id]
    )

    def __repr__(self) -> str:
        return f"<ProgressReview {self.id} enrolment {self.enrolment_id} on {self.held_on}>"

    @property
    def fully_acknowledged(self) -> bool:
        return (
            self.participant_acknowledged_at is not None
            and self.employer_acknowledged_at is not None
        )
