"""The certificate as a PDF (A4, portrait): the issuer (logo and name), what kind of document it is,
programme, participant, cohort and region, dates, the competency groups and 21st-century skills achieved,
place and date of issue, signature lines (programme manager and trainer), the partners, the number, and
a QR code (ReportLab's own vector widget) that opens the public verification page.

``render_certificate(CertificateText) -> bytes``. Every text arrives translated and formatted; this
module only escapes and lays it out. The QR code is also a clickable link to the same address, so a
reader on a screen can follow it and a test can read the address back.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from reportlab.graphics.barcode import qrencoder
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Image,
    KeepInFrame,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from lms.pdf import register_fonts
from lms.pdf.common import (
    BRAND,
    CREATOR,
    INK,
    MUTED,
    Pair,
    Styles,
    base_style,
    facts_table,
    heading_style,
    label_style,
)
from lms.pdf.common import paragraph_text as _text

MARGIN = 20 * mm
QR_SIZE = 32 * mm
FOOT = QR_SIZE + 6 * mm  # room kept free at the bottom for the QR code and the number
FRAME_PADDING = 6  # points: ReportLab's default padding inside the page's frame
LOGO_HEIGHT = 12 * mm
LOGO_MAX_WIDTH = 70 * mm


@dataclass(frozen=True)
class CertificateText:
    heading: str  # "Certificaat"
    programme: str  # programme title
    level: str  # "Programmacertificaat (certificaat van deelname) op mbo-niveau 2"
    kind: str  # "Dit is geen mbo-diploma: ..."
    intro: str  # "<issuer> verklaart dat"
    name: str  # the participant's full name
    statement: str  # "... de praktijkopleiding met goed gevolg heeft afgerond."
    facts: Sequence[Pair]  # (label, value): cohort and region, dates, employer, issued on
    groups_heading: str
    groups: Sequence[str]  # competency groups achieved
    skills_heading: str
    skills: Sequence[str]  # 21st-century skills achieved
    signatures: Sequence[Pair]  # (role, name): trainer(s), coordinator
    number_label: str  # "Certificaatnummer"
    number: str  # VK-2027-PK-0007
    verify_text: str  # "Controleer dit certificaat op:"
    verify_url: str  # absolute /verify/<code> address, encoded in the QR code
    issuer: str = ""  # the issuing organisation, with its address and website
    logo: str | None = None  # path of the issuer's logo (PNG/JPEG), printed above the heading
    place_and_date: str = ""  # "Uitgereikt in Heerlen op 2 juli 2027"
    partners: str = ""  # "In samenwerking met ..."
    document_title: str = ""  # PDF metadata
    author: str = ""
    subject: str = ""
    keywords: Sequence[str] = field(default_factory=tuple)


def _styles() -> Styles:
    _regular, bold = register_fonts()
    base = base_style(10.5, 14)
    centred = ParagraphStyle("centred", base, alignment=TA_CENTER)
    return {
        "body": base,
        "centred": centred,
        "heading": heading_style("heading", centred, font_size=28, leading=32),
        "programme": ParagraphStyle(
            "programme", centred, fontName=bold, fontSize=14, leading=18, spaceBefore=2 * mm
        ),
        "level": ParagraphStyle("level", centred, textColor=MUTED),
        "name": ParagraphStyle(
            "name",
            centred,
            fontName=bold,
            fontSize=22,
            leading=28,
            spaceBefore=2 * mm,
            spaceAfter=2 * mm,
        ),
        "h2": heading_style(
            "h2", base, font_size=11.5, leading=15, space_before=3 * mm, space_after=1 * mm
        ),
        "label": label_style(base, leading=12),
        "list": ParagraphStyle("list", base, fontSize=9, leading=11.5),
        "signature": ParagraphStyle("signature", base, fontSize=9.5, leading=12.5),
        "small": ParagraphStyle("small", centred, fontSize=8.5, leading=11, textColor=MUTED),
        "issuer": ParagraphStyle("issuer", base, fontSize=8.5, leading=11, textColor=MUTED),
    }


def _issuer_header(document: CertificateText, styles: Styles, width: float) -> Table:
    """The issuer's logo (when there is one) beside its name, address and website."""
    name, _newline, rest = document.issuer.partition("\n")
    text = Paragraph(f"<b>{_text(name)}</b><br/>{_text(rest)}", styles["issuer"])
    if not document.logo:
        return Table([[text]], colWidths=[width])
    logo = _logo(document.logo)
    table = Table([[logo, text]], colWidths=[logo.drawWidth + 4 * mm, None], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _logo(path: str) -> Image:
    """The logo at LOGO_HEIGHT, its proportions kept (narrower when it would be too wide)."""
    width, height = ImageReader(path).getSize()
    scale = min(LOGO_HEIGHT / height, LOGO_MAX_WIDTH / width)
    return Image(path, width=width * scale, height=height * scale, mask="auto")


def _two_columns(items: Sequence[str], styles: Styles, width: float) -> Table:
    """A compact list in two columns, filled top to bottom."""
    half = (len(items) + 1) // 2
    left, right = list(items[:half]), list(items[half:])
    right += [""] * (len(left) - len(right))
    rows = [
        [
            Paragraph("✓ " + _text(a), styles["list"]),
            Paragraph(("✓ " + _text(b)) if b else "", styles["list"]),
        ]
        for a, b in zip(left, right, strict=True)
    ]
    table = Table(rows or [["", ""]], colWidths=[width / 2, width / 2], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5),
            ]
        )
    )
    return table


def _signatures(pairs: Sequence[Pair], styles: Styles, width: float) -> Table:
    cells = [
        Paragraph(f"<b>{_text(name)}</b><br/>{_text(role)}", styles["signature"])
        for role, name in pairs
    ]
    columns = max(len(cells), 1)
    table = Table([cells or [""]], colWidths=[width / columns] * columns, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEABOVE", (0, 0), (-1, -1), 0.5, INK),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 6 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


QR_BORDER = 4  # modules of quiet zone around the code, as the QR standard asks


def qr_modules(url: str) -> list[list[bool]]:
    """The QR code of ``url`` as rows of modules (True: dark), error correction level M: ReportLab's own
    encoder, as its ``QrCodeWidget`` uses it, with the mask pattern chosen by the standard's penalty
    rules."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(url)
    code.make()
    return [[bool(module) for module in row] for row in code.modules]


def draw_qr(canvas: Canvas, url: str, x: float, y: float, size: float = QR_SIZE) -> None:
    """The QR code of ``url`` in a square of ``size`` points (quiet zone included) at (x, y).

    Encoded once and drawn as one filled path: one rectangle per run of dark modules in a row, in whole
    module units under one scaling (so no coordinate needs formatting as a decimal). ReportLab's
    ``QrCodeWidget`` in a ``Drawing`` encoded the code twice (bounds, then drawing: 2 x 8 mask trials)
    and built a validated shape object per run: most of the certificate's rendering time.
    """
    modules = qr_modules(url)
    side = len(modules) + 2 * QR_BORDER
    runs = []
    for r, row in enumerate(modules):
        bottom = side - QR_BORDER - 1 - r  # module rows counted from the bottom of the square
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            runs.append(f"{start + QR_BORDER} {bottom} {c - start} 1 re")
    canvas.saveState()
    canvas.setFillColor(colors.black)
    canvas.transform(size / side, 0, 0, size / side, x, y)
    canvas.addLiteral("n\n" + "\n".join(runs) + "\nf")
    canvas.restoreState()


def certificate_story(document: CertificateText, styles: Styles, width: float) -> list:
    """The flowables of the certificate's page, top to bottom (the footer is drawn by the page)."""
    story: list = [_issuer_header(document, styles, width)] if document.issuer else []
    story += [
        Paragraph(_text(document.heading), styles["heading"]),
        Paragraph(_text(document.programme), styles["programme"]),
        Paragraph(_text(document.level), styles["level"]),
        Paragraph(_text(document.kind), styles["small"]),
        Spacer(1, 3 * mm),
        Paragraph(_text(document.intro), styles["centred"]),
        Paragraph(_text(document.name), styles["name"]),
        Paragraph(_text(document.statement), styles["centred"]),
        Spacer(1, 5 * mm),
        facts_table(document.facts, styles, width, top_padding=1, bottom_padding=1.5),
    ]
    if document.groups:
        story.append(Paragraph(_text(document.groups_heading), styles["h2"]))
        story.append(_two_columns(document.groups, styles, width))
    if document.skills:
        story.append(Paragraph(_text(document.skills_heading), styles["h2"]))
        story.append(_two_columns(document.skills, styles, width))
    if document.place_and_date:
        story.append(Spacer(1, 4 * mm))
        story.append(Paragraph(_text(document.place_and_date), styles["body"]))
    if document.signatures:
        story.append(Spacer(1, 10 * mm))
        story.append(_signatures(document.signatures, styles, width))
    if document.partners:
        story.append(Spacer(1, 3 * mm))
        story.append(Paragraph(_text(document.partners), styles["small"]))
    return story


def render_certificate(document: CertificateText) -> bytes:
    """The certificate as PDF bytes."""
    styles = _styles()
    regular, bold = register_fonts()
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + 4 * mm,
        bottomMargin=MARGIN + FOOT,
        title=document.document_title or f"{document.heading} {document.number}",
        author=document.author,
        subject=document.subject,
        keywords=list(document.keywords),
        creator=CREATOR,
        lang="nl",
    )
    # One page always: a longer curriculum (more groups and skills) shrinks the text a little.
    story = [
        KeepInFrame(
            template.width,
            template.height - 2 * FRAME_PADDING,
            certificate_story(document, styles, template.width),
            mode="shrink",
        )
    ]

    def frame(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        page_width, page_height = A4
        canvas.saveState()
        canvas.setStrokeColor(BRAND)
        canvas.setLineWidth(2)
        canvas.rect(10 * mm, 10 * mm, page_width - 20 * mm, page_height - 20 * mm)
        canvas.setLineWidth(0.5)
        canvas.rect(12 * mm, 12 * mm, page_width - 24 * mm, page_height - 24 * mm)
        # Number and verification, bottom left; the QR code bottom right, also a link.
        bottom = MARGIN
        qr_x = page_width - MARGIN - QR_SIZE
        draw_qr(canvas, document.verify_url, qr_x, bottom)
        canvas.linkURL(
            document.verify_url, (qr_x, bottom, qr_x + QR_SIZE, bottom + QR_SIZE), relative=0
        )
        canvas.setFillColor(MUTED)
        canvas.setFont(bold, 9)
        canvas.drawString(MARGIN, bottom + QR_SIZE - 4 * mm, document.number_label)
        canvas.setFillColor(INK)
        canvas.setFont(bold, 13)
        canvas.drawString(MARGIN, bottom + QR_SIZE - 10 * mm, document.number)
        canvas.setFillColor(MUTED)
        canvas.setFont(regular, 8.5)
        canvas.drawString(MARGIN, bottom + 8 * mm, document.verify_text)
        canvas.setFillColor(BRAND)
        canvas.setFont(regular, 8)
        canvas.drawString(MARGIN, bottom + 3 * mm, document.verify_url)
        text_width = canvas.stringWidth(document.verify_url, regular, 8)
        canvas.linkURL(
            document.verify_url,
            (MARGIN, bottom + 2 * mm, MARGIN + text_width, bottom + 6 * mm),
            relative=0,
        )
        canvas.restoreState()

    template.build(story, onFirstPage=frame, onLaterPages=frame)
    return buffer.getvalue()
