"""The pages of one person (trainer, participant, employer) cost a fixed number of SQL statements, at
most ten, however much data there is: the same count for a small world and for one grown with more
participants, more work, more sign-offs, hours, reviews and notifications (issue 19)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.extensions import db as _db
from lms.models import Role, Submission, Verdict
from lms.services import assessment, hours, inbox, notifications, signoff
from lms.services.dashboards import first_with_total
from tests.dashboard_world import TODAY, build_world, log_hours, record_review
from tests.factories import make_enrolment, make_handed_in_submission, make_user

MAX_STATEMENTS = 10
AT = TODAY - timedelta(days=3)


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    return build_world()


def _items(world):  # type: ignore[no-untyped-def]
    return {group.kind: group.items for group in world.programme.checklist_groups}


def _work(world, enrolment, participant, *, first: bool, weeks: range, reviews: int) -> None:  # type: ignore[no-untyped-def]
    """``first``: A1 handed in, one week of hours, one review. Later: A1 approved, A2 sent back, A3
    handed in, every checklist item signed off, more weeks and reviews; notifications for everyone
    involved each time."""
    a1, a2, a3 = world.assignments
    if first:
        make_handed_in_submission(enrolment, a1, at=AT)
    else:
        submissions = {
            s.assignment_id: s
            for s in _db.session.scalars(
                sa.select(Submission).where(Submission.enrolment_id == enrolment.id)
            )
        }
        if a1.id not in submissions:
            submissions[a1.id] = make_handed_in_submission(enrolment, a1, at=AT)
        for assignment, verdict in ((a1, Verdict.APPROVED), (a2, Verdict.NEEDS_REVISION)):
            submission = submissions.get(assignment.id) or make_handed_in_submission(
                enrolment, assignment, at=AT
            )
            assessment.assess_submission(
                submission, actor=world.trainer, verdict=verdict, feedback="Goed bezig", at=AT
            )
        make_handed_in_submission(enrolment, a3, at=AT)
        items = [item for group in _items(world).values() for item in group]
        signoff.sign_off_items(
            enrolment=enrolment, items=items, level=3, actor=world.trainer, at=AT
        )
    for week in weeks:
        entry = log_hours(enrolment, participant, date(2026, 9, 7) + timedelta(weeks=week), 32)
        hours.approve_hours(entry, actor=world.contact, at=AT)
    for number in range(reviews):
        record_review(enrolment, world.trainer, f"Gesprek {number + 1}.")
    for user in (participant, world.trainer, world.contact):
        notifications.notify(
            user,
            notifications.REVIEW_RECORDED,
            {},
            "",
            [f"grow:{enrolment.id}:{user.id}:{first}"],
        )


def _grow(world, *, first: bool, participants: int, weeks: int, reviews: int) -> None:  # type: ignore[no-untyped-def]
    with clock.frozen_at(AT):
        for _ in range(participants):
            participant = make_user(Role.PARTICIPANT)
            enrolment = make_enrolment(world.cohort, participant, world.company)
            _work(world, enrolment, participant, first=True, weeks=range(1), reviews=1)
            _work(
                world, enrolment, participant, first=False, weeks=range(1, weeks), reviews=reviews
            )
        done = 0 if first else 1
        _work(
            world,
            world.noel_in,
            world.noel,
            first=first,
            weeks=range(done, done + weeks),
            reviews=reviews,
        )
    _db.session.commit()


PAGES = [
    ("trainer", "/assessment/"),
    ("trainer", "/dashboard/trainer"),
    ("trainer", "/assessment/participants/{noel_in}"),
    ("trainer", "/checklists/enrolments/{noel_in}"),
    ("noel", "/dashboard/participant"),
    ("noel", "/portfolio/"),
    ("noel", "/portfolio/assignments/{a1}"),
    ("noel", "/checklists/mine"),
    ("contact", "/dashboard/employer"),
    ("contact", "/employer/"),
]


@pytest.mark.parametrize(("user", "path"), PAGES)
def test_each_page_of_one_person_costs_the_same_few_statements(
    auth, client, db, world, count_queries, user, path
) -> None:
    path = path.format(noel_in=world.noel_in.id, a1=world.assignments[0].code)
    _grow(world, first=True, participants=1, weeks=1, reviews=1)
    auth.login(getattr(world, user).email)
    with clock.frozen_at(TODAY):
        assert client.get(path).status_code == 200
        with count_queries() as few:
            assert client.get(path).status_code == 200
    _grow(world, first=False, participants=6, weeks=4, reviews=3)
    with clock.frozen_at(TODAY), count_queries() as many:
        assert client.get(path).status_code == 200
    assert few.count == many.count, (few.count, many.count, many.statements)
    assert many.count <= MAX_STATEMENTS, many.statements


def test_the_header_counts_bell_and_queue_in_one_statement(
    auth, client, db, world, count_queries
) -> None:
    """The bell's unread count and the trainer's "Assess (n)" come from one statement per page."""
    _grow(world, first=True, participants=2, weeks=1, reviews=1)
    unread, queue = inbox.unread_count(world.trainer), assessment.queue_count(world.trainer)
    assert unread and queue == 3  # Noël's A1 and the A3 of the two others
    with count_queries() as counter:
        counts = inbox.header_counts(world.trainer)
    assert counter.count == 1
    assert counts == inbox.HeaderCounts(unread=unread, queue=queue)
    # A participant has no queue: the same single statement, the bell's count only.
    assert inbox.unread_count(world.noel) >= 1
    assert inbox.header_counts(world.noel) == inbox.HeaderCounts(
        unread=inbox.unread_count(world.noel), queue=0
    )

    auth.login(world.trainer.email)
    with clock.frozen_at(TODAY), count_queries() as page:
        text = client.get("/assessment/").get_data(as_text=True)
    assert "Beoordelen (3)" in text
    assert f'class="bell__count" aria-hidden="true">{unread}<' in text
    counting = [s for s in page.statements if "notifications" in s or "count(" in s]
    assert len(counting) == 1, counting
    assert "submissions" in counting[0]


def test_first_with_total_gives_the_first_rows_and_the_count_of_all(db, world) -> None:
    _grow(world, first=True, participants=3, weeks=1, reviews=1)
    query = sa.select(Submission).order_by(Submission.id)
    everything = _db.session.scalars(query).all()
    first, total = first_with_total(query, 2)
    assert len(everything) > 2
    assert first == everything[:2] and total == len(everything)
    assert first_with_total(query.where(sa.false()), 2) == ([], 0)
