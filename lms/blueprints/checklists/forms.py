"""Forms of the checklist pages. Choices come from the database and are filled in by the route; the
rules (who may sign off, which evidence counts) live in lms/services/signoff.py and checklists.py."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lms.forms import Form
from lms.services.checklists import OBSERVATION_MAX, Level
from lms.services.signoff import NOTE_MAX


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
    """The cohort matrix: a select per cell (added by ``matrix_form``) and what the cells share."""

    note = _note_field(_l("Note for every sign-off you save here (optional)"))
    attach_evidence = BooleanField(
        _l("Link each participant's approved work on the item as the evidence"), default=True
    )
    submit = SubmitField(_l("Save the changed cells"))

    def cell_fields(self) -> Iterable[Field]:
        return (field for field in self if field.name.startswith("cell_"))


def cell_name(enrolment_id: int, item_id: int) -> str:
    return f"cell_{enrolment_id}_{item_id}"


def matrix_form(cells: Iterable[tuple[int, int]], levels: dict[int, Level]) -> MatrixForm:
    """A MatrixForm with a select for each (enrolment id, item id): unchanged ("") or a level."""
    choices = [SelectChoice("", "–")] + [
        SelectChoice(str(number), str(number)) for number in sorted(levels)
    ]
    fields = {
        cell_name(enrolment_id, item_id): SelectField(
            choices=choices, default="", validators=[Optional()]
        )
        for enrolment_id, item_id in cells
    }
    form_class = type("CohortMatrixForm", (MatrixForm,), fields)
    return form_class()
