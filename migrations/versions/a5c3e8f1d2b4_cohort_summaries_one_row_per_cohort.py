"""Cohort summaries: one row per cohort, summing up its enrolments' rows

cohort_summaries (lms/models/progress.py) holds, per cohort, the enrolments counted by status and
intake, certificates, assignments approved, the participants and employers, and the first day each
active participant counts as at risk: the coordinator's overview and the programme report read one row
per cohort in view instead of every enrolment. lms/services/progress.py rewrites it in the same
transaction as the enrolment summaries. The upgrade ends with it filled for every existing cohort through
that same service (`lms progress rebuild` does the same), by migrations/env.py once the head is reached
(the service fits the newest schema only).

Revision ID: a5c3e8f1d2b4
Revises: 7b3e9a41c2d5
Create Date: 2026-12-07 18:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a5c3e8f1d2b4"
down_revision = "7b3e9a41c2d5"
branch_labels = None
depends_on = None

COUNTS = [
    "active",
    "completed",
    "withdrawn",
    "intake_side_entrant",
    "intake_employed",
    "certificates",
    "summarised",
    "assignments_approved",
    "assignments_total",
]
LISTS = [
    "overdue_from",
    "behind_from",
    "inactive_from",
    "at_risk_from",
    "participant_ids",
    "employer_ids",
]


def upgrade():
    op.create_table(
        "cohort_summaries",
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        *(sa.Column(name, sa.Text(), nullable=False) for name in LISTS),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_cohort_summaries_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cohort_id", name=op.f("pk_cohort_summaries")),
    )
    # Its rows are filled once the upgrade reached the head: migrations/env.py, summarise_at_head.



def downgrade():
    op.drop_table("cohort_summaries")
