"""Shipping labels: a 4x6 inch PDF (reportlab) and the same label in ZPL for thermal printers.

One page (PDF) or one ^XA...^XZ block (ZPL) per package, all with the shipment's tracking number.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas

from inventory.selectors import warehouse_address, warehouse_address_missing
from packing.documents import address_lines

PAGE_WIDTH, PAGE_HEIGHT = 4 * inch, 6 * inch
ZPL_DPI = 203


@dataclass(frozen=True)
class LabelPackage:
    number: int
    count: int
    weight_g: int


@dataclass(frozen=True)
class LabelData:
    carrier_name: str
    service_name: str
    tracking_number: str
    order_number: str
    ship_from: list[str]
    ship_to: list[str]
    packages: list[LabelPackage]


def label_data(*, shipment, packages, carrier_name: str, service_name: str, tracking_number: str) -> LabelData:
    """What goes on the label of a packing.Shipment (with its order and warehouse) and its packages."""
    warehouse = shipment.warehouse
    count = len(packages)
    return LabelData(
        carrier_name=carrier_name,
        service_name=service_name,
        tracking_number=tracking_number,
        order_number=shipment.order.number,
        ship_from=_ship_from(warehouse),
        ship_to=address_lines(shipment.order.ship_to),
        packages=[LabelPackage(number=p.number, count=count, weight_g=p.weight_g) for p in packages]
        or [LabelPackage(number=1, count=1, weight_g=0)],
    )


def _ship_from(warehouse) -> list[str]:
    """The warehouse's ship-from address as printed lines; its name and code until that is complete."""
    if warehouse_address_missing(warehouse):
        return [warehouse.name, f"Warehouse {warehouse.code}", warehouse.country]
    return address_lines(warehouse_address(warehouse))


def _kg(weight_g: int) -> str:
    return f"{weight_g / 1000:.2f} kg"


def label_pdf(data: LabelData) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT))
    pdf.setTitle(f"Label {data.tracking_number}")
    margin = 14
    for package in data.packages:
        top = PAGE_HEIGHT - margin
        pdf.setFont("Helvetica-Bold", 8)
        pdf.drawString(margin, top - 8, "FROM")
        pdf.setFont("Helvetica", 8)
        for i, line in enumerate(data.ship_from):
            pdf.drawString(margin, top - 18 - i * 9, line)
        pdf.setFont("Helvetica-Bold", 11)
        pdf.drawRightString(PAGE_WIDTH - margin, top - 10, data.carrier_name.upper())
        pdf.setFont("Helvetica", 8)
        pdf.drawRightString(PAGE_WIDTH - margin, top - 22, f"Order {data.order_number}")
        y = top - max(50, 23 + 9 * len(data.ship_from))  # below the FROM lines (three fit the 50)
        pdf.line(margin, y, PAGE_WIDTH - margin, y)
        pdf.setFont("Helvetica-Bold", 9)
        pdf.drawString(margin, y - 14, "SHIP TO")
        pdf.setFont("Helvetica", 12)
        for i, line in enumerate(data.ship_to):
            pdf.drawString(margin + 12, y - 32 - i * 15, line[:40])
        y = y - 40 - 15 * max(len(data.ship_to), 5)
        pdf.line(margin, y, PAGE_WIDTH - margin, y)
        pdf.setFont("Helvetica-Bold", 20)
        pdf.drawString(margin, y - 26, data.service_name.upper()[:22])
        pdf.setFont("Helvetica", 10)
        pdf.drawString(margin, y - 42, f"Package {package.number} of {package.count}   {_kg(package.weight_g)}")
        y -= 52
        pdf.line(margin, y, PAGE_WIDTH - margin, y)
        # Scale the bars so that the barcode uses the label's width without running off it.
        probe = Code128(data.tracking_number, barWidth=1, quiet=True)
        bar_width = min(1.6, (PAGE_WIDTH - 2 * margin - 20) / probe.width)
        barcode = Code128(data.tracking_number, barWidth=bar_width, barHeight=70, quiet=True)
        barcode.drawOn(pdf, (PAGE_WIDTH - barcode.width) / 2, margin + 40)
        pdf.setFont("Helvetica-Bold", 12)
        pdf.drawCentredString(PAGE_WIDTH / 2, margin + 22, f"TRACKING # {data.tracking_number}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


_ZPL_UNSAFE = re.compile(r"[\^~\x00-\x1f]")


def _zpl_text(value: str) -> str:
    """Field data without ZPL's command prefixes (^ and ~) or control characters."""
    return _ZPL_UNSAFE.sub(" ", value)


def label_zpl(data: LabelData) -> str:
    """The same label in ZPL II for a 203 dpi printer (812 x 1218 dots), UTF-8 (^CI28)."""
    width, height = 4 * ZPL_DPI, 6 * ZPL_DPI
    module = 3 if len(data.tracking_number) <= 16 else 2
    # Code 128 subset B: start, one symbol per character, check and stop of 11 modules, plus 2 for the stop bar.
    barcode_x = max(20, (width - (11 * (len(data.tracking_number) + 3) + 2) * module) // 2)
    blocks = []
    for package in data.packages:
        lines = ["^XA", "^CI28", f"^PW{width}", f"^LL{height}"]
        lines.append("^FO30,30^A0N,22,22^FDFROM^FS")
        for i, text in enumerate(data.ship_from):
            lines.append(f"^FO30,{58 + i * 26}^A0N,22,22^FD{_zpl_text(text)}^FS")
        lines.append(f"^FO30,30^FB752,1,0,R^A0N,32,32^FD{_zpl_text(data.carrier_name.upper())}^FS")
        lines.append(f"^FO30,70^FB752,1,0,R^A0N,22,22^FDOrder {_zpl_text(data.order_number)}^FS")
        rule = max(150, 72 + 26 * len(data.ship_from))  # below the FROM lines (three fit the 150)
        lines.append(f"^FO30,{rule}^GB752,3,3^FS")
        lines.append(f"^FO30,{rule + 20}^A0N,26,26^FDSHIP TO^FS")
        for i, text in enumerate(data.ship_to):
            lines.append(f"^FO60,{rule + 60 + i * 42}^A0N,36,36^FD{_zpl_text(text)}^FS")
        y = rule + 70 + 42 * max(len(data.ship_to), 5)
        lines.append(f"^FO30,{y}^GB752,3,3^FS")
        lines.append(f"^FO30,{y + 20}^A0N,60,60^FD{_zpl_text(data.service_name.upper())}^FS")
        lines.append(
            f"^FO30,{y + 90}^A0N,30,30^FDPackage {package.number} of {package.count}   {_kg(package.weight_g)}^FS"
        )
        lines.append(f"^FO30,{y + 135}^GB752,3,3^FS")
        lines.append(f"^FO{barcode_x},{height - 330}^BY{module}^BCN,200,Y,N,N^FD{_zpl_text(data.tracking_number)}^FS")
        lines.append("^XZ")
        blocks.append("\n".join(lines))
    return "\n".join(blocks) + "\n"
