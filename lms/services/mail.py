"""Mail goes through the outbox: written in the same transaction as the event that causes it.

``queue_mail`` renders ``templates/mail/<name>.txt`` and ``.html`` in the recipient's language and adds
an OutboxMessage; a scheduled job delivers it (``lms.services.outbox``). Nothing here talks to SMTP.
``render_mails`` renders many at once (the reminder sweep), the same mails as ``render_mail``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale, get_locale, get_translations
from flask_babel.speaklater import LazyString
from jinja2 import Template, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from lms import clock
from lms.extensions import db
from lms.holidays import is_working_day
from lms.i18n import language_of
from lms.models import OutboxMessage, User

# Working hours in the Netherlands, when reminders may be mailed: working days (Monday to Friday but
# public holidays), 08:00-18:00.
WORKING_HOURS_START = time(8, 0)
WORKING_HOURS_END = time(18, 0)


def in_working_hours(moment: datetime) -> bool:
    local = moment.astimezone(clock.LOCAL_TZ)
    return is_working_day(local.date()) and WORKING_HOURS_START <= local.time() < WORKING_HOURS_END


def next_working_moment(moment: datetime) -> datetime:
    """``moment`` itself when it falls in working hours, else the start of the next working day (UTC)."""
    if in_working_hours(moment):
        return moment
    local = moment.astimezone(clock.LOCAL_TZ)
    day = local.date()
    if local.time() >= WORKING_HOURS_END or not is_working_day(day):
        day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    start = datetime.combine(day, WORKING_HOURS_START, tzinfo=clock.LOCAL_TZ)
    return start.astimezone(moment.tzinfo or clock.LOCAL_TZ)


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for mail and the command line, on the configured public address (BASE_URL),
    whether or not there is a request."""
    adapter = current_app.url_map.bind("localhost")
    return current_app.config["BASE_URL"].rstrip("/") + adapter.build(endpoint, values)


def render_mail(
    recipient: User,
    template: str,
    subject: Any,
    *,
    working_hours_only: bool = False,
    **context: Any,
) -> dict[str, Any]:
    """The outbox row's values for mail ``template`` to ``recipient``, rendered in their language
    (see ``queue_mail``); ``queue_mails`` inserts many of them at once."""
    now = clock.now()
    # Never the sender's language: force_locale(None) would leave the request's locale in place.
    with force_locale(language_of(recipient)):
        context = {"recipient": recipient, **context}
        return {
            "recipient": recipient.email,
            "subject": str(subject),
            "body_text": render_template(f"mail/{template}.txt", **context),
            "body_html": render_template(f"mail/{template}.html", **context),
            "working_hours_only": working_hours_only,
            "next_attempt_at": next_working_moment(now) if working_hours_only else now,
            "created_at": now,
        }


def queue_mail(
    recipient: User,
    template: str,
    subject: Any,
    *,
    working_hours_only: bool = False,
    **context: Any,
) -> OutboxMessage:
    """Render mail ``template`` for ``recipient`` in their language and put it in the outbox.

    ``subject`` is a lazy string (``lazy_gettext("...", name=...)``), translated for the recipient.
    ``working_hours_only``: held until working hours (reminders); otherwise it goes out at once
    (invitations, password resets, action links).
    """
    message = OutboxMessage(
        **render_mail(
            recipient, template, subject, working_hours_only=working_hours_only, **context
        )
    )
    db.session.add(message)
    db.session.flush()
    return message


@dataclass(frozen=True)
class Mail:
    """A mail still to be rendered: the arguments of ``render_mail``, for ``render_mails``."""

    recipient: User
    template: str
    subject: Any
    context: dict[str, Any] = field(default_factory=dict)
    working_hours_only: bool = False

    def render(self) -> dict[str, Any]:
        """The outbox row's values through ``render_mail``, one mail at a time."""
        return render_mail(
            self.recipient,
            self.template,
            self.subject,
            working_hours_only=self.working_hours_only,
            **self.context,
        )


class _Translated(str):
    """A lazy string (``lazy_gettext``) translated once for a batch of mails. To a template it is what
    the lazy string was: text that counts as safe HTML (``LazyString.__html__``), not escaped."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


class _Language:
    """What the mails of one language share in a batch, made inside ``force_locale``: the templates'
    context (context processors, ``_()`` bound to the catalogue, ``get_locale()``), and every string
    translated once."""

    def __init__(self) -> None:
        self.catalogue = get_translations()
        self.translated: dict[str, str] = {}
        # Lazy strings by identity (kept alive here): the same constants come back in every mail.
        self.settled: dict[int, tuple[Any, _Translated]] = {}
        locale = get_locale()
        self.context: dict[str, Any] = {}
        current_app.update_template_context(self.context)  # nothing there depends on the mail
        # ``_`` too: jinja2.ext's alias only looks up ``gettext`` and calls it.
        self.context["gettext"] = self.context["_"] = _template_gettext(self.gettext)
        self.context["get_locale"] = lambda: locale

    def gettext(self, string: str) -> str:
        if string not in self.translated:
            self.translated[string] = self.catalogue.ugettext(string)
        return self.translated[string]

    def settle(self, value: Any) -> Any:
        """A lazy string translated (once), anything else as it is."""
        if not isinstance(value, LazyString):
            return value
        if id(value) not in self.settled:
            self.settled[id(value)] = (value, _Translated(value))
        return self.settled[id(value)][1]


def _template_gettext(translate: Callable[[str], str]) -> Callable[..., str]:
    """A template's ``_()`` and ``gettext()`` bound to one catalogue: what ``jinja2.ext`` installs for
    Flask-Babel (new style: the translation is always a format string, marked safe when escaping),
    without looking up the request's catalogue on every call."""

    @pass_context
    def gettext(context: Context, string: str, /, **variables: Any) -> str:
        text = translate(string)
        if context.eval_ctx.autoescape:
            # The catalogue's own text, as jinja2.ext's newstyle gettext marks it; the variables
            # are escaped by Markup's % below.
            text = Markup(text)  # nosec B704 - a translation from our catalogue, not user data
        return text % variables  # type: ignore[no-any-return]

    return gettext


def _render(template: Template, context: dict[str, Any]) -> str:
    """``template.render(context)`` for a ``context`` that holds the template's globals already:
    ``render`` would merge them in again for every mail (``Template.new_context``)."""
    environment = template.environment
    try:
        return environment.concat(  # type: ignore[attr-defined,no-any-return]
            template.root_render_func(template.new_context(context, shared=True))
        )
    except Exception:
        environment.handle_exception()  # as Template.render: the template's line in the traceback
        raise


def render_mails(mails: Sequence[Mail]) -> list[dict[str, Any]]:
    """``render_mail`` for many mails, in their order: the same rows, byte for byte
    (tests/test_reminders.py), for a fraction of the cost. What does not depend on the mail is done
    once per template and language instead of once per mail: the template lookup, the switch of
    locale, the context processors and the template's globals, the catalogue behind the templates'
    ``_()``, the translation of the subject and of the lazy strings in the context. One moment for all
    of them (``clock.now``)."""
    now = clock.now()
    held = next_working_moment(now)
    environment = current_app.jinja_env
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, mail in enumerate(mails):
        groups[(mail.template, language_of(mail.recipient))].append(index)
    rows: list[dict[str, Any]] = [{} for _ in mails]
    for (template, language_code), indexes in groups.items():
        text_template = environment.get_or_select_template(f"mail/{template}.txt")
        html_template = environment.get_or_select_template(f"mail/{template}.html")
        with force_locale(language_code):
            language = _Language()
            # What Template.render puts under every context: its globals, here once per batch.
            text_base = {**text_template.globals, **language.context}
            html_base = {**html_template.globals, **language.context}
            for index in indexes:
                mail = mails[index]
                context = {
                    "recipient": mail.recipient,
                    **{name: language.settle(value) for name, value in mail.context.items()},
                }
                rows[index] = {
                    "recipient": mail.recipient.email,
                    "subject": str(language.settle(mail.subject)),
                    "body_text": _render(text_template, {**text_base, **context}),
                    "body_html": _render(html_template, {**html_base, **context}),
                    "working_hours_only": mail.working_hours_only,
                    "next_attempt_at": held if mail.working_hours_only else now,
                    "created_at": now,
                }
    return rows


def queue_mails(messages: Sequence[dict[str, Any]]) -> int:
    """Put many rendered mails (``render_mail``, ``render_mails``) in the outbox: one INSERT, sent by
    SQLAlchemy as one executemany, instead of a flush per mail. Returns how many."""
    if messages:
        db.session.execute(sa.insert(OutboxMessage), list(messages))
    return len(messages)
