"""Every model, imported here so that metadata (and Alembic) sees all tables."""

from lms.models.action_links import ActionLink, LinkAction
from lms.models.api_tokens import ApiToken, ApiTokenScope
from lms.models.attendance import (
    AbsenceReason,
    AttendanceRecord,
    AttendanceSession,
    AttendanceStatus,
)
from lms.models.audit import AuditEvent
from lms.models.base import InvalidTransition, Region
from lms.models.calendar import CalendarClosure, ClosureKind, SchoolCalendar, TrainingDayMove
from lms.models.calendar_feeds import CalendarFeed
from lms.models.certificates import Certificate, CertificateState
from lms.models.cohorts import Cohort, CohortTrainer, Enrolment, EnrolmentStatus, IntakeType
from lms.models.curriculum import (
    Assignment,
    ChecklistGroup,
    ChecklistItem,
    ChecklistKind,
    Period,
    Programme,
    assignment_competencies,
)
from lms.models.form_submissions import FormSubmission
from lms.models.hours import HoursStatus, WorkplaceHours
from lms.models.idempotency_keys import IdempotencyKey
from lms.models.login_sessions import LoginSession
from lms.models.notifications import (
    Notification,
    NotificationSubject,
    OutboxMessage,
    OutboxStatus,
    ReminderSweep,
    SentReminder,
)
from lms.models.people import AccountToken, Employer, MailPreference, Role, TokenPurpose, User
from lms.models.portfolio import (
    Assessment,
    Attempt,
    EvidenceFile,
    EvidenceKind,
    Submission,
    SubmissionStatus,
    Verdict,
    WorkplaceConfirmation,
)
from lms.models.progress import CohortSummary, ProgressSummary
from lms.models.reviews import ProgressReview
from lms.models.signoffs import (
    LedgerCheckpoint,
    SignOff,
    SignOffKind,
    WorkplaceObservation,
    signoff_evidence,
)
from lms.models.throttle import ThrottleCounter, ThrottleScope

__all__ = [
    "AbsenceReason",
    "AttendanceRecord",
    "AttendanceSession",
    "AttendanceStatus",
    "AccountToken",
    "ActionLink",
    "ApiToken",
    "ApiTokenScope",
    "Assessment",
    "Assignment",
    "Attempt",
    "AuditEvent",
    "CalendarClosure",
    "CalendarFeed",
    "ClosureKind",
    "Certificate",
    "CertificateState",
    "ChecklistGroup",
    "ChecklistItem",
    "ChecklistKind",
    "Cohort",
    "CohortSummary",
    "CohortTrainer",
    "Employer",
    "Enrolment",
    "EnrolmentStatus",
    "EvidenceFile",
    "EvidenceKind",
    "FormSubmission",
    "HoursStatus",
    "IdempotencyKey",
    "IntakeType",
    "InvalidTransition",
    "LedgerCheckpoint",
    "LinkAction",
    "LoginSession",
    "MailPreference",
    "Notification",
    "NotificationSubject",
    "OutboxMessage",
    "OutboxStatus",
    "Period",
    "Programme",
    "ProgressReview",
    "ProgressSummary",
    "Region",
    "Role",
    "ReminderSweep",
    "SchoolCalendar",
    "TrainingDayMove",
    "SentReminder",
    "SignOff",
    "SignOffKind",
    "Submission",
    "SubmissionStatus",
    "ThrottleCounter",
    "ThrottleScope",
    "TokenPurpose",
    "User",
    "Verdict",
    "WorkplaceConfirmation",
    "WorkplaceHours",
    "WorkplaceObservation",
    "assignment_competencies",
    "signoff_evidence",
]
