"""The portfolio overview as a PDF (A4): who, in which cohort and company, and per assignment its status,
dates, reflection, files and the trainers' feedback.

``render_portfolio(PortfolioText) -> bytes``. Every text arrives translated and formatted; this module
only escapes and lays it out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, SimpleDocTemplate, Spacer

from lms.pdf import register_fonts
from lms.pdf.common import (
    CREATOR,
    MUTED,
    Pair,
    Styles,
    base_style,
    facts_table,
    heading_style,
    label_style,
    page_footer,
    paragraph_text,
    title_style,
)

MARGIN = 18 * mm


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


def _styles() -> Styles:
    _regular, bold = register_fonts()
    base = base_style(10, 13.5)
    return {
        "body": base,
        "title": title_style(base),
        "h2": heading_style(
            "h2", base, font_size=13, leading=16, space_before=5 * mm, space_after=2 * mm
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
        "label": label_style(base, leading=12),
        "small": ParagraphStyle("small", base, fontSize=9, leading=12, textColor=MUTED),
        "question": ParagraphStyle("question", base, fontName=bold, spaceBefore=1.5 * mm),
        "answer": ParagraphStyle("answer", base, leftIndent=4 * mm),
    }


def _attempt_flowables(attempt: AttemptText, styles: Styles) -> list:
    flowables: list = [Paragraph(paragraph_text(attempt.heading), styles["h3"])]
    for question, answer in attempt.reflection:
        flowables.append(Paragraph(paragraph_text(question), styles["question"]))
        flowables.append(Paragraph(paragraph_text(answer or "–"), styles["answer"]))
    if attempt.files_heading:
        flowables.append(Paragraph(paragraph_text(attempt.files_heading), styles["question"]))
        lines = attempt.files or [attempt.no_files]
        for line in lines:
            flowables.append(Paragraph("• " + paragraph_text(line), styles["answer"]))
    if attempt.feedback:
        flowables.append(Paragraph(paragraph_text(attempt.feedback_heading), styles["question"]))
        for heading, text in attempt.feedback:
            flowables.append(Paragraph(paragraph_text(heading), styles["small"]))
            flowables.append(Paragraph(paragraph_text(text or "–"), styles["answer"]))
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
        creator=CREATOR,
    )
    width = template.width
    story: list = [Paragraph(paragraph_text(document.title), styles["title"])]
    story.append(facts_table(document.facts, styles, width))
    for assignment in document.assignments:
        story.append(CondPageBreak(40 * mm))
        head = [Paragraph(paragraph_text(assignment.heading), styles["h2"])]
        if assignment.facts:
            head.append(facts_table(assignment.facts, styles, width))
        story.append(KeepTogether(head))
        if not assignment.attempts and assignment.note:
            story.append(Spacer(1, 2 * mm))
            story.append(Paragraph(paragraph_text(assignment.note), styles["small"]))
        for attempt in assignment.attempts:
            story.extend(_attempt_flowables(attempt, styles))

    footer = page_footer(document.footer, document.page_label, MARGIN)
    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
