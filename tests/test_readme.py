"""The README's table of demo people (issue 18, point 4) is what `lms demo` creates, so it cannot go
stale."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from lms.demo import DEMO_PASSWORD
from lms.models import Enrolment

README = Path(__file__).resolve().parent.parent / "README.md"
PERSON = re.compile(r"([^,:`]+?) `([^`@]+@[^`]+)`")

Row = tuple[
    str, str, frozenset[tuple[str, str]], frozenset[tuple[str, str]], frozenset[tuple[str, str]]
]


def people(cell: str) -> frozenset[tuple[str, str]]:
    """("Noël Lemmens", "deelnemer01@vakkracht.example") for each person named in a cell."""
    return frozenset((name.strip(), email) for name, email in PERSON.findall(cell))


def readme_rows() -> set[Row]:
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- demo-people: start -->")[1].split("<!-- demo-people: end -->")[0]
    rows = set()
    for line in table.strip().splitlines()[2:]:  # after the header and its underline
        cohort, employer, participants, trainers = (
            cell.strip() for cell in line.strip("|").split(" | ")
        )
        employer_name, contact = employer.split(": ", 1)
        rows.add(
            (
                cohort.split(" (")[0],
                employer_name,
                people(contact),
                people(participants),
                people(trainers),
            )
        )
    return rows


def demo_rows(db) -> set[Row]:  # type: ignore[no-untyped-def]
    grouped: dict[tuple[int, int], list[Enrolment]] = {}
    for enrolment in db.session.scalars(sa.select(Enrolment)):
        grouped.setdefault((enrolment.cohort_id, enrolment.employer_id), []).append(enrolment)
    rows = set()
    for enrolments in grouped.values():
        cohort, employer = enrolments[0].cohort, enrolments[0].employer
        rows.add(
            (
                cohort.name.rsplit(" ", 1)[0],  # without the school year
                employer.name,
                frozenset((c.full_name, c.email) for c in employer.contacts),
                frozenset((e.participant.full_name, e.participant.email) for e in enrolments),
                frozenset((t.full_name, t.email) for t in cohort.trainers),
            )
        )
    return rows


def test_the_readme_table_of_demo_people_is_what_the_demo_creates(db, runner) -> None:
    result = runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output
    documented = readme_rows()
    assert len(documented) == 8
    assert documented == demo_rows(db)
    text = README.read_text(encoding="utf-8")
    assert f"`{DEMO_PASSWORD}`" in text
    assert "`requirements-dev.txt`" in text  # what `make run` installs (see the Makefile)
    makefile = (README.parent / "Makefile").read_text(encoding="utf-8")
    assert "pip install --quiet -r requirements-dev.txt" in makefile
