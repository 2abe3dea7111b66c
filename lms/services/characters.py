"""Characters no text of ours may hold, one rule for forms, CSV import and the API.

- Control characters (NUL and the other C0 and C1 controls, DEL) and lone surrogates: nobody types
  them, PostgreSQL refuses NUL in any text (a server error before this rule), and the others garble
  pages, exports and mails. A multi-line text may hold tab, line feed and carriage return.
- Direction overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the direction marks (U+200E,
  U+200F, U+061C) in names: they are invisible and reorder what follows them, so a name shown to
  others could read as something else ("Trojan Source" spoofing). No name written in any script needs
  them: the Unicode bidirectional algorithm already shows Arabic or Hebrew names the right way round.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _

# C0 controls, DEL, C1 controls and the surrogate range (only lone surrogates reach a Python str).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_EXCEPT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_DIRECTION = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Shown in place of a refused control character when a form is shown again with what was typed.
REPLACEMENT = "\ufffd"


def _controls(multiline: bool) -> re.Pattern[str]:
    return _CONTROL_EXCEPT_LINES if multiline else _CONTROL


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    return _controls(multiline).search(value) is not None


def mark_control_characters(value: str, *, multiline: bool = False) -> str:
    """``value`` with every refused control character replaced by U+FFFD, so a form shown again
    keeps what was typed and shows where the problem is."""
    return _controls(multiline).sub(REPLACEMENT, value)


def control_character_message(*, marked: bool = False) -> str:
    """``marked``: the value is shown again with the character replaced by U+FFFD."""
    if marked:
        return _(
            "This contains an invisible control character that cannot be saved (shown here as "
            "%(mark)s). Remove it and try again.",
            mark=REPLACEMENT,
        )
    return _("This contains an invisible control character that cannot be saved. Remove it.")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be saved as text, or None."""
    if has_control_characters(value, multiline=multiline):
        return control_character_message()
    return None


def has_direction_characters(value: str) -> bool:
    return _DIRECTION.search(value) is not None


def name_problem(value: str) -> str | None:
    """Why ``value`` cannot be a name shown to others (a person's, a company's, a cohort's), or None."""
    problem = text_problem(value)
    if problem:
        return problem
    if has_direction_characters(value):
        return _(
            "A name cannot contain invisible characters that change the direction of the text. "
            "Remove them and try again."
        )
    return None
