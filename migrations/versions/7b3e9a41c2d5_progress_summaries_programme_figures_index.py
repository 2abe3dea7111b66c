"""Progress summaries: an index holding the columns programme-wide counts read

The coordinator's overview (per region and per cohort), the programme report and the certificates list
per cohort aggregate over every enrolment's summary, but read only a few narrow columns; with this
index PostgreSQL answers them by an index-only scan instead of reading the wide rows (their JSON lists
of due dates).

Revision ID: 7b3e9a41c2d5
Revises: ec55c7fd4c8a
Create Date: 2026-12-07 15:10:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "7b3e9a41c2d5"
down_revision = "ec55c7fd4c8a"
branch_labels = None
depends_on = None

COLUMNS = [
    "enrolment_id",
    "assignments_approved",
    "assignments_total",
    "first_open_due_on",
    "behind_from",
    "last_activity_on",
    "work_complete",
    "valid_certificate_id",
]


def upgrade():
    with op.batch_alter_table("progress_summaries", schema=None) as batch_op:
        batch_op.create_index("ix_progress_summaries_programme_figures", COLUMNS, unique=False)


def downgrade():
    with op.batch_alter_table("progress_summaries", schema=None) as batch_op:
        batch_op.drop_index("ix_progress_summaries_programme_figures")
