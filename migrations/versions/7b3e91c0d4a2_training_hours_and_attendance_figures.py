"""Training hours in the curriculum, and attendance in the progress read model

programmes.training_hours_target and programmes.training_day_hours: the supervised training hours the
programme aims at and what one attended training day counts. Programmes loaded before get the values
version 1 of the curriculum file now states (200 hours, 6 hours a day); loading that file again finds
its content unchanged (lms/services/curriculum.py, ADDED_FIELDS).

progress_summaries and cohort_summaries gain the training days recorded and attended, filled here
from the attendance records: the dashboards and reports read them (lms/services/progress.py).

Revision ID: 7b3e91c0d4a2
Revises: d2a7c4e9b1f3
Create Date: 2026-12-08 01:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7b3e91c0d4a2"
down_revision = "d2a7c4e9b1f3"
branch_labels = None
depends_on = None

FIGURES = ("attendance_recorded", "attendance_attended")


def upgrade():
    # Plain ADD COLUMN (no table copy on SQLite: other tables refer to these).
    op.add_column(
        "programmes",
        sa.Column("training_hours_target", sa.Integer(), nullable=False, server_default="200"),
    )
    op.add_column(
        "programmes",
        sa.Column(
            "training_day_hours",
            sa.Numeric(precision=3, scale=1, asdecimal=False),
            nullable=False,
            server_default="6",
        ),
    )
    for table in ("progress_summaries", "cohort_summaries"):
        for name in FIGURES:
            op.add_column(table, sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE progress_summaries SET"
        " attendance_recorded = (SELECT count(*) FROM attendance_records r"
        " WHERE r.enrolment_id = progress_summaries.enrolment_id),"
        " attendance_attended = (SELECT count(*) FROM attendance_records r"
        " WHERE r.enrolment_id = progress_summaries.enrolment_id AND r.status <> 'absent')"
    )
    op.execute(
        "UPDATE cohort_summaries SET"
        " attendance_recorded = (SELECT coalesce(sum(s.attendance_recorded), 0)"
        " FROM progress_summaries s JOIN enrolments e ON e.id = s.enrolment_id"
        " WHERE e.cohort_id = cohort_summaries.cohort_id),"
        " attendance_attended = (SELECT coalesce(sum(s.attendance_attended), 0)"
        " FROM progress_summaries s JOIN enrolments e ON e.id = s.enrolment_id"
        " WHERE e.cohort_id = cohort_summaries.cohort_id)"
    )


def downgrade():
    for table in ("cohort_summaries", "progress_summaries"):
        for name in reversed(FIGURES):
            op.drop_column(table, name)
    op.drop_column("programmes", "training_day_hours")
    op.drop_column("programmes", "training_hours_target")
