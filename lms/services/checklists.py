"""Checklists: what a participant can do, per item of the pinned programme version, as the ledger says.

- ``build_checklist``: one enrolment's checklists, the technical competencies by group and the
  21st-century skills, each item with where it stands, its history and the employer's observations;
- ``build_matrix``: a cohort's participants by a selection of items, for the trainer's matrix: the levels
  only, in a fixed number of queries; ``item_detail``: one cell (one item of one enrolment) with its
  history and evidence, loaded when the trainer opens that cell;
- ``add_observation``: an employer contact's workplace observation on an item (not a sign-off).

Ledger records and observations are read along the transfer chain (``signoff.enrolment_chains``): a
transfer moves the submissions to the new enrolment, but what was written down stays where it was
written. Every builder costs a constant number of queries. Functions flush, never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from lms.extensions import db
from lms.models import (
    Assignment,
    ChecklistGroup,
    ChecklistItem,
    ChecklistKind,
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Programme,
    Role,
    SignOff,
    SignOffKind,
    Submission,
    SubmissionStatus,
    User,
    WorkplaceObservation,
)
from lms.services import audit
from lms.services.signoff import (
    MAX_LEVEL,
    MIN_LEVEL,
    approved_work,
    enrolment_chains,
)
from lms.services.signoff import _not_revoked as not_revoked

OBSERVATION_MAX = 2000


class ObservationError(ValueError):
    """An observation the rules refuse; the message says why, in the user's language."""


@dataclass(frozen=True)
class Level:
    number: int
    name: str
    description: str


def scale(programme: Programme) -> dict[int, Level]:
    """The programme's level scale by number, 1 to 4 (a level the curriculum does not name has no name)."""
    named = {
        int(entry["level"]): Level(
            int(entry["level"]), str(entry.get("name", "")), str(entry.get("description", ""))
        )
        for entry in programme.levels or []
    }
    return {
        number: named.get(number, Level(number, "", ""))
        for number in range(MIN_LEVEL, MAX_LEVEL + 1)
    }


@dataclass
class ItemStanding:
    """One checklist item for one enrolment."""

    item: ChecklistItem
    standing: SignOff | None  # the latest sign-off that has not been revoked
    history: list[SignOff] = field(default_factory=list)  # sign-offs and revocations, newest first
    revocations: dict[int, SignOff] = field(
        default_factory=dict
    )  # revoked sign-off id -> revocation
    observations: list[WorkplaceObservation] = field(default_factory=list)  # newest first

    @property
    def level(self) -> int:
        return self.standing.level if self.standing else 0

    @property
    def met(self) -> bool:
        return self.level >= self.item.required_level


@dataclass
class GroupChecklist:
    group: ChecklistGroup
    items: list[ItemStanding]

    @property
    def signed(self) -> int:
        return sum(1 for row in self.items if row.met)

    @property
    def total(self) -> int:
        return len(self.items)


@dataclass
class Checklist:
    enrolment: Enrolment
    programme: Programme
    levels: dict[int, Level]
    groups: list[GroupChecklist]
    chain: list[int]  # this enrolment's id and those it was transferred from, newest first

    def of_kind(self, kind: ChecklistKind) -> list[GroupChecklist]:
        return [group for group in self.groups if group.group.kind is kind]

    @property
    def technical(self) -> list[GroupChecklist]:
        return self.of_kind(ChecklistKind.TECHNICAL)

    @property
    def skills(self) -> list[GroupChecklist]:
        return self.of_kind(ChecklistKind.SKILL21)

    def totals(self, kind: ChecklistKind) -> tuple[int, int]:
        groups = self.of_kind(kind)
        return sum(g.signed for g in groups), sum(g.total for g in groups)

    def item(self, item_id: int) -> ItemStanding | None:
        for group in self.groups:
            for row in group.items:
                if row.item.id == item_id:
                    return row
        return None


def load_programme(programme_id: int) -> Programme:
    """The programme with its groups and items (three queries)."""
    programme = db.session.scalar(
        sa.select(Programme)
        .where(Programme.id == programme_id)
        .options(selectinload(Programme.checklist_groups).selectinload(ChecklistGroup.items))
    )
    assert programme is not None
    return programme


def _evidence_options() -> tuple[object, ...]:
    return (
        joinedload(SignOff.signed_by),
        selectinload(SignOff.evidence).joinedload(Submission.assignment),
    )


def _programme_with_checklists(programme_id: int) -> Programme:
    """The programme with its groups and items, in one statement (a few dozen joined rows)."""
    programme = (
        db.session.scalars(
            sa.select(Programme)
            .where(Programme.id == programme_id)
            .options(joinedload(Programme.checklist_groups).joinedload(ChecklistGroup.items))
        )
        .unique()
        .one_or_none()
    )
    assert programme is not None
    return programme


def build_checklist(enrolment: Enrolment) -> Checklist:
    """The checklists of ``enrolment`` from its cohort's pinned programme version: four statements
    (programme with groups and items, the transfer chain, then ledger records with signer and evidence
    and observations along it), however long the history."""
    programme = _programme_with_checklists(enrolment.cohort.programme_id)
    # The chain's ids as a list, not a recursive subquery: PostgreSQL guesses a recursive CTE at a
    # hundred rows and then reads the whole ledger (46 ms at 255,000 records) instead of its index.
    chain = enrolment_chains([enrolment])[enrolment.id]
    records = (
        db.session.scalars(
            sa.select(SignOff)
            .where(SignOff.enrolment_id.in_(chain))
            .order_by(SignOff.sequence.desc())
            .options(
                joinedload(SignOff.signed_by),
                joinedload(SignOff.evidence).joinedload(Submission.assignment),
            )
        )
        .unique()
        .all()
    )
    observations = db.session.scalars(
        sa.select(WorkplaceObservation)
        .where(WorkplaceObservation.enrolment_id.in_(chain))
        .order_by(WorkplaceObservation.created_at.desc(), WorkplaceObservation.id.desc())
        .options(joinedload(WorkplaceObservation.author).joinedload(User.employer))
    ).all()

    history: dict[int, list[SignOff]] = defaultdict(list)
    revocations: dict[int, SignOff] = {}
    for record in records:
        history[record.checklist_item_id].append(record)
        if record.kind is SignOffKind.REVOCATION and record.revokes_id is not None:
            revocations[record.revokes_id] = record
    by_item: dict[int, list[WorkplaceObservation]] = defaultdict(list)
    for observation in observations:
        by_item[observation.checklist_item_id].append(observation)

    groups = []
    for group in programme.checklist_groups:
        rows = []
        for item in group.items:
            item_history = history[item.id]
            standing = next(
                (
                    record
                    for record in item_history
                    if record.kind is SignOffKind.SIGN_OFF and record.id not in revocations
                ),
                None,
            )
            rows.append(
                ItemStanding(
                    item=item,
                    standing=standing,
                    history=item_history,
                    revocations={r.revokes_id: r for r in item_history if r.revokes_id},
                    observations=by_item[item.id],
                )
            )
        groups.append(GroupChecklist(group=group, items=rows))
    return Checklist(
        enrolment=enrolment,
        programme=programme,
        levels=scale(programme),
        groups=groups,
        chain=chain,
    )


def approved_submissions(enrolment: Enrolment) -> list[Submission]:
    """The participant's approved work in this enrolment, by assignment: what a sign-off can rest on."""
    return list(
        db.session.scalars(
            sa.select(Submission)
            .where(
                Submission.enrolment_id == enrolment.id,
                Submission.status == SubmissionStatus.APPROVED,
            )
            .join(Submission.assignment)
            .options(joinedload(Submission.assignment))
            .order_by(Assignment.position)
        )
    )


# --- the cohort matrix ------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeItems:
    """A programme's checklist groups with their items, in order (one query for both)."""

    groups: list[tuple[ChecklistGroup, list[ChecklistItem]]]

    def of_kind(self, kind: ChecklistKind) -> list[tuple[ChecklistGroup, list[ChecklistItem]]]:
        return [(group, items) for group, items in self.groups if group.kind is kind]

    def select(
        self, show: str | None
    ) -> tuple[str, list[tuple[ChecklistGroup, list[ChecklistItem]]]]:
        """Which groups the matrix shows: ``group-<code>``, ``technical`` or ``skill21``; default: the
        first group."""
        for kind in ChecklistKind:
            if show == kind.value:
                return show, self.of_kind(kind)
        for group, items in self.groups:
            if show == f"group-{group.code}":
                return show, [(group, items)]
        if not self.groups:
            return "", []
        return f"group-{self.groups[0][0].code}", self.groups[:1]


def programme_items(programme_id: int) -> ProgrammeItems:
    """The programme's groups and items in one query (items joined with their group)."""
    items = db.session.scalars(
        sa.select(ChecklistItem)
        .join(ChecklistItem.group)
        .where(ChecklistItem.programme_id == programme_id)
        .order_by(
            ChecklistGroup.position, ChecklistGroup.id, ChecklistItem.position, ChecklistItem.id
        )
        .options(contains_eager(ChecklistItem.group))
    ).all()
    groups: dict[int, tuple[ChecklistGroup, list[ChecklistItem]]] = {}
    for item in items:
        groups.setdefault(item.group_id, (item.group, []))[1].append(item)
    return ProgrammeItems(groups=list(groups.values()))


@dataclass
class Matrix:
    """The levels of a cohort's active participants on a selection of items. Only the levels: who
    signed off, the notes, the evidence and the history are on each cell's own page (``item_detail``)."""

    cohort: Cohort
    levels: dict[int, Level]
    enrolments: list[Enrolment]
    groups: list[tuple[ChecklistGroup, list[ChecklistItem]]]
    reached: dict[int, dict[int, int]]  # enrolment id -> item id -> level (absent: not signed off)

    @property
    def items(self) -> list[ChecklistItem]:
        return [item for _, items in self.groups for item in items]

    def level(self, enrolment: Enrolment, item: ChecklistItem) -> int:
        return self.reached[enrolment.id].get(item.id, 0)

    def rows(self) -> list[tuple[Enrolment, list[tuple[int, int, bool]]]]:
        """Per participant, per item: (item id, level reached, at or above the required level), ready
        for the template (hundreds of cells: no lookups in the template)."""
        items = self.items
        rows = []
        for enrolment in self.enrolments:
            reached = self.reached[enrolment.id]
            cells = []
            for item in items:
                level = reached.get(item.id, 0)
                cells.append((item.id, level, level >= item.required_level))
            rows.append((enrolment, cells))
        return rows


def active_enrolments(cohort: Cohort) -> list[Enrolment]:
    """The cohort's active participants, by name (one query)."""
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ACTIVE)
        .options(joinedload(Enrolment.participant))
    ).all()
    return sorted(enrolments, key=lambda e: (e.participant.sort_key, e.id))


def matrix_levels(
    cohort: Cohort, enrolments: Sequence[Enrolment], items: Sequence[ChecklistItem]
) -> dict[int, dict[int, int]]:
    """The level reached per active enrolment of ``cohort`` and item of ``items``, along each transfer
    chain (as ``signoff.current_levels``), in one query: every enrolment of the cohort's active
    participants (for the chains), with the standing sign-offs on these items (outer join)."""
    result: dict[int, dict[int, int]] = {enrolment.id: {} for enrolment in enrolments}
    if not enrolments or not items:
        return result
    participants = sa.select(Enrolment.participant_id).where(
        Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ACTIVE
    )
    member = aliased(Enrolment)
    rows = db.session.execute(
        sa.select(
            member.id,
            member.transferred_from_id,
            SignOff.checklist_item_id,
            SignOff.level,
            SignOff.sequence,
        )
        .select_from(member)
        .outerjoin(
            SignOff,
            sa.and_(
                SignOff.enrolment_id == member.id,
                SignOff.checklist_item_id.in_([item.id for item in items]),
                not_revoked(),
            ),
        )
        .where(member.participant_id.in_(participants))
    ).all()
    previous = {row[0]: row[1] for row in rows}
    readers: dict[int, list[int]] = defaultdict(list)
    for enrolment in enrolments:
        current: int | None = enrolment.id
        seen: set[int] = set()
        while current is not None and current not in seen:
            seen.add(current)
            readers[current].append(enrolment.id)
            current = previous.get(current)
    signed = sorted((row for row in rows if row[2] is not None), key=lambda row: row[4])
    for enrolment_id, _previous, item_id, level, _sequence in signed:  # later replaces earlier
        for reader in readers.get(enrolment_id, ()):
            result[reader][item_id] = level
    return result


def build_matrix(
    cohort: Cohort, groups: Sequence[tuple[ChecklistGroup, list[ChecklistItem]]]
) -> Matrix:
    """The cohort's active participants by the items of ``groups`` (of its programme, already loaded).
    Two queries, whatever the size of the cohort or the ledger."""
    enrolments = active_enrolments(cohort)
    items = [item for _, group_items in groups for item in group_items]
    return Matrix(
        cohort=cohort,
        levels=scale(cohort.programme),
        enrolments=enrolments,
        groups=list(groups),
        reached=matrix_levels(cohort, enrolments, items),
    )


@dataclass
class ItemDetail:
    """One cell of the matrix: one item for one enrolment, with its history and the approved work."""

    standing: ItemStanding
    levels: dict[int, Level]
    chain: list[int]
    work: list[Submission]


def item_detail(enrolment: Enrolment, item_id: int) -> ItemDetail | None:
    """Where ``item_id`` stands for ``enrolment``: the standing sign-off, the history of records and
    revocations, the workplace observations and the approved work on linked assignments. ``None`` when
    the item is not in the enrolment's programme."""
    checklist = build_checklist(enrolment)
    row = checklist.item(item_id)
    if row is None:
        return None
    work = approved_work([enrolment], [row.item])
    return ItemDetail(
        standing=row,
        levels=checklist.levels,
        chain=checklist.chain,
        work=work.get((enrolment.id, item_id), []),
    )


# --- workplace observations -------------------------------------------------------------------


def may_observe(user: User, enrolment: Enrolment) -> bool:
    """A contact of the participant's employer, while the enrolment is active."""
    return (
        user.role is Role.EMPLOYER
        and user.employer_id is not None
        and user.employer_id == enrolment.employer_id
        and enrolment.is_active
    )


def add_observation(
    *, enrolment: Enrolment, item: ChecklistItem, actor: User, note: str, at: datetime
) -> WorkplaceObservation:
    """Record what the employer contact ``actor`` saw of ``item`` at work. Not a sign-off."""
    if not may_observe(actor, enrolment):
        raise ObservationError(
            _("Only a contact of the participant's employer can add a workplace observation.")
        )
    if item.programme_id != enrolment.cohort.programme_id:
        raise ObservationError(
            _("This checklist item is not part of the programme of this cohort.")
        )
    note = note.strip()
    if not note:
        raise ObservationError(_("Write what you saw at work."))
    if len(note) > OBSERVATION_MAX:
        raise ObservationError(
            _("Keep the observation under %(max)d characters.", max=OBSERVATION_MAX)
        )
    observation = WorkplaceObservation(
        enrolment=enrolment, checklist_item=item, author=actor, note=note, created_at=at
    )
    db.session.add(observation)
    db.session.flush()
    audit.record("checklist.observe", actor, observation, enrolment=enrolment.id, item=item.code)
    return observation
