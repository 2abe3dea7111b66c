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
