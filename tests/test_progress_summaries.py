"""The progress read model can be trusted: summaries are kept in the writing transaction, checked and
rebuilt by the CLI, read in one statement, built by their migration, and the SQL risk conditions say
exactly what ``risk_reasons`` says; the cohort rows sum up the enrolment rows, also when two writes in one
cohort come at the same moment, and count the risk conditions on any day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from lms import clock
from lms.extensions import db as _db
from lms.models import (
    Attempt,
    Cohort,
    CohortSummary,
    Enrolment,
    EnrolmentStatus,
    IntakeType,
    ProgressSummary,
    Role,
    Submission,
    SubmissionStatus,
    User,
    Verdict,
    WorkplaceHours,
)
from lms.services import enrolment as enrolment_service
from lms.services import progress
from lms.services.assessment import assess_submission
from lms.services.progress import (
    RiskReason,
    at_risk_on,
    behind_on,
    cohort_totals,
    days_through,
    enrolment_progress,
    inactive_on,
    overdue_on,
    refresh_summaries,
    risk_reasons,
    verify_summaries,
)
from tests.concurrency import hold_first_after
from tests.factories import (
    make_cohort,
    make_employer,
    make_enrolment,
    make_handed_in_submission,
    make_programme,
    make_user,
)
from tests.test_migrations import empty_database_url  # noqa: F401  (a fixture)

AT = datetime(2026, 10, 1, 10, tzinfo=clock.LOCAL_TZ)
# The revision before the one that adds progress_summaries (and fills it).
BEFORE_SUMMARIES = "c4e1f2a7d9b3"
SUMMARIES = "3d2ffc2630e3"
# The revision that adds cohort_summaries (and fills it), and the one before.
PROGRAMME_FIGURES_INDEX = "7b3e9a41c2d5"
COHORT_SUMMARIES = "a5c3e8f1d2b4"


def summary_of(enrolment_id: int) -> ProgressSummary:
    summary = _db.session.scalars(
        sa.select(ProgressSummary)
        .where(ProgressSummary.enrolment_id == enrolment_id)
        .execution_options(populate_existing=True)
    ).one()
    return summary


# --- lms progress verify / rebuild --------------------------------------------------------------------


def small_world(count: int = 3) -> tuple[list[Enrolment], list[Submission]]:
    programme = make_programme(assignments=3)
    cohort = make_cohort(programme, start=date(2026, 9, 7))
    enrolments = [make_enrolment(cohort) for _ in range(count)]
    submissions = [
        make_handed_in_submission(enrolment, programme.assignments[0], at=AT)
        for enrolment in enrolments
    ]
    return enrolments, submissions


def test_verify_says_ok_with_the_count_of_enrolments(db, runner) -> None:
    enrolments, _ = small_world(count=3)
    make_enrolment(make_cohort(make_programme(code="OTHER")))  # another programme, no work
    db.session.commit()

    result = runner.invoke(args=["lms", "progress", "verify"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"OK: {len(enrolments) + 1} enrolments, 2 cohorts"


def test_verify_names_a_summary_changed_behind_the_services_back_and_rebuild_fixes_it(
    db, runner
) -> None:
    enrolments, submissions = small_world(count=3)
    changed = submissions[1]
    db.session.commit()
    # A raw change no service made: the submission's status in the table, its summary untouched.
    with db.engine.begin() as connection:
        connection.execute(
            sa.update(Submission.__table__)
            .where(Submission.__table__.c.id == changed.id)
            .values(status=SubmissionStatus.APPROVED)
        )
    db.session.expire_all()

    result = runner.invoke(args=["lms", "progress", "verify"])

    assert result.exit_code == 1
    assert f"enrolment {changed.enrolment_id}:" in result.output
    for other in enrolments:
        if other.id != changed.enrolment_id:
            assert f"enrolment {other.id}:" not in result.output
    assert "assignments_approved stored 0, recomputed 1" in result.output
    assert "assignments_submitted stored 1, recomputed 0" in result.output
    assert "1 of 3 summaries differ" in result.output

    rebuilt = runner.invoke(args=["lms", "progress", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "Rebuilt 3 progress summaries and 1 cohort summaries." in rebuilt.output

    again = runner.invoke(args=["lms", "progress", "verify"])
    assert again.exit_code == 0, again.output
    assert again.output.strip() == "OK: 3 enrolments, 1 cohorts"
    assert summary_of(changed.enrolment_id).assignments_approved == 1


def test_verify_names_an_enrolment_without_a_summary(db, runner) -> None:
    enrolments, _ = small_world(count=2)
    db.session.commit()
    db.session.execute(
        sa.delete(ProgressSummary).where(ProgressSummary.enrolment_id == enrolments[0].id)
    )
    db.session.commit()

    result = runner.invoke(args=["lms", "progress", "verify"])

    assert result.exit_code == 1
    assert f"enrolment {enrolments[0].id}: assignments_total stored None, recomputed 3" in (
        result.output
    )
    assert runner.invoke(args=["lms", "progress", "rebuild"]).exit_code == 0
    assert runner.invoke(args=["lms", "progress", "verify"]).exit_code == 0


# --- Kept in the writing transaction ----------------------------------------------------------------


def test_a_service_write_updates_the_summary_in_its_own_transaction(db) -> None:
    enrolments, submissions = small_world(count=1)
    trainer = make_user(Role.TRAINER)
    enrolments[0].cohort.trainers.append(trainer)
    db.session.commit()
    enrolment_id, submission_id = enrolments[0].id, submissions[0].id
    assert (
        summary_of(enrolment_id).assignments_submitted,
        summary_of(enrolment_id).assignments_approved,
    ) == (1, 0)

    def approve() -> None:
        submission = db.session.get(Submission, submission_id)
        assess_submission(
            submission, actor=trainer, verdict=Verdict.APPROVED, feedback="Goed.", at=AT
        )

    approve()
    # Before any commit, the summary already says what the write did ...
    inside = summary_of(enrolment_id)
    assert (inside.assignments_submitted, inside.assignments_approved) == (0, 1)
    # ... and nobody else sees it yet: another connection reads the summary as committed.
    with db.engine.connect() as other:
        committed = other.execute(
            sa.select(
                ProgressSummary.assignments_submitted, ProgressSummary.assignments_approved
            ).where(ProgressSummary.enrolment_id == enrolment_id)
        ).one()
    assert tuple(committed) == (1, 0)

    db.session.rollback()  # the request failed after the service: the write and its summary go
    after_rollback = summary_of(enrolment_id)
    assert (after_rollback.assignments_submitted, after_rollback.assignments_approved) == (1, 0)
    assert db.session.get(Submission, submission_id).status is SubmissionStatus.SUBMITTED
    assert verify_summaries().ok

    approve()
    db.session.commit()
    db.session.expire_all()
    committed_row = summary_of(enrolment_id)
    assert (committed_row.assignments_submitted, committed_row.assignments_approved) == (0, 1)
    assert verify_summaries().ok


def test_refreshed_once_refreshes_every_enrolment_written_at_its_end(db) -> None:
    enrolments, submissions = small_world(count=2)
    trainer = make_user(Role.TRAINER)
    enrolments[0].cohort.trainers.append(trainer)
    db.session.commit()
    ids = [e.id for e in enrolments]

    def approved(enrolment_id: int) -> int:
        db.session.expire_all()
        return summary_of(enrolment_id).assignments_approved

    with progress.refreshed_once():
        with progress.refreshed_once():  # an inner one leaves the refresh to the outer
            for submission in submissions:
                assess_submission(
                    submission, actor=trainer, verdict=Verdict.APPROVED, feedback="Goed.", at=AT
                )
        assert [approved(i) for i in ids] == [0, 0]  # noted, not refreshed yet
    assert [approved(i) for i in ids] == [1, 1]
    assert verify_summaries().ok


# --- Read in one statement ------------------------------------------------------------------------


def test_reading_the_progress_of_any_number_of_enrolments_is_one_statement(
    db, count_queries
) -> None:
    programme = make_programme(assignments=3)
    cohorts = [make_cohort(programme), make_cohort(programme, start=date(2026, 10, 5))]
    made = [make_enrolment(cohorts[i % 2]) for i in range(12)]
    for enrolment in made[::3]:
        make_handed_in_submission(enrolment, programme.assignments[1], at=AT)
    db.session.commit()
    ids = [e.id for e in made]

    def load(n: int) -> list[Enrolment]:
        db.session.expunge_all()  # as a new request: nothing in the session
        return list(
            db.session.scalars(
                sa.select(Enrolment).where(Enrolment.id.in_(ids[:n])).order_by(Enrolment.id)
            )
        )

    few, many = load(2), None
    with count_queries() as small:
        enrolment_progress(few, date(2026, 11, 2))
    many = load(12)
    with count_queries() as large:
        result = enrolment_progress(many, date(2026, 11, 2))

    assert small.count == 1, small.statements
    assert large.count == 1, large.statements
    assert len(result) == 12
    assert sum(p.assignments.submitted for p in result.values()) == len(made[::3])
    with count_queries() as parts:
        progress.assignment_progress(many, date(2026, 11, 2))
        progress.hours_progress(many, date(2026, 11, 2))
        progress.last_activity(many)
    assert parts.count == 3


# --- The SQL conditions say what risk_reasons says ---------------------------------------------------


def _work(
    enrolment: Enrolment, assignment, *, at: datetime, verdict: Verdict | None = None, draft=False
) -> None:
    """A submission written as raw rows, its attempt made at ``at`` (the day of the activity)."""
    submission = Submission(
        enrolment=enrolment,
        assignment=assignment,
        attempts=[Attempt(number=1, what_i_did="Gedaan.", created_at=at)],
        created_at=at,
    )
    _db.session.add(submission)
    if not draft:
        submission.submit(at)
        if verdict is not None:
            submission.record_verdict(verdict, at)
    _db.session.flush()


def varied_enrolments() -> list[Enrolment]:
    """Enrolments in every kind of standing: cohorts started early, late and in the future, work in
    every state handed in on different days, hours logged late, enrolled late, withdrawn, transferred."""
    programme = make_programme(assignments=4)  # due in weeks 3, 6, 9, 12
    a1, a2, a3, a4 = programme.assignments
    early = make_cohort(programme, start=date(2026, 9, 7))
    late = make_cohort(programme, start=date(2026, 11, 2))
    future = make_cohort(programme, start=date(2027, 2, 1))
    made: list[Enrolment] = []

    def enrol(cohort: Cohort, **fields: object) -> Enrolment:
        enrolment = make_enrolment(cohort, **fields)
        made.append(enrolment)
        return enrolment

    local = clock.LOCAL_TZ
    enrol(early)  # nothing done at all
    e = enrol(early)  # keeps up with the first two, then stops
    _work(e, a1, at=datetime(2026, 9, 22, 9, tzinfo=local), verdict=Verdict.APPROVED)
    _work(e, a2, at=datetime(2026, 10, 14, 9, tzinfo=local))
    e = enrol(early)  # everything handed in early
    for n, assignment in enumerate((a1, a2, a3, a4)):
        _work(
            e, assignment, at=datetime(2026, 9, 10 + n, 9, tzinfo=local), verdict=Verdict.APPROVED
        )
    e = enrol(early)  # needs revision and a draft: not handed in, so overdue when due
    _work(e, a1, at=datetime(2026, 9, 24, 15, tzinfo=local), verdict=Verdict.NEEDS_REVISION)
    _work(e, a2, at=datetime(2026, 10, 30, 23, 30, tzinfo=local), draft=True)
    e = enrol(early, enrolled_on=date(2026, 10, 19))  # enrolled late, logs hours
    _db.session.add(
        WorkplaceHours(
            enrolment=e,
            week_start=date(2026, 10, 19),
            hours_worked=16,
            hours_learning=4,
            note="",
            updated_at=datetime(2026, 11, 20, 8, tzinfo=local),
        )
    )
    e = enrol(early)  # hands in late, out of order
    _work(e, a3, at=datetime(2026, 11, 6, 9, tzinfo=local))
    _work(e, a1, at=datetime(2026, 11, 9, 9, tzinfo=local), verdict=Verdict.APPROVED)
    e = enrol(early)  # withdrawn: never at risk
    e.status, e.ended_on, e.end_reason = EnrolmentStatus.WITHDRAWN, date(2026, 10, 2), "Verhuisd"
    moved = enrol(early)  # transferred to the late cohort with one piece of work
    _work(moved, a1, at=datetime(2026, 9, 25, 9, tzinfo=local), verdict=Verdict.APPROVED)
    moved.status, moved.ended_on, moved.end_reason = (
        EnrolmentStatus.TRANSFERRED,
        date(2026, 10, 30),
        "Andere regio",
    )
    _db.session.flush()
    new = enrol(
        late, participant=moved.participant, transferred_from=moved, enrolled_on=date(2026, 11, 2)
    )
    for submission in _db.session.scalars(
        sa.select(Submission).where(Submission.enrolment_id == moved.id)
    ):
        submission.enrolment = new
    enrol(late)  # the late cohort: nothing done
    e = enrol(late)
    _work(e, a1, at=datetime(2026, 11, 16, 9, tzinfo=local))
    enrol(future)  # not started: nothing expected yet
    enrol(future, enrolled_on=date(2027, 1, 4))  # enrolled weeks before the start, idle
    e = enrol(future)
    _work(e, a1, at=datetime(2026, 12, 1, 9, tzinfo=local))
    _db.session.flush()
    refresh_summaries(made)  # raw rows: the services would have done this
    return made


def test_the_sql_conditions_select_exactly_the_enrolments_risk_reasons_names(db) -> None:
    made = varied_enrolments()
    db.session.commit()
    assert verify_summaries().ok
    enrolments = list(db.session.scalars(sa.select(Enrolment).order_by(Enrolment.id)))
    assert len(enrolments) == len(made)
    conditions = {
        RiskReason.OVERDUE: overdue_on,
        RiskReason.BEHIND: behind_on,
        RiskReason.INACTIVE: inactive_on,
    }

    def selected(condition) -> set[int]:
        return set(
            db.session.scalars(
                sa.select(Enrolment.id)
                .join(ProgressSummary, ProgressSummary.enrolment_id == Enrolment.id)
                .join(Cohort, Cohort.id == Enrolment.cohort_id)
                .where(condition)
            )
        )

    seen: dict[RiskReason, set[int]] = {reason: set() for reason in RiskReason}
    apart: set[frozenset[RiskReason]] = set()  # pairs of reasons that selected different enrolments
    days = [date(2026, 9, 1) + timedelta(days=n) for n in range(0, 200, 3)]
    # Around the boundaries too: the due Fridays and the day after, the start of a cohort.
    days += [
        date(2026, 9, 25),
        date(2026, 9, 26),
        date(2026, 11, 2),
        date(2026, 11, 1),
        date(2026, 12, 4),
        date(2026, 12, 5),
        date(2027, 1, 31),
        date(2027, 2, 1),
        date(2027, 2, 19),
        date(2027, 2, 20),
    ]
    for today in sorted(set(days)):
        reasons = risk_reasons(enrolments, enrolment_progress(enrolments, today), today)
        for reason, condition in conditions.items():
            expected = {eid for eid, why in reasons.items() if reason in why}
            assert selected(condition(today)) == expected, (today, reason)
            seen[reason] |= expected
        for first in RiskReason:
            for second in RiskReason:
                if {e for e, why in reasons.items() if first in why} != {
                    e for e, why in reasons.items() if second in why
                }:
                    apart.add(frozenset({first, second}))
        assert selected(at_risk_on(today)) == {eid for eid, why in reasons.items() if why}, today
    # The set is varied enough to tell the conditions apart: each reason holds for some and not all.
    active = {e.id for e in enrolments if e.status is EnrolmentStatus.ACTIVE}
    for reason in RiskReason:
        assert seen[reason], reason
        assert seen[reason] <= active
    assert len(apart) == 3  # behind/overdue, behind/inactive, overdue/inactive


# --- The cohort rows: the enrolments summed up, the risk conditions counted on any day ---------------


def test_the_cohort_rows_count_what_the_sql_conditions_select_on_any_day(db) -> None:
    made = varied_enrolments()
    db.session.commit()
    assert verify_summaries().ok
    rows = {row.cohort_id: row for row in db.session.scalars(sa.select(CohortSummary))}
    cohorts = {e.cohort for e in made}
    assert set(rows) == {c.id for c in cohorts}  # every cohort a write touched has its row
    conditions = {
        "at_risk_from": at_risk_on,
        "overdue_from": overdue_on,
        "behind_from": behind_on,
        "inactive_from": inactive_on,
    }
    seen = {name: 0 for name in conditions}
    days = [date(2026, 9, 1) + timedelta(days=n) for n in range(0, 200, 2)]
    days += [date(2026, 9, 26), date(2026, 11, 2), date(2027, 2, 1), date(2027, 2, 20)]
    for today in days:
        for cohort in cohorts:
            for name, condition in conditions.items():
                selected = db.session.scalar(
                    sa.select(sa.func.count(Enrolment.id))
                    .join(ProgressSummary, ProgressSummary.enrolment_id == Enrolment.id)
                    .join(Cohort, Cohort.id == Enrolment.cohort_id)
                    .where(Cohort.id == cohort.id, condition(today))
                )
                counted = (
                    days_through(getattr(rows[cohort.id], name), today)
                    if cohort.start_date <= today
                    else 0
                )
                assert counted == selected, (today, cohort.start_date, name)
                seen[name] += counted
    assert all(seen.values()), seen  # each condition held somewhere: the check means something


def test_a_cohort_row_sums_up_its_enrolments(db) -> None:
    made = varied_enrolments()
    other_employer = make_employer()
    extra = make_enrolment(made[0].cohort, employer=other_employer, intake_type=IntakeType.EMPLOYED)
    db.session.commit()
    for cohort in {e.cohort for e in made}:
        mine = db.session.scalars(
            sa.select(Enrolment).where(Enrolment.cohort_id == cohort.id)
        ).all()
        kept = [e for e in mine if e.status is not EnrolmentStatus.TRANSFERRED]
        active = [e for e in mine if e.status is EnrolmentStatus.ACTIVE]
        row = db.session.get(CohortSummary, cohort.id)
        assert row is not None
        assert (row.active, row.completed, row.withdrawn) == (
            len(active),
            sum(1 for e in mine if e.status is EnrolmentStatus.COMPLETED),
            sum(1 for e in mine if e.status is EnrolmentStatus.WITHDRAWN),
        )
        assert (row.intake_side_entrant, row.intake_employed) == (
            sum(1 for e in kept if e.intake_type is IntakeType.SIDE_ENTRANT),
            sum(1 for e in kept if e.intake_type is IntakeType.EMPLOYED),
        )
        assert row.participant_ids.split() == [
            str(i) for i in sorted({e.participant_id for e in kept})
        ]
        assert row.employer_ids.split() == [str(i) for i in sorted({e.employer_id for e in kept})]
        summaries = [summary_of(e.id) for e in active]
        assert row.summarised == len(active)
        assert row.assignments_approved == sum(s.assignments_approved for s in summaries)
        assert row.assignments_total == sum(s.assignments_total for s in summaries)
    assert str(other_employer.id) in db.session.get(CohortSummary, extra.cohort_id).employer_ids
    assert cohort_totals([]) == {}


def test_days_through_counts_the_days_on_or_before_a_day() -> None:
    days = "2026-10-02 2026-10-09 2026-10-09 2026-11-20"
    assert [days_through(days, date(2026, 10, d)) for d in (1, 2, 8, 9, 31)] == [0, 1, 1, 3, 3]
    assert days_through(days, date(2026, 11, 20)) == 4
    assert days_through(days, date(2027, 1, 1)) == 4
    assert days_through("", date(2027, 1, 1)) == 0
    assert days_through("2026-10-02", date(2026, 10, 2)) == 1


def test_verify_names_a_cohort_row_changed_behind_the_services_back_and_rebuild_fixes_it(
    db, runner
) -> None:
    enrolments, _ = small_world(count=3)
    gone = enrolments[0]
    db.session.commit()
    # A raw change no service made: a withdrawal in the table; the enrolment's own summary holds no
    # status, so only its cohort's row is wrong.
    with db.engine.begin() as connection:
        connection.execute(
            sa.update(Enrolment.__table__)
            .where(Enrolment.__table__.c.id == gone.id)
            .values(status=EnrolmentStatus.WITHDRAWN, ended_on=date(2026, 10, 2))
        )
    db.session.expire_all()

    result = runner.invoke(args=["lms", "progress", "verify"])

    assert result.exit_code == 1
    assert f"cohort {gone.cohort_id}: active stored 3, recomputed 2" in result.output
    assert "withdrawn stored 0, recomputed 1" in result.output
    assert "enrolment " not in result.output
    assert "0 of 3 summaries differ, and 1 of 1 cohort summaries" in result.output

    rebuilt = runner.invoke(args=["lms", "progress", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    again = runner.invoke(args=["lms", "progress", "verify"])
    assert again.exit_code == 0, again.output
    assert again.output.strip() == "OK: 3 enrolments, 1 cohorts"
    row = db.session.scalars(
        sa.select(CohortSummary).execution_options(populate_existing=True)
    ).one()
    assert (row.active, row.withdrawn) == (2, 1)


def test_two_writes_in_one_cohort_at_the_same_moment_both_count(app, db) -> None:
    """Two coordinators withdraw two participants of one cohort at the same moment. The first is
    held right after it wrote its cohort's row; the second must wait for it (the row is locked
    before it is summed up), and then sum up with the first withdrawal committed: without the lock
    it would sum up what it saw before, and write one active participant too many."""
    enrolments, _ = small_world(count=3)
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    ids = [e.id for e in enrolments[:2]]
    cohort_id, coordinator_id = enrolments[0].cohort_id, coordinator.id

    def withdraw(enrolment_id: int):  # type: ignore[no-untyped-def]
        def run() -> None:
            with app.app_context():
                session = _db.session
                enrolment_service.withdraw(
                    session.get(Enrolment, enrolment_id),
                    on=date(2026, 10, 2),
                    reason="Verhuisd.",
                    actor=session.get(User, coordinator_id),
                )
                session.commit()

        return run

    _, _, second_waited = hold_first_after(
        "INSERT INTO COHORT_SUMMARIES", withdraw(ids[0]), withdraw(ids[1])
    )

    assert second_waited
    db.session.expire_all()
    row = db.session.get(CohortSummary, cohort_id)
    assert (row.active, row.withdrawn) == (1, 2)
    assert verify_summaries().ok


# --- The migration builds the rows for the data already there ----------------------------------------


def test_the_migration_builds_a_summary_for_every_existing_enrolment(
    empty_database_url,  # noqa: F811
    tmp_path,
    monkeypatch,
) -> None:
    from lms import create_app
    from tests.conftest import make_config

    app = create_app(make_config(empty_database_url, tmp_path / "evidence"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output

    # Data from before the read model: made with today's models, without summaries, then the schema
    # taken back to before the read model (the rows stay).
    with app.app_context(), monkeypatch.context() as patch:
        patch.setattr(progress, "refresh_summaries", lambda enrolments: None)
        programme = make_programme(assignments=3)
        cohort = make_cohort(programme, start=date(2026, 9, 7))
        enrolments = [make_enrolment(cohort) for _ in range(3)]
        make_handed_in_submission(enrolments[0], programme.assignments[0], at=AT)
        _work(enrolments[1], programme.assignments[0], at=AT, verdict=Verdict.APPROVED)
        _work(enrolments[1], programme.assignments[1], at=AT + timedelta(days=9))
        _db.session.add(
            WorkplaceHours(
                enrolment=enrolments[2],
                week_start=date(2026, 9, 14),
                hours_worked=24,
                hours_learning=6,
                note="",
            )
        )
        _db.session.commit()
        ids = [e.id for e in enrolments]
        _db.session.remove()
        _db.engine.dispose()
    result = runner.invoke(args=["db", "downgrade", BEFORE_SUMMARIES])
    assert result.exit_code == 0, result.output

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output

    with app.app_context():
        rows = {s.enrolment_id: s for s in _db.session.scalars(sa.select(ProgressSummary))}
        assert set(rows) == set(ids)
        assert (rows[ids[0]].assignments_submitted, rows[ids[0]].assignments_approved) == (1, 0)
        assert (rows[ids[1]].assignments_submitted, rows[ids[1]].assignments_approved) == (1, 1)
        assert rows[ids[2]].hours_waiting == 24.0
        assert all(row.assignments_total == 3 for row in rows.values())
        check = verify_summaries()
        assert check.ok, (check.differences, check.cohort_differences)
        assert (check.checked, check.cohorts_checked) == (3, 1)
        cohort_row = _db.session.scalars(sa.select(CohortSummary)).one()
        assert (cohort_row.active, cohort_row.summarised, cohort_row.assignments_approved) == (
            3,
            3,
            1,
        )
        assert len(cohort_row.participant_ids.split()) == 3
        verified = runner.invoke(args=["lms", "progress", "verify"])
        assert verified.exit_code == 0, verified.output
        assert verified.output.strip() == "OK: 3 enrolments, 1 cohorts"
        _db.session.remove()
        _db.engine.dispose()


def test_the_summaries_migration_is_the_one_that_fills_the_table() -> None:
    """The test above downgrades to the revision just before the one that adds the table."""
    from pathlib import Path

    source = next(Path("migrations/versions").glob(f"{SUMMARIES}_*.py")).read_text()
    assert f'down_revision = "{BEFORE_SUMMARIES}"' in source


def test_a_certificate_issued_in_a_request_that_fails_leaves_nothing_behind(db) -> None:
    """The certificate row is written in a savepoint (to retry a number taken meanwhile): a rollback
    of the request takes it away with everything else, also on SQLite where the driver opens its
    transaction only at the first write."""
    from lms.models import Certificate
    from lms.services.certificates import issue_certificate
    from tests.certificate_helpers import make_eligible_enrolment

    enrolment = make_eligible_enrolment()
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    enrolment_id = enrolment.id
    assert summary_of(enrolment_id).work_complete
    db.session.expire_all()  # a new request: only reads before the savepoint

    issue_certificate(
        db.session.get(Enrolment, enrolment_id),
        actor=coordinator,
        now=datetime(2027, 7, 5, 10, tzinfo=clock.LOCAL_TZ),
    )
    assert summary_of(enrolment_id).valid_certificate_id is not None
    db.session.rollback()

    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0
    assert summary_of(enrolment_id).valid_certificate_id is None
    assert verify_summaries().ok
