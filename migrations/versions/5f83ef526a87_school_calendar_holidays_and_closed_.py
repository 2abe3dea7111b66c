"""School calendar: holidays and closed days, a cohort's programme weeks

school_calendars and calendar_closures hold the school years loaded from curriculum/calendar/
(`lms calendar load`) and each cohort's own exceptions (lms/models/calendar.py). cohorts.teaching_weeks
holds the first day of each of a cohort's programme weeks (lms/services/school_calendar.py).

The upgrade fills teaching_weeks for every existing cohort with the rule it had until now (one week
after another from its start date), so nothing moves on upgrade: `lms calendar load` and then
`lms calendar apply --dry-run` list what the calendar changes for the running cohorts, and
`lms calendar apply` changes it.

Revision ID: 5f83ef526a87
Revises: a5c3e8f1d2b4
Create Date: 2026-12-07 21:31:48.695725

"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5f83ef526a87"
down_revision = "a5c3e8f1d2b4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "school_calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.String(length=9), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source_file", sa.String(length=255), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_calendars")),
        sa.UniqueConstraint("school_year", name=op.f("uq_school_calendars_school_year")),
    )
    op.create_table(
        "calendar_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=True),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "autumn",
                "christmas",
                "spring",
                "may",
                "summer",
                "closed",
                "cohort",
                name="closure_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(calendar_id IS NULL) <> (cohort_id IS NULL)",
            name=op.f("ck_calendar_closures_of_a_calendar_or_a_cohort"),
        ),
        sa.CheckConstraint("first_day <= last_day", name=op.f("ck_calendar_closures_days_ordered")),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["school_calendars.id"],
            name=op.f("fk_calendar_closures_calendar_id_school_calendars"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_calendar_closures_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_calendar_closures_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_closures")),
    )
    with op.batch_alter_table("calendar_closures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calendar_closures_calendar_id"), ["calendar_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_calendar_closures_cohort_id"), ["cohort_id"], unique=False
        )
        batch_op.create_index("ix_calendar_closures_days", ["first_day", "last_day"], unique=False)

    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("teaching_weeks", sa.Text(), nullable=False, server_default="")
        )
    _fill_teaching_weeks()


def _fill_teaching_weeks():
    """Every existing cohort's weeks as they were counted until now: one after another."""
    connection = op.get_bind()
    cohorts = sa.table(
        "cohorts",
        sa.column("id", sa.Integer),
        sa.column("start_date", sa.Date),
        sa.column("programme_id", sa.Integer),
        sa.column("teaching_weeks", sa.Text),
    )
    programmes = sa.table(
        "programmes", sa.column("id", sa.Integer), sa.column("duration_weeks", sa.Integer)
    )
    rows = connection.execute(
        sa.select(cohorts.c.id, cohorts.c.start_date, programmes.c.duration_weeks).join(
            programmes, programmes.c.id == cohorts.c.programme_id
        )
    ).all()
    for cohort_id, start, weeks in rows:
        mondays = " ".join((start + timedelta(weeks=n)).isoformat() for n in range(weeks))
        connection.execute(
            cohorts.update().where(cohorts.c.id == cohort_id).values(teaching_weeks=mondays)
        )


def downgrade():
    # Not in batch mode: on SQLite that would copy the cohorts table, which other tables refer to.
    op.drop_column("cohorts", "teaching_weeks")

    with op.batch_alter_table("calendar_closures", schema=None) as batch_op:
        batch_op.drop_index("ix_calendar_closures_days")
        batch_op.drop_index(batch_op.f("ix_calendar_closures_cohort_id"))
        batch_op.drop_index(batch_op.f("ix_calendar_closures_calendar_id"))

    op.drop_table("calendar_closures")
    op.drop_table("school_calendars")
