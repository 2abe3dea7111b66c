"""Progress summaries: the day from which a participant counts as inactive, holiday weeks not counted

progress_summaries.inactive_from is INACTIVE_AFTER_DAYS (14) days after the last activity, the days of
the weeks the cohort's programme skips (school holidays, its exceptions) not counted
(lms/services/progress.py, Cohort.quiet_until). Lists of participants "at risk" filter on it.

The upgrade fills it as last_activity_on + 14 days: exact for every cohort, since no cohort skips a week
until `lms calendar apply` moves it to the school calendar (migration 5f83ef526a87 kept their weeks),
and applying recomputes the summaries of the cohorts it moves.

Revision ID: cbea2fea4eeb
Revises: 5f83ef526a87
Create Date: 2026-12-07 22:05:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "cbea2fea4eeb"
down_revision = "5f83ef526a87"
branch_labels = None
depends_on = None

FIGURES_BEFORE = [
    "enrolment_id",
    "assignments_approved",
    "assignments_total",
    "first_open_due_on",
    "behind_from",
    "last_activity_on",
    "work_complete",
    "valid_certificate_id",
]
FIGURES_AFTER = [*FIGURES_BEFORE[:6], "inactive_from", *FIGURES_BEFORE[6:]]


def upgrade():
    with op.batch_alter_table("progress_summaries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inactive_from", sa.Date(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        fourteen_days_later = sa.text("last_activity_on + 14")
    else:
        fourteen_days_later = sa.text("date(last_activity_on, '+14 days')")
    summaries = sa.table("progress_summaries", sa.column("inactive_from", sa.Date))
    op.execute(summaries.update().values(inactive_from=fourteen_days_later))
    with op.batch_alter_table("progress_summaries", schema=None) as batch_op:
        batch_op.alter_column("inactive_from", existing_type=sa.Date(), nullable=False)
        batch_op.drop_index(batch_op.f("ix_progress_summaries_programme_figures"))
        batch_op.create_index(
            "ix_progress_summaries_programme_figures", FIGURES_AFTER, unique=False
        )
        batch_op.create_index(
            "ix_progress_summaries_inactive_from", ["inactive_from"], unique=False
        )


def downgrade():
    with op.batch_alter_table("progress_summaries", schema=None) as batch_op:
        batch_op.drop_index("ix_progress_summaries_inactive_from")
        batch_op.drop_index("ix_progress_summaries_programme_figures")
        batch_op.create_index(
            batch_op.f("ix_progress_summaries_programme_figures"), FIGURES_BEFORE, unique=False
        )
        batch_op.drop_column("inactive_from")
