"""How people's names sort, as Dutch readers expect: by surname without its tussenvoegsel ("van der
Linden" with the L's), accents and other marks ignored (Çelik with the C's, Öztürk with the O's).

``person_sort_key`` computes the key that ``User.sort_key`` stores (kept up to date on every write
of a name, lms/models/people.py), so paged lists sort in SQL. The key holds only lower-case letters
and the digit 0 as separator between surname, first name and tussenvoegsel: digits sort before
letters in every collation, so SQLite and PostgreSQL (C or a language collation) give one order.
"""

from __future__ import annotations

import unicodedata

SEPARATOR = "0"

# Letters that Unicode does not decompose into a base letter and a mark.
_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)

# Tussenvoegsels, folded (an apostrophe drops out: "in 't" is "in t"), longest first, for a surname
# typed with its prefix ("van der Linden") when the prefix field was left empty.
TUSSENVOEGSELS = sorted(
    {
        "van der", "van den", "van de", "van het", "van t", "van", "de", "den", "der", "het", "t",
        "ter", "ten", "te", "in t", "in de", "in den", "in het", "op de", "op den", "op t", "op het",
        "aan de", "aan den", "aan het", "bij de", "uit de", "uit den", "uit het", "over de", "onder de",
        "voor de", "voor den", "von", "von der", "zu", "la", "le", "du", "des", "da", "dos", "di",
    },
    key=len,
    reverse=True,
)  # fmt: skip


def fold(text: str) -> str:
    """Lower case, marks and punctuation dropped, words kept apart by one space: "Çelik-Öztürk" →
    "celik ozturk"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold()).translate(_LETTERS)
    kept = "".join(
        char if char.isalpha() else " "
        for char in decomposed
        if not unicodedata.combining(char) and char not in "'’`"
    )
    return " ".join(kept.split())


def _surname_and_prefix(name_prefix: str, last_name: str) -> tuple[str, str]:
    surname, prefix = fold(last_name), fold(name_prefix)
    if not prefix:
        for candidate in TUSSENVOEGSELS:
            if surname.startswith(candidate + " "):
                return surname[len(candidate) + 1 :], candidate
    return surname, prefix


def person_sort_key(first_name: str, name_prefix: str, last_name: str) -> str:
    """The key a list of people sorts on: surname, then first name, then tussenvoegsel."""
    surname, prefix = _surname_and_prefix(name_prefix, last_name)
    parts = (surname, fold(first_name), prefix)
    return SEPARATOR.join(part.replace(" ", "") for part in parts)
