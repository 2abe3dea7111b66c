"""Privacy (AVG/GDPR): a person's data export, erasure, and retention for finished cohorts.

- ``export_person``: everything stored about a person as JSON, with their evidence files, in a ZIP.
  The rows are found through the schema itself (every table that points at the person, and everything
  below their enrolments), so a table added later is exported without changing this module.
- ``erase_person``: removes or pseudonymises a person's data. What stays: the records others rely on
  (enrolments, verdicts, the hash-chained sign-off ledger, certificates, audit events), now pointing at
  a pseudonymised account. A certificate keeps the name printed on it (``holder_name``), so
  ``/verify/<code>`` goes on confirming whose certificate it is; the account itself loses the name.
- ``retention_candidates`` / ``apply_retention``: participants whose cohorts all ended more than
  ``RETENTION_MONTHS`` ago are erased (the ``lms retention`` command).

Functions flush, never commit: the route or command commits.
"""

from __future__ import annotations

import enum
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from lms import clock
from lms.extensions import db
from lms.models import (
    AuditEvent,
    Certificate,
    Cohort,
    Enrolment,
    EnrolmentStatus,
    EvidenceFile,
    OutboxMessage,
    Role,
    User,
)
from lms.services import audit
from lms.storage import StorageError, delete_after_commit, get_storage

ERASED_DOMAIN = "erased.invalid"  # .invalid never resolves (RFC 2606): no mail can reach it
# Never exported: secrets, and internal storage keys that mean nothing outside the system.
SECRET_COLUMNS = {"password_hash", "token_hash", "storage_key", "pdf_storage_key"}
# Tables below an enrolment whose text is kept at erasure: the sign-off ledger is hash-chained (a
# changed note would break the chain) and a certificate must stay as it was issued.
KEEP_TEXT_TABLES = {"signoffs", "certificates"}
# Rows that point at a person with ON DELETE CASCADE belong to that person and go at erasure, except
# the trainer-to-cohort assignment, which is part of the cohort's history.
KEEP_CASCADE_TABLES = {"cohort_trainers"}


class PrivacyError(ValueError):
    """An erasure that may not be carried out; the message says why."""


def is_erased(user: User) -> bool:
    return user.email.endswith("@" + ERASED_DOMAIN)


# --- export ---------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return None
    return value


def _rows(table: sa.Table, where: sa.ColumnElement[bool]) -> list[dict[str, Any]]:
    result = db.session.execute(sa.select(table).where(where).order_by(*table.primary_key.columns))
    return [
        {
            key: _json_value(value)
            for key, value in row._mapping.items()
            if key not in SECRET_COLUMNS
        }
        for row in result
    ]


def _tables_pointing_at(table_name: str) -> list[tuple[sa.Table, sa.Column[Any]]]:
    """Every (table, column) with a foreign key to ``table_name``.id, self-references left out."""
    found = []
    for table in db.metadata.sorted_tables:
        if table.name == table_name:
            continue
        for column in table.columns:
            for foreign_key in column.foreign_keys:
                if foreign_key.column.table.name == table_name and foreign_key.column.name == "id":
                    found.append((table, column))
    return found


def _owned_rows(user: User) -> dict[str, list[dict[str, Any]]]:
    """The person's rows: every row pointing at them, and everything below their enrolments."""
    data: dict[str, list[dict[str, Any]]] = {}

    def add(table_name: str, rows: list[dict[str, Any]]) -> None:
        seen = data.setdefault(table_name, [])
        for row in rows:
            if row not in seen:
                seen.append(row)

    users = db.metadata.tables["users"]
    add("users", _rows(users, users.c.id == user.id))
    for table, column in _tables_pointing_at("users"):
        rows = _rows(table, column == user.id)
        if rows:
            add(table.name, rows)

    # Below the participant's enrolments: submissions, attempts, files, verdicts, sign-offs, ...
    frontier = {"enrolments": [row["id"] for row in data.get("enrolments", [])]}
    depth = 0
    while frontier and depth < 5:
        next_frontier: dict[str, list[int]] = {}
        for parent, ids in frontier.items():
            if not ids:
                continue
            for table, column in _tables_pointing_at(parent):
                if table.name == "audit_events":
                    continue
                rows = _rows(table, column.in_(ids))
                if not rows:
                    continue
                add(table.name, rows)
                if "id" in table.c:
                    next_frontier.setdefault(table.name, []).extend(row["id"] for row in rows)
        frontier = next_frontier
        depth += 1

    events = db.metadata.tables["audit_events"]
    add(
        "audit_events",
        _rows(events, (events.c.subject_type == "User") & (events.c.subject_id == user.id)),
    )
    outbox = db.metadata.tables["outbox_messages"]
    add("outbox_messages", _rows(outbox, outbox.c.recipient == user.email))
    return {name: rows for name, rows in sorted(data.items()) if rows}


@dataclass
class PersonExport:
    filename: str
    data: dict[str, Any]
    files: list[tuple[str, str]] = field(default_factory=list)  # (name in the ZIP, storage key)


def build_person_export(user: User, *, actor: User) -> PersonExport:
    """What a person's export holds; recorded in the audit log."""
    tables = _owned_rows(user)
    files = []
    evidence_ids = [row["id"] for row in tables.get("evidence_files", [])]
    if evidence_ids:
        evidence = db.session.scalars(
            sa.select(EvidenceFile)
            .where(EvidenceFile.id.in_(evidence_ids))
            .order_by(EvidenceFile.id)
        )
        for item in evidence:
            files.append(
                (f"files/evidence-{item.id}-{_safe_name(item.original_name)}", item.storage_key)
            )
    certificate_rows = tables.get("certificates", [])
    if certificate_rows:
        certificates = db.session.scalars(
            sa.select(Certificate).where(
                Certificate.id.in_([row["id"] for row in certificate_rows])
            )
        )
        for certificate in certificates:
            files.append(
                (f"files/certificate-{certificate.number}.pdf", certificate.pdf_storage_key)
            )
    data = {
        "about": _(
            "Everything the Vakkracht system stores about %(name)s, exported on %(date)s. Each part is"
            " a table of the system; the files are in the folder files/.",
            name=user.full_name,
            date=clock.now().isoformat(timespec="seconds"),
        ),
        "person": {
            "id": user.id,
            "name": user.full_name,
            "email": user.email,
            "role": user.role.value,
        },
        "tables": tables,
        "files": [name for name, _key in files],
    }
    audit.record("person.export", actor, user, files=len(files))
    stamp = clock.today().isoformat()
    return PersonExport(filename=f"gegevens-{user.id}-{stamp}.zip", data=data, files=files)


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "bestand"
    return cleaned[:80]


def export_zip(export: PersonExport) -> bytes:
    storage = get_storage()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "gegevens.json", json.dumps(export.data, indent=2, ensure_ascii=False, sort_keys=True)
        )
        for name, key in export.files:
            try:
                archive.writestr(name, storage.read(key))
            except (StorageError, OSError):
                archive.writestr(name + ".ontbreekt.txt", "Dit bestand is niet meer in de opslag.")
    return buffer.getvalue()


# --- erasure --------------------------------------------------------------------------------------


@dataclass
class ErasureReport:
    user_id: int
    certificates_kept: int = 0
    evidence_files: int = 0
    texts_cleared: int = 0
    rows_deleted: int = 0
    outbox_deleted: int = 0


def erasure_problem(user: User, actor: User | None) -> str | None:
    """Why ``user`` may not be erased now, or None."""
    if is_erased(user):
        return _("The data of this person has already been erased.")
    if actor is not None and actor.id == user.id:
        return _("You cannot erase your own account.")
    if user.role is Role.PARTICIPANT and any(
        enrolment.status is EnrolmentStatus.ACTIVE for enrolment in user.enrolments
    ):
        return _(
            "%(name)s is still enrolled. Withdraw the enrolment first, or wait until the cohort has finished.",
            name=user.full_name,
        )
    return None


def certificates_of(user: User) -> list[Certificate]:
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .join(Enrolment, Enrolment.id == Certificate.enrolment_id)
            .where(Enrolment.participant_id == user.id)
            .order_by(Certificate.id)
        )
    )


def erase_person(user: User, *, actor: User | None, reason: str = "") -> ErasureReport:
    """Remove or pseudonymise everything about ``user``; see the module notes for what stays."""
    problem = erasure_problem(user, actor)
    if problem:
        raise PrivacyError(problem)
    report = ErasureReport(user_id=user.id)
    old_email = user.email
    # Certificates stay verifiable: each keeps the name and programme printed on it.
    for certificate in certificates_of(user):
        if not certificate.holder_name:
            certificate.holder_name = user.full_name
        if not certificate.programme_title:
            certificate.programme_title = certificate.enrolment.cohort.programme.title
        report.certificates_kept += 1
    db.session.flush()

    # Below the enrolments: evidence files go, free text is cleared.
    enrolment_ids = [enrolment.id for enrolment in user.enrolments]
    storage = get_storage()
    if enrolment_ids:
        for table, rows in _below_enrolments(enrolment_ids).items():
            if table.name == "evidence_files":
                for item in db.session.scalars(
                    sa.select(EvidenceFile).where(EvidenceFile.id.in_(rows))
                ):
                    delete_after_commit(db.session, storage, item.storage_key)
                    db.session.delete(item)
                    report.evidence_files += 1
                continue
            if table.name in KEEP_TEXT_TABLES:
                continue
            text_columns = [
                column
                for column in table.columns
                if isinstance(column.type, sa.Text) and not column.foreign_keys
            ]
            if text_columns and rows:
                result = db.session.execute(
                    sa.update(table)
                    .where(table.c.id.in_(rows))
                    .values({column.name: "" for column in text_columns})
                )
                report.texts_cleared += result.rowcount * len(text_columns)
        db.session.flush()

    # What belongs to the account alone (tokens, login sessions, notifications, ...) is deleted: every
    # device of theirs is logged out.
    for table, column in _tables_pointing_at("users"):
        if table.name in KEEP_CASCADE_TABLES:
            continue
        if any(fk.ondelete == "CASCADE" for fk in column.foreign_keys):
            result = db.session.execute(sa.delete(table).where(column == user.id))
            report.rows_deleted += result.rowcount
    result = db.session.execute(
        sa.delete(OutboxMessage).where(OutboxMessage.recipient == old_email)
    )
    report.outbox_deleted = result.rowcount
    # Where they logged in from is personal data too.
    db.session.execute(
        sa.update(AuditEvent).where(AuditEvent.actor_id == user.id).values(ip_address="")
    )

    user.first_name = _("Erased")
    user.name_prefix = ""
    user.last_name = _("person %(number)d", number=user.id)
    user.email = f"erased-{user.id}@{ERASED_DOMAIN}"
    user.phone = ""
    user.password_hash = None
    user.is_active_account = False
    db.session.flush()
    audit.record(
        "person.erase",
        actor,
        user,
        certificates_kept=report.certificates_kept,
        evidence_files=report.evidence_files,
        reason=reason,
    )
    return report


def _below_enrolments(enrolment_ids: list[int]) -> dict[sa.Table, list[int]]:
    """Ids of every row below the given enrolments (and the enrolments themselves), by table."""
    found: dict[sa.Table, list[int]] = {db.metadata.tables["enrolments"]: list(enrolment_ids)}
    frontier: dict[str, list[int]] = {"enrolments": list(enrolment_ids)}
    depth = 0
    while frontier and depth < 5:
        next_frontier: dict[str, list[int]] = {}
        for parent, ids in frontier.items():
            for table, column in _tables_pointing_at(parent):
                if table.name == "audit_events" or "id" not in table.c:
                    continue
                ids_below = list(db.session.scalars(sa.select(table.c.id).where(column.in_(ids))))
                if ids_below:
                    known = found.setdefault(table, [])
                    new = [row_id for row_id in ids_below if row_id not in known]
                    known.extend(new)
                    if new:
                        next_frontier.setdefault(table.name, []).extend(new)
        frontier = next_frontier
        depth += 1
    return found


# --- retention ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionCandidate:
    user: User
    last_end_date: date


def retention_cutoff(today: date | None = None) -> date:
    months = current_app.config["RETENTION_MONTHS"]
    today = today or clock.today()
    return today - timedelta(days=round(months * 30.44))


def retention_candidates(today: date | None = None) -> list[RetentionCandidate]:
    """Participants not yet erased whose every enrolment is over and whose cohorts all ended before
    the cut-off."""
    cutoff = retention_cutoff(today)
    last_end = (
        sa.select(Enrolment.participant_id, sa.func.max(Cohort.end_date).label("last_end"))
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .group_by(Enrolment.participant_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(User, last_end.c.last_end)
        .join(last_end, last_end.c.participant_id == User.id)
        .where(
            User.role == Role.PARTICIPANT,
            last_end.c.last_end < cutoff,
            ~User.email.endswith("@" + ERASED_DOMAIN),
        )
        .order_by(last_end.c.last_end, User.id)
    ).all()
    candidates = []
    for user, last_end_date in rows:
        if any(enrolment.status is EnrolmentStatus.ACTIVE for enrolment in user.enrolments):
            # The cohort ended but the enrolment was never closed: erasing would hide that.
            continue
        candidates.append(RetentionCandidate(user=user, last_end_date=last_end_date))
    return candidates


def apply_retention(today: date | None = None) -> list[ErasureReport]:
    reports = []
    for candidate in retention_candidates(today):
        reports.append(erase_person(candidate.user, actor=None, reason="retention"))
    return reports
