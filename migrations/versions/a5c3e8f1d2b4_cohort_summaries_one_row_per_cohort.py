"""Cohort summaries: one row per cohort, summing up its enrolments' rows

cohort_summaries (lms/models/progress.py) holds, per cohort, the enrolments counted by status and
intake, certificates, assignments approved, the participants and employers, and the first day each
active participant counts as at risk: the coordinator's overview and the programme report read one row
per cohort in view instead of every enrolment. lms/services/progress.py rewrites it in the same
transaction as the enrolment summaries. The upgrade fills it for every existing cohort through that same
service, from the stored enrolment summaries (`lms progress rebuild` does the same).

Revision ID: a5c3e8f1d2b4
Revises: 7b3e9a41c2d5
Create Date: 2026-12-07 18:30:00.000000

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import orm

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
    _rebuild()


def _rebuild():
    """Fill the table through the application's own code, on this migration's connection and
    transaction (the service uses ``db.session``: point it at that connection for the while)."""
    connection = op.get_bind()
    if not connection.execute(sa.text("SELECT 1 FROM cohorts LIMIT 1")).first():
        return  # a new database: nothing to sum up
    from lms.extensions import db
    from lms.services.progress import rebuild_cohort_summaries

    session = orm.Session(bind=connection)
    db.session.registry.set(session)
    try:
        rebuild_cohort_summaries()
        session.flush()
    finally:
        session.close()
        db.session.registry.clear()


def downgrade():
    op.drop_table("cohort_summaries")
