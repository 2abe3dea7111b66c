"""Generate a benchmark database at scale: the schema by the real migrations, the curriculum by the real
loader (`lms curriculum load`), and then cohorts, people, submissions and sign-offs inserted in bulk.

    python -m benchmarks.generate [--database-url URL] [--scale 1.0] [--force]

At scale 1: 500 cohorts of 12 across the three regions (6,000 participants, one enrolment each), about
1,500 employers with a contact each, 50 trainers, 96,000 submissions (16 assignments x 6,000 enrolments,
the most the unique (enrolment, assignment) pair allows) with their attempts and assessments, and about
250,000 sign-offs, one in 200 of them revoked later, and the attendance of every training day so far
(about 135,000 records). Cohorts started between a week and a year ago, so
every stage of the year is there; the oldest tenth has finished, with certificates (at least one cohort,
whatever the scale).

The sign-off ledger is chain-valid: records are numbered in the order they were signed and each record's
hash is computed exactly as ``SignOff.compute_hash`` does (``lms ledger verify`` passes).

Each certificate's PDF is made as issuing makes it (``certificate_text`` and ``render_certificate``) and
stored through the application's storage under a real key, in a folder per database
(``benchmarks.common.evidence_folder``), so it downloads. The progress summaries (per enrolment and
per cohort) are built by ``progress.rebuild_summaries`` and ``progress.rebuild_cohort_summaries``, the
code path of ``lms progress rebuild``, and checked with ``progress.verify_summaries`` (printed).

Without --force an existing benchmark database of the same scale is left as it is; one of another scale
(``make bench BENCH_SCALE=5`` after a run at scale 1) is dropped and generated again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from benchmarks.common import (
    COORDINATOR_EMAIL,
    DEFAULT_SQLITE_URL,
    EMPLOYER_EMAIL,
    PARTICIPANT_EMAIL,
    PASSWORD,
    ROOT,
    TRAINER_EMAIL,
    bench_app,
    command_line,
    evidence_folder,
    is_postgres,
    summaries_line,
)
from lms.holidays import is_public_holiday
from lms.names import person_sort_key

BATCH = 5_000
ABSENCE_REASONS = ("sick", "sick", "authorised", "unauthorised")
SIGNOFFS_PER_ENROLMENT = 250_000 / 6_000
REVOKED_SHARE = 1 / 200  # of the sign-offs, revoked later by the same trainer
GENESIS_HASH = "0" * 64

FIRST_NAMES = [
    "Anouk",
    "Bram",
    "Daan",
    "Emma",
    "Fleur",
    "Gijs",
    "Hanna",
    "Ilse",
    "Jesse",
    "Julia",
    "Kevin",
    "Lars",
    "Lotte",
    "Luuk",
    "Maud",
    "Milan",
    "Noa",
    "Noah",
    "Ruben",
    "Sanne",
    "Sem",
    "Sophie",
    "Stijn",
    "Tess",
    "Thijs",
    "Tim",
    "Vera",
    "Wout",
    "Yara",
    "Zoë",
    "Mohamed",
    "Fatima",
    "Ayoub",
    "Selin",
    "Piotr",
]
PREFIXES = ("", "", "", "van", "de", "van der", "van den", "ter")
LAST_NAMES = [
    "Janssen",
    "Smeets",
    "Peters",
    "Hendriks",
    "Willems",
    "Vliegen",
    "Coenen",
    "Bemelmans",
    "Huynen",
    "Schepers",
    "Lemmens",
    "Frissen",
    "Brouwers",
    "Kurvers",
    "Habets",
    "Schreurs",
    "Ramakers",
    "Dassen",
    "Wetzels",
    "Meijers",
    "Notermans",
    "Jongen",
    "Partouns",
    "Dohmen",
]
CITIES = {
    "parkstad": ("Heerlen", "Kerkrade", "Landgraaf", "Brunssum", "Simpelveld"),
    "westelijke_mijnstreek": ("Sittard", "Geleen", "Beek", "Stein", "Born"),
    "maastricht_heuvelland": ("Maastricht", "Valkenburg", "Meerssen", "Eijsden", "Gulpen"),
}
REGIONS = tuple(CITIES)
COMPANY_WORDS = [
    "Metaal",
    "Montage",
    "Techniek",
    "Productie",
    "Constructie",
    "Kunststof",
    "Machinebouw",
    "Precisie",
]


@dataclass
class Scale:
    cohorts: int
    trainers: int
    employers: int
    coordinators: int = 5
    trainer_cohorts: int = 25  # the benchmark trainer's cohorts
    big_employer_staff: int = 120  # employees of the benchmark employer contact's company

    @classmethod
    def of(cls, factor: float) -> Scale:
        cohorts = max(3, round(500 * factor))
        return cls(
            cohorts=cohorts,
            trainers=max(2, round(50 * factor)),
            employers=max(3, round(1_500 * factor)),
            trainer_cohorts=min(cohorts, 25),
            big_employer_staff=min(cohorts * 12 // 2, 120),
        )


def utc(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def person(rng: random.Random) -> dict[str, str]:
    name = {
        "first_name": rng.choice(FIRST_NAMES),
        "name_prefix": rng.choice(PREFIXES),
        "last_name": rng.choice(LAST_NAMES),
    }
    # Rows inserted without the ORM: the sort key the model keeps (lms/names.py).
    return {**name, "sort_key": person_sort_key(**name)}


def insert(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        conn.execute(table.insert(), list(rows[start : start + BATCH]))


def signoff_hash(record: dict[str, Any]) -> str:
    """``SignOff.compute_hash`` for a record without evidence, from its column values."""
    content = {
        "sequence": record["sequence"],
        "kind": record["kind"],
        "enrolment_id": record["enrolment_id"],
        "checklist_item_id": record["checklist_item_id"],
        "level": record["level"],
        "note": record["note"],
        "revokes_id": record["revokes_id"],
        "signed_by_id": record["signed_by_id"],
        "signed_at": record["signed_at"].isoformat(timespec="microseconds"),
        "evidence": [],
        "previous_hash": record["previous_hash"],
    }
    payload = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def chain(records: list[dict[str, Any]], first_id: int = 1) -> None:
    """Number the records in the order they were signed and link each to the one before. A revocation
    names the record it revokes under ``"revokes"`` (signed before it, so numbered first)."""
    records.sort(
        key=lambda r: (r["signed_at"], r["enrolment_id"], r["checklist_item_id"], r["level"])
    )
    previous = GENESIS_HASH
    for offset, record in enumerate(records):
        record["id"] = record["sequence"] = first_id + offset
        revokes = record.pop("revokes", None)
        record["revokes_id"] = revokes["id"] if revokes is not None else None
        record["previous_hash"] = previous
        record["record_hash"] = previous = signoff_hash(record)


# --- the database ---------------------------------------------------------------------------------


def prepare_database(database_url: str, force: bool) -> None:
    """Create the PostgreSQL database or the SQLite file's folder; with ``force`` start empty."""
    url = sa.make_url(database_url)
    if is_postgres(database_url):
        admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            )
            quoted = admin.dialect.identifier_preparer.quote(url.database or "")
            if exists and force:
                conn.execute(sa.text(f"DROP DATABASE {quoted} WITH (FORCE)"))
                exists = None
            if not exists:
                conn.execute(sa.text(f"CREATE DATABASE {quoted}"))
                force = True  # a new database: files of an earlier one of that name are stale
        admin.dispose()
    elif url.database:
        target = ROOT / url.database  # an absolute path stays itself
        target.parent.mkdir(parents=True, exist_ok=True)
        if force and target.exists():
            target.unlink()
        force = force or not target.exists()
    if force:
        shutil.rmtree(evidence_folder(database_url), ignore_errors=True)


def existing_scale(conn: sa.Connection) -> int | None:
    """How many cohorts an earlier run generated, or None when the database holds no benchmark data."""
    try:
        found = conn.scalar(
            sa.text("SELECT count(*) FROM users WHERE email = :email"), {"email": COORDINATOR_EMAIL}
        )
    except sa.exc.DBAPIError:
        return None
    if not found:
        return None
    return int(conn.scalar(sa.text("SELECT count(*) FROM cohorts")) or 0)


def reset_sequences(conn: sa.Connection, tables: Iterable[str]) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the highest id."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # nosec B608 - fixed names
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
        )


# --- the data -------------------------------------------------------------------------------------


def generate(
    database_url: str, factor: float = 1.0, force: bool = False, seed: int = 11
) -> dict[str, int]:
    """Build the benchmark database; returns the row counts. Idempotent without ``force``."""
    prepare_database(database_url, force)
    app = bench_app(database_url)
    scale = Scale.of(factor)
    with app.app_context():
        from flask_migrate import upgrade

        from lms import clock
        from lms.extensions import db

        upgrade()
        with db.engine.connect() as conn:
            present = existing_scale(conn)
        if present is not None:
            if present == scale.cohorts:
                settle(db.engine)  # a migration may have just added rows
                return counts(db.engine)
            print(
                f"{database_url} holds benchmark data of another scale ({present} cohorts, not"
                f" {scale.cohorts}): generating it again",
                file=sys.stderr,
            )
            db.session.remove()
            db.engine.dispose()
            return generate(database_url, factor, force=True, seed=seed)
        result = app.test_cli_runner().invoke(args=["lms", "curriculum", "load"])
        if result.exit_code != 0:
            raise SystemExit(f"curriculum load failed: {result.output}")
        with db.engine.begin() as conn:
            fill(conn, db.metadata, scale, random.Random(seed), today=clock.today())
        with app.test_request_context():
            store_certificate_pdfs()
            from lms.services import progress

            progress.rebuild_summaries()
            progress.rebuild_cohort_summaries()
            db.session.commit()
        settle(db.engine)
        return counts(db.engine)


def settle(engine: sa.Engine) -> None:
    """Leave a PostgreSQL database as autovacuum keeps a production one: statistics and visibility map
    up to date, so the planner estimates from the real rows and can scan an index only (the ANALYZE
    in ``fill`` runs before the summaries exist)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM (ANALYZE)"))


def store_certificate_pdfs(batch_size: int = 100) -> int:
    """Make and store every certificate's PDF as issuing does, and record its key and SHA-256 (the rows
    arrive from ``fill`` with neither). Returns how many."""
    from sqlalchemy.orm import joinedload

    from lms import clock
    from lms.extensions import db
    from lms.models import Certificate, Cohort, Enrolment
    from lms.pdf.certificate import render_certificate
    from lms.services.certificates import certificate_text
    from lms.storage import get_storage

    storage = get_storage()
    stored, after = 0, 0
    while True:
        batch = db.session.scalars(
            sa.select(Certificate)
            .where(Certificate.id > after)
            .order_by(Certificate.id)
            .limit(batch_size)
            .options(
                joinedload(Certificate.issued_by),
                joinedload(Certificate.enrolment).options(
                    joinedload(Enrolment.participant),
                    joinedload(Enrolment.employer),
                    joinedload(Enrolment.cohort).joinedload(Cohort.programme),
                    joinedload(Enrolment.cohort).selectinload(Cohort.trainers),
                ),
            )
        ).all()
        if not batch:
            return stored
        for certificate in batch:
            pdf = render_certificate(
                certificate_text(
                    certificate.enrolment,
                    number=certificate.number,
                    code=certificate.verification_code,
                    issued_on=certificate.issued_at.astimezone(clock.LOCAL_TZ).date(),
                    issuer=certificate.issued_by,
                )
            )
            certificate.pdf_storage_key = storage.save(pdf, ".pdf")
            certificate.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        db.session.commit()
        stored += len(batch)
        after = batch[-1].id


# The tables the generator fills with rows of its own ids (counted, and their id sequences moved on).
GENERATED_TABLES = (
    "users",
    "employers",
    "cohorts",
    "enrolments",
    "submissions",
    "attempts",
    "assessments",
    "workplace_confirmations",
    "signoffs",
    "certificates",
    "attendance_sessions",
    "attendance_records",
)


def counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: int(conn.scalar(sa.text(f"SELECT count(*) FROM {name}")) or 0)  # nosec B608 - fixed
            for name in GENERATED_TABLES
        }


def fill(
    conn: sa.Connection, metadata: sa.MetaData, scale: Scale, rng: random.Random, today: date
) -> None:
    t = metadata.tables
    programme = conn.execute(sa.text("SELECT id, title, level FROM programmes ORDER BY id")).first()
    assert programme is not None, "no curriculum loaded"
    assignments = conn.execute(
        sa.text(
            "SELECT id, due_week, requires_workplace_confirmation FROM assignments"
            " WHERE programme_id = :p ORDER BY due_week, id"
        ),
        {"p": programme.id},
    ).all()
    items = [
        row.id
        for row in conn.execute(
            sa.text(
                "SELECT i.id FROM checklist_items i JOIN checklist_groups g ON g.id = i.group_id"
                " WHERE i.programme_id = :p ORDER BY g.position, i.position"
            ),
            {"p": programme.id},
        )
    ]
    duration_weeks = 40
    now = utc(today, 9)
    password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")

    # Employers and their contacts.
    employers, users = [], []
    user_id = 0

    def add_user(role: str, email: str, **extra: Any) -> int:
        nonlocal user_id
        user_id += 1
        users.append(
            {
                "id": user_id,
                "email": email,
                **person(rng),
                "role": role,
                "password_hash": password_hash,
                "employer_id": extra.get("employer_id"),
                "last_login_at": now - timedelta(days=rng.randint(0, 30)),
            }
        )
        return user_id

    for number in range(1, scale.employers + 1):
        region = REGIONS[number % 3]
        employers.append(
            {
                "id": number,
                "name": f"{rng.choice(COMPANY_WORDS)} {rng.choice(LAST_NAMES)} {number} B.V.",
                "kvk_number": f"{10_000_000 + number:08d}",
                "street": f"Industrieweg {number % 200 + 1}",
                "postcode": f"6{number % 900 + 100:03d} AB",
                "city": rng.choice(CITIES[region]),
                "region": region,
            }
        )
    contact_of: dict[int, int] = {}
    for employer in employers:
        email = EMPLOYER_EMAIL if employer["id"] == 1 else f"contact{employer['id']}@bench.example"
        contact_of[employer["id"]] = add_user("employer", email, employer_id=employer["id"])
    coordinators = [
        add_user("coordinator", COORDINATOR_EMAIL if n == 0 else f"coordinator{n}@bench.example")
        for n in range(scale.coordinators)
    ]
    trainers = [
        add_user("trainer", TRAINER_EMAIL if n == 0 else f"trainer{n}@bench.example")
        for n in range(scale.trainers)
    ]

    # Cohorts: started between a week and 46 weeks ago; the benchmark trainer's cohorts first. At
    # least one has finished (the last one, if none before it did: a tiny scale), so there are certificates.
    cohorts, cohort_trainers = [], []
    any_finished = False
    for number in range(1, scale.cohorts + 1):
        region = REGIONS[number % 3]
        weeks_ago = 1 + (number * 7919) % 46
        if number == scale.cohorts and not any_finished:
            weeks_ago = 44
        any_finished = any_finished or weeks_ago > duration_weeks
        start = today - timedelta(weeks=weeks_ago)
        start -= timedelta(days=start.weekday())  # a Monday
        cohorts.append(
            {
                "id": number,
                "name": f"{region[:3].upper()}-{start.year}-{number:04d}",
                "region": region,
                "programme_id": programme.id,
                "start_date": start,
                "end_date": start + timedelta(weeks=duration_weeks),
                "capacity": 12,
                "created_at": utc(start - timedelta(weeks=4)),
            }
        )
        first = 0 if number <= scale.trainer_cohorts else 1 + number % (len(trainers) - 1)
        pair = {trainers[first], trainers[1 + (number * 3) % (len(trainers) - 1)]}
        cohort_trainers += [{"cohort_id": number, "trainer_id": trainer} for trainer in pair]

    # Participants: twelve per cohort; the benchmark employer employs many, spread over cohorts.
    enrolments, by_region = (
        [],
        {r: [e["id"] for e in employers if e["region"] == r] for r in REGIONS},
    )
    big_staff = 0
    participant_email_taken = False
    for cohort in cohorts:
        finished = cohort["end_date"] < today
        for seat in range(12):
            email = f"participant{user_id + 1}@bench.example"
            if not participant_email_taken and (today - cohort["start_date"]).days > 20 * 7:
                email, participant_email_taken = PARTICIPANT_EMAIL, True
            participant = add_user("participant", email)
            if big_staff < scale.big_employer_staff and seat == 0:
                employer_id, big_staff = 1, big_staff + 1
            else:
                employer_id = rng.choice(by_region[cohort["region"]])
            status, ended_on = "active", None
            if finished:
                status, ended_on = "completed", cohort["end_date"]
            elif rng.random() < 0.04 and email != PARTICIPANT_EMAIL:
                status, ended_on = "withdrawn", today - timedelta(days=rng.randint(1, 60))
            enrolments.append(
                {
                    "id": len(enrolments) + 1,
                    "cohort_id": cohort["id"],
                    "participant_id": participant,
                    "employer_id": employer_id,
                    "intake_type": rng.choice(("side_entrant", "employed")),
                    "status": status,
                    "enrolled_on": cohort["start_date"],
                    "ended_on": ended_on,
                    "end_reason": "" if status != "withdrawn" else "Andere baan gevonden",
                    "created_at": cohort["created_at"],
                    "updated_at": now - timedelta(days=rng.randint(0, 14)),
                }
            )
    cohort_by_id = {c["id"]: c for c in cohorts}
    trainers_of: dict[int, list[int]] = {}
    for link in cohort_trainers:
        trainers_of.setdefault(link["cohort_id"], []).append(link["trainer_id"])

    # Submissions for every assignment: approved when long due, handed in or sent back around the
    # current week, a draft after that; attempts, assessments and workplace confirmations to match.
    submissions, attempts, assessments, confirmations, signoffs = [], [], [], [], []
    for enrolment in enrolments:
        cohort = cohort_by_id[enrolment["cohort_id"]]
        start = cohort["start_date"]
        week = min(duration_weeks + 1, (today - start).days // 7 + 1)
        assessor = trainers_of[cohort["id"]][0]
        for assignment in assignments:
            due = start + timedelta(weeks=assignment.due_week - 1, days=4)
            lag = assignment.due_week - week
            roll = rng.random()
            if lag < -2 and roll < 0.9:
                status = "approved"
            elif lag < 2 and roll < 0.6:
                status = rng.choice(("submitted", "submitted", "needs_revision", "approved"))
            else:
                status = "draft"
            handed_in = min(
                utc(due, 14) - timedelta(days=rng.randint(0, 5)), now - timedelta(hours=2)
            )
            sub_id = len(submissions) + 1
            rounds = 0 if status == "draft" else (2 if rng.random() < 0.2 else 1)
            approved_at = handed_in + timedelta(days=2) if status == "approved" else None
            if approved_at is not None and approved_at > now:
                approved_at = now - timedelta(hours=1)
            submissions.append(
                {
                    "id": sub_id,
                    "enrolment_id": enrolment["id"],
                    "assignment_id": assignment.id,
                    "status": status,
                    "created_at": handed_in - timedelta(days=3),
                    "updated_at": approved_at or handed_in,
                    "submitted_at": handed_in if rounds else None,
                    "approved_at": approved_at,
                }
            )
            for number in range(1, max(rounds, 1) + 1):
                attempt_id = len(attempts) + 1
                last = number == max(rounds, 1)
                attempts.append(
                    {
                        "id": attempt_id,
                        "submission_id": sub_id,
                        "number": number,
                        "what_i_did": "Ik heb de opdracht op de werkvloer uitgevoerd.",
                        "what_went_well": "Het meten ging goed." if rounds else "",
                        "what_i_learned": "Eerst controleren, dan monteren." if rounds else "",
                        "created_at": handed_in - timedelta(days=3),
                        "submitted_at": handed_in if rounds else None,
                    }
                )
                if rounds and (not last or status in ("approved", "needs_revision")):
                    verdict = "approved" if last and status == "approved" else "needs_revision"
                    assessments.append(
                        {
                            "attempt_id": attempt_id,
                            "assessor_id": assessor,
                            "verdict": verdict,
                            "feedback": "Goed gedaan." if verdict == "approved" else "Foto erbij.",
                            "created_at": handed_in + timedelta(days=1),
                        }
                    )
            if status == "approved" and assignment.requires_workplace_confirmation:
                confirmations.append(
                    {
                        "submission_id": sub_id,
                        "attempt_id": len(attempts),
                        "confirmed_by_id": contact_of[enrolment["employer_id"]],
                        "remark": "",
                        "confirmed_at": handed_in + timedelta(days=1),
                    }
                )
        # Sign-offs: items in curriculum order, level by level, more the further the year has gone.
        progress = min(1.0, week / duration_weeks)
        wanted = round(SIGNOFFS_PER_ENROLMENT * 2 * progress * rng.uniform(0.7, 1.0))
        wanted = min(wanted, len(items) * 4)
        for k in range(wanted):
            signed_on = start + timedelta(days=int((today - start).days * (k + 1) / (wanted + 1)))
            record = {
                "kind": "sign_off",
                "enrolment_id": enrolment["id"],
                "checklist_item_id": items[k % len(items)],
                "level": 1 + k // len(items),
                "note": "",
                "signed_by_id": assessor,
                "signed_at": utc(min(signed_on, today - timedelta(days=1)), 9 + k % 8, k % 60),
            }
            signoffs.append(record)
            if rng.random() < REVOKED_SHARE:  # revoked that night (before "now": 09:00 today)
                signoffs.append(
                    {
                        **record,
                        "kind": "revocation",
                        "note": "Per abuis afgetekend.",
                        "signed_at": record["signed_at"] + timedelta(hours=12),
                        "revokes": record,
                    }
                )
    chain(signoffs)
    sessions, records = attendance(cohorts, enrolments, trainers_of, rng, today)

    # Certificates for the finished cohorts' participants.
    certificates = []
    for enrolment in enrolments:
        if enrolment["status"] != "completed":
            continue
        cohort = cohort_by_id[enrolment["cohort_id"]]
        number = len(certificates) + 1
        certificates.append(
            {
                "id": number,
                "enrolment_id": enrolment["id"],
                "number": f"VK-{cohort['end_date'].year}-BN-{number:04d}",
                "verification_code": hashlib.sha256(f"bench-{number}".encode()).hexdigest()[:32],
                "holder_name": "Deelnemer",
                "programme_title": programme.title,
                "issued_at": utc(cohort["end_date"] + timedelta(days=3)),
                "issued_by_id": coordinators[0],
                "pdf_storage_key": f"bench/certificate-{number}.pdf",
                "pdf_sha256": hashlib.sha256(b"").hexdigest(),
                "revocation_reason": "",
            }
        )
    names = {u["id"]: u for u in users}
    for certificate in certificates:
        enrolment = enrolments[certificate["enrolment_id"] - 1]
        holder = names[enrolment["participant_id"]]
        certificate["holder_name"] = " ".join(
            p for p in (holder["first_name"], holder["name_prefix"], holder["last_name"]) if p
        )

    for name, rows in (
        ("employers", employers),
        ("users", users),
        ("cohorts", cohorts),
        ("cohort_trainers", cohort_trainers),
        ("enrolments", enrolments),
        ("submissions", submissions),
        ("attempts", attempts),
        ("assessments", assessments),
        ("workplace_confirmations", confirmations),
        ("signoffs", signoffs),
        ("certificates", certificates),
        ("attendance_sessions", sessions),
        ("attendance_records", records),
    ):
        insert(conn, t[name], rows)
    reset_sequences(conn, GENERATED_TABLES)
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ANALYZE"))


def attendance(
    cohorts: Sequence[dict[str, Any]],
    enrolments: Sequence[dict[str, Any]],
    trainers_of: dict[int, list[int]],
    rng: random.Random,
    today: date,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every training day (the cohorts train on Mondays, the weekday they start) before today recorded
    for the whole group, but for a running cohort's last one now and then (not recorded yet): most
    present, some late, some absent with a reason."""
    sessions: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    group: dict[int, list[dict[str, Any]]] = {}
    for enrolment in enrolments:
        group.setdefault(enrolment["cohort_id"], []).append(enrolment)
    for cohort in cohorts:
        last = min(cohort["end_date"], today - timedelta(days=1))
        days = [
            cohort["start_date"] + timedelta(weeks=week)
            for week in range((last - cohort["start_date"]).days // 7 + 1)
        ]
        days = [day for day in days if not is_public_holiday(day)]
        if days and cohort["end_date"] >= today and rng.random() < 0.2:
            days.pop()
        for held_on in days:
            sessions.append(
                {
                    "id": len(sessions) + 1,
                    "cohort_id": cohort["id"],
                    "held_on": held_on,
                    "recorded_by_id": trainers_of[cohort["id"]][0],
                    "recorded_at": utc(held_on, 16),
                }
            )
            for enrolment in group[cohort["id"]]:
                if enrolment["ended_on"] is not None and enrolment["ended_on"] <= held_on:
                    continue
                roll = rng.random()
                status, reason = "present", None
                if roll > 0.94:
                    status, reason = "absent", rng.choice(ABSENCE_REASONS)
                elif roll > 0.88:
                    status = "late"
                records.append(
                    {
                        "id": len(records) + 1,
                        "session_id": len(sessions),
                        "enrolment_id": enrolment["id"],
                        "status": status,
                        "reason": reason,
                        "note": "",
                    }
                )
    return sessions, records


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_SQLITE_URL)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 500 cohorts, 6,000 people")
    parser.add_argument("--force", action="store_true", help="drop and generate again")
    args = parser.parse_args(argv)
    command = command_line("benchmarks.generate", sys.argv[1:] if argv is None else argv)
    print(f"command: {command}")
    started = time.perf_counter()
    result = generate(args.database_url, args.scale, args.force)
    seconds = time.perf_counter() - started
    print(f"{args.database_url}: " + ", ".join(f"{v:,} {k}" for k, v in result.items()))
    print(f"ready in {seconds:.1f} s")
    app = bench_app(args.database_url)
    with app.app_context():
        from lms.services import progress

        started = time.perf_counter()
        line = summaries_line(progress.verify_summaries())
    print(f"{line} (verified in {time.perf_counter() - started:.1f} s)")
    return 0 if line.startswith("progress summaries: OK") else 1


if __name__ == "__main__":
    sys.exit(main())
