"""Evidence files: what a file really is, the limits, how a photo is made safe to keep, and storing it.

A file is judged by its content, never by its name or the content type the browser sent: the first bytes
must be those of a JPEG, PNG or WebP photo, a PDF, or an MP4, QuickTime or WebM video, and a photo must
really decode. Photos are re-encoded (turned upright, RGB, at most 2000 px on the long side, JPEG at
quality 85) into a new image that carries none of the original's metadata, so no location (GPS), no
camera serial and no comments are kept. Files are hashed and written through ``lms.storage`` before
their database row exists. Functions flush, never commit.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from flask_babel import format_decimal
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from lms.extensions import db
from lms.models import Attempt, EvidenceFile, EvidenceKind, User
from lms.storage import Storage, StorageError, discard_on_rollback

MB = 1024 * 1024
PHOTO_MAX_SIDE = 2000
PHOTO_QUALITY = 85
MAX_NAME_LENGTH = 200
HEAD_BYTES = 64

# What the file inputs offer (the server decides by content, whatever the browser sends).
ACCEPT = "image/*,application/pdf,video/mp4,video/quicktime,video/webm"


class EvidenceRefused(ValueError):
    """A file the rules refuse; the message names the file and says why, in the user's language."""


@dataclass(frozen=True)
class EvidenceLimits:
    photo_bytes: int = 15 * MB
    pdf_bytes: int = 10 * MB
    video_bytes: int = 50 * MB
    attempt_bytes: int = 100 * MB
    files_per_attempt: int = 20
    image_pixels: int = 50_000_000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EvidenceLimits:
        return cls(
            photo_bytes=config["EVIDENCE_MAX_PHOTO_BYTES"],
            pdf_bytes=config["EVIDENCE_MAX_PDF_BYTES"],
            video_bytes=config["EVIDENCE_MAX_VIDEO_BYTES"],
            attempt_bytes=config["EVIDENCE_MAX_ATTEMPT_BYTES"],
            files_per_attempt=config["EVIDENCE_MAX_FILES_PER_ATTEMPT"],
            image_pixels=config["EVIDENCE_MAX_IMAGE_PIXELS"],
        )

    def for_kind(self, kind: EvidenceKind) -> int:
        return {
            EvidenceKind.PHOTO: self.photo_bytes,
            EvidenceKind.PDF: self.pdf_bytes,
            EvidenceKind.VIDEO: self.video_bytes,
        }[kind]


@dataclass(frozen=True)
class Detected:
    kind: EvidenceKind
    content_type: str
    suffix: str
    pillow_format: str | None = None  # for photos: what Pillow must find when it decodes the file


JPEG = Detected(EvidenceKind.PHOTO, "image/jpeg", ".jpg", "JPEG")
PNG = Detected(EvidenceKind.PHOTO, "image/png", ".png", "PNG")
WEBP = Detected(EvidenceKind.PHOTO, "image/webp", ".webp", "WEBP")
PDF = Detected(EvidenceKind.PDF, "application/pdf", ".pdf")
MP4 = Detected(EvidenceKind.VIDEO, "video/mp4", ".mp4")
QUICKTIME = Detected(EvidenceKind.VIDEO, "video/quicktime", ".mov")
WEBM = Detected(EvidenceKind.VIDEO, "video/webm", ".webm")

HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}
QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


class _Heif(Exception):
    """An iPhone-style HEIC/HEIF/AVIF photo: a photo, but not one every browser can show."""


def sniff(head: bytes) -> Detected | None:
    """What the first bytes of a file say it is; None when it is nothing we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in HEIF_BRANDS:
            raise _Heif
        return QUICKTIME if brand == b"qt  " else MP4
    if head[4:8] in QUICKTIME_ATOMS:
        return QUICKTIME
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head:
        return WEBM
    return None


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: its name (only shown, never trusted) and its content."""

    filename: str
    stream: BinaryIO

    @classmethod
    def from_bytes(cls, filename: str, data: bytes) -> Upload:
        return cls(filename, io.BytesIO(data))


@dataclass(frozen=True)
class PreparedFile:
    """A checked file, ready to store: photos already re-encoded."""

    name: str
    kind: EvidenceKind
    content_type: str
    suffix: str
    data: bytes
    sha256: str
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> int:
        return len(self.data)


def human_size(size: int) -> str:
    """ "850 kB", or "12,3 MB" (Dutch) / "12.3 MB" (English)."""
    if size < MB:
        return f"{max(1, math.ceil(size / 1024))} kB"
    return f"{format_decimal(round(size / MB, 1), format='#,##0.#')} MB"


def display_name(filename: str | None, suffix: str) -> str:
    """The name to show: the last part of what the browser sent, without control characters, with the
    suffix of what the file really is (photos become .jpg)."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(
        ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C"
    )
    stem = name.rsplit(".", 1)[0].strip(" .") if "." in name else name.strip(" .")
    stem = stem[:MAX_NAME_LENGTH] or _("file")
    return stem + suffix


def prepare_upload(upload: Upload, limits: EvidenceLimits) -> PreparedFile:
    """Check one file by its content and size; re-encode a photo. Raises ``EvidenceRefused``."""
    shown = (upload.filename or "").strip() or _("file")
    head = upload.stream.read(HEAD_BYTES)
    if not head:
        raise EvidenceRefused(_('"%(name)s" is empty.', name=shown))
    try:
        detected = sniff(head)
    except _Heif:
        raise EvidenceRefused(
            _(
                '"%(name)s" is a HEIC photo, which cannot be shown everywhere. Use the "Take a photo" '
                "button, or set your camera to save photos as JPEG (on an iPhone: Most Compatible).",
                name=shown,
            )
        ) from None
    if detected is None:
        raise EvidenceRefused(
            _(
                '"%(name)s" is not a photo, PDF or video that can be used here. Add a photo (JPEG, '
                "PNG or WebP), a PDF, or a video (MP4, MOV or WebM).",
                name=shown,
            )
        )
    limit = limits.for_kind(detected.kind)
    data = head + upload.stream.read(limit + 1 - len(head))
    if len(data) > limit:
        upload.stream.seek(0, io.SEEK_END)
        raise EvidenceRefused(_too_large(shown, detected.kind, upload.stream.tell(), limit))
    width = height = None
    if detected.kind is EvidenceKind.PHOTO:
        data, width, height = process_photo(data, detected, limits, shown)
        detected = JPEG
    return PreparedFile(
        name=display_name(upload.filename, detected.suffix),
        kind=detected.kind,
        content_type=detected.content_type,
        suffix=detected.suffix,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
    )


def _too_large(name: str, kind: EvidenceKind, size: int, limit: int) -> str:
    values = {"name": name, "size": human_size(size), "limit": human_size(limit)}
    if kind is EvidenceKind.PHOTO:
        return _('"%(name)s" is %(size)s; a photo may be at most %(limit)s.', **values)
    if kind is EvidenceKind.PDF:
        return _('"%(name)s" is %(size)s; a PDF may be at most %(limit)s.', **values)
    return _(
        '"%(name)s" is %(size)s; a video may be at most %(limit)s. Record a shorter video.',
        **values,
    )


def process_photo(
    data: bytes, detected: Detected, limits: EvidenceLimits, shown: str
) -> tuple[bytes, int, int]:
    """Decode the photo for real and re-encode it as a clean JPEG; returns (bytes, width, height)."""
    unreadable = EvidenceRefused(
        _(
            '"%(name)s" could not be opened as a photo. It may be damaged: take or save the photo again.',
            name=shown,
        )
    )
    try:
        with Image.open(io.BytesIO(data)) as original:
            if original.format != detected.pillow_format:
                raise unreadable
            width, height = original.size
            if width * height > limits.image_pixels:
                raise EvidenceRefused(
                    _(
                        '"%(name)s" has too many pixels (more than %(limit)d megapixels). '
                        "Take the photo at a lower resolution.",
                        name=shown,
                        limit=limits.image_pixels // 1_000_000,
                    )
                )
            original.load()
            icc_profile = original.info.get("icc_profile")
            upright = ImageOps.exif_transpose(original)
            image = _flatten_to_rgb(upright)
    except EvidenceRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise unreadable from None
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)
    # A brand-new image: nothing of the original's metadata (EXIF, GPS, XMP, comments) comes along.
    clean = Image.frombytes("RGB", image.size, image.tobytes())
    output = io.BytesIO()
    options: dict[str, Any] = {"quality": PHOTO_QUALITY, "optimize": True, "progressive": True}
    if icc_profile:
        options["icc_profile"] = icc_profile  # colours only
    clean.save(output, "JPEG", **options)
    return output.getvalue(), clean.width, clean.height


def _flatten_to_rgb(image: Image.Image) -> Image.Image:
    """RGB; transparent parts become white (a JPEG has no transparency)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB") if image.mode != "RGB" else image


def check_room(attempt: Attempt, prepared: PreparedFile, limits: EvidenceLimits) -> None:
    """Refuse a file that would take the attempt over its number of files or its total size."""
    files = attempt.evidence_files
    if len(files) >= limits.files_per_attempt:
        raise EvidenceRefused(
            _(
                '"%(name)s" was not added: one attempt can hold at most %(limit)d files.',
                name=prepared.name,
                limit=limits.files_per_attempt,
            )
        )
    total = sum(file.size_bytes for file in files) + prepared.size
    if total > limits.attempt_bytes:
        raise EvidenceRefused(
            _(
                '"%(name)s" (%(size)s) was not added: together the files of one attempt may be at '
                "most %(limit)s, and this attempt already has %(used)s.",
                name=prepared.name,
                size=human_size(prepared.size),
                limit=human_size(limits.attempt_bytes),
                used=human_size(total - prepared.size),
            )
        )


def store_evidence(
    attempt: Attempt, prepared: PreparedFile, *, actor: User, storage: Storage, at: datetime
) -> EvidenceFile:
    """Write the file, check what was written, then add its row to the attempt."""
    key = storage.save(prepared.data, prepared.suffix)
    discard_on_rollback(db.session, storage, key)
    if hashlib.sha256(storage.read(key)).hexdigest() != prepared.sha256:
        raise StorageError(f"stored file {key} does not match what was written")
    evidence = EvidenceFile(
        kind=prepared.kind,
        storage_key=key,
        original_name=prepared.name,
        content_type=prepared.content_type,
        size_bytes=prepared.size,
        sha256=prepared.sha256,
        width=prepared.width,
        height=prepared.height,
        uploaded_by=actor,
        uploaded_at=at,
    )
    attempt.evidence_files.append(evidence)
    db.session.flush()
    return evidence


def copy_evidence(
    source: EvidenceFile, attempt: Attempt, *, actor: User, storage: Storage, at: datetime
) -> EvidenceFile:
    """The same file again, under its own key, for a new attempt (an attempt's files stay its own)."""
    data = storage.read(source.storage_key)
    suffix = "." + source.storage_key.rsplit(".", 1)[1]
    prepared = PreparedFile(
        name=source.original_name,
        kind=source.kind,
        content_type=source.content_type,
        suffix=suffix,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        width=source.width,
        height=source.height,
    )
    return store_evidence(attempt, prepared, actor=actor, storage=storage, at=at)
