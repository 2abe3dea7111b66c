"""`flask --app wsgi lms ledger verify`: OK with the count, or the first broken record and a non-zero exit;
then the signed checkpoints of the ledger's head, stored and saved: a rewrite with every later hash
recomputed, deleted last records and a bad signature are each reported with a non-zero exit. The public
checkpoint is checked independently (cryptography, base64 and json on what the app publishes)."""

from __future__ import annotations

import base64
import io
import json
import threading
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lms import clock
from lms.models import ChecklistItem, LedgerCheckpoint, Role, SignOff
from lms.models.signoffs import GENESIS_HASH
from lms.services import badge_keys, badges
from lms.services.signoff import check_ledger, revoke, sign_off
from tests.factories import make_cohort, make_enrolment, make_user

AT = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)


@pytest.fixture
def key(app):  # type: ignore[no-untyped-def]
    """The application's Ed25519 key (the badge key, `lms badges keygen`)."""
    return badge_keys.ensure_key(badge_keys.key_dir(), clock.now())[0]


@pytest.fixture
def three_records(db):  # type: ignore[no-untyped-def]
    trainer = make_user(Role.TRAINER)
    enrolment = make_enrolment(make_cohort(trainers=[trainer]))
    items = db.session.scalars(sa.select(ChecklistItem).order_by(ChecklistItem.code)).all()
    first = sign_off(enrolment=enrolment, item=items[0], level=2, actor=trainer, at=AT)
    sign_off(enrolment=enrolment, item=items[1], level=3, actor=trainer, at=AT + timedelta(hours=1))
    revoke(record=first, actor=trainer, at=AT + timedelta(hours=2), reason="Te vroeg afgetekend.")
    db.session.commit()
    return db.session.scalars(sa.select(SignOff).order_by(SignOff.sequence)).all()


def verify(runner):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["lms", "ledger", "verify"])


def test_an_empty_ledger_is_ok(runner, db) -> None:
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "OK: 0 records"


def test_an_intact_chain_prints_ok_with_the_count(runner, three_records) -> None:
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "OK: 3 records"


def test_without_a_signing_key_sign_offs_succeed_and_verify_says_the_head_is_not_anchored(
    runner, db, three_records
) -> None:
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerCheckpoint)) == 0
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "NOT ANCHORED: there is no signed checkpoint" in result.output
    assert "no signing key yet" in result.output


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ("UPDATE signoffs SET level = 4 WHERE sequence = 2", "does not match the record's content"),
        ("UPDATE signoffs SET note = 'later aangepast' WHERE sequence = 2", "content"),
        (
            "UPDATE signoffs SET previous_hash = '" + "f" * 64 + "' WHERE sequence = 2",
            "previous_hash",
        ),
    ],
)
def test_a_changed_row_is_reported_with_a_non_zero_exit(
    runner, db, three_records, statement: str, problem: str
) -> None:
    tampered = three_records[1]
    db.session.execute(sa.text(statement))
    db.session.commit()
    result = verify(runner)
    assert result.exit_code != 0
    assert f"sequence 2 (id {tampered.id})" in result.output
    assert problem in result.output
    assert not result.output.startswith("OK")


def test_a_deleted_row_is_reported_at_the_record_after_it(runner, db, three_records) -> None:
    # The revocation (sequence 3) points at sequence 1; remove the middle record.
    db.session.execute(sa.text("DELETE FROM signoffs WHERE sequence = 2"))
    db.session.commit()
    result = verify(runner)
    assert result.exit_code == 1
    assert f"sequence 3 (id {three_records[2].id})" in result.output
    assert "missing" in result.output


def test_records_signed_at_an_amsterdam_moment_verify(runner, db) -> None:
    """A moment in another zone than UTC is the same instant: the hash covers it as stored (UTC)."""
    trainer = make_user(Role.TRAINER)
    enrolment = make_enrolment(make_cohort(trainers=[trainer]))
    items = db.session.scalars(sa.select(ChecklistItem).order_by(ChecklistItem.code)).all()
    local = AT.astimezone(clock.LOCAL_TZ)  # 16:00+02:00
    first = sign_off(enrolment=enrolment, item=items[0], level=2, actor=trainer, at=local)
    revoke(
        record=first, actor=trainer, at=local + timedelta(hours=1), reason="Te vroeg afgetekend."
    )
    # Hashed as the UTC moment that is stored, in the form every existing record was hashed in.
    assert first.content()["signed_at"] == "2026-10-09T14:00:00.000000+00:00"
    db.session.commit()
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "OK: 2 records"


# --- signed checkpoints of the head ----------------------------------------------------------------


@pytest.fixture
def anchored(key, three_records):  # type: ignore[no-untyped-def]
    """Three records written with a key: each service call signed a checkpoint (1, 2, 3 records)."""
    return three_records


def checkpoints(db) -> list[LedgerCheckpoint]:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.scalars(sa.select(LedgerCheckpoint).order_by(LedgerCheckpoint.id)).all()


def rewrite(db, sequence: int, **changes: object) -> None:  # type: ignore[no-untyped-def]
    """Change one record and recompute its hash and every later one, as someone with write access to
    the database would: the chain holds again."""
    previous = GENESIS_HASH
    for record in db.session.scalars(sa.select(SignOff).order_by(SignOff.sequence)):
        if record.sequence == sequence:
            for name, value in changes.items():
                setattr(record, name, value)
        if record.sequence >= sequence:
            record.previous_hash = previous
            record.record_hash = record.compute_hash()
        previous = record.record_hash
    db.session.commit()


def test_every_sign_off_batch_signs_a_checkpoint_of_the_head(runner, db, anchored) -> None:
    assert [(c.record_count, c.head_id, c.head_hash) for c in checkpoints(db)] == [
        (r.sequence, r.id, r.record_hash) for r in anchored
    ]
    assert all(c.key_id.startswith(badges.issuer_did() + "#key-") for c in checkpoints(db))
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "OK: 3 records",
        "Checkpoints: 3 of 3 signed checkpoints match (the longest covers 3 records).",
    ]


def test_a_rewrite_with_every_later_hash_recomputed_is_reported(runner, db, anchored) -> None:
    rewrite(db, 2, level=4, note="Later aangepast.")
    assert check_ledger().ok  # the chain alone no longer notices
    result = verify(runner)
    assert result.exit_code == 1
    assert result.output.startswith("OK: 3 records")
    assert "REWRITTEN: the record at position 2 has hash" in result.output
    assert "REWRITTEN: the record at position 3 has hash" in result.output
    assert "1 of 3 signed checkpoints match" in result.output  # the one of record 1 still holds


@pytest.mark.parametrize("statement", ["sequence = 3", "sequence >= 2"])
def test_deleting_the_last_records_is_reported(runner, db, anchored, statement: str) -> None:
    db.session.execute(sa.text(f"DELETE FROM signoffs WHERE {statement}"))
    db.session.commit()
    assert check_ledger().ok
    result = verify(runner)
    assert result.exit_code == 1
    assert "TRUNCATED" in result.output
    assert "says the ledger had 3 records" in result.output
    assert "records were deleted" in result.output


def _flip_last_character(token: str) -> str:
    return token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]


def _signed_by_an_unpublished_key(token: str) -> str:
    payload = jwt.decode(token, options={"verify_signature": False})
    kid = f"{badges.issuer_did()}#key-20990101-deadbeef"
    return jwt.encode(
        payload, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid}
    )


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda c: setattr(c, "signature", _flip_last_character(c.signature)), "does not hold"),
        (
            lambda c: setattr(c, "signature", _signed_by_an_unpublished_key(c.signature)),
            "which is not published in /.well-known/did.json",
        ),
        (lambda c: setattr(c, "signature", "nonsense"), "cannot be read"),
        (
            lambda c: setattr(c, "record_count", c.record_count - 1),
            "differs from what was signed",
        ),
    ],
)
def test_a_tampered_checkpoint_is_reported(runner, db, anchored, tamper, problem: str) -> None:
    latest = checkpoints(db)[-1]
    tamper(latest)
    db.session.commit()
    result = verify(runner)
    assert result.exit_code == 1
    assert f"CHECKPOINT MISMATCH, checkpoint #{latest.id}" in result.output
    assert problem in result.output


def test_a_saved_checkpoint_catches_truncation_after_the_checkpoints_were_emptied(
    runner, client, db, anchored, tmp_path
) -> None:
    saved = tmp_path / "checkpoint.json"
    saved.write_bytes(client.get("/ledger/checkpoint.json").data)
    jws_only = tmp_path / "checkpoint.jws"
    jws_only.write_text(json.loads(saved.read_text())["signature"] + "\n")
    result = runner.invoke(args=["lms", "ledger", "verify", "--checkpoint", str(saved)])
    assert result.exit_code == 0, result.output
    assert "4 of 4 signed checkpoints match" in result.output

    db.session.execute(sa.text("DELETE FROM ledger_checkpoints"))
    db.session.execute(sa.text("DELETE FROM signoffs WHERE sequence = 3"))
    db.session.commit()
    assert verify(runner).exit_code == 0  # with the table emptied too, only a saved copy tells
    for path in (saved, jws_only):
        result = runner.invoke(args=["lms", "ledger", "verify", "--checkpoint", str(path)])
        assert result.exit_code == 1, result.output
        assert f"saved checkpoint {path}: TRUNCATED" in result.output
        assert "says the ledger had 3 records; it has 2 now" in result.output


def test_a_saved_file_that_is_no_checkpoint_is_refused_in_plain_words(runner, db, tmp_path) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"count": 3}')
    result = runner.invoke(args=["lms", "ledger", "verify", "--checkpoint", str(wrong)])
    assert result.exit_code == 1
    assert "is not a saved checkpoint" in result.output
    assert "Traceback" not in result.output


# --- the public checkpoint, checked independently: cryptography + base64 + json only ---------------


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def independent_check(document: dict, did_document: dict) -> dict:  # type: ignore[type-arg]
    """The signed payload of a published checkpoint whose signature holds with a key of the issuer's
    DID document (else InvalidSignature or KeyError)."""
    header_b64, payload_b64, signature_b64 = document["signature"].split(".")
    header = json.loads(b64decode(header_b64))
    assert header["alg"] == "EdDSA"
    method = {m["id"]: m for m in did_document["verificationMethod"]}[header["kid"]]
    assert header["kid"] in did_document["assertionMethod"]
    key = Ed25519PublicKey.from_public_bytes(b64decode(method["publicKeyJwk"]["x"]))
    key.verify(b64decode(signature_b64), f"{header_b64}.{payload_b64}".encode("ascii"))
    payload = json.loads(b64decode(payload_b64))
    assert payload["type"] == "LedgerCheckpoint" and payload["iss"] == did_document["id"]
    return payload


def test_the_public_checkpoint_passes_an_independent_check(client, db, anchored) -> None:
    response = client.get("/ledger/checkpoint.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = response.get_json()
    did_document = client.get("/.well-known/did.json").get_json()
    payload = independent_check(document, did_document)
    head = anchored[-1]
    assert (payload["count"], payload["head_id"], payload["head_hash"]) == (
        3,
        head.id,
        head.record_hash,
    )
    assert (document["count"], document["head_hash"]) == (3, head.record_hash)
    assert document["did_document"].endswith("/.well-known/did.json")
    # One changed byte in the signed part and the check fails.
    header_b64, payload_b64, signature_b64 = document["signature"].split(".")
    forged = json.loads(b64decode(payload_b64)) | {"count": 4}
    forged_b64 = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidSignature):
        independent_check({"signature": f"{header_b64}.{forged_b64}.{signature_b64}"}, did_document)


def test_without_a_checkpoint_the_public_url_says_so(client, db, three_records) -> None:
    response = client.get("/ledger/checkpoint.json")
    assert response.status_code == 404
    assert response.get_json() == {"error": "no_checkpoint"}


# --- the scheduler's daily checkpoint ----------------------------------------------------------------


def test_the_daily_checkpoint_is_written_once_a_day_even_by_two_schedulers(
    app, db, anchored
) -> None:
    from lms.scheduler import run_ledger_checkpoint

    before = len(checkpoints(db))
    tomorrow = clock.now() + timedelta(days=1)
    errors: list[BaseException] = []

    def scheduler_run() -> None:
        try:
            run_ledger_checkpoint(app)
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    with clock.frozen_at(tomorrow):
        runs = [threading.Thread(target=scheduler_run) for _ in range(2)]
        for run in runs:
            run.start()
        for run in runs:
            run.join(timeout=20)
        assert run_ledger_checkpoint(app) is None  # a rerun the same day writes nothing
    assert not errors, errors
    new = checkpoints(db)[before:]
    assert [(c.record_count, c.head_hash) for c in new] == [(3, anchored[-1].record_hash)]
    with clock.frozen_at(tomorrow + timedelta(days=1)):
        assert run_ledger_checkpoint(app) is not None  # the next day, a fresh one
    assert len(checkpoints(db)) == before + 2


def test_the_daily_checkpoint_without_a_key_writes_nothing_and_fails_nothing(app, db) -> None:
    from lms.scheduler import run_ledger_checkpoint

    assert run_ledger_checkpoint(app) is None
    assert checkpoints(db) == []


def test_the_readme_snippet_checks_a_saved_checkpoint_with_pyjwt(
    client, db, anchored, tmp_path, monkeypatch
) -> None:
    """The Python example in the README, run as written; its file is the saved checkpoint and its HTTP
    fetch of the DID document goes to the test client instead of the network."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The sign-off ledger and its signed checkpoints") :]
    start = section.index("```python\n") + len("```python\n")
    code = section[start : section.index("```\n", start)]
    saved = tmp_path / "checkpoint-2027-07-01.json"
    saved.write_bytes(client.get("/ledger/checkpoint.json").data)
    fetched: list[str] = []

    def urlopen(url: str) -> io.BytesIO:
        fetched.append(url)
        return io.BytesIO(client.get("/" + url.split("://", 1)[1].split("/", 1)[1]).data)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monkeypatch.chdir(tmp_path)
    printed: list[tuple[object, ...]] = []
    exec(code, {"print": lambda *values: printed.append(values)})  # noqa: S102 (the README's own code)
    assert fetched == [f"https://{badges.did_domain()}/.well-known/did.json"]
    assert printed == [(3, anchored[-1].record_hash)]


def test_the_demo_anchors_the_ledger_with_its_new_key(runner, db) -> None:
    """The key comes before the demo's sign-offs, so each of their batches is anchored as it is made
    (and a newcomer's first `make run` prints no "no checkpoint written" for each of them)."""
    result = runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Badge signing key ")
    checkpoints = db.session.scalar(sa.select(sa.func.count(LedgerCheckpoint.id)))
    assert checkpoints > 1
    head = db.session.scalar(sa.select(sa.func.max(LedgerCheckpoint.record_count)))
    assert head == db.session.scalar(sa.select(sa.func.count(SignOff.id)))
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert f"Checkpoints: {checkpoints} of {checkpoints} signed checkpoints match" in result.output
