"""Curriculum as data: the shipped file, validation messages, and idempotent, versioned loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from lms import cli
from lms.models import (
    Assignment,
    ChecklistGroup,
    ChecklistItem,
    ChecklistKind,
    Period,
    Programme,
    assignment_competencies,
)
from lms.services.curriculum import (
    ADDED_FIELDS,
    CurriculumError,
    content_hash,
    load_curriculum_file,
    read_curriculum,
)
from tests.factories import make_cohort

CURRICULUM_DIR = Path(__file__).resolve().parent.parent / "curriculum"
SHIPPED = CURRICULUM_DIR / "vakkracht-productie-montage-v1.yaml"
COUNTED = [Programme, Period, Assignment, ChecklistGroup, ChecklistItem, assignment_competencies]


def shipped_text() -> str:
    return SHIPPED.read_text(encoding="utf-8")


def shipped_data() -> dict:
    return yaml.safe_load(shipped_text())


def row_counts(db) -> dict[str, int]:
    counts = {}
    for thing in COUNTED:
        table = getattr(thing, "__table__", thing)
        counts[table.name] = db.session.scalar(sa.select(sa.func.count()).select_from(table))
    return counts


def load_cli(runner, *paths: Path):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["lms", "curriculum", "load", *map(str, paths)])


def line_number(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def edit(text: str, anchor: str, old: str, new: str) -> tuple[str, int, int]:
    """Replace the first ``old`` after ``anchor``; return the text and the lines of anchor and old."""
    start = text.index(anchor)
    at = text.index(old, start)
    return text[:at] + new + text[at + len(old) :], line_number(text, start), line_number(text, at)


def programme_snapshot(db) -> list[tuple]:
    db.session.expire_all()
    programmes = db.session.scalars(sa.select(Programme).order_by(Programme.id)).all()
    return [
        (p.id, p.code, p.version, p.content_hash, [(a.code, a.title) for a in p.assignments])
        for p in programmes
    ]


# --- the shipped file -----------------------------------------------------------------------------


def test_shipped_file_validates_and_loads_everything_it_describes(db) -> None:
    data = shipped_data()
    outcome = load_curriculum_file(SHIPPED)
    db.session.commit()
    db.session.expire_all()

    programme = db.session.scalar(sa.select(Programme))
    assert (programme.code, programme.version, programme.title) == (
        data["code"],
        data["version"],
        data["title"],
    )
    assert (programme.level, programme.start_month, programme.duration_weeks) == (
        data["mbo_level"],
        data["start_month"],
        data["duration_weeks"],
    )
    assert programme.bpv_hours_target == data["bpv_hours_target"]
    assert (programme.training_hours_target, programme.training_day_hours) == (
        data["training_hours_target"],
        data["training_day_hours"],
    )
    assert programme.source_file == SHIPPED.name
    assert [level["level"] for level in programme.levels] == [
        lvl["level"] for lvl in data["levels"]
    ]
    assert [(p.code, p.start_week, p.end_week) for p in programme.periods] == [
        (p["code"], p["start_week"], p["end_week"]) for p in data["periods"]
    ]

    assert [a.code for a in programme.assignments] == [a["code"] for a in data["assignments"]]
    for assignment, expected in zip(programme.assignments, data["assignments"], strict=True):
        assert assignment.period.code == expected["period"]
        assert assignment.due_week == expected["due_week"]
        assert (
            assignment.requires_workplace_confirmation
            == expected["requires_workplace_confirmation"]
        )
        assert {item.code for item in assignment.competencies} == set(expected["competencies"])

    groups = data["checklist_groups"]
    assert [g.code for g in programme.checklist_groups] == [g["code"] for g in groups]
    expected_items = {
        item["code"]: (group["kind"], item) for group in groups for item in group["items"]
    }
    loaded_items = db.session.scalars(sa.select(ChecklistItem)).all()
    assert {item.code for item in loaded_items} == set(expected_items)
    for item in loaded_items:
        kind, expected = expected_items[item.code]
        assert item.kind is ChecklistKind(kind)
        assert item.required_level == expected["required_level"]
        assert item.indicators == expected["indicators"]

    technical = sum(1 for kind, _ in expected_items.values() if kind == "technical")
    assert outcome.describe() == (
        f"loaded {data['code']} v{data['version']} ({len(data['assignments'])} assignments, "
        f"{technical} technical items, {len(expected_items) - technical} skill items)"
    )


def test_shipped_file_keeps_to_the_content_rules_people_rely_on() -> None:
    spec = read_curriculum(SHIPPED)
    for item in spec.items():
        assert 2 <= len(item.indicators) <= 4, item.code
    assert all(level.description for level in spec.levels)
    assert all(group.description for group in spec.checklist_groups)
    # BBL asks at least 200 supervised hours; one training day a week must be able to reach them.
    assert spec.training_hours_target >= 200
    assert spec.training_day_hours * spec.duration_weeks >= spec.training_hours_target


# --- the command: idempotent ------------------------------------------------------------------------


def test_command_loads_once_and_a_second_run_changes_nothing(db, runner) -> None:
    first = load_cli(runner, SHIPPED)
    assert first.exit_code == 0, first.output
    assert "loaded VAKKRACHT-PM v1" in first.output
    counts, before = row_counts(db), programme_snapshot(db)

    second = load_cli(runner, SHIPPED)
    assert second.exit_code == 0, second.output
    assert "unchanged: VAKKRACHT-PM v1 already loaded" in second.output
    assert row_counts(db) == counts
    assert programme_snapshot(db) == before


def test_reformatted_file_with_the_same_content_is_unchanged(db, runner, tmp_path) -> None:
    assert load_cli(runner, SHIPPED).exit_code == 0
    reformatted = tmp_path / "reformatted.yaml"
    body = yaml.safe_dump(shipped_data(), allow_unicode=True, sort_keys=True, width=50)
    reformatted.write_text("# same content, other layout\n" + body, encoding="utf-8")

    result = load_cli(runner, reformatted)
    assert result.exit_code == 0, result.output
    assert "unchanged" in result.output


def test_without_paths_every_file_in_the_curriculum_folder_is_loaded(db, runner) -> None:
    files = sorted(CURRICULUM_DIR.glob("*.y*ml"))
    expected = {
        (d["code"], d["version"]) for d in (yaml.safe_load(f.read_text("utf-8")) for f in files)
    }

    result = runner.invoke(args=["lms", "curriculum", "load"])
    assert result.exit_code == 0, result.output
    assert {
        tuple(row) for row in db.session.execute(sa.select(Programme.code, Programme.version))
    } == expected


def test_without_paths_the_folder_is_read_in_order(db, runner, tmp_path, monkeypatch) -> None:
    (tmp_path / "a-v1.yaml").write_text(shipped_text(), encoding="utf-8")
    (tmp_path / "b-v2.yml").write_text(
        shipped_text().replace("version: 1", "version: 2", 1), encoding="utf-8"
    )
    (tmp_path / "notes.txt").write_text("not a curriculum", encoding="utf-8")
    monkeypatch.setattr(cli, "CURRICULUM_DIR", tmp_path)

    result = runner.invoke(args=["lms", "curriculum", "load"])
    assert result.exit_code == 0, result.output
    versions = db.session.scalars(sa.select(Programme.version).order_by(Programme.version)).all()
    assert versions == [1, 2]
    sources = db.session.scalars(sa.select(Programme.source_file).order_by(Programme.version)).all()
    assert sources == ["a-v1.yaml", "b-v2.yml"]


def test_one_broken_file_among_several_loads_nothing(db, runner, tmp_path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(shipped_text().replace("version: 1", "version: nul", 1), encoding="utf-8")

    result = load_cli(runner, SHIPPED, broken)
    assert result.exit_code != 0
    assert all(count == 0 for count in row_counts(db).values())


# --- refused files: the message names the file, the place and the line ------------------------------

BROKEN = {
    # name: (anchor, old, new, place, line of "anchor" or "old", words in the message)
    "yaml syntax": (
        "  - code: A05",
        "title: Werkvoorbereiding",
        "title: Werkvoorbereiding: deel 1",
        "YAML syntax",
        "old",
        "mapping values are not allowed",
    ),
    "missing field": (
        "  - code: A05",
        "    due_week: 12\n",
        "",
        "assignments[4].due_week",
        "anchor",
        "this required key is missing",
    ),
    "unknown competency": (
        "  - code: A06",
        "T25",
        "T99",
        "assignments[5].competencies[2]",
        "old",
        "unknown competency code 'T99'",
    ),
    "duplicate assignment code": (
        "  - code: A05",
        "code: A05",
        "code: A04",
        "assignments[4].code",
        "old",
        "duplicate code 'A04', already used at assignments[3].code",
    ),
    "due week outside period": (
        "  - code: A01",
        "due_week: 3",
        "due_week: 13",
        "assignments[0].due_week",
        "old",
        "week 13 is outside period P1 (weeks 1-10)",
    ),
    "wrong type": (
        "  - code: A02",
        "due_week: 5",
        "due_week: vijf",
        "assignments[1].due_week",
        "old",
        "Input should be a valid integer (found 'vijf')",
    ),
    "unknown key": (
        "  - code: A03",
        "requires_workplace_confirmation:",
        "requires_confirmation:",
        "assignments[2].requires_confirmation",
        "old",
        "unknown key",
    ),
}


@pytest.mark.parametrize("case", BROKEN.values(), ids=BROKEN.keys())
def test_broken_file_is_refused_with_file_place_and_line(db, runner, tmp_path, case) -> None:
    anchor, old, new, where, line_of, words = case
    text, anchor_line, old_line = edit(shipped_text(), anchor, old, new)
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    line = anchor_line if line_of == "anchor" else old_line

    result = load_cli(runner, path)

    assert result.exit_code != 0
    assert f"{path}: {where} (line {line}" in result.stderr, result.stderr
    assert words in result.stderr
    assert all(count == 0 for count in row_counts(db).values())


def data_with(change) -> str:  # type: ignore[no-untyped-def]
    data = shipped_data()
    change(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def gap_between_periods(data: dict) -> None:
    data["periods"][1]["start_week"] = 12


def level_above_the_scale(data: dict) -> None:
    data["levels"].pop()
    data["checklist_groups"][0]["items"][0]["required_level"] = 4


def item_code_used_in_two_groups(data: dict) -> None:
    data["checklist_groups"][1]["items"][0]["code"] = "T01"


def last_period_ends_early(data: dict) -> None:
    data["periods"][-1]["end_week"] = 39


RULES = {
    "gap between periods": (gap_between_periods, "periods[1].start_week", "expected week 11"),
    "level above the scale": (
        level_above_the_scale,
        "checklist_groups[0].items[0].required_level",
        "level 4 is not on the scale (levels 1 to 3)",
    ),
    "item code in two groups": (
        item_code_used_in_two_groups,
        "checklist_groups[1].items[0].code",
        "duplicate code 'T01'",
    ),
    "last period ends early": (last_period_ends_early, "periods[3].end_week", "last week"),
}


@pytest.mark.parametrize("case", RULES.values(), ids=RULES.keys())
def test_structural_rules(tmp_path, case) -> None:
    change, where, words = case
    path = tmp_path / "rules.yaml"
    path.write_text(data_with(change), encoding="utf-8")

    with pytest.raises(CurriculumError) as refused:
        read_curriculum(path)

    assert f"{path}: {where} (line " in str(refused.value)
    assert words in str(refused.value)


def test_a_key_written_twice_is_refused_not_silently_overwritten(tmp_path) -> None:
    text, _, line = edit(
        shipped_text(), "  - code: A01", "    due_week: 3\n", "    due_week: 3\n    due_week: 4\n"
    )
    path = tmp_path / "twice.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(
        CurriculumError, match=rf"assignments\[0\]\.due_week \(line {line + 1}\): the key"
    ):
        read_curriculum(path)


def test_an_empty_file_is_refused(tmp_path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(CurriculumError, match="the file is empty"):
        read_curriculum(path)


# --- versions --------------------------------------------------------------------------------------


def test_changed_file_for_a_version_in_use_is_refused_and_nothing_changes(
    db, runner, tmp_path
) -> None:
    make_cohort(load_curriculum_file(SHIPPED).programme, name="Parkstad 2026")
    db.session.commit()
    counts, before = row_counts(db), programme_snapshot(db)
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        shipped_text().replace("Veiligheidsronde en PBM", "Veiligheidsronde"), encoding="utf-8"
    )

    result = load_cli(runner, changed)

    assert result.exit_code != 0
    assert "used by 1 cohort(s) (Parkstad 2026)" in result.stderr
    assert "version: 2" in result.stderr
    assert row_counts(db) == counts
    assert programme_snapshot(db) == before


def _as_loaded_before_training_hours(db, hours_target: int, day_hours: float) -> Programme:
    """The shipped programme in use, as a database from before the training-hours fields holds it:
    hashed without them, and the columns as the migration filled them."""
    programme = load_curriculum_file(SHIPPED).programme
    make_cohort(programme, name="Parkstad 2026")
    spec = read_curriculum(SHIPPED)
    programme.content_hash = content_hash(spec, without=ADDED_FIELDS)
    programme.training_hours_target = hours_target
    programme.training_day_hours = day_hours
    db.session.commit()
    return programme


def test_a_programme_from_before_the_training_hours_fields_is_unchanged_by_the_file(
    db, runner
) -> None:
    data = shipped_data()
    programme = _as_loaded_before_training_hours(
        db, data["training_hours_target"], data["training_day_hours"]
    )
    counts = row_counts(db)

    result = load_cli(runner, SHIPPED)

    assert result.exit_code == 0, result.output
    assert "unchanged: VAKKRACHT-PM v1" in result.output
    db.session.expire_all()
    # The stored hash is the file's now: the next load takes the ordinary path.
    assert programme.content_hash == content_hash(read_curriculum(SHIPPED))
    assert row_counts(db) == counts


def test_a_programme_from_before_the_training_hours_fields_with_other_values_is_in_use(
    db, runner
) -> None:
    data = shipped_data()
    _as_loaded_before_training_hours(
        db, data["training_hours_target"] + 40, data["training_day_hours"]
    )
    before = programme_snapshot(db)

    result = load_cli(runner, SHIPPED)

    assert result.exit_code != 0
    assert "used by 1 cohort(s) (Parkstad 2026)" in result.stderr
    assert programme_snapshot(db) == before


def test_changed_file_for_an_unused_version_replaces_it(db, runner, tmp_path) -> None:
    load_curriculum_file(SHIPPED)
    db.session.commit()
    counts = row_counts(db)
    text, _, _ = edit(
        shipped_text(), "  - code: A01", "[T01, T02, T04, T05, D7, SC2]", "[T01, T02]"
    )
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        text.replace("Veiligheidsronde en PBM", "Veiligheidsronde"), encoding="utf-8"
    )

    result = load_cli(runner, changed)

    assert result.exit_code == 0, result.output
    assert "replaced VAKKRACHT-PM v1" in result.output
    db.session.expire_all()
    programme = db.session.scalar(sa.select(Programme))
    first = programme.assignments[0]
    assert (first.title, [item.code for item in first.competencies]) == (
        "Veiligheidsronde",
        ["T01", "T02"],
    )
    assert programme.source_file == "changed.yaml"
    links = assignment_competencies.name
    assert row_counts(db) == {**counts, links: counts[links] - 4}  # nothing left behind


def test_two_files_with_the_same_version_in_one_run_are_refused(db, runner, tmp_path) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_text(
        shipped_text().replace("title: Productie", "title: Andere Productie", 1), encoding="utf-8"
    )

    result = load_cli(runner, SHIPPED, copy)
    assert result.exit_code != 0
    assert "copy.yaml" in result.output and "vakkracht-productie-montage-v1.yaml" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Programme)) == 0
