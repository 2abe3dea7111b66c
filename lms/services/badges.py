"""Open Badges 3.0 credentials beside the PDF certificate.

Every certificate has an ``OpenBadgeCredential`` (W3C Verifiable Credentials data model 2.0), built
from the certificate row whenever it is asked for, so nothing extra is stored:

- the issuer is the programme's owner (its name, website, address and logo from the configuration,
  ``lms.services.issuer``), identified by ``did:web:<domain>`` (``BADGE_DID_DOMAIN``,
  default the host of ``BASE_URL``); its DID document at ``/.well-known/did.json`` lists every public
  key, the active one and the older ones;
- the achievement names the programme, its criteria and alignments to the technical competencies and
  the 21st-century skills signed off for it. The four-level scale and the indicators are the
  programme's own; only the names of the 21st-century skills are SLO's, and the credential says so;
- the recipient is a salted SHA-256 hash of their email address (the salt is in the credential);
- ``credentialStatus`` points at bit ``certificate.id`` of the status list (Bitstring Status List
  v1.0) at ``/badges/status/1``, whose bits are set from the database: a revoked (or replaced)
  certificate revokes its credential.

Secured as a VC-JWT (VC-JOSE-COSE): header ``{"alg": "EdDSA", "kid": "<did>#<key id>", "typ": "vc+jwt",
"cty": "vc"}``, payload the credential. The JSON download is the credential with the JWT in ``proof``.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import jwt
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from lms import clock
from lms.extensions import db
from lms.models import Certificate, ChecklistGroup, ChecklistKind, Cohort, Enrolment, Programme
from lms.services import issuer as issuing
from lms.services.badge_keys import BadgeKeyError, public_keys, signing_key
from lms.services.mail import external_url

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
STATUS_LIST_ID = 1
# At least 16 KB of bits (herd privacy, as the specification asks); longer when ids grow past it.
STATUS_LIST_MIN_BITS = 131_072
JWT_MEDIA_TYPE = "application/vc+jwt"
PROOF_TYPE = "JwtProof2020"
MAX_CREDENTIAL_BYTES = 64 * 1024

__all__ = ["BadgeKeyError"]


# --- identities --------------------------------------------------------------------------------


def did_domain() -> str:
    """The did:web domain: ``BADGE_DID_DOMAIN``, or the host (and port) of ``BASE_URL``."""
    configured = current_app.config.get("BADGE_DID_DOMAIN")
    if configured:
        return str(configured)
    return urlsplit(current_app.config["BASE_URL"]).netloc or "localhost"


def issuer_did() -> str:
    """``did:web:example.org``; a port is percent-encoded (``did:web:localhost%3A5000``)."""
    return "did:web:" + did_domain().replace(":", "%3A")


def issuer_name() -> str:
    return issuing.owner().name


def issuer_profile() -> dict[str, Any]:
    """The OB 3.0 ``Profile`` of the programme's owner: name, website, description, postal address
    and logo, each when configured."""
    owner = issuing.owner()
    profile: dict[str, Any] = {
        "id": issuer_did(),
        "type": ["Profile"],
        "name": owner.name,
        "url": owner.url or current_app.config["BASE_URL"].rstrip("/") + "/",
    }
    if owner.description:
        profile["description"] = owner.description
    address = {
        key: value
        for key, value in (
            ("streetAddress", owner.street_address),
            ("postalCode", owner.postal_code),
            ("addressLocality", owner.locality),
            ("addressCountry", owner.country),
        )
        if value
    }
    if address:
        profile["address"] = {"type": ["Address"], **address}
    logo = issuing.logo_url(owner)
    if logo:
        profile["image"] = {"id": logo, "type": "Image", "caption": owner.name}
    return profile


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}


def did_document() -> dict[str, Any]:
    """The did:web DID document: one ``JsonWebKey`` verification method per key, old ones included."""
    did = issuer_did()
    methods = [
        {
            "id": f"{did}#{key_id}",
            "type": "JsonWebKey",
            "controller": did,
            "publicKeyJwk": {**public_jwk(key), "kid": f"{did}#{key_id}"},
        }
        for key_id, key in public_keys().items()
    ]
    ids = [method["id"] for method in methods]
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
        "authentication": ids,
    }


# --- encoding helpers ----------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the credential ------------------------------------------------------------------------------


def status_list_url() -> str:
    return external_url("badges.status_list", list_id=STATUS_LIST_ID)


def recipient_salt(certificate: Certificate) -> str:
    """A salt of its own per certificate, stable (derived from the secret verification code)."""
    return hashlib.sha256(f"badge-salt:{certificate.verification_code}".encode()).hexdigest()[:32]


def identity_hash(email: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def credential_id(certificate: Certificate) -> str:
    return "urn:uuid:" + str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"vakkracht:certificate:{certificate.verification_code}")
    )


def _load(certificate_id: int) -> Certificate:
    certificate = db.session.scalar(
        sa.select(Certificate)
        .where(Certificate.id == certificate_id)
        .options(
            joinedload(Certificate.enrolment).joinedload(Enrolment.participant),
            joinedload(Certificate.enrolment)
            .joinedload(Enrolment.cohort)
            .joinedload(Cohort.programme)
            .selectinload(Programme.checklist_groups)
            .selectinload(ChecklistGroup.items),
        )
    )
    if certificate is None:
        raise LookupError(certificate_id)
    return certificate


def _scale_text(programme: Programme) -> str:
    """The levels the curriculum names, in order: "1. Met begeleiding, 2. ..."."""
    entries = sorted(programme.levels or [], key=lambda entry: int(entry["level"]))
    return ", ".join(f"{entry['level']}. {entry.get('name', '')}".strip() for entry in entries)


def build_credential(certificate: Certificate) -> dict[str, Any]:
    """The unsigned ``OpenBadgeCredential`` of ``certificate`` (the same every time it is built)."""
    certificate = _load(certificate.id)
    enrolment = certificate.enrolment
    programme = enrolment.cohort.programme
    achievement_id = f"urn:vakkracht:programme:{programme.code}:v{programme.version}"
    groups = sorted(programme.checklist_groups, key=lambda group: group.position)
    salt = recipient_salt(certificate)
    with force_locale("nl"):
        alignment = [
            {
                "type": ["Alignment"],
                "targetName": group.title,
                "targetDescription": group.description
                or ", ".join(item.title for item in group.items),
                "targetCode": group.code,
                "targetFramework": _("Technical competencies")
                if group.kind is ChecklistKind.TECHNICAL
                else _("21st-century skills (names as defined by SLO)"),
                "targetType": "ceasn:Competency"
                if group.kind is ChecklistKind.TECHNICAL
                else "ext:21stCenturySkill",
                "targetUrl": f"{achievement_id}:{group.code}",
            }
            for group in groups
        ]
        title = certificate.programme_title or programme.title
        achievement = {
            "id": achievement_id,
            "type": ["Achievement"],
            "achievementType": "Certificate",
            "name": title,
            "description": programme.description
            or _(
                "Dual programme of work and learning, mbo level %(level)d.", level=programme.level
            ),
            "criteria": {
                "narrative": _(
                    "Every assignment of the programme approved by the trainer, and every"
                    " technical competency and 21st-century skill of the checklist signed off at"
                    " its required level during the programme year at the workplace."
                )
                + " "
                + _(
                    "Levels and indicators are the programme's own assessment scale"
                    " (%(levels)s); only the names of the 21st-century skills are SLO's.",
                    levels=_scale_text(programme),
                )
            },
            "alignment": alignment,
            "creator": issuer_profile(),
            "inLanguage": "nl",
        }
        name = _("Certificate %(programme)s", programme=title)
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": credential_id(certificate),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": name,
        "issuer": issuer_profile(),
        "validFrom": _timestamp(certificate.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": identity_hash(enrolment.participant.email, salt),
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": salt,
                }
            ],
            "achievement": achievement,
        },
        "credentialStatus": {
            "id": f"{status_list_url()}#{certificate.id}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(certificate.id),
            "statusListCredential": status_list_url(),
        },
    }


def sign(payload: dict[str, Any]) -> str:
    """``payload`` as a VC-JWT, signed with the active key. ``BadgeKeyError`` without one."""
    key = signing_key()
    return jwt.encode(
        payload,
        key.private_key,
        algorithm="EdDSA",
        headers={"kid": f"{issuer_did()}#{key.key_id}", "typ": "vc+jwt", "cty": "vc"},
    )


def credential_jwt(certificate: Certificate) -> str:
    return sign(build_credential(certificate))


def with_proof(credential: dict[str, Any], token: str) -> dict[str, Any]:
    """The credential to read, with its signed form (the JWT) as ``proof``."""
    return {**credential, "proof": {"type": PROOF_TYPE, "jwt": token}}


def credential_json(certificate: Certificate) -> dict[str, Any]:
    credential = build_credential(certificate)
    return with_proof(credential, sign(credential))


# --- the status list -----------------------------------------------------------------------------


def revoked_ids() -> set[int]:
    """The ids of revoked certificates (replaced ones included). One query."""
    return set(
        db.session.scalars(sa.select(Certificate.id).where(Certificate.revoked_at.is_not(None)))
    )


def encode_bitstring(revoked: set[int]) -> str:
    """Multibase base64url (``u`` prefix, no padding) of the GZIP-compressed bitstring; bit 0 is the
    left-most bit of the first byte."""
    size = max(STATUS_LIST_MIN_BITS, ((max(revoked, default=0) // 8) + 1) * 8)
    bits = bytearray(size // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    return "u" + b64url(gzip.compress(bytes(bits), mtime=0))


def decode_bitstring(encoded: str) -> bytes:
    return gzip.decompress(b64url_decode(encoded.removeprefix("u")))


def bit_is_set(bits: bytes, index: int) -> bool:
    return index // 8 < len(bits) and bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_list_credential() -> dict[str, Any]:
    url = status_list_url()
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did(),
        "validFrom": _timestamp(clock.now()),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_bitstring(revoked_ids()),
        },
    }


# --- verification (the public page) ---------------------------------------------------------------


class UnreadableCredential(ValueError):
    """Not a credential this page can read; the message says why, in the user's language."""


@dataclass(frozen=True)
class Check:
    ok: bool | None  # None: could not be checked
    message: str


@dataclass
class CredentialReport:
    signature: Check
    issuer: Check
    status: Check
    credential: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return bool(self.signature.ok and self.issuer.ok and self.status.ok)

    @property
    def name(self) -> str:
        value = self.credential.get("name")
        return value if isinstance(value, str) else ""


def _split_input(text: str) -> tuple[str, dict[str, Any] | None]:
    """The compact JWT and, for JSON input, the readable credential beside it."""
    text = text.strip().lstrip("\ufeff")
    if not text:
        raise UnreadableCredential(_("Paste a credential or choose a file."))
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            raise UnreadableCredential(
                _("This is not a credential: the text is not valid JSON.")
            ) from None
        if not isinstance(document, dict):
            raise UnreadableCredential(_("This is not a credential."))
        proof = document.get("proof")
        if isinstance(proof, dict) and isinstance(proof.get("jwt"), str):
            readable = {key: value for key, value in document.items() if key != "proof"}
            return proof["jwt"].strip(), readable
        envelope = document.get("id")
        prefix = f"data:{JWT_MEDIA_TYPE},"
        if isinstance(envelope, str) and envelope.startswith(prefix):
            return envelope[len(prefix) :].strip(), None
        raise UnreadableCredential(
            _("This credential has no signature (no JWT): it cannot be checked.")
        )
    return "".join(text.split()), None


def _read_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise UnreadableCredential(
            _("This is not a credential: expected a JWT (three parts separated by dots) or JSON.")
        )
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
    except (ValueError, RecursionError, binascii.Error):
        raise UnreadableCredential(_("This is not a credential: the JWT cannot be read.")) from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise UnreadableCredential(_("This is not a credential: the JWT cannot be read."))
    types = payload.get("type")
    if not isinstance(types, list) or "OpenBadgeCredential" not in types:
        raise UnreadableCredential(_("This is not an Open Badges credential."))
    return header, payload


def _issuer_id(payload: dict[str, Any]) -> str:
    issuer = payload.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else ""


def _check_issuer(header: dict[str, Any], payload: dict[str, Any]) -> Check:
    did = issuer_did()
    kid = header.get("kid")
    if _issuer_id(payload) != did:
        return Check(
            False, _("Not issued by %(issuer)s: another issuer is named.", issuer=issuer_name())
        )
    if not isinstance(kid, str) or not kid.startswith(did + "#"):
        return Check(
            False, _("The signing key does not belong to %(issuer)s.", issuer=issuer_name())
        )
    return Check(True, _("Issued by %(issuer)s (%(did)s).", issuer=issuer_name(), did=did))


def _check_signature(
    token: str, header: dict[str, Any], payload: dict[str, Any], readable: dict[str, Any] | None
) -> Check:
    if header.get("alg") != "EdDSA":
        return Check(False, _("The signature does not hold: unknown signing method."))
    kid = header.get("kid")
    did = issuer_did()
    key_id = kid[len(did) + 1 :] if isinstance(kid, str) and kid.startswith(did + "#") else ""
    key = public_keys().get(key_id)
    if key is None:
        return Check(
            False, _("The signature cannot be checked: the key it names is not published.")
        )
    try:
        jwt.decode(
            token,
            key,
            algorithms=["EdDSA"],
            options={
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
            },
        )
    except jwt.InvalidTokenError:
        return Check(False, _("The signature does not hold: the credential has been changed."))
    if readable is not None and readable != payload:
        return Check(
            False, _("The signature does not hold: the readable part differs from the signed part.")
        )
    return Check(True, _("The signature holds: the credential is unchanged since it was issued."))


def _check_status(payload: dict[str, Any]) -> Check:
    entry = payload.get("credentialStatus")
    if isinstance(entry, list):
        entry = next(
            (e for e in entry if isinstance(e, dict) and e.get("statusPurpose") == "revocation"),
            None,
        )
    if (
        not isinstance(entry, dict)
        or entry.get("type") != "BitstringStatusListEntry"
        or entry.get("statusListCredential") != status_list_url()
    ):
        return Check(None, _("No revocation status from this issuer in the credential."))
    try:
        index = int(str(entry.get("statusListIndex")))
    except ValueError:
        return Check(None, _("The revocation status cannot be read."))
    certificate = db.session.get(Certificate, index) if 0 <= index < 2**31 else None
    if certificate is None:
        return Check(False, _("The issuer does not know this credential."))
    if certificate.is_revoked:  # the same rule as the status list (revoked_ids)
        if certificate.replaced_by is not None:
            return Check(False, _("Revoked: the certificate has been replaced by a new one."))
        return Check(False, _("Revoked: the certificate is no longer valid."))
    return Check(True, _("Not revoked: the certificate is valid."))


def verify_credential(text: str) -> CredentialReport:
    """Check a pasted or uploaded credential (a VC-JWT, or JSON with the JWT as proof): signature,
    issuer and revocation status, each on its own. ``UnreadableCredential`` for anything else."""
    if len(text.encode("utf-8", "replace")) > MAX_CREDENTIAL_BYTES:
        raise UnreadableCredential(
            _(
                "This is too large to be a credential (at most %(kb)d KB).",
                kb=MAX_CREDENTIAL_BYTES // 1024,
            )
        )
    token, readable = _split_input(text)
    header, payload = _read_jwt(token)
    issuer = _check_issuer(header, payload)
    signature = _check_signature(token, header, payload, readable)
    if signature.ok:
        status = _check_status(payload)
    else:
        status = Check(None, _("Not checked: the signature does not hold."))
    return CredentialReport(signature=signature, issuer=issuer, status=status, credential=payload)
