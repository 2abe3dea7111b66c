"""users.locale: NULL means the person made no choice (Dutch)

The interface is Dutch unless the person chose English with the switch (lms/i18n.py). 'nl' was also the
default, so it cannot be told from a choice: it becomes "no choice", which is Dutch all the same; a
language chosen on the login page is then kept on the account at the next login.

Revision ID: c4e1a7d2f9b0
Revises: 2652ae414dec
Create Date: 2026-12-07 05:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e1a7d2f9b0'
down_revision = '2652ae414dec'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('locale', existing_type=sa.String(length=2), nullable=True)
    op.execute("UPDATE users SET locale = NULL WHERE locale = 'nl'")


def downgrade():
    op.execute("UPDATE users SET locale = 'nl' WHERE locale IS NULL")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('locale', existing_type=sa.String(length=2), nullable=False)
