"""The base class of every form: what cannot be saved is refused before any other check sees it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

from flask import request
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, StringField, TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.validators import ValidationError

from lms.services import characters


def _typed(field: Field) -> Iterator[str]:
    for value in getattr(field, "raw_data", None) or ():
        if isinstance(value, str):  # uploaded files are not text
            yield value


def new_submission_token() -> str:
    """A fresh single-use submission token (see ``lms.services.form_submissions``)."""
    return secrets.token_urlsafe(32)


class SubmissionTokenField(HiddenField):
    """A new single-use token each time the field is drawn, so two forms drawn from one form object
    (one per row of a table) and a form shown again after a send never share a token. What was
    posted is never read back into it: the request hook reads the posted token itself."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = ""

    def _value(self) -> str:
        return new_submission_token()


class Form(FlaskForm):
    """Every form of the application derives from this one (``tests/test_input_limits.py`` checks).

    A field holding a control character (a NUL, which PostgreSQL cannot store, or any other; tab and
    new lines only in a multi-line field) gets one clear message and the form is shown again with what
    was typed, the character marked. The field's own validators never see the value: some of them
    look it up in the database.

    It also carries a single-use submission token (drawn by ``form.hidden_tag()``), which makes a
    second send of the same drawn form change nothing (``lms.idempotent_forms``)."""

    submission_token = SubmissionTokenField()

    def validate(self, extra_validators: dict[str, Sequence[Any]] | None = None) -> bool:
        refused = [
            field
            for field in self
            if any(
                characters.has_control_characters(value, multiline=isinstance(field, TextAreaField))
                for value in _typed(field)
            )
        ]
        if not refused:
            return bool(super().validate(extra_validators))
        for field in self:  # as validation leaves them: a list a form's own checks may extend
            field.errors = list(field.process_errors)
        for field in refused:
            field.errors = [characters.control_character_message(marked=True)]
            if isinstance(field, StringField) and isinstance(field.data, str):
                field.data = characters.mark_control_characters(
                    field.data, multiline=isinstance(field, TextAreaField)
                )
        return False


def name_shown_to_others(form: FlaskForm, field: Field) -> None:
    """A validator for a name other people see (a person's, a company's, a cohort's): no invisible
    characters that change the direction of the text."""
    problem = characters.name_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


@cache
def declared_field_names() -> frozenset[str]:
    """The names of the fields the application's forms declare: their own validation answers a
    control character in them with a message next to the field."""
    names: set[str] = set()
    pending: list[type[Form]] = [Form]
    while pending:
        form_class = pending.pop()
        pending.extend(form_class.__subclasses__())
        names.update(
            name for name, value in vars(form_class).items() if isinstance(value, UnboundField)
        )
    return frozenset(names)


def unusable_post() -> bool:
    """A NUL in what no form checks: a posted field's name, a value no form declares (read by a view
    directly), or an uploaded file's name. Or a posted part without a name, which no browser sends
    (and on which the CSRF check itself fails)."""
    declared = declared_field_names()
    for name, value in request.form.items(multi=True):
        if name is None or "\x00" in name or ("\x00" in value and name not in declared):
            return True
    return any(
        name is None or "\x00" in name or "\x00" in (upload.filename or "")
        for name, upload in request.files.items(multi=True)
    )
