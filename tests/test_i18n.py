"""Languages: the Dutch catalog is complete and correct, and pages speak the reader's language.

The catalog tests extract the messages from the current source (as `make messages` does, but into a
temporary folder) and compare them with the .po files. The page tests need the compiled .mo files;
`make test` compiles them (`make translations`), this file never does.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask_babel import force_locale, ngettext
from flask_login.utils import encode_cookie

from lms.models import OutboxMessage, Role, User
from lms.services import accounts
from tests.conftest import AuthActions, csrf_token
from tests.factories import login_token, make_user

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "lms" / "translations"
LOCALES = ("nl", "en")
PLURAL_FORMS = "nplurals=2; plural=(n != 1);"
HOW_TO_FIX = (
    "Run `make messages`, translate what is new in lms/translations/nl/LC_MESSAGES/messages.po "
    "(no fuzzy entries), then `make translations`."
)

# The keywords and options of the Makefile's `messages` target.
EXTRACT_OPTIONS = ["-k", "_l", "-k", "lazy_gettext", "--no-location", "--sort-output"]

# A printf-style placeholder as Python's % operator reads it: "%(name)d", "%s", "%%".
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<type>.?)"
)

Key = tuple[str | None, str | tuple[str, ...]]


# --- the catalogs ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The messages in the current source, extracted with the Makefile's `messages` options."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    config = str(ROOT / "babel.cfg")
    CommandLineInterface().run(
        ["pybabel", "--quiet", "extract", "-F", config, *EXTRACT_OPTIONS, "-o", str(pot), str(ROOT)]
    )
    with pot.open("rb") as file:
        catalog = read_po(file)
    assert len(entries(catalog)) > 50, "extraction found almost no messages; is babel.cfg right?"
    return catalog


@pytest.fixture(scope="module")
def catalogs() -> dict[str, Catalog]:
    found = {}
    for locale in LOCALES:
        path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
        assert path.exists(), f"{path.relative_to(ROOT)} is missing. {HOW_TO_FIX}"
        with path.open("rb") as file:
            found[locale] = read_po(file, locale=locale)
    return found


def entries(catalog: Catalog) -> dict[Key, Message]:
    return {(message.context, message.id): message for message in catalog if message.id}


def msgid(key: Key) -> str:
    context, identifier = key
    text = identifier[0] if isinstance(identifier, tuple) else identifier
    return f"[{context}] {text!r}" if context else repr(text)


def forms(message: Message) -> list[tuple[str, str]]:
    """(source text, translation) per form; for plurals the first form pairs with the singular."""
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return [(ids[min(index, len(ids) - 1)], string) for index, string in enumerate(strings)]


def as_key(value: str | list[str] | tuple[str, ...]) -> str | tuple[str, ...]:
    return value if isinstance(value, str) else tuple(value)


def placeholders(text: str) -> Counter[tuple[str | None, str]]:
    return Counter((match["name"], match["type"]) for match in PLACEHOLDER.finditer(text))


def listing(problems: list[str]) -> str:
    return "\n".join(f"  - {problem}" for problem in sorted(problems))


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_headers_give_language_and_plural_forms(catalogs, locale: str) -> None:
    catalog = catalogs[locale]
    assert str(catalog.locale) == locale
    assert catalog.plural_forms == PLURAL_FORMS
    assert catalog.charset.lower() == "utf-8"
    # `pybabel compile` skips a catalog whose header is marked fuzzy.
    assert not catalog.fuzzy, f"the header of the {locale} catalog is marked fuzzy"


def test_dutch_catalog_translates_every_message_in_the_source(template, catalogs) -> None:
    dutch = entries(catalogs["nl"])
    problems = []
    for key in entries(template):
        message = dutch.get(key)
        if message is None:
            problems.append(f"{msgid(key)}: not in the catalog")
        elif message.fuzzy:
            problems.append(f"{msgid(key)}: marked fuzzy")
        elif not all(string for _, string in forms(message)):
            problems.append(f"{msgid(key)}: no Dutch translation (or a plural form is empty)")
        elif message.pluralizable and len(forms(message)) != catalogs["nl"].num_plurals:
            problems.append(f"{msgid(key)}: needs {catalogs['nl'].num_plurals} plural forms")
    if problems:
        pytest.fail(
            f"{len(problems)} message(s) without a finished Dutch translation. {HOW_TO_FIX}\n"
            + listing(problems)
        )


def test_english_catalog_holds_every_message_in_the_source(template, catalogs) -> None:
    english = entries(catalogs["en"])
    missing = [msgid(key) for key in entries(template) if key not in english]
    if missing:
        pytest.fail(
            f"{len(missing)} message(s) not in the English catalog. {HOW_TO_FIX}\n"
            + listing(missing)
        )


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogs_hold_no_obsolete_messages(template, catalogs, locale: str) -> None:
    catalog = catalogs[locale]
    current = entries(template)
    stale = [msgid(key) for key in entries(catalog) if key not in current]
    stale += [f"{msgid((None, key))} (obsolete, #~)" for key in catalog.obsolete]
    if stale:
        pytest.fail(
            f"the {locale} catalog holds messages that are no longer in the source. {HOW_TO_FIX}\n"
            + listing(stale)
        )


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders_of_the_source(catalogs, locale: str) -> None:
    problems = []
    for key, message in entries(catalogs[locale]).items():
        for source, translation in forms(message):
            if translation and placeholders(translation) != placeholders(source):
                problems.append(
                    f"{msgid(key)}: {translation!r} does not have the placeholders of {source!r}"
                )
    if problems:
        pytest.fail("placeholders must match the msgid's exactly:\n" + listing(problems))


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogs_are_up_to_date(catalogs, locale: str) -> None:
    """The app reads the .mo files; a missing or stale one explains failing page tests below."""
    path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run `make translations`."
    with path.open("rb") as file:
        compiled = {as_key(message.id): as_key(message.string) for message in read_mo(file)}
    stale = [
        msgid(key)
        for key, message in entries(catalogs[locale]).items()
        if not message.fuzzy
        and all(string for _, string in forms(message))
        and compiled.get(as_key(message.id)) != as_key(message.string)
    ]
    if stale:
        pytest.fail(
            f"{path.relative_to(ROOT)} is older than its .po file: run `make translations`.\n"
            + listing(stale)
        )


def test_plural_forms_follow_the_number(app) -> None:
    singular = "%(num)d submission is waiting for your assessment."
    plural = "%(num)d submissions are waiting for your assessment."
    with force_locale("nl"):
        assert ngettext(singular, plural, 1) == "1 inzending wacht op jouw beoordeling."
        assert ngettext(singular, plural, 0) == "0 inzendingen wachten op jouw beoordeling."
        assert ngettext(singular, plural, 3) == "3 inzendingen wachten op jouw beoordeling."
    with force_locale("en"):
        assert ngettext(singular, plural, 1) == "1 submission is waiting for your assessment."
        assert ngettext(singular, plural, 3) == "3 submissions are waiting for your assessment."


def test_templates_follow_a_forced_locale_and_back(app) -> None:
    """Templates remember the catalogue of the locale they were given (lms.i18n.template_translations);
    a mail in the recipient's language inside a Dutch request must still be in that language, and the
    page after it Dutch again."""
    template = app.jinja_env.from_string(
        '{{ _("Overview") }}|{{ ngettext("%(num)d submission is waiting for your assessment.",'
        ' "%(num)d submissions are waiting for your assessment.", 3) }}'
    )
    with app.test_request_context("/"):
        dutch = "Overzicht|3 inzendingen wachten op jouw beoordeling."
        assert template.render() == dutch
        with force_locale("en"):
            assert template.render() == "Overview|3 submissions are waiting for your assessment."
            with force_locale("nl"):
                assert template.render() == dutch
        assert template.render() == dutch
    with app.app_context(), force_locale("en"):  # a scheduled job: no request
        assert template.render().startswith("Overview|")


# --- pages in the reader's language -------------------------------------------------------------


def login_page(client, **headers: str) -> str:
    response = client.get("/login", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def assert_dutch(page: str) -> None:
    assert '<html lang="nl">' in page
    assert "<h1>Inloggen</h1>" in page


def assert_english(page: str) -> None:
    assert '<html lang="en">' in page
    assert "<h1>Log in</h1>" in page
    assert "Inloggen" not in page


def switch_language(client, locale: str, next_path: str = "/login"):  # type: ignore[no-untyped-def]
    data = {"locale": locale, "next": next_path, "csrf_token": csrf_token(client)}
    return client.post("/language", data=data)


def test_pages_are_dutch_by_default(client) -> None:
    assert_dutch(login_page(client))


BROWSERS = ["en", "en-US", "en-GB,en;q=0.9,nl;q=0.5", "de, en;q=0.5", "nl", "nl-BE", "fr, de;q=0.8"]


@pytest.mark.parametrize("accept", BROWSERS)
def test_the_browsers_language_does_not_decide(client, db, auth, accept: str) -> None:
    """Dutch unless the person chose English: not for a visitor, nor for a logged-in person who
    never chose, whatever the browser asks for."""
    assert_dutch(login_page(client, **{"Accept-Language": accept}))
    user = make_user(Role.PARTICIPANT)
    db.session.commit()
    auth.login(user.email)
    home = client.get("/portfolio/", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert '<html lang="nl">' in home and "Je zit nog niet in een groep" in home
    db.session.expire_all()
    assert db.session.get(User, user.id).locale is None


def test_the_api_answers_in_the_language_its_client_asks_for(client) -> None:
    """Machines are not people: the JSON API's problems follow Accept-Language, as it documents."""
    dutch = client.get("/api/v1/cohorts").get_json()
    english = client.get("/api/v1/cohorts", headers={"Accept-Language": "en"}).get_json()
    assert dutch["status"] == english["status"] == 401
    assert dutch["detail"].startswith("Stuur je API-sleutel mee")
    assert english["detail"].startswith("Send your API key")


def test_language_switch_to_english_and_back(client) -> None:
    response = switch_language(client, "en")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert_english(login_page(client))
    # The choice beats what the browser asks for.
    assert_english(login_page(client, **{"Accept-Language": "nl"}))

    switch_language(client, "nl")
    assert_dutch(login_page(client))
    assert_dutch(login_page(client, **{"Accept-Language": "en"}))


def test_switch_button_offers_both_languages_and_returns_to_this_page(client) -> None:
    page = client.get("/login?email=jan%40example.org").get_data(as_text=True)
    assert 'name="locale" value="nl"' in page
    assert 'name="locale" value="en"' in page
    assert 'name="next" value="/login?email=jan%40example.org"' in page


def test_a_logged_in_users_choice_is_stored_and_wins_on_the_next_login(
    app, client, auth, db
) -> None:
    user = make_user(Role.PARTICIPANT, email="noor.smeets@example.org")
    db.session.commit()
    assert auth.login(user.email).status_code == 302

    response = switch_language(client, "en", next_path="/portfolio/")
    assert response.headers["Location"] == "/portfolio/"
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"

    # Another browser, set to Dutch: before login Dutch, after login the user's own choice.
    other = app.test_client()
    assert_dutch(login_page(other, **{"Accept-Language": "nl"}))
    assert AuthActions(other).login(user.email).status_code == 302
    home = other.get("/portfolio/", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert '<html lang="en">' in home
    assert "You are not in a group yet" in home

    # Switching back is stored too.
    switch_language(other, "nl", next_path="/portfolio/")
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "nl"
    home = other.get("/portfolio/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="nl">' in home
    assert "Je zit nog niet in een groep" in home


@pytest.mark.parametrize("locale", ["de", "", "EN", "english", "nl-NL", "x" * 300])
def test_an_unknown_language_changes_nothing(client, locale: str) -> None:
    switch_language(client, "en")
    response = switch_language(client, locale)
    assert response.status_code == 302
    assert_english(login_page(client))
    with client.session_transaction() as session:
        assert session["locale"] == "en"


def test_an_unknown_language_leaves_the_users_choice_alone(client, auth, db) -> None:
    user = make_user(Role.PARTICIPANT, locale="en")
    db.session.commit()
    auth.login(user.email)
    response = switch_language(client, "fr", next_path="/portfolio/")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"


def session_locale(client) -> object:  # type: ignore[no-untyped-def]
    with client.session_transaction() as session:
        return session.get("locale")


def test_a_choice_made_before_login_is_kept_on_an_account_without_one(client, auth, db) -> None:
    user = make_user(Role.PARTICIPANT)
    db.session.commit()
    switch_language(client, "en")
    assert auth.login(user.email).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"
    home = client.get("/portfolio/", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert '<html lang="en">' in home and "You are not in a group yet" in home


def test_the_accounts_own_choice_wins_over_one_made_before_login(client, auth, db) -> None:
    """A shared device may hold someone else's choice; the account's is the person's own."""
    user = make_user(Role.PARTICIPANT, locale="nl")
    db.session.commit()
    switch_language(client, "en")
    auth.login(user.email)
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "nl"
    assert '<html lang="nl">' in client.get("/portfolio/").get_data(as_text=True)
    assert session_locale(client) == "nl"


def test_logging_out_forgets_the_language_on_the_device(client, auth, db) -> None:
    user = make_user(Role.PARTICIPANT, locale="en")
    db.session.commit()
    auth.login(user.email)
    assert (
        session_locale(client) == "en"
    )  # copied at login, for the pages made without the database
    auth.logout()
    assert_dutch(login_page(client, **{"Accept-Language": "en"}))


def test_a_login_through_the_remember_cookie_copies_the_choice_into_the_session(app, db) -> None:
    user = make_user(Role.PARTICIPANT, locale="en")
    token = login_token(user, remember=True)
    db.session.commit()
    device = app.test_client()
    device.set_cookie("remember_token", encode_cookie(token))
    home = device.get("/portfolio/").get_data(as_text=True)
    assert '<html lang="en">' in home
    assert session_locale(device) == "en"


def test_a_language_chosen_on_the_set_password_page_is_kept(app, client, db) -> None:
    user = make_user(Role.PARTICIPANT, password=None)
    secret = accounts.create_invitation(user)
    db.session.commit()
    path = f"/set-password/{secret}"
    switch_language(client, "en", next_path=path)
    page = client.get(path).get_data(as_text=True)
    assert '<html lang="en">' in page
    response = client.post(
        path,
        data={
            "password": "a-long-new-password-1",
            "confirm": "a-long-new-password-1",
            "csrf_token": csrf_token(client, path),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"
    assert_english(login_page(client))


def test_a_password_reset_asked_in_english_is_mailed_in_the_accounts_language(client, db) -> None:
    """Anyone may ask a reset for any address: the visitor's choice does not change the account."""
    user = make_user(Role.PARTICIPANT, first_name="Noor")
    db.session.commit()
    switch_language(client, "en", next_path="/forgot-password")
    client.post(
        "/forgot-password",
        data={"email": user.email, "csrf_token": csrf_token(client, "/forgot-password")},
    )
    message = db.session.scalars(sa.select(OutboxMessage)).one()
    assert message.subject == "Een nieuw wachtwoord voor Vakkracht MKB"
    db.session.expire_all()
    assert db.session.get(User, user.id).locale is None


def test_mail_is_in_the_recipients_language_not_the_senders(client, auth, db) -> None:
    """An English-speaking coordinator adds two trainers: the one who never chose gets Dutch mail,
    the one who chose English (before the invitation is sent again) gets English."""
    coordinator = make_user(Role.COORDINATOR, locale="en")
    db.session.commit()
    auth.login(coordinator.email)
    for first_name, email in (("Ingrid", "ingrid@example.org"), ("Sam", "sam@example.org")):
        response = auth.post(
            "/people/trainers/new",
            {"first_name": first_name, "last_name": "Jansen", "email": email},
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    ingrid = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == "ingrid@example.org")
    ).one()
    assert ingrid.subject == "Je account voor Vakkracht MKB" and "Hallo Ingrid," in ingrid.body_text

    sam = accounts.find_user_by_email("sam@example.org")
    assert sam is not None and sam.locale is None
    sam.locale = "en"
    accounts.send_invitation(sam)
    db.session.commit()
    mails = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.recipient == "sam@example.org")
        .order_by(OutboxMessage.id)
    ).all()
    assert mails[0].subject == "Je account voor Vakkracht MKB"
    assert (
        mails[-1].subject == "Your account for Vakkracht MKB"
        and "Hello Sam," in mails[-1].body_text
    )


def test_the_switch_needs_a_csrf_token(client) -> None:
    response = client.post("/language", data={"locale": "en", "next": "/login"})
    assert response.status_code == 400
    assert_dutch(login_page(client))


@pytest.mark.parametrize("next_path", ["/login", "/login?email=jan%40example.org", "/portfolio/"])
def test_the_switch_returns_to_the_page_it_came_from(client, next_path: str) -> None:
    response = switch_language(client, "en", next_path=next_path)
    assert response.status_code == 302
    assert response.headers["Location"] == next_path


def lands_on_this_site(location: str) -> bool:
    """Where a browser goes: it drops tabs and newlines, and reads "\\" as "/" in http(s) URLs."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip().replace("\\", "/")
    target = urlsplit(urljoin("http://localhost/", cleaned))
    return target.scheme == "http" and target.netloc == "localhost"


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/",
        "//evil.example/",
        "///evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
    ],
)
def test_the_switch_never_redirects_to_another_site(client, next_path: str) -> None:
    response = switch_language(client, "en", next_path=next_path)
    assert response.status_code == 302
    assert lands_on_this_site(response.headers["Location"]), response.headers["Location"]
    assert_english(login_page(client))
