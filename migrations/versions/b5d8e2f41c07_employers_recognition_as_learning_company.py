"""Employers: recognition as a learning company (number, day checked)

Revision ID: b5d8e2f41c07
Revises: 9e4c2b7a1f60
Create Date: 2026-12-08 02:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b5d8e2f41c07"
down_revision = "9e4c2b7a1f60"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no table copy on SQLite: other tables refer to employers).
    op.add_column(
        "employers",
        sa.Column("recognition_number", sa.String(length=12), nullable=False, server_default=""),
    )
    op.add_column("employers", sa.Column("recognition_checked_on", sa.Date(), nullable=True))


def downgrade():
    op.drop_column("employers", "recognition_checked_on")
    op.drop_column("employers", "recognition_number")
