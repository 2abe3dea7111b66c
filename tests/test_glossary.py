"""One word per thing: the Dutch interface follows the glossary in README.md ("Woordenlijst / Glossary").

The glossary names, for each thing, the one Dutch word the interface uses and the words it must not use.
BANNED below is that last column; the first test keeps README and BANNED the same, the others check every
Dutch translation in the catalog against it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DUTCH_CATALOG = ROOT / "lms" / "translations" / "nl" / "LC_MESSAGES" / "messages.po"
GLOSSARY_HEADING = "## Woordenlijst / Glossary"

# Per word of the interface: the synonyms it replaces. Keep in step with the README glossary.
BANNED: dict[str, tuple[str, ...]] = {
    "deelnemer": ("cursist", "student", "leerling", "medewerker"),
    "praktijkopleider": (
        "contactpersoon",
        "werkbegeleider",
        "leermeester",
        "bedrijfsbegeleider",
        "mentor",
    ),
    "werkgever": ("stagebedrijf", "praktijkbedrijf", "opleidingsbedrijf"),
    "trainer": ("docent", "vakdocent", "leraar", "instructeur", "opleider"),
    "coördinator": ("beheerder", "administrator", "admin", "programmaleider"),
    "groep": ("cohort", "klas", "lichting"),
    "werkplekopdracht": ("praktijkopdracht", "stageopdracht", "beroepsopdracht"),
    "vaktechnische competentie": (
        "technische vaardigheid",
        "technische vaardigheden",
        "technische competentie",
        "vakvaardigheid",
        "vakvaardigheden",
    ),
    "21e-eeuwse vaardigheid": ("21ste-eeuwse", "21e eeuwse", "21st-century", "soft skill"),
    "BPV-uren": ("stage-uren", "stageuren", "werkplekuren", "praktijkuren"),
    "voortgangsgesprek": (
        "evaluatiegesprek",
        "beoordelingsgesprek",
        "functioneringsgesprek",
        "coachgesprek",
        "review",
    ),
    "aftekenen": ("afvinken", "paraferen", "accorderen"),
}

# "%(cohort)s" names a value, it is not a word the reader sees.
PLACEHOLDER = re.compile(r"%\([^)]*\)[a-z]")


def banned_pattern(words: list[str]) -> re.Pattern[str]:
    """Any banned word as a whole word, in any case, also with a plural or inflected ending."""
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?:en|s|e)?(?![\w-])", re.IGNORECASE)


BANNED_WORDS = banned_pattern([word for words in BANNED.values() for word in words])


def offences(translations: dict[str, list[str]]) -> dict[str, list[str]]:
    """The banned words in each translation, by msgid; translations without one are left out."""
    found = {}
    for identifier, strings in translations.items():
        words = [
            match.group(0)
            for string in strings
            for match in BANNED_WORDS.finditer(PLACEHOLDER.sub("", string))
        ]
        if words:
            found[identifier] = words
    return found


def readme_glossary() -> dict[str, tuple[str, ...]]:
    """The README glossary table: the interface's word (first column) → the backquoted words of the last."""
    text = README.read_text(encoding="utf-8")
    assert GLOSSARY_HEADING in text, f"README.md has no section {GLOSSARY_HEADING!r}"
    section = text.split(GLOSSARY_HEADING, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]  # header, rule
    glossary = {}
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        glossary[cells[0]] = tuple(re.findall(r"`([^`]+)`", cells[-1]))
    return glossary


@pytest.fixture(scope="module")
def dutch() -> Catalog:
    with DUTCH_CATALOG.open("rb") as file:
        return read_po(file, locale="nl")


def translations(catalog: Catalog) -> dict[str, list[str]]:
    found = {}
    for message in catalog:
        if not message.id:
            continue
        identifier = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found[identifier] = [string for string in strings if string]
    return found


def test_readme_glossary_and_banned_list_agree() -> None:
    assert readme_glossary() == BANNED


def test_no_dutch_translation_uses_a_banned_synonym(dutch: Catalog) -> None:
    found = offences(translations(dutch))
    report = "\n".join(f"{identifier!r}: {', '.join(words)}" for identifier, words in found.items())
    assert not found, f"Dutch translations use words the glossary in README.md bans:\n{report}"


def test_the_interface_uses_every_glossary_word(dutch: Catalog) -> None:
    """Each thing has its word in the interface: the glossary is not about words nobody sees."""
    text = "\n".join(
        string for strings in translations(dutch).values() for string in strings
    ).lower()
    assert [word for word in BANNED if word.lower() not in text] == []


@pytest.mark.parametrize(
    ("dutch_text", "expected"),
    [
        ("Vraag de beheerder om het te laden.", ["beheerder"]),
        ("Alle Cohorten tonen", ["Cohorten"]),
        ("Contactpersoon (praktijkopleider) bij %(name)s", ["Contactpersoon"]),
        ("12 van 32 technische vaardigheden afgetekend", ["technische vaardigheden"]),
        ("Mijn medewerkers", ["medewerkers"]),
    ],
)
def test_a_banned_synonym_is_reported(dutch_text: str, expected: list[str]) -> None:
    assert offences({"the msgid": [dutch_text]}) == {"the msgid": expected}


@pytest.mark.parametrize(
    "dutch_text",
    [
        "Behaalde vaktechnische competenties",  # "technische competentie" inside the right word
        "Praktijkopleider bij %(name)s",  # "opleider" inside the right word
        "Terug naar %(cohort)s",  # a placeholder, not a word
        "Mijn metingen kwamen overeen met die van de kwaliteitsmedewerker.",  # a job title
        "De administratie van de werkgever",  # "admin" as part of another word
    ],
)
def test_the_right_words_are_not_reported(dutch_text: str) -> None:
    assert offences({"the msgid": [dutch_text]}) == {}
