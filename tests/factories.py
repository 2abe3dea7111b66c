"""Small builders for test data. Each flushes, so ids exist; the test decides when to commit."""

from __future__ import annotations

import itertools
from dataclasses import asdict
from datetime import date, datetime, time

import sqlalchemy as sa

from lms import clock
from lms.extensions import db
from lms.models import (
    Assignment,
    Attempt,
    AttendanceRecord,
    AttendanceSession,
    AttendanceStatus,
    ChecklistGroup,
    ChecklistItem,
    ChecklistKind,
    Cohort,
    Employer,
    Enrolment,
    EvidenceFile,
    IntakeType,
    Period,
    Programme,
    Region,
    Role,
    Submission,
    User,
)
from lms.services import progress
from lms.services.cohorts import calendar_dates

PASSWORD = "correct-horse-battery"
_sequence = itertools.count(1)


def make_user(
    role: Role = Role.PARTICIPANT,
    *,
    email: str | None = None,
    password: str | None = PASSWORD,
    employer: Employer | None = None,
    active: bool = True,
    **fields: object,
) -> User:
    n = next(_sequence)
    if role is Role.EMPLOYER and employer is None:
        employer = make_employer()
    user = User(
        email=email or f"{role.value}{n}@example.org",
        first_name=fields.pop("first_name", f"Voornaam{n}"),
        last_name=fields.pop("last_name", f"Achternaam{n}"),
        role=role,
        employer=employer,
        is_active_account=active,
        **fields,
    )
    if password is not None:
        user.set_password(password, method="pbkdf2:sha256:1000")
    db.session.add(user)
    db.session.flush()
    return user


def login_token(user: User, *, remember: bool = False, at: datetime | None = None) -> str:
    """A login session for ``user`` (as after the login form); returns the token a browser keeps in its
    session (``_user_id``) and remember cookie."""
    from lms.services import login_sessions

    login_sessions.start(
        user,
        remember=remember,
        ip_address="127.0.0.1",
        user_agent="Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/130.0 Mobile Safari/537.36",
        at=at or clock.now(),
    )
    assert user.login_token is not None
    return user.login_token


def make_employer(**fields: object) -> Employer:
    n = next(_sequence)
    employer = Employer(
        name=fields.pop("name", f"Metaalbedrijf {n} B.V."),
        kvk_number=fields.pop("kvk_number", f"{10000000 + n:08d}"),
        city=fields.pop("city", "Heerlen"),
        region=fields.pop("region", Region.PARKSTAD),
        **fields,
    )
    db.session.add(employer)
    db.session.flush()
    return employer


def make_programme(*, code: str = "TEST", version: int = 1, assignments: int = 3) -> Programme:
    """A small programme: one period, ``assignments`` assignments, one item of each kind."""
    programme = Programme(
        code=code,
        version=version,
        title="Testprogramma",
        level=2,
        duration_weeks=40,
        bpv_hours_target=610,
        training_hours_target=200,
        training_day_hours=6,
        content_hash=f"{next(_sequence):064d}",
    )
    period = Period(
        programme=programme,
        code="P1",
        title="Veilig starten",
        position=1,
        start_week=1,
        end_week=10,
    )
    technical = ChecklistGroup(
        programme=programme,
        kind=ChecklistKind.TECHNICAL,
        code="VEI",
        title="Veiligheid",
        position=1,
    )
    skills = ChecklistGroup(
        programme=programme,
        kind=ChecklistKind.SKILL21,
        code="ICT",
        title="ICT-basisvaardigheden",
        position=2,
    )
    pbm = ChecklistItem(
        programme=programme,
        group=technical,
        code="T01",
        title="Draagt juiste PBM",
        indicators=["Kiest PBM bij de taak"],
        required_level=2,
        position=1,
    )
    login = ChecklistItem(
        programme=programme,
        group=skills,
        code="D1",
        title="Logt veilig in",
        indicators=["Gebruikt een sterk wachtwoord"],
        required_level=2,
        position=1,
    )
    for number in range(1, assignments + 1):
        Assignment(
            programme=programme,
            period=period,
            code=f"A{number}",
            title=f"Opdracht {number}",
            instructions="Doe het werk en laat zien wat je deed.",
            position=number,
            due_week=number * 3,
            competencies=[pbm, login],
        )
    db.session.add(programme)
    db.session.flush()
    return programme


def make_cohort(
    programme: Programme | None = None,
    *,
    region: Region = Region.PARKSTAD,
    start: date = date(2026, 9, 7),
    trainers: list[User] | None = None,
    **fields: object,
) -> Cohort:
    programme = programme or make_programme()
    cohort = Cohort(
        name=fields.pop("name", f"Cohort {next(_sequence)}"),
        region=region,
        programme=programme,
        start_date=start,
        **asdict(calendar_dates(programme, start)),
        trainers=trainers or [],
        **fields,
    )
    db.session.add(cohort)
    db.session.flush()
    return cohort


def make_enrolment(
    cohort: Cohort | None = None,
    participant: User | None = None,
    employer: Employer | None = None,
    **fields: object,
) -> Enrolment:
    cohort = cohort or make_cohort()
    enrolment = Enrolment(
        cohort=cohort,
        participant=participant or make_user(Role.PARTICIPANT),
        employer=employer or make_employer(),
        intake_type=fields.pop("intake_type", IntakeType.SIDE_ENTRANT),
        enrolled_on=fields.pop("enrolled_on", cohort.start_date),
        **fields,
    )
    db.session.add(enrolment)
    db.session.flush()
    progress.refresh_summaries([enrolment])
    return enrolment


def make_attendance_recorded(cohort: Cohort, until: date | None = None) -> None:
    """Every training day of ``cohort`` up to ``until`` (its end if None) not recorded yet recorded
    as rows, whoever was in the group present: tests about other reminders then get none about
    attendance not recorded (``attendance_unrecorded``)."""
    from lms.services.attendance import training_dates

    enrolments = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.cohort_id == cohort.id)
    ).all()
    recorded = set(
        db.session.scalars(
            sa.select(AttendanceSession.held_on).where(AttendanceSession.cohort_id == cohort.id)
        )
    )
    for day in training_dates(cohort, until or cohort.end_date):
        if day in recorded:
            continue
        recorded_at = datetime.combine(day, time(16), tzinfo=clock.LOCAL_TZ)  # that afternoon
        session = AttendanceSession(cohort=cohort, held_on=day, recorded_at=recorded_at)
        session.records = [
            AttendanceRecord(enrolment=enrolment, status=AttendanceStatus.PRESENT)
            for enrolment in enrolments
            if enrolment.enrolled_on <= day
        ]
        db.session.add(session)
    db.session.flush()


def make_handed_in_submission(
    enrolment: Enrolment,
    assignment: Assignment,
    *,
    at: datetime | None = None,
    what_i_did: str = "Ik heb de machine volgens de instructie ingesteld.",
) -> Submission:
    """A submission whose first attempt was handed in at ``at`` (default: now), waiting for a trainer."""
    at = at or clock.now()
    attempt = Attempt(
        number=1,
        what_i_did=what_i_did,
        what_went_well="Netjes gewerkt.",
        what_i_learned="Beter meten.",
    )
    submission = Submission(
        enrolment=enrolment, assignment=assignment, attempts=[attempt], created_at=at
    )
    db.session.add(submission)
    submission.submit(at)
    db.session.flush()
    progress.refresh_summaries([enrolment])
    return submission


def make_approved_submission(
    enrolment: Enrolment, assignment: Assignment, *, at: datetime | None = None
) -> Submission:
    """A submission handed in and approved at ``at`` (default: now): work a sign-off can rest on."""
    from lms.models import Verdict

    at = at or clock.now()
    submission = make_handed_in_submission(enrolment, assignment, at=at)
    submission.record_verdict(Verdict.APPROVED, at)
    db.session.flush()
    progress.refresh_summaries([enrolment])
    return submission


def make_photo_bytes(
    width: int = 64,
    height: int = 48,
    *,
    image_format: str = "JPEG",
    color: tuple[int, ...] = (200, 60, 40),
    mode: str = "RGB",
    exif: object = None,
) -> bytes:
    """A small real image, as a camera or phone would send it (``exif``: a ``PIL.Image.Exif``)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    options = {"exif": exif} if exif is not None else {}
    Image.new(mode, (width, height), color).save(buffer, image_format, **options)
    return buffer.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def make_evidence(
    attempt: Attempt, *, name: str = "foto.jpg", data: bytes | None = None
) -> EvidenceFile:
    """A file added to ``attempt`` through the real checks and the app's storage."""
    from lms.services.evidence import EvidenceLimits, Upload, prepare_upload, store_evidence
    from lms.storage import get_storage

    prepared = prepare_upload(Upload.from_bytes(name, data or make_photo_bytes()), EvidenceLimits())
    participant = attempt.submission.enrolment.participant
    return store_evidence(
        attempt, prepared, actor=participant, storage=get_storage(), at=clock.now()
    )
