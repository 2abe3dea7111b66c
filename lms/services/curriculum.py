"""Curriculum as data: validate a curriculum/*.yaml file and load it as a programme version.

Loading is idempotent and versioned: (code, version) identifies a programme. Loading the same content
again changes nothing; changed content replaces the version only while no cohort uses it, because a
running cohort must keep the curriculum it started on.

Functions flush, never commit: the command that calls them commits once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from lms.extensions import db
from lms.models import (
    Assignment,
    ChecklistGroup,
    ChecklistItem,
    ChecklistKind,
    Cohort,
    Period,
    Programme,
)

MAX_LEVEL = 4  # the database allows required levels 1..4

# A path into the YAML document, as pydantic reports it: ("assignments", 3, "due_week").
Loc = tuple[str | int, ...]


class CurriculumError(ValueError):
    """A curriculum file that cannot be loaded; the message lists every problem found."""


# --- the file's shape -------------------------------------------------------------------------


def _text(max_length: int) -> Any:
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)
    ]


def _code(max_length: int) -> Any:
    # Upper case, digits, "-" and "_": codes are typed by hand in other places, so keep them plain.
    return Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, max_length=max_length, pattern=r"^[A-Z0-9][A-Z0-9_-]*$"
        ),
    ]


Code = _code(10)
GroupCode = _code(20)
ProgrammeCode = _code(40)
Title = _text(200)
ShortTitle = _text(160)
Indicator = _text(500)
Instructions = _text(10_000)
Description = Annotated[str, StringConstraints(strip_whitespace=True)]
Level = Annotated[int, Field(ge=1, le=MAX_LEVEL)]
Week = Annotated[int, Field(ge=1)]


class Spec(BaseModel):
    # Strict: YAML "1" is not the number 1, and unknown keys are probably typing mistakes.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LevelSpec(Spec):
    level: Level
    name: ShortTitle
    description: Description = ""


class PeriodSpec(Spec):
    code: Code
    title: ShortTitle
    start_week: Week
    end_week: Week


class ItemSpec(Spec):
    code: Code
    title: Title
    description: Description = ""
    indicators: Annotated[list[Indicator], Field(min_length=1)]
    required_level: Level


class GroupSpec(Spec):
    code: GroupCode
    # Lax here only, so that the YAML string "technical" becomes the enum.
    kind: Annotated[ChecklistKind, Field(strict=False)]
    title: ShortTitle
    description: Description = ""
    items: Annotated[list[ItemSpec], Field(min_length=1)]


class AssignmentSpec(Spec):
    code: Code
    title: Title
    period: Code
    due_week: Week
    instructions: Instructions
    requires_workplace_confirmation: bool = False
    competencies: list[Code] = []


class CurriculumSpec(Spec):
    code: ProgrammeCode
    version: Annotated[int, Field(ge=1)]
    title: Title
    mbo_level: Annotated[int, Field(ge=1, le=4)]
    description: Description = ""
    start_month: Annotated[int, Field(ge=1, le=12)]
    duration_weeks: Week
    bpv_hours_target: Annotated[int, Field(ge=0)]
    training_hours_target: Annotated[int, Field(ge=0)]
    # Lax, so that a whole number in the file (6) is a number of hours too.
    training_day_hours: Annotated[float, Field(gt=0, le=12, strict=False)]
    levels: Annotated[list[LevelSpec], Field(min_length=1, max_length=MAX_LEVEL)]
    periods: Annotated[list[PeriodSpec], Field(min_length=1)]
    assignments: Annotated[list[AssignmentSpec], Field(min_length=1)]
    checklist_groups: Annotated[list[GroupSpec], Field(min_length=1)]

    @property
    def label(self) -> str:
        return f"{self.code} v{self.version}"

    def items(self) -> Iterator[ItemSpec]:
        for group in self.checklist_groups:
            yield from group.items

    def count_items(self, kind: ChecklistKind) -> int:
        return sum(len(group.items) for group in self.checklist_groups if group.kind is kind)


# --- problems and where they are ----------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str
    line: int | None = None  # found from loc when not given


def place(loc: Loc) -> str:
    """("assignments", 3, "due_week") -> "assignments[3].due_week"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def line_of(root: yaml.Node | None, loc: Loc) -> int | None:
    """The line of the deepest node along ``loc`` that exists in the file (1-based).

    For a mapping key we report the key's line, so a missing or wrong value points at its key, and a
    missing key points at the mapping that should hold it.
    """
    if root is None:
        return None
    node, mark = root, root.start_mark
    for part in loc:
        step = _child(node, part)
        if step is None:
            break
        key, node = step
        mark = (key or node).start_mark
    return mark.line + 1


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        matches = [
            (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part
        ]
        return matches[-1] if matches else None  # the last one wins, as in yaml.safe_load
    if (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and 0 <= part < len(node.value)
    ):
        return None, node.value[part]
    return None


def format_problems(path: Path, problems: list[Problem], root: yaml.Node | None) -> str:
    located = [(p.line or line_of(root, p.loc), p) for p in problems]
    located.sort(key=lambda pair: pair[0] or 0)
    noun = "problem" if len(problems) == 1 else "problems"
    lines = [f"{path}: not loaded, {len(problems)} {noun}:"]
    for line, problem in located:
        where = f" (line {line})" if line else ""
        lines.append(f"{path}: {place(problem.loc)}{where}: {problem.message}")
    return "\n".join(lines)


# --- reading and validating ---------------------------------------------------------------------


def read_curriculum(path: Path) -> CurriculumSpec:
    """Parse and validate a curriculum file; raise CurriculumError listing every problem."""
    path = Path(path)
    text = _read_text(path)
    root, data = _parse_yaml(path, text)
    problems = list(duplicate_key_problems(root))
    if data is None:
        problems.append(Problem((), "the file is empty"))
        spec = None
    else:
        spec, shape_problems = _validate_shape(data)
        problems += shape_problems
    if spec is not None:
        problems += rule_problems(spec)
    if problems:
        message = format_problems(path, problems, root)
        if spec is None and data is not None:
            # Cross-references need a well-formed file; say so, so a second run's news is expected.
            message += "\n(codes, periods and weeks are checked once these are fixed)"
        raise CurriculumError(message)
    assert spec is not None
    return spec


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CurriculumError(
            f"{path}: not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    except OSError as error:
        raise CurriculumError(f"{path}: cannot be read ({error.strerror})") from None


def _parse_yaml(path: Path, text: str) -> tuple[yaml.Node | None, Any]:
    # Composed (for line numbers) and loaded separately; both with the safe loader only.
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = "; ".join(part for part in (error.context, error.problem) if part)
        raise CurriculumError(f"{path}: YAML syntax{line}: {problem}") from None
    except yaml.YAMLError as error:
        raise CurriculumError(f"{path}: YAML syntax: {error}") from None
    return root, data


def duplicate_key_problems(node: yaml.Node | None, loc: Loc = ()) -> Iterator[Problem]:
    """PyYAML silently keeps the last of two equal keys; in a hand-edited file that is a mistake."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name in seen:
                yield Problem(
                    (*loc, name), f"the key {name!r} appears twice here", key.start_mark.line + 1
                )
            if name is not None:
                seen.add(name)
            yield from duplicate_key_problems(value, (*loc, name) if name is not None else loc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from duplicate_key_problems(item, (*loc, index))


def _validate_shape(data: Any) -> tuple[CurriculumSpec | None, list[Problem]]:
    try:
        return CurriculumSpec.model_validate(data), []
    except ValidationError as error:
        return None, [_from_pydantic(detail) for detail in error.errors(include_url=False)]


# Plainer words than pydantic's for the mistakes people make most when editing by hand.
PLAIN_MESSAGES = {
    "missing": "this required key is missing",
    "extra_forbidden": "unknown key (check the spelling; see the comment at the top of the file)",
}


def _from_pydantic(detail: Any) -> Problem:
    message = PLAIN_MESSAGES.get(detail["type"], detail["msg"])
    given = detail.get("input")
    if detail["type"] not in PLAIN_MESSAGES and isinstance(given, str | int | float | bool | None):
        message += f" (found {given!r})"
    return Problem(tuple(detail["loc"]), message)


# --- rules across fields ------------------------------------------------------------------------


def rule_problems(spec: CurriculumSpec) -> list[Problem]:
    """The structural rules that pydantic's field checks cannot see."""
    return [
        *_level_problems(spec),
        *_period_problems(spec),
        *_unique_code_problems(spec),
        *_item_problems(spec),
        *_assignment_problems(spec),
    ]


def _level_problems(spec: CurriculumSpec) -> Iterator[Problem]:
    # Sign-offs store a level number, so the scale must be 1, 2, 3 ... without gaps.
    for index, level in enumerate(spec.levels):
        if level.level != index + 1:
            yield Problem(
                ("levels", index, "level"),
                f"levels must be numbered 1, 2, 3 ... in order; expected {index + 1} here",
            )


def _period_problems(spec: CurriculumSpec) -> Iterator[Problem]:
    # Every week of the programme belongs to exactly one period.
    expected_start = 1
    for index, period in enumerate(spec.periods):
        if period.start_week != expected_start:
            after = (
                "the programme starts in week 1" if index == 0 else "periods must follow each other"
            )
            yield Problem(
                ("periods", index, "start_week"),
                f"{after}: expected week {expected_start}, found {period.start_week}",
            )
        if period.end_week < period.start_week:
            yield Problem(
                ("periods", index, "end_week"),
                f"ends (week {period.end_week}) before it starts (week {period.start_week})",
            )
        expected_start = period.end_week + 1
    last = len(spec.periods) - 1
    if spec.periods[last].end_week != spec.duration_weeks:
        yield Problem(
            ("periods", last, "end_week"),
            f"the last period must end in the programme's last week (duration_weeks: "
            f"{spec.duration_weeks}), found {spec.periods[last].end_week}",
        )


def _unique_code_problems(spec: CurriculumSpec) -> Iterator[Problem]:
    item_locs = [
        (("checklist_groups", g, "items", i, "code"), item.code)
        for g, group in enumerate(spec.checklist_groups)
        for i, item in enumerate(group.items)
    ]
    # Item codes are unique across all groups: assignments refer to items by code alone.
    yield from _duplicates([(("periods", i, "code"), p.code) for i, p in enumerate(spec.periods)])
    yield from _duplicates(
        [(("assignments", i, "code"), a.code) for i, a in enumerate(spec.assignments)]
    )
    yield from _duplicates(
        [(("checklist_groups", i, "code"), g.code) for i, g in enumerate(spec.checklist_groups)]
    )
    yield from _duplicates(item_locs)


def _duplicates(coded: Iterable[tuple[Loc, str]]) -> Iterator[Problem]:
    first_seen: dict[str, Loc] = {}
    for loc, code in coded:
        if code in first_seen:
            yield Problem(
                loc, f"duplicate code {code!r}, already used at {place(first_seen[code])}"
            )
        else:
            first_seen[code] = loc


def _item_problems(spec: CurriculumSpec) -> Iterator[Problem]:
    top = len(spec.levels)
    for g, group in enumerate(spec.checklist_groups):
        for i, item in enumerate(group.items):
            if item.required_level > top:
                yield Problem(
                    ("checklist_groups", g, "items", i, "required_level"),
                    f"level {item.required_level} is not on the scale (levels 1 to {top})",
                )


def _assignment_problems(spec: CurriculumSpec) -> Iterator[Problem]:
    periods = {period.code: period for period in spec.periods}
    item_codes = {item.code for item in spec.items()}
    for a, assignment in enumerate(spec.assignments):
        loc: Loc = ("assignments", a)
        period = periods.get(assignment.period)
        if period is None:
            yield Problem(
                (*loc, "period"),
                f"unknown period {assignment.period!r}; known periods: {', '.join(periods)}",
            )
        elif not period.start_week <= assignment.due_week <= period.end_week:
            yield Problem(
                (*loc, "due_week"),
                f"week {assignment.due_week} is outside period {period.code} "
                f"(weeks {period.start_week}-{period.end_week})",
            )
        listed: set[str] = set()
        for c, code in enumerate(assignment.competencies):
            if code not in item_codes:
                yield Problem((*loc, "competencies", c), f"unknown competency code {code!r}")
            elif code in listed:
                yield Problem((*loc, "competencies", c), f"competency {code!r} is listed twice")
            listed.add(code)


# --- loading --------------------------------------------------------------------------------------


class LoadAction(Enum):
    CREATED = "loaded"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class LoadOutcome:
    action: LoadAction
    programme: Programme
    spec: CurriculumSpec = field(repr=False)

    def describe(self) -> str:
        if self.action is LoadAction.UNCHANGED:
            return f"unchanged: {self.spec.label} already loaded"
        return (
            f"{self.action.value} {self.spec.label} ({len(self.spec.assignments)} assignments, "
            f"{self.spec.count_items(ChecklistKind.TECHNICAL)} technical items, "
            f"{self.spec.count_items(ChecklistKind.SKILL21)} skill items)"
        )


# Fields the file gained after programmes were in use, each also a column of ``Programme`` that the
# migration adding it filled in for the programmes loaded before.
ADDED_FIELDS = ("training_hours_target", "training_day_hours")


def content_hash(spec: CurriculumSpec, without: Iterable[str] = ()) -> str:
    """Hash of the validated content, so comments and layout of the file do not count as a change."""
    canonical = json.dumps(
        spec.model_dump(mode="json", exclude=set(without)),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def same_content_before_added_fields(programme: Programme, spec: CurriculumSpec) -> bool:
    """Whether ``programme`` was loaded from this content before ``ADDED_FIELDS`` existed, and holds
    the file's values for them: then the file brings nothing new (a file that gained the fields
    later does not make a running cohort's version "changed")."""
    return programme.content_hash == content_hash(spec, without=ADDED_FIELDS) and all(
        getattr(programme, name) == getattr(spec, name) for name in ADDED_FIELDS
    )


def load_curriculum_file(path: Path) -> LoadOutcome:
    """Validate ``path`` and make the database hold its programme version (flush, no commit)."""
    path = Path(path)
    spec = read_curriculum(path)
    digest = content_hash(spec)
    existing = find_programme(spec.code, spec.version)
    if existing is None:
        return LoadOutcome(LoadAction.CREATED, create_programme(spec, digest, path.name), spec)
    if existing.content_hash == digest:
        return LoadOutcome(LoadAction.UNCHANGED, existing, spec)
    if same_content_before_added_fields(existing, spec):
        existing.content_hash = digest
        return LoadOutcome(LoadAction.UNCHANGED, existing, spec)
    refuse_if_in_use(existing, path)
    # Nothing refers to an unused version, so replacing it whole is simplest and leaves no leftovers.
    db.session.delete(existing)
    db.session.flush()
    return LoadOutcome(LoadAction.REPLACED, create_programme(spec, digest, path.name), spec)


def load_curriculum_files(paths: Iterable[Path]) -> list[LoadOutcome]:
    """Load several files in one go; two files with the same code and version are refused, since the
    second would silently replace the first."""
    outcomes: list[LoadOutcome] = []
    seen: dict[tuple[str, int], Path] = {}
    for path in map(Path, paths):
        outcome = load_curriculum_file(path)
        key = (outcome.spec.code, outcome.spec.version)
        if key in seen:
            raise CurriculumError(
                f"{path}: {outcome.spec.label} is also defined in {seen[key]}; "
                "each programme version belongs in one file"
            )
        seen[key] = path
        outcomes.append(outcome)
    return outcomes


def find_programme(code: str, version: int) -> Programme | None:
    return db.session.scalar(
        sa.select(Programme).where(Programme.code == code, Programme.version == version)
    )


def refuse_if_in_use(programme: Programme, path: Path) -> None:
    cohorts = db.session.scalars(
        sa.select(Cohort.name).where(Cohort.programme_id == programme.id).order_by(Cohort.name)
    ).all()
    if cohorts:
        raise CurriculumError(
            f"{path}: {programme.code} v{programme.version} differs from the version in the "
            f"database, which is used by {len(cohorts)} cohort(s) ({', '.join(cohorts)}). A running "
            f"cohort keeps its curriculum: give the changed file a new version "
            f"(version: {programme.version + 1}) and load that instead."
        )


def create_programme(spec: CurriculumSpec, digest: str, source_file: str) -> Programme:
    programme = Programme(
        code=spec.code,
        version=spec.version,
        title=spec.title,
        level=spec.mbo_level,
        description=spec.description,
        start_month=spec.start_month,
        duration_weeks=spec.duration_weeks,
        bpv_hours_target=spec.bpv_hours_target,
        training_hours_target=spec.training_hours_target,
        training_day_hours=spec.training_day_hours,
        levels=[level.model_dump() for level in spec.levels],
        source_file=source_file,
        content_hash=digest,
    )
    periods = _build_periods(programme, spec)
    items = _build_checklists(programme, spec)
    _build_assignments(programme, spec, periods, items)
    db.session.add(programme)
    db.session.flush()
    return programme


def _build_periods(programme: Programme, spec: CurriculumSpec) -> dict[str, Period]:
    return {
        period.code: Period(
            programme=programme,
            code=period.code,
            title=period.title,
            position=position,
            start_week=period.start_week,
            end_week=period.end_week,
        )
        for position, period in enumerate(spec.periods, start=1)
    }


def _build_checklists(programme: Programme, spec: CurriculumSpec) -> dict[str, ChecklistItem]:
    items: dict[str, ChecklistItem] = {}
    for group_position, group_spec in enumerate(spec.checklist_groups, start=1):
        group = ChecklistGroup(
            programme=programme,
            kind=group_spec.kind,
            code=group_spec.code,
            title=group_spec.title,
            description=group_spec.description,
            position=group_position,
        )
        for item_spec in group_spec.items:
            # Positions run across groups, so ordering items by position follows the file.
            items[item_spec.code] = ChecklistItem(
                programme=programme,
                group=group,
                code=item_spec.code,
                title=item_spec.title,
                description=item_spec.description,
                indicators=list(item_spec.indicators),
                required_level=item_spec.required_level,
                position=len(items) + 1,
            )
    return items


def _build_assignments(
    programme: Programme,
    spec: CurriculumSpec,
    periods: dict[str, Period],
    items: dict[str, ChecklistItem],
) -> None:
    for position, assignment in enumerate(spec.assignments, start=1):
        Assignment(
            programme=programme,
            period=periods[assignment.period],
            code=assignment.code,
            title=assignment.title,
            instructions=assignment.instructions,
            position=position,
            due_week=assignment.due_week,
            requires_workplace_confirmation=assignment.requires_workplace_confirmation,
            competencies=[items[code] for code in assignment.competencies],
        )
