"""The programme report for funding partners as a PDF (A4 landscape): a title, a few facts and one
table. Every text arrives translated and formatted; this module only escapes and lays it out."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape  # nosec B406 - escapes text for ReportLab; no XML is parsed

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from lms.pdf import register_fonts
from lms.pdf.common import BRAND, INK, LINE, MUTED, heading_style

MARGIN = 15 * mm


@dataclass(frozen=True)
class ReportText:
    title: str
    subtitle: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]  # the last row is the total, printed bold
    notes: Sequence[str] = ()
    author: str = ""


def render_programme_report(report: ReportText) -> bytes:
    regular, bold = register_fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=12, textColor=INK)
    head = ParagraphStyle("head", parent=body, fontName=bold, textColor=colors.white)
    title = heading_style("title", body, font_size=16, leading=20)
    muted = ParagraphStyle("muted", parent=body, textColor=MUTED)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=report.title,
        author=report.author,
    )
    data = [[Paragraph(escape(cell), head) for cell in report.header]]
    for index, row in enumerate(report.rows):
        style = (
            ParagraphStyle("total", parent=body, fontName=bold)
            if index == len(report.rows) - 1
            else body
        )
        data.append([Paragraph(escape(cell), style) for cell in row])
    table = Table(data, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), BRAND),
                ("GRID", (0, 0), (-1, -1), 0.5, LINE),
                ("LINEABOVE", (0, -1), (-1, -1), 1.2, INK),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ]
        )
    )
    story = [
        Paragraph(escape(report.title), title),
        Paragraph(escape(report.subtitle), muted),
        Spacer(1, 6 * mm),
        table,
        Spacer(1, 4 * mm),
    ]
    story += [Paragraph(escape(note), muted) for note in report.notes]
    document.build(story)
    return buffer.getvalue()
