"""Writing audit events. Services call ``record``; the caller's transaction commits it."""

from __future__ import annotations

from typing import Any

from lms import clock
from lms.extensions import db
from lms.models import AuditEvent, User


def record(
    action: str,
    actor: User | None,
    subject: Any = None,
    ip_address: str = "",
    **details: Any,
) -> AuditEvent:
    event = AuditEvent(
        occurred_at=clock.now(),
        actor=actor,
        action=action,
        subject_type=type(subject).__name__ if subject is not None else "",
        subject_id=getattr(subject, "id", None),
        details=details,
        ip_address=ip_address,
    )
    db.session.add(event)
    return event


# A coordinator opening a participant's file is recorded: which page, which record. The rule is by the
# URL's arguments, so a page added later for one enrolment, submission or file is covered too.
FILE_ARGUMENTS = {
    "enrolment_id": "Enrolment",
    "submission_id": "Submission",
    "file_id": "EvidenceFile",
}
PERSON_ENDPOINTS = {"people.person_detail"}  # pages about one person, by user_id
ALREADY_AUDITED = {"portfolio.export", "privacy.export"}  # their services record it themselves


def file_access_subject(endpoint: str, view_args: dict[str, Any]) -> tuple[str, int] | None:
    """The (type, id) of the participant's record a page shows, or None if it shows none."""
    if endpoint in ALREADY_AUDITED:
        return None
    if endpoint in PERSON_ENDPOINTS and "user_id" in view_args:
        return "User", int(view_args["user_id"])
    for argument, subject_type in FILE_ARGUMENTS.items():
        if argument in view_args:
            return subject_type, int(view_args[argument])
    return None


def record_file_access(
    actor: User, subject_type: str, subject_id: int, *, endpoint: str, ip_address: str = ""
) -> AuditEvent:
    event = AuditEvent(
        occurred_at=clock.now(),
        actor=actor,
        action="participant_file.view",
        subject_type=subject_type,
        subject_id=subject_id,
        details={"endpoint": endpoint},
        ip_address=ip_address,
    )
    db.session.add(event)
    return event
