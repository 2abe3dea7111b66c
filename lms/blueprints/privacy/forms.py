from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms.forms import Form


class EraseForm(Form):
    reason = TextAreaField(
        _l("Reason (for the audit log)"),
        validators=[Length(max=500, message=_l("At most %(max)d characters."))],
        render_kw={"rows": 3},
    )
    understood = BooleanField(
        _l("I understand that this cannot be undone."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
    submit = SubmitField(_l("Erase the data"))
