"""The participant's portfolio: the assignments of the pinned programme and where each one stands, one
assignment with the work on it, who may see the evidence, and the portfolio as a ZIP to take home."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.sql.base import ExecutableOption

from lms import clock
from lms.dates import short_date, short_datetime
from lms.extensions import db
from lms.i18n import label
from lms.models import (
    Assessment,
    Assignment,
    Attempt,
    ChecklistItem,
    Cohort,
    Enrolment,
    EvidenceFile,
    Period,
    Programme,
    Submission,
    SubmissionStatus,
    User,
    Verdict,
    WorkplaceConfirmation,
)
from lms.pdf.portfolio import AssignmentText, AttemptText, PortfolioText, render_portfolio
from lms.permissions import can_view_enrolment, is_trainer_of
from lms.services import audit
from lms.services.evidence import human_size
from lms.services.progress import HANDED_IN
from lms.storage import Storage


@dataclass(frozen=True)
class AssignmentRow:
    code: str
    title: str
    due_date: date
    status: SubmissionStatus | None  # None: not started
    overdue: bool
    requires_workplace_confirmation: bool


@dataclass(frozen=True)
class PeriodOverview:
    code: str
    title: str
    rows: list[AssignmentRow]


def overview_loading() -> tuple[ExecutableOption, ...]:
    """Loader options for the enrolment of ``assignment_overview``: its programme's periods and
    assignments, and its progress summary, in the enrolment's own statement."""
    return (
        joinedload(Enrolment.cohort)
        .joinedload(Cohort.programme)
        .joinedload(Programme.periods)
        .joinedload(Period.assignments),
        joinedload(Enrolment.summary),
    )


def assignment_overview(enrolment: Enrolment, today: date) -> list[PeriodOverview]:
    """Every assignment of the enrolment's programme, grouped by period, in order: one statement
    (the submissions' states) when the enrolment was loaded with ``overview_loading``."""
    cohort = enrolment.cohort
    programme = cohort.programme
    statuses = dict(
        db.session.execute(
            sa.select(Submission.assignment_id, Submission.status).where(
                Submission.enrolment_id == enrolment.id
            )
        ).all()
    )
    overview = []
    for period in programme.periods:
        rows = []
        for assignment in period.assignments:
            due = cohort.due_date(assignment.due_week)
            status = statuses.get(assignment.id)
            rows.append(
                AssignmentRow(
                    code=assignment.code,
                    title=assignment.title,
                    due_date=due,
                    status=status,
                    overdue=due < today and status not in HANDED_IN,
                    requires_workplace_confirmation=assignment.requires_workplace_confirmation,
                )
            )
        overview.append(PeriodOverview(code=period.code, title=period.title, rows=rows))
    return overview


# One assignment, as the participant sees it --------------------------------------------------------


@dataclass(frozen=True)
class AssignmentPage:
    assignment: Assignment
    due_date: date
    submission: Submission | None
    today: date

    @property
    def status(self) -> SubmissionStatus | None:
        return self.submission.status if self.submission else None

    @property
    def overdue(self) -> bool:
        return self.due_date < self.today and self.status not in HANDED_IN

    @property
    def open_attempt(self) -> Attempt | None:
        return self.submission.open_attempt if self.submission else None

    @property
    def handed_in(self) -> list[Attempt]:
        """Every handed-in attempt, newest first."""
        if self.submission is None:
            return []
        return [a for a in reversed(self.submission.attempts) if a.submitted_at is not None]

    @property
    def latest_assessment(self) -> Assessment | None:
        for attempt in self.handed_in:
            if attempt.assessments:
                return attempt.assessments[-1]
        return None

    @property
    def editable(self) -> bool:
        """The participant can write: not started, a draft, or asked to revise."""
        return self.status in (None, SubmissionStatus.DRAFT, SubmissionStatus.NEEDS_REVISION)


def assignment_page(enrolment: Enrolment, code: str, today: date) -> AssignmentPage | None:
    """The assignment ``code`` of the enrolment's programme with the participant's work on it, loaded
    whole in a fixed number of queries; None when the programme has no such assignment."""
    assignment = db.session.scalar(
        sa.select(Assignment)
        .where(Assignment.programme_id == enrolment.cohort.programme_id, Assignment.code == code)
        .options(
            joinedload(Assignment.period),
            joinedload(Assignment.competencies).joinedload(ChecklistItem.group),
        )
    )
    if assignment is None:
        return None
    submission = db.session.scalar(
        sa.select(Submission)
        .where(Submission.enrolment_id == enrolment.id, Submission.assignment_id == assignment.id)
        .options(
            # Two statements for the whole history: the submission with its confirmations, and
            # its attempts with their files and verdicts.
            selectinload(Submission.attempts).options(
                joinedload(Attempt.evidence_files),
                joinedload(Attempt.assessments).joinedload(Assessment.assessor),
            ),
            joinedload(Submission.workplace_confirmations).joinedload(
                WorkplaceConfirmation.confirmed_by
            ),
        )
    )
    return AssignmentPage(
        assignment=assignment,
        due_date=enrolment.cohort.due_date(assignment.due_week),
        submission=submission,
        today=today,
    )


def submission_loading() -> tuple:
    """Loader options for a submission with its attempts, files, assessments and confirmations."""
    return (
        selectinload(Submission.attempts).options(
            selectinload(Attempt.evidence_files),
            selectinload(Attempt.assessments).joinedload(Assessment.assessor),
        ),
        selectinload(Submission.workplace_confirmations).joinedload(
            WorkplaceConfirmation.confirmed_by
        ),
    )


# Who may see evidence and take the portfolio home ---------------------------------------------------


def can_view_attempt(user: User, enrolment: Enrolment, attempt: Attempt) -> bool:
    """Whoever may see the enrolment sees its handed-in attempts; an attempt still being written is
    the participant's own."""
    if not can_view_enrolment(user, enrolment):
        return False
    return attempt.submitted_at is not None or enrolment.participant_id == user.id


def can_view_evidence(user: User, evidence: EvidenceFile) -> bool:
    attempt = evidence.attempt
    return can_view_attempt(user, attempt.submission.enrolment, attempt)


def evidence_query(file_id: int) -> sa.Select[tuple[EvidenceFile]]:
    """One evidence file with what ``can_view_evidence`` needs, in one query."""
    return (
        sa.select(EvidenceFile)
        .where(EvidenceFile.id == file_id)
        .options(
            joinedload(EvidenceFile.attempt)
            .joinedload(Attempt.submission)
            .joinedload(Submission.enrolment)
            .joinedload(Enrolment.cohort)
            .selectinload(Cohort.trainers)
        )
    )


def may_export(user: User, enrolment: Enrolment) -> bool:
    """The participant (their own portfolio) and the trainers of the cohort."""
    return enrolment.participant_id == user.id or is_trainer_of(user, enrolment.cohort)


# Export: the portfolio as a ZIP (a PDF overview plus the evidence files) ----------------------------

ZIP_CHUNK = 1024 * 1024
_UNSAFE_IN_PATH = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]+')


@dataclass(frozen=True)
class ExportFile:
    path: str  # inside the ZIP: "A1 Title/attempt 1 - photo.jpg"
    storage_key: str
    modified: datetime


@dataclass(frozen=True)
class PortfolioExport:
    filename: str  # of the ZIP
    overview_name: str
    overview_pdf: bytes
    files: list[ExportFile]
    created: datetime


def build_export(enrolment: Enrolment, *, viewer: User, now: datetime) -> PortfolioExport:
    """Everything the ZIP holds: the PDF overview and which stored files go where. The viewer sees the
    attempts they may see (an attempt still being written only by the participant)."""
    programme = db.session.scalar(
        sa.select(Programme)
        .where(Programme.id == enrolment.cohort.programme_id)
        .options(selectinload(Programme.assignments).joinedload(Assignment.period))
    )
    submissions = {
        submission.assignment_id: submission
        for submission in db.session.scalars(
            sa.select(Submission)
            .where(Submission.enrolment_id == enrolment.id)
            .options(*submission_loading())
        )
    }
    participant = enrolment.participant
    cohort = enrolment.cohort
    sections: list[AssignmentText] = []
    files: list[ExportFile] = []
    for assignment in programme.assignments:
        submission = submissions.get(assignment.id)
        attempts = [
            attempt
            for attempt in (submission.attempts if submission else [])
            if can_view_attempt(viewer, enrolment, attempt)
        ]
        folder = _safe_path_part(f"{assignment.code} {assignment.title}")
        used: set[str] = set()
        for attempt in attempts:
            for evidence in attempt.evidence_files:
                name = _unique(
                    _safe_path_part(
                        _(
                            "attempt %(number)d - %(name)s",
                            number=attempt.number,
                            name=evidence.original_name,
                        )
                    ),
                    used,
                )
                files.append(
                    ExportFile(f"{folder}/{name}", evidence.storage_key, evidence.uploaded_at)
                )
        sections.append(
            _assignment_text(assignment, cohort.due_date(assignment.due_week), submission, attempts)
        )
    document = PortfolioText(
        title=_("Portfolio of %(name)s", name=participant.full_name),
        document_title=_("Portfolio of %(name)s", name=participant.full_name),
        author=_("Vakkracht MKB Zuid-Limburg"),
        facts=[
            (_("Participant"), participant.full_name),
            (_("Cohort"), f"{cohort.name} ({label(cohort.region)})"),
            (_("Employer"), enrolment.employer.name),
            (_("Trainers"), ", ".join(t.full_name for t in cohort.trainers) or "–"),
            (_("Programme"), f"{cohort.programme.title} (v{cohort.programme.version})"),
            (
                _("Programme year"),
                f"{short_date(cohort.start_date)} – {short_date(cohort.end_date)}",
            ),
            (_("Made on"), short_datetime(now)),
        ],
        assignments=sections,
        footer=_("Portfolio of %(name)s", name=participant.full_name),
        page_label=_("Page"),
    )
    stamp = now.astimezone(clock.LOCAL_TZ).date().isoformat()
    audit.record("portfolio.export", viewer, enrolment, files=len(files))
    return PortfolioExport(
        filename=f"portfolio-{_ascii_slug(participant.full_name)}-{stamp}.zip",
        overview_name=_("overview") + ".pdf",
        overview_pdf=render_portfolio(document),
        files=files,
        created=now,
    )


def _assignment_text(
    assignment: Assignment, due: date, submission: Submission | None, attempts: list[Attempt]
) -> AssignmentText:
    status = label(submission.status) if submission else _("Not started")
    facts = [
        (_("Period"), f"{assignment.period.code} · {assignment.period.title}"),
        (_("Due date"), short_date(due)),
        (_("Status"), status),
    ]
    if submission and submission.submitted_at:
        facts.append((_("Handed in"), short_datetime(submission.submitted_at)))
    if submission and submission.approved_at:
        facts.append((_("Approved"), short_datetime(submission.approved_at)))
    if assignment.requires_workplace_confirmation:
        first = submission.workplace_confirmation if submission else None
        denial = submission.workplace_denial if submission else None
        if denial is not None:
            text = _(
                "Not carried out at the workplace according to %(name)s: %(remark)s",
                name=denial.confirmed_by.full_name,
                remark=denial.remark,
            )
        elif first is not None:
            text = _(
                "Confirmed by %(name)s on %(date)s",
                name=first.confirmed_by.full_name,
                date=short_date(first.confirmed_at),
            )
            if first.remark:
                text += f"\n{first.remark}"
        else:
            text = _("Not confirmed yet")
        facts.append((_("Workplace confirmation"), text))
    return AssignmentText(
        heading=f"{assignment.code} · {assignment.title}",
        facts=facts,
        attempts=[_attempt_text(attempt) for attempt in attempts],
        note=_("No work on this assignment yet."),
    )


def _attempt_text(attempt: Attempt) -> AttemptText:
    if attempt.submitted_at:
        heading = _(
            "Attempt %(number)d · handed in %(date)s",
            number=attempt.number,
            date=short_datetime(attempt.submitted_at),
        )
    else:
        heading = _("Attempt %(number)d · draft, not handed in", number=attempt.number)
    feedback = [
        (
            _(
                "%(verdict)s · %(name)s · %(date)s",
                verdict=_("Approved")
                if assessment.verdict is Verdict.APPROVED
                else _("Needs revision"),
                name=assessment.assessor.full_name,
                date=short_datetime(assessment.created_at),
            ),
            assessment.feedback,
        )
        for assessment in attempt.assessments
    ]
    return AttemptText(
        heading=heading,
        reflection=[
            (_("What did you do?"), attempt.what_i_did),
            (_("What went well?"), attempt.what_went_well),
            (_("What did you learn?"), attempt.what_i_learned),
        ],
        files_heading=_("Evidence"),
        files=[f"{f.original_name} ({human_size(f.size_bytes)})" for f in attempt.evidence_files],
        no_files=_("No files were added."),
        feedback_heading=_("Feedback from the trainer"),
        feedback=feedback,
    )


def _safe_path_part(text: str, limit: int = 100) -> str:
    """A file or folder name that unpacks on Windows, macOS and Linux alike."""
    cleaned = _UNSAFE_IN_PATH.sub("_", unicodedata.normalize("NFC", text)).strip(" .")
    if len(cleaned) > limit:
        stem, dot, suffix = cleaned.rpartition(".")
        cleaned = (
            (stem[: limit - len(suffix) - 1] + dot + suffix)
            if dot and len(suffix) <= 5
            else cleaned[:limit]
        )
    return cleaned or "_"


def _unique(name: str, used: set[str]) -> str:
    candidate, number = name, 2
    stem, dot, suffix = name.rpartition(".")
    while candidate.lower() in used:
        candidate = f"{stem} ({number}){dot}{suffix}" if dot else f"{name} ({number})"
        number += 1
    used.add(candidate.lower())
    return candidate


def _ascii_slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "participant"


class _ChunkSink(io.RawIOBase):
    """A write-only, unseekable stream that hands out what was written so far: lets ``zipfile``
    write an archive that is sent while it is being made."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[no-untyped-def, override]
        self._chunks.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def zip_chunks(export: PortfolioExport, storage: Storage) -> Iterator[bytes]:
    """The ZIP, piece by piece: never more than one read block of a file in memory."""
    sink = _ChunkSink()
    with zipfile.ZipFile(sink, "w") as archive:
        info = zipfile.ZipInfo(export.overview_name, _zip_time(export.created))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, export.overview_pdf)
        yield sink.take()
        for item in export.files:
            info = zipfile.ZipInfo(item.path, _zip_time(item.modified))
            # Deflated, not stored: a stored entry that is streamed (sizes after the data) trips up
            # some unzip tools.
            info.compress_type = zipfile.ZIP_DEFLATED
            with storage.open(item.storage_key) as source, archive.open(info, "w") as target:
                while block := source.read(ZIP_CHUNK):
                    target.write(block)
                    yield sink.take()
    yield sink.take()


def _zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    local = moment.astimezone(clock.LOCAL_TZ)
    return (max(local.year, 1980), local.month, local.day, local.hour, local.minute, local.second)
