"""What every PDF in ``lms.pdf`` shares: the colours, text escaping, the paragraph styles they have in
common, the two-column facts table and the footer with page numbers.

Pure ReportLab, no Flask: each document module keeps its own layout and uses these parts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from xml.sax.saxutils import escape  # nosec B406 - escapes text for ReportLab; no XML is parsed

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from lms.pdf import register_fonts

INK = colors.HexColor("#1b1f23")
MUTED = colors.HexColor("#4a5561")
BRAND = colors.HexColor("#0b4f6c")
LINE = colors.HexColor("#cfd6dd")
SHADE = colors.HexColor("#eef2f5")
CREATOR = "Vakkracht LMS"

Pair = tuple[str, str]
Styles = dict[str, ParagraphStyle]


def paragraph_text(value: str) -> str:
    """``value`` escaped for a ReportLab paragraph, its line breaks kept."""
    return escape(value).replace("\n", "<br/>")


def base_style(font_size: float, leading: float) -> ParagraphStyle:
    """The body text in the embedded font; every other style derives from it."""
    regular, _bold = register_fonts()
    return ParagraphStyle(
        "base", fontName=regular, fontSize=font_size, leading=leading, textColor=INK
    )


def heading_style(
    name: str,
    base: ParagraphStyle,
    *,
    font_size: float,
    leading: float,
    space_before: float = 0,
    space_after: float = 0,
) -> ParagraphStyle:
    """A bold heading in the brand colour."""
    _regular, bold = register_fonts()
    return ParagraphStyle(
        name,
        base,
        fontName=bold,
        fontSize=font_size,
        leading=leading,
        textColor=BRAND,
        spaceBefore=space_before,
        spaceAfter=space_after,
    )


def title_style(base: ParagraphStyle) -> ParagraphStyle:
    """The document title of the reports (18 pt, brand colour)."""
    return heading_style("title", base, font_size=18, leading=22, space_after=4 * mm)


def label_style(base: ParagraphStyle, leading: float | None = None) -> ParagraphStyle:
    """The muted bold label in the left column of a facts table."""
    _regular, bold = register_fonts()
    extra: dict[str, Any] = {} if leading is None else {"leading": leading}
    return ParagraphStyle("label", base, fontName=bold, fontSize=9, textColor=MUTED, **extra)


def facts_table(
    facts: Sequence[Pair],
    styles: Styles,
    width: float,
    *,
    top_padding: float = 2,
    bottom_padding: float = 3,
) -> Table:
    """(label, value) rows: the label in ``styles["label"]`` (30 %), the value in ``styles["body"]``."""
    rows = [
        [
            Paragraph(paragraph_text(label), styles["label"]),
            Paragraph(paragraph_text(value), styles["body"]),
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
                ("TOPPADDING", (0, 0), (-1, -1), top_padding),
                ("BOTTOMPADDING", (0, 0), (-1, -1), bottom_padding),
            ]
        )
    )
    return table


def page_footer(
    text: str, page_label: str, margin: float
) -> Callable[[Canvas, SimpleDocTemplate], None]:
    """A page callback for an A4 portrait page: ``text`` bottom left, "<page_label> <n>" bottom right."""
    regular, _bold = register_fonts()

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(regular, 8)
        canvas.setFillColor(MUTED)
        canvas.drawString(margin, 10 * mm, text)
        canvas.drawRightString(A4[0] - margin, 10 * mm, f"{page_label} {doc.page}")
        canvas.restoreState()

    return footer
