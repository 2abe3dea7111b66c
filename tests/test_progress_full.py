"""Full progress (``enrolment_progress``): a hand-built participant with known numbers, the certificate
check, transfers, and the same number of queries for 1 and for 24 enrolments."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import (
    Assignment,
    Attempt,
    ChecklistGroup,
    ChecklistItem,
    ChecklistKind,
    Enrolment,
    EnrolmentStatus,
    Period,
    Programme,
    Role,
    Submission,
)
from lms.services.enrolment import transfer
from lms.services.progress import assignment_progress, enrolment_progress
from lms.services.signoff import revoke, sign_off
from tests.factories import (
    make_approved_submission,
    make_cohort,
    make_enrolment,
    make_handed_in_submission,
    make_user,
)

START = date(2026, 9, 7)  # a Monday; week n's due date is the Friday of that week
TODAY = date(2026, 10, 20)  # Tuesday of week 7
AT = datetime(2026, 10, 1, 12, tzinfo=clock.LOCAL_TZ)


def build_programme(db) -> tuple[Programme, dict[str, Assignment], dict[str, ChecklistItem]]:  # type: ignore[no-untyped-def]
    """Four assignments due in weeks 2, 4, 6 and 8 of a ten-week programme; three technical items
    (required levels 2, 3, 1) and two skills (required 2 and 2). S2 is linked to no assignment."""
    programme = Programme(
        code="HAND",
        version=1,
        title="Handgemaakt",
        level=2,
        duration_weeks=10,
        bpv_hours_target=100,
        training_hours_target=200,
        training_day_hours=6,
        content_hash="h" * 64,
    )
    period = Period(
        programme=programme, code="P1", title="Alles", position=1, start_week=1, end_week=10
    )
    technical = ChecklistGroup(
        programme=programme, kind=ChecklistKind.TECHNICAL, code="TEC", title="Techniek", position=1
    )
    skills = ChecklistGroup(
        programme=programme,
        kind=ChecklistKind.SKILL21,
        code="VAA",
        title="Vaardigheden",
        position=2,
    )
    items = {}
    for position, (code, group, required) in enumerate(
        [
            ("T1", technical, 2),
            ("T2", technical, 3),
            ("T3", technical, 1),
            ("S1", skills, 2),
            ("S2", skills, 2),
        ],
        start=1,
    ):
        items[code] = ChecklistItem(
            programme=programme,
            group=group,
            code=code,
            title=f"Item {code}",
            required_level=required,
            position=position,
        )
    links = {"A1": ["T1", "S1"], "A2": ["T1", "T2"], "A3": ["T3"], "A4": ["S1"]}
    assignments = {}
    for position, (code, linked) in enumerate(links.items(), start=1):
        assignments[code] = Assignment(
            programme=programme,
            period=period,
            code=code,
            title=f"Opdracht {code}",
            instructions="Doen.",
            position=position,
            due_week=2 * position,
            competencies=[items[c] for c in linked],
        )
    db.session.add(programme)
    db.session.flush()
    return programme, assignments, items


@pytest.fixture
def example(db):  # type: ignore[no-untyped-def]
    programme, assignments, items = build_programme(db)
    trainer = make_user(Role.TRAINER)
    cohort = make_cohort(programme, trainers=[trainer], start=START)
    enrolment = make_enrolment(cohort)
    make_approved_submission(enrolment, assignments["A1"], at=AT)
    make_handed_in_submission(enrolment, assignments["A2"], at=AT)
    db.session.add(
        Submission(enrolment=enrolment, assignment=assignments["A3"], attempts=[Attempt(number=1)])
    )

    def sign(code: str, level: int, hours: int = 0):  # type: ignore[no-untyped-def]
        return sign_off(
            enrolment=enrolment,
            item=items[code],
            level=level,
            actor=trainer,
            at=AT + timedelta(hours=hours),
        )

    sign("T1", 2)
    sign("T2", 2)  # below the required 3
    s1 = sign("S1", 3)
    revoke(record=s1, actor=trainer, at=AT + timedelta(hours=1), reason="Te vroeg.")
    sign("S2", 2)
    db.session.flush()
    return {
        "enrolment": enrolment,
        "cohort": cohort,
        "trainer": trainer,
        "assignments": assignments,
        "items": items,
    }


def test_the_hand_built_example_has_the_known_numbers(db, example) -> None:
    enrolment = example["enrolment"]
    progress = enrolment_progress([enrolment], TODAY)[enrolment.id]
    a = progress.assignments
    assert (a.total, a.approved, a.submitted, a.draft, a.needs_revision) == (4, 1, 1, 1, 0)
    assert a.overdue == 1  # A3: a draft, due Friday 16 October
    assert (progress.technical.signed, progress.technical.required) == (1, 3)  # T1 only
    assert (progress.skills.signed, progress.skills.required) == (1, 2)  # S2; S1 was revoked
    # T2 (below level, last chance A2 in week 4) and T3 (not signed, A3 in week 6) are overdue;
    # S1's last assignment A4 is due in week 8, S2 (no assignment) at the end, in week 10.
    assert progress.items_overdue == 2
    assert progress.week == 7
    assert progress.expected_assignments == 3  # A1, A2, A3 were due by 20 October
    assert progress.expected_percent == 75
    assert progress.handed_in == 2
    assert progress.behind is True
    assert progress.certificate_due is False
    # The counts agree with the assignment-only function the home pages use.
    assert assignment_progress([enrolment], TODAY)[enrolment.id] == a


def test_expected_progress_and_overdue_items_move_with_the_day(db, example) -> None:
    enrolment = example["enrolment"]
    early = enrolment_progress([enrolment], date(2026, 9, 30))[
        enrolment.id
    ]  # week 4, before A2's Friday
    assert (early.week, early.expected_assignments, early.behind, early.items_overdue) == (
        4,
        1,
        False,
        0,
    )
    late = enrolment_progress([enrolment], date(2026, 11, 16))[enrolment.id]  # after week 10
    assert late.expected_assignments == 4
    assert late.items_overdue == 3  # T2, T3 and S1 (A4 passed); S2 is signed
    before_start = enrolment_progress([enrolment], date(2026, 9, 1))[enrolment.id]
    assert (before_start.week, before_start.expected_assignments, before_start.behind) == (
        0,
        0,
        False,
    )


def test_the_certificate_is_due_when_everything_is_approved_and_signed(db, example) -> None:
    enrolment, trainer, items = example["enrolment"], example["trainer"], example["items"]
    for submission in db.session.scalars(
        sa.select(Submission).where(Submission.enrolment_id == enrolment.id)
    ):
        if submission.assignment.code == "A2":
            from lms.models import Verdict

            submission.record_verdict(Verdict.APPROVED, AT)
    db.session.delete(
        db.session.scalar(
            sa.select(Submission).where(Submission.assignment_id == example["assignments"]["A3"].id)
        )
    )
    db.session.flush()
    make_approved_submission(enrolment, example["assignments"]["A3"], at=AT)
    make_approved_submission(enrolment, example["assignments"]["A4"], at=AT)
    for code, level in (("T2", 3), ("T3", 4), ("S1", 2)):
        sign_off(
            enrolment=enrolment,
            item=items[code],
            level=level,
            actor=trainer,
            at=AT + timedelta(days=1),
        )
    progress = enrolment_progress([enrolment], TODAY)[enrolment.id]
    assert (progress.assignments.approved, progress.technical.signed, progress.skills.signed) == (
        4,
        3,
        2,
    )
    assert progress.items_overdue == 0 and progress.behind is False
    assert progress.certificate_due is True
    enrolment.status = EnrolmentStatus.COMPLETED
    enrolment.ended_on = TODAY
    assert enrolment_progress([enrolment], TODAY)[enrolment.id].certificate_due is False


def test_sign_offs_before_a_transfer_count_in_the_new_cohort(db, example) -> None:
    programme = example["cohort"].programme
    other = make_cohort(programme, trainers=[make_user(Role.TRAINER)], start=START)
    new = transfer(
        example["enrolment"],
        to_cohort=other,
        on=date(2026, 10, 5),
        reason="Verhuisd.",
        actor=make_user(Role.COORDINATOR),
    )
    progress = enrolment_progress([new], TODAY)[new.id]
    assert (progress.technical.signed, progress.skills.signed) == (1, 1)
    assert progress.assignments.approved == 1  # the submissions moved along


def test_progress_costs_the_same_queries_for_1_and_24_enrolments(
    db, example, count_queries
) -> None:
    programme = example["cohort"].programme
    cohorts = [
        example["cohort"],
        make_cohort(programme, trainers=[example["trainer"]], start=START),
    ]
    trainer, items, assignments = example["trainer"], example["items"], example["assignments"]
    for number in range(23):
        enrolment = make_enrolment(cohorts[number % 2])
        make_approved_submission(enrolment, assignments["A1"], at=AT)
        sign_off(enrolment=enrolment, item=items["T1"], level=2, actor=trainer, at=AT)
    # One of them came by transfer, so a chain is read too.
    moved = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.cohort_id == cohorts[1].id)
    ).first()
    third = make_cohort(programme, trainers=[trainer], start=START)
    transfer(
        moved,
        to_cohort=third,
        on=date(2026, 10, 5),
        reason="Verhuisd.",
        actor=make_user(Role.COORDINATOR),
    )
    db.session.commit()
    everyone = db.session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.status == EnrolmentStatus.ACTIVE)
        .order_by(Enrolment.id)
    ).all()
    assert len(everyone) == 24

    with count_queries() as one:
        enrolment_progress(everyone[:1], TODAY)
    with count_queries() as many:
        result = enrolment_progress(everyone, TODAY)
    assert one.count == many.count
    assert all(p.technical.signed >= 1 and p.assignments.approved >= 1 for p in result.values())


def test_no_enrolments_no_queries(db, count_queries) -> None:
    with count_queries() as none:
        assert enrolment_progress([], TODAY) == {}
    assert none.count == 0
