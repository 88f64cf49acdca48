"""Shipping documents drawn here: the end-of-day manifest (PDF), and a carrier's PDF label turned
into ZPL for a thermal printer (rasterised at 203 dpi into one ^GFA graphic field per page)."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from inventory.selectors import warehouse_address
from packing.documents import address_lines

ZPL_DPI = 203
LABEL_WIDTH_IN, LABEL_HEIGHT_IN = 4, 6


def pdf_to_zpl(pdf: bytes) -> str | None:
    """A 4x6 PDF label as ZPL II: each page rendered at 203 dpi, thresholded to black and white
    and sent as one graphic field (^GFA, hex). None when the PDF cannot be read."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError:
        return None
    blocks = []
    width_dots, height_dots = LABEL_WIDTH_IN * ZPL_DPI, LABEL_HEIGHT_IN * ZPL_DPI
    try:
        for page in document:
            width_pt, height_pt = page.get_size()
            # Fit the page onto the 4x6 label whatever its own size (carriers send 4x6 or letter halves).
            scale = min(width_dots / width_pt, height_dots / height_pt)
            image = page.render(scale=scale, grayscale=True).to_pil().convert("L")
            bitmap = image.point(lambda value: 255 if value < 160 else 0).convert("1")
            width, height = bitmap.size
            row_bytes = (width + 7) // 8
            # PIL's mode "1" packs 1 = white; ZPL wants 1 = black: invert the packed bytes.
            packed = bytes(b ^ 0xFF for b in bitmap.tobytes())
            data = packed.hex().upper()
            total = row_bytes * height
            blocks.append(f"^XA^PW{width_dots}^LL{height_dots}^FO0,0^GFA,{total},{total},{row_bytes},{data}^FS^XZ")
    finally:
        document.close()
    return "\n".join(blocks) + "\n" if blocks else None


def _kg(grams: int) -> str:
    return f"{grams / 1000:.2f} kg"


def manifest_pdf(manifest, labels: list, packages: list) -> bytes:
    """The end-of-day document: the account, warehouse, every shipment with its tracking numbers,
    packages and weight, totals, and a line for the driver's signature."""
    buffer = io.BytesIO()
    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"Manifest {manifest.account.display_name} {manifest.created_at:%Y-%m-%d}",
    )
    warehouse = manifest.warehouse
    local = manifest.created_at.astimezone(ZoneInfo(warehouse.timezone))
    by_shipment: dict = {}
    for package in packages:
        by_shipment.setdefault(package.shipment_id, []).append(package)
    story = [
        Paragraph(f"End of day manifest: {manifest.account.display_name}", styles["Title"]),
        Paragraph(
            f"Warehouse {warehouse.code} ({warehouse.name}), closed {local:%Y-%m-%d %H:%M} {warehouse.timezone}"
            f" by {manifest.created_by or 'the system'}",
            styles["Normal"],
        ),
    ]
    address = warehouse_address(warehouse)
    origin = [line for line in address_lines({**address, "name": address["name"] or warehouse.name}) if line]
    if origin:
        story.append(Paragraph("Ship from: " + ", ".join(origin), styles["Normal"]))
    if manifest.carrier_reference:
        story.append(Paragraph(f"Carrier manifest reference: {manifest.carrier_reference}", styles["Normal"]))
    story.append(Spacer(1, 6 * mm))
    rows = [["Order", "Service", "Tracking numbers", "Packages", "Weight"]]
    for label in labels:
        parcels = by_shipment.get(label.shipment_id, [])
        rows.append(
            [
                label.shipment.order.number,
                label.service_name or label.service_code,
                Paragraph("<br/>".join(label.tracking_numbers or []), styles["BodyText"]),
                str(len(parcels)),
                _kg(sum(p.weight_g for p in parcels)),
            ]
        )
    rows.append(
        [
            "Total",
            "",
            f"{manifest.shipments_count} shipments",
            str(manifest.packages_count),
            _kg(manifest.total_weight_g),
        ]
    )
    table = Table(rows, colWidths=[28 * mm, 42 * mm, 60 * mm, 20 * mm, 25 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -2), [colors.white, colors.HexColor("#f2f2f2")]),
            ]
        )
    )
    story += [table, Spacer(1, 16 * mm)]
    story.append(
        Paragraph(
            "Received by (driver): ______________________________   Date/time: ________________", styles["Normal"]
        )
    )
    doc.build(story)
    return buffer.getvalue()
