from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SubmitField, TextAreaField

from lms.forms import Form


class CredentialForm(Form):
    """A digital badge to check: pasted (the JWT or the JSON) or as a file."""

    credential = TextAreaField(
        _l("Paste the digital badge"),
        render_kw={"rows": 6, "spellcheck": "false", "autocomplete": "off"},
    )
    file = FileField(_l("Or choose the file"), render_kw={"accept": ".json,.jwt,.txt"})
    submit = SubmitField(_l("Check"))
