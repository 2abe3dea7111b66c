"""Random sequences of the real writing services keep every progress summary true.

A hypothesis state machine builds a small programme (two cohorts of one programme, three participants,
a trainer, an employer's contact and a coordinator) and then performs the writes that change progress,
in any order, through the services the pages and the API call: save work and hand in, verdicts and
their corrections, workplace answers, sign-offs (one item, several items, a cohort's item, matrix
cells) and their revocation, hours logged, approved and sent back, reviews, transfer, withdrawal and
return, certificates issued, revoked and reissued, and a cohort's start date moved. Each write is
committed like a request, refused ones and some successful ones are rolled back. After every step
``verify_summaries`` recomputes every summary from the raw rows, and sums up every cohort's row again
from them: it must find no difference.

Runs on every database of the suite (the ``app`` fixture is parametrized over SQLite and, with
``LMS_TEST_DATABASE_URL``, PostgreSQL). ``LMS_STATE_MACHINE_EXAMPLES`` runs more examples, at random
(a deeper search than the derandomized default CI runs).
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from lms import clock
from lms.extensions import db
from lms.models import (
    Certificate,
    ChecklistItem,
    Cohort,
    Enrolment,
    EnrolmentStatus,
    HoursStatus,
    IntakeType,
    InvalidTransition,
    ProgressSummary,
    Role,
    SignOff,
    SignOffKind,
    Submission,
    SubmissionStatus,
    Verdict,
    WorkplaceHours,
)
from lms.services import (
    assessment,
    certificates,
    cohorts,
    enrolment,
    hours,
    progress,
    reviews,
    signoff,
    submissions,
    workplace,
)
from lms.services.action_links import LinkRefused
from lms.services.evidence import EvidenceLimits, Upload
from lms.storage import get_storage
from tests.factories import (
    PDF_BYTES,
    make_cohort,
    make_employer,
    make_enrolment,
    make_programme,
    make_user,
)

PARTICIPANTS = 3
START = date(2026, 9, 7)  # a Monday
FIRST_MOMENT = datetime(2026, 10, 5, 9, tzinfo=clock.LOCAL_TZ)  # week 5 of the first cohort
WORLDS = itertools.count(1)
EXAMPLES = int(os.environ.get("LMS_STATE_MACHINE_EXAMPLES", "0"))

# What the services raise when the rules refuse a write (the page shows it and rolls back).
REFUSED = (ValueError, InvalidTransition, LinkRefused)

participant = st.integers(min_value=0, max_value=PARTICIPANTS - 1)
assignment_number = st.integers(min_value=0, max_value=1)
item_number = st.integers(min_value=0, max_value=1)
level = st.integers(min_value=signoff.MIN_LEVEL, max_value=signoff.MAX_LEVEL)
verdict = st.sampled_from(Verdict)
# Most writes are committed; some are rolled back after the service ran (the request failed later).
commit = st.booleans().map(lambda rolled_back: not rolled_back) | st.just(True)


# The writes a step chooses from: method name -> its arguments' strategies.
WRITES: dict[str, dict[str, st.SearchStrategy]] = {}  # type: ignore[type-arg]


def step_write(**arguments: st.SearchStrategy):  # type: ignore[no-untyped-def,type-arg]
    def register(method):  # type: ignore[no-untyped-def]
        WRITES[method.__name__] = arguments
        return method

    return register


class SummaryMachine(RuleBasedStateMachine):
    """One small programme per example."""

    outcomes: Counter[str] = Counter()  # per rule: committed, rolled back, refused (over the run)

    def __init__(self) -> None:
        super().__init__()
        self.now = FIRST_MOMENT

    @initialize()
    def build_world(self) -> None:
        # A world of its own in each example, beside those of the examples before (emptying every
        # table after each example took longer than the example): the writes below pick only from it.
        programme = make_programme(code=f"SM{next(WORLDS)}", assignments=2)  # due in weeks 3, 6
        programme.assignments[0].requires_workplace_confirmation = True
        self.trainer = make_user(Role.TRAINER)
        self.coordinator = make_user(Role.COORDINATOR)
        self.employer = make_employer()
        self.contact = make_user(Role.EMPLOYER, employer=self.employer)
        self.cohorts = [
            make_cohort(programme, start=START, trainers=[self.trainer]),
            make_cohort(programme, start=START + timedelta(weeks=2), trainers=[self.trainer]),
        ]
        self.participants = [
            make_enrolment(self.cohorts[0], employer=self.employer).participant
            for _ in range(PARTICIPANTS)
        ]
        db.session.commit()
        self.ids = {
            "programme": programme.id,
            "cohorts": [c.id for c in self.cohorts],
            "participants": [p.id for p in self.participants],
        }

    def teardown(self) -> None:
        db.session.rollback()
        db.session.remove()

    # --- helpers ---------------------------------------------------------------------------------

    @property
    def in_world(self) -> sa.ColumnElement[bool]:
        """Enrolments of this example's cohorts."""
        return Enrolment.cohort_id.in_(self.ids["cohorts"])

    @property
    def today(self) -> date:
        return self.now.astimezone(clock.LOCAL_TZ).date()

    def enrolment_of(self, number: int) -> Enrolment:
        """The participant's latest enrolment (the active one, or the one that ended last)."""
        return db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.participant_id == self.ids["participants"][number])
            .order_by(Enrolment.id.desc())
            .limit(1)
        ).one()

    def assignment(self, number: int):  # type: ignore[no-untyped-def]
        cohort = db.session.get(Cohort, self.ids["cohorts"][0])
        return sorted(cohort.programme.assignments, key=lambda a: a.position)[number]

    def items(self) -> list[ChecklistItem]:
        return list(
            db.session.scalars(
                sa.select(ChecklistItem)
                .where(ChecklistItem.programme_id == self.ids["programme"])
                .order_by(ChecklistItem.id)
            )
        )

    def write(self, name: str, action, keep: bool = True) -> object:  # type: ignore[no-untyped-def]
        """Run one write as a request would: commit it, or roll back a refusal (or on purpose)."""
        try:
            result = action()
        except REFUSED:
            db.session.rollback()
            self.outcomes[f"{name}: refused"] += 1
            return None
        if keep:
            db.session.commit()
            self.outcomes[f"{name}: committed"] += 1
        else:
            db.session.rollback()
            self.outcomes[f"{name}: rolled back"] += 1
        return result

    # --- one step: some time passes, then one write -----------------------------------------------

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        """Drawn here rather than as one rule per write: every kind of write is equally likely in
        every run, so a run of this size reaches each of them (certificates included)."""
        self.now += timedelta(hours=data.draw(st.integers(0, 24 * 10), label="hours later"))
        name = data.draw(st.sampled_from(sorted(WRITES)), label="write")
        arguments = {key: data.draw(value, label=key) for key, value in WRITES[name].items()}
        getattr(self, name)(**arguments)

    # --- work and verdicts -------------------------------------------------------------------------

    @step_write(who=participant, number=assignment_number, hand_in=st.booleans(), keep=commit)
    def save_work(self, who: int, number: int, hand_in: bool, keep: bool) -> None:
        enrolment = self.enrolment_of(who)
        self.write(
            "save work" + (" and hand in" if hand_in else ""),
            lambda: submissions.save_work(
                enrolment,
                self.assignment(number),
                actor=enrolment.participant,
                reflection=submissions.Reflection(
                    what_i_did="De machine ingesteld.", what_went_well="Netjes."
                ),
                uploads=[Upload.from_bytes("bewijs.pdf", PDF_BYTES)] if hand_in else [],
                hand_in=hand_in,
                storage=get_storage(),
                limits=EvidenceLimits(),
                at=self.now,
            ),
            keep,
        )

    def submissions_in(
        self, *statuses: SubmissionStatus, assignment: int | None = None
    ) -> list[Submission]:
        query = (
            sa.select(Submission)
            .join(Enrolment, Enrolment.id == Submission.enrolment_id)
            .where(Submission.status.in_(statuses), self.in_world)
            .order_by(Submission.id)
        )
        if assignment is not None:
            query = query.where(Submission.assignment_id == self.assignment(assignment).id)
        return list(db.session.scalars(query))

    @step_write(pick=st.integers(min_value=0, max_value=8), verdict=verdict, keep=commit)
    def assess(self, pick: int, verdict: Verdict, keep: bool) -> None:
        waiting = self.submissions_in(SubmissionStatus.SUBMITTED)
        if not waiting:
            return
        self.write(
            "verdict",
            lambda: assessment.assess_submission(
                waiting[pick % len(waiting)],
                actor=self.trainer,
                verdict=verdict,
                feedback="Zie opmerking.",
                at=self.now,
            ),
            keep,
        )

    @step_write(pick=st.integers(min_value=0, max_value=8), verdict=verdict, keep=commit)
    def correct_verdict(self, pick: int, verdict: Verdict, keep: bool) -> None:
        judged = self.submissions_in(SubmissionStatus.APPROVED, SubmissionStatus.NEEDS_REVISION)
        if not judged:
            return
        self.write(
            "corrected verdict",
            lambda: assessment.correct_assessment(
                judged[pick % len(judged)],
                actor=self.trainer,
                verdict=verdict,
                feedback="Toch anders.",
                at=self.now,
            ),
            keep,
        )

    @step_write(pick=st.integers(min_value=0, max_value=8), carried_out=st.booleans())
    def workplace_answer(self, pick: int, carried_out: bool) -> None:
        # The first assignment asks for a confirmation; work handed in at least once can get one.
        handed_in = self.submissions_in(
            SubmissionStatus.SUBMITTED,
            SubmissionStatus.APPROVED,
            SubmissionStatus.NEEDS_REVISION,
            assignment=0,
        )
        if not handed_in:
            return
        answer = workplace.confirm_workplace if carried_out else workplace.deny_workplace
        self.write(
            "workplace " + ("confirmation" if carried_out else "denial"),
            lambda: answer(
                handed_in[pick % len(handed_in)], actor=self.contact, remark="Gezien.", at=self.now
            ),
        )

    @step_write(who=participant)
    def finish_work(self, who: int) -> None:
        """Everything the certificate asks, through the services: hand in, approve, sign off."""
        summary = db.session.get(ProgressSummary, self.enrolment_of(who).id)
        if summary is None or summary.work_complete:
            return

        def finish() -> None:
            enrolment = self.enrolment_of(who)
            for number in (0, 1):
                assignment = self.assignment(number)
                found = submissions.find_submission(enrolment, assignment)
                if found is None or found.status is not SubmissionStatus.APPROVED:
                    if found is None or found.status is not SubmissionStatus.SUBMITTED:
                        submissions.save_work(
                            enrolment,
                            assignment,
                            actor=enrolment.participant,
                            reflection=submissions.Reflection(what_i_did="Alles gedaan."),
                            uploads=[Upload.from_bytes("bewijs.pdf", PDF_BYTES)],
                            hand_in=True,
                            storage=get_storage(),
                            limits=EvidenceLimits(),
                            at=self.now,
                        )
                    assessment.assess_submission(
                        submissions.find_submission(enrolment, assignment),
                        actor=self.trainer,
                        verdict=Verdict.APPROVED,
                        feedback="",
                        at=self.now,
                    )
            items = self.items()
            signoff.sign_off_items(
                enrolment=enrolment,
                items=items,
                level=max(item.required_level for item in items),
                actor=self.trainer,
                at=self.now,
                note="Alles gezien.",
            )

        self.write("finish all work", finish)

    # --- sign-offs ---------------------------------------------------------------------------------

    @step_write(who=participant, item=item_number, level=level, keep=commit)
    def sign_off(self, who: int, item: int, level: int, keep: bool) -> None:
        self.write(
            "sign-off",
            lambda: signoff.sign_off(
                enrolment=self.enrolment_of(who),
                item=self.items()[item],
                level=level,
                actor=self.trainer,
                at=self.now,
            ),
            keep,
        )

    @step_write(who=participant, level=level)
    def sign_off_items(self, who: int, level: int) -> None:
        self.write(
            "sign-off of several items",
            lambda: signoff.sign_off_items(
                enrolment=self.enrolment_of(who),
                items=self.items(),
                level=level,
                actor=self.trainer,
                at=self.now,
                note="Beide gezien.",
            ),
        )

    @step_write(
        cohort=st.integers(min_value=0, max_value=1),
        item=item_number,
        level=level,
        who=st.sets(participant, min_size=1),
    )
    def bulk_sign_off(self, cohort: int, item: int, level: int, who: set[int]) -> None:
        cohort_row = db.session.get(Cohort, self.ids["cohorts"][cohort])
        enrolments = [self.enrolment_of(number) for number in sorted(who)]
        self.write(
            "bulk sign-off",
            lambda: signoff.bulk_sign_off(
                cohort=cohort_row,
                item=self.items()[item],
                level=level,
                enrolments=[e for e in enrolments if e.cohort_id == cohort_row.id] or enrolments,
                actor=self.trainer,
                at=self.now,
                note="Groepsinstructie.",
            ),
        )

    @step_write(
        cells=st.lists(st.tuples(participant, item_number, level), min_size=1, max_size=4),
        evidence=st.booleans(),
    )
    def sign_off_cells(self, cells: list[tuple[int, int, int]], evidence: bool) -> None:
        cohort_row = db.session.get(Cohort, self.ids["cohorts"][0])
        items = self.items()
        chosen = {
            (who, item): signoff.Cell(self.enrolment_of(who), items[item], cell_level)
            for who, item, cell_level in cells
        }
        self.write(
            "matrix sign-off",
            lambda: signoff.sign_off_cells(
                cohort=cohort_row,
                cells=[c for c in chosen.values() if c.enrolment.cohort_id == cohort_row.id]
                or list(chosen.values()),
                actor=self.trainer,
                at=self.now,
                attach_evidence=evidence,
            ),
        )

    @step_write(who=participant, pick=st.integers(min_value=0, max_value=20), keep=commit)
    def revoke_sign_off(self, who: int, pick: int, keep: bool) -> None:
        enrolment = self.enrolment_of(who)
        chain = signoff.enrolment_chains([enrolment])[enrolment.id]
        records = list(
            db.session.scalars(
                sa.select(SignOff)
                .where(SignOff.enrolment_id.in_(chain), SignOff.kind == SignOffKind.SIGN_OFF)
                .order_by(SignOff.id)
            )
        )
        if not records:
            return
        self.write(
            "revoked sign-off",
            lambda: signoff.revoke(
                record=records[pick % len(records)],
                actor=self.trainer,
                at=self.now,
                reason="Te vroeg afgetekend.",
                enrolment=enrolment,
            ),
            keep,
        )

    # --- hours -------------------------------------------------------------------------------------

    @step_write(
        who=participant,
        week=st.integers(min_value=0, max_value=60),
        worked=st.integers(min_value=0, max_value=400),
        learning_share=st.integers(min_value=0, max_value=10),
    )
    def log_hours(self, who: int, week: int, worked: int, learning_share: int) -> None:
        enrolment = self.enrolment_of(who)
        first = hours.monday_of(max(enrolment.cohort.start_date, enrolment.enrolled_on))
        weeks = max((self.today - first).days // 7 + 1, 1)  # a week the form accepts, mostly
        hours_worked = worked / 10  # one decimal, as the form takes it
        self.write(
            "hours logged",
            lambda: hours.log_hours(
                enrolment,
                actor=enrolment.participant,
                week_start=first + timedelta(weeks=week % weeks),
                hours_worked=hours_worked,
                hours_learning=round(hours_worked * learning_share / 10, 1),
                note="",
                today=self.today,
            ),
        )

    def waiting_hours(self) -> list[WorkplaceHours]:
        return list(
            db.session.scalars(
                sa.select(WorkplaceHours)
                .join(Enrolment, Enrolment.id == WorkplaceHours.enrolment_id)
                .where(WorkplaceHours.status == HoursStatus.SUBMITTED, self.in_world)
                .order_by(WorkplaceHours.id)
            )
        )

    @step_write(pick=st.integers(min_value=0, max_value=8), all_weeks=st.booleans(), keep=commit)
    def approve_hours(self, pick: int, all_weeks: bool, keep: bool) -> None:
        waiting = self.waiting_hours()
        if not waiting:
            return
        if all_weeks:
            self.write(
                "hours approved",
                lambda: hours.approve_weeks(waiting, actor=self.contact, at=self.now),
                keep,
            )
        else:
            self.write(
                "hours approved",
                lambda: hours.approve_hours(
                    waiting[pick % len(waiting)], actor=self.contact, at=self.now
                ),
                keep,
            )

    @step_write(pick=st.integers(min_value=0, max_value=8))
    def send_back_hours(self, pick: int) -> None:
        waiting = self.waiting_hours()
        if waiting:
            self.write(
                "hours sent back",
                lambda: hours.send_back_hours(
                    waiting[pick % len(waiting)], actor=self.contact, remark="Klopt niet."
                ),
            )

    @step_write(who=participant, days_ago=st.integers(min_value=0, max_value=30))
    def review(self, who: int, days_ago: int) -> None:
        enrolment = self.enrolment_of(who)
        self.write(
            "review",
            lambda: reviews.record_review(
                enrolment,
                actor=self.trainer,
                held_on=self.today - timedelta(days=days_ago),
                summary="Goed gesprek.",
                agreements="Volgende keer de uren bijwerken.",
                today=self.today,
            ),
        )

    # --- enrolment ---------------------------------------------------------------------------------

    @step_write(who=participant, keep=commit)
    def transfer(self, who: int, keep: bool) -> None:
        current = self.enrolment_of(who)
        other = next(c for c in self.ids["cohorts"] if c != current.cohort_id)
        self.write(
            "transfer",
            lambda: enrolment.transfer(
                current,
                to_cohort=db.session.get(Cohort, other),
                on=max(self.today, current.enrolled_on),
                reason="Andere regio.",
                actor=self.coordinator,
            ),
            keep,
        )

    @step_write(who=participant)
    def withdraw(self, who: int) -> None:
        current = self.enrolment_of(who)
        self.write(
            "withdrawal",
            lambda: enrolment.withdraw(
                current,
                on=max(self.today, current.enrolled_on),
                reason="Verhuisd.",
                actor=self.coordinator,
            ),
        )

    @step_write(who=participant)
    def reactivate(self, who: int) -> None:
        latest = self.enrolment_of(who)
        if latest.status is not EnrolmentStatus.WITHDRAWN:
            return
        self.write(
            "return after withdrawal",
            lambda: enrolment.enrol(
                cohort=latest.cohort,
                employer=self.employer,
                intake_type=IntakeType.EMPLOYED,
                actor=self.coordinator,
                enrolled_on=max(self.today, latest.ended_on or self.today),
                participant=latest.participant,
            ),
        )

    # --- certificates ------------------------------------------------------------------------------

    def summaries_where(self, condition) -> list[ProgressSummary]:  # type: ignore[no-untyped-def]
        return list(
            db.session.scalars(
                sa.select(ProgressSummary)
                .join(Enrolment, Enrolment.id == ProgressSummary.enrolment_id)
                .where(condition, self.in_world)
                .order_by(ProgressSummary.enrolment_id)
            )
        )

    @step_write(pick=st.integers(min_value=0, max_value=5), keep=commit)
    def issue_certificate(self, pick: int, keep: bool) -> None:
        due = self.summaries_where(
            sa.and_(
                ProgressSummary.work_complete,
                ProgressSummary.valid_certificate_id.is_(None),
                Enrolment.status == EnrolmentStatus.ACTIVE,
            )
        )
        if not due:
            return
        chosen = db.session.get(Enrolment, due[pick % len(due)].enrolment_id)
        self.write(
            "certificate issued",
            lambda: certificates.issue_certificate(chosen, actor=self.coordinator, now=self.now),
            keep,
        )

    @step_write(pick=st.integers(min_value=0, max_value=5), reissue=st.booleans(), keep=commit)
    def revoke_certificate(self, pick: int, reissue: bool, keep: bool) -> None:
        valid = list(
            db.session.scalars(
                sa.select(Certificate)
                .join(Enrolment, Enrolment.id == Certificate.enrolment_id)
                .where(Certificate.revoked_at.is_(None), self.in_world)
                .order_by(Certificate.id)
            )
        )
        if not valid:
            return
        certificate = valid[pick % len(valid)]
        service = certificates.reissue_certificate if reissue else certificates.revoke_certificate
        self.write(
            "certificate reissued" if reissue else "certificate revoked",
            lambda: service(
                certificate, actor=self.coordinator, reason="Naam verkeerd gespeld.", now=self.now
            ),
            keep,
        )

    # --- the cohort --------------------------------------------------------------------------------

    @step_write(
        cohort=st.integers(min_value=0, max_value=1), weeks=st.integers(min_value=-3, max_value=3)
    )
    def move_start_date(self, cohort: int, weeks: int) -> None:
        row = db.session.get(Cohort, self.ids["cohorts"][cohort])
        self.write(
            "start date moved",
            lambda: cohorts.update_cohort(
                row,
                name=row.name,
                region=row.region,
                start_date=row.start_date + timedelta(weeks=weeks),
                capacity=row.capacity,
                trainers=list(row.trainers),
                actor=self.coordinator,
            ),
        )

    # --- the check ---------------------------------------------------------------------------------

    @invariant()
    def every_summary_equals_its_recomputation(self) -> None:
        """Every enrolment's summary equals its recomputation from the raw rows, and every cohort's
        row the sum of its enrolments' rows (the coordinator's overview and the programme report
        read those)."""
        check = progress.verify_summaries()
        assert check.ok, "\n".join(
            [f"enrolment {d.enrolment_id}: {d.fields}" for d in check.differences]
            + [f"cohort {d.cohort_id}: {d.fields}" for d in check.cohort_differences]
        )
        assert check.checked == db.session.scalar(sa.select(sa.func.count(Enrolment.id)))
        assert check.cohorts_checked == db.session.scalar(sa.select(sa.func.count(Cohort.id)))


ALL_WRITES = {
    "save work",
    "save work and hand in",
    "verdict",
    "corrected verdict",
    "workplace confirmation",
    "workplace denial",
    "finish all work",
    "sign-off",
    "sign-off of several items",
    "bulk sign-off",
    "matrix sign-off",
    "revoked sign-off",
    "hours logged",
    "hours approved",
    "hours sent back",
    "review",
    "transfer",
    "withdrawal",
    "return after withdrawal",
    "certificate issued",
    "certificate revoked",
    "certificate reissued",
    "start date moved",
}

# Every write once, in an order in which each one goes through (the random run below may miss one).
TOUR: list[tuple[str, dict[str, object]]] = [
    ("save_work", {"who": 0, "number": 0, "hand_in": False, "keep": True}),
    ("save_work", {"who": 0, "number": 0, "hand_in": True, "keep": True}),
    ("save_work", {"who": 1, "number": 0, "hand_in": True, "keep": True}),
    ("workplace_answer", {"pick": 0, "carried_out": True}),
    ("workplace_answer", {"pick": 1, "carried_out": False}),
    ("assess", {"pick": 0, "verdict": Verdict.NEEDS_REVISION, "keep": True}),
    ("correct_verdict", {"pick": 0, "verdict": Verdict.APPROVED, "keep": True}),
    ("assess", {"pick": 0, "verdict": Verdict.APPROVED, "keep": True}),
    ("sign_off", {"who": 0, "item": 0, "level": 2, "keep": True}),
    ("sign_off_items", {"who": 1, "level": 3}),
    ("bulk_sign_off", {"cohort": 0, "item": 1, "level": 1, "who": {0, 2}}),
    ("sign_off_cells", {"cells": [(2, 0, 2), (0, 1, 2)], "evidence": True}),
    ("revoke_sign_off", {"who": 0, "pick": 0, "keep": True}),
    ("log_hours", {"who": 0, "week": 0, "worked": 160, "learning_share": 3}),
    ("log_hours", {"who": 0, "week": 1, "worked": 205, "learning_share": 0}),
    ("approve_hours", {"pick": 0, "all_weeks": False, "keep": True}),
    ("send_back_hours", {"pick": 0}),
    ("review", {"who": 1, "days_ago": 2}),
    ("transfer", {"who": 2, "keep": True}),
    ("withdraw", {"who": 1}),
    ("reactivate", {"who": 1}),
    ("finish_work", {"who": 0}),
    ("issue_certificate", {"pick": 0, "keep": False}),
    ("issue_certificate", {"pick": 0, "keep": True}),
    ("revoke_certificate", {"pick": 0, "reissue": True, "keep": True}),
    ("revoke_certificate", {"pick": 0, "reissue": False, "keep": True}),
    ("move_start_date", {"cohort": 0, "weeks": 1}),
    ("move_start_date", {"cohort": 1, "weeks": -2}),
]


def test_each_write_keeps_every_summary_equal_to_its_recomputation(app: Flask) -> None:
    machine = SummaryMachine()
    machine.outcomes = Counter()
    machine.build_world()
    machine.every_summary_equals_its_recomputation()
    for name, arguments in TOUR:
        before = machine.outcomes.copy()
        machine.now += timedelta(days=1)
        getattr(machine, name)(**arguments)
        went_through = machine.outcomes - before
        assert went_through and not any("refused" in key for key in went_through), (name, arguments)
        machine.every_summary_equals_its_recomputation()
    assert {key.split(":")[0] for key in machine.outcomes} == ALL_WRITES
    machine.teardown()


def test_random_writes_keep_every_summary_equal_to_its_recomputation(app: Flask) -> None:
    SummaryMachine.outcomes = Counter()
    run_state_machine_as_test(
        SummaryMachine,
        settings=settings(
            max_examples=EXAMPLES or 15,
            stateful_step_count=30,
            deadline=None,
            derandomize=not EXAMPLES,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    outcomes = SummaryMachine.outcomes
    print(sorted(outcomes.items()))
    # Not a vacuous run: most kinds of write got through (each one does in the tour above), and
    # some were rolled back after the service ran.
    committed = {name.split(":")[0] for name, count in outcomes.items() if "committed" in name}
    assert len(committed) >= len(ALL_WRITES) * 2 // 3, sorted(outcomes.items())
    assert any("rolled back" in name for name in outcomes)
