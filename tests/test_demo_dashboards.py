"""The demo data gives the dashboards something real: reviews (one not yet read by everyone) and
workplace hours (some waiting for the employer), all dated before today."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from lms import clock
from lms.demo import COORDINATOR_EMAIL, load_demo_data
from lms.models import Enrolment, HoursStatus, ProgressReview, Role, User, WorkplaceHours
from tests.factories import PASSWORD

TODAY = date(2026, 11, 20)  # week 11 of the school year 2026-2027


def test_demo_reviews_and_hours(auth, client, db) -> None:
    assert load_demo_data(today=TODAY) is True
    db.session.commit()
    all_reviews = db.session.scalars(sa.select(ProgressReview)).all()
    assert all_reviews and all(r.held_on < TODAY for r in all_reviews)
    assert any(r.fully_acknowledged for r in all_reviews)
    unread = [r for r in all_reviews if r.employer_acknowledged_at is None]
    assert unread
    statuses = set(db.session.scalars(sa.select(WorkplaceHours.status)))
    assert statuses == {HoursStatus.APPROVED, HoursStatus.SUBMITTED}
    assert db.session.scalar(sa.select(sa.func.max(WorkplaceHours.week_start))) < TODAY

    # The employer contact of an unread review sees it on the home page.
    enrolment = db.session.get(Enrolment, unread[0].enrolment_id)
    contact = db.session.scalar(
        sa.select(User).where(User.employer_id == enrolment.employer_id, User.role == Role.EMPLOYER)
    )
    contact.set_password(PASSWORD, method="pbkdf2:sha256:1000")
    db.session.commit()
    auth.login(contact.email)
    with clock.frozen_at(datetime(2026, 11, 20, 9, tzinfo=clock.LOCAL_TZ)):
        page = client.get("/dashboard/employer").get_data(as_text=True)
    assert 'id="reviews-title"' in page and 'id="hours-title"' in page
    assert enrolment.participant.full_name in page
    auth.logout()
    coordinator = db.session.scalar(sa.select(User).where(User.email == COORDINATOR_EMAIL))
    coordinator.set_password(PASSWORD, method="pbkdf2:sha256:1000")
    db.session.commit()
    auth.login(coordinator.email)
    with clock.frozen_at(datetime(2026, 11, 20, 9, tzinfo=clock.LOCAL_TZ)):
        assert client.get("/dashboard/coordinator").status_code == 200
        assert client.get("/reports/programme").status_code == 200
