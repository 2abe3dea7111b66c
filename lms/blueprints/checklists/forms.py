"""Forms of the checklist pages. Choices come from the database and are filled in by the route; the
rules (who may sign off, which evidence counts) live in lms/services/signoff.py and checklists.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from lms.forms import Form
from lms.services.checklists import OBSERVATION_MAX, Level
from lms.services.signoff import MAX_LEVEL, MIN_LEVEL, NOTE_MAX


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class CheckboxListField(SelectMultipleField):
    """Several choices as checkboxes; the template renders them in a fieldset."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def level_choices(levels: dict[int, Level]) -> list[SelectChoice]:
    return [
        SelectChoice(number, f"{number} · {level.name}" if level.name else str(number))
        for number, level in sorted(levels.items())
    ]


def _note_field(text: Any) -> TextAreaField:
    return TextAreaField(
        text,
        validators=[Length(max=NOTE_MAX, message=_l("Keep the note under %(max)d characters."))],
        filters=[strip],
        render_kw={"rows": 3},
    )


class SignOffForm(Form):
    """One participant: one or more items at one level, with a note and the work it rests on."""

    items = CheckboxListField(
        _l("Checklist items"),
        coerce=int,
        validators=[InputRequired(_l("Choose at least one checklist item."))],
    )
    level = RadioField(
        _l("Level reached"), coerce=int, validators=[InputRequired(_l("Choose a level."))]
    )
    note = _note_field(_l("Note (optional)"))
    evidence = CheckboxListField(_l("Approved work this rests on (optional)"), coerce=int)
    submit = SubmitField(_l("Sign off"))


class BulkSignOffForm(Form):
    """One item for several participants of a cohort, each ticked on their own."""

    item = HiddenField(validators=[DataRequired()])
    level = RadioField(
        _l("Level reached"), coerce=int, validators=[InputRequired(_l("Choose a level."))]
    )
    note = _note_field(_l("Note (optional)"))
    participants = CheckboxListField(
        _l("Participants"),
        coerce=int,
        validators=[InputRequired(_l("Tick each participant who showed this."))],
    )
    submit = SubmitField(_l("Sign off for the ticked participants"))


class RevokeForm(Form):
    reason = TextAreaField(
        _l("Reason for the revocation"),
        validators=[
            DataRequired(_l("Give the reason for the revocation.")),
            Length(max=NOTE_MAX, message=_l("Keep the reason under %(max)d characters.")),
        ],
        filters=[strip],
        render_kw={"rows": 4},
    )
    confirm = BooleanField(
        _l(
            "I understand: this sign-off no longer counts. The record stays visible in the history."
        ),
        validators=[DataRequired(_l("Tick the box to confirm the revocation."))],
    )
    submit = SubmitField(_l("Revoke the sign-off"))


class ObservationForm(Form):
    item = SelectField(
        _l("Checklist item"), coerce=int, validators=[InputRequired(_l("Choose a checklist item."))]
    )
    note = TextAreaField(
        _l("What did you see at work?"),
        validators=[
            DataRequired(_l("Write what you saw at work.")),
            Length(
                max=OBSERVATION_MAX,
                message=_l("Keep the observation under %(max)d characters."),
            ),
        ],
        filters=[strip],
        render_kw={"rows": 4},
    )
    submit = SubmitField(_l("Save observation"))


class MatrixForm(Form):
    """The cohort matrix: what the changed cells share. The cells themselves (``cell_<enrolment id>_<item
    id>``: a level, or empty for unchanged) are read by ``read_cells``: a WTForms field for each of 384
    cells would cost more than the rest of the page."""

    note = _note_field(_l("Note for every sign-off you save here (optional)"))
    attach_evidence = BooleanField(
        _l("Link each participant's approved work on the item as the evidence"), default=True
    )
    submit = SubmitField(_l("Save the changed cells"))


def cell_name(enrolment_id: int, item_id: int) -> str:
    return f"cell_{enrolment_id}_{item_id}"


@dataclass
class CellInput:
    """What was typed or chosen in the matrix's cells."""

    chosen: dict[tuple[int, int], int] = field(default_factory=dict)  # (enrolment, item) -> level
    values: dict[str, str] = field(
        default_factory=dict
    )  # cell name -> the value sent, to show back
    invalid: set[str] = field(default_factory=set)  # cell names whose value is not a level

    @property
    def error(self) -> str | None:
        if self.invalid:
            return _(
                "Type a level from %(low)d to %(high)d in a cell, or leave it empty.",
                low=MIN_LEVEL,
                high=MAX_LEVEL,
            )
        return None


def read_cells(
    formdata: Mapping[str, str], cells: Iterable[tuple[int, int]], levels: Iterable[int]
) -> CellInput:
    """The cells of the matrix that carry a level; names of cells not shown are ignored."""
    allowed = {str(number): number for number in levels}
    result = CellInput()
    for enrolment_id, item_id in cells:
        name = cell_name(enrolment_id, item_id)
        value = (formdata.get(name) or "").strip()
        if not value:
            continue
        result.values[name] = value[:10]
        if value in allowed:
            result.chosen[(enrolment_id, item_id)] = allowed[value]
        else:
            result.invalid.add(name)
    return result
