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
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask_babel import force_locale, ngettext

from lms.models import Role, User
from tests.conftest import AuthActions, csrf_token
from tests.factories import make_user

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


@pytest.mark.parametrize("accept", ["en", "en-US", "en-GB,en;q=0.9,nl;q=0.5", "de, en;q=0.5"])
def test_pages_are_english_when_the_browser_asks_for_english(client, accept: str) -> None:
    assert_english(login_page(client, **{"Accept-Language": accept}))


@pytest.mark.parametrize("accept", ["nl", "nl-BE", "de", "fr, de;q=0.8", "nl, en;q=0.5"])
def test_pages_are_dutch_for_other_browsers(client, accept: str) -> None:
    assert_dutch(login_page(client, **{"Accept-Language": accept}))


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
