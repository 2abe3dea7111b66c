"""Open Badges 3.0 credentials beside the PDF certificate: keys, the credential, its VC-JWT, the DID
document, the status list, revocation, rotation, downloads and the public check.

The independent verifier below uses only ``cryptography``, base64 and json on what the app publishes
(``/.well-known/did.json`` and the status list): none of the application's verification code."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from lms import clock
from lms.extensions import db as _db
from lms.models import Role
from lms.services import badge_keys, badges
from lms.services import certificates as service
from tests.certificate_helpers import make_eligible_enrolment
from tests.conftest import CSRF_PATTERN
from tests.factories import PASSWORD, make_user

NOW = datetime(2027, 7, 2, 10, tzinfo=clock.LOCAL_TZ)
LATER = datetime(2027, 9, 1, 10, tzinfo=clock.LOCAL_TZ)


# --- an independent verifier: cryptography + base64 + json only ------------------------------------


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class NotVerified(Exception):
    pass


def independent_verify(token: str, did_document: dict[str, Any]) -> dict[str, Any]:
    """Verify a compact VC-JWT against the public keys in a did:web document; the payload if the
    signature holds, ``NotVerified`` otherwise."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(b64decode(header_b64))
    if header.get("alg") != "EdDSA":
        raise NotVerified("alg")
    methods = {method["id"]: method for method in did_document["verificationMethod"]}
    method = methods.get(header["kid"])
    if method is None or header["kid"] not in did_document["assertionMethod"]:
        raise NotVerified("unknown key")
    jwk = method["publicKeyJwk"]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519"
    key = Ed25519PublicKey.from_public_bytes(b64decode(jwk["x"]))
    try:
        key.verify(b64decode(signature_b64), f"{header_b64}.{payload_b64}".encode("ascii"))
    except InvalidSignature:
        raise NotVerified("signature") from None
    payload = json.loads(b64decode(payload_b64))
    if payload["issuer"]["id"] != did_document["id"] or not header["kid"].startswith(
        did_document["id"] + "#"
    ):
        raise NotVerified("issuer")
    return payload


def independent_revoked(payload: dict[str, Any], status_list_token: str, did: dict) -> bool:
    """Whether the status list (itself a VC-JWT, verified the same way) has the credential's bit set."""
    entry = payload["credentialStatus"]
    header_b64, list_b64, _sig = status_list_token.split(".")
    status_list = json.loads(b64decode(list_b64))
    # The list is signed by the issuer too.
    header = json.loads(b64decode(header_b64))
    key = Ed25519PublicKey.from_public_bytes(
        b64decode(
            {m["id"]: m for m in did["verificationMethod"]}[header["kid"]]["publicKeyJwk"]["x"]
        )
    )
    key.verify(b64decode(_sig), f"{header_b64}.{list_b64}".encode())
    assert status_list["id"] == entry["statusListCredential"]
    encoded = status_list["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")  # multibase base64url
    bits = gzip.decompress(b64decode(encoded[1:]))
    assert len(bits) >= 16 * 1024
    index = int(entry["statusListIndex"])
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def coordinator(db):  # type: ignore[no-untyped-def]
    return make_user(Role.COORDINATOR, first_name="Corrie", last_name="Coördinator")


@pytest.fixture
def key(app):  # type: ignore[no-untyped-def]
    return badge_keys.ensure_key(badge_keys.key_dir(), NOW)[0]


@pytest.fixture
def certificate(db, coordinator):  # type: ignore[no-untyped-def]
    participant = make_user(first_name="Zoë", last_name="Çelik", email="zoe.celik@example.org")
    enrolment = make_eligible_enrolment(participant=participant)
    issued = service.issue_certificate(enrolment, actor=coordinator, now=NOW)
    db.session.commit()
    return issued


def published(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get("/.well-known/did.json")
    assert response.status_code == 200
    assert response.mimetype == "application/did+json"
    return json.loads(response.get_data())


def status_list_jwt(client) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/badges/status/1.jwt")
    assert response.status_code == 200
    assert response.mimetype == "application/vc+jwt"
    return response.get_data(as_text=True)


def login(client, user) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    token = CSRF_PATTERN.search(page.get_data(as_text=True)).group(1)
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


# --- keys ----------------------------------------------------------------------------------------


def test_keygen_writes_a_private_key_only_its_owner_can_read_and_is_idempotent(app, runner):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["lms", "badges", "keygen"])
    assert result.exit_code == 0, result.output
    assert "created" in result.output
    directory = badge_keys.key_dir()
    (private,) = directory.glob("key-*.key")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    again = runner.invoke(args=["lms", "badges", "keygen"])
    assert "nothing changed" in again.output
    assert len(list(directory.glob("key-*.key"))) == 1
    listing = runner.invoke(args=["lms", "badges", "keys"])
    assert f"* did:web:127.0.0.1%3A5000#{private.stem}" in listing.output


def test_without_a_key_the_participant_gets_a_clear_message(app, client, certificate):  # type: ignore[no-untyped-def]
    login(client, certificate.enrolment.participant)
    response = client.get(f"/certificates/{certificate.id}/credential.jwt", follow_redirects=True)
    assert "signing key is missing" in response.get_data(as_text=True) or (
        "ondertekeningssleutel ontbreekt" in response.get_data(as_text=True)
    )


def test_did_document_publishes_the_key_as_a_did_web_json_web_key(app, client, key):  # type: ignore[no-untyped-def]
    document = published(client)
    did = "did:web:127.0.0.1%3A5000"  # BASE_URL's host, the port's colon encoded
    assert document["id"] == did
    (method,) = document["verificationMethod"]
    assert method["id"] == f"{did}#{key}"
    assert method["type"] == "JsonWebKey"
    assert method["controller"] == did
    assert method["publicKeyJwk"]["kty"] == "OKP" and method["publicKeyJwk"]["crv"] == "Ed25519"
    assert "d" not in method["publicKeyJwk"]  # never the private part
    assert document["assertionMethod"] == [method["id"]]


def test_configured_domain_names_the_issuer(app, key, certificate):  # type: ignore[no-untyped-def]
    app.config["BADGE_DID_DOMAIN"] = "vakkracht.example"
    credential = badges.build_credential(certificate)
    assert credential["issuer"]["id"] == "did:web:vakkracht.example"


# --- the credential -------------------------------------------------------------------------------


def test_credential_is_an_open_badge_with_hashed_recipient_alignments_and_status(
    app, key, certificate
):  # type: ignore[no-untyped-def]
    credential = badges.build_credential(certificate)
    assert credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert "OpenBadgeCredential" in credential["type"]
    assert credential["validFrom"] == "2027-07-02T08:00:00Z"
    assert credential["issuer"]["name"] == "Vakkracht MKB Zuid-Limburg"
    subject = credential["credentialSubject"]
    (identity,) = subject["identifier"]
    assert identity["hashed"] is True and identity["identityType"] == "emailAddress"
    expected = hashlib.sha256(("zoe.celik@example.org" + identity["salt"]).encode()).hexdigest()
    assert identity["identityHash"] == "sha256$" + expected
    assert "zoe.celik@example.org" not in json.dumps(credential)
    achievement = subject["achievement"]
    assert achievement["name"] == certificate.programme_title
    assert achievement["criteria"]["narrative"]
    targets = {a["targetName"]: a["targetType"] for a in achievement["alignment"]}
    assert targets["Veiligheid"] == "ceasn:Competency"
    assert targets["ICT-basisvaardigheden"] == "ext:21stCenturySkill"
    status = credential["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusPurpose"] == "revocation"
    assert status["statusListIndex"] == str(certificate.id)
    assert status["statusListCredential"] == "http://127.0.0.1:5000/badges/status/1"
    assert badges.build_credential(certificate) == credential  # the same every time


def test_credential_verifies_with_an_independent_verifier_and_a_changed_byte_fails(
    app, client, key, certificate
):  # type: ignore[no-untyped-def]
    token = badges.credential_jwt(certificate)
    did = published(client)
    header = json.loads(b64decode(token.split(".")[0]))
    assert header == {"alg": "EdDSA", "kid": f"{did['id']}#{key}", "typ": "vc+jwt", "cty": "vc"}
    payload = independent_verify(token, did)
    assert payload == badges.build_credential(certificate)
    assert independent_revoked(payload, status_list_jwt(client), did) is False

    # One byte of the payload changed (the name): the signature fails.
    header_b64, payload_b64, signature_b64 = token.split(".")
    changed = json.loads(b64decode(payload_b64))
    changed["name"] = changed["name"].replace("Certificaat", "Certificaaat")
    forged = ".".join(
        [
            header_b64,
            base64.urlsafe_b64encode(json.dumps(changed).encode()).decode().rstrip("="),
            signature_b64,
        ]
    )
    with pytest.raises(NotVerified):
        independent_verify(forged, did)
    raw = bytearray(token.encode())
    raw[len(header_b64) + 10] ^= 0x01
    with pytest.raises((NotVerified, ValueError)):
        independent_verify(raw.decode(), did)
    report = badges.verify_credential(forged)
    assert report.signature.ok is False and not report.valid


def test_revoking_the_certificate_revokes_the_credential(
    app, client, key, certificate, coordinator
):  # type: ignore[no-untyped-def]
    token = badges.credential_jwt(certificate)
    assert badges.verify_credential(token).valid
    service.revoke_certificate(certificate, actor=coordinator, reason="Fraude", now=LATER)
    _db.session.commit()

    did = published(client)
    payload = independent_verify(token, did)  # the signature still holds...
    assert independent_revoked(payload, status_list_jwt(client), did) is True  # ...but revoked
    report = badges.verify_credential(token)
    assert report.signature.ok and report.issuer.ok
    assert report.status.ok is False and not report.valid
    # The JSON form of the list says the same, with the JWT as its proof.
    listed = json.loads(client.get("/badges/status/1").get_data())
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert badges.bit_is_set(
        badges.decode_bitstring(listed["credentialSubject"]["encodedList"]), certificate.id
    )
    assert listed["proof"]["jwt"].count(".") == 2


def test_rotation_keeps_an_older_credential_valid(app, client, runner, key, certificate):  # type: ignore[no-untyped-def]
    old_token = badges.credential_jwt(certificate)
    result = runner.invoke(args=["lms", "badges", "rotate"])
    assert result.exit_code == 0, result.output
    new_key = badge_keys.active_key_id(badge_keys.key_dir())
    assert new_key != key
    new_token = badges.credential_jwt(certificate)
    did = published(client)
    assert len(did["verificationMethod"]) == 2
    assert json.loads(b64decode(new_token.split(".")[0]))["kid"].endswith("#" + new_key)
    assert json.loads(b64decode(old_token.split(".")[0]))["kid"].endswith("#" + key)
    assert independent_verify(old_token, did) == independent_verify(new_token, did)
    assert badges.verify_credential(old_token).valid
    assert badges.verify_credential(new_token).valid


def test_a_key_that_is_not_published_does_not_verify(app, client, key, certificate, tmp_path):  # type: ignore[no-untyped-def]
    token = badges.credential_jwt(certificate)
    app.config["BADGE_KEY_DIR"] = str(
        tmp_path / "other-keys"
    )  # another key set, same key id unlikely
    badge_keys.ensure_key(badge_keys.key_dir(), NOW)
    with pytest.raises(NotVerified):
        independent_verify(token, published(client))
    report = badges.verify_credential(token)
    assert report.signature.ok is False
    assert report.status.ok is None  # not checked without a signature that holds


def test_another_issuer_is_reported(app, key, certificate):  # type: ignore[no-untyped-def]
    credential = badges.build_credential(certificate)
    credential["issuer"] = {**credential["issuer"], "id": "did:web:elders.example"}
    report = badges.verify_credential(badges.sign(credential))
    assert report.signature.ok is True  # our key did sign it...
    assert report.issuer.ok is False  # ...but it names another issuer
    assert not report.valid


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hallo",
        "a.b.c",
        "{not json",
        "[1, 2]",
        '{"type": ["VerifiableCredential"]}',
        "eyJhbGciOiJFZERTQSJ9.eyJ0eXBlIjpbIlgiXX0.c2ln",
        "eyJhbGciOiJFZERTQSJ9.eyJ0eXBlIjo1fQ.c2ln",  # "type": 5
        '{"a": ' + "[" * 20_000 + "]" * 20_000 + "}",  # nested too deep for the parser
        '{"proof": {"jwt": "no.jwt.here"}}',
        "\ufeff",
    ],
)
def test_garbage_is_refused_with_a_message(app, key, text):  # type: ignore[no-untyped-def]
    with pytest.raises(badges.UnreadableCredential) as error:
        badges.verify_credential(text)
    assert str(error.value)


@pytest.mark.parametrize("index", ["-1", "99999999999999999999", "zeven", None])
def test_a_signed_credential_with_a_strange_status_index_is_not_valid(app, key, certificate, index):  # type: ignore[no-untyped-def]
    credential = badges.build_credential(certificate)
    credential["credentialStatus"]["statusListIndex"] = index
    report = badges.verify_credential(badges.sign(credential))
    assert report.signature.ok and report.issuer.ok
    assert report.status.ok is not True and not report.valid


def test_an_enveloped_credential_is_checked_too(app, key, certificate):  # type: ignore[no-untyped-def]
    """VCDM 2.0's EnvelopedVerifiableCredential: the JWT in a data: URL."""
    token = badges.credential_jwt(certificate)
    envelope = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "data:application/vc+jwt," + token,
        "type": "EnvelopedVerifiableCredential",
    }
    assert badges.verify_credential(json.dumps(envelope)).valid


def test_json_whose_readable_part_differs_from_the_jwt_fails(app, key, certificate):  # type: ignore[no-untyped-def]
    document = badges.credential_json(certificate)
    assert badges.verify_credential(json.dumps(document)).valid
    document["name"] = "Certificaat Hartchirurgie"
    report = badges.verify_credential(json.dumps(document))
    assert report.signature.ok is False


# --- pages ---------------------------------------------------------------------------------------


def test_participant_downloads_json_and_jwt_from_the_certificate_page(
    app, client, key, certificate
):  # type: ignore[no-untyped-def]
    login(client, certificate.enrolment.participant)
    page = client.get("/certificates/").get_data(as_text=True)
    assert f"/certificates/{certificate.id}/credential.json" in page
    assert f"/certificates/{certificate.id}/credential.jwt" in page
    home = client.get("/dashboard/participant").get_data(as_text=True)
    assert f"/certificates/{certificate.id}/credential.json" in home

    as_jwt = client.get(f"/certificates/{certificate.id}/credential.jwt")
    assert as_jwt.status_code == 200 and as_jwt.mimetype == "application/vc+jwt"
    assert "attachment" in as_jwt.headers["Content-Disposition"]
    token = as_jwt.get_data(as_text=True)
    did = published(client)
    independent_verify(token, did)

    as_json = client.get(f"/certificates/{certificate.id}/credential.json")
    assert as_json.status_code == 200 and as_json.mimetype == "application/json"
    document = json.loads(as_json.get_data())
    assert document["proof"]["jwt"] == token
    assert {k: v for k, v in document.items() if k != "proof"} == independent_verify(token, did)


def test_employer_cannot_download_the_participants_credential(app, client, key, certificate):  # type: ignore[no-untyped-def]
    employer = make_user(Role.EMPLOYER, employer=certificate.enrolment.employer)
    _db.session.commit()
    login(client, employer)
    assert client.get(f"/certificates/{certificate.id}/credential.json").status_code == 404


def test_coordinator_finds_the_badge_beside_the_certificate(
    app, client, key, certificate, coordinator
):  # type: ignore[no-untyped-def]
    login(client, coordinator)
    page = client.get(f"/certificates/enrolment/{certificate.enrolment_id}").get_data(as_text=True)
    assert f"/certificates/{certificate.id}/credential.json" in page
    response = client.get(f"/certificates/{certificate.id}/credential.json")
    assert response.status_code == 200
    assert badges.verify_credential(response.get_data(as_text=True)).valid


def post_check(client, **data):  # type: ignore[no-untyped-def]
    page = client.get("/verify/credential")
    assert page.status_code == 200
    token = CSRF_PATTERN.search(page.get_data(as_text=True)).group(1)
    return client.post(
        "/verify/credential",
        data={"csrf_token": token, **data},
        content_type="multipart/form-data",
    )


def test_public_page_checks_a_pasted_jwt_in_dutch(app, client, key, certificate):  # type: ignore[no-untyped-def]
    token = badges.credential_jwt(certificate)
    response = post_check(client, credential=token)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Deze digitale badge is echt en geldig." in html
    assert "De handtekening klopt" in html
    assert "Uitgegeven door Vakkracht MKB Zuid-Limburg" in html
    assert "Niet ingetrokken" in html


def test_public_page_checks_an_uploaded_json_file_and_reports_revoked(
    app, client, key, certificate, coordinator
):  # type: ignore[no-untyped-def]
    document = json.dumps(badges.credential_json(certificate)).encode()
    service.revoke_certificate(certificate, actor=coordinator, reason="Fout", now=LATER)
    _db.session.commit()
    response = post_check(client, file=(io.BytesIO(document), "badge.json"))
    html = response.get_data(as_text=True)
    assert "Ingetrokken" in html
    assert "Deze digitale badge is echt en geldig." not in html


def test_public_page_explains_garbage_and_refuses_large_files(app, client, key):  # type: ignore[no-untyped-def]
    html = post_check(client, credential="dit is geen badge").get_data(as_text=True)
    assert "Dit is geen credential" in html or "Dit is geen digitale badge" in html
    assert "dit is geen badge</textarea>" in html  # the input is kept
    big = post_check(client, file=(io.BytesIO(b"x" * (70 * 1024)), "big.jwt"))
    assert big.status_code == 200
    assert "te groot" in big.get_data(as_text=True)
    huge = post_check(client, file=(io.BytesIO(b"x" * (400 * 1024)), "huge.jwt"))
    assert huge.status_code == 413


def test_public_page_needs_the_csrf_token(app, client, key, certificate):  # type: ignore[no-untyped-def]
    response = client.post("/verify/credential", data={"credential": "x"})
    assert response.status_code == 400


def test_public_page_is_rate_limited(app, client, key):  # type: ignore[no-untyped-def]
    app.config["VERIFY_RATE_LIMIT"] = "3 per minute"
    codes = [client.get("/verify/credential").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[-1] == 429


def test_demo_creates_a_key_so_badges_work(app, runner):  # type: ignore[no-untyped-def]
    assert badge_keys.active_key_id(badge_keys.key_dir()) is None
    result = runner.invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output
    assert badge_keys.active_key_id(badge_keys.key_dir()) is not None


def test_the_readme_snippet_checks_a_credential_with_pyjwt(
    app, client, key, certificate, coordinator, tmp_path
):  # type: ignore[no-untyped-def]
    """The Python example in the README, run as written; only its HTTP fetch goes to the test client
    instead of the network (and the domain is the test's)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Digital badges") :]
    code = section[
        section.index("```python\n") + 10 : section.index("```\n", section.index("```python"))
    ]
    assert "def fetch(" in code

    def fetch(url, accept="application/json"):  # type: ignore[no-untyped-def]
        path = url.split("://", 1)[1].split("/", 1)[1]
        response = client.get("/" + path, headers={"Accept": accept})
        assert response.status_code == 200, url
        return response.get_data()

    badge = tmp_path / "VK-2027-PK-0007-openbadge.jwt"
    badge.write_text(badges.credential_jwt(certificate))
    code = code.replace('open("VK-2027-PK-0007-openbadge.jwt")', f"open({str(badge)!r})")
    code = code.replace("def fetch(", "def _unused_fetch(")
    printed: list[str] = []
    namespace = {"fetch": fetch, "print": printed.append}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert printed == ["valid"]

    service.revoke_certificate(certificate, actor=coordinator, reason="Fout", now=LATER)
    _db.session.commit()
    printed.clear()
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert printed == ["revoked"]
