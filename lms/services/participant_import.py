"""Importing participants into a cohort from a CSV file, as spreadsheets export it.

Three steps, each callable without HTTP:

- ``parse_participant_csv(data)`` reads the bytes: the encoding (UTF-8 with or without BOM, UTF-16 with
  BOM, else Windows-1252 as older Excel writes it), the separator (comma, semicolon or tab, found from the
  header row), and the header's column names in Dutch or English. File-level problems (empty, too large,
  not a CSV, missing columns) end up in ``ParseResult.errors``.
- ``validate_rows(cohort, rows, today=...)`` checks every row against the rules and the database and says
  per row what will happen or what is wrong. It only reads, in a fixed number of queries.
- ``import_rows(plan, actor=...)`` enrols every row through ``enrolment.enrol_participant`` (which keeps
  the capacity rule under a row lock) and records one "enrolment.import" audit event. It flushes; the
  caller commits once. It refuses a plan with any problem: nothing is written unless the whole file is valid.

``prepare_import`` runs the first two steps; the route calls it for the preview and again, on the file
content sent back, when the coordinator confirms.

Line numbers are the numbers a spreadsheet shows: the header row is line 1, and every record counts,
blank ones too.
"""

from __future__ import annotations

import codecs
import csv
import enum
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.orm import joinedload

from lms.extensions import db
from lms.models import Cohort, Employer, Enrolment, EnrolmentStatus, IntakeType, Role, User
from lms.services import audit, characters
from lms.services.enrolment import NewPerson, enrol_participant, seats_taken

# The confirm step carries the file back in a hidden form field (base64: a third larger); Flask accepts
# form fields up to 500 kB, so files stay under 256 kB. A list of 500 participants is about 60 kB.
MAX_BYTES = 256 * 1024
MAX_ROWS = 500
DELIMITERS = (";", ",", "\t")

# Column -> the header names accepted for it, written as ``header_key`` reduces them (lower case, letters
# and digits only): "E-mail adres" -> "emailadres", "First name" -> "firstname".
COLUMNS: dict[str, tuple[str, ...]] = {
    "first_name": ("voornaam", "roepnaam", "firstname", "givenname", "first"),
    "name_prefix": ("tussenvoegsel", "tussenvoegsels", "tv", "prefix", "nameprefix"),
    "last_name": ("achternaam", "familienaam", "lastname", "surname", "familyname", "last"),
    "email": ("email", "emailadres", "mail", "mailadres", "emailaddress"),
    "employer": (
        "werkgever",
        "bedrijf",
        "kvk",
        "kvknummer",
        "werkgeverkvk",
        "kvkwerkgever",
        "employer",
        "company",
        "employerkvk",
    ),
    "intake": ("instroom", "soortinstroom", "instroomtype", "intake", "intaketype"),
    "start_date": ("startdatum", "begindatum", "ingangsdatum", "startdate", "start"),
}
REQUIRED_COLUMNS = ("first_name", "last_name", "email", "employer", "intake")
COLUMN_ORDER = tuple(COLUMNS)
HEADER_KEYS = {alias: column for column, aliases in COLUMNS.items() for alias in aliases}

# The words shown to the coordinator for each column (and used in the example file).
COLUMN_LABELS = {
    "first_name": _l("first name"),
    "name_prefix": _l("prefix"),
    "last_name": _l("last name"),
    "email": _l("e-mail"),
    "employer": _l("employer"),
    "intake": _l("intake"),
    "start_date": _l("start date"),
}
INTAKE_WORDS = {IntakeType.SIDE_ENTRANT: _l("side-entrant"), IntakeType.EMPLOYED: _l("employed")}

# Intake values as ``header_key`` reduces them.
INTAKE_KEYS = {
    **dict.fromkeys(
        (
            "zijinstromer",
            "zijinstromers",
            "zijinstroom",
            "zijinstroomer",
            "zij",
            "sideentrant",
            "sideentrants",
            "sideentry",
            "careerchanger",
        ),
        IntakeType.SIDE_ENTRANT,
    ),
    **dict.fromkeys(
        (
            "werkzaam",
            "alwerkzaam",
            "werkzaambijmkb",
            "werkzaambijhetbedrijf",
            "werktalbijhetmkbbedrijf",
            "werknemer",
            "indienst",
            "employed",
            "alreadyemployed",
            "alreadyemployedatthesme",
            "employee",
        ),
        IntakeType.EMPLOYED,
    ),
}

NAME_COLUMNS = ("first_name", "name_prefix", "last_name")
MAX_LENGTHS = {"first_name": 80, "name_prefix": 20, "last_name": 80, "email": 254}
DATE_PATTERNS = (
    (re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})"), ("day", "month", "year")),
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), ("year", "month", "day")),
)


def header_key(text: str) -> str:
    """Lower case, accents dropped, letters and digits only: "  E-mail " -> "email"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", ascii_text.lower())


def column_label(column: str) -> str:
    return str(COLUMN_LABELS[column])


def clean(value: str) -> str:
    """A cell's text without surrounding spaces (non-breaking ones included) and repeated spaces."""
    return " ".join(value.replace("\u00a0", " ").split())


# --- step 1: reading the file --------------------------------------------------------------------


@dataclass(frozen=True)
class CsvRow:
    """One participant's row: its line number and the cells, by column ("email" -> "jan@...")."""

    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass
class ParseResult:
    rows: list[CsvRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # about the whole file; translated
    encoding: str = ""  # "utf-8", "utf-8-sig", "utf-16", "cp1252"
    delimiter: str = ""
    columns: list[str] = field(default_factory=list)  # recognised columns, in file order
    ignored_headers: list[str] = field(default_factory=list)  # header cells we do not use

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def read_as_windows_1252(self) -> bool:
        return self.encoding == "cp1252"


def decode(data: bytes) -> tuple[str, str] | None:
    """The text and the encoding it was read with, or None when it is not text."""
    if data.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "cp1252")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            return None
        return text, encoding
    return None


def not_a_csv_reason(data: bytes) -> str | None:
    """A clear message for files that are certainly not a CSV export."""
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # .xlsx (a zip) and the old .xls
        return _(
            "This is an Excel workbook, not a CSV file. In Excel choose File, Save as, and pick "
            '"CSV UTF-8 (comma delimited)". Then choose that file here.'
        )
    if data.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")) or (
        b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    ):
        return _(
            "This is not a CSV file. Save the list in your spreadsheet as CSV (File, Save as; or File, "
            "Download) and choose that file."
        )
    return None


def _records(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _recognised(header: list[str]) -> int:
    return sum(1 for cell in header if header_key(cell) in HEADER_KEYS)


def parse_participant_csv(data: bytes) -> ParseResult:
    """Read a CSV export into rows by column; every problem with the file as a whole in ``errors``."""
    result = ParseResult()
    if not data.strip(b" \t\r\n" + codecs.BOM_UTF8):
        result.errors.append(_("The file is empty. Choose the CSV file with the participants."))
        return result
    if len(data) > MAX_BYTES:
        result.errors.append(
            _(
                "The file is larger than %(size)d kB. A list of participants is much smaller: check that "
                "you chose the right file.",
                size=MAX_BYTES // 1024,
            )
        )
        return result
    reason = not_a_csv_reason(data)
    decoded = None if reason else decode(data)
    if decoded is None:
        result.errors.append(
            reason
            or _('The file cannot be read as text. Save it again as "CSV UTF-8" and try again.')
        )
        return result
    text, result.encoding = decoded

    # Excel may start a file with "sep=;": it names the separator; the header follows.
    first_line, _newline, rest = text.partition("\n")
    skipped_lines = 0
    sep_hint = re.fullmatch(r"\s*sep=(.)\s*", first_line)
    if sep_hint and sep_hint.group(1) in DELIMITERS:
        candidates: tuple[str, ...] = (sep_hint.group(1),)
        text, skipped_lines = rest, 1
    else:
        candidates = DELIMITERS

    # The separator is the one that splits the header into the most known column names.
    best: tuple[int, int, str, list[list[str]]] | None = None
    for delimiter in candidates:
        records = _records(text, delimiter)
        header_index = next(
            (i for i, record in enumerate(records) if any(c.strip() for c in record)), None
        )
        if header_index is None:
            continue
        header = records[header_index]
        score = (_recognised(header), len(header))
        if best is None or score > best[:2]:
            best = (*score, delimiter, records)
    if best is None:
        result.errors.append(_("The file is empty. Choose the CSV file with the participants."))
        return result
    recognised, _width, result.delimiter, records = best

    header_index = next(i for i, record in enumerate(records) if any(c.strip() for c in record))
    header = records[header_index]
    found = [clean(cell) for cell in header if clean(cell)]
    if recognised == 0:
        result.errors.append(
            _(
                "The first row must hold the column names (the header row), but none of the expected "
                "names is in it. The first row says: %(found)s.",
                found=", ".join(found)[:200] or "–",
            )
        )
        return result

    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        column = HEADER_KEYS.get(header_key(cell))
        if column is None:
            if clean(cell):
                result.ignored_headers.append(clean(cell))
            continue
        if column in positions:
            result.errors.append(
                _(
                    "The column %(column)s appears more than once in the header row.",
                    column=clean(cell),
                )
            )
            continue
        positions[column] = index
    result.columns = list(positions)
    missing = [column for column in REQUIRED_COLUMNS if column not in positions]
    if missing:
        result.errors.append(
            _(
                "These columns are missing: %(missing)s. The header row has: %(found)s.",
                missing=", ".join(column_label(column) for column in missing),
                found=", ".join(found),
            )
        )
    if result.errors:
        return result

    for number, record in enumerate(
        records[header_index + 1 :], start=header_index + 2 + skipped_lines
    ):
        if not any(cell.strip() for cell in record):
            continue  # spreadsheets leave empty rows (";;;;") at the end
        values = {
            column: clean(record[index]) if index < len(record) else ""
            for column, index in positions.items()
        }
        result.rows.append(CsvRow(line=number, values=values))
        if len(result.rows) > MAX_ROWS:
            result.errors.append(
                _(
                    "The file has more than %(count)d participants. Import at most %(count)d at a time.",
                    count=MAX_ROWS,
                )
            )
            result.rows = []
            return result
    if not result.rows:
        result.errors.append(_("The file has a header row, but no participants below it."))
    return result


# --- step 2: checking every row --------------------------------------------------------------------


class ProblemKind(enum.StrEnum):
    MISSING_FIELD = "missing_field"
    TOO_LONG = "too_long"
    UNUSABLE_NAME = "unusable_name"  # control or direction characters in a name
    INVALID_EMAIL = "invalid_email"
    UNKNOWN_EMPLOYER = "unknown_employer"
    AMBIGUOUS_EMPLOYER = "ambiguous_employer"
    UNKNOWN_INTAKE = "unknown_intake"
    BAD_DATE = "bad_date"
    DUPLICATE = "duplicate"  # twice in the file, already enrolled, or not a participant's address
    INACTIVE_ACCOUNT = "inactive_account"
    COHORT_FULL = "cohort_full"


@dataclass(frozen=True)
class RowProblem:
    kind: ProblemKind
    message: str  # translated


class RowAction(enum.StrEnum):
    NEW_PERSON = "new_person"  # gets an account and an invitation mail
    EXISTING_PARTICIPANT = "existing_participant"


@dataclass
class RowOutcome:
    row: CsvRow
    problems: list[RowProblem] = field(default_factory=list)
    email: str = ""
    employer: Employer | None = None
    intake_type: IntakeType | None = None
    start_date: date | None = None
    participant: User | None = None  # the existing account, if any
    # The account can never be enrolled here: not a participant's, or already (or earlier) in a cohort.
    account_blocked: bool = False

    @property
    def line(self) -> int:
        return self.row.line

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def action(self) -> RowAction | None:
        if self.problems:
            return None
        return RowAction.EXISTING_PARTICIPANT if self.participant else RowAction.NEW_PERSON

    @property
    def full_name(self) -> str:
        if self.participant is not None:
            return self.participant.full_name
        parts = (self.row.get("first_name"), self.row.get("name_prefix"), self.row.get("last_name"))
        return " ".join(part for part in parts if part)

    def add(self, kind: ProblemKind, message: str) -> None:
        self.problems.append(RowProblem(kind, message))

    def has(self, kind: ProblemKind) -> bool:
        return any(problem.kind is kind for problem in self.problems)


@dataclass
class ImportPlan:
    cohort: Cohort
    rows: list[RowOutcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # about the whole file or the cohort
    free_seats: int = 0
    parse: ParseResult | None = None

    @property
    def is_valid(self) -> bool:
        return not self.errors and bool(self.rows) and all(row.ok for row in self.rows)

    @property
    def bad_rows(self) -> list[RowOutcome]:
        return [row for row in self.rows if not row.ok]

    @property
    def new_people(self) -> int:
        return sum(1 for row in self.rows if row.action is RowAction.NEW_PERSON)


class ImportRefused(ValueError):
    """``import_rows`` was given a plan with problems; nothing was written."""


def kvk_key(value: str) -> str | None:
    """A KvK number from a cell ("1234 5678", "1234.56.78"), restoring a leading zero that a spreadsheet
    dropped ("1234567" -> "01234567"); None when the cell is not a number."""
    digits = re.sub(r"[\s.]", "", value)
    if digits.isdigit() and 6 <= len(digits) <= 8:
        return digits.zfill(8)
    return None


def name_key(value: str) -> str:
    return clean(value).casefold()


def parse_date(value: str) -> date | None:
    """dd-mm-yyyy (also with / or .) or yyyy-mm-dd; None when it is neither or no real date."""
    for pattern, order in DATE_PATTERNS:
        match = pattern.fullmatch(value)
        if match:
            parts = dict(zip(order, map(int, match.groups()), strict=True))
            try:
                return date(parts["year"], parts["month"], parts["day"])
            except ValueError:
                return None
    return None


def format_date(value: date) -> str:
    return value.strftime("%d-%m-%Y")


def validate_rows(cohort: Cohort, rows: list[CsvRow], *, today: date) -> ImportPlan:
    """Say for every row what will happen, or what is wrong with it. Reads only (five queries)."""
    plan = ImportPlan(cohort=cohort)
    if cohort.is_closed:
        plan.errors.append(_("Cohort %(name)s is closed.", name=cohort.name))
    plan.free_seats = max(cohort.capacity - seats_taken(cohort), 0)
    default_start = max(cohort.start_date, today)

    outcomes = [RowOutcome(row=row) for row in rows]
    employers = _employers_named(rows)
    users = _users_with_email(rows)
    active, earlier_here = _enrolments_of(list(users.values()), cohort)

    lines_by_email: dict[str, list[int]] = defaultdict(list)
    for outcome in outcomes:
        row = outcome.row
        missing = [column for column in REQUIRED_COLUMNS if not row.get(column)]
        if missing:
            outcome.add(
                ProblemKind.MISSING_FIELD,
                _(
                    "Missing: %(fields)s.",
                    fields=", ".join(column_label(column) for column in missing),
                ),
            )
        for column, limit in MAX_LENGTHS.items():
            if len(row.get(column)) > limit:
                outcome.add(
                    ProblemKind.TOO_LONG,
                    _(
                        "Too long: %(column)s (at most %(count)d characters).",
                        column=column_label(column),
                        count=limit,
                    ),
                )
        _check_names(outcome)
        _check_email(outcome)
        if outcome.email:
            lines_by_email[outcome.email].append(row.line)
        _check_employer(outcome, employers)
        _check_intake(outcome)
        _check_start_date(outcome, cohort, default_start)
        _check_account(outcome, users, active, earlier_here)

    for outcome in outcomes:
        lines = lines_by_email.get(outcome.email, [])
        if len(lines) > 1:
            outcome.add(
                ProblemKind.DUPLICATE,
                _(
                    "This e-mail address appears more than once in the file (lines %(lines)s).",
                    lines=", ".join(map(str, lines)),
                ),
            )

    # Seats go to the rows in file order. A row that can never be imported (the person is already
    # enrolled, or is a later copy of a row above) takes none; every other row does, so that fixing a
    # typo never reveals a "cohort full" that was hidden before.
    seats_left = plan.free_seats
    seen: set[str] = set()
    for outcome in outcomes:
        repeated = bool(outcome.email) and outcome.email in seen
        seen.add(outcome.email)
        if repeated or outcome.account_blocked:
            continue
        if seats_left > 0:
            seats_left -= 1
            continue
        if plan.free_seats == 0:
            message = _("The cohort is full: there is no free seat.")
        else:
            message = ngettext(
                "The cohort is full: only %(num)d seat was free, for the rows above this one.",
                "The cohort is full: only %(num)d seats were free, for the rows above this one.",
                plan.free_seats,
            )
        outcome.add(ProblemKind.COHORT_FULL, message)

    plan.rows = outcomes
    return plan


def _check_names(outcome: RowOutcome) -> None:
    for column in NAME_COLUMNS:
        problem = characters.name_problem(outcome.row.get(column))
        if problem:
            outcome.add(
                ProblemKind.UNUSABLE_NAME,
                _("%(column)s: %(problem)s", column=column_label(column), problem=problem),
            )


def _check_email(outcome: RowOutcome) -> None:
    value = outcome.row.get("email")
    if not value or len(value) > MAX_LENGTHS["email"]:
        return
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        outcome.add(
            ProblemKind.INVALID_EMAIL, _('"%(value)s" is not a valid e-mail address.', value=value)
        )
        return
    outcome.email = value.lower()


def _check_employer(outcome: RowOutcome, employers: dict[str, list[Employer]]) -> None:
    value = outcome.row.get("employer")
    if not value:
        return
    kvk = kvk_key(value)
    matches = employers.get(f"kvk:{kvk}" if kvk else f"name:{name_key(value)}", [])
    if len(matches) == 1:
        outcome.employer = matches[0]
    elif matches:
        outcome.add(
            ProblemKind.AMBIGUOUS_EMPLOYER,
            _(
                'More than one employer is called "%(value)s". Use the KvK number instead.',
                value=value,
            ),
        )
    else:
        outcome.add(
            ProblemKind.UNKNOWN_EMPLOYER,
            _(
                'There is no employer with KvK number or name "%(value)s". Check the spelling, or add '
                "the employer first.",
                value=value,
            ),
        )


def _check_intake(outcome: RowOutcome) -> None:
    value = outcome.row.get("intake")
    if not value:
        return
    outcome.intake_type = INTAKE_KEYS.get(header_key(value))
    if outcome.intake_type is None:
        outcome.add(
            ProblemKind.UNKNOWN_INTAKE,
            _(
                '"%(value)s" is not a known intake. Write %(side_entrant)s or %(employed)s.',
                value=value,
                side_entrant=INTAKE_WORDS[IntakeType.SIDE_ENTRANT],
                employed=INTAKE_WORDS[IntakeType.EMPLOYED],
            ),
        )


def _check_start_date(outcome: RowOutcome, cohort: Cohort, default_start: date) -> None:
    value = outcome.row.get("start_date")
    start = parse_date(value) if value else default_start
    if start is None:
        outcome.add(
            ProblemKind.BAD_DATE,
            _(
                '"%(value)s" is not a date. Write it as dd-mm-yyyy, for example %(example)s.',
                value=value,
                example=format_date(cohort.start_date),
            ),
        )
    elif not cohort.start_date <= start <= cohort.end_date:
        outcome.add(
            ProblemKind.BAD_DATE,
            _(
                "The start date %(date)s is outside the cohort's dates (%(start)s to %(end)s).",
                date=format_date(start),
                start=format_date(cohort.start_date),
                end=format_date(cohort.end_date),
            ),
        )
    else:
        outcome.start_date = start


def _check_account(
    outcome: RowOutcome,
    users: dict[str, User],
    active: dict[int, Enrolment],
    earlier_here: dict[int, Enrolment],
) -> None:
    user = users.get(outcome.email) if outcome.email else None
    if user is None:
        return
    outcome.participant = user
    outcome.account_blocked = True
    if user.role is not Role.PARTICIPANT:
        outcome.add(
            ProblemKind.DUPLICATE,
            _("%(email)s has an account that is not a participant's.", email=user.email),
        )
    elif user.id in active:
        outcome.add(
            ProblemKind.DUPLICATE,
            _(
                "%(name)s is already enrolled in cohort %(cohort)s.",
                name=user.full_name,
                cohort=active[user.id].cohort.name,
            ),
        )
    elif user.id in earlier_here:
        outcome.add(
            ProblemKind.DUPLICATE,
            _(
                "%(name)s was in this cohort before; a second enrolment in the same cohort is not "
                "possible.",
                name=user.full_name,
            ),
        )
    else:
        outcome.account_blocked = False
        if not user.is_active_account:
            outcome.add(
                ProblemKind.INACTIVE_ACCOUNT,
                _("The account of %(email)s has been deactivated.", email=user.email),
            )


def _employers_named(rows: list[CsvRow]) -> dict[str, list[Employer]]:
    """The employers the rows name, keyed "kvk:<number>" and "name:<casefolded name>"."""
    kvks: set[str] = set()
    names: set[str] = set()
    raw_names: set[str] = set()
    for row in rows:
        value = row.get("employer")
        if value:
            kvk = kvk_key(value)
            if kvk:
                kvks.add(kvk)
            else:
                names.add(name_key(value))
                raw_names.add(value)
    if not kvks and not names:
        return {}
    found = db.session.scalars(
        sa.select(Employer).where(
            sa.or_(
                Employer.kvk_number.in_(kvks),
                # Narrowed down in the database, compared exactly (case-insensitive) below.
                Employer.name.in_(raw_names),
                sa.func.lower(Employer.name).in_({name.lower() for name in names}),
            )
        )
    ).all()
    employers: dict[str, list[Employer]] = defaultdict(list)
    for employer in found:
        employers[f"kvk:{employer.kvk_number}"].append(employer)
        if name_key(employer.name) in names:
            employers[f"name:{name_key(employer.name)}"].append(employer)
    return employers


def _users_with_email(rows: list[CsvRow]) -> dict[str, User]:
    emails = {row.get("email").lower() for row in rows if row.get("email")}
    if not emails:
        return {}
    users = db.session.scalars(sa.select(User).where(User.email.in_(emails))).all()
    return {user.email: user for user in users}


def _enrolments_of(
    users: list[User], cohort: Cohort
) -> tuple[dict[int, Enrolment], dict[int, Enrolment]]:
    """Per participant id: the active enrolment (any cohort), and an earlier one in this cohort."""
    if not users:
        return {}, {}
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .where(
            Enrolment.participant_id.in_([user.id for user in users]),
            sa.or_(Enrolment.status == EnrolmentStatus.ACTIVE, Enrolment.cohort_id == cohort.id),
        )
        .options(joinedload(Enrolment.cohort))
    ).all()
    active = {e.participant_id: e for e in enrolments if e.status is EnrolmentStatus.ACTIVE}
    earlier_here = {
        e.participant_id: e
        for e in enrolments
        if e.cohort_id == cohort.id and e.status is not EnrolmentStatus.ACTIVE
    }
    return active, earlier_here


def prepare_import(cohort: Cohort, data: bytes, *, today: date) -> ImportPlan:
    """Read and check a file for ``cohort``: the preview, and the check again before writing."""
    parsed = parse_participant_csv(data)
    if not parsed.ok:
        plan = ImportPlan(cohort=cohort, errors=list(parsed.errors), parse=parsed)
        if cohort.is_closed:
            plan.errors.insert(0, _("Cohort %(name)s is closed.", name=cohort.name))
        return plan
    plan = validate_rows(cohort, parsed.rows, today=today)
    plan.parse = parsed
    return plan


# --- step 3: writing ---------------------------------------------------------------------------


def import_rows(plan: ImportPlan, *, actor: User, file_name: str = "") -> list[Enrolment]:
    """Enrol every row of a valid plan; new people get an account and an invitation mail.

    Flushes, never commits: the caller commits once, or rolls back when ``enrol_participant`` refuses
    (for instance because another coordinator took the last seats since the check).
    """
    if not plan.is_valid:
        raise ImportRefused(_("The file has problems; nothing was imported."))
    enrolments = []
    for outcome in plan.rows:
        assert outcome.employer is not None and outcome.intake_type is not None
        assert outcome.start_date is not None
        new_person = None
        if outcome.participant is None:
            new_person = NewPerson(
                email=outcome.email,
                first_name=outcome.row.get("first_name"),
                name_prefix=outcome.row.get("name_prefix"),
                last_name=outcome.row.get("last_name"),
            )
        enrolments.append(
            enrol_participant(
                cohort=plan.cohort,
                employer=outcome.employer,
                intake_type=outcome.intake_type,
                actor=actor,
                enrolled_on=outcome.start_date,
                participant=outcome.participant,
                new_person=new_person,
            )
        )
    audit.record(
        "enrolment.import",
        actor,
        plan.cohort,
        cohort=plan.cohort.name,
        count=len(enrolments),
        new_people=plan.new_people,
        file_name=file_name[:255],
    )
    return enrolments


def example_csv(start: date, employers: Sequence[Employer] = ()) -> bytes:
    """An example file in the reader's language, as Excel opens it: UTF-8 with BOM, semicolons.

    With ``employers`` the example names real ones: the first by KvK number, the second by name."""
    by_kvk = employers[0].kvk_number if employers else "12345678"
    by_name = employers[-1].name if employers else "Kerkrade Precisie B.V."
    header = [column_label(column) for column in COLUMN_ORDER]
    rows = [
        [
            "Jan",
            "van der",
            "Berg",
            "jan.vanderberg@example.nl",
            by_kvk,
            str(INTAKE_WORDS[IntakeType.SIDE_ENTRANT]),
            format_date(start),
        ],
        [
            "Fatima",
            "",
            "El Amrani",
            "fatima.elamrani@example.nl",
            by_name,
            str(INTAKE_WORDS[IntakeType.EMPLOYED]),
            "",
        ],
    ]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
