"""Signed checkpoints of the sign-off ledger's head, and checking the ledger against them.

The hash chain alone shows a record changed in place, but not a record rewritten with every later hash
recomputed, nor the last records deleted: both leave a chain that holds. A checkpoint anchors the head:
the number of records and the hash of the last one, signed with the application's Ed25519 key (the key
of the digital badges, ``lms.services.badge_keys``, published in ``/.well-known/did.json``) and kept in
its own table. The latest one is public (``/ledger/checkpoint.json``), so a funder or auditor can save it
and later catch a rewrite even when the checkpoints table itself was emptied.

The signature is a compact JWS (EdDSA): header ``{"alg": "EdDSA", "kid": "<did>#<key id>", "typ":
"ledger-checkpoint+jwt"}``, payload ``{"type": "LedgerCheckpoint", "iss": "<did>", "issuer": "<name>",
"count": N, "head_id": …, "head_hash": "…", "created_at": "…Z", "iat": …}``.

Without a signing key (a fresh install, the tests) no checkpoint is written and a sign-off still
succeeds; ``lms ledger verify`` says the head is not anchored. Writing is the caller's job under the
ledger lock (``lms.services.signoff``); functions flush, never commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
import sqlalchemy as sa
from flask import current_app

from lms.extensions import db
from lms.models import LedgerCheckpoint, SignOff
from lms.models.signoffs import GENESIS_HASH
from lms.services import badges
from lms.services.badge_keys import BadgeKeyError, public_keys, signing_key
from lms.services.mail import external_url

PAYLOAD_TYPE = "LedgerCheckpoint"
JWS_TYPE = "ledger-checkpoint+jwt"  # the JWS header's "typ"


class UnreadableCheckpoint(ValueError):
    """Not a checkpoint: neither a compact JWS nor the JSON that the public URL serves."""


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- writing ------------------------------------------------------------------------------------


def write_checkpoint(head: SignOff | None, at: datetime) -> LedgerCheckpoint | None:
    """A signed checkpoint of ``head`` (the ledger's last record; ``None`` when empty).

    The caller holds the ledger lock, so ``head`` is the last record and stays so until commit. Without
    a usable key nothing is written (``None``): a sign-off must not fail for want of a checkpoint.
    """
    try:
        key = signing_key()
    except (BadgeKeyError, OSError, ValueError) as error:
        current_app.logger.warning("ledger: no checkpoint written (%s)", error)
        return None
    count = head.sequence if head is not None else 0
    head_hash = head.record_hash if head is not None else GENESIS_HASH
    kid = f"{badges.issuer_did()}#{key.key_id}"
    payload = {
        "type": PAYLOAD_TYPE,
        "iss": badges.issuer_did(),
        "issuer": badges.issuer_name(),
        "count": count,
        "head_id": head.id if head is not None else None,
        "head_hash": head_hash,
        "created_at": _timestamp(at),
        "iat": int(at.timestamp()),
    }
    checkpoint = LedgerCheckpoint(
        created_at=at,
        record_count=count,
        head_id=payload["head_id"],
        head_hash=head_hash,
        key_id=kid,
        signature=jwt.encode(
            payload, key.private_key, algorithm="EdDSA", headers={"kid": kid, "typ": JWS_TYPE}
        ),
    )
    db.session.add(checkpoint)
    db.session.flush()
    return checkpoint


def latest_checkpoint() -> LedgerCheckpoint | None:
    return db.session.scalar(
        sa.select(LedgerCheckpoint).order_by(LedgerCheckpoint.id.desc()).limit(1)
    )


def public_document(checkpoint: LedgerCheckpoint) -> dict[str, Any]:
    """What ``/ledger/checkpoint.json`` serves: the signed facts to read, and the JWS that proves them."""
    return {
        "type": PAYLOAD_TYPE,
        "issuer": badges.issuer_did(),
        "created_at": _timestamp(checkpoint.created_at),
        "count": checkpoint.record_count,
        "head_id": checkpoint.head_id,
        "head_hash": checkpoint.head_hash,
        "kid": checkpoint.key_id,
        "did_document": external_url("badges.did_document"),
        "signature": checkpoint.signature,
    }


# --- checking -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointCheck:
    """One checkpoint checked against the ledger: ``problem`` is empty when it matches."""

    label: str
    count: int
    problem: str = ""


def read_saved(text: str) -> str:
    """The JWS in a saved checkpoint: the JSON from the public URL, or the JWS on its own."""
    text = text.strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            raise UnreadableCheckpoint("not JSON that can be read") from None
        token = document.get("signature") if isinstance(document, dict) else None
        if not isinstance(token, str):
            raise UnreadableCheckpoint('the JSON has no "signature" (the signed checkpoint)')
        return token.strip()
    return text


def _signed_payload(token: str) -> tuple[dict[str, Any] | None, str]:
    """The payload of a checkpoint JWS whose signature holds with a published key; else the reason."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return None, "the signature cannot be read (not a compact JWS)"
    kid = header.get("kid")
    did = badges.issuer_did()
    if header.get("alg") != "EdDSA" or not isinstance(kid, str) or not kid.startswith(did + "#"):
        return None, f"signed with an unknown key or method (kid {kid!r}, not one of {did})"
    key = public_keys().get(kid[len(did) + 1 :])
    if key is None:
        return None, f"signed with key {kid}, which is not published in /.well-known/did.json"
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=["EdDSA"],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
    except jwt.InvalidTokenError:
        return None, "the signature does not hold (the checkpoint was changed after it was signed)"
    if payload.get("type") != PAYLOAD_TYPE or payload.get("iss") != did:
        return None, "the signature holds, but it is not a ledger checkpoint of this issuer"
    if not isinstance(payload.get("count"), int) or not isinstance(payload.get("head_hash"), str):
        return None, "the signature holds, but the checkpoint has no count and head hash"
    return payload, ""


def _against_ledger(payload: dict[str, Any], total: int, hashes: dict[int, str]) -> str:
    count, head_hash = payload["count"], payload["head_hash"]
    when = payload.get("created_at", "?")
    if total < count:
        return (
            f"TRUNCATED: the signed checkpoint of {when} says the ledger had {count} records;"
            f" it has {total} now (records were deleted)"
        )
    if count == 0:
        return ""
    if count not in hashes:
        return f"REWRITTEN: there is no record at position {count}, which the checkpoint of {when} signed"
    if hashes[count] != head_hash:
        return (
            f"REWRITTEN: the record at position {count} has hash {hashes[count][:16]}…, but the"
            f" signed checkpoint of {when} says {head_hash[:16]}… (records up to it were changed"
            " and their hashes recomputed)"
        )
    return ""


def check_checkpoints(saved: dict[str, str] | None = None) -> list[CheckpointCheck]:
    """Check every stored checkpoint, and each saved one (label -> JWS), against the ledger as it is:
    signature valid with a published key, the stored row equal to what was signed, the ledger at
    least as long as the checkpoint says and its record at position ``count`` with the signed hash."""
    db.session.flush()
    hashes: dict[int, str] = {
        sequence: record_hash
        for sequence, record_hash in db.session.execute(
            sa.select(SignOff.sequence, SignOff.record_hash)
        )
    }
    total = len(hashes)
    results: list[CheckpointCheck] = []
    stored = db.session.scalars(
        sa.select(LedgerCheckpoint)
        .order_by(LedgerCheckpoint.id)
        .execution_options(populate_existing=True)
    ).all()
    for checkpoint in stored:
        label = f"checkpoint #{checkpoint.id} ({_timestamp(checkpoint.created_at)})"
        payload, problem = _signed_payload(checkpoint.signature)
        if payload is not None and (
            payload["count"] != checkpoint.record_count
            or payload["head_hash"] != checkpoint.head_hash
            or payload.get("head_id") != checkpoint.head_id
        ):
            problem = "the stored count or head hash differs from what was signed"
        if payload is not None and not problem:
            problem = _against_ledger(payload, total, hashes)
        results.append(CheckpointCheck(label, checkpoint.record_count, problem))
    for label, token in (saved or {}).items():
        payload, problem = _signed_payload(token)
        if payload is not None:
            problem = _against_ledger(payload, total, hashes)
        results.append(CheckpointCheck(label, payload["count"] if payload else 0, problem))
    return results
