"""What a verifier of an Open Badges credential fetches, without logging in: the issuer's DID
document (its public keys, old ones included) and the revocation status list. The credentials
themselves are built and checked in ``lms.services.badges``. An auditor of the sign-off ledger fetches
its latest signed checkpoint here too (same key, same DID document)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request

from lms.services import badges, ledger_checkpoints

bp = Blueprint("badges", __name__)


def _public(response):  # type: ignore[no-untyped-def]
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/.well-known/did.json")
def did_document():  # type: ignore[no-untyped-def]
    response = jsonify(badges.did_document())
    response.mimetype = "application/did+json"
    response.headers["Cache-Control"] = "public, max-age=300"
    return _public(response)


def _signed_status_list(list_id: int) -> tuple[dict[str, Any], str | None]:
    """The status list credential and its VC-JWT (``None`` while there is no signing key yet)."""
    if list_id != badges.STATUS_LIST_ID:
        abort(404)
    credential = badges.status_list_credential()
    try:
        return credential, badges.sign(credential)
    except badges.BadgeKeyError:
        current_app.logger.error("badges: no signing key; run `flask --app wsgi lms badges keygen`")
        return credential, None


@bp.get("/badges/status/<int:list_id>")
def status_list(list_id: int):  # type: ignore[no-untyped-def]
    """The BitstringStatusListCredential: as a VC-JWT when asked for ``application/vc+jwt``, else as
    JSON with the JWT in ``proof``."""
    credential, token = _signed_status_list(list_id)
    if token is None:  # no key yet: the list as it is, unsigned
        response = jsonify(credential)
    elif request.accept_mimetypes.best == badges.JWT_MEDIA_TYPE:
        response = current_app.response_class(token, mimetype=badges.JWT_MEDIA_TYPE)
    else:
        response = jsonify(badges.with_proof(credential, token))
    response.headers["Cache-Control"] = "no-cache"
    return _public(response)


@bp.get("/badges/status/<int:list_id>.jwt")
def status_list_jwt(list_id: int):  # type: ignore[no-untyped-def]
    _credential, token = _signed_status_list(list_id)
    if token is None:
        return jsonify(error="no_signing_key"), 404  # nothing signed to serve yet
    response = current_app.response_class(token, mimetype=badges.JWT_MEDIA_TYPE)
    response.headers["Cache-Control"] = "no-cache"
    return _public(response)


@bp.get("/ledger/checkpoint.json")
def ledger_checkpoint():  # type: ignore[no-untyped-def]
    """The latest signed checkpoint of the sign-off ledger's head, for a funder or auditor to save and
    check later with ``lms ledger verify --checkpoint``. 404 while none has been signed."""
    checkpoint = ledger_checkpoints.latest_checkpoint()
    if checkpoint is None:
        response = jsonify(error="no_checkpoint")
        response.status_code = 404
    else:
        response = jsonify(ledger_checkpoints.public_document(checkpoint))
    response.headers["Cache-Control"] = "public, max-age=60"
    return _public(response)
