"""The bell's unread count drops when what a notification asks for has been done: a trainer's "work
waiting to be assessed" once it is assessed, a participant's "read your progress review" once they
confirm it, "improve A1" once A1 is handed in again. The handling service marks them read in its own
transaction; the count itself stays one plain statement."""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from lms import clock
from lms.extensions import db as _db
from lms.models import Notification, Role, Verdict
from lms.services import inbox, notifications
from lms.services.assessment import assess_submission
from lms.services.reminders import ASSESSMENT_WAITING, sweep
from lms.services.reviews import record_review
from tests.factories import (
    make_attendance_recorded,
    make_cohort,
    make_employer,
    make_enrolment,
    make_handed_in_submission,
    make_photo_bytes,
    make_programme,
    make_user,
)

START = date(2026, 9, 7)
HANDED_IN = datetime(2026, 10, 5, 10, tzinfo=clock.LOCAL_TZ)  # a Monday
LATER = datetime(2026, 10, 14, 9, tzinfo=clock.LOCAL_TZ)  # 7 working days later, a Wednesday


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    programme = make_programme(assignments=3)
    trainer = make_user(Role.TRAINER, first_name="Ingrid", last_name="Vaessen")
    cohort = make_cohort(programme, start=START, trainers=[trainer])
    participant = make_user(Role.PARTICIPANT, first_name="Noël", last_name="Çelik")
    enrolment = make_enrolment(cohort, participant, make_employer())
    first, second, _ = programme.assignments
    submissions = [
        make_handed_in_submission(enrolment, assignment, at=HANDED_IN)
        for assignment in (first, second)
    ]
    make_attendance_recorded(cohort)  # the trainer's only reminder is the waiting work
    db.session.commit()
    return {
        "trainer": trainer,
        "participant": participant,
        "enrolment": enrolment,
        "submissions": submissions,
    }


def _bell(client) -> int:  # type: ignore[no-untyped-def]
    page = client.get("/notifications/").get_data(as_text=True)
    match = re.search(r'class="bell__count"[^>]*>([^<]+)<', page)
    return int(match.group(1)) if match else 0


def _assess(auth, submission, verdict: str, feedback: str = ""):  # type: ignore[no-untyped-def]
    return auth.post(
        f"/assessment/submissions/{submission.id}", {"verdict": verdict, "feedback": feedback}
    )


def test_the_trainers_waiting_work_reminder_is_read_once_all_of_it_is_assessed(  # type: ignore[no-untyped-def]
    auth, client, db, world
):
    with clock.frozen_at(LATER):
        sweep(clock.now())
        db.session.commit()
        reminder = db.session.scalar(
            sa.select(Notification).where(Notification.kind == ASSESSMENT_WAITING)
        )
        assert reminder is not None and reminder.user_id == world["trainer"].id
        auth.login(world["trainer"].email)
        assert _bell(client) == 1

        first, second = world["submissions"]
        assert _assess(auth, first, "approved").status_code == 302
        assert _bell(client) == 1  # one of the two is still waiting
        assert _assess(auth, second, "approved").status_code == 302
        assert _bell(client) == 0
    db.session.expire_all()
    assert db.session.get(Notification, reminder.id).read_at is not None


def test_improve_a1_is_read_once_a1_is_handed_in_again(auth, client, db, world):  # type: ignore[no-untyped-def]
    submission = world["submissions"][0]
    with clock.frozen_at(LATER):
        assess_submission(
            submission,
            actor=world["trainer"],
            verdict=Verdict.NEEDS_REVISION,
            feedback="Meet opnieuw.",
            at=clock.now(),
        )
        db.session.commit()
        auth.login(world["participant"].email)
        assert _bell(client) == 1

        code = submission.assignment.code
        # Saving a draft is not yet handing in: the call stays.
        auth.post(f"/portfolio/assignments/{code}", {"what_i_did": "Opnieuw gemeten", "save": "x"})
        assert _bell(client) == 1
        response = auth.post(
            f"/portfolio/assignments/{code}",
            {
                "what_i_did": "Opnieuw gemeten, nu goed.",
                "photo": (io.BytesIO(make_photo_bytes()), "meting.jpg"),
                "hand_in": "Inleveren",
            },
        )
        assert response.status_code == 302
        assert _bell(client) == 0


def test_read_your_review_is_read_once_confirmed(auth, client, db, world):  # type: ignore[no-untyped-def]
    with clock.frozen_at(LATER):
        review = record_review(
            world["enrolment"],
            actor=world["trainer"],
            held_on=LATER.date(),
            summary="Goed bezig.",
            agreements="",
            today=LATER.date(),
        )
        other_user_note = notifications.notify(
            world["participant"], notifications.ASSESSMENT_APPROVED, {}, "/portfolio/"
        )
        db.session.commit()
        auth.login(world["participant"].email)
        assert _bell(client) == 2

        response = auth.post(f"/reviews/{review.id}/acknowledge")
        assert response.status_code == 302
        assert _bell(client) == 1  # the unrelated notification stays unread
    db.session.expire_all()
    assert db.session.get(Notification, other_user_note.id).read_at is None


def test_handled_only_touches_the_kinds_and_the_user_it_is_told(db, world):  # type: ignore[no-untyped-def]
    trainer, participant = world["trainer"], world["participant"]
    subject = notifications.submission_subject(world["submissions"][0].id)
    waiting = notifications.notify(trainer, ASSESSMENT_WAITING, {"items": "x"}, "", [subject])
    improve = notifications.notify(
        participant, notifications.ASSESSMENT_NEEDS_REVISION, {}, "", [subject]
    )
    db.session.commit()

    assert notifications.handled(subject, {ASSESSMENT_WAITING}, at=LATER, user=participant) == 0
    assert notifications.handled(subject, {ASSESSMENT_WAITING}, at=LATER) == 1
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Notification, waiting.id).read_at is not None
    assert db.session.get(Notification, improve.id).read_at is None
    # A repeat changes nothing.
    assert notifications.handled(subject, {ASSESSMENT_WAITING}, at=LATER) == 0


def test_the_unread_count_is_one_statement(db, world, count_queries):  # type: ignore[no-untyped-def]
    notifications.notify(
        world["participant"], notifications.REVIEW_RECORDED, {}, "", ["review:1", "review:2"]
    )
    db.session.commit()
    participant = db.session.get(type(world["participant"]), world["participant"].id)
    with count_queries() as counter:
        assert inbox.unread_count(participant) == 1
    assert counter.count == 1


def _unread(user, kind: str) -> int:  # type: ignore[no-untyped-def]
    query = inbox.notifications_of(user).where(
        Notification.kind == kind, Notification.read_at.is_(None)
    )
    return len(_db.session.scalars(query).all())


def test_hours_sent_back_are_read_once_the_participant_corrects_them(db, world):  # type: ignore[no-untyped-def]
    from lms.services import hours

    participant = world["participant"]
    enrolment = world["enrolment"]
    contact = make_user(Role.EMPLOYER, employer=enrolment.employer)
    week = date(2026, 10, 5)
    with clock.frozen_at(LATER):
        logged = dict(actor=participant, week_start=week, note="", today=LATER.date())
        entry = hours.log_hours(enrolment, hours_worked=38, hours_learning=8, **logged)
        hours.send_back_hours(entry, actor=contact, remark="Dinsdag was je vrij.")
        db.session.commit()
        assert _unread(participant, notifications.HOURS_RETURNED) == 1

        hours.log_hours(enrolment, hours_worked=30, hours_learning=8, **logged)
        db.session.commit()
    assert _unread(participant, notifications.HOURS_RETURNED) == 0


def test_not_carried_out_is_read_by_the_trainer_once_assessed_and_by_the_participant_once_revised(  # type: ignore[no-untyped-def]
    auth, client, db, world
):
    from lms.services import workplace

    participant, trainer = world["participant"], world["trainer"]
    submission = world["submissions"][0]
    submission.assignment.requires_workplace_confirmation = True
    contact = make_user(Role.EMPLOYER, employer=world["enrolment"].employer)
    db.session.commit()
    with clock.frozen_at(LATER):
        workplace.deny_workplace(
            submission, actor=contact, remark="Niet bij ons gedaan.", at=clock.now()
        )
        db.session.commit()
        assert _unread(trainer, notifications.WORKPLACE_NOT_CARRIED_OUT_TRAINER) == 1
        assert _unread(participant, notifications.WORKPLACE_NOT_CARRIED_OUT) == 1

        assess_submission(
            submission,
            actor=trainer,
            verdict=Verdict.NEEDS_REVISION,
            feedback="Doe het op de werkplek.",
            at=clock.now(),
        )
        db.session.commit()
        assert _unread(trainer, notifications.WORKPLACE_NOT_CARRIED_OUT_TRAINER) == 0
        assert _unread(participant, notifications.WORKPLACE_NOT_CARRIED_OUT) == 1

        auth.login(participant.email)
        response = auth.post(
            f"/portfolio/assignments/{submission.assignment.code}",
            {
                "what_i_did": "Nu op de werkplek gedaan.",
                "photo": (io.BytesIO(make_photo_bytes()), "werkplek.jpg"),
                "hand_in": "Inleveren",
            },
        )
        assert response.status_code == 302
    db.session.expire_all()
    assert _unread(participant, notifications.WORKPLACE_NOT_CARRIED_OUT) == 0
