"""Draft, hand in, revise: the rules of the participant's own work, without HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.models import (
    Attempt,
    EnrolmentStatus,
    EvidenceFile,
    InvalidTransition,
    Role,
    Submission,
    SubmissionStatus,
    Verdict,
)
from lms.services.evidence import EvidenceLimits, Upload
from lms.services.submissions import (
    NothingToHandIn,
    Reflection,
    SubmissionError,
    delete_evidence,
    hand_in_problems,
    save_work,
)
from lms.storage import get_storage
from tests.factories import (
    PDF_BYTES,
    make_cohort,
    make_enrolment,
    make_photo_bytes,
    make_programme,
    make_user,
)

MONDAY = datetime(2026, 9, 21, 9, tzinfo=clock.LOCAL_TZ)


@pytest.fixture
def enrolment(db):
    enrolment = make_enrolment()
    db.session.commit()
    return enrolment


def save(enrolment, *, hand_in=False, uploads=(), at=MONDAY, limits=None, **texts):
    return save_work(
        enrolment,
        enrolment.cohort.programme.assignments[0],
        actor=enrolment.participant,
        reflection=Reflection(**texts),
        uploads=list(uploads),
        hand_in=hand_in,
        storage=get_storage(),
        limits=limits or EvidenceLimits(),
        at=at,
    )


def photo(name: str = "lasnaad.jpg", **kwargs) -> Upload:
    return Upload.from_bytes(name, make_photo_bytes(**kwargs))


def stored_keys(db) -> set[str]:
    return set(db.session.scalars(sa.select(EvidenceFile.storage_key)))


def test_the_whole_cycle_keeps_every_attempt(db, enrolment) -> None:
    trainer_at = MONDAY + timedelta(days=2)
    # Draft: text first, a photo later; nothing handed in yet.
    result = save(enrolment, what_i_did="Ik heb de boormachine ingesteld.")
    assert result.submission.status is SubmissionStatus.DRAFT and not result.handed_in
    result = save(
        enrolment,
        what_i_did="Ik heb de boormachine ingesteld.",
        what_went_well="Veilig gewerkt.",
        uploads=[photo()],
    )
    assert len(result.added) == 1
    # Submit.
    result = save(
        enrolment,
        what_i_did="Ik heb de boormachine ingesteld.",
        what_went_well="Veilig gewerkt.",
        hand_in=True,
    )
    submission = result.submission
    assert result.handed_in and submission.status is SubmissionStatus.SUBMITTED
    first = submission.attempts[0]
    assert first.submitted_at == MONDAY
    db.session.commit()

    # The trainer asks for a revision (the assessment blueprint does this through the same model).
    submission.record_verdict(Verdict.NEEDS_REVISION, trainer_at)
    db.session.commit()

    # The next save opens attempt 2, starting from attempt 1's text and a copy of its files.
    result = save(
        enrolment,
        what_i_did="Ik heb de boormachine ingesteld en het toerental gecontroleerd.",
        what_went_well="Veilig gewerkt.",
        what_i_learned="Eerst meten, dan boren.",
        at=trainer_at + timedelta(days=1),
    )
    assert [a.number for a in submission.attempts] == [1, 2]
    second = submission.attempts[1]
    assert result.attempt is second and submission.status is SubmissionStatus.NEEDS_REVISION
    assert len(second.evidence_files) == 1
    assert second.evidence_files[0].sha256 == first.evidence_files[0].sha256
    assert second.evidence_files[0].storage_key != first.evidence_files[0].storage_key
    db.session.commit()

    # Resubmit, then approve.
    resubmit_at = trainer_at + timedelta(days=2)
    result = save(
        enrolment,
        what_i_did=second.what_i_did,
        what_went_well=second.what_went_well,
        what_i_learned=second.what_i_learned,
        hand_in=True,
        at=resubmit_at,
    )
    assert result.handed_in and submission.status is SubmissionStatus.SUBMITTED
    submission.record_verdict(Verdict.APPROVED, resubmit_at + timedelta(days=1))
    db.session.commit()

    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    assert submission.status is SubmissionStatus.APPROVED
    one, two = submission.attempts
    assert one.what_i_did == "Ik heb de boormachine ingesteld." and one.what_i_learned == ""
    assert two.what_i_did.endswith("het toerental gecontroleerd.")
    assert (one.submitted_at, two.submitted_at) == (MONDAY, resubmit_at)
    assert len(stored_keys(db)) == 2 and all(get_storage().exists(k) for k in stored_keys(db))
    # Nothing can be changed any more.
    with pytest.raises(SubmissionError, match="goedgekeurd"):
        save(enrolment, what_i_did="Nog iets")


def test_handing_in_needs_what_you_did_and_a_file(db, enrolment) -> None:
    result = save(enrolment, what_went_well="Goed", hand_in=True)
    assert not result.handed_in and result.submission.status is SubmissionStatus.DRAFT
    assert len(result.missing) == 2
    assert "Wat heb je gedaan?" in result.missing[0]
    result = save(enrolment, what_i_did="Gezaagd", hand_in=True)
    assert not result.handed_in and result.missing == ["Voeg minstens één foto, pdf of video toe."]
    assert hand_in_problems(result.attempt) == result.missing
    result = save(
        enrolment,
        what_i_did="Gezaagd",
        uploads=[Upload.from_bytes("werkbon.pdf", PDF_BYTES)],
        hand_in=True,
    )
    assert result.handed_in and result.missing == []


def test_handed_in_work_cannot_be_changed(db, enrolment) -> None:
    save(enrolment, what_i_did="Gezaagd", uploads=[photo()], hand_in=True)
    db.session.commit()
    with pytest.raises(SubmissionError, match="ingeleverd"):
        save(enrolment, what_i_did="Toch anders")
    db.session.rollback()
    attempt = db.session.scalar(sa.select(Attempt))
    assert attempt.what_i_did == "Gezaagd"
    with pytest.raises(InvalidTransition):
        attempt.submission.start_revision(clock.now())


def test_a_refused_file_keeps_the_text_and_the_good_files_but_does_not_hand_in(
    db, enrolment
) -> None:
    result = save(
        enrolment,
        what_i_did="Ik heb gelast.",
        uploads=[photo("goed.jpg"), Upload.from_bytes("stiekem.jpg", b"gewoon tekst " * 40)],
        hand_in=True,
    )
    assert not result.handed_in
    assert [f.original_name for f in result.added] == ["goed.jpg"]
    assert len(result.refused) == 1 and "stiekem.jpg" in result.refused[0]
    db.session.commit()
    attempt = db.session.scalar(sa.select(Attempt))
    assert attempt.what_i_did == "Ik heb gelast." and attempt.submitted_at is None


def test_an_oversized_file_is_refused_and_the_draft_text_kept(db, enrolment) -> None:
    limits = EvidenceLimits(photo_bytes=300)
    result = save(
        enrolment, what_i_did="Mijn tekst", uploads=[photo(width=400, height=400)], limits=limits
    )
    assert (
        result.added == [] and "lasnaad.jpg" in result.refused[0] and "300" not in result.refused[0]
    )
    assert "hoogstens 1 kB" in result.refused[0]
    db.session.commit()
    assert db.session.scalar(sa.select(Attempt.what_i_did)) == "Mijn tekst"
    assert stored_keys(db) == set()


def test_the_attempts_total_size_is_limited(db, enrolment) -> None:
    limits = EvidenceLimits(attempt_bytes=len(PDF_BYTES) * 2)
    pdfs = [Upload.from_bytes(f"{n}.pdf", PDF_BYTES) for n in ("een", "twee", "drie")]
    result = save(enrolment, uploads=pdfs, limits=limits)
    assert [f.original_name for f in result.added] == ["een.pdf", "twee.pdf"]
    assert "drie.pdf" in result.refused[0]


def test_only_the_participant_of_an_active_enrolment_may_work(db, enrolment) -> None:
    stranger = make_user(Role.PARTICIPANT)
    with pytest.raises(SubmissionError):
        save_work(
            enrolment,
            enrolment.cohort.programme.assignments[0],
            actor=stranger,
            reflection=Reflection(what_i_did="x"),
            storage=get_storage(),
            limits=EvidenceLimits(),
            at=MONDAY,
        )
    enrolment.status = EnrolmentStatus.WITHDRAWN
    enrolment.ended_on = MONDAY.date()
    with pytest.raises(SubmissionError):
        save(enrolment, what_i_did="x")


def test_an_assignment_of_another_programme_is_refused(db, enrolment) -> None:
    other = make_programme(code="ANDER")
    with pytest.raises(SubmissionError):
        save_work(
            enrolment,
            other.assignments[0],
            actor=enrolment.participant,
            reflection=Reflection(what_i_did="x"),
            storage=get_storage(),
            limits=EvidenceLimits(),
            at=MONDAY,
        )


def test_files_of_a_draft_can_be_removed_and_go_from_storage_after_commit(db, enrolment) -> None:
    result = save(enrolment, uploads=[photo("een.jpg"), photo("twee.jpg")])
    db.session.commit()
    first = result.added[0]
    key = first.storage_key
    delete_evidence(first, actor=enrolment.participant, storage=get_storage())
    assert get_storage().exists(key)  # not before the commit
    db.session.commit()
    assert not get_storage().exists(key)
    assert [f.original_name for f in db.session.scalars(sa.select(EvidenceFile))] == ["twee.jpg"]


def test_files_of_handed_in_work_cannot_be_removed(db, enrolment) -> None:
    result = save(enrolment, what_i_did="Klaar", uploads=[photo()], hand_in=True)
    db.session.commit()
    with pytest.raises(SubmissionError, match="ingeleverd"):
        delete_evidence(result.added[0], actor=enrolment.participant, storage=get_storage())
    other = make_user(Role.PARTICIPANT)
    with pytest.raises(SubmissionError):
        delete_evidence(result.added[0], actor=other, storage=get_storage())


def test_a_rolled_back_save_leaves_no_files_behind(db, enrolment) -> None:
    storage = get_storage()
    save(enrolment, uploads=[photo()])
    assert len(list(storage.root.rglob("*.jpg"))) == 1
    db.session.rollback()
    assert list(storage.root.rglob("*.jpg")) == []


def test_start_revision_copies_the_reflection_and_is_refused_twice(db) -> None:
    cohort = make_cohort()
    enrolment = make_enrolment(cohort)
    submission = Submission(
        enrolment=enrolment,
        assignment=cohort.programme.assignments[0],
        attempts=[
            Attempt(number=1, what_i_did="Eerst", what_went_well="Goed", what_i_learned="Veel")
        ],
    )
    db.session.add(submission)
    with pytest.raises(InvalidTransition):
        submission.start_revision(MONDAY)  # a draft is revised by saving it, not by a new attempt
    submission.submit(MONDAY)
    submission.record_verdict(Verdict.NEEDS_REVISION, MONDAY)
    attempt = submission.start_revision(MONDAY)
    assert (attempt.number, attempt.what_i_did, attempt.what_went_well, attempt.what_i_learned) == (
        2,
        "Eerst",
        "Goed",
        "Veel",
    )
    assert submission.open_attempt is attempt
    with pytest.raises(InvalidTransition):
        submission.start_revision(MONDAY)
    db.session.flush()


def test_handing_in_nothing_is_refused_and_saves_nothing(db, enrolment) -> None:
    with pytest.raises(NothingToHandIn):
        save(enrolment, hand_in=True, what_i_did="   ")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 0
    # Saving a draft (not handing in) still works, and a draft with text can be handed in later.
    result = save(enrolment, what_went_well="Netjes")
    assert result.submission.status is SubmissionStatus.DRAFT
    assert save(enrolment, hand_in=True, what_went_well="Netjes").missing
