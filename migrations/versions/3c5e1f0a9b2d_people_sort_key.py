"""People sort on a stored key

users.sort_key (lms/names.py): surname without tussenvoegsel, first name, tussenvoegsel, folded
(accents ignored), so paged lists of people sort in SQL the same way on SQLite and PostgreSQL. The
upgrade fills it for every existing account.

Revision ID: 3c5e1f0a9b2d
Revises: 8c7b9ed8a7ef
Create Date: 2026-12-07 05:20:00.000000

"""

from alembic import op
import sqlalchemy as sa

from lms.names import person_sort_key


# revision identifiers, used by Alembic.
revision = "3c5e1f0a9b2d"
down_revision = "8c7b9ed8a7ef"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sort_key", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.create_index(batch_op.f("ix_users_sort_key"), ["sort_key"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("sort_key", server_default=None)

    users = sa.table(
        "users",
        sa.column("id", sa.Integer),
        sa.column("first_name", sa.String),
        sa.column("name_prefix", sa.String),
        sa.column("last_name", sa.String),
        sa.column("sort_key", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(users.c.id, users.c.first_name, users.c.name_prefix, users.c.last_name)
    ).all()
    for row in rows:
        key = person_sort_key(row.first_name or "", row.name_prefix or "", row.last_name or "")
        connection.execute(users.update().where(users.c.id == row.id).values(sort_key=key[:255]))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_sort_key"))
        batch_op.drop_column("sort_key")
