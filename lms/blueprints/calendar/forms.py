"""Forms of the calendar subscription pages."""

from __future__ import annotations

from lms.forms import Form


class EmptyForm(Form):
    """Only the CSRF and submission tokens: make a link, or confirm revoking it."""
