"""The portfolio overview as a PDF (A4): who, in which cohort and company, and per assignment its status,
dates, reflection, files and the trainers' feedback.

``render_portfolio(PortfolioText) -> bytes``. Every text arrives translated and formatted; this module
only escapes and lays it out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape  # nosec B406 - escapes text for ReportLab; no XML is parsed

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from lms.pdf import register_fonts

INK = colors.HexColor("#1b1f23")
MUTED = colors.HexColor("#4a5561")
BRAND = colors.HexColor("#0b4f6c")
LINE = colors.HexColor("#cfd6dd")
MARGIN = 18 * mm

Pair = tuple[str, str]


@dataclass(frozen=True)
class AttemptText:
    heading: str  # "Attempt 1 · handed in 12 Oct 2026"
    reflection: Sequence[Pair] = ()  # (question, answer)
    files: Sequence[str] = ()  # "photo.jpg (1.2 MB)"
    files_heading: str = ""
    no_files: str = ""
    feedback: Sequence[Pair] = ()  # ("Approved · by ... on ...", feedback text)
    feedback_heading: str = ""


@dataclass(frozen=True)
class AssignmentText:
    heading: str  # "A1 · Title"
    facts: Sequence[Pair] = ()  # (label, value)
    attempts: Sequence[AttemptText] = ()
    note: str = ""  # shown when there are no attempts


@dataclass(frozen=True)
class PortfolioText:
    title: str
    facts: Sequence[Pair]
    assignments: Sequence[AssignmentText] = field(default_factory=list)
    document_title: str = ""  # PDF metadata
    author: str = ""
    footer: str = ""  # left of the page number
    page_label: str = "Page"


def _paragraph_text(text: str) -> str:
    return escape(text).replace("\n", "<br/>")


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = register_fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=10, leading=13.5, textColor=INK)
    return {
        "body": base,
        "title": ParagraphStyle(
            "title",
            base,
            fontName=bold,
            fontSize=18,
            leading=22,
            textColor=BRAND,
            spaceAfter=4 * mm,
        ),
        "h2": ParagraphStyle(
            "h2",
            base,
            fontName=bold,
            fontSize=13,
            leading=16,
            textColor=BRAND,
            spaceBefore=5 * mm,
            spaceAfter=2 * mm,
        ),
        "h3": ParagraphStyle(
            "h3",
            base,
            fontName=bold,
            fontSize=11,
            leading=14,
            spaceBefore=3 * mm,
            spaceAfter=1 * mm,
        ),
        "label": ParagraphStyle(
            "label", base, fontName=bold, fontSize=9, leading=12, textColor=MUTED
        ),
        "small": ParagraphStyle("small", base, fontSize=9, leading=12, textColor=MUTED),
        "question": ParagraphStyle("question", base, fontName=bold, spaceBefore=1.5 * mm),
        "answer": ParagraphStyle("answer", base, leftIndent=4 * mm),
    }


def _facts_table(facts: Sequence[Pair], styles: dict[str, ParagraphStyle], width: float) -> Table:
    rows = [
        [
            Paragraph(_paragraph_text(label), styles["label"]),
            Paragraph(_paragraph_text(value), styles["body"]),
        ]
        for label, value in facts
    ]
    table = Table(rows, colWidths=[0.3 * width, 0.7 * width], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, LINE),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _attempt_flowables(attempt: AttemptText, styles: dict[str, ParagraphStyle]) -> list:
    flowables: list = [Paragraph(_paragraph_text(attempt.heading), styles["h3"])]
    for question, answer in attempt.reflection:
        flowables.append(Paragraph(_paragraph_text(question), styles["question"]))
        flowables.append(Paragraph(_paragraph_text(answer or "–"), styles["answer"]))
    if attempt.files_heading:
        flowables.append(Paragraph(_paragraph_text(attempt.files_heading), styles["question"]))
        lines = attempt.files or [attempt.no_files]
        for line in lines:
            flowables.append(Paragraph("• " + _paragraph_text(line), styles["answer"]))
    if attempt.feedback:
        flowables.append(Paragraph(_paragraph_text(attempt.feedback_heading), styles["question"]))
        for heading, text in attempt.feedback:
            flowables.append(Paragraph(_paragraph_text(heading), styles["small"]))
            flowables.append(Paragraph(_paragraph_text(text or "–"), styles["answer"]))
    return flowables


def render_portfolio(document: PortfolioText) -> bytes:
    """The overview as PDF bytes."""
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
        creator="Vakkracht LMS",
    )
    width = template.width
    story: list = [Paragraph(_paragraph_text(document.title), styles["title"])]
    story.append(_facts_table(document.facts, styles, width))
    for assignment in document.assignments:
        story.append(CondPageBreak(40 * mm))
        head = [Paragraph(_paragraph_text(assignment.heading), styles["h2"])]
        if assignment.facts:
            head.append(_facts_table(assignment.facts, styles, width))
        story.append(KeepTogether(head))
        if not assignment.attempts and assignment.note:
            story.append(Spacer(1, 2 * mm))
            story.append(Paragraph(_paragraph_text(assignment.note), styles["small"]))
        for attempt in assignment.attempts:
            story.extend(_attempt_flowables(attempt, styles))

    regular, _bold = register_fonts()

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(regular, 8)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 10 * mm, document.footer)
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, f"{document.page_label} {doc.page}")
        canvas.restoreState()

    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
