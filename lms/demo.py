"""Demo data: every kind of user, six employers, two cohorts of twelve, and some progress.

``load_demo_data`` is run by ``flask lms demo``. It flushes and never commits (the command commits), does
nothing when its data is already there, and makes the same data every time for the same ``today``: the
variety between participants comes from seeded random generators, not from chance. Everything it writes
is dated before ``today`` (the clock is held still while it runs), so tests can run it on any day.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa

from lms import clock
from lms.extensions import db
from lms.models import (
    Assessment,
    Assignment,
    Attempt,
    ChecklistItem,
    ChecklistKind,
    Cohort,
    Employer,
    Enrolment,
    IntakeType,
    Programme,
    Region,
    Role,
    Submission,
    SubmissionStatus,
    User,
    Verdict,
    WorkplaceConfirmation,
)
from lms.models.cohorts import weekday_bits
from lms.services import accounts, progress, school_calendar
from lms.services.cohorts import calendar_dates
from lms.services.signoff import sign_off

DEMO_PASSWORD = "vakkracht-demo"  # nosec B105 - the documented demo password; production refuses demo data
EMAIL_DOMAIN = "vakkracht.example"
COORDINATOR_EMAIL = f"coordinator@{EMAIL_DOMAIN}"
PROGRAMME_CODE = "VAKKRACHT-PM"
CURRICULUM_DIR = Path(__file__).resolve().parent.parent / "curriculum"

REGION_NAMES = {
    Region.PARKSTAD: "Parkstad",
    Region.WESTELIJKE_MIJNSTREEK: "Westelijke Mijnstreek",
    Region.MAASTRICHT_HEUVELLAND: "Maastricht-Heuvelland",
}


class DemoDataError(RuntimeError):
    """The demo data cannot be made, e.g. because there is no curriculum to pin the cohorts to."""


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    name_prefix: str = ""


@dataclass(frozen=True)
class DemoEmployer:
    name: str
    kvk_number: str
    street: str
    postcode: str
    city: str
    region: Region
    contact: Person


COORDINATOR = Person("Marij", "Hermans")
TRAINERS = (
    Person("Jos", "Wetzels"),
    Person("Ingrid", "Heijden", "van der"),
    Person("Frank", "Bemelmans"),
)
# Fictional companies; the KvK numbers only look like real ones.
EMPLOYERS = (
    DemoEmployer(
        "Oranje-Nassau Metaaltechniek B.V.",
        "14093527",
        "Schelsberg 214",
        "6413 AJ",
        "Heerlen",
        Region.PARKSTAD,
        Person("Huub", "Ramaekers"),
    ),
    DemoEmployer(
        "Rolduc Montage & Assemblage B.V.",
        "14127408",
        "Dentgenbachweg 55",
        "6468 PW",
        "Kerkrade",
        Region.PARKSTAD,
        Person("Ellen", "Crombach"),
    ),
    DemoEmployer(
        "Strijthagen Plaatwerk B.V.",
        "14160291",
        "Einsteinstraat 20",
        "6372 BJ",
        "Landgraaf",
        Region.PARKSTAD,
        Person("Ger", "Kleijnen"),
    ),
    DemoEmployer(
        "Maurits Machinebouw B.V.",
        "14048865",
        "Rijksweg Zuid 110",
        "6161 BN",
        "Geleen",
        Region.WESTELIJKE_MIJNSTREEK,
        Person("Sandra", "Wit", "de"),
    ),
    DemoEmployer(
        "Limbricht Precisiedraaierij B.V.",
        "14215739",
        "Bergerweg 95",
        "6135 KD",
        "Sittard",
        Region.WESTELIJKE_MIJNSTREEK,
        Person("Roger", "Houben"),
    ),
    DemoEmployer(
        "Grensmaas Assemblage B.V.",
        "14187652",
        "Ringoven 21",
        "6121 MH",
        "Born",
        Region.WESTELIJKE_MIJNSTREEK,
        Person("Wiel", "Frijns"),
    ),
)
# deelnemer01..12 in Parkstad, deelnemer13..24 in the Westelijke Mijnstreek.
PARTICIPANTS = (
    Person("Noël", "Lemmens"),
    Person("Mehmet", "Çelik"),
    Person("Lotte", "Linden", "van der"),
    Person("Kevin", "Janssen"),
    Person("Esmée", "Vossen"),
    Person("Bram", "Bruijn", "de"),
    Person("Chantal", "Smeets"),
    Person("Emre", "Doğan"),
    Person("Sjoerd", "Hendriks"),
    Person("Anouk", "Schepers"),
    Person("Ruud", "Berg", "van den"),
    Person("Dewi", "Pelzer"),
    Person("Stijn", "Coenen"),
    Person("Zoë", "Thissen"),
    Person("Yusuf", "Öztürk"),
    Person("Luuk", "Dassen"),
    Person("Maud", "Bisschops"),
    Person("René", "Ruijters"),
    Person("Jasper", "Dijk", "van"),
    Person("Marloes", "Meertens"),
    Person("Daan", "Huijnen"),
    Person("Sem", "Vries", "de"),
    Person("Iris", "Gelissen"),
    Person("Joël", "Erkens"),
)
# Participants (by number) who fall behind: they hand in nothing due in the last four weeks.
BEHIND = {4, 16, 21}
BEHIND_BY = timedelta(weeks=4)


# --- texts ------------------------------------------------------------------------------------

# What a participant writes for an assignment: what I did / what went well / what I learned.
REFLECTIONS: dict[str, tuple[str, str, str]] = {
    "A01": (
        "Ik heb met mijn praktijkopleider een veiligheidsronde door de hal gelopen. Bij elke machine "
        "heb ik opgeschreven welke PBM je nodig hebt.",
        "Ik zag zelf dat bij de kantbank geen gehoorbescherming in het rek hing en heb dat gemeld.",
        "Ik weet nu waarom een veiligheidsbril ook nodig is als je maar even ontbraamt. Ik doe nu eerst "
        "een LMRA voor ik begin.",
    ),
    "A02": (
        "Ik heb mijn eigen werkplek met 5S aangepakt: alles weg wat ik niet gebruik, en een vaste plek "
        "voor elk gereedschap op een schaduwbord. Ik heb foto's gemaakt van voor en na.",
        "Ik hoef niet meer te zoeken naar mijn inbussleutels; alles hangt op een vaste plek.",
        "Standhouden is het moeilijkst. Ik maak nu aan het eind van mijn dienst vijf minuten mijn plek "
        "schoon.",
    ),
    "A03": (
        "Ik heb tien draaidelen gemeten met de schuifmaat en de micrometer en de waarden in een "
        "spreadsheet gezet.",
        "Mijn metingen kwamen overeen met die van de kwaliteitsmedewerker.",
        "Ik controleer de micrometer nu eerst op nul. Eén onderdeel was afkeur; dat heb ik gemeld.",
    ),
    "A04": (
        "Ik heb de tekening van een frame gelezen en de stuklijst vergeleken met de onderdelen in de bak.",
        "Ik vond zelf een fout: een verkeerd artikelnummer op de stuklijst.",
        "Ik begrijp de aanzichten en het titelblok nu beter. Ik lees eerst de toleranties.",
    ),
    "A05": (
        "Ik heb het werk voor een serie van twintig beugels voorbereid: tekening, materiaal, gereedschap "
        "en een planning.",
        "Alles lag klaar voordat ik begon, dus ik hoefde nergens op te wachten.",
        "Ik had te weinig tijd gerekend voor het ontbramen. Volgende keer plan ik ruimer.",
    ),
    "A06": (
        "Ik heb een afdekplaat gemonteerd met M8-bouten op het voorgeschreven aanhaalmoment en de "
        "bouten geborgd.",
        "Ik heb de momentsleutel goed ingesteld en de bouten kruislings aangehaald.",
        "Ik weet nu wanneer je een borgring gebruikt en wanneer borgmiddel.",
    ),
    "A07": (
        "Ik heb een transportrol gemonteerd volgens de montage-instructie met de exploded view.",
        "De rol liep licht en zonder speling bij de eindcontrole.",
        "Ik moet de volgorde precies volgen: één lager moest ik opnieuw plaatsen.",
    ),
    "A08": (
        "Ik heb gaten afgetekend, geboord, getapt (M6 en M8) en ontbraamd in een montageplaat.",
        "De schroefdraad was goed en de gaten zaten binnen de tolerantie.",
        "Ik kies nu zelf de goede kernboor voor het tappen en gebruik snijolie.",
    ),
    "A09": (
        "Ik heb de machine volgens de instructie gestart, bediend en gestopt, met mijn praktijkopleider "
        "erbij.",
        "Ik heb alle controles vooraf gedaan en de noodstop getest.",
        "Ik weet nu wat ik moet doen als de machine een melding geeft.",
    ),
    "A10": (
        "Ik heb bij een nieuwe serie de eerste-stukcontrole gedaan en daarna elk tiende stuk gemeten en "
        "genoteerd.",
        "Ik zag op tijd dat een maat wegliep en heb het gemeld voordat er afkeur kwam.",
        "Door alles te noteren zie je een trend voordat het fout gaat.",
    ),
    "A11": (
        "Ik heb een storing aan de band gemeld en met vijf keer 'waarom' naar de oorzaak gezocht.",
        "Samen met de monteur vonden we de echte oorzaak: een versleten sensorbeugel.",
        "Niet meteen de eerste oorzaak geloven, maar doorvragen.",
    ),
    "A12": (
        "Ik heb het wekelijkse onderhoud van de zaagmachine gedaan met de checklist: smeren, "
        "koelvloeistof bijvullen en het zaagblad controleren.",
        "Ik heb alles op de checklist afgetekend en een versleten zaagblad op tijd vervangen.",
        "Ik maak de machine altijd eerst energievrij voordat ik begin.",
    ),
    "A13": (
        "Ik heb een week bijgehouden hoeveel tijd we kwijt zijn met het zoeken naar "
        "bevestigingsmateriaal, en een verbetervoorstel geschreven.",
        "Mijn leidinggevende wil mijn voorstel (kanban-bakken bij de werkplek) uitproberen.",
        "Met eigen cijfers is een voorstel veel sterker.",
    ),
    "A14": (
        "Ik heb een digitale werkinstructie met foto's gemaakt voor het monteren van een scharnier.",
        "Een nieuwe collega kon de instructie meteen volgen, zonder vragen.",
        "Ik let er nu op wat wel en niet op de foto mag (bedrijfsgeheim).",
    ),
    "A15": (
        "Ik heb in het werkoverleg vijf minuten verteld over mijn verbetervoorstel.",
        "Ik was goed voorbereid en collega's stelden vragen.",
        "Ik praat snel als ik zenuwachtig ben; volgende keer oefen ik vooraf.",
    ),
    "A16": (
        "Ik heb de proeve-opdracht gedaan: werk voorbereiden, bewerken, monteren, controleren en "
        "overdragen van een complete unit.",
        "De unit was op tijd klaar en goed bij de eindcontrole.",
        "Ik kan nu een opdracht van begin tot eind zelf uitvoeren.",
    ),
}
EXTRA_REMARKS = (
    "Mijn praktijkopleider keek mee en gaf tips.",
    "Ik deed dit samen met een collega uit de middagploeg.",
    "",
    "De foto's staan in mijn portfolio.",
    "",
    "Het duurde langer dan gepland, maar het is gelukt.",
)
REVISION_REMARK = "Na de feedback van mijn trainer heb ik dit aangevuld."
APPROVED_FEEDBACK = (
    "Goed gedaan. Je beschrijft duidelijk wat je gedaan hebt en wat je geleerd hebt.",
    "Prima uitgevoerd. Schrijf de volgende keer ook op welk gereedschap je gebruikte.",
    "Mooie reflectie: je ziet zelf wat beter kan. Goedgekeurd.",
    "Netjes en veilig gewerkt. Ga zo door!",
    "Akkoord. Je uitleg is kort maar volledig.",
)
REVISION_FEEDBACK = (
    "Je schrijft wat je gedaan hebt, maar niet wat je geleerd hebt. Vul aan wat je de volgende keer "
    "anders doet.",
    "De meetwaarden ontbreken. Zet ze in de tabel en geef aan welke onderdelen afkeur zijn.",
    "Ik zie niet dat je de juiste PBM gebruikte. Voeg een foto toe of vraag je praktijkopleider om "
    "het te bevestigen.",
)
CONFIRMATION_REMARKS = (
    "Gezien en klopt. Netjes gewerkt.",
    "Uitgevoerd op onze afdeling, onder begeleiding van de ploegleider.",
    "Akkoord. Werkt veilig en vraagt op tijd om hulp.",
    "",
)
SIGNOFF_NOTES = (
    "Gezien tijdens de praktijkdag.",
    "Blijkt uit de goedgekeurde opdracht en het gesprek met de praktijkopleider.",
    "",
)


# --- entry point ------------------------------------------------------------------------------


def load_demo_data(today: date | None = None) -> bool:
    """Create the demo data as it would be on ``today``; False (and no change) if it is already there."""
    if accounts.find_user_by_email(COORDINATOR_EMAIL) is not None:
        return False
    today = today or clock.today()
    year = clock.school_year_start(today)
    start = first_monday_of_september(year)
    # Curriculum, accounts, companies and groups were set up two weeks before the start; the progress
    # up to today.
    with clock.frozen_at(local_moment(start - timedelta(weeks=2), 10)):
        programme = demo_programme()
        school_calendar.ensure_loaded()  # the cohorts' weeks skip the holidays
        cohorts = _create_people_and_cohorts(programme, year, start)
    _create_last_years_cohort(programme, year)
    moment = clock.now() if today == clock.today() else local_moment(today, 7)
    with clock.frozen_at(moment):
        _create_progress(programme, cohorts, today)
        _create_reviews_and_hours(cohorts, today)
        _create_attendance(cohorts, today)
        # The demo writes its rows directly, not through the services: summarise them all at once.
        progress.rebuild_summaries()
        progress.rebuild_cohort_summaries()
    return True


def _create_reviews_and_hours(cohorts: Sequence[DemoCohort], today: date) -> None:
    """Progress reviews and workplace hours for the dashboards: see ``lms.demo_dashboards``."""
    from lms.demo_dashboards import create_reviews_and_hours

    create_reviews_and_hours(cohorts, today)


def _create_attendance(cohorts: Sequence[DemoCohort], today: date) -> None:
    """Attendance on the training days before ``today``: see ``lms.demo_attendance``."""
    from lms.demo_attendance import create_attendance

    create_attendance(cohorts, today)


def _create_last_years_cohort(programme: Programme, year: int) -> None:
    """Last school year's finished cohort in Maastricht-Heuvelland, with certificates (one reissued, one
    revoked): see ``lms.demo_certificates``. Made before this year's progress, so the ledger is in order."""
    from lms.demo_certificates import create_finished_cohort

    coordinator = accounts.find_user_by_email(COORDINATOR_EMAIL)
    trainer = accounts.find_user_by_email(email("trainer3"))
    if coordinator is None or trainer is None:
        raise DemoDataError("The coordinator and trainer3 must exist before last year's cohort.")
    create_finished_cohort(programme, year=year, coordinator=coordinator, trainer=trainer)


def demo_programme() -> Programme:
    """The programme the cohorts are pinned to; loads curriculum/ first if no programme is loaded."""
    if db.session.scalar(sa.select(Programme.id).limit(1)) is None:
        from lms.services.curriculum import load_curriculum_files

        load_curriculum_files(sorted(CURRICULUM_DIR.glob("*.y*ml")))
    programme = db.session.scalar(
        sa.select(Programme)
        .order_by(
            (Programme.code == PROGRAMME_CODE).desc(), Programme.version.desc(), Programme.id.desc()
        )
        .limit(1)
    )
    if programme is None:
        raise DemoDataError(f"No curriculum loaded and none found in {CURRICULUM_DIR}.")
    return programme


def first_monday_of_september(year: int) -> date:
    first = date(year, 9, 1)
    return first + timedelta(days=-first.weekday() % 7)


def local_moment(day: date, hour: int, minute: int = 0) -> datetime:
    """A time of day in the Netherlands, as an aware UTC datetime."""
    return datetime.combine(day, time(hour, minute), clock.LOCAL_TZ).astimezone(UTC)


def email(local_part: str) -> str:
    return f"{local_part}@{EMAIL_DOMAIN}"


# --- people, employers and cohorts ------------------------------------------------------------


@dataclass
class DemoCohort:
    cohort: Cohort
    trainers: list[User]
    enrolments: list[tuple[int, Enrolment]]  # (participant number, enrolment)


def _create_user(
    local_part: str, person: Person, role: Role, created_by: User | None = None, **extra: object
) -> User:
    """A demo account with DEMO_PASSWORD, hashed with the application's method."""
    return accounts.create_user(
        email=email(local_part),
        first_name=person.first_name,
        name_prefix=person.name_prefix,
        last_name=person.last_name,
        role=role,
        password=DEMO_PASSWORD,
        actor=created_by,
        **extra,  # type: ignore[arg-type]
    )


def _create_people_and_cohorts(programme: Programme, year: int, start: date) -> list[DemoCohort]:
    coordinator = _create_user("coordinator", COORDINATOR, Role.COORDINATOR)
    trainers = [
        _create_user(f"trainer{number}", person, Role.TRAINER, created_by=coordinator)
        for number, person in enumerate(TRAINERS, start=1)
    ]
    employers: dict[Region, list[Employer]] = {}
    for number, spec in enumerate(EMPLOYERS, start=1):
        employer = Employer(
            name=spec.name,
            kvk_number=spec.kvk_number,
            street=spec.street,
            postcode=spec.postcode,
            city=spec.city,
            region=spec.region,
        )
        db.session.add(employer)
        db.session.flush()
        _create_user(
            f"werkgever{number}",
            spec.contact,
            Role.EMPLOYER,
            created_by=coordinator,
            employer=employer,
        )
        employers.setdefault(spec.region, []).append(employer)

    trainer1, trainer2, trainer3 = trainers
    tuesday, thursday = 1, 3  # the groups' training days
    groups = (
        (Region.PARKSTAD, [trainer1, trainer3], range(1, 13), tuesday),
        (Region.WESTELIJKE_MIJNSTREEK, [trainer2, trainer3], range(13, 25), thursday),
    )
    cohorts = []
    for region, cohort_trainers, numbers, training_day in groups:
        cohort = Cohort(
            name=f"{REGION_NAMES[region]} {year}-{year + 1}",
            region=region,
            programme=programme,
            start_date=start,
            **asdict(calendar_dates(programme, start)),
            training_days=weekday_bits([training_day]),
            trainers=cohort_trainers,
        )
        db.session.add(cohort)
        enrolments = []
        for position, number in enumerate(numbers):
            participant = _create_user(
                f"deelnemer{number:02d}",
                PARTICIPANTS[number - 1],
                Role.PARTICIPANT,
                created_by=coordinator,
            )
            regional = employers[region]
            enrolment = Enrolment(
                cohort=cohort,
                participant=participant,
                employer=regional[position % len(regional)],
                intake_type=IntakeType.SIDE_ENTRANT if number % 3 else IntakeType.EMPLOYED,
                enrolled_on=clock.today(),
            )
            db.session.add(enrolment)
            enrolments.append((number, enrolment))
        cohorts.append(DemoCohort(cohort, cohort_trainers, enrolments))
    db.session.flush()
    return cohorts


# --- progress ---------------------------------------------------------------------------------


@dataclass
class PlannedSignOff:
    at: datetime
    enrolment: Enrolment
    submission: Submission
    trainer: User
    level: int
    note: str


def _create_progress(programme: Programme, cohorts: Sequence[DemoCohort], today: date) -> None:
    """Work handed in, assessed and confirmed on days before ``today``; sign-offs last, in time order."""
    assignments = sorted(programme.assignments, key=lambda a: (a.due_week, a.position))
    planned: list[PlannedSignOff] = []
    confirmations: list[tuple[WorkplaceConfirmation, Attempt]] = []
    for demo in cohorts:
        due_assignments = [a for a in assignments if demo.cohort.due_date(a.due_week) < today]
        for number, enrolment in demo.enrolments:
            planned += _participant_progress(
                number, enrolment, demo, due_assignments, today, confirmations
            )
    db.session.flush()
    for confirmation, attempt in confirmations:  # the attempts have ids now
        confirmation.attempt_id = attempt.id
    db.session.flush()

    # Hundreds of sign-offs, no progress read meanwhile: the summaries are refreshed once.
    with progress.refreshed_once():
        _sign_planned(planned)


def _sign_planned(planned: list[PlannedSignOff]) -> None:
    signed: set[tuple[int, int]] = set()
    for plan in sorted(planned, key=lambda p: (p.at, p.enrolment.id, p.submission.id)):
        for item in _items_to_sign(plan.submission.assignment):
            if (plan.enrolment.id, item.id) in signed:
                continue
            signed.add((plan.enrolment.id, item.id))
            sign_off(
                enrolment=plan.enrolment,
                item=item,
                level=min(plan.level, item.required_level),
                actor=plan.trainer,
                at=plan.at,
                note=plan.note,
                evidence=[plan.submission],
            )


def _items_to_sign(assignment: Assignment) -> list[ChecklistItem]:
    """What an approved assignment shows: its first two technical items and its first skill."""
    technical = [item for item in assignment.competencies if item.kind is ChecklistKind.TECHNICAL]
    skills = [item for item in assignment.competencies if item.kind is ChecklistKind.SKILL21]
    return technical[:2] + skills[:1]


def _participant_progress(
    number: int,
    enrolment: Enrolment,
    demo: DemoCohort,
    due_assignments: Sequence[Assignment],
    today: date,
    confirmations: list[tuple[WorkplaceConfirmation, Attempt]],
) -> list[PlannedSignOff]:
    """One participant's work. Each assignment has its own seeded generator, so what happened before a
    given day is the same whichever later ``today`` the demo is made for."""
    cohort = demo.cohort
    contact = enrolment.employer.contacts[0]
    planned: list[PlannedSignOff] = []
    drafted_late_work = False

    for assignment in due_assignments:
        rng = random.Random(f"vakkracht-demo-{number}-{assignment.code}")  # nosec B311 - demo data, not security
        due = cohort.due_date(assignment.due_week)
        if number in BEHIND and due >= today - BEHIND_BY:
            # Behind: at most a draft of the first assignment they did not hand in, nothing after it.
            if not drafted_late_work:
                drafted_late_work = True
                started = max(cohort.start_date, due - timedelta(days=rng.randint(0, 5)))
                _draft(enrolment, assignment, rng, started, today)
            continue

        late = rng.random() < 0.12
        submit_day = due + timedelta(
            days=rng.randint(1, 6) if late else -rng.choice((0, 0, 1, 1, 2, 3))
        )
        started = max(cohort.start_date, submit_day - timedelta(days=rng.randint(2, 6)))
        if submit_day >= today:
            _draft(enrolment, assignment, rng, started, today)
            continue

        submission, attempt = _new_submission(enrolment, assignment, rng, started)
        _hand_in(
            submission, local_moment(submit_day, rng.randint(17, 21), rng.choice((0, 15, 30, 45)))
        )
        confirmation = _maybe_confirm(submission, contact, rng, submit_day, today)
        if confirmation is not None:
            confirmations.append((confirmation, attempt))

        trainer = rng.choice(demo.trainers)
        assess_day = _weekday(submit_day + timedelta(days=rng.randint(1, 6)))
        if assess_day >= today:
            continue  # handed in, waiting for the trainer
        assessed_at = local_moment(assess_day, rng.randint(9, 15), rng.choice((0, 10, 20, 40)))
        if rng.random() < 0.1:
            _assess(submission, attempt, trainer, Verdict.NEEDS_REVISION, rng, assessed_at)
            resubmit_day = assess_day + timedelta(days=rng.randint(2, 8))
            if rng.random() < 0.3 or resubmit_day >= today:
                continue  # not revised (yet)
            attempt = _revise(submission, rng, assessed_at)
            _hand_in(submission, local_moment(resubmit_day, rng.randint(17, 21)))
            assess_day = _weekday(resubmit_day + timedelta(days=rng.randint(1, 4)))
            if assess_day >= today:
                continue
            assessed_at = local_moment(assess_day, rng.randint(9, 15), rng.choice((0, 10, 20, 40)))
        _assess(submission, attempt, trainer, Verdict.APPROVED, rng, assessed_at)

        # The trainer signs off what the first approved assignments show.
        signed_day = _weekday(assess_day + timedelta(days=rng.randint(0, 3)))
        if len(planned) < 2 and signed_day < today and rng.random() < 0.8:
            planned.append(
                PlannedSignOff(
                    at=local_moment(signed_day, 16, rng.choice((0, 15, 30))),
                    enrolment=enrolment,
                    submission=submission,
                    trainer=trainer,
                    level=rng.choice((1, 2, 2, 3)),
                    note=rng.choice(SIGNOFF_NOTES),
                )
            )
    return planned


def _weekday(day: date) -> date:
    """Trainers and employers work on weekdays: a Saturday or Sunday moves on to the Monday."""
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def _reflection(assignment: Assignment, rng: random.Random) -> tuple[str, str, str]:
    did, went_well, learned = REFLECTIONS.get(
        assignment.code,
        (
            f"Ik heb de opdracht '{assignment.title}' op mijn werkplek uitgevoerd.",
            "Ik heb het werk volgens de instructie gedaan en op tijd afgerond.",
            "Ik weet nu beter waar ik op moet letten bij dit soort werk.",
        ),
    )
    extra = rng.choice(EXTRA_REMARKS)
    return (f"{did} {extra}".strip(), went_well, learned)


def _new_submission(
    enrolment: Enrolment, assignment: Assignment, rng: random.Random, started: date
) -> tuple[Submission, Attempt]:
    created_at = local_moment(started, rng.randint(12, 20), rng.choice((5, 25, 35, 50)))
    did, went_well, learned = _reflection(assignment, rng)
    attempt = Attempt(
        number=1,
        what_i_did=did,
        what_went_well=went_well,
        what_i_learned=learned,
        created_at=created_at,
    )
    submission = Submission(
        enrolment=enrolment,
        assignment=assignment,
        status=SubmissionStatus.DRAFT,
        created_at=created_at,
        updated_at=created_at,
        attempts=[attempt],
    )
    db.session.add(submission)
    return submission, attempt


def _draft(
    enrolment: Enrolment, assignment: Assignment, rng: random.Random, started: date, today: date
) -> None:
    """Work begun but not handed in: only the first question answered."""
    if started >= today:
        return
    submission, attempt = _new_submission(enrolment, assignment, rng, started)
    attempt.what_went_well = ""
    attempt.what_i_learned = ""


def _hand_in(submission: Submission, at: datetime) -> None:
    submission.submit(at)
    submission.updated_at = at


def _assess(
    submission: Submission,
    attempt: Attempt,
    trainer: User,
    verdict: Verdict,
    rng: random.Random,
    at: datetime,
) -> None:
    feedback = rng.choice(APPROVED_FEEDBACK if verdict is Verdict.APPROVED else REVISION_FEEDBACK)
    db.session.add(
        Assessment(
            attempt=attempt, assessor=trainer, verdict=verdict, feedback=feedback, created_at=at
        )
    )
    submission.record_verdict(verdict, at)
    submission.updated_at = at


def _revise(submission: Submission, rng: random.Random, after: datetime) -> Attempt:
    """The participant opens a new attempt after a "needs revision" verdict."""
    previous = submission.current_attempt
    assert previous is not None
    attempt = Attempt(
        number=previous.number + 1,
        what_i_did=f"{previous.what_i_did} {REVISION_REMARK}",
        what_went_well=previous.what_went_well,
        what_i_learned=f"{previous.what_i_learned} Ik heb de punten uit de feedback verwerkt.",
        created_at=after + timedelta(hours=rng.randint(6, 30)),
    )
    submission.attempts.append(attempt)
    return attempt


def _maybe_confirm(
    submission: Submission, contact: User, rng: random.Random, submit_day: date, today: date
) -> WorkplaceConfirmation | None:
    """The employer's contact confirms most handed-in work that needs a workplace confirmation."""
    if not submission.assignment.requires_workplace_confirmation or rng.random() < 0.25:
        return None
    day = _weekday(submit_day + timedelta(days=rng.randint(1, 3)))
    if day >= today:
        return None
    confirmation = WorkplaceConfirmation(
        submission=submission,
        confirmed_by=contact,
        remark=rng.choice(CONFIRMATION_REMARKS),
        confirmed_at=local_moment(day, rng.randint(8, 15), rng.choice((0, 30))),
    )
    db.session.add(confirmation)
    return confirmation
