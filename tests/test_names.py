"""Names sort as Dutch readers expect (lms/names.py): Çelik with the C's, Öztürk with the O's, "van der
Linden" with the L's; lists sort in SQL on the stored ``users.sort_key``, the same on SQLite and
PostgreSQL, and the migration fills the key of existing accounts."""

from __future__ import annotations

import html
import random
import unicodedata
from datetime import UTC, datetime

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from lms import create_app
from lms.extensions import db as _db
from lms.models import Role, User
from lms.names import fold, person_sort_key
from tests.conftest import make_config
from tests.factories import make_user
from tests.test_migrations import empty_database_url  # noqa: F401  (a fixture)

# (first name, tussenvoegsel, last name), in the order a Dutch reader expects.
DUTCH_ORDER = [
    ("Anna", "", "Bakker"),
    ("Anna", "van den", "Berg"),
    ("Jan", "", "Berg"),
    ("Anna", "", "Bergen"),
    ("Emre", "", "Celik"),
    ("Noël", "", "Çelik"),  # the same letters as Celik: the first name decides
    ("Fatma", "", "Demir"),
    ("Kees", "", "Dijkstra"),
    ("Sanne", "ter", "Haar"),
    ("Mila", "", "Lambert"),
    ("Pieter", "van der", "Linden"),
    ("Roos", "", "van der Lugt"),  # the tussenvoegsel typed in the last name field
    ("Daan", "", "Meijer"),
    ("Lotte", "", "Oosterhout"),
    ("Ayşe", "", "Öztürk"),
    ("Bram", "", "Peters"),
    ("Eva", "in 't", "Veld"),
    ("Lars", "de", "Vries"),
    ("Zoë", "", "Willems"),
]


def test_the_key_orders_names_as_a_dutch_reader_does() -> None:
    shuffled = DUTCH_ORDER[:]
    random.Random(18).shuffle(shuffled)
    assert sorted(shuffled, key=lambda name: person_sort_key(*name)) == DUTCH_ORDER


def test_marks_case_and_tussenvoegsels() -> None:
    assert fold("Çelik-Öztürk") == "celik ozturk"
    assert person_sort_key("Noël", "", "Çelik") == person_sort_key("noel", "", "CELIK")
    # The tussenvoegsel in its own field or typed before the surname: one key.
    assert person_sort_key("Pieter", "van der", "Linden") == person_sort_key(
        "Pieter", "", "van der Linden"
    )
    assert person_sort_key("Eva", "in 't", "Veld").startswith("veld0")
    # A surname that is only a word like a tussenvoegsel stays itself.
    assert person_sort_key("Jan", "", "de") == "de0jan0"


SURNAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
FIRST_NAMES = st.text(min_size=0, max_size=20)


@given(SURNAMES, SURNAMES, FIRST_NAMES, FIRST_NAMES)
def test_the_surname_decides_before_the_first_name(a, b, first_a, first_b) -> None:
    if a != b:
        assert (person_sort_key(first_a, "", a) < person_sort_key(first_b, "", b)) == (a < b)


LATIN = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèëïöüçñåø '-", max_size=30)


@given(LATIN, LATIN, LATIN)
def test_the_key_ignores_case_and_composition(first, prefix, last) -> None:
    key = person_sort_key(first, prefix, last)
    assert key == person_sort_key(first.upper(), prefix.upper(), last.upper())
    assert key == person_sort_key(
        *(unicodedata.normalize("NFD", part) for part in (first, prefix, last))
    )


@given(st.text(max_size=30), st.text(max_size=10), st.text(max_size=30))
def test_the_key_holds_letters_and_two_separators(first, prefix, last) -> None:
    key = person_sort_key(first, prefix, last)
    assert key.count("0") == 2
    assert all(char.isalpha() or char == "0" for char in key)


def test_the_key_follows_every_change_of_a_name(db) -> None:
    user = make_user(first_name="Pieter", last_name="Linden")
    user.name_prefix = "van der"
    assert user.sort_key == "linden0pieter0vander"
    user.last_name = "Öztürk"
    _db.session.commit()
    stored = _db.session.scalar(sa.select(User.sort_key).where(User.id == user.id))
    assert stored == person_sort_key("Pieter", "van der", "Öztürk") == "ozturk0pieter0vander"


def test_sql_sorts_in_the_dutch_order(db) -> None:
    shuffled = DUTCH_ORDER[:]
    random.Random(7).shuffle(shuffled)
    for first, prefix, last in shuffled:
        make_user(first_name=first, name_prefix=prefix, last_name=last)
    _db.session.commit()
    rows = _db.session.execute(
        sa.select(User.first_name, User.name_prefix, User.last_name).order_by(
            User.sort_key, User.id
        )
    ).all()
    assert [tuple(row) for row in rows] == DUTCH_ORDER


def test_the_participants_page_lists_in_the_dutch_order(auth, client, db) -> None:
    shuffled = DUTCH_ORDER[:]
    random.Random(3).shuffle(shuffled)
    for first, prefix, last in shuffled:
        make_user(Role.PARTICIPANT, first_name=first, name_prefix=prefix, last_name=last)
    coordinator = make_user(Role.COORDINATOR)
    _db.session.commit()
    auth.login(coordinator.email)
    page = html.unescape(client.get("/people/participants/").get_data(as_text=True))
    shown = [
        page.index(f"{last}, {first}{' ' + prefix if prefix else ''}")
        for first, prefix, last in DUTCH_ORDER
    ]
    assert shown == sorted(shown)


def test_the_migration_fills_the_key_of_existing_accounts(empty_database_url, tmp_path) -> None:  # noqa: F811
    app = create_app(make_config(empty_database_url, tmp_path / "evidence"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade", "3c5e1f0a9b2d-1"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        users = sa.Table("users", sa.MetaData(), autoload_with=_db.engine)
        assert "sort_key" not in users.c
        with _db.engine.begin() as connection:
            for number, (first, prefix, last) in enumerate(DUTCH_ORDER):
                connection.execute(
                    users.insert().values(
                        email=f"person{number}@example.org",
                        first_name=first,
                        name_prefix=prefix,
                        last_name=last,
                        role="participant",
                        is_active=True,
                        locale="nl",
                        phone="",
                        mail_preference="immediate",
                        created_at=datetime(2026, 9, 1, tzinfo=UTC),
                    )
                )
        result = runner.invoke(args=["db", "upgrade", "3c5e1f0a9b2d"])
        assert result.exit_code == 0, result.output
        with _db.engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT first_name, name_prefix, last_name, sort_key FROM users ORDER BY sort_key"
                )
            ).all()
        _db.engine.dispose()
    assert [tuple(row[:3]) for row in rows] == DUTCH_ORDER
    assert all(row[3] == person_sort_key(*row[:3]) for row in rows)
