"""The progress read model: one summary row per enrolment, kept by ``lms.services.progress``.

Every figure of ``ProgressSummary`` is computed from the raw rows (submissions, sign-offs, hours, attempts, certificates)
by the same code that ``lms progress verify`` runs, and rewritten in the same transaction as every write
that changes it. Nothing here depends on today's date: what does (overdue, behind, inactive, the week of
the programme) is derived when a page reads the row, from the dates stored here.

``CohortSummary`` sums up the enrolment rows of one cohort, for the pages that show many cohorts at
once (the coordinator's overview, the programme report): they read one row per cohort in view, never
one per enrolment. It is rewritten in the same transaction as the enrolment rows it sums up.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms import clock
from lms.extensions import db
from lms.models.base import UTCDateTime

# Hours are stored per week with one decimal (``WorkplaceHours``); a year's sum fits in seven digits.
HOURS = sa.Numeric(7, 1, asdecimal=False)


class ProgressSummary(db.Model):
    __tablename__ = "progress_summaries"
    __table_args__ = (
        # Lists filter on these at read time ("overdue", "behind", "inactive" against today).
        sa.Index("ix_progress_summaries_first_open_due_on", "first_open_due_on"),
        sa.Index("ix_progress_summaries_behind_from", "behind_from"),
        sa.Index("ix_progress_summaries_last_activity_on", "last_activity_on"),
        sa.Index("ix_progress_summaries_inactive_from", "inactive_from"),
        # The reminder sweep looks at the rows rewritten since its last run.
        sa.Index("ix_progress_summaries_updated_at", "updated_at"),
        # Counts over many enrolments (the trainer's lines per cohort, certificates per cohort) read
        # only these narrow columns: from this index alone where PostgreSQL can (an index-only scan
        # needs a vacuumed table), not from the wide rows with their date lists. The programme-wide
        # pages read CohortSummary instead.
        sa.Index(
            "ix_progress_summaries_programme_figures",
            "enrolment_id",
            "assignments_approved",
            "assignments_total",
            "first_open_due_on",
            "behind_from",
            "last_activity_on",
            "inactive_from",
            "work_complete",
            "valid_certificate_id",
        ),
    )

    enrolment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("enrolments.id", ondelete="CASCADE"), primary_key=True
    )
    # Assignments of the cohort's programme, by the state of this enrolment's submission.
    assignments_total: Mapped[int]
    assignments_approved: Mapped[int]
    assignments_submitted: Mapped[int]
    assignments_needs_revision: Mapped[int]
    assignments_draft: Mapped[int]
    # Every assignment's due date, ascending (what is expected by a day), and those of the assignments
    # not handed in yet (what is overdue on a day).
    due_dates: Mapped[list[str]] = mapped_column(sa.JSON)
    open_due_dates: Mapped[list[str]] = mapped_column(sa.JSON)
    first_open_due_on: Mapped[date | None]
    # From this day on fewer assignments are handed in than expected (None: never, all handed in).
    behind_from: Mapped[date | None]
    technical_signed: Mapped[int]
    technical_required: Mapped[int]
    skills_signed: Mapped[int]
    skills_required: Mapped[int]
    # Due dates of the checklist items not yet at their required level, ascending.
    open_item_due_dates: Mapped[list[str]] = mapped_column(sa.JSON)
    hours_approved: Mapped[float] = mapped_column(HOURS)
    hours_waiting: Mapped[float] = mapped_column(HOURS)
    hours_learning: Mapped[float] = mapped_column(HOURS)
    # Training days recorded for this enrolment, and of those attended (present or late).
    attendance_recorded: Mapped[int] = mapped_column(server_default="0")
    attendance_attended: Mapped[int] = mapped_column(server_default="0")
    # The local day of the latest work saved or handed in or hours logged, never before enrolment.
    last_activity_on: Mapped[date]
    # The day from which the participant counts as inactive: INACTIVE_AFTER_DAYS days after the last
    # activity, the days of holiday weeks not counted (lms.services.progress).
    inactive_from: Mapped[date]
    # Every assignment approved and every checklist item at its required level.
    work_complete: Mapped[bool]
    # The enrolment's valid certificate; without one, its latest revoked certificate.
    valid_certificate_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("certificates.id", ondelete="SET NULL")
    )
    revoked_certificate_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("certificates.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class CohortSummary(db.Model):
    """One cohort's enrolments counted, from the enrolment rows and their progress summaries (kept by
    ``lms.services.progress.refresh_summaries``, checked by ``lms progress verify``).

    Nothing here depends on today's date either: the four risk lists hold, for each active
    enrolment, the first day on which it counts as overdue, behind, inactive or at risk (any of the
    three) while its summary stays as it is; a page counts those on or before its day (and none
    before the cohort's start). Lists are space-separated and ascending: ISO dates (which sort as
    the days do), or ids."""

    __tablename__ = "cohort_summaries"

    cohort_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True
    )
    # Enrolments by status (a transferred one is counted in the cohort it moved to).
    active: Mapped[int]
    completed: Mapped[int]
    withdrawn: Mapped[int]
    # Enrolments not transferred, by intake type (``IntakeType``'s values).
    intake_side_entrant: Mapped[int]
    intake_employed: Mapped[int]
    # Enrolments not transferred whose summary names a valid certificate.
    certificates: Mapped[int]
    # Active enrolments with a summary row, and their assignments approved and in all.
    summarised: Mapped[int]
    assignments_approved: Mapped[int]
    assignments_total: Mapped[int]
    # Training days recorded and attended, summed over every enrolment of the cohort (a transferred
    # one keeps the days it attended here).
    attendance_recorded: Mapped[int] = mapped_column(server_default="0")
    attendance_attended: Mapped[int] = mapped_column(server_default="0")
    overdue_from: Mapped[str] = mapped_column(sa.Text)
    behind_from: Mapped[str] = mapped_column(sa.Text)
    inactive_from: Mapped[str] = mapped_column(sa.Text)
    at_risk_from: Mapped[str] = mapped_column(sa.Text)
    # The participants and employers of the enrolments not transferred (each once).
    participant_ids: Mapped[str] = mapped_column(sa.Text)
    employer_ids: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
