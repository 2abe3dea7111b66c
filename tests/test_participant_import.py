"""Importing participants from a CSV file: reading, checking every row, the preview and the one commit."""

from __future__ import annotations

import base64
import codecs
import io
import re
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from lms import clock
from lms.models import AuditEvent, Enrolment, EnrolmentStatus, IntakeType, OutboxMessage, Role, User
from lms.services import participant_import as pi
from lms.services.participant_import import ProblemKind, RowAction
from tests.conftest import csrf_token
from tests.factories import make_cohort, make_employer, make_enrolment, make_programme, make_user

# Before the cohort starts (7 September 2026), so a row without a start date starts with the cohort.
TODAY = date(2026, 8, 20)
HEADER = "voornaam;tussenvoegsel;achternaam;e-mail;werkgever;instroom;startdatum"


@pytest.fixture(autouse=True)
def frozen_today():
    with clock.frozen_at(datetime(2026, 8, 20, 10, tzinfo=clock.LOCAL_TZ)):
        yield


@pytest.fixture
def world(db):
    programme = make_programme()
    cohort = make_cohort(programme, name="Parkstad 2026-2027", start=date(2026, 9, 7))
    other_cohort = make_cohort(programme, name="Westelijke Mijnstreek 2026-2027")
    employer = make_employer(name="Kerkrade Precisie B.V.", kvk_number="12345678")
    other_employer = make_employer(name="Sittard Assemblage B.V.", kvk_number="01234567")
    coordinator = make_user(Role.COORDINATOR, first_name="Carla", last_name="Coördinator")
    db.session.commit()
    return {
        "cohort": cohort,
        "other_cohort": other_cohort,
        "employer": employer,
        "other_employer": other_employer,
        "coordinator": coordinator,
    }


def csv_bytes(
    *lines: str, delimiter: str = ";", encoding: str = "utf-8", bom: bool = False
) -> bytes:
    text = "\r\n".join(line.replace(";", delimiter) for line in lines) + "\r\n"
    return (codecs.BOM_UTF8 if bom else b"") + text.encode(encoding)


GOOD_ROWS = (
    "Jan;van der;Berg;jan.vanderberg@example.nl;12345678;zij-instromer;",
    "Fatima;;El Amrani;Fatima.ElAmrani@example.nl;Sittard Assemblage B.V.;werkzaam;14-09-2026",
    "Noël;;Çelik;noel.celik@example.nl;1234567;Zij instromer;2026-09-21",
)


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def fill_seats(cohort, taken: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(taken):
        make_enrolment(cohort)


# --- reading the file ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(csv_bytes(HEADER, *GOOD_ROWS), id="semicolon"),
        pytest.param(csv_bytes(HEADER, *GOOD_ROWS, delimiter=","), id="comma"),
        pytest.param(csv_bytes(HEADER, *GOOD_ROWS, delimiter="\t"), id="tab"),
        pytest.param(csv_bytes(HEADER, *GOOD_ROWS, bom=True), id="utf-8 with BOM"),
        pytest.param(csv_bytes(HEADER, *GOOD_ROWS, encoding="utf-16"), id="utf-16"),
        pytest.param(csv_bytes("sep=;", HEADER, *GOOD_ROWS), id="excel sep= line"),
    ],
)
def test_reads_what_spreadsheets_export(app, data) -> None:
    result = pi.parse_participant_csv(data)
    assert result.ok, result.errors
    assert result.columns == list(pi.COLUMNS)
    assert [row.get("first_name") for row in result.rows] == ["Jan", "Fatima", "Noël"]
    assert result.rows[0].get("name_prefix") == "van der"
    first_line = 3 if data.startswith(b"sep=") else 2
    assert [row.line for row in result.rows] == [first_line, first_line + 1, first_line + 2]


def test_reads_windows_1252_from_older_excel_and_says_so(app) -> None:
    result = pi.parse_participant_csv(csv_bytes(HEADER, *GOOD_ROWS, encoding="cp1252"))
    assert result.ok
    assert result.read_as_windows_1252
    assert [row.get("last_name") for row in result.rows] == ["Berg", "El Amrani", "Çelik"]


def test_header_names_in_english_any_case_and_spacing_and_extra_columns(app) -> None:
    data = csv_bytes(
        "  First Name ,LAST NAME,E-Mail,Employer, Intake ,Start date,Notes",
        '"Jan","Berg","jan@example.nl","12345678","side-entrant","","likes ""quotes"", commas"',
        delimiter=",",
    )
    result = pi.parse_participant_csv(data)
    assert result.ok, result.errors
    assert result.rows[0].values == {
        "first_name": "Jan",
        "last_name": "Berg",
        "email": "jan@example.nl",
        "employer": "12345678",
        "intake": "side-entrant",
        "start_date": "",
    }
    assert result.ignored_headers == ["Notes"]


def test_blank_rows_are_skipped_but_still_counted_as_lines(app) -> None:
    result = pi.parse_participant_csv(
        csv_bytes(HEADER, GOOD_ROWS[0], ";;;;;;", "", GOOD_ROWS[1], ";;;;;;")
    )
    assert [row.line for row in result.rows] == [2, 5]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "Het bestand is leeg"),
        (codecs.BOM_UTF8 + b"\r\n\r\n", "Het bestand is leeg"),
        (csv_bytes(HEADER), "geen deelnemers"),
        (csv_bytes(GOOD_ROWS[0], GOOD_ROWS[1]), "De eerste rij moet de kolomnamen bevatten"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel-werkmap"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel-werkmap"),
        (b"%PDF-1.7\n", "Dit is geen CSV-bestand"),
        (b"voornaam;achternaam\x00\x00\x01\x02", "Dit is geen CSV-bestand"),
        (csv_bytes(HEADER + ";Voornaam", GOOD_ROWS[0]), "De kolom Voornaam staat twee keer"),
    ],
)
def test_file_level_problems_have_a_clear_dutch_message(app, data, expected) -> None:
    result = pi.parse_participant_csv(data)
    assert not result.ok and not result.rows
    assert any(expected in message for message in result.errors), result.errors


def test_missing_columns_are_named_with_the_columns_found(app) -> None:
    result = pi.parse_participant_csv(csv_bytes("Voornaam;Achternaam;Telefoon", "Jan;Berg;06"))
    assert result.errors == [
        "Deze kolommen ontbreken: e-mail, werkgever, instroom. "
        "De eerste rij bevat: Voornaam, Achternaam, Telefoon."
    ]


def test_too_large_and_too_many_rows_are_refused(app) -> None:
    too_large = csv_bytes(HEADER) + b"x" * pi.MAX_BYTES
    assert "groter dan 256 kB" in pi.parse_participant_csv(too_large).errors[0]
    rows = [f"A;;B;p{n}@example.nl;12345678;werkzaam;" for n in range(pi.MAX_ROWS + 1)]
    result = pi.parse_participant_csv(csv_bytes(HEADER, *rows))
    assert not result.rows
    assert "meer dan 500 deelnemers" in result.errors[0]
    assert pi.parse_participant_csv(csv_bytes(HEADER, *rows[:-1])).ok


@pytest.mark.parametrize("locale", ["nl", "en"])
def test_the_example_file_reads_without_problems(app, world, locale) -> None:
    with force_locale(locale):
        data = pi.example_csv(world["cohort"].start_date)  # Kerkrade Precisie B.V., 12345678
        result = pi.parse_participant_csv(data)
        assert result.ok, result.errors
        assert data.startswith(codecs.BOM_UTF8)
        plan = pi.validate_rows(world["cohort"], result.rows, today=TODAY)
    assert plan.is_valid, [row.problems for row in plan.rows]


# --- checking the rows -----------------------------------------------------------------------------


def plan_for(cohort, *lines: str):  # type: ignore[no-untyped-def]
    return pi.prepare_import(cohort, csv_bytes(HEADER, *lines), today=TODAY)


def test_a_good_file_says_what_happens_with_each_row(world) -> None:
    known = make_user(
        Role.PARTICIPANT, email="noel.celik@example.nl", first_name="Noël", last_name="Çelik"
    )
    plan = plan_for(world["cohort"], *GOOD_ROWS)
    assert plan.is_valid
    jan, fatima, noel = plan.rows
    assert [row.action for row in plan.rows] == [
        RowAction.NEW_PERSON,
        RowAction.NEW_PERSON,
        RowAction.EXISTING_PARTICIPANT,
    ]
    assert noel.participant == known
    assert plan.new_people == 2
    assert (jan.employer, fatima.employer) == (world["employer"], world["other_employer"])
    assert noel.employer == world["other_employer"]  # "1234567": Excel dropped the leading zero
    assert (jan.intake_type, fatima.intake_type) == (IntakeType.SIDE_ENTRANT, IntakeType.EMPLOYED)
    assert fatima.email == "fatima.elamrani@example.nl"
    # No date: the cohort's start (it has not started yet); dd-mm-yyyy and yyyy-mm-dd both read.
    assert [row.start_date for row in plan.rows] == [
        date(2026, 9, 7),
        date(2026, 9, 14),
        date(2026, 9, 21),
    ]


def test_without_a_date_a_running_cohort_enrols_from_today(world) -> None:
    plan = pi.prepare_import(
        world["cohort"], csv_bytes(HEADER, GOOD_ROWS[0]), today=date(2026, 10, 5)
    )
    assert plan.rows[0].start_date == date(2026, 10, 5)


def test_every_bad_row_is_reported_by_line_and_reason_and_nothing_is_written(db, world) -> None:
    make_user(Role.TRAINER, email="trainer@example.nl")
    elsewhere = make_user(
        Role.PARTICIPANT, email="bezet@example.nl", first_name="Bas", last_name="Bezet"
    )
    make_enrolment(world["other_cohort"], elsewhere)
    db.session.commit()
    users, enrolments = count(db, User), count(db, Enrolment)
    plan = plan_for(
        world["cohort"],
        GOOD_ROWS[0],  # line 2
        ";;Berg;leeg@example.nl;12345678;werkzaam;",  # 3: no first name
        "Piet;;Smit;piet@;12345678;werkzaam;",  # 4: invalid e-mail
        "Kim;;Bos;kim@example.nl;Onbekend B.V.;werkzaam;",  # 5: unknown employer
        "Ad;;Vos;jan.vanderberg@example.nl;12345678;werkzaam;",  # 6: same e-mail as line 2
        "Bas;;Bezet;bezet@example.nl;12345678;werkzaam;",  # 7: already enrolled elsewhere
        "Tom;;Trainer;trainer@example.nl;12345678;werkzaam;",  # 8: not a participant's account
        "Eva;;Dam;eva@example.nl;12345678;stagiair;",  # 9: unknown intake
        "Ria;;Bak;ria@example.nl;12345678;werkzaam;31-02-2026",  # 10: no real date
        "Ger;;Mol;ger@example.nl;12345678;werkzaam;01-01-2030",  # 11: after the cohort ends
    )
    assert not plan.is_valid
    kinds = {row.line: [problem.kind for problem in row.problems] for row in plan.bad_rows}
    assert kinds == {
        2: [ProblemKind.DUPLICATE],
        3: [ProblemKind.MISSING_FIELD],
        4: [ProblemKind.INVALID_EMAIL],
        5: [ProblemKind.UNKNOWN_EMPLOYER],
        6: [ProblemKind.DUPLICATE],
        7: [ProblemKind.DUPLICATE],
        8: [ProblemKind.DUPLICATE],
        9: [ProblemKind.UNKNOWN_INTAKE],
        10: [ProblemKind.BAD_DATE],
        11: [ProblemKind.BAD_DATE],
    }
    messages = {
        row.line: " ".join(problem.message for problem in row.problems) for row in plan.bad_rows
    }
    assert messages[2] == "Dit e-mailadres staat meer dan één keer in het bestand (regels 2, 6)."
    assert messages[3] == "Ontbreekt: voornaam."
    assert messages[4] == '"piet@" is geen geldig e-mailadres.'
    assert "Onbekend B.V." in messages[5]
    assert messages[7] == "Bas Bezet is al ingeschreven in groep Westelijke Mijnstreek 2026-2027."
    assert "stagiair" in messages[9] and "zij-instromer" in messages[9]
    db.session.rollback()
    assert (count(db, User), count(db, Enrolment)) == (users, enrolments)
    with pytest.raises(pi.ImportRefused):
        pi.import_rows(plan, actor=world["coordinator"], file_name="deelnemers.csv")
    assert (count(db, User), count(db, Enrolment)) == (users, enrolments)


def test_rows_beyond_the_free_seats_are_reported_as_cohort_full(db, world) -> None:
    fill_seats(world["cohort"], 10)
    db.session.commit()
    plan = plan_for(world["cohort"], *GOOD_ROWS)
    assert plan.free_seats == 2
    assert [row.line for row in plan.bad_rows] == [4]
    assert [problem.kind for problem in plan.rows[2].problems] == [ProblemKind.COHORT_FULL]
    assert plan.rows[2].problems[0].message.startswith("De groep is vol")


def test_a_row_that_can_never_be_imported_takes_no_seat(db, world) -> None:
    fill_seats(world["cohort"], 11)
    already = make_enrolment(world["cohort"]).participant  # the twelfth seat
    already_row = f"A;;B;{already.email};12345678;werkzaam;"
    db.session.commit()
    # The cohort is full (12 of 12); the already-enrolled row is a duplicate, not "cohort full".
    plan = plan_for(world["cohort"], already_row, GOOD_ROWS[0])
    assert [problem.kind for problem in plan.rows[0].problems] == [ProblemKind.DUPLICATE]
    assert [problem.kind for problem in plan.rows[1].problems] == [ProblemKind.COHORT_FULL]
    assert plan.rows[1].problems[0].message == "De groep is vol: er is geen plaats meer vrij."


def test_someone_who_was_in_this_cohort_before_cannot_be_enrolled_again(db, world) -> None:
    earlier = make_enrolment(
        world["cohort"], status=EnrolmentStatus.WITHDRAWN, ended_on=date(2026, 9, 30)
    ).participant
    db.session.commit()
    plan = plan_for(world["cohort"], f"A;;B;{earlier.email};12345678;werkzaam;")
    assert [problem.kind for problem in plan.rows[0].problems] == [ProblemKind.DUPLICATE]


def test_a_withdrawn_participant_can_be_imported_into_another_cohort(db, world) -> None:
    earlier = make_enrolment(
        world["other_cohort"], status=EnrolmentStatus.WITHDRAWN, ended_on=date(2026, 9, 30)
    ).participant
    db.session.commit()
    plan = plan_for(world["cohort"], f"A;;B;{earlier.email.upper()};12345678;werkzaam;")
    assert plan.is_valid
    assert plan.rows[0].action is RowAction.EXISTING_PARTICIPANT


def test_a_deactivated_account_is_reported(db, world) -> None:
    gone = make_user(Role.PARTICIPANT, active=False)
    plan = plan_for(world["cohort"], f"A;;B;{gone.email};12345678;werkzaam;")
    assert [problem.kind for problem in plan.rows[0].problems] == [ProblemKind.INACTIVE_ACCOUNT]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("zij-instromer", IntakeType.SIDE_ENTRANT),
        ("Zij instromer", IntakeType.SIDE_ENTRANT),
        ("ZIJINSTROOM", IntakeType.SIDE_ENTRANT),
        ("side-entrant", IntakeType.SIDE_ENTRANT),
        ("Side entrant", IntakeType.SIDE_ENTRANT),
        ("werkzaam", IntakeType.EMPLOYED),
        ("Al werkzaam", IntakeType.EMPLOYED),
        ("in dienst", IntakeType.EMPLOYED),
        ("Employed", IntakeType.EMPLOYED),
        ("Werkt al bij het mkb-bedrijf", IntakeType.EMPLOYED),
    ],
)
def test_common_spellings_of_the_intake(world, value, expected) -> None:
    plan = plan_for(world["cohort"], f"A;;B;a@example.nl;12345678;{value};")
    assert plan.rows[0].intake_type is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("07-09-2026", date(2026, 9, 7)),
        ("7-9-2026", date(2026, 9, 7)),
        ("07/09/2026", date(2026, 9, 7)),
        ("07.09.2026", date(2026, 9, 7)),
        ("2026-09-07", date(2026, 9, 7)),
        ("7-9-26", None),
        ("september", None),
        ("2026-13-01", None),
    ],
)
def test_date_formats(value, expected) -> None:
    assert pi.parse_date(value) == expected


def test_employer_by_name_ignores_case_and_spaces_but_not_a_shared_name(db, world) -> None:
    plan = plan_for(world["cohort"], "A;;B;a@example.nl;  kerkrade   precisie b.v. ;werkzaam;")
    assert plan.rows[0].employer == world["employer"]
    make_employer(name="Kerkrade Precisie B.V.")
    plan = plan_for(world["cohort"], "A;;B;a@example.nl;Kerkrade Precisie B.V.;werkzaam;")
    assert [problem.kind for problem in plan.rows[0].problems] == [ProblemKind.AMBIGUOUS_EMPLOYER]


def test_too_long_names_are_reported(world) -> None:
    plan = plan_for(world["cohort"], f"A;{'x' * 21};B;a@example.nl;12345678;werkzaam;")
    assert [problem.kind for problem in plan.rows[0].problems] == [ProblemKind.TOO_LONG]


def test_a_closed_cohort_takes_nobody(db, world) -> None:
    world["cohort"].closed_at = clock.now()
    plan = plan_for(world["cohort"], GOOD_ROWS[0])
    assert not plan.is_valid
    assert plan.errors == ["Groep Parkstad 2026-2027 is gesloten."]


def test_checking_costs_the_same_queries_for_three_rows_or_fifty(db, world, count_queries) -> None:
    rows = [
        f"A;;B;p{n}@example.nl;{'12345678' if n % 2 else 'Sittard Assemblage B.V.'};werkzaam;"
        for n in range(50)
    ]
    make_user(Role.PARTICIPANT, email="p1@example.nl")
    make_enrolment(world["other_cohort"], make_user(Role.PARTICIPANT, email="p2@example.nl"))
    db.session.commit()
    cohort = world["cohort"]
    with count_queries() as small:
        plan_for(cohort, *rows[:3])
    db.session.expire_all()
    with count_queries() as large:
        plan_for(cohort, *rows)
    assert large.count == small.count <= 5


# --- writing ---------------------------------------------------------------------------------------


def test_import_rows_enrols_everyone_invites_new_people_and_audits_once(db, world) -> None:
    known = make_user(Role.PARTICIPANT, email="noel.celik@example.nl")
    db.session.commit()
    plan = plan_for(world["cohort"], *GOOD_ROWS)
    enrolments = pi.import_rows(plan, actor=world["coordinator"], file_name="lijst.csv")
    db.session.commit()
    assert [e.participant.email for e in enrolments] == [
        "jan.vanderberg@example.nl",
        "fatima.elamrani@example.nl",
        "noel.celik@example.nl",
    ]
    assert enrolments[2].participant == known
    jan = enrolments[0].participant
    assert (jan.first_name, jan.name_prefix, jan.last_name, jan.role) == (
        "Jan",
        "van der",
        "Berg",
        Role.PARTICIPANT,
    )
    assert [e.enrolled_on for e in enrolments] == [
        date(2026, 9, 7),
        date(2026, 9, 14),
        date(2026, 9, 21),
    ]
    assert all(e.cohort == world["cohort"] and e.is_active for e in enrolments)
    outbox = db.session.scalars(sa.select(OutboxMessage.recipient).order_by(OutboxMessage.id)).all()
    assert outbox == ["jan.vanderberg@example.nl", "fatima.elamrani@example.nl"]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "enrolment.import"))
    assert event.actor == world["coordinator"]
    assert (event.subject_type, event.subject_id) == ("Cohort", world["cohort"].id)
    assert event.details == {
        "cohort": "Parkstad 2026-2027",
        "count": 3,
        "new_people": 2,
        "file_name": "lijst.csv",
    }


# --- the pages -------------------------------------------------------------------------------------


def import_path(cohort) -> str:  # type: ignore[no-untyped-def]
    return f"/cohorts/{cohort.id}/import"


def upload(auth, cohort, data: bytes, name: str = "deelnemers.csv"):  # type: ignore[no-untyped-def]
    return auth.post(
        import_path(cohort),
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page)
    assert match, f"no hidden field {name}"
    return match.group(1)


def confirm(client, cohort, content: str, file_name: str = "deelnemers.csv"):  # type: ignore[no-untyped-def]
    return client.post(
        f"/cohorts/{cohort.id}/import/confirm",
        data={
            "csrf_token": csrf_token(client, import_path(cohort)),
            "content": content,
            "file_name": file_name,
        },
    )


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(csv_bytes(HEADER, *GOOD_ROWS, delimiter=","), id="comma"),
        pytest.param(csv_bytes(HEADER, *GOOD_ROWS), id="semicolon"),
        pytest.param(csv_bytes(HEADER, *GOOD_ROWS, bom=True), id="BOM"),
    ],
)
def test_preview_then_confirm_enrols_everyone_in_one_go(auth, client, db, world, data) -> None:
    cohort = world["cohort"]
    auth.login(world["coordinator"].email)
    response = upload(auth, cohort, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Controleer de import" in page
    assert "Nieuw" in page and "Jan van der Berg" in page and "Noël Çelik" in page
    assert "3 deelnemers importeren" in page
    assert count(db, Enrolment) == 0 and count(db, OutboxMessage) == 0  # the preview writes nothing

    response = confirm(client, cohort, hidden(page, "content"), hidden(page, "file_name"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cohorts/{cohort.id}"
    db.session.expire_all()
    enrolled = db.session.scalars(
        sa.select(User.email)
        .join(Enrolment, Enrolment.participant_id == User.id)
        .where(Enrolment.cohort_id == cohort.id)
    ).all()
    assert sorted(enrolled) == [
        "fatima.elamrani@example.nl",
        "jan.vanderberg@example.nl",
        "noel.celik@example.nl",
    ]
    assert count(db, OutboxMessage) == 3
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "enrolment.import"))
    assert event.details["count"] == 3 and event.details["file_name"] == "deelnemers.csv"
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 deelnemers zijn ingeschreven in Parkstad 2026-2027." in followed


def test_preview_lists_bad_rows_by_line_with_no_way_to_confirm(auth, db, world) -> None:
    auth.login(world["coordinator"].email)
    page = upload(
        auth,
        world["cohort"],
        csv_bytes(
            HEADER,
            GOOD_ROWS[0],
            "Piet;;Smit;piet@;12345678;werkzaam;",
            "Kim;;Bos;kim@example.nl;999;werkzaam;",
        ),
    ).get_data(as_text=True)
    page = " ".join(page.split())
    assert "2 rijen hebben een probleem" in page
    assert "Regel 3</strong> (Piet Smit): &#34;piet@&#34; is geen geldig e-mailadres.</li>" in page
    assert "Regel 4</strong> (Kim Bos)" in page
    assert "Er is niets geïmporteerd" in page
    assert "/import/confirm" not in page
    assert 'type="file"' in page  # upload the corrected file straight away
    assert count(db, User) == 1 and count(db, Enrolment) == 0


def test_a_file_level_problem_keeps_the_upload_form(auth, world) -> None:
    auth.login(world["coordinator"].email)
    response = upload(auth, world["cohort"], csv_bytes("Voornaam;Achternaam", "Jan;Berg"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Deze kolommen ontbreken: e-mail, werkgever, instroom." in page
    assert 'aria-invalid="true"' in page and 'type="file"' in page
    assert "Zo maak je het bestand" in page


def test_uploading_without_a_file_says_so(auth, world) -> None:
    auth.login(world["coordinator"].email)
    page = auth.post(import_path(world["cohort"]), data={}).get_data(as_text=True)
    assert "Kies het CSV-bestand met de deelnemers." in page


def test_the_import_page_explains_the_format(auth, client, world) -> None:
    auth.login(world["coordinator"].email)
    page = client.get(import_path(world["cohort"])).get_data(as_text=True)
    assert "voornaam;tussenvoegsel;achternaam;e-mail;werkgever;instroom;startdatum" in page
    assert "12 vrije plaatsen" in page
    # The example names employers that exist: the first by KvK number, the other by name.
    assert ";12345678;zij-instromer;07-09-2026" in page
    assert ";Sittard Assemblage B.V.;werkzaam;" in page
    example = client.get(f"/cohorts/{world['cohort'].id}/import/example.csv")
    assert example.mimetype == "text/csv"
    assert example.data.startswith(codecs.BOM_UTF8)
    assert "voorbeeld-deelnemers.csv" in example.headers["Content-Disposition"]
    # Uploaded unchanged, it would enrol its two people.
    page = upload(auth, world["cohort"], example.data).get_data(as_text=True)
    assert "2 deelnemers importeren" in page


def test_tampered_confirm_data_is_checked_again(auth, client, db, world) -> None:
    auth.login(world["coordinator"].email)
    page = upload(auth, world["cohort"], csv_bytes(HEADER, GOOD_ROWS[0])).get_data(as_text=True)
    assert "1 deelnemer importeren" in page
    # The browser sends back a different file: one bad row among the good ones.
    tampered = base64.b64encode(
        csv_bytes(HEADER, GOOD_ROWS[0], "Piet;;Smit;piet@;12345678;werkzaam;")
    ).decode()
    response = confirm(client, world["cohort"], tampered)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Er is niets geïmporteerd" in page and "Regel 3" in page
    db.session.expire_all()
    assert count(db, Enrolment) == 0 and count(db, User) == 1 and count(db, OutboxMessage) == 0


def test_garbage_confirm_data_imports_nothing(auth, client, db, world) -> None:
    auth.login(world["coordinator"].email)
    response = confirm(client, world["cohort"], "this is not base64!")
    assert response.status_code == 302
    assert response.headers["Location"] == import_path(world["cohort"])
    assert count(db, Enrolment) == 0


def test_a_cohort_filled_between_preview_and_confirm_imports_nothing(
    auth, client, db, world
) -> None:
    auth.login(world["coordinator"].email)
    page = upload(auth, world["cohort"], csv_bytes(HEADER, *GOOD_ROWS)).get_data(as_text=True)
    fill_seats(world["cohort"], 10)  # another coordinator, meanwhile
    db.session.commit()
    response = confirm(client, world["cohort"], hidden(page, "content"))
    page = response.get_data(as_text=True)
    assert "Er is niets geïmporteerd" in page and "De groep is vol" in page
    db.session.expire_all()
    assert count(db, Enrolment) == 10 and count(db, OutboxMessage) == 0


IMPORT_PAGES = [
    ("get", "/cohorts/{id}/import"),
    ("post", "/cohorts/{id}/import"),
    ("post", "/cohorts/{id}/import/confirm"),
    ("get", "/cohorts/{id}/import/example.csv"),
]


@pytest.mark.parametrize(("method", "path"), IMPORT_PAGES)
@pytest.mark.parametrize("role", [Role.TRAINER, Role.PARTICIPANT, Role.EMPLOYER])
def test_only_coordinators_reach_the_import(auth, client, db, world, role, method, path) -> None:
    user = make_user(role)
    db.session.commit()
    auth.login(user.email)
    url = path.format(id=world["cohort"].id)
    if method == "get":
        response = client.get(url)
    else:
        data = {"content": base64.b64encode(csv_bytes(HEADER, GOOD_ROWS[0])).decode()}
        response = auth.post(url, data=data)
    assert response.status_code == 404  # the cohort's existence is not confirmed
    assert count(db, Enrolment) == 0


@pytest.mark.parametrize(("method", "path"), IMPORT_PAGES)
def test_anonymous_visitors_are_sent_to_login(client, db, world, method, path) -> None:
    url = path.format(id=world["cohort"].id)
    if method == "get":
        response = client.get(url)
    else:
        response = client.post(url, data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_an_unknown_cohort_is_404(auth, client, world) -> None:
    auth.login(world["coordinator"].email)
    assert client.get("/cohorts/999999/import").status_code == 404


def test_a_windows_1252_file_is_read_with_a_warning_to_check_accents(auth, world) -> None:
    auth.login(world["coordinator"].email)
    page = upload(auth, world["cohort"], csv_bytes(HEADER, *GOOD_ROWS, encoding="cp1252"))
    page = page.get_data(as_text=True)
    assert "niet als UTF-8 opgeslagen" in page
    assert "Noël Çelik" in page and "3 deelnemers importeren" in page


def test_a_closed_cohort_offers_no_upload_and_refuses_a_file(auth, client, db, world) -> None:
    world["cohort"].closed_at = clock.now()
    db.session.commit()
    auth.login(world["coordinator"].email)
    page = client.get(import_path(world["cohort"])).get_data(as_text=True)
    assert "Deze groep is gesloten" in page and 'type="file"' not in page
    page = upload(auth, world["cohort"], csv_bytes(HEADER, GOOD_ROWS[0])).get_data(as_text=True)
    assert "Groep Parkstad 2026-2027 is gesloten." in page and "/import/confirm" not in page
    assert count(db, Enrolment) == 0


def test_a_refusal_while_writing_rolls_back_every_row(auth, client, db, world, monkeypatch) -> None:
    """Another coordinator takes the last seats between the check and the writing: the rows already
    enrolled in this request are rolled back with the rest."""
    fill_seats(world["cohort"], 11)
    db.session.commit()
    data = csv_bytes(HEADER, *GOOD_ROWS)
    monkeypatch.setattr(pi, "seats_taken", lambda cohort: 0)  # the check still sees free seats
    auth.login(world["coordinator"].email)
    response = confirm(client, world["cohort"], base64.b64encode(data).decode())
    assert response.headers["Location"] == import_path(world["cohort"])
    page = client.get(import_path(world["cohort"])).get_data(as_text=True)
    assert "Er is niets geïmporteerd: Groep Parkstad 2026-2027 is vol" in page
    db.session.expire_all()
    assert count(db, Enrolment) == 11
    assert (
        db.session.scalar(sa.select(User).where(User.email == "jan.vanderberg@example.nl")) is None
    )
    assert count(db, OutboxMessage) == 0
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert actions == ["user.login"]


def test_a_file_near_the_size_limit_survives_the_confirm_step(auth, client, db, world) -> None:
    """The confirm form carries the file back; Flask refuses form fields over 500 kB."""
    notes = "x" * ((pi.MAX_BYTES - 2_000) // 12 - 50)
    rows = [f"P{n};;Q;p{n}@example.nl;12345678;werkzaam;;{notes}" for n in range(12)]
    data = csv_bytes(HEADER + ";opmerking", *rows)
    assert pi.MAX_BYTES - 20_000 < len(data) <= pi.MAX_BYTES
    auth.login(world["coordinator"].email)
    page = upload(auth, world["cohort"], data).get_data(as_text=True)
    assert "12 deelnemers importeren" in page
    response = confirm(client, world["cohort"], hidden(page, "content"))
    assert response.status_code == 302
    db.session.expire_all()
    assert count(db, Enrolment) == 12


def test_the_cohort_page_links_to_the_import_while_seats_are_free(auth, client, db, world) -> None:
    auth.login(world["coordinator"].email)
    cohort = world["cohort"]
    assert f'href="{import_path(cohort)}"' in client.get(f"/cohorts/{cohort.id}").get_data(
        as_text=True
    )
    fill_seats(cohort, 12)
    db.session.commit()
    assert f'href="{import_path(cohort)}"' not in client.get(f"/cohorts/{cohort.id}").get_data(
        as_text=True
    )
