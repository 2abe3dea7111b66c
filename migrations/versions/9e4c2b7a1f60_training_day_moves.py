"""Training day moves: a cohort's training day held on another day

Revision ID: 9e4c2b7a1f60
Revises: 7b3e91c0d4a2
Create Date: 2026-12-08 01:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9e4c2b7a1f60"
down_revision = "7b3e91c0d4a2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "training_day_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("moved_from", sa.Date(), nullable=False),
        sa.Column("moved_to", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=120), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("moved_from <> moved_to", name=op.f("ck_training_day_moves_moved_elsewhere")),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_training_day_moves_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_training_day_moves_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_day_moves")),
        sa.UniqueConstraint(
            "cohort_id", "moved_from", name=op.f("uq_training_day_moves_cohort_id_moved_from")
        ),
        sa.UniqueConstraint(
            "cohort_id", "moved_to", name=op.f("uq_training_day_moves_cohort_id_moved_to")
        ),
    )
    op.create_index(
        op.f("ix_training_day_moves_cohort_id"), "training_day_moves", ["cohort_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_training_day_moves_cohort_id"), table_name="training_day_moves")
    op.drop_table("training_day_moves")
