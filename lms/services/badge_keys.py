"""The Ed25519 keys that sign Open Badges credentials, kept as files outside the database.

The key directory (``BADGE_KEY_DIR``, default ``<instance>/badge-keys``) holds, per key:

- ``<key id>.key``: the private key (PKCS#8 PEM, file mode 0600);
- ``<key id>.pub``: its public key (SubjectPublicKeyInfo PEM);

and ``active``: the id of the key that signs new credentials. ``flask --app wsgi lms badges keygen``
creates the first key (and does nothing when there is one), ``... badges rotate`` makes a new active key.
Older public keys stay, so credentials signed with them keep verifying; the JWT header names its key.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

KEY_ID = re.compile(r"^key-[0-9]{8}-[0-9a-f]{8}$")
ACTIVE_FILE = "active"


class BadgeKeyError(RuntimeError):
    """No usable signing key (none created yet, or the key directory is damaged)."""


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private_key: Ed25519PrivateKey


def key_dir() -> Path:
    return Path(current_app.config["BADGE_KEY_DIR"])


def _write(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` from the start (never readable by others, not even briefly)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)


def create_key(directory: Path, now: datetime) -> str:
    """A new Ed25519 key pair in ``directory``, made the active key. Returns its id."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_id = f"key-{now:%Y%m%d}-{secrets.token_hex(4)}"
    private_key = Ed25519PrivateKey.generate()
    _write(
        directory / f"{key_id}.key",
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        0o600,
    )
    _write(
        directory / f"{key_id}.pub",
        private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        0o644,
    )
    active = directory / ACTIVE_FILE
    temporary = directory / f".{ACTIVE_FILE}.{secrets.token_hex(4)}"
    _write(temporary, (key_id + "\n").encode(), 0o644)
    temporary.replace(active)
    return key_id


def active_key_id(directory: Path) -> str | None:
    try:
        key_id = (directory / ACTIVE_FILE).read_text().strip()
    except FileNotFoundError:
        return None
    if not KEY_ID.match(key_id):
        raise BadgeKeyError(f"{directory / ACTIVE_FILE}: not a key id: {key_id!r}")
    return key_id


def ensure_key(directory: Path, now: datetime) -> tuple[str, bool]:
    """The active key id, creating a first key when there is none; and whether it was created."""
    key_id = active_key_id(directory)
    if key_id is not None:
        return key_id, False
    return create_key(directory, now), True


def signing_key(directory: Path | None = None) -> SigningKey:
    """The active private key. ``BadgeKeyError`` when there is none."""
    directory = directory or key_dir()
    key_id = active_key_id(directory)
    if key_id is None:
        raise BadgeKeyError(f"no badge signing key in {directory}")
    try:
        data = (directory / f"{key_id}.key").read_bytes()
    except FileNotFoundError:
        raise BadgeKeyError(f"{directory / key_id}.key is missing") from None
    private_key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise BadgeKeyError(f"{key_id} is not an Ed25519 key")
    return SigningKey(key_id, private_key)


def public_keys(directory: Path | None = None) -> dict[str, Ed25519PublicKey]:
    """Every published public key by id, oldest first (ids start with their creation date)."""
    directory = directory or key_dir()
    if not directory.is_dir():
        return {}
    keys: dict[str, Ed25519PublicKey] = {}
    for path in sorted(directory.glob("key-*.pub")):
        key_id = path.name.removesuffix(".pub")
        if not KEY_ID.match(key_id):
            continue
        public_key = serialization.load_pem_public_key(path.read_bytes())
        if isinstance(public_key, Ed25519PublicKey):
            keys[key_id] = public_key
    return keys
