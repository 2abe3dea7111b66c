"""A company's recognition as a learning company (issue 21, part 1): recorded by the coordinator with
the day it was checked, shown on the company's page, and missing ones named on the cohort page."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import AuditEvent, Employer, Role
from lms.services import people
from lms.services.people import EmployerData, PeopleError
from tests.factories import make_cohort, make_employer, make_enrolment, make_user

TODAY = datetime(2026, 12, 8, 12, tzinfo=clock.LOCAL_TZ)


@pytest.fixture
def coordinator(db):  # type: ignore[no-untyped-def]
    user = make_user(Role.COORDINATOR)
    db.session.commit()
    return user


def data(employer: Employer, number: str = "", checked_on: date | None = None) -> EmployerData:
    return EmployerData(
        name=employer.name,
        kvk_number=employer.kvk_number,
        region=employer.region,
        recognition_number=number,
        recognition_checked_on=checked_on,
    )


def test_the_recognition_is_stored_with_its_day_and_audited(db, coordinator) -> None:
    employer = make_employer(name="Kerkrade Precisie B.V.")
    assert not employer.is_recognised
    with clock.frozen_at(TODAY):
        changes = people.update_employer(
            employer, data(employer, " 100 234 567 ", date(2026, 12, 1)), actor=coordinator
        )
    assert (employer.recognition_number, employer.recognition_checked_on) == (
        "100234567",
        date(2026, 12, 1),
    )
    assert employer.is_recognised
    assert changes["recognition_number"] == ["", "100234567"]
    [event] = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "employer.update")
    ).all()
    assert event.details["changes"]["recognition_checked_on"] == ["None", "2026-12-01"]


@pytest.mark.parametrize(
    ("number", "checked_on", "field", "message"),
    [
        ("10023A567", date(2026, 12, 1), "recognition_number", "alleen uit cijfers"),
        ("1234567890123", date(2026, 12, 1), "recognition_number", "alleen uit cijfers"),
        ("100234567", None, "recognition_checked_on", "Vul de dag in"),
        ("", date(2026, 12, 1), "recognition_number", "Vul het erkenningsnummer in"),
        ("100234567", date(2026, 12, 9), "recognition_checked_on", "toekomst"),
    ],
    ids=["a letter", "too long", "no day", "no number", "a day to come"],
)
def test_a_recognition_the_rules_refuse_says_why_at_its_field(
    db, coordinator, number, checked_on, field, message
) -> None:
    employer = make_employer()
    with clock.frozen_at(TODAY), pytest.raises(PeopleError, match=message) as refused:
        people.update_employer(employer, data(employer, number, checked_on), actor=coordinator)
    assert refused.value.field == field


def test_the_coordinator_records_it_on_the_form_and_the_cohort_page_warns_until_then(
    auth, client, db, coordinator
) -> None:
    employer = make_employer(name="Kerkrade Precisie B.V.", kvk_number="14093527")
    cohort = make_cohort(name="Parkstad 2026-2027")
    make_enrolment(cohort, make_user(Role.PARTICIPANT), employer)
    db.session.commit()
    with clock.frozen_at(TODAY):  # logged in on that day too: the session stays fresh
        auth.login(coordinator.email)
        page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
        assert "Er is geen erkenning als leerbedrijf vastgelegd" in page
        assert f'href="/people/employers/{employer.id}/edit">Kerkrade Precisie B.V.</a>' in page

        form = {"name": employer.name, "kvk_number": "14093527", "region": "parkstad"}
        refused = auth.post(
            f"/people/employers/{employer.id}/edit", {**form, "recognition_number": "100234567"}
        )
        assert refused.status_code == 200
        text = refused.get_data(as_text=True)
        assert "Vul de dag in waarop je de erkenning" in text and 'value="100234567"' in text
        saved = auth.post(
            f"/people/employers/{employer.id}/edit",
            {**form, "recognition_number": "100234567", "recognition_checked_on": "2026-12-01"},
            follow_redirects=True,
        )
        assert "nummer 100234567, gecontroleerd op 1 dec 2026" in saved.get_data(as_text=True)
        page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
        assert "Er is geen erkenning als leerbedrijf vastgelegd" not in page
