from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, MultipleFileField
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length

from lms.forms import Form
from lms.services.evidence import ACCEPT
from lms.services.submissions import MAX_REFLECTION_LENGTH


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


class WorkForm(Form):
    """The reflection and the files of one attempt. Checking the files is the service's job: by
    their content, not by what the browser says."""

    what_i_did = TextAreaField(
        _l("What did you do?"),
        validators=[Length(max=MAX_REFLECTION_LENGTH)],
        filters=[_strip],
        render_kw={"rows": 5},
    )
    what_went_well = TextAreaField(
        _l("What went well?"),
        validators=[Length(max=MAX_REFLECTION_LENGTH)],
        filters=[_strip],
        render_kw={"rows": 4},
    )
    what_i_learned = TextAreaField(
        _l("What did you learn?"),
        validators=[Length(max=MAX_REFLECTION_LENGTH)],
        filters=[_strip],
        render_kw={"rows": 4},
    )
    photo = FileField(_l("Take a photo"), render_kw={"accept": "image/*", "capture": "environment"})
    files = MultipleFileField(_l("Add files"), render_kw={"accept": ACCEPT})
    save = SubmitField(_l("Save as draft"))
    hand_in = SubmitField(_l("Hand in"))


class DeleteFileForm(Form):
    submit = SubmitField(_l("Yes, remove this file"))
