"""Workplace (BPV) hours: the participant logs a week, the employer's contact approves it or sends it
back; approved hours count toward the programme's target, shown to all three."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import AuditEvent, HoursStatus, Notification, OutboxMessage, WorkplaceHours
from lms.services import hours
from lms.services.progress import hours_progress
from tests.dashboard_world import TODAY, build_world


@pytest.fixture
def world(db):
    return build_world()


def _log(world, week=date(2026, 10, 21), worked=32.0, learning=6.5, note=""):
    return hours.log_hours(
        world.noel_in,
        actor=world.noel,
        week_start=week,
        hours_worked=worked,
        hours_learning=learning,
        note=note,
        today=TODAY.date(),
    )


def test_a_week_is_stored_on_its_monday_and_the_contact_gets_a_link(db, world) -> None:
    entry = _log(world)
    assert entry.week_start == date(2026, 10, 19)
    assert entry.status is HoursStatus.SUBMITTED
    mails = db.session.scalars(sa.select(OutboxMessage)).all()
    assert [m.recipient for m in mails] == [world.contact.email]
    assert "/l/" in mails[0].body_text and "32" in mails[0].body_text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"week": date(2026, 11, 2)}, "latere"),
        ({"week": date(2026, 8, 31)}, "vóór de start"),
        ({"worked": 61}, "tussen 0 en 60"),
        ({"worked": 8, "learning": 9}, "niet meer zijn"),
    ],
)
def test_the_rules_refuse_wrong_hours(db, world, fields, message) -> None:
    with pytest.raises(hours.HoursError, match=message):
        _log(world, **fields)


def test_a_week_logged_again_replaces_it_until_it_is_approved(db, world) -> None:
    first = _log(world, worked=30)
    again = _log(world, worked=34)
    assert again.id == first.id and again.hours_worked == 34
    hours.approve_hours(again, actor=world.contact, at=clock.now())
    with pytest.raises(hours.HoursError, match="al goedgekeurd"):
        _log(world, worked=36)


def test_sending_back_needs_a_remark_and_tells_the_participant(db, world) -> None:
    entry = _log(world)
    with pytest.raises(hours.HoursError):
        hours.send_back_hours(entry, actor=world.contact, remark="  ")
    hours.send_back_hours(entry, actor=world.contact, remark="Dinsdag was je vrij.")
    assert entry.status is HoursStatus.RETURNED and entry.employer_remark == "Dinsdag was je vrij."
    assert (
        db.session.scalar(sa.select(Notification.kind).where(Notification.user_id == world.noel.id))
        == "hours_returned"
    )
    corrected = _log(world, worked=24)
    assert corrected.status is HoursStatus.SUBMITTED


def test_only_the_own_employers_contact_decides(db, world) -> None:
    entry = _log(world)
    for outsider in (world.other_contact, world.trainer, world.noel):
        with pytest.raises(hours.HoursError):
            hours.approve_hours(entry, actor=outsider, at=clock.now())
    with pytest.raises(hours.HoursError):
        hours.log_hours(
            world.noel_in,
            actor=world.bram,
            week_start=date(2026, 10, 19),
            hours_worked=1,
            hours_learning=0,
            note="",
            today=TODAY.date(),
        )


def test_hours_progress_counts_approved_hours_against_the_target(db, world) -> None:
    # Week 8 on 30 October: seven weeks done of 40, 610 hours: 106.8 expected by now.
    a = _log(world, week=date(2026, 10, 12), worked=32, learning=4)
    _log(world, week=date(2026, 10, 19), worked=30.5, learning=2)
    b = _log(world, week=date(2026, 10, 26), worked=20, learning=1)
    hours.approve_hours(a, actor=world.contact, at=clock.now())
    hours.approve_hours(b, actor=world.contact, at=clock.now())
    result = hours_progress([world.noel_in, world.bram_in], TODAY.date())
    noel = result[world.noel_in.id]
    assert (noel.target, noel.approved, noel.waiting, noel.learning) == (610, 52.0, 30.5, 5.0)
    assert noel.expected == 106.8
    assert noel.percent == 9 and noel.behind
    assert result[world.bram_in.id].approved == 0


def test_the_whole_flow_through_the_pages(auth, client, db, world) -> None:
    auth.login(world.noel.email)
    with clock.frozen_at(TODAY):
        page = client.get("/hours/").get_data(as_text=True)
        assert 'value="2026-10-26"' in page  # this week's Monday is filled in
        page = auth.post(
            "/hours/", {"week_start": "2026-10-21", "hours_worked": "61", "hours_learning": "2"}
        ).get_data(as_text=True)
        assert "Vul een aantal uren in van 0 tot en met 60." in page and 'value="61"' in page
        response = auth.post(
            "/hours/",
            {
                "week_start": "2026-10-21",
                "hours_worked": "32,5",
                "hours_learning": "4",
                "note": "Draaibank",
            },
        )
    assert response.status_code == 302
    entry = db.session.scalar(sa.select(WorkplaceHours))
    assert entry.hours_worked == 32.5
    auth.logout()

    auth.login(world.other_contact.email)
    assert "Çelik" not in client.get("/hours/to-approve").get_data(as_text=True)
    assert auth.post(f"/hours/{entry.id}/decide", {"approve": "1"}).status_code == 404
    assert client.get(f"/hours/enrolments/{world.noel_in.id}").status_code == 404
    auth.logout()

    auth.login(world.contact.email)
    page = client.get("/hours/to-approve").get_data(as_text=True)
    assert "Noël Çelik" in page and "32,5" in page
    response = auth.post(f"/hours/{entry.id}/decide", {"approve": "1", "remark": ""})
    assert response.status_code == 302
    db.session.expire_all()
    entry = db.session.get(WorkplaceHours, entry.id)
    assert entry.status is HoursStatus.APPROVED and entry.approved_by_id == world.contact.id
    assert (
        db.session.scalar(
            sa.select(AuditEvent.actor_id).where(AuditEvent.action == "hours.approve")
        )
        == world.contact.id
    )
    auth.logout()

    auth.login(world.trainer.email)
    with clock.frozen_at(TODAY):
        page = client.get(f"/hours/enrolments/{world.noel_in.id}").get_data(as_text=True)
    assert "32,5 van 610 BPV-uren goedgekeurd" in page


# --- several weeks at once (issue 18) ----------------------------------------------------------


def _three_weeks(world):
    return [
        _log(world, week=day)
        for day in (date(2026, 10, 12), date(2026, 10, 19), date(2026, 10, 26))
    ]


def test_several_weeks_are_approved_at_once_and_a_repeat_is_done(db, world) -> None:
    weeks = _three_weeks(world)
    approved = hours.approve_weeks(weeks[:2], actor=world.contact, at=clock.now())
    assert [entry.status for entry in approved] == [HoursStatus.APPROVED] * 2
    again = hours.approve_weeks(weeks, actor=world.contact, at=clock.now())
    assert len(again) == 3 and all(entry.is_approved for entry in weeks)
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "hours.approve")
        )
        == 3
    )


def test_a_refused_week_is_named_in_the_message(app, db, world) -> None:
    weeks = _three_weeks(world)
    hours.send_back_hours(weeks[1], actor=world.contact, remark="Dinsdag was je vrij.")
    with app.test_request_context(), pytest.raises(hours.HoursError) as refused:
        hours.approve_weeks(weeks, actor=world.contact, at=clock.now())
    assert str(refused.value).startswith("Week 7 (19–23 okt 2026): ")
    with (
        app.test_request_context(),
        pytest.raises(hours.HoursError, match=r"^Week 6 \(12–16 okt 2026\)"),
    ):
        hours.approve_weeks(weeks[:1], actor=world.other_contact, at=clock.now())


def test_the_contact_ticks_weeks_on_the_page_and_approves_them_with_one_button(
    auth, client, db, world
) -> None:
    weeks = _three_weeks(world)
    ids = [entry.id for entry in weeks]
    db.session.commit()
    auth.login(world.contact.email)
    page = client.get("/hours/to-approve").get_data(as_text=True)
    assert 'action="/hours/approve-weeks"' in page and "Alles selecteren" in page
    assert "Noël Çelik · Week 8 (26–30 okt 2026) · 32 uur" in page
    assert "js/select-all.js" in page

    response = auth.post("/hours/approve-weeks", {"weeks": [ids[0], ids[2]]}, follow_redirects=True)
    assert "Goedgekeurd: 2 weken uren." in response.get_data(as_text=True)
    db.session.expire_all()
    assert [db.session.get(WorkplaceHours, i).status for i in ids] == [
        HoursStatus.APPROVED,
        HoursStatus.SUBMITTED,
        HoursStatus.APPROVED,
    ]
    # The same form again: nothing changes, the answer is the same success.
    response = auth.post("/hours/approve-weeks", {"weeks": [ids[0], ids[2]]}, follow_redirects=True)
    assert "Goedgekeurd: 2 weken uren." in response.get_data(as_text=True)

    # "Select all" without JavaScript: every week the page listed.
    response = auth.post(
        "/hours/approve-weeks",
        {"select_all": "y", "shown": [ids[1]], "next": "enrolment"},
    )
    assert response.headers["Location"] == f"/hours/enrolments/{world.noel_in.id}"
    db.session.expire_all()
    assert db.session.get(WorkplaceHours, ids[1]).is_approved

    response = auth.post("/hours/approve-weeks", {}, follow_redirects=True)
    assert "Vink minstens één week aan" in response.get_data(as_text=True)


def test_one_refused_week_approves_none_and_names_the_week(auth, client, db, world) -> None:
    weeks = _three_weeks(world)
    hours.send_back_hours(weeks[2], actor=world.contact, remark="Te veel uren.")
    ids = [entry.id for entry in weeks]
    db.session.commit()
    auth.login(world.contact.email)
    page = auth.post("/hours/approve-weeks", {"weeks": ids}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Week 8 (26–30 okt 2026): " in page
    db.session.expire_all()
    assert not any(db.session.get(WorkplaceHours, i).is_approved for i in ids)
    auth.logout()

    auth.login(world.other_contact.email)
    assert auth.post("/hours/approve-weeks", {"weeks": ids[:1]}).status_code == 404
    assert auth.post("/hours/approve-weeks", {"weeks": "abc"}).status_code == 302


def test_the_employees_hours_page_offers_the_waiting_weeks_at_once(auth, client, db, world) -> None:
    _three_weeks(world)
    db.session.commit()
    auth.login(world.contact.email)
    page = client.get(f"/hours/enrolments/{world.noel_in.id}").get_data(as_text=True)
    assert page.count('name="weeks"') == 3 and 'name="next" value="enrolment"' in page
    auth.logout()
    auth.login(world.trainer.email)
    page = client.get(f"/hours/enrolments/{world.noel_in.id}").get_data(as_text=True)
    assert 'name="weeks"' not in page
