"""Certificates: who may get one, issuing, revoking, reissuing and public verification.

Public names other modules build on (keep them stable):

- ``certificate_status(enrolments, today)``: per enrolment id, whether it is eligible and whether it
  already has a valid certificate (``CertificateStatus.due``: eligible but none valid yet). A constant
  number of queries, however many enrolments; used by reminders, dashboards and the API.
- ``eligibility(enrolment, today)``: the same check for one enrolment, with exactly what is missing.
- ``CertificateStatus.state`` / ``Eligibility.state`` (``decide_state``): the one answer every page gives
  to "where does this person stand with the certificate": achieved, revoked, ready, in progress or ended.

Eligibility is computed from ``lms.services.progress`` (one truth): every assignment approved, every
checklist item signed off at its required level, and the enrolment active.
"""

from __future__ import annotations

import enum
import hashlib
import io
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from lms import clock
from lms.dates import short_date
from lms.extensions import db, savepoint
from lms.i18n import label
from lms.models import (
    Assessment,
    Assignment,
    Attempt,
    Certificate,
    CertificateState,
    ChecklistGroup,
    ChecklistItem,
    ChecklistKind,
    Cohort,
    Enrolment,
    EnrolmentStatus,
    ProgressSummary,
    Region,
    Role,
    SignOff,
    Submission,
    SubmissionStatus,
    User,
)
from lms.pdf.certificate import CertificateText, render_certificate
from lms.services import audit, progress
from lms.services import issuer as issuing
from lms.services.mail import external_url
from lms.services.progress import Progress, enrolment_progress
from lms.services.signoff import current_levels
from lms.storage import StorageError, discard_on_rollback, get_storage


def decide_state(
    *,
    eligible: bool,
    enrolment_status: EnrolmentStatus,
    certificate: Certificate | None,
    revoked: Certificate | None,
) -> CertificateState:
    """The one rule for what pages call a person's certificate state. A valid certificate outranks
    the enrolment's status (graduates' enrolments are completed, not active); a revoked one is named
    as revoked, never as "not yet"."""
    if certificate is not None:
        return CertificateState.ACHIEVED
    if revoked is not None:
        return CertificateState.REVOKED
    if eligible:
        return CertificateState.READY
    if enrolment_status is EnrolmentStatus.ACTIVE:
        return CertificateState.IN_PROGRESS
    return CertificateState.ENDED


@dataclass(frozen=True)
class CertificateStatus:
    """Where one enrolment stands with its certificate."""

    enrolment_id: int
    eligible: bool
    # The enrolment's valid certificate (issued, not revoked, not replaced), if it has one.
    certificate: Certificate | None
    progress: Progress | None
    enrolment_status: EnrolmentStatus = EnrolmentStatus.ACTIVE
    # Without a valid certificate: the latest revoked one, if any.
    revoked: Certificate | None = None

    @property
    def has_valid_certificate(self) -> bool:
        return self.certificate is not None

    @property
    def due(self) -> bool:
        """Eligible, but no valid certificate yet: the coordinator should issue one."""
        return self.eligible and self.certificate is None

    @property
    def state(self) -> CertificateState:
        return decide_state(
            eligible=self.eligible,
            enrolment_status=self.enrolment_status,
            certificate=self.certificate,
            revoked=self.revoked,
        )


def certificate_status(
    enrolments: Sequence[Enrolment],
    today: date,
    certificates: Sequence[Certificate] | None = None,
) -> dict[int, CertificateStatus]:
    """Per enrolment id: eligible or not, the valid certificate it already has (if any), else the
    latest revoked one; ``.state`` says which.

    Two statements however many enrolments: the progress summaries, and the certificates; one when
    the caller already loaded every certificate of these enrolments (``certificates``).
    """
    if not enrolments:
        return {}
    progress = enrolment_progress(enrolments, today)
    valid: dict[int, Certificate] = {}
    revoked: dict[int, Certificate] = {}
    if certificates is None:
        certificates = db.session.scalars(
            sa.select(Certificate).where(
                Certificate.enrolment_id.in_([enrolment.id for enrolment in enrolments])
            )
        ).all()
    for certificate in sorted(certificates, key=lambda c: (c.issued_at, c.id)):
        (revoked if certificate.is_revoked else valid)[certificate.enrolment_id] = certificate
    return {
        enrolment.id: CertificateStatus(
            enrolment_id=enrolment.id,
            eligible=progress[enrolment.id].certificate_due,
            certificate=valid.get(enrolment.id),
            progress=progress[enrolment.id],
            enrolment_status=enrolment.status,
            revoked=None if enrolment.id in valid else revoked.get(enrolment.id),
        )
        for enrolment in enrolments
    }


@dataclass(frozen=True)
class CohortCertificates:
    """One cohort's certificates at a glance."""

    participants: int = 0  # enrolments of the cohort, whatever their status
    issued: int = 0  # of them holding a valid certificate
    due: int = 0  # eligible (active, every piece of work done) but no valid certificate yet


def cohort_certificate_counts(cohorts: Sequence[Cohort]) -> dict[int, CohortCertificates]:
    """Per cohort id: ``CohortCertificates``, the same answers as ``certificate_status`` gives per
    enrolment, counted in SQL on the progress summaries: one statement for a page of cohorts,
    however many enrolments they hold."""
    counts = {cohort.id: CohortCertificates() for cohort in cohorts}
    if not counts:
        return counts
    summary = ProgressSummary
    due = sa.and_(
        Enrolment.status == EnrolmentStatus.ACTIVE,
        summary.work_complete.is_(True),
        summary.valid_certificate_id.is_(None),
    )
    for cohort_id, participants, issued, due_count in db.session.execute(
        sa.select(
            Enrolment.cohort_id,
            sa.func.count(Enrolment.id),
            sa.func.count(summary.valid_certificate_id),
            sa.func.coalesce(sa.func.sum(sa.case((due, 1), else_=0)), 0),
        )
        .outerjoin(summary, summary.enrolment_id == Enrolment.id)
        .where(Enrolment.cohort_id.in_(list(counts)))
        .group_by(Enrolment.cohort_id)
    ):
        counts[cohort_id] = CohortCertificates(int(participants), int(issued), int(due_count))
    return counts


@dataclass(frozen=True)
class FinishedEnrolment:
    """A participant's latest enrolment once none is active, and where it left them."""

    enrolment: Enrolment
    status: CertificateStatus


def finished_enrolment(participant: User, today: date) -> FinishedEnrolment | None:
    """The latest ended enrolment of a participant with no active one (a graduate's home page and
    portfolio say "completed", not "not in a group yet"); ``None`` if they have an active one or
    never had any."""
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.participant_id == participant.id)
        .options(joinedload(Enrolment.cohort))
        .order_by(Enrolment.enrolled_on.desc(), Enrolment.id.desc())
    ).all()
    if not enrolments or any(enrolment.is_active for enrolment in enrolments):
        return None
    latest = enrolments[0]
    return FinishedEnrolment(latest, certificate_status([latest], today)[latest.id])


def work_complete(progress: Progress) -> bool:
    """Every assignment approved and every checklist item signed off at its required level (the
    certificate check without the rule that the enrolment is active)."""
    return (
        progress.assignments.total > 0
        and progress.assignments.approved == progress.assignments.total
        and progress.technical.complete
        and progress.skills.complete
    )


@dataclass(frozen=True)
class OpenAssignment:
    code: str
    title: str
    status: SubmissionStatus | None  # None: not started


@dataclass(frozen=True)
class OpenItem:
    code: str
    title: str
    group: str
    required_level: int
    reached_level: int  # 0: never signed off


@dataclass(frozen=True)
class Eligibility:
    """Whether one enrolment may get its certificate and, if not, exactly what is missing."""

    eligible: bool
    enrolment_active: bool
    enrolment_status: EnrolmentStatus
    open_assignments: list[OpenAssignment] = field(default_factory=list)
    open_items: list[OpenItem] = field(default_factory=list)
    progress: Progress | None = None
    status: CertificateStatus | None = None

    @property
    def state(self) -> CertificateState:
        assert self.status is not None
        return self.status.state

    @property
    def missing_anything(self) -> bool:
        return not self.enrolment_active or bool(self.open_assignments or self.open_items)

    @property
    def may_reissue(self) -> bool:
        """A replacement may also follow a completed enrolment, as long as the work is complete."""
        return self.eligible or (
            self.enrolment_status is EnrolmentStatus.COMPLETED
            and self.progress is not None
            and work_complete(self.progress)
        )


def eligibility(
    enrolment: Enrolment, today: date, certificates: Sequence[Certificate] | None = None
) -> Eligibility:
    """Whether ``enrolment`` is eligible for its certificate, listing every assignment not yet approved
    and every checklist item below its required level; with its certificate state (from
    ``certificates``, every certificate of the enrolment, when the caller loaded them already)."""
    status = certificate_status([enrolment], today, certificates)[enrolment.id]
    progress = status.progress
    assert progress is not None
    programme_id = enrolment.cohort.programme_id
    # The programme's assignments with this enrolment's submission (if any) in one statement.
    open_assignments = [
        OpenAssignment(code, title, submission_status)
        for code, title, submission_status in db.session.execute(
            sa.select(Assignment.code, Assignment.title, Submission.status)
            .outerjoin(
                Submission,
                sa.and_(
                    Submission.assignment_id == Assignment.id,
                    Submission.enrolment_id == enrolment.id,
                ),
            )
            .where(Assignment.programme_id == programme_id)
            .order_by(Assignment.position)
        )
        if submission_status is not SubmissionStatus.APPROVED
    ]
    reached = current_levels([enrolment])[enrolment.id]
    open_items = [
        OpenItem(item.code, item.title, group_title, item.required_level, reached.get(item.id, 0))
        for item, group_title in db.session.execute(
            sa.select(ChecklistItem, ChecklistGroup.title)
            .join(ChecklistItem.group)
            .where(ChecklistItem.programme_id == programme_id)
            .order_by(ChecklistGroup.position, ChecklistItem.position)
        ).all()
        if reached.get(item.id, 0) < item.required_level
    ]
    return Eligibility(
        eligible=progress.certificate_due,
        enrolment_active=enrolment.is_active,
        enrolment_status=enrolment.status,
        open_assignments=open_assignments,
        open_items=open_items,
        progress=progress,
        status=status,
    )


# --- Issuing, revoking, reissuing --------------------------------------------------------------------


class CertificateError(ValueError):
    """A certificate action the rules refuse; the message says why, in the user's language."""


NUMBER_PREFIX = "VK"
SEQUENCE_DIGITS = 4
REASON_MAX = 1000
_NUMBER_ATTEMPTS = 5


def number_prefix(region: Region, year: int) -> str:
    return f"{NUMBER_PREFIX}-{year}-{region.short_code}-"


def next_number(region: Region, year: int) -> str:
    """The next free number for ``region`` in ``year``: VK-2027-PK-0007 follows VK-2027-PK-0006.

    Call it with the numbering lock held (``_lock_numbering``); the unique constraint on the number and a
    retry in ``issue_certificate`` cover a database without that lock.
    """
    prefix = number_prefix(region, year)
    numbers = db.session.scalars(
        sa.select(Certificate.number).where(Certificate.number.like(f"{prefix}%"))
    ).all()
    sequences = [
        int(number[len(prefix) :]) for number in numbers if number[len(prefix) :].isdigit()
    ]
    return f"{prefix}{max(sequences, default=0) + 1:0{SEQUENCE_DIGITS}d}"


def _lock_numbering(prefix: str) -> None:
    """On PostgreSQL, queue concurrent issuers of one region and year until the transaction ends, so
    the second reads the first's number before choosing its own. SQLite has one writer at a time."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"certificate:{prefix}"},
        )


def _lock_enrolment(enrolment: Enrolment) -> None:
    """Two coordinators issuing for one participant at once queue up here (PostgreSQL row lock); the
    second then sees the first's certificate. A partial unique index backs this up."""
    db.session.execute(
        sa.select(Enrolment.id).where(Enrolment.id == enrolment.id).with_for_update()
    )


def new_verification_code() -> str:
    """256 random bits, URL-safe: 43 characters nobody can guess."""
    return secrets.token_urlsafe(32)


def _check_coordinator(actor: User) -> None:
    if actor.role is not Role.COORDINATOR:
        raise CertificateError(_("Only the coordinator can issue or revoke certificates."))


def _check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise CertificateError(_("Give a reason."))
    if len(reason) > REASON_MAX:
        raise CertificateError(_("Keep the reason under %(max)d characters.", max=REASON_MAX))
    return reason


def _local_date(moment: datetime) -> date:
    return moment.astimezone(clock.LOCAL_TZ).date()


def issue_certificate(
    enrolment: Enrolment,
    *,
    actor: User,
    now: datetime,
    replaces: Certificate | None = None,
) -> Certificate:
    """Issue the certificate of an eligible enrolment: number, verification code, the PDF stored once
    with its SHA-256. Refused when not eligible or when a valid certificate exists.

    A reissue (``replaces``) may also follow a completed enrolment: the year may be over when a
    misspelt name comes to light. The work itself must still be complete."""
    _check_coordinator(actor)
    _lock_enrolment(enrolment)
    today = _local_date(now)
    status = certificate_status([enrolment], today)[enrolment.id]
    eligible = status.eligible or (
        replaces is not None
        and enrolment.status is EnrolmentStatus.COMPLETED
        and status.progress is not None
        and work_complete(status.progress)
    )
    if not eligible:
        raise CertificateError(
            _(
                "%(name)s is not eligible for the certificate yet.",
                name=enrolment.participant.full_name,
            )
        )
    if status.certificate is not None:
        raise CertificateError(
            _(
                "%(name)s already has a valid certificate (%(number)s).",
                name=enrolment.participant.full_name,
                number=status.certificate.number,
            )
        )
    region = enrolment.cohort.region
    prefix = number_prefix(region, today.year)
    _lock_numbering(prefix)
    storage = get_storage()
    code = new_verification_code()
    for attempt in range(_NUMBER_ATTEMPTS):
        number = next_number(region, today.year)
        pdf = render_certificate(
            certificate_text(enrolment, number=number, code=code, issued_on=today, issuer=actor)
        )
        key = storage.save(pdf, ".pdf")
        certificate = Certificate(
            enrolment=enrolment,
            number=number,
            verification_code=code,
            holder_name=enrolment.participant.full_name,
            programme_title=enrolment.cohort.programme.title,
            issued_at=now,
            issued_by=actor,
            pdf_storage_key=key,
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
            revocation_reason="",
        )
        try:
            with savepoint():
                db.session.add(certificate)
                certificate.replaces = replaces
                db.session.flush()
        except IntegrityError:
            # Someone else took this number between our read and our write: take the next one.
            storage.delete(key)
            if certificate in db.session:
                db.session.expunge(certificate)
            if replaces is not None:
                db.session.refresh(replaces)
            if attempt == _NUMBER_ATTEMPTS - 1:
                raise
            continue
        discard_on_rollback(db.session, storage, key)
        audit.record("certificate.issue", actor, certificate, number=number)
        progress.refresh_summaries([enrolment])
        return certificate
    raise AssertionError("unreachable")  # pragma: no cover


def issue_for_cohort(cohort: Cohort, *, actor: User, now: datetime) -> list[Certificate]:
    """Issue a certificate for every participant of ``cohort`` who is due one (eligible, none valid)."""
    _check_coordinator(actor)
    return [
        issue_certificate(enrolment, actor=actor, now=now)
        for enrolment in due_in_cohort(cohort, _local_date(now))
    ]


def cohort_enrolments(cohort: Cohort) -> list[Enrolment]:
    """The cohort's enrolments (active or not) with participant and employer, by name."""
    return list(
        db.session.scalars(
            sa.select(Enrolment)
            .join(Enrolment.participant)
            .where(Enrolment.cohort_id == cohort.id)
            .options(joinedload(Enrolment.participant), joinedload(Enrolment.employer))
            .order_by(User.sort_key, Enrolment.id)
        ).unique()
    )


def due_in_cohort(cohort: Cohort, today: date) -> list[Enrolment]:
    enrolments = cohort_enrolments(cohort)
    status = certificate_status(enrolments, today)
    return [enrolment for enrolment in enrolments if status[enrolment.id].due]


def revoke_certificate(
    certificate: Certificate, *, actor: User, reason: str, now: datetime
) -> Certificate:
    """Revoke a valid certificate with a reason; verification then shows it as revoked."""
    _check_coordinator(actor)
    reason = _check_reason(reason)
    if certificate.is_revoked:
        raise CertificateError(
            _("Certificate %(number)s is already revoked.", number=certificate.number)
        )
    certificate.revoked_at = now
    certificate.revoked_by = actor
    certificate.revocation_reason = reason
    db.session.flush()
    audit.record("certificate.revoke", actor, certificate, number=certificate.number, reason=reason)
    progress.refresh_summaries([certificate.enrolment_id])
    return certificate


def reissue_certificate(
    certificate: Certificate, *, actor: User, reason: str, now: datetime
) -> Certificate:
    """Replace a certificate with a new one (new number, new code, new PDF): the old one is revoked
    with ``reason`` (if it was still valid) and verification shows it as replaced."""
    _check_coordinator(actor)
    reason = _check_reason(reason)
    if certificate.replaced_by is not None:
        raise CertificateError(
            _(
                "Certificate %(number)s has already been replaced by %(new)s.",
                number=certificate.number,
                new=certificate.replaced_by.number,
            )
        )
    if not certificate.is_revoked:
        revoke_certificate(certificate, actor=actor, reason=reason, now=now)
    new = issue_certificate(certificate.enrolment, actor=actor, now=now, replaces=certificate)
    audit.record("certificate.reissue", actor, new, number=new.number, replaces=certificate.number)
    return new


class CertificateFileError(RuntimeError):
    """The stored PDF is missing or no longer matches the SHA-256 recorded when it was issued."""


def certificate_pdf(certificate: Certificate) -> bytes:
    """The stored PDF, exactly as issued: checked against its recorded SHA-256."""
    try:
        data = get_storage().read(certificate.pdf_storage_key)
    except StorageError as error:
        raise CertificateFileError(str(error)) from error
    if hashlib.sha256(data).hexdigest() != certificate.pdf_sha256:
        raise CertificateFileError(f"certificate {certificate.number}: stored PDF changed")
    return data


def certificate_filename(certificate: Certificate) -> str:
    name = ascii_slug(certificate.enrolment.participant.full_name)
    return f"{certificate.number}-{name}.pdf"


def cohort_certificates(cohort: Cohort) -> list[Certificate]:
    """The valid certificates of a cohort, by number."""
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .join(Certificate.enrolment)
            .where(Enrolment.cohort_id == cohort.id, Certificate.revoked_at.is_(None))
            .options(joinedload(Certificate.enrolment).joinedload(Enrolment.participant))
            .order_by(Certificate.number)
        )
    )


def cohort_zip(cohort: Cohort) -> tuple[bytes, int]:
    """Every valid certificate of the cohort in one ZIP (the stored bytes); and how many."""
    certificates = cohort_certificates(cohort)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for certificate in certificates:
            info = zipfile.ZipInfo(
                certificate_filename(certificate),
                date_time=certificate.issued_at.astimezone(clock.LOCAL_TZ).timetuple()[:6],
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, certificate_pdf(certificate))
    return buffer.getvalue(), len(certificates)


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-").lower() or "certificaat"


# --- The certificate's text --------------------------------------------------------------------------


def signing_trainer(enrolment: Enrolment) -> User | None:
    """The trainer who signs the certificate: of the cohort's trainers, the one who assessed this
    participant most (verdicts on their work plus checklist sign-offs); on a tie, or when no trainer
    assessed anything, the first of the cohort's trainers by name. ``None`` for a cohort without
    trainers. Two queries."""
    trainers = list(enrolment.cohort.trainers)
    if not trainers:
        return None
    ids = [trainer.id for trainer in trainers]
    verdicts = (
        sa.select(Assessment.assessor_id.label("user_id"))
        .join(Attempt, Assessment.attempt_id == Attempt.id)
        .join(Submission, Attempt.submission_id == Submission.id)
        .where(Submission.enrolment_id == enrolment.id, Assessment.assessor_id.in_(ids))
    )
    signoffs = sa.select(SignOff.signed_by_id.label("user_id")).where(
        SignOff.enrolment_id == enrolment.id, SignOff.signed_by_id.in_(ids)
    )
    acts = sa.union_all(verdicts, signoffs).subquery()
    counts = dict(
        db.session.execute(
            sa.select(acts.c.user_id, sa.func.count()).group_by(acts.c.user_id)
        ).all()
    )
    # max() keeps the first of equals: the cohort's trainers come ordered by name.
    return max(trainers, key=lambda trainer: counts.get(trainer.id, 0))


def certificate_text(
    enrolment: Enrolment, *, number: str, code: str, issued_on: date, issuer: User
) -> CertificateText:
    """Everything printed on the certificate, always in Dutch. ``issuer`` is the coordinator who
    issues it (recorded on the row and in the audit log, not printed); the organisation named as
    issuer, the partners, the programme manager who signs and the place of issue come from the
    configuration (``lms.services.issuer``), the other signature is ``signing_trainer``'s."""
    cohort = enrolment.cohort
    programme = cohort.programme
    participant = enrolment.participant
    groups = db.session.scalars(
        sa.select(ChecklistGroup)
        .where(ChecklistGroup.programme_id == programme.id)
        .order_by(ChecklistGroup.position)
    ).all()
    owner = issuing.owner()
    trainer = signing_trainer(enrolment)
    with force_locale("nl"):
        period = f"{short_date(cohort.start_date)} – {short_date(cohort.end_date)}"
        signatures = [(_("Programme manager"), issuing.programme_manager())]
        if trainer is not None:
            signatures.append((_("Trainer"), trainer.full_name))
        partners = issuing.partners()
        return CertificateText(
            heading=_("Certificate"),
            programme=programme.title,
            level=_(
                "Programme certificate (certificate of participation) at mbo level %(level)d",
                level=programme.level,
            ),
            kind=_(
                "This is not an mbo diploma: %(issuer)s issues this certificate for its own"
                " programme of learning, development and qualification.",
                issuer=owner.name,
            ),
            intro=_("%(issuer)s hereby declares that", issuer=owner.name),
            name=participant.full_name,
            statement=_("has successfully completed this dual programme of work and learning."),
            facts=[
                (_("Cohort"), cohort.name),
                (_("Region"), label(cohort.region)),
                (_("Programme year"), period),
                (_("Employer"), enrolment.employer.name),
                (_("Date of issue"), short_date(issued_on)),
            ],
            groups_heading=_("Technical competencies achieved"),
            groups=[g.title for g in groups if g.kind is ChecklistKind.TECHNICAL],
            skills_heading=_("21st-century skills achieved"),
            skills=[g.title for g in groups if g.kind is ChecklistKind.SKILL21],
            signatures=signatures,
            number_label=_("Certificate number"),
            number=number,
            verify_text=_("Check this certificate: scan the QR code or go to"),
            verify_url=verification_url(code),
            issuer="\n".join(
                [owner.name, " · ".join(part for part in (owner.address, owner.url) if part)]
            ),
            logo=str(path) if (path := issuing.logo_file(owner)) else None,
            place_and_date=_(
                "Issued in %(place)s on %(date)s",
                place=issuing.place_of_issue(),
                date=short_date(issued_on),
            ),
            partners=_(
                "In cooperation with %(partners)s.",
                partners=", ".join(partner.name for partner in partners),
            )
            if partners
            else "",
            document_title=_("Certificate %(number)s", number=number),
            author=owner.name,
            subject=_(
                "Certificate %(programme)s for %(name)s",
                programme=programme.title,
                name=participant.full_name,
            ),
            keywords=(number, programme.title, "Vakkracht"),
        )


def verification_url(code: str) -> str:
    """The absolute address of the public verification page, as printed and in the QR code."""
    return external_url("verify.show", code=code)


# --- Public verification -----------------------------------------------------------------------------


class VerificationState(enum.StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    REPLACED = "replaced"  # revoked and reissued under a new number


def verification_state(certificate: Certificate) -> VerificationState:
    if certificate.replaced_by is not None:
        return VerificationState.REPLACED
    if certificate.is_revoked:
        return VerificationState.REVOKED
    return VerificationState.VALID


def find_by_code(code: str) -> Certificate | None:
    if not code or len(code) > 64:
        return None
    return db.session.scalar(
        sa.select(Certificate)
        .where(Certificate.verification_code == code)
        .options(
            joinedload(Certificate.enrolment).joinedload(Enrolment.participant),
            joinedload(Certificate.enrolment)
            .joinedload(Enrolment.cohort)
            .joinedload(Cohort.programme),
            joinedload(Certificate.replaced_by),
        )
    )


def verification_facts(code: str) -> dict[str, str] | None:
    """What anyone holding the code may know, and nothing more: the state, the name, the programme and
    the date of issue. ``None`` for an unknown code. Used by ``/verify/<code>`` and the API."""
    certificate = find_by_code(code)
    if certificate is None:
        return None
    enrolment = certificate.enrolment
    return {
        "status": verification_state(certificate).value,
        # As printed; rows from before these columns existed fall back to the current records.
        "name": certificate.holder_name or enrolment.participant.full_name,
        "programme": certificate.programme_title or enrolment.cohort.programme.title,
        "issued_on": _local_date(certificate.issued_at).isoformat(),
    }
