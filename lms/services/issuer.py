"""Who issues the certificate and the badge: the programme's owner, its partners, the programme manager
who signs for the owner, and the place of issue. All of it is configuration (``ISSUER_*``,
``PROGRAMME_PARTNERS``, ``PROGRAMME_MANAGER_NAME`` and ``CERTIFICATE_PLACE`` in config.py, overridable
from the environment); the values shipped are demo values.

A certificate's PDF is rendered once, when it is issued, and stored with its hash: a change of these
settings shows on certificates issued (or reissued) afterwards, never on stored ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image as PILImage

from lms.services.mail import external_url


@dataclass(frozen=True)
class Organisation:
    name: str
    role: str = ""  # what a partner does in the programme, in Dutch
    address: str = ""  # one line
    url: str = ""
    logo: str = ""  # a path inside lms/static, or an absolute path


@dataclass(frozen=True)
class Owner(Organisation):
    description: str = ""
    street_address: str = ""
    postal_code: str = ""
    locality: str = ""
    country: str = ""


def owner() -> Owner:
    """The programme's owner, the issuer of certificates and badges."""
    config = current_app.config
    street, postal_code, locality = (
        config["ISSUER_STREET_ADDRESS"],
        config["ISSUER_POSTAL_CODE"],
        config["ISSUER_LOCALITY"],
    )
    return Owner(
        name=config["ISSUER_NAME"],
        description=config["ISSUER_DESCRIPTION"],
        address=", ".join(part for part in (street, f"{postal_code} {locality}".strip()) if part),
        street_address=street,
        postal_code=postal_code,
        locality=locality,
        country=config["ISSUER_COUNTRY"],
        url=config["ISSUER_URL"],
        logo=config["ISSUER_LOGO"],
    )


def partners() -> list[Organisation]:
    return [Organisation(**partner) for partner in current_app.config["PROGRAMME_PARTNERS"]]


def programme_manager() -> str:
    """The name of the programme manager, who signs certificates for the owner."""
    return str(current_app.config["PROGRAMME_MANAGER_NAME"])


def place_of_issue() -> str:
    return str(current_app.config["CERTIFICATE_PLACE"])


def logo_file(organisation: Organisation) -> Path | None:
    """The organisation's logo as a file that exists and is an image, or ``None`` (no logo is printed
    then: a wrong setting must not stop a certificate from being issued)."""
    if not organisation.logo:
        return None
    path = Path(organisation.logo)
    if not path.is_absolute():
        static = Path(current_app.static_folder or "").resolve()
        path = (static / path).resolve()
        if not path.is_relative_to(static):
            return None
    if not path.is_file():
        return None
    try:
        with PILImage.open(path) as image:
            image.verify()
    except (OSError, SyntaxError, ValueError):  # not an image Pillow can read
        return None
    return path


def logo_url(organisation: Organisation) -> str | None:
    """The public address of a logo inside lms/static, for the badge's issuer profile."""
    path = logo_file(organisation)
    static = Path(current_app.static_folder or "").resolve()
    if path is None or not path.is_relative_to(static):
        return None
    return external_url("static", filename=path.relative_to(static).as_posix())
