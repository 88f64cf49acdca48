"""An invoice as documents: the PDF a merchant files (reportlab) and the CSV of every fee behind it.

The PDF: the operator's details (``Invoice.issuer``) and the merchant's (``bill_to``), the invoice
number, issue date and period; one line per fee kind with its quantity, fee count and amount; the
subtotal, the top-up to the monthly minimum and the total. The CSV: one row per fee frozen to the
invoice, written by PostgreSQL's COPY into a spooled temporary file while the request (and its
tenant scope) is open, so that a million fees never sit in memory as one string.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from decimal import Decimal
from xml.sax.saxutils import escape

from django.db import connection
from django.http import FileResponse, HttpResponse
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from billing import selectors
from billing.models import Invoice
from fulfillment.api.documents import document_response
from fulfillment.fees.models import FeeKind

KIND_LABELS = selectors.KIND_LABELS
MARGIN = 18 * mm
QUANTITY_UNITS = {
    FeeKind.STORAGE: "m³·days",
    FeeKind.RECEIVING: "units",
    FeeKind.PICK: "orders",
    FeeKind.PICK_EXTRA_UNIT: "units",
    FeeKind.PACK: "packages",
    FeeKind.MATERIALS: "boxes",
    FeeKind.SHIPPING: "labels",
    FeeKind.RETURN: "returns",
    FeeKind.RETURN_UNIT: "units",
    FeeKind.ADJUSTMENT: "",
}


def money(amount: Decimal, currency: str) -> str:
    return f"{Decimal(amount).quantize(Decimal('0.01')):,} {currency}"


SINGULAR = {
    "units": "unit",
    "orders": "order",
    "packages": "package",
    "boxes": "box",
    "labels": "label",
    "returns": "return",
}


def quantity_text(kind: str, quantity: Decimal) -> str:
    if kind == FeeKind.ADJUSTMENT:
        return ""
    value = Decimal(quantity)
    shown = f"{value:,.3f}" if kind == FeeKind.STORAGE else f"{value.normalize():,f}"
    unit = QUANTITY_UNITS.get(kind, "")
    if value == 1:
        unit = SINGULAR.get(unit, unit)
    return f"{shown} {unit}".strip()


def _lines(values: Iterable[str]) -> str:
    return "<br/>".join(escape(str(v)) for v in values if v)


def line_rows(invoice: Invoice) -> list[dict]:
    """The invoice's lines as every document and page shows them: the line, what it bills, the
    quantity with its unit, the fees behind it and its amount."""
    return [
        {
            "line": line,
            "label": KIND_LABELS.get(line.kind, line.kind),
            "quantity": quantity_text(line.kind, line.quantity),
            "fees": line.fee_count,
            "amount": line.amount,
        }
        for line in selectors.invoice_lines(invoice)
    ]


def invoice_pdf(invoice: Invoice) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"Invoice {invoice.number}",
        author=invoice.issuer.get("name", ""),
    )
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    small = ParagraphStyle("small", parent=body, fontSize=8, textColor=colors.HexColor("#555555"))
    right = ParagraphStyle("right", parent=body, alignment=2)
    issuer, bill_to = invoice.issuer or {}, invoice.bill_to or {}
    width = A4[0] - 2 * MARGIN
    story = []
    head = Table(
        [
            [
                Paragraph(
                    f"<b>{escape(issuer.get('name') or 'Fulfillment operator')}</b><br/>"
                    + _lines(issuer.get("address") or [])
                    + (f"<br/>{escape(issuer['email'])}" if issuer.get("email") else "")
                    + (f"<br/>Tax ID {escape(issuer['tax_id'])}" if issuer.get("tax_id") else ""),
                    body,
                ),
                Paragraph(
                    f"<font size=18><b>INVOICE</b></font><br/><b>{escape(invoice.number)}</b><br/>"
                    f"Issued {invoice.issued_at:%Y-%m-%d}<br/>"
                    f"Period {invoice.period_start:%Y-%m-%d} to {invoice.period_end:%Y-%m-%d}",
                    right,
                ),
            ]
        ],
        colWidths=[width * 0.55, width * 0.45],
    )
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [head, Spacer(1, 8 * mm)]
    story.append(
        Paragraph(
            "<b>Bill to</b><br/>"
            + _lines([bill_to.get("name", ""), f"Account {bill_to.get('account', '')}", bill_to.get("email", "")]),
            body,
        )
    )
    story.append(Spacer(1, 6 * mm))
    rows = [["Service", "Quantity", "Fees", "Amount"]]
    for row in line_rows(invoice):
        rows.append([row["label"], row["quantity"], f"{row['fees']:,}", money(row["amount"], invoice.currency)])
    if len(rows) == 1:
        rows.append(["No billable activity in this period", "", "", money(Decimal(0), invoice.currency)])
    totals_start = len(rows)
    rows.append(["Subtotal", "", "", money(invoice.subtotal, invoice.currency)])
    if invoice.minimum_top_up:
        rows.append(
            [
                f"Top-up to the monthly minimum ({money(invoice.monthly_minimum, invoice.currency)} for this period)",
                "",
                "",
                money(invoice.minimum_top_up, invoice.currency),
            ]
        )
    rows.append(["Total due", "", "", money(invoice.total, invoice.currency)])
    table = Table(rows, colWidths=[width * 0.46, width * 0.2, width * 0.1, width * 0.24], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LINEABOVE", (0, totals_start), (-1, totals_start), 0.5, colors.grey),
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    story += [table, Spacer(1, 8 * mm)]
    story.append(
        Paragraph(
            f"{invoice.fee_count:,} fee rows are behind these lines: the invoice's CSV lists every one "
            "(when it occurred, what earned it, its quantity, unit price and amount). Amounts are rounded "
            "half-up to the cent per fee.",
            small,
        )
    )
    doc.build(story)
    return buffer.getvalue()


def _safe(column: str) -> str:
    """SQL for a text cell a spreadsheet will not run as a formula (fulfillment.api.csv.csv_safe's rule)."""
    return f"CASE WHEN {column} ~ '^[=+@\\t\\r-]' THEN '''' || {column} ELSE {column} END"


# The CSV's columns: (header, SQL). Numbers as they are (a negative correction is not a formula),
# text a spreadsheet could run as a formula defused.
_CSV = [
    ("fee_id", "f.id"),
    ("occurred_at", "to_char(f.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"),
    ("kind", "f.kind"),
    ("quantity", "f.quantity"),
    ("unit_price", "f.unit_price"),
    ("amount", "f.amount"),
    ("currency", "f.currency"),
    ("cost", "f.cost"),
    ("source_type", "f.source_type"),
    ("source_id", _safe("f.source_id")),
    ("reference", _safe("f.source_ref")),
    ("warehouse", _safe("f.warehouse_code")),
    ("rate_card", "f.rate_card"),
    ("corrects", "f.corrects_id"),
    ("reason", _safe("f.reason")),
]
_CSV_HEADER = ",".join(header for header, _sql in _CSV)
_CSV_COLUMNS = ", ".join(sql for _header, sql in _CSV)


def fees_csv_file(invoice: Invoice):
    """The fee rows frozen to ``invoice`` as a CSV in a temporary file (rewound), header first, oldest
    first: written by PostgreSQL's COPY (a million rows in seconds, none held in memory)."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024, mode="w+b")  # noqa: SIM115 - returned open
    spool.write((_CSV_HEADER + "\r\n").encode())
    query = (
        f"COPY (SELECT {_CSV_COLUMNS} FROM billing_invoicefee i JOIN fees_fee f ON f.id = i.fee_id "  # noqa: S608
        "WHERE i.invoice_id = %s ORDER BY f.occurred_at, f.id) TO STDOUT WITH (FORMAT csv)"
    )
    with connection.cursor() as cursor, cursor.cursor.copy(query, [invoice.pk]) as copy:
        for chunk in copy:
            spool.write(chunk)
    spool.seek(0)
    return spool


def invoice_pdf_response(invoice: Invoice, *, as_attachment: bool = False) -> HttpResponse:
    return document_response(
        invoice_pdf(invoice),
        content_type="application/pdf",
        filename=f"{invoice.number}.pdf",
        as_attachment=as_attachment,
    )


def fees_csv_response(invoice: Invoice) -> FileResponse:
    """The invoice's fee rows as a CSV download (the API's, the managers' and the portal's)."""
    return FileResponse(
        fees_csv_file(invoice),
        as_attachment=True,
        filename=f"{invoice.number}-fees.csv",
        content_type="text/csv; charset=utf-8",
    )
