from flask_babel import lazy_gettext as _l
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

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


class NotCarriedOutForm(Form):
    """The contact says the work was NOT carried out at their workplace; the remark says why."""

    reason = TextAreaField(
        _l("What was not done at your workplace?"),
        validators=[
            DataRequired(
                message=_l(
                    "Say what was not done at your workplace, so the trainer and participant know."
                )
            ),
            Length(max=REMARK_MAX, message=_l("Keep the remark under %(max)d characters.")),
        ],
        filters=[lambda value: value.strip() if value else value],
        render_kw={"rows": 4},
    )
    deny = SubmitField(_l("Not carried out at our workplace"))
