"""How templates are compiled: HTML without its indentation, plain text as written."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from jinja2.ext import babel_extract

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
HTML_TEMPLATES = sorted(TEMPLATES.rglob("*.html"))


def test_html_pages_are_sent_without_indentation(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="email"' in html and 'name="password"' in html  # the form is all there
    assert [line for line in html.splitlines() if line[:1] in (" ", "\t")] == []


def test_plain_text_mails_keep_their_layout(app) -> None:  # type: ignore[no-untyped-def]
    source = (TEMPLATES / "mail" / "reminder.txt").read_text(encoding="utf-8")
    assert "\n  {{ base_url }}" in source  # the link indented under its line
    assert app.jinja_env.preprocess(source, "mail/reminder.txt") == source


def test_no_template_has_preformatted_text_over_several_lines() -> None:
    """Dropping indentation would change what a <pre> or <textarea> shows."""
    for path in HTML_TEMPLATES:
        source = path.read_text(encoding="utf-8")
        for element in re.finditer(r"<(pre|textarea)\b.*?</\1>", source, re.DOTALL):
            assert "\n" not in element.group(), f"{path.relative_to(TEMPLATES)}: {element.group()}"


@pytest.mark.parametrize("path", HTML_TEMPLATES, ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_dropping_indentation_keeps_every_message_id(app, path: Path) -> None:  # type: ignore[no-untyped-def]
    """The catalogue is extracted from the source as written; a message over several lines would
    otherwise be looked up without its indentation and stay untranslated."""
    source = path.read_text(encoding="utf-8")
    name = str(path.relative_to(TEMPLATES))
    compiled = app.jinja_env.preprocess(source, name)

    def messages(text: str) -> list[object]:
        options = {"extensions": "jinja2.ext.i18n"}
        found = babel_extract(io.BytesIO(text.encode()), ["_", "gettext", "ngettext"], [], options)
        return [message for _, _, message, _ in found]

    assert messages(compiled) == messages(source)
