"""Workplace confirmations can say the work was not carried out there

The employer's contact may answer that an assignment was NOT carried out at their workplace, with a
remark (lms/services/workplace.py, deny_workplace). Existing rows are confirmations.

Revision ID: c4e1f2a7d9b3
Revises: 3c5e1f0a9b2d
Create Date: 2026-12-07 05:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e1f2a7d9b3'
down_revision = '3c5e1f0a9b2d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workplace_confirmations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carried_out', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.create_check_constraint(
            batch_op.f('ck_workplace_confirmations_not_carried_out_has_remark'),
            "carried_out OR remark <> ''",
        )


def downgrade():
    with op.batch_alter_table('workplace_confirmations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_workplace_confirmations_not_carried_out_has_remark'), type_='check')
        batch_op.drop_column('carried_out')
