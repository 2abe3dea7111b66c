"""The attendance form of a training day. One radio group and one note per participant
(``mark_<enrolment id>``, ``note_<enrolment id>``) are read by ``read_marks``, as the checklist matrix
reads its cells: the rows depend on the group."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SubmitField

from lms.forms import Form
from lms.models import AbsenceReason, AttendanceRecord, AttendanceStatus
from lms.services import characters
from lms.services.attendance import MAX_NOTE_LENGTH, Mark, mark_problem

# The choices of each row, in the order shown: one tap per participant.
CHOICES: dict[str, tuple[AttendanceStatus, AbsenceReason | None]] = {
    "present": (AttendanceStatus.PRESENT, None),
    "late": (AttendanceStatus.LATE, None),
    "sick": (AttendanceStatus.ABSENT, AbsenceReason.SICK),
    "authorised": (AttendanceStatus.ABSENT, AbsenceReason.AUTHORISED),
    "unauthorised": (AttendanceStatus.ABSENT, AbsenceReason.UNAUTHORISED),
}
DEFAULT_CHOICE = "present"  # a new session starts with everyone present


class AttendanceForm(Form):
    submit = SubmitField(_l("Save attendance"))


def mark_name(enrolment_id: int) -> str:
    return f"mark_{enrolment_id}"


def note_name(enrolment_id: int) -> str:
    return f"note_{enrolment_id}"


def choice_of(record: AttendanceRecord) -> str:
    for value, (status, reason) in CHOICES.items():
        if record.status is status and record.reason is reason:
            return value
    return DEFAULT_CHOICE  # pragma: no cover - every stored pair is a choice


@dataclass
class Rows:
    """What the form shows per participant (their choice and note) and the marks it stands for."""

    choices: dict[int, str] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    marks: dict[int, Mark] = field(default_factory=dict)


def rows_from_records(enrolment_ids: Iterable[int], records: Iterable[AttendanceRecord]) -> Rows:
    """The form of a recorded session as it was saved; everyone else present."""
    by_enrolment = {record.enrolment_id: record for record in records}
    rows = Rows()
    for enrolment_id in enrolment_ids:
        record = by_enrolment.get(enrolment_id)
        rows.choices[enrolment_id] = choice_of(record) if record else DEFAULT_CHOICE
        rows.notes[enrolment_id] = record.note if record else ""
    return rows


def read_marks(formdata: Mapping[str, str], enrolment_ids: Iterable[int]) -> Rows:
    """Each participant's choice and note as sent; a row without a valid choice gets a message."""
    rows = Rows()
    for enrolment_id in enrolment_ids:
        choice = (formdata.get(mark_name(enrolment_id)) or "").strip()
        note = (formdata.get(note_name(enrolment_id)) or "").strip()
        # Shown again as typed, a refused control character marked.
        rows.notes[enrolment_id] = characters.mark_control_characters(note[: MAX_NOTE_LENGTH * 2])
        if choice not in CHOICES:
            rows.choices[enrolment_id] = ""
            rows.errors[enrolment_id] = _("Choose present, late or absent (with the reason).")
            continue
        rows.choices[enrolment_id] = choice
        status, reason = CHOICES[choice]
        mark = Mark(status=status, reason=reason, note=note)
        problem = mark_problem(mark)
        if problem:
            rows.errors[enrolment_id] = problem
            continue
        rows.marks[enrolment_id] = mark
    return rows
