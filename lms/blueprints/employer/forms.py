from flask_babel import lazy_gettext as _l
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length

from lms.forms import Form

REMARK_MAX = 1000


class ConfirmationForm(Form):
    remark = TextAreaField(
        _l("Remark (optional)"),
        validators=[
            Length(max=REMARK_MAX, message=_l("Keep the remark under %(max)d characters."))
        ],
        filters=[lambda value: value.strip() if value else value],
        render_kw={"rows": 4},
    )
    submit = SubmitField(_l("Confirm: carried out at our workplace"))
