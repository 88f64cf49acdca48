"""The packing slip: a PDF that goes in the box (reportlab)."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from orders.models import Order


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


def packing_slip_pdf(*, order: Order) -> bytes:
    """Order number (also as a Code 128 barcode), ship-to and the lines with SKU, name and quantity."""
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"Packing slip {order.number}",
    )
    barcode = Code128(order.number, barHeight=14 * mm, barWidth=0.42 * mm, humanReadable=False)
    header = Table(
        [
            [
                Paragraph(f"Packing slip<br/>Order {escape(order.number)}", styles["Title"]),
                barcode,
            ]
        ],
        colWidths=[None, barcode.width + 4 * mm],
    )
    header.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (1, 0), (1, 0), "RIGHT")]))
    meta = [
        f"Your reference: {escape(order.external_id)}",
        f"Order date: {order.created_at:%Y-%m-%d}",
        f"Shipping: {escape(order.get_shipping_method_display())}",
    ]
    ship_to = "<br/>".join(escape(line) for line in address_lines(order.ship_to))
    rows = [["SKU", "Item", "Quantity"]]
    for line in order.lines.select_related("product").order_by("pk"):
        quantity = line.picked_quantity or line.quantity
        rows.append([line.sku, Paragraph(escape(line.product.name), styles["BodyText"]), str(quantity)])
    lines = Table(rows, colWidths=[45 * mm, None, 25 * mm], repeatRows=1)
    lines.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
                ("ALIGN", (2, 0), (2, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story = [
        header,
        Spacer(1, 4 * mm),
        Paragraph("<br/>".join(meta), styles["BodyText"]),
        Spacer(1, 6 * mm),
        Paragraph("Ship to", styles["Heading3"]),
        Paragraph(ship_to, styles["BodyText"]),
        Spacer(1, 8 * mm),
        lines,
        Spacer(1, 10 * mm),
        Paragraph("Thank you for your order.", styles["Italic"]),
    ]
    doc.build(story)
    return buffer.getvalue()
