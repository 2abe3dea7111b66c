"""The progress report of one participant as a PDF: for the participant, their employer, their trainers
and the coordinator. Assignments, checklist levels, progress reviews, what is still open, and when it
was made. Counts come from ``lms.services.progress`` (one truth), via the certificate check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from lms import clock
from lms.dates import short_date, short_datetime
from lms.extensions import db
from lms.i18n import hours_text, label
from lms.models import (
    Assignment,
    CertificateState,
    ChecklistGroup,
    ChecklistKind,
    Enrolment,
    Programme,
    Submission,
    SubmissionStatus,
    User,
)
from lms.models.reviews import ProgressReview
from lms.pdf.progress_report import ReportText, SectionText, TableText, render_progress_report
from lms.services import attendance, audit
from lms.services.certificates import ascii_slug, eligibility
from lms.services.signoff import current_levels, enrolment_chains


@dataclass(frozen=True)
class ProgressReport:
    filename: str
    pdf: bytes


def _level_name(programme: Programme, level: int) -> str:
    names: dict[int, Any] = {entry.get("level"): entry.get("name") for entry in programme.levels}
    if level <= 0:
        return _("Not signed off")
    name = names.get(level)
    return f"{level} · {name}" if name else str(level)


def _date(value: date | datetime | None) -> str:
    if value is None:
        return "–"
    return short_date(value)  # a moment: its day in Europe/Amsterdam


def _attendance_line(enrolment: Enrolment) -> str:
    """The training days attended of those recorded, with late arrivals and absences by reason."""
    figures = attendance.figures_for([enrolment.id])[enrolment.id]
    if figures.percent is None:
        return _("No training days recorded yet.")
    return _(
        "%(percent)d%% present: %(attended)d of %(sessions)d training days recorded, late"
        " %(late)d times; absent %(sick)d sick, %(authorised)d authorised, %(unauthorised)d"
        " unauthorised.",
        percent=figures.percent,
        attended=figures.attended,
        sessions=figures.sessions,
        late=figures.late,
        sick=figures.sick,
        authorised=figures.authorised,
        unauthorised=figures.unauthorised,
    )


def build_progress_report(enrolment: Enrolment, *, viewer: User, now: datetime) -> ProgressReport:
    """The report as PDF bytes, in the viewer's language. The caller checks the viewer may see it."""
    today = now.astimezone(clock.LOCAL_TZ).date()
    cohort = enrolment.cohort
    programme = cohort.programme
    participant = enrolment.participant
    check = eligibility(enrolment, today)
    progress = check.progress
    assert progress is not None

    assignments = db.session.scalars(
        sa.select(Assignment)
        .where(Assignment.programme_id == programme.id)
        .order_by(Assignment.position)
    ).all()
    submissions = {
        submission.assignment_id: submission
        for submission in db.session.scalars(
            sa.select(Submission).where(Submission.enrolment_id == enrolment.id)
        )
    }
    groups = db.session.scalars(
        sa.select(ChecklistGroup)
        .where(ChecklistGroup.programme_id == programme.id)
        .options(joinedload(ChecklistGroup.items))
        .order_by(ChecklistGroup.position)
    ).unique()
    reached = current_levels([enrolment])[enrolment.id]
    chain = enrolment_chains([enrolment])[enrolment.id]
    reviews = db.session.scalars(
        sa.select(ProgressReview)
        .where(ProgressReview.enrolment_id.in_(chain))
        .options(joinedload(ProgressReview.trainer))
        .order_by(ProgressReview.held_on, ProgressReview.id)
    ).all()
    status = check.status
    assert status is not None
    state = status.state
    if state is CertificateState.ACHIEVED and status.certificate is not None:
        certificate_line = _(
            "Issued: %(number)s on %(date)s",
            number=status.certificate.number,
            date=_date(status.certificate.issued_at),
        )
    elif state is CertificateState.REVOKED and status.revoked is not None:
        certificate_line = _(
            "Revoked: %(number)s on %(date)s",
            number=status.revoked.number,
            date=_date(status.revoked.revoked_at),
        )
    elif state is CertificateState.READY:
        certificate_line = _("Everything is done: the certificate can be issued.")
    elif state is CertificateState.ENDED:
        certificate_line = _(
            "No certificate: the enrolment has ended (%(status)s).",
            status=label(check.enrolment_status),
        )
    else:
        certificate_line = _("Not yet: see what is still open.")

    summary = SectionText(
        heading=_("Summary"),
        tables=[
            TableText(
                header=[_("Part"), _("Done"), _("Of")],
                rows=[
                    [
                        _("Assignments approved"),
                        str(progress.assignments.approved),
                        str(progress.assignments.total),
                    ],
                    [
                        label(ChecklistKind.TECHNICAL),
                        str(progress.technical.signed),
                        str(progress.technical.required),
                    ],
                    [
                        label(ChecklistKind.SKILL21),
                        str(progress.skills.signed),
                        str(progress.skills.required),
                    ],
                    [
                        _("Workplace hours approved"),
                        hours_text(progress.hours.approved),
                        str(progress.hours.target),
                    ],
                    [
                        _("Training hours (training days attended)"),
                        hours_text(progress.attendance.hours),
                        str(progress.attendance.target),
                    ],
                ],
                widths=[0.6, 0.2, 0.2],
            )
        ],
        notes=[
            (_("Attendance"), _attendance_line(enrolment)),
            (_("Certificate"), certificate_line),
        ],
    )

    assignment_rows = []
    for assignment in assignments:
        submission = submissions.get(assignment.id)
        assignment_rows.append(
            [
                assignment.code,
                assignment.title,
                _date(cohort.due_date(assignment.due_week)),
                label(submission.status) if submission else _("Not started"),
                _date(submission.approved_at)
                if submission and submission.status is SubmissionStatus.APPROVED
                else "–",
            ]
        )
    assignments_section = SectionText(
        heading=_("Assignments"),
        tables=[
            TableText(
                header=[_("Code"), _("Assignment"), _("Due"), _("Status"), _("Approved on")],
                rows=assignment_rows,
                widths=[0.09, 0.43, 0.16, 0.16, 0.16],
            )
        ]
        if assignment_rows
        else [],
        empty=_("This programme has no assignments."),
    )

    checklist_tables = [
        TableText(
            caption=f"{group.title} ({label(group.kind)})",
            header=[_("Code"), _("Item"), _("Required"), _("Reached")],
            rows=[
                [
                    item.code,
                    item.title,
                    _level_name(programme, item.required_level),
                    _level_name(programme, reached.get(item.id, 0)),
                ]
                for item in group.items
            ],
            widths=[0.09, 0.43, 0.24, 0.24],
        )
        for group in groups
        if group.items
    ]
    checklist_section = SectionText(
        heading=_("Checklist levels"),
        tables=checklist_tables,
        empty=_("This programme has no checklist items."),
    )

    review_notes = []
    for review in reviews:
        text = review.summary
        if review.agreements:
            text += "\n" + _("Agreements: %(text)s", text=review.agreements)
        review_notes.append(
            (
                _(
                    "%(date)s · with %(trainer)s",
                    date=_date(review.held_on),
                    trainer=review.trainer.full_name,
                ),
                text,
            )
        )
    reviews_section = SectionText(
        heading=_("Progress reviews"),
        notes=review_notes,
        empty=_("No progress review has been recorded yet."),
    )

    open_lines = []
    if state is CertificateState.ENDED:
        open_lines.append(
            _("The enrolment is not active (%(status)s).", status=label(check.enrolment_status))
        )
    for open_assignment in check.open_assignments:
        status = label(open_assignment.status) if open_assignment.status else _("Not started")
        open_lines.append(
            _(
                "Assignment %(code)s %(title)s: %(status)s",
                code=open_assignment.code,
                title=open_assignment.title,
                status=status,
            )
        )
    for item in check.open_items:
        open_lines.append(
            _(
                "%(code)s %(title)s: level %(reached)d of %(required)d",
                code=item.code,
                title=item.title,
                reached=item.reached_level,
                required=item.required_level,
            )
        )
    open_section = SectionText(
        heading=_("Still open"),
        lines=open_lines,
        empty=_("Nothing is open: everything is done."),
    )

    title = _("Progress report of %(name)s", name=participant.full_name)
    document = ReportText(
        title=title,
        document_title=title,
        author=_("Vakkracht MKB Zuid-Limburg"),
        subject=_("Progress in %(programme)s", programme=programme.title),
        facts=[
            (_("Participant"), participant.full_name),
            (_("Cohort"), f"{cohort.name} ({label(cohort.region)})"),
            (_("Employer"), enrolment.employer.name),
            (_("Trainers"), ", ".join(t.full_name for t in cohort.trainers) or "–"),
            (_("Programme"), f"{programme.title} (v{programme.version})"),
            (
                _("Programme year"),
                f"{short_date(cohort.start_date)} – {short_date(cohort.end_date)}",
            ),
            (_("Made on"), short_datetime(now)),
        ],
        sections=[summary, assignments_section, checklist_section, reviews_section, open_section],
        footer=title,
        page_label=_("Page"),
    )
    audit.record("progress_report.download", viewer, enrolment)
    stamp = today.isoformat()
    return ProgressReport(
        filename=f"voortgang-{ascii_slug(participant.full_name)}-{stamp}.pdf",
        pdf=render_progress_report(document),
    )
