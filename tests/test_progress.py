"""Progress counting (one truth for every page) and the participant's assignment overview."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from lms import clock
from lms.models import Attempt, Enrolment, Role, Submission, SubmissionStatus, Verdict
from lms.services.portfolio import assignment_overview
from lms.services.progress import assignment_progress, refresh_summaries
from tests.conftest import AuthActions
from tests.factories import make_cohort, make_enrolment, make_programme, make_user

AT = datetime(2026, 9, 20, 10, tzinfo=clock.LOCAL_TZ)


def hand_in(enrolment, assignment, verdict: Verdict | None = None) -> Submission:
    submission = Submission(
        enrolment=enrolment, assignment=assignment, attempts=[Attempt(number=1)]
    )
    submission.submit(AT)
    if verdict is not None:
        submission.record_verdict(verdict, AT)
    return submission


def test_progress_counts_each_state_and_overdue_work(db) -> None:
    programme = make_programme(assignments=4)  # due in weeks 3, 6, 9, 12
    cohort = make_cohort(programme, start=date(2026, 9, 7))
    enrolment = make_enrolment(cohort)
    a1, a2, a3, a4 = programme.assignments
    db.session.add_all(
        [hand_in(enrolment, a1, Verdict.APPROVED), hand_in(enrolment, a2, Verdict.NEEDS_REVISION)]
    )
    db.session.add(Submission(enrolment=enrolment, assignment=a3))  # a draft
    refresh_summaries([enrolment])  # the services do this after every write

    # Week 9's Friday is 6 November, week 12's is 27 November.
    progress = assignment_progress([enrolment], date(2026, 11, 9))[enrolment.id]
    assert (progress.total, progress.approved, progress.needs_revision, progress.draft) == (
        4,
        1,
        1,
        1,
    )
    assert progress.submitted == 0
    assert progress.overdue == 2  # a2 (needs revision) and a3 (draft); a4 not yet due
    assert progress.percent_approved == 25
    assert assignment_progress([enrolment], date(2026, 9, 1))[enrolment.id].overdue == 0


def test_progress_for_many_enrolments_uses_a_constant_number_of_queries(db, count_queries) -> None:
    programme = make_programme(assignments=3)
    cohorts = [make_cohort(programme), make_cohort(programme)]
    few = [make_enrolment(cohorts[0]) for _ in range(2)]
    many = few + [make_enrolment(cohorts[1]) for _ in range(8)]
    for enrolment in many:
        db.session.add(hand_in(enrolment, programme.assignments[0]))
    refresh_summaries(many)
    db.session.commit()
    # Loaded as a page would load them (committing expired the objects).
    ids = [enrolment.id for enrolment in many]
    many = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.id.in_(ids)).order_by(Enrolment.id)
    ).all()
    few = many[:2]

    with count_queries() as small:
        assignment_progress(few, date(2026, 12, 1))
    with count_queries() as large:
        result = assignment_progress(many, date(2026, 12, 1))
    assert small.count == large.count
    assert all(p.submitted == 1 and p.overdue == 2 for p in result.values())


def test_overview_groups_assignments_by_period_with_due_dates(db) -> None:
    programme = make_programme(assignments=2)
    enrolment = make_enrolment(make_cohort(programme, start=date(2026, 9, 7)))
    db.session.add(hand_in(enrolment, programme.assignments[0]))
    db.session.flush()
    (period,) = assignment_overview(enrolment, date(2026, 9, 30))
    assert period.code == "P1"
    first, second = period.rows
    assert (first.code, first.status, first.due_date, first.overdue) == (
        "A1",
        SubmissionStatus.SUBMITTED,
        date(2026, 9, 25),
        False,
    )
    assert (second.status, second.due_date, second.overdue) == (None, date(2026, 10, 16), False)


def test_trainer_home_costs_the_same_queries_for_two_or_twelve_participants(
    app, db, count_queries
) -> None:
    programme = make_programme(assignments=3)
    trainer = make_user(Role.TRAINER)
    cohort = make_cohort(programme, trainers=[trainer])
    for _ in range(2):
        make_enrolment(cohort)
    db.session.commit()
    client = app.test_client()
    AuthActions(client).login(trainer.email)

    with count_queries() as two:
        assert client.get("/assessment/").status_code == 200
    for _ in range(10):
        make_enrolment(cohort)
    db.session.commit()
    with count_queries() as twelve:
        assert client.get("/assessment/").status_code == 200
    assert two.count == twelve.count
