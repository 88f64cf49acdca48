"""The packing slip: a PDF that goes in the box (reportlab), in the merchant's branding.

At the top the merchant's logo and name, the order number (also as a Code 128 barcode); the
merchant's colour (``Tenant.brand_color``) draws the rules and headings; its slip message is printed
at the foot of every page. The lines show unit prices, line totals and the order total when the
order has prices; a gift order (``Order.gift_message``) shows no price at all and carries a boxed
gift note with the message instead.
"""

from __future__ import annotations

import io
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import HRFlowable, Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from fulfillment.tenancy import selectors as tenancy_selectors
from orders.models import Order

LOGO_MAX_WIDTH = 60 * mm
LOGO_MAX_HEIGHT = 18 * mm
DEFAULT_ACCENT = colors.black
MARGIN = 18 * mm
FOOT = 16 * mm


def address_lines(address: dict) -> list[str]:
    """A postal address as printed lines (empty parts left out)."""
    city_line = " ".join(
        part for part in (address.get("city", ""), address.get("region", ""), address.get("postal_code", "")) if part
    )
    lines = [
        address.get("name", ""),
        address.get("company", ""),
        address.get("line1", ""),
        address.get("line2", ""),
        city_line,
        address.get("country", ""),
        address.get("phone", ""),
    ]
    return [str(line) for line in lines if line]


def _text(value: str) -> str:
    """Paragraph markup for plain text: escaped, line breaks kept."""
    return "<br/>".join(escape(part) for part in str(value).splitlines())


def _money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):,}"


def _logo(content: bytes) -> Image | None:
    """The logo scaled into LOGO_MAX_WIDTH x LOGO_MAX_HEIGHT, keeping its proportions; None when reportlab
    cannot read it (the logo was checked on upload, so this only guards the slip against a bad row)."""
    try:
        width, height = ImageReader(io.BytesIO(content)).getSize()
    except Exception:  # noqa: BLE001 - any unreadable image: the slip is printed without it
        return None
    scale = min(LOGO_MAX_WIDTH / width, LOGO_MAX_HEIGHT / height)
    image = Image(io.BytesIO(content), width=width * scale, height=height * scale)
    image.hAlign = "LEFT"
    return image


def packing_slip_pdf(*, order: Order) -> bytes:
    """The slip of ``order`` in its merchant's branding (see the module's docstring)."""
    branding = tenancy_selectors.branding_get(tenant_id=order.tenant_id)
    logo_row = tenancy_selectors.logo_get(tenant_id=order.tenant_id) if branding.logo_sha256 else None
    accent = colors.HexColor(branding.brand_color) if branding.brand_color else DEFAULT_ACCENT
    gift = bool(order.gift_message)

    styles = getSampleStyleSheet()
    title = ParagraphStyle("SlipTitle", parent=styles["Title"], textColor=accent, alignment=0)
    heading = ParagraphStyle("SlipHeading", parent=styles["Heading3"], textColor=accent)
    merchant = ParagraphStyle("SlipMerchant", parent=styles["Heading2"], spaceBefore=0, spaceAfter=0)
    foot = ParagraphStyle("SlipFoot", parent=styles["Italic"], fontSize=9, leading=11, alignment=1)
    body = styles["BodyText"]

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=16 * mm,
        bottomMargin=FOOT + 18 * mm,
        title=f"Packing slip {order.number}",
        author=branding.name,
    )

    # -- the top: logo and merchant name; order number and barcode ---------------------------
    brand_cell: list = []
    logo = _logo(bytes(logo_row.content)) if logo_row is not None else None
    if logo is not None:
        brand_cell += [logo, Spacer(1, 2 * mm)]
    brand_cell.append(Paragraph(escape(branding.name), merchant))
    barcode = Code128(order.number, barHeight=14 * mm, barWidth=0.42 * mm, humanReadable=False)
    top = Table([[brand_cell, barcode]], colWidths=[None, barcode.width + 4 * mm])
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (1, 0), (1, 0), "RIGHT")]))
    meta = [
        f"Your reference: {escape(order.external_id)}",
        f"Order date: {order.created_at:%Y-%m-%d}",
        f"Shipping: {escape(order.get_shipping_method_display())}",
    ]

    # -- the lines: prices unless it is a gift ------------------------------------------------
    lines = list(order.lines.select_related("product").order_by("pk"))
    priced = not gift and any(line.unit_price is not None for line in lines)
    rows = [["SKU", "Item", "Quantity", *(["Unit price", "Total"] if priced else [])]]
    total = Decimal("0")
    for line in lines:
        quantity = line.picked_quantity or line.quantity
        row = [line.sku, Paragraph(escape(line.product.name), body), str(quantity)]
        if priced:
            if line.unit_price is None:
                row += ["—", "—"]
            else:
                amount = line.unit_price * quantity
                total += amount
                row += [_money(line.unit_price), _money(amount)]
        rows.append(row)
    widths = [38 * mm, None, 20 * mm, *([24 * mm, 24 * mm] if priced else [])]
    commands = [
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("TEXTCOLOR", (0, 0), (-1, 0), accent),
        ("LINEBELOW", (0, 0), (-1, 0), 1, accent),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
        ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    if priced:
        rows.append(["", "", "", f"Total {escape(order.currency)}", _money(total)])
        commands += [
            ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
            ("LINEABOVE", (3, -1), (-1, -1), 1, accent),
        ]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(commands))

    story = [
        top,
        Spacer(1, 2 * mm),
        HRFlowable(width="100%", thickness=2, color=accent, spaceBefore=0, spaceAfter=3 * mm),
        Paragraph(f"Packing slip<br/>Order {escape(order.number)}", title),
        Paragraph("<br/>".join(meta), body),
        Spacer(1, 6 * mm),
        Paragraph("Ship to", heading),
        Paragraph("<br/>".join(escape(line) for line in address_lines(order.ship_to)), body),
        Spacer(1, 8 * mm),
        table,
    ]

    # -- the gift note: its own boxed section -------------------------------------------------
    if gift:
        note = Table(
            [
                [Paragraph("A gift for you", heading)],
                [Paragraph(_text(order.gift_message), ParagraphStyle("Gift", parent=body, fontSize=12, leading=16))],
            ],
            colWidths=["100%"],
        )
        note.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 1.5, accent),
                    ("LEFTPADDING", (0, 0), (-1, -1), 5 * mm),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 5 * mm),
                    ("TOPPADDING", (0, 0), (-1, 0), 4 * mm),
                    ("BOTTOMPADDING", (0, -1), (-1, -1), 5 * mm),
                ]
            )
        )
        story += [Spacer(1, 10 * mm), KeepTogether([note])]

    message = branding.slip_message or "Thank you for your order."

    def footer(canvas, document):
        """The merchant's slip message at the foot of every page, under a rule in its colour."""
        canvas.saveState()
        width = document.pagesize[0] - 2 * MARGIN
        canvas.setStrokeColor(accent)
        canvas.setLineWidth(1)
        canvas.line(MARGIN, FOOT + 14 * mm, MARGIN + width, FOOT + 14 * mm)
        paragraph = Paragraph(_text(message), foot)
        _w, h = paragraph.wrapOn(canvas, width, 14 * mm)
        paragraph.drawOn(canvas, MARGIN, FOOT + 12 * mm - h)
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
