"""Barcode scans, parsed on the server: GS1-128 / GS1 DataMatrix element strings, plain GTINs, other codes.

A keyboard-wedge scanner types what it reads followed by Enter. It cannot type the GS1 group
separator (ASCII 29), so scanners are configured to send ``|`` instead; both are accepted.
Plain GTIN-8/12/13/14 have their check digit validated; anything else (a SKU, a location code)
is passed on as it was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from biip import ParseConfig, ParseError
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin

from fulfillment.errors import FieldRefusal
from inventory.models import Product, ProductBarcode

SEPARATORS = ("|", "\x1d")
_CONFIG = ParseConfig(separator_chars=SEPARATORS)
_GTIN_LENGTHS = (8, 12, 13, 14)
# AIM symbology identifiers a scanner may prefix: GS1-128, GS1 DataMatrix, GS1 QR.
_GS1_SYMBOLOGIES = ("]C1", "]d2", "]Q3", "]e0")


class ScanError(FieldRefusal):
    """A scan that cannot be used: a bad check digit, an unreadable GS1 string, an unknown product."""

    def __init__(self, message: str, *, code: str = "invalid_scan"):
        super().__init__(message, code=code, field="scan")


@dataclass(frozen=True)
class Scan:
    gtin: str = ""  # always as GTIN-14 (leading zeros), empty when the scan has none
    lot: str = ""
    expiry_date: date | None = None
    sscc: str = ""
    raw: str = ""
    kind: str = "code"  # "gs1" | "gtin" | "code" (a SKU or location code, as typed)

    @property
    def code(self) -> str:
        """What to look the scan up by when it is not a GTIN: the typed text."""
        return self.raw


def _gtin14(value: str) -> str:
    try:
        return Gtin.parse(value).as_gtin_14()
    except ParseError as exc:
        raise ScanError(f"{value} is not a valid GTIN: {exc}", code="bad_check_digit") from None


def _from_message(raw: str, message: GS1Message) -> Scan:
    fields: dict[str, object] = {}
    for element in message.element_strings:
        ai = element.ai.ai
        if ai == "01" or ai == "02":
            if element.gtin is None:
                raise ScanError(
                    f"(01) {element.value} is not a valid GTIN: {element.gtin_error}", code="bad_check_digit"
                )
            fields.setdefault("gtin", element.gtin.as_gtin_14())
        elif ai == "10":
            fields["lot"] = element.value
        elif ai == "17":
            fields["expiry_date"] = element.date
        elif ai == "00":
            if element.sscc is None:
                raise ScanError(
                    f"(00) {element.value} is not a valid SSCC: {element.sscc_error}", code="bad_check_digit"
                )
            fields["sscc"] = element.sscc.value
    if not fields:
        raise ScanError(f"{raw} carries no GTIN, lot, expiry or SSCC", code="invalid_scan")
    return Scan(raw=raw, kind="gs1", **fields)


def _looks_gs1(text: str) -> bool:
    """Element strings without parentheses: a separator, a symbology prefix, or a leading (01)/(00) in digits."""
    if any(sep in text for sep in SEPARATORS) or text.startswith(_GS1_SYMBOLOGIES):
        return True
    return (text.startswith("01") and text[2:16].isdigit() and len(text) > 16) or (
        text.startswith("00") and text.isdigit() and len(text) == 20
    )


def parse_scan(text: str) -> Scan:
    """Parse what a scanner typed. Raises ScanError for a GTIN with a bad check digit or broken GS1 data."""
    raw = (text or "").strip()
    if not raw:
        raise ScanError("empty scan", code="required")
    if raw.startswith("("):
        try:
            message = GS1Message.parse_hri(raw.replace("|", "").replace("\x1d", ""), config=_CONFIG)
        except ParseError as exc:
            raise ScanError(f"cannot read GS1 data {raw}: {exc}") from None
        return _from_message(raw, message)
    if raw.isdigit() and len(raw) in _GTIN_LENGTHS:
        return Scan(gtin=_gtin14(raw), raw=raw, kind="gtin")
    if _looks_gs1(raw):
        body = raw[3:] if raw.startswith(_GS1_SYMBOLOGIES) else raw
        try:
            message = GS1Message.parse(body, config=_CONFIG)
        except ParseError as exc:
            raise ScanError(f"cannot read GS1 data {raw}: {exc}") from None
        return _from_message(raw, message)
    return Scan(raw=raw, kind="code")


def gtin_forms(gtin14: str) -> list[str]:
    """The ways a GTIN may be stored: a GTIN-12 on the label may be kept as GTIN-13 or -14 with zeros."""
    forms = [gtin14]
    for length in (13, 12, 8):
        if gtin14[: 14 - length] == "0" * (14 - length):
            forms.append(gtin14[14 - length :])
    return forms


def resolve_product(tenant_id, scan: Scan) -> tuple[Product, int]:
    """The product a scan names and how many units one scan counts (a case GTIN counts N).

    ``tenant_id`` narrows the search to one merchant's catalog; None searches every tenant and
    refuses a code that several tenants use. Raises ScanError when nothing (or too much) matches.
    """
    barcodes = ProductBarcode.objects.select_related("product")
    products = Product.objects.all()
    if tenant_id is not None:
        barcodes = barcodes.filter(tenant_id=tenant_id)
        products = products.filter(tenant_id=tenant_id)
    if scan.gtin:
        matches = list(barcodes.filter(code__in=gtin_forms(scan.gtin)).order_by("pk"))
    elif scan.kind == "code":
        matches = list(barcodes.filter(code=scan.raw).order_by("pk"))
        if not matches:
            by_sku = list(products.filter(sku=scan.raw)[:2])
            if len(by_sku) == 1:
                return by_sku[0], 1
            if len(by_sku) > 1:
                raise ScanError(f"{scan.raw} is a SKU of several merchants", code="ambiguous")
    else:
        raise ScanError(f"{scan.raw} names no product", code="unknown_product")
    owners = {m.product_id for m in matches}
    if not matches:
        raise ScanError(f"no product with barcode {scan.raw}", code="unknown_product")
    if len(owners) > 1:
        raise ScanError(f"{scan.raw} is a barcode of several products", code="ambiguous")
    return matches[0].product, matches[0].quantity
