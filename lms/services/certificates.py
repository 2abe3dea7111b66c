"""Certificates: who may get one, issuing, revoking, reissuing and public verification.

Public names other modules build on (keep them stable):

- ``certificate_status(enrolments, today)``: per enrolment id, whether it is eligible and whether it
  already has a valid certificate (``CertificateStatus.due``: eligible but none valid yet). A constant
  number of queries, however many enrolments; used by reminders, dashboards and the API.
- ``eligibility(enrolment, today)``: the same check for one enrolment, with exactly what is missing.

Eligibility is computed from ``lms.services.progress`` (one truth): every assignment approved, every
checklist item signed off at its required level, and the enrolment active.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from lms.extensions import db
from lms.models import (
    Assignment,
    Certificate,
    ChecklistGroup,
    ChecklistItem,
    Enrolment,
    EnrolmentStatus,
    Submission,
    SubmissionStatus,
)
from lms.services.progress import Progress, enrolment_progress
from lms.services.signoff import current_levels


@dataclass(frozen=True)
class CertificateStatus:
    """Where one enrolment stands with its certificate."""

    enrolment_id: int
    eligible: bool
    # The enrolment's valid certificate (issued, not revoked, not replaced), if it has one.
    certificate: Certificate | None
    progress: Progress | None

    @property
    def has_valid_certificate(self) -> bool:
        return self.certificate is not None

    @property
    def due(self) -> bool:
        """Eligible, but no valid certificate yet: the coordinator should issue one."""
        return self.eligible and self.certificate is None


def valid_certificates(enrolment_ids: Sequence[int]) -> dict[int, Certificate]:
    """The valid certificate per enrolment id (at most one each). One query."""
    if not enrolment_ids:
        return {}
    rows = db.session.scalars(
        sa.select(Certificate)
        .where(
            Certificate.enrolment_id.in_(list(enrolment_ids)),
            Certificate.revoked_at.is_(None),
        )
        .order_by(Certificate.issued_at)
    )
    return {certificate.enrolment_id: certificate for certificate in rows}


def certificate_status(
    enrolments: Sequence[Enrolment], today: date
) -> dict[int, CertificateStatus]:
    """Per enrolment id: eligible or not, and the valid certificate it already has (if any).

    Eight queries however many enrolments (seven for progress, one for certificates).
    """
    if not enrolments:
        return {}
    progress = enrolment_progress(enrolments, today)
    certificates = valid_certificates([enrolment.id for enrolment in enrolments])
    return {
        enrolment.id: CertificateStatus(
            enrolment_id=enrolment.id,
            eligible=progress[enrolment.id].certificate_due,
            certificate=certificates.get(enrolment.id),
            progress=progress[enrolment.id],
        )
        for enrolment in enrolments
    }


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

    @property
    def missing_anything(self) -> bool:
        return not self.enrolment_active or bool(self.open_assignments or self.open_items)


def eligibility(enrolment: Enrolment, today: date) -> Eligibility:
    """Whether ``enrolment`` is eligible for its certificate, listing every assignment not yet approved
    and every checklist item below its required level."""
    progress = enrolment_progress([enrolment], today)[enrolment.id]
    programme_id = enrolment.cohort.programme_id
    statuses = dict(
        db.session.execute(
            sa.select(Submission.assignment_id, Submission.status).where(
                Submission.enrolment_id == enrolment.id
            )
        ).all()
    )
    open_assignments = [
        OpenAssignment(assignment.code, assignment.title, statuses.get(assignment.id))
        for assignment in db.session.scalars(
            sa.select(Assignment)
            .where(Assignment.programme_id == programme_id)
            .order_by(Assignment.position)
        )
        if statuses.get(assignment.id) is not SubmissionStatus.APPROVED
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
    )
