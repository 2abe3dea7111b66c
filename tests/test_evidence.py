"""Evidence files are judged by their content, kept within limits, and photos lose their metadata."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import ExifTags, Image

from lms import clock
from lms.models import Attempt, EvidenceKind, Role, Submission
from lms.services.evidence import (
    MB,
    EvidenceLimits,
    EvidenceRefused,
    Upload,
    check_room,
    display_name,
    prepare_upload,
    sniff,
    store_evidence,
)
from lms.storage import get_storage
from tests.factories import PDF_BYTES, make_enrolment, make_photo_bytes, make_user

LIMITS = EvidenceLimits()
MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00" * 64
MOV_HEAD = b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + b"\x00" * 64
WEBM_HEAD = (
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm"
    + b"\x00" * 32
)
HEIC_HEAD = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64


def gps_exif() -> Image.Exif:
    """EXIF as a phone writes it: make, orientation and where the photo was taken."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Fairphone"
    exif[ExifTags.Base.Orientation] = 6  # taken with the phone turned: rotate 90° to show upright
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (50.0, 53.0, 20.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (5.0, 58.0, 0.0),
        }
    )
    return exif


def prepare(name: str, data: bytes, limits: EvidenceLimits = LIMITS):
    return prepare_upload(Upload.from_bytes(name, data), limits)


@pytest.mark.parametrize(
    ("data", "kind", "content_type"),
    [
        (make_photo_bytes(image_format="JPEG"), EvidenceKind.PHOTO, "image/jpeg"),
        (make_photo_bytes(image_format="PNG"), EvidenceKind.PHOTO, "image/png"),
        (make_photo_bytes(image_format="WEBP"), EvidenceKind.PHOTO, "image/webp"),
        (PDF_BYTES, EvidenceKind.PDF, "application/pdf"),
        (MP4_HEAD, EvidenceKind.VIDEO, "video/mp4"),
        (MOV_HEAD, EvidenceKind.VIDEO, "video/quicktime"),
        (WEBM_HEAD, EvidenceKind.VIDEO, "video/webm"),
    ],
)
def test_the_content_says_what_a_file_is(
    data: bytes, kind: EvidenceKind, content_type: str
) -> None:
    detected = sniff(data[:64])
    assert (detected.kind, detected.content_type) == (kind, content_type)


def test_accepted_files_keep_their_content_and_get_the_right_type(app) -> None:
    pdf = prepare("verslag.PDF", PDF_BYTES)
    assert (pdf.kind, pdf.content_type, pdf.name, pdf.data) == (
        EvidenceKind.PDF,
        "application/pdf",
        "verslag.pdf",
        PDF_BYTES,
    )
    assert pdf.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    video = prepare("film.mov", MOV_HEAD)
    assert (video.kind, video.content_type, video.suffix) == (
        EvidenceKind.VIDEO,
        "video/quicktime",
        ".mov",
    )
    # The name is only shown: a video sent as "photo.jpg" is still a video.
    assert prepare("foto.jpg", MP4_HEAD).name == "foto.mp4"


def test_a_text_file_renamed_to_jpg_is_refused_with_a_clear_message(app) -> None:
    with pytest.raises(EvidenceRefused) as refused:
        prepare("lasnaad.jpg", b"Dit is gewoon tekst, geen foto.\n" * 20)
    message = str(refused.value)
    assert "lasnaad.jpg" in message
    assert "is geen foto, pdf of video" in message  # Dutch by default


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff\xe0" + b"geen echte jpeg" * 50,  # a JPEG's first bytes, then nonsense
        make_photo_bytes(image_format="PNG")[:60],  # cut off
        b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 100,
    ],
    ids=["jpeg-start-then-nonsense", "png-cut-off", "webp-without-image"],
)
def test_a_photo_must_really_decode(app, data: bytes) -> None:
    with pytest.raises(EvidenceRefused, match="kon niet als foto worden geopend"):
        prepare("kapot.jpg", data)


def test_heic_photos_get_their_own_advice(app) -> None:
    with pytest.raises(EvidenceRefused, match="HEIC"):
        prepare("IMG_0001.HEIC", HEIC_HEAD)


def test_an_empty_file_is_refused(app) -> None:
    with pytest.raises(EvidenceRefused, match="is leeg"):
        prepare("leeg.pdf", b"")


def test_photos_are_stripped_of_gps_and_all_other_metadata(app) -> None:
    original = make_photo_bytes(80, 40, exif=gps_exif())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # it was there
    photo = prepare("IMG_2041.JPG", original)
    stored = Image.open(io.BytesIO(photo.data))
    assert stored.format == "JPEG"
    assert dict(stored.getexif()) == {}
    assert b"Exif" not in photo.data and b"GPS" not in photo.data and b"Fairphone" not in photo.data
    assert (photo.width, photo.height) == (40, 80)  # turned upright by its orientation
    assert stored.size == (40, 80)
    assert photo.name == "IMG_2041.jpg"


def test_large_photos_are_scaled_to_2000_pixels_on_the_long_side(app) -> None:
    photo = prepare("groot.png", make_photo_bytes(3000, 1200, image_format="PNG"))
    assert (photo.width, photo.height) == (2000, 800)
    assert photo.content_type == "image/jpeg" and photo.suffix == ".jpg"
    assert photo.name == "groot.jpg"


def test_transparent_photos_become_rgb_on_white(app) -> None:
    photo = prepare(
        "logo.png", make_photo_bytes(10, 10, image_format="PNG", mode="RGBA", color=(0, 0, 0, 0))
    )
    image = Image.open(io.BytesIO(photo.data))
    assert image.mode == "RGB"
    assert all(channel > 240 for channel in image.getpixel((5, 5)))


def test_photos_with_too_many_pixels_are_refused_before_decoding(app) -> None:
    limits = EvidenceLimits(image_pixels=1_000_000)
    with pytest.raises(EvidenceRefused, match="te veel pixels"):
        prepare("panorama.jpg", make_photo_bytes(2000, 1000), limits)


@pytest.mark.parametrize(
    ("name", "data", "limits", "expected"),
    [
        (
            "foto.jpg",
            make_photo_bytes(),
            EvidenceLimits(photo_bytes=200),
            "een foto mag hoogstens 1 kB zijn",
        ),
        ("verslag.pdf", PDF_BYTES * 20, EvidenceLimits(pdf_bytes=MB // 2 - 1), None),
        (
            "film.mp4",
            MP4_HEAD + b"\x00" * (2 * MB),
            EvidenceLimits(video_bytes=MB),
            "een video mag hoogstens 1 MB zijn",
        ),
    ],
)
def test_files_over_their_kinds_limit_are_refused_naming_file_and_limit(
    app, name: str, data: bytes, limits: EvidenceLimits, expected: str | None
) -> None:
    if expected is None:  # within the limit
        assert prepare(name, data, limits).size == len(data)
        return
    with pytest.raises(EvidenceRefused) as refused:
        prepare(name, data, limits)
    assert name in str(refused.value)
    assert expected in str(refused.value)


def test_the_size_message_says_the_real_size_without_reading_it_all_into_memory(app) -> None:
    data = MP4_HEAD + b"\x00" * (3 * MB)
    with pytest.raises(EvidenceRefused, match=r"film\.mp4\" is 3 MB; een video mag hoogstens 1 MB"):
        prepare("film.mp4", data, EvidenceLimits(video_bytes=MB))


def test_display_names_lose_paths_and_control_characters(app) -> None:
    assert display_name("C:\\Users\\noël\\Bureaublad\\las.naad.jpeg", ".jpg") == "las.naad.jpg"
    assert display_name("../../etc/passwd", ".pdf") == "passwd.pdf"
    assert display_name("foto\x00\n.jpg", ".jpg") == "foto.jpg"
    assert display_name("", ".pdf") == "bestand.pdf"
    assert len(display_name("a" * 500 + ".pdf", ".pdf")) <= 204


@pytest.fixture
def attempt(db) -> Attempt:
    enrolment = make_enrolment()
    submission = Submission(
        enrolment=enrolment,
        assignment=enrolment.cohort.programme.assignments[0],
        attempts=[Attempt(number=1)],
    )
    db.session.add(submission)
    db.session.flush()
    return submission.attempts[0]


def test_stored_files_are_hashed_and_the_row_points_at_them(db, attempt: Attempt) -> None:
    participant = attempt.submission.enrolment.participant
    prepared = prepare("lasnaad.jpg", make_photo_bytes(exif=gps_exif()))
    evidence = store_evidence(
        attempt, prepared, actor=participant, storage=get_storage(), at=clock.now()
    )
    db.session.commit()
    stored = get_storage().read(evidence.storage_key)
    assert evidence.sha256 == hashlib.sha256(stored).hexdigest()
    assert evidence.size_bytes == len(stored)
    assert (evidence.kind, evidence.content_type, evidence.original_name) == (
        EvidenceKind.PHOTO,
        "image/jpeg",
        "lasnaad.jpg",
    )
    assert evidence.uploaded_by == participant
    assert b"GPS" not in stored


def test_an_attempt_holds_a_limited_number_and_size_of_files(db, attempt: Attempt) -> None:
    participant = attempt.submission.enrolment.participant
    storage = get_storage()
    limits = EvidenceLimits(files_per_attempt=2, attempt_bytes=len(PDF_BYTES) * 2 + 10)
    for name in ("een.pdf", "twee.pdf"):
        store_evidence(
            attempt, prepare(name, PDF_BYTES), actor=participant, storage=storage, at=clock.now()
        )
    with pytest.raises(EvidenceRefused, match="hoogstens 2 bestanden"):
        check_room(attempt, prepare("drie.pdf", PDF_BYTES), limits)
    roomy = EvidenceLimits(files_per_attempt=10, attempt_bytes=len(PDF_BYTES) * 2 + 10)
    with pytest.raises(EvidenceRefused) as refused:
        check_room(attempt, prepare("drie.pdf", PDF_BYTES), roomy)
    assert "drie.pdf" in str(refused.value) and "per poging" in str(refused.value)


def test_files_are_written_outside_the_static_folder(app, db, attempt: Attempt) -> None:
    participant = make_user(Role.PARTICIPANT)
    evidence = store_evidence(
        attempt,
        prepare("a.pdf", PDF_BYTES),
        actor=participant,
        storage=get_storage(),
        at=clock.now(),
    )
    assert evidence.storage_key not in str(app.static_folder)
    assert get_storage().root.is_relative_to(app.config["EVIDENCE_STORAGE_PATH"])
