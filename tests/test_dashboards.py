"""The home pages and reports: each one's figures on a hand-built example, the employer's isolation,
the programme report as page, CSV and PDF, the charts, and constant query counts."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from pypdf import PdfReader

from lms import clock
from lms.extensions import db as _db
from lms.models import (
    AbsenceReason,
    AttendanceStatus,
    Certificate,
    EnrolmentStatus,
    IntakeType,
    Role,
    Verdict,
)
from lms.services import assessment, attendance, dashboards, progress, reviews
from lms.services.attendance import Mark
from lms.services.progress import RiskReason, enrolment_progress, risk_reasons
from tests.dashboard_world import TODAY, build_world, log_hours, record_review
from tests.factories import (
    make_approved_submission,
    make_cohort,
    make_enrolment,
    make_handed_in_submission,
    make_user,
)

HANDED_IN_AT = datetime(2026, 10, 20, 10, tzinfo=clock.LOCAL_TZ)
_certificates = iter(range(1, 10_000))


def _certificate(enrolment, issuer, revoked=False):
    n = next(_certificates)
    certificate = Certificate(
        enrolment=enrolment,
        number=f"VK-2027-PK-{n:04d}",
        verification_code=f"code{n}",
        issued_at=clock.now(),
        issued_by_id=issuer.id,
        pdf_storage_key=f"certificates/{n}.pdf",
        pdf_sha256="0" * 64,
    )
    if revoked:
        certificate.revoked_at = clock.now()
        certificate.revoked_by_id = issuer.id
        certificate.revocation_reason = "Fout"
    _db.session.add(certificate)
    _db.session.flush()
    # A raw row: the summary (which names the valid certificate) is refreshed as the services do.
    progress.refresh_summaries([certificate.enrolment_id])
    return certificate


@pytest.fixture
def world(db):
    """Noël handed in A1 (waiting) and A2 (approved) on 20 October; Bram did nothing."""
    world = build_world()
    a1, a2, _ = world.assignments
    with clock.frozen_at(HANDED_IN_AT):
        make_handed_in_submission(world.noel_in, a1, at=HANDED_IN_AT)
        make_approved_submission(world.noel_in, a2, at=HANDED_IN_AT)
    db.session.commit()
    return world


def test_risk_reasons_on_a_hand_built_example(db, world) -> None:
    enrolments = [world.noel_in, world.bram_in]
    today = TODAY.date()
    progress = enrolment_progress(enrolments, today)
    reasons = risk_reasons(enrolments, progress, today)
    assert reasons[world.noel_in.id] == []
    assert reasons[world.bram_in.id] == [
        RiskReason.BEHIND,
        RiskReason.OVERDUE,
        RiskReason.INACTIVE,
    ]
    # Seventeen days after Noël's last hand-in he counts as inactive; logging hours is activity.
    later = date(2026, 11, 6)
    assert RiskReason.INACTIVE in risk_reasons(enrolments, progress, later)[world.noel_in.id]
    with clock.frozen_at(datetime(2026, 11, 2, 9, tzinfo=clock.LOCAL_TZ)):
        log_hours(world.noel_in, world.noel, date(2026, 10, 26), 32, today=date(2026, 11, 2))
    progress = enrolment_progress(enrolments, later)
    assert RiskReason.INACTIVE not in risk_reasons(enrolments, progress, later)[world.noel_in.id]
    # Before the start nobody is at risk.
    early = enrolment_progress(enrolments, date(2026, 9, 1))
    assert risk_reasons(enrolments, early, date(2026, 9, 1))[world.bram_in.id] == []


def test_the_trainer_home(auth, client, db, world) -> None:
    auth.login(world.trainer.email)
    with clock.frozen_at(TODAY):
        page = client.get("/dashboard/trainer").get_data(as_text=True)
    risk = page[page.index('id="risk-title"') : page.index('id="reviews-title"')]
    assert "Bram van der Heijden" in risk and "Noël Çelik" not in risk
    assert "Achter op schema" in risk and "2 opdrachten over de inleverdatum" in risk
    assert "Niet actief" in risk
    queue = page[page.index('id="queue-title"') : page.index('id="risk-title"')]
    assert "Opdracht 1" in queue and "Opdracht 2" not in queue  # A2 is already approved
    assert "De komende drie weken hoeft er geen voortgangsgesprek te zijn." in page
    assert f'href="/checklists/cohorts/{world.cohort.id}"' in page
    assert f'href="/checklists/enrolments/{world.noel_in.id}"' in page
    assert "Sanne" not in page and "Westelijke Mijnstreek 2026-2027" not in page
    # Three weeks before 30 November, both participants' first review comes up.
    with clock.frozen_at(datetime(2026, 11, 12, 12, tzinfo=clock.LOCAL_TZ)):
        page = client.get("/dashboard/trainer").get_data(as_text=True)
    upcoming = page[page.index('id="reviews-title"') :]
    assert "gesprek uiterlijk op 30 nov 2026" in upcoming
    assert "Noël Çelik" in upcoming and "Bram van der Heijden" in upcoming


def test_the_trainer_home_filters_one_cohort(auth, client, db, world) -> None:
    second = make_cohort(world.programme, name="Parkstad voorjaar", trainers=[world.trainer])
    make_enrolment(second, make_user(Role.PARTICIPANT, first_name="Eva", last_name="Smeets"))
    db.session.commit()
    auth.login(world.trainer.email)
    with clock.frozen_at(TODAY):
        everything = client.get("/dashboard/trainer").get_data(as_text=True)
        one = client.get(f"/dashboard/trainer?cohort={second.id}").get_data(as_text=True)
    assert "Eva Smeets" in everything and "Bram van der Heijden" in everything
    assert "Eva Smeets" in one and "Bram van der Heijden" not in one


def test_a_trainer_of_many_cohorts_sees_a_line_per_cohort_and_chooses_one(
    auth, client, db, world
) -> None:
    # Four more cohorts of ten: 42 participants in view, more than the home lists one by one.
    extra = []
    for number in range(4):
        cohort = make_cohort(world.programme, name=f"Heuvelland {number}", trainers=[world.trainer])
        extra.append(cohort)
        for person in range(10):
            make_enrolment(
                cohort, make_user(Role.PARTICIPANT, first_name=f"Deelnemer{number}x{person}")
            )
    db.session.commit()
    auth.login(world.trainer.email)
    with clock.frozen_at(TODAY):
        page = client.get("/dashboard/trainer").get_data(as_text=True)
        chosen = client.get(f"/dashboard/trainer?cohort={extra[0].id}").get_data(as_text=True)
    lines = page[page.index('id="cohorts-title"') :]
    assert "Mijn groepen" in lines and "Kies een groep om al haar deelnemers te zien." in lines
    assert f'href="/dashboard/trainer?cohort={extra[0].id}"' in lines
    assert "Deelnemer0x1" not in lines  # no table of every participant
    # Nobody of the new cohorts did anything in the weeks since the start: all 40 are at risk, and
    # the list shows ten of them and says how many more there are.
    risk = page[page.index('id="risk-title"') : page.index('id="reviews-title"')]
    assert risk.count('class="risk"') == 10
    with clock.frozen_at(TODAY):
        at_risk = dashboards.trainer_home(world.trainer, TODAY.date()).at_risk_count
    assert at_risk > 40
    assert f"En nog {at_risk - 10}. Kies hierboven een groep" in risk
    # One cohort chosen: each of its participants in a table.
    assert 'id="cohorts-title"' not in chosen
    assert "Deelnemer0x1" in chosen and "Deelnemer1x1" not in chosen


def test_the_many_cohorts_home_lists_what_the_rules_say_in_sql(db, world) -> None:
    """Beyond LIST_PARTICIPANTS_UP_TO the home selects the first at risk and the first reviews due in
    SQL; they must be those the Python rules (``risk_reasons``, ``due_reviews``) give over every
    participant, in the same order, with the same totals."""
    for number in range(4):
        cohort = make_cohort(
            world.programme,
            name=f"Maastricht {number}",
            trainers=[world.trainer],
            start=date(2026, 8, 31) + timedelta(weeks=number),
        )
        for person in range(10):
            enrolment = make_enrolment(
                cohort,
                make_user(Role.PARTICIPANT, first_name=f"P{number}{person}", last_name="Smeets"),
                enrolled_on=cohort.start_date + timedelta(days=person * 3),
            )
            if person % 3 == 0:  # some did their work, some had a review
                make_handed_in_submission(enrolment, world.assignments[0])
            if person % 4 == 1:
                reviews.record_review(
                    enrolment,
                    actor=world.trainer,
                    held_on=enrolment.enrolled_on + timedelta(days=person),
                    summary="Gesprek",
                    agreements="",
                    today=TODAY.date(),
                )
    db.session.commit()
    counted = []
    for today in (date(2026, 9, 20), date(2026, 11, 12), date(2026, 12, 10), date(2027, 2, 1)):
        home = dashboards.trainer_home(world.trainer, today)
        assert not home.lists_participants
        everyone = dashboards.cohort_participants(home.cohorts, today)
        shown = everyone.enrolments
        reasons = risk_reasons(shown, everyone.progress, today)
        at_risk = [e for e in shown if reasons[e.id]]
        assert home.at_risk_count == len(at_risk)
        assert [row.enrolment for row in home.at_risk] == at_risk[: dashboards.LIST_ITEMS_ON_HOME]
        assert all(row.reasons == reasons[row.enrolment.id] for row in home.at_risk)
        due = reviews.due_reviews(shown, today)
        assert home.reviews_due_count == len(due)
        assert home.reviews_due == due[: dashboards.LIST_ITEMS_ON_HOME]
        assert sum(line.participants for line in home.cohort_lines) == len(shown)
        counted.append((home.at_risk_count, home.reviews_due_count))
    # The days chosen show a few and more than the home lists.
    shows = dashboards.LIST_ITEMS_ON_HOME
    assert any(0 < at_risk <= shows for at_risk, _ in counted)
    assert any(at_risk > shows for at_risk, _ in counted)
    assert any(due == 0 for _, due in counted) and any(due > shows for _, due in counted)


def test_the_participant_home(auth, client, db, world) -> None:
    review = record_review(
        world.noel_in,
        world.trainer,
        "Je meet al veel nauwkeuriger.",
        "Volgende keer de micrometer.",
    )
    submission = (
        world.noel_in
        and _db.session.scalars(
            _db.select(assessment.Submission).where(
                assessment.Submission.enrolment_id == world.noel_in.id,
                assessment.Submission.status == "submitted",
            )
        ).one()
    )
    assessment.assess_submission(
        submission,
        actor=world.trainer,
        verdict=Verdict.NEEDS_REVISION,
        feedback="Voeg een foto van de meting toe.",
        at=clock.now(),
    )
    db.session.commit()
    auth.login(world.noel.email)
    with clock.frozen_at(TODAY):
        page = client.get("/dashboard/participant").get_data(as_text=True)
    assert "Week 8 van 40 van je opleiding." in page
    # A1 now needs revision, so only A2 counts as handed in of the two that are due.
    assert "van de 2 opdrachten die nu klaar moesten zijn, heb je er 1 ingeleverd" in page
    assert "Opdracht 3" in page and "inleveren op 6 nov 2026" in page
    assert "Je meet al veel nauwkeuriger." in page and "Volgende keer de micrometer." in page
    assert "Voeg een foto van de meting toe." in page
    assert "1 voortgangsgesprek om te lezen" in page
    assert '<svg class="chart"' in page and 'role="img"' in page
    assert "stroke-dasharray" in page  # the expected line differs by pattern, not only colour
    assert "Jij: 33%" in page  # one of three assignments handed in, shown as a number
    reviews.acknowledge(review, actor=world.noel, at=clock.now())
    db.session.commit()
    with clock.frozen_at(TODAY):
        page = client.get("/dashboard/participant").get_data(as_text=True)
    assert "voortgangsgesprek om te lezen" not in page


def test_the_employer_home_shows_own_employees_across_cohorts_only(auth, client, db, world) -> None:
    record_review(world.bram_in, world.trainer, "Gesprek met Bram")
    record_review(world.noel_in, world.trainer, "Gesprek met Noël")
    log_hours(world.noel_in, world.noel, date(2026, 10, 19), 32)
    log_hours(world.bram_in, world.bram, date(2026, 10, 19), 38)
    _certificate(world.sanne_in, world.coordinator)
    _certificate(world.bram_in, world.coordinator)
    _certificate(world.noel_in, world.coordinator, revoked=True)
    db.session.commit()
    auth.login(world.contact.email)
    with clock.frozen_at(TODAY):
        page = client.get("/dashboard/employer").get_data(as_text=True)
    assert "Noël Çelik" in page and "Sanne Kurvers" in page  # two cohorts
    assert "Bram" not in page and "Gesprek met Bram" not in page
    assert "Westelijke Mijnstreek 2026-2027" in page  # Sanne's cohort
    reviews_part = page[page.index('id="reviews-title"') : page.index('id="hours-title"')]
    assert "Noël Çelik" in reviews_part
    hours_part = page[page.index('id="hours-title"') :]
    assert "32 uur" in hours_part and "38 uur" not in page
    certificates = page[page.index('id="certificates-title"') :]
    assert "Sanne Kurvers" in certificates and "Noël Çelik" not in certificates  # revoked
    assert "Op schema" in page
    # Search and pages.
    with clock.frozen_at(TODAY):
        found = client.get("/dashboard/employer?q=sanne").get_data(as_text=True)
    employees = found[found.index("<h2>Mijn werknemers</h2>") :]
    assert "Sanne Kurvers" in employees and "Noël Çelik" not in employees


def test_the_coordinator_overview_per_region_and_cohort(auth, client, db, world) -> None:
    gone = make_enrolment(world.cohort, make_user(Role.PARTICIPANT))
    gone.status = EnrolmentStatus.WITHDRAWN
    gone.ended_on = date(2026, 10, 1)
    done = make_enrolment(world.cohort, make_user(Role.PARTICIPANT))
    done.status = EnrolmentStatus.COMPLETED
    done.ended_on = date(2026, 10, 1)
    progress.refresh_summaries([gone, done])  # raw changes: the services would have done this
    db.session.commit()
    auth.login(world.coordinator.email)
    with clock.frozen_at(TODAY):
        page = client.get("/dashboard/coordinator").get_data(as_text=True)
    parkstad = page[
        page.index('id="region-parkstad"') : page.index('id="region-westelijke_mijnstreek"')
    ]
    # Seats: Noël, Bram and the completed one; withdrawn frees the seat.
    assert "Plaatsen bezet: 3 van 12 · risico: 1 · afgerond: 1 · gestopt: 1" in parkstad
    # Of six assignments one is approved (17%); four were due by now (67%).
    assert "17%" in parkstad and "verwacht 67%" in parkstad
    westelijk = page[page.index('id="region-westelijke_mijnstreek"') :]
    assert "Plaatsen bezet: 1 van 12 · risico: 1" in westelijk
    assert "Geen groepen in deze regio." in page  # Maastricht-Heuvelland
    with clock.frozen_at(TODAY):
        filtered = client.get("/dashboard/coordinator?region=parkstad").get_data(as_text=True)
    assert 'id="region-westelijke_mijnstreek"' not in filtered


@pytest.fixture
def report_world(world, db):
    """Bram joined as an employee already at the SME; Sanne moved to Noël's cohort (counted once);
    Noël completed with a certificate; a cohort of the year before adds one more participant."""
    world.bram_in.intake_type = IntakeType.EMPLOYED
    world.sanne_in.status = EnrolmentStatus.TRANSFERRED
    world.sanne_in.ended_on = date(2026, 10, 1)
    sanne_now = make_enrolment(
        world.cohort,
        world.sanne,
        world.company,
        transferred_from=world.sanne_in,
        enrolled_on=date(2026, 10, 2),
    )
    world.noel_in.status = EnrolmentStatus.COMPLETED
    world.noel_in.ended_on = date(2026, 10, 20)
    _certificate(world.noel_in, world.coordinator)
    old = make_cohort(world.programme, name="Parkstad 2025-2026", start=date(2025, 9, 1))
    make_enrolment(old, make_user(Role.PARTICIPANT))
    # Two training days (Mondays): five marks, of which four attended (late counts): 80 %.
    present, late = Mark(AttendanceStatus.PRESENT), Mark(AttendanceStatus.LATE)
    truant = Mark(AttendanceStatus.ABSENT, AbsenceReason.UNAUTHORISED)
    for day, marks in [
        (date(2026, 9, 7), {world.noel_in.id: present, world.bram_in.id: present}),
        (
            date(2026, 10, 5),
            {world.noel_in.id: present, world.bram_in.id: truant, sanne_now.id: late},
        ),
    ]:
        attendance.record_attendance(
            world.cohort, day, marks, actor=world.trainer, at=TODAY, today=TODAY.date()
        )
    db.session.commit()
    return world


def test_the_programme_report_page(auth, client, report_world) -> None:
    auth.login(report_world.coordinator.email)
    page = client.get("/reports/programme?year=2026").get_data(as_text=True)
    assert "Schooljaar 2026-2027" in page
    row = page[page.index(">Parkstad<") : page.index(">Westelijke Mijnstreek<")]
    cells = [cell.split(">")[-1] for cell in row.split("</td>")[:-1]]
    # participants, side-entrants, employed, completions, withdrawals, certificates, employers,
    # attendance on the training days
    assert cells == ["3", "2", "1", "1", "0", "1", "2", "80%"]
    everything = client.get("/reports/programme").get_data(as_text=True)
    total = everything[everything.index(">Totaal<") :]
    assert [c.split(">")[-1] for c in total.split("</td>")[:7]][0] == "4"


def test_the_programme_report_as_csv_opens_with_the_csv_module(auth, client, report_world) -> None:
    auth.login(report_world.coordinator.email)
    response = client.get("/reports/programme.csv?year=2026")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, so Excel reads ë and é
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Regio" and rows[0][-1] == "Aanwezigheid op trainingsdagen"
    by_region = {row[0]: row[1:] for row in rows[1:]}
    assert by_region["Parkstad"] == ["3", "2", "1", "1", "0", "1", "2", "80%"]
    # Nothing recorded: no figure rather than 0 %.
    assert by_region["Westelijke Mijnstreek"] == ["0", "0", "0", "0", "0", "0", "0", "–"]
    assert by_region["Totaal"][0] == "3"


def test_the_programme_report_as_pdf(auth, client, report_world) -> None:
    auth.login(report_world.coordinator.email)
    response = client.get("/reports/programme.pdf?year=2026")
    assert response.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(response.get_data())).pages[0].extract_text()
    assert "Opleidingsrapportage Vakkracht MKB Zuid-Limburg" in text
    assert "Schooljaar 2026-2027" in text and "Parkstad" in text and "Totaal" in text
    assert "80%" in text


@pytest.mark.parametrize(
    "path", ["/reports/programme", "/reports/programme.csv", "/reports/programme.pdf"]
)
def test_only_the_coordinator_gets_the_programme_report(auth, client, world, path) -> None:
    for user in (world.trainer, world.contact, world.noel):
        auth.login(user.email)
        assert client.get(path).status_code == 403
        auth.logout()


def test_the_cohort_heat_map(auth, client, db, world) -> None:
    auth.login(world.trainer.email)
    with clock.frozen_at(TODAY):
        page = client.get(f"/reports/cohorts/{world.cohort.id}").get_data(as_text=True)
    assert 'class="chart chart--heat"' in page
    assert "<title>Noël Çelik · A2: goedgekeurd</title>" in page
    assert "<title>Noël Çelik · A1: wacht op beoordeling</title>" in page
    assert "<title>Bram van der Heijden · A1: te laat</title>" in page
    assert "<title>Bram van der Heijden · A3: niet begonnen</title>" in page
    assert ">✓</text>" in page and ">!</text>" in page  # symbols, not only colours
    auth.logout()
    auth.login(world.other_trainer.email)
    assert client.get(f"/reports/cohorts/{world.cohort.id}").status_code == 404


def _grow(world, count: int) -> None:
    """More participants in Ingrid's cohort, all employed by Petra's company, each with work,
    hours, a review and a certificate row."""
    a1, a2, _ = world.assignments
    for n in range(count):
        participant = make_user(Role.PARTICIPANT, first_name=f"Extra{n}")
        enrolment = make_enrolment(world.cohort, participant, world.company)
        make_handed_in_submission(enrolment, a1, at=HANDED_IN_AT)
        make_approved_submission(enrolment, a2, at=HANDED_IN_AT)
        log_hours(enrolment, participant, date(2026, 10, 19), 30, 3)
        record_review(enrolment, world.trainer, "Prima")
        _certificate(enrolment, world.coordinator)
    _db.session.commit()


@pytest.mark.parametrize(
    ("user", "path"),
    [
        ("trainer", "/dashboard/trainer"),
        ("noel", "/dashboard/participant"),
        ("contact", "/dashboard/employer"),
        ("coordinator", "/dashboard/coordinator"),
        ("coordinator", "/reports/programme"),
        ("trainer", "/reports/cohorts/{cohort}"),
    ],
)
def test_each_dashboard_costs_the_same_queries_however_much_data(
    auth, client, db, world, count_queries, user, path
) -> None:
    path = path.format(cohort=world.cohort.id)
    _grow(world, 1)
    auth.login(getattr(world, user).email)
    with clock.frozen_at(TODAY):
        client.get(path)
        with count_queries() as few:
            assert client.get(path).status_code == 200
        _grow(world, 8)
        with count_queries() as many:
            assert client.get(path).status_code == 200
    assert few.count == many.count, (few.count, many.count)
    assert few.count < 40


def test_dates_are_plain_dates_in_the_risk_window(db, world) -> None:
    # The inactivity window is counted in whole days in the Netherlands.
    progress = enrolment_progress([world.noel_in], TODAY.date())
    day_before = HANDED_IN_AT.date() + timedelta(days=13)
    assert (
        RiskReason.INACTIVE
        not in risk_reasons([world.noel_in], progress, day_before)[world.noel_in.id]
    )
    assert (
        RiskReason.INACTIVE
        in risk_reasons([world.noel_in], progress, day_before + timedelta(days=1))[world.noel_in.id]
    )


def test_the_coordinator_overview_does_not_read_the_sign_off_ledger(
    auth, client, db, world, count_queries
) -> None:
    """Over a whole programme the ledger is the largest table; the overview shows assignments and
    risk only, so it must not pay for reading every sign-off (benchmarks/RESULTS.md)."""
    auth.login(world.coordinator.email)
    with clock.frozen_at(TODAY):
        client.get("/dashboard/coordinator")
        with count_queries() as queries:
            assert client.get("/dashboard/coordinator").status_code == 200
    assert not [statement for statement in queries.statements if "signoffs" in statement]
    assert queries.count <= 10
