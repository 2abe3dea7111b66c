"""A participant's progress report as a PDF (A4): who, a summary, the assignments, the checklist levels,
the progress reviews, what is still open, and the moment it was made.

``render_progress_report(ReportText) -> bytes``. Every text arrives translated and formatted; this
module only escapes and lays it out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

from lms.pdf import register_fonts
from lms.pdf.common import (
    CREATOR,
    LINE,
    MUTED,
    SHADE,
    Pair,
    Styles,
    base_style,
    facts_table,
    heading_style,
    label_style,
    page_footer,
    title_style,
)
from lms.pdf.common import paragraph_text as _text

MARGIN = 18 * mm


@dataclass(frozen=True)
class TableText:
    """A table under a heading; ``widths`` are fractions of the text width."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float]
    caption: str = ""  # a sub-heading above the table (a checklist group)


@dataclass(frozen=True)
class SectionText:
    heading: str
    tables: Sequence[TableText] = ()
    notes: Sequence[Pair] = ()  # (heading, text) blocks, e.g. one per progress review
    lines: Sequence[str] = ()  # a bulleted list
    empty: str = ""  # shown when the section has nothing else


@dataclass(frozen=True)
class ReportText:
    title: str
    facts: Sequence[Pair]  # participant, cohort, employer, trainers, programme, made on
    sections: Sequence[SectionText] = field(default_factory=list)
    document_title: str = ""
    author: str = ""
    subject: str = ""
    footer: str = ""
    page_label: str = "Page"


def _styles() -> Styles:
    _regular, bold = register_fonts()
    base = base_style(9.5, 12.5)
    return {
        "body": base,
        "title": title_style(base),
        "h2": heading_style(
            "h2", base, font_size=13, leading=16, space_before=6 * mm, space_after=2 * mm
        ),
        "h3": ParagraphStyle(
            "h3", base, fontName=bold, fontSize=10.5, spaceBefore=3 * mm, spaceAfter=1 * mm
        ),
        "label": label_style(base),
        "head": ParagraphStyle("head", base, fontName=bold, fontSize=8.5, textColor=MUTED),
        "small": ParagraphStyle("small", base, fontSize=9, textColor=MUTED),
        "indent": ParagraphStyle("indent", base, leftIndent=4 * mm),
    }


def _table(data: TableText, styles: Styles, width: float) -> Table:
    rows = [[Paragraph(_text(cell), styles["head"]) for cell in data.header]]
    rows += [[Paragraph(_text(cell), styles["body"]) for cell in row] for row in data.rows]
    table = Table(rows, colWidths=[w * width for w in data.widths], hAlign="LEFT", repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, LINE),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def render_progress_report(document: ReportText) -> bytes:
    """The report as PDF bytes."""
    styles = _styles()
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=document.document_title or document.title,
        author=document.author,
        subject=document.subject,
        creator=CREATOR,
        lang="nl",
    )
    width = template.width
    story: list = [
        Paragraph(_text(document.title), styles["title"]),
        facts_table(document.facts, styles, width),
    ]
    for section in document.sections:
        story.append(CondPageBreak(30 * mm))
        story.append(Paragraph(_text(section.heading), styles["h2"]))
        has_content = bool(section.tables or section.notes or section.lines)
        if not has_content and section.empty:
            story.append(Paragraph(_text(section.empty), styles["small"]))
        for table in section.tables:
            if table.caption:
                story.append(Paragraph(_text(table.caption), styles["h3"]))
            story.append(_table(table, styles, width))
        for heading, text in section.notes:
            story.append(Paragraph(_text(heading), styles["h3"]))
            story.append(Paragraph(_text(text or "–"), styles["indent"]))
        for line in section.lines:
            story.append(Paragraph("• " + _text(line), styles["indent"]))

    footer = page_footer(document.footer, document.page_label, MARGIN)
    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
