"""Enrolments: no unique cohort and participant pair (a transfer back starts a new enrolment)

Revision ID: 2672b4242251
Revises: 25c040dd6354
Create Date: 2026-12-07 04:03:10.814518

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2672b4242251'
down_revision = '25c040dd6354'
branch_labels = None
depends_on = None


def upgrade():
    # A participant may have several enrolments in one cohort: one that ended with a transfer out, and a
    # later one after a transfer back. Two active ones stay impossible (uq_enrolments_one_active_per_participant).
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_enrolments_cohort_id_participant_id'), type_='unique')


def downgrade():
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f('uq_enrolments_cohort_id_participant_id'), ['cohort_id', 'participant_id']
        )
