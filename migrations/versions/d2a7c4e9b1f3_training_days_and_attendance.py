"""Training days and attendance: cohorts.training_days, attendance_sessions, attendance_records

cohorts.training_days holds the weekdays on which a group spends the day with its trainer, as bits
(Monday = 1, Tuesday = 2, Wednesday = 4, Thursday = 8, Friday = 16; lms/models/cohorts.py). The
upgrade gives every existing cohort the weekday of its start date (Monday for a weekend day).
attendance_sessions holds one recorded training day per (cohort, date), attendance_records one
status per (session, enrolment) (lms/models/attendance.py).

Revision ID: d2a7c4e9b1f3
Revises: 1d0809ada79d
Create Date: 2026-12-07 22:05:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d2a7c4e9b1f3"
down_revision = "1d0809ada79d"
branch_labels = None
depends_on = None


def _foreign_keys(on):
    """SQLite copies the cohorts table to change it (batch mode) and drops the old one, which rows of
    other tables point at: no foreign key checks while the copy takes its place."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")


def upgrade():
    _foreign_keys(on=False)
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("training_days", sa.SmallInteger(), nullable=True))
    _fill_training_days()
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.alter_column("training_days", existing_type=sa.SmallInteger(), nullable=False)
        batch_op.create_check_constraint(
            batch_op.f("ck_cohorts_training_days_weekdays"), "training_days BETWEEN 1 AND 31"
        )
    _foreign_keys(on=True)

    op.create_table(
        "attendance_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_attendance_sessions_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_attendance_sessions_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_attendance_sessions_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_sessions")),
        sa.UniqueConstraint(
            "cohort_id", "held_on", name=op.f("uq_attendance_sessions_cohort_id_held_on")
        ),
    )
    with op.batch_alter_table("attendance_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attendance_sessions_recorded_by_id"), ["recorded_by_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_attendance_sessions_updated_by_id"), ["updated_by_id"], unique=False
        )

    op.create_table(
        "attendance_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "present",
                "late",
                "absent",
                name="attendance_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "reason",
            sa.Enum(
                "sick",
                "authorised",
                "unauthorised",
                name="absence_reason",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "(status = 'absent' AND reason IS NOT NULL) OR (status <> 'absent' AND reason IS NULL)",
            name=op.f("ck_attendance_records_reason_when_absent"),
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_attendance_records_enrolment_id_enrolments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["attendance_sessions.id"],
            name=op.f("fk_attendance_records_session_id_attendance_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_records")),
        sa.UniqueConstraint(
            "session_id",
            "enrolment_id",
            name=op.f("uq_attendance_records_session_id_enrolment_id"),
        ),
    )
    with op.batch_alter_table("attendance_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attendance_records_enrolment_id"), ["enrolment_id"], unique=False
        )


def _fill_training_days():
    """Every existing cohort trains on the weekday of its start date (Monday for a weekend day)."""
    connection = op.get_bind()
    cohorts = sa.table(
        "cohorts",
        sa.column("id", sa.Integer),
        sa.column("start_date", sa.Date),
        sa.column("training_days", sa.SmallInteger),
    )
    for cohort_id, start in connection.execute(sa.select(cohorts.c.id, cohorts.c.start_date)).all():
        weekday = start.weekday() if start.weekday() < 5 else 0
        connection.execute(
            cohorts.update().where(cohorts.c.id == cohort_id).values(training_days=1 << weekday)
        )


def downgrade():
    with op.batch_alter_table("attendance_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_records_enrolment_id"))
    op.drop_table("attendance_records")
    with op.batch_alter_table("attendance_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_sessions_updated_by_id"))
        batch_op.drop_index(batch_op.f("ix_attendance_sessions_recorded_by_id"))
    op.drop_table("attendance_sessions")
    _foreign_keys(on=False)
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_cohorts_training_days_weekdays"), type_="check")
        batch_op.drop_column("training_days")
    _foreign_keys(on=True)
