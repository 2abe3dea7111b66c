"""The programme as loaded from curriculum/*.yaml: one row per version, never changed once in use."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models.base import created_at_column, enum_column

assignment_competencies = sa.Table(
    "assignment_competencies",
    db.metadata,
    sa.Column(
        "assignment_id", sa.ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "checklist_item_id",
        sa.ForeignKey("checklist_items.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class Programme(db.Model):
    __tablename__ = "programmes"
    __table_args__ = (
        sa.UniqueConstraint("code", "version"),
        sa.CheckConstraint("version > 0", name="version_positive"),
        sa.CheckConstraint("duration_weeks > 0", name="duration_positive"),
        sa.CheckConstraint("level BETWEEN 1 AND 4", name="mbo_level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    level: Mapped[int]  # mbo level
    description: Mapped[str] = mapped_column(sa.Text, default="")
    start_month: Mapped[int] = mapped_column(default=9)
    duration_weeks: Mapped[int]
    bpv_hours_target: Mapped[int]
    # Supervised training hours (the days with the trainer) the programme aims at, and how many hours
    # one training day counts: an attended day adds that many (lms.services.progress).
    training_hours_target: Mapped[int]
    training_day_hours: Mapped[float] = mapped_column(sa.Numeric(3, 1, asdecimal=False))
    # The level scale for checklist items: [{"level": 1, "name": ..., "description": ...}, ...]
    levels: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    source_file: Mapped[str] = mapped_column(sa.String(255), default="")
    content_hash: Mapped[str] = mapped_column(sa.String(64))  # of the normalised file content
    loaded_at: Mapped[datetime] = created_at_column()

    periods: Mapped[list[Period]] = relationship(
        back_populates="programme", order_by="Period.position", cascade="all, delete-orphan"
    )
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="programme", order_by="Assignment.position", cascade="all, delete-orphan"
    )
    checklist_groups: Mapped[list[ChecklistGroup]] = relationship(
        back_populates="programme",
        order_by="ChecklistGroup.position",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Programme {self.code} v{self.version}>"


class Period(db.Model):
    __tablename__ = "periods"
    __table_args__ = (
        sa.UniqueConstraint("programme_id", "code"),
        sa.CheckConstraint("start_week <= end_week", name="weeks_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(10))
    title: Mapped[str] = mapped_column(sa.String(160))
    position: Mapped[int]
    start_week: Mapped[int]
    end_week: Mapped[int]

    programme: Mapped[Programme] = relationship(back_populates="periods")
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="period", order_by="Assignment.position"
    )


class Assignment(db.Model):
    """A workplace assignment (werkplekopdracht)."""

    __tablename__ = "assignments"
    __table_args__ = (
        sa.UniqueConstraint("programme_id", "code"),
        sa.CheckConstraint("due_week > 0", name="due_week_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    period_id: Mapped[int] = mapped_column(
        sa.ForeignKey("periods.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(10))
    title: Mapped[str] = mapped_column(sa.String(200))
    instructions: Mapped[str] = mapped_column(sa.Text)
    position: Mapped[int]
    due_week: Mapped[int]  # weeks after the cohort's start date
    requires_workplace_confirmation: Mapped[bool] = mapped_column(default=False)

    programme: Mapped[Programme] = relationship(back_populates="assignments")
    period: Mapped[Period] = relationship(back_populates="assignments")
    competencies: Mapped[list[ChecklistItem]] = relationship(
        secondary=assignment_competencies, order_by="ChecklistItem.position"
    )


class ChecklistKind(enum.StrEnum):
    TECHNICAL = "technical"  # vaktechnische competenties
    SKILL21 = "skill21"  # 21e-eeuwse vaardigheden (SLO)


class ChecklistGroup(db.Model):
    """A competency group ("Veiligheid") or one of SLO's eleven 21st-century skills."""

    __tablename__ = "checklist_groups"
    __table_args__ = (sa.UniqueConstraint("programme_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ChecklistKind] = mapped_column(enum_column(ChecklistKind, "checklist_kind"))
    code: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(160))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int]

    programme: Mapped[Programme] = relationship(back_populates="checklist_groups")
    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="group", order_by="ChecklistItem.position", cascade="all, delete-orphan"
    )


class ChecklistItem(db.Model):
    """One competency or skill that a trainer signs off at a level."""

    __tablename__ = "checklist_items"
    __table_args__ = (
        sa.UniqueConstraint("programme_id", "code"),
        sa.CheckConstraint("required_level BETWEEN 1 AND 4", name="required_level_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("checklist_groups.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(10))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    indicators: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # observable behaviour
    required_level: Mapped[int]
    position: Mapped[int]

    programme: Mapped[Programme] = relationship()
    group: Mapped[ChecklistGroup] = relationship(back_populates="items")

    @property
    def kind(self) -> ChecklistKind:
        return self.group.kind
