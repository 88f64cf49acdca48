"""PDF labels: location labels for racking and product labels, each with a Code 128 barcode.

Labels are 4 x 2 inch (a common thermal label size), one per page, so that a label printer
cuts them one by one; the code is also printed in large type for people.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas

from inventory.models import Location, Product

LABEL_WIDTH = 4 * inch
LABEL_HEIGHT = 2 * inch
MARGIN = 10


def _barcode(pdf: canvas.Canvas, value: str, *, y: float, height: float) -> None:
    # Scale the bars so that the barcode uses the label's width without running off it.
    probe = Code128(value, barWidth=1, quiet=True)
    bar_width = min(1.5, (LABEL_WIDTH - 2 * MARGIN) / probe.width)
    barcode = Code128(value, barWidth=bar_width, barHeight=height, quiet=True)
    barcode.drawOn(pdf, (LABEL_WIDTH - barcode.width) / 2, y)


def _fit(pdf: canvas.Canvas, text: str, *, font: str, largest: int, width: float) -> int:
    size = largest
    while size > 8 and pdf.stringWidth(text, font, size) > width:
        size -= 1
    return size


def location_labels_pdf(locations: Iterable[Location]) -> bytes:
    """One label per location: Code 128 of the code (its barcode) and the code in large type."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(LABEL_WIDTH, LABEL_HEIGHT))
    pdf.setTitle("Location labels")
    for location in locations:
        _barcode(pdf, location.code, y=LABEL_HEIGHT - MARGIN - 70, height=70)
        size = _fit(pdf, location.code, font="Helvetica-Bold", largest=40, width=LABEL_WIDTH - 2 * MARGIN)
        pdf.setFont("Helvetica-Bold", size)
        pdf.drawCentredString(LABEL_WIDTH / 2, MARGIN + 8, location.code)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def product_label_code(product: Product) -> str:
    """What the product label encodes: its first barcode, else its SKU."""
    first = product.barcode_set.order_by("pk").values_list("code", flat=True).first()
    return first or product.sku


def product_label_pdf(product: Product) -> bytes:
    """Code 128 of the first barcode (or the SKU), the product name and the SKU."""
    code = product_label_code(product)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(LABEL_WIDTH, LABEL_HEIGHT))
    pdf.setTitle(f"Label {product.sku}")
    _barcode(pdf, code, y=LABEL_HEIGHT - MARGIN - 60, height=60)
    pdf.setFont("Helvetica", 9)
    pdf.drawCentredString(LABEL_WIDTH / 2, LABEL_HEIGHT - MARGIN - 71, code)
    name = product.name[:60]
    pdf.setFont("Helvetica", _fit(pdf, name, font="Helvetica", largest=14, width=LABEL_WIDTH - 2 * MARGIN))
    pdf.drawCentredString(LABEL_WIDTH / 2, MARGIN + 34, name)
    sku_size = _fit(pdf, product.sku, font="Helvetica-Bold", largest=24, width=LABEL_WIDTH - 2 * MARGIN)
    pdf.setFont("Helvetica-Bold", sku_size)
    pdf.drawCentredString(LABEL_WIDTH / 2, MARGIN + 6, product.sku)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
