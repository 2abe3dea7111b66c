"""Reports: the programme report for funding partners (page, CSV for Excel, PDF) and a cohort's
progress picture (a heat map of participants by assignments)."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from lms import charts, clock
from lms.dates import short_date
from lms.extensions import db
from lms.i18n import label
from lms.models import Cohort, Enrolment, EnrolmentStatus, IntakeType, Programme, Role
from lms.pdf.programme_report import ReportText, render_programme_report
from lms.permissions import is_trainer_of, role_required
from lms.services import dashboards
from lms.services.progress import assignment_states, enrolment_progress, expected_curve

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _year() -> int | None:
    year = request.args.get("year", type=int)
    return year if year and 2000 <= year <= 2100 else None


def _table(report: dashboards.ProgrammeReport) -> tuple[list[str], list[list[str]]]:
    header = [
        _("Region"),
        _("Participants"),
        *(label(intake) for intake in IntakeType),
        _("Completions"),
        _("Withdrawals"),
        _("Certificates issued"),
        _("Employers involved"),
        _("Attendance on training days"),
    ]
    rows = []
    for row in [*report.rows, report.total]:
        rows.append(
            [
                label(row.region) if row.region is not None else _("Total"),
                str(row.participants),
                *(str(row.by_intake[intake]) for intake in IntakeType),
                str(row.completions),
                str(row.withdrawals),
                str(row.certificates),
                str(row.employers),
                "–" if row.attendance_percent is None else f"{row.attendance_percent}%",
            ]
        )
    return header, rows


def _subtitle(year: int | None) -> str:
    period = (
        _("School year %(start)d-%(end)d", start=year, end=year + 1)
        if year
        else _("All school years")
    )
    return _("%(period)s · made on %(date)s", period=period, date=short_date(clock.today()))


def _filename(year: int | None, extension: str) -> str:
    return f"programmarapportage-{year or 'alle-jaren'}.{extension}"


@bp.get("/programme")
@role_required(Role.COORDINATOR)
def programme():  # type: ignore[no-untyped-def]
    year = _year()
    report = dashboards.programme_report(year)
    header, rows = _table(report)
    return render_template(
        "reports/programme.html",
        header=header,
        rows=rows,
        year=year,
        years=dashboards.report_years(),
        subtitle=_subtitle(year),
    )


@bp.get("/programme.csv")
@role_required(Role.COORDINATOR)
def programme_csv():  # type: ignore[no-untyped-def]
    year = _year()
    header, rows = _table(dashboards.programme_report(year))
    buffer = io.StringIO()
    # Excel in the Netherlands expects semicolons; the BOM makes it read UTF-8 (ë, é) correctly.
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    body = "\ufeff" + buffer.getvalue()
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(year, "csv")}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/programme.pdf")
@role_required(Role.COORDINATOR)
def programme_pdf():  # type: ignore[no-untyped-def]
    year = _year()
    header, rows = _table(dashboards.programme_report(year))
    pdf = render_programme_report(
        ReportText(
            title=_("Programme report Vakkracht MKB Zuid-Limburg"),
            subtitle=_subtitle(year),
            header=header,
            rows=rows,
            notes=[
                _(
                    "A participant who moved to another cohort is counted once, in the cohort they moved to."
                ),
                _("Certificates issued: certificates that have not been revoked."),
                _("Attendance: training days attended (present or late) of those recorded."),
            ],
            author=current_user.full_name,
        )
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(year, "pdf")}"',
            "Cache-Control": "no-store",
        },
    )


SYMBOLS = {
    "approved": ("✓", "approved"),
    "submitted": ("…", "submitted"),
    "needs_revision": ("↻", "needs_revision"),
    "draft": ("✎", "draft"),
    "overdue": ("!", "overdue"),
    None: ("", "empty"),
}


@bp.get("/cohorts/<int:cohort_id>")
@role_required(Role.TRAINER, Role.COORDINATOR)
def cohort(cohort_id: int):  # type: ignore[no-untyped-def]
    cohort = db.session.scalar(
        db.select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(
            joinedload(Cohort.programme).selectinload(Programme.assignments),
            selectinload(Cohort.trainers),
            selectinload(Cohort.enrolments).joinedload(Enrolment.participant),
        )
    )
    if cohort is None:
        abort(404)
    if current_user.role is Role.TRAINER and not is_trainer_of(current_user, cohort):
        abort(404)  # not yours: the same answer as a missing record
    today = clock.today()
    enrolments = sorted(
        (e for e in cohort.enrolments if e.status is EnrolmentStatus.ACTIVE),
        key=lambda e: (e.participant.sort_key, e.id),
    )
    assignments = list(cohort.programme.assignments)
    expected = expected_curve(cohort.programme)
    states = assignment_states(cohort, enrolments, today)
    # Last: reading the summaries refreshes the cohort and programme rows it joins.
    progress = enrolment_progress(enrolments, today)
    texts = {
        "approved": _("approved"),
        "submitted": _("waiting for assessment"),
        "needs_revision": _("needs revision"),
        "draft": _("draft"),
        "overdue": _("overdue"),
        None: _("not started"),
    }
    cells = []
    for enrolment in enrolments:
        row = []
        page = url_for("assessment.participant", enrolment_id=enrolment.id)
        for assignment in assignments:
            state = states[enrolment.id][assignment.id]
            key = state.value if hasattr(state, "value") else state
            symbol, css = SYMBOLS[key]
            row.append(
                charts.Cell(
                    symbol,
                    css,
                    f"{enrolment.participant.full_name} · {assignment.code}: {texts[key]}",
                    f"{page}#assignment-{assignment.code}",
                )
            )
        cells.append(row)
    heat = (
        charts.heat_map(
            title=_("Assignments per participant in %(cohort)s", cohort=cohort.name),
            row_labels=[e.participant.full_name for e in enrolments],
            column_labels=[a.code for a in assignments],
            cells=cells,
            row_links=[url_for("assessment.participant", enrolment_id=e.id) for e in enrolments],
        )
        if enrolments
        else None
    )
    handed_in = [
        p.handed_in / p.assignments.total * 100 for p in progress.values() if p.assignments.total
    ]
    line = charts.progress_over_year(
        expected=expected,
        week=cohort.week_of_programme(today),
        actual_percent=round(sum(handed_in) / len(handed_in)) if handed_in else 0,
        title=_("Progress of the group over the year"),
        expected_label=_("Expected"),
        actual_label=_("Group (average)"),
        week_label=_("Week of the programme"),
    )
    return render_template(
        "reports/cohort.html",
        cohort=cohort,
        heat=heat,
        line=line,
        legend=[(SYMBOLS[key][0], SYMBOLS[key][1], text) for key, text in texts.items()],
        enrolments=enrolments,
        progress=progress,
        today=today,
    )
