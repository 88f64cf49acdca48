"""The catalog: products, their barcodes (GTIN check digits, case GTINs) and the product CSV import."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import transaction

from fulfillment.api.csv import csv_safe
from inventory.models import AbcClass, Product, ProductBarcode
from inventory.services.stock import InventoryError

# The product fields a merchant may set (besides sku and barcodes), in the API's order.
PRODUCT_FIELDS = (
    "name",
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
    "lot_tracked",
    "expiry_tracked",
    "reorder_point",
    "min_shelf_life_days",
    "abc_class",
    "unit_value",
    "ships_in_own_container",
    "keep_upright",
    "fragile",
    "poly_mailer_ok",
    "image_url",
)

GTIN_LENGTHS = (8, 12, 13, 14)
MAX_CASE_QUANTITY = 100_000
# Internal (non-GTIN) barcodes: printable, no spaces (the CSV import separates barcodes by spaces).
_INTERNAL_CODE = re.compile(r"^[A-Za-z0-9._\-/]{1,64}$")
SKU_PATTERN = re.compile(r"^[A-Za-z0-9._\-/]{1,64}$")


# -- barcodes ------------------------------------------------------------------------------


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits before it (weights 3,1,3,... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gtin(code: str) -> bool:
    return (
        code.isascii() and code.isdigit() and len(code) in GTIN_LENGTHS and gtin_check_digit(code[:-1]) == int(code[-1])
    )


def barcode_problem(code: str) -> str | None:
    """Why ``code`` cannot be a barcode, or None.

    All-digit codes of a GTIN length (8, 12, 13, 14) are GTINs and must carry the right check
    digit; anything else is accepted as an internal barcode when it is printable without spaces.
    """
    if not code:
        return "a barcode cannot be empty"
    if code.isascii() and code.isdigit() and len(code) in GTIN_LENGTHS:
        if not is_valid_gtin(code):
            expected = gtin_check_digit(code[:-1])
            return f"GTIN-{len(code)} {code} has a wrong check digit (expected {expected})"
        return None
    if not _INTERNAL_CODE.match(code):
        return f"{csv_safe(code)} is neither a GTIN-8/12/13/14 nor an internal code (letters, digits, . _ - /)"
    return None


@dataclass(frozen=True)
class BarcodeInput:
    code: str
    quantity: int = 1  # a case barcode stands for this many eaches


def barcode_inputs(items, *, field_name: str = "barcodes") -> list[BarcodeInput]:
    """Strings (quantity 1) or {code, quantity} mappings as validated BarcodeInputs; raises InventoryError."""
    out: list[BarcodeInput] = []
    for index, item in enumerate(items or []):
        path = f"{field_name}[{index}]"
        if isinstance(item, BarcodeInput):
            code, quantity = item.code, item.quantity
        elif isinstance(item, str):
            code, quantity = item, 1
        elif isinstance(item, dict):
            code, quantity = item.get("code", ""), item.get("quantity", 1)
            path += ".code"
        else:
            raise InventoryError("a barcode is a string or {code, quantity}", field=path)
        code = str(code).strip()
        if not code:
            continue
        problem = barcode_problem(code)
        if problem:
            raise InventoryError(problem, field=path, code="invalid_barcode")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_CASE_QUANTITY:
            raise InventoryError(
                f"quantity must be a whole number from 1 to {MAX_CASE_QUANTITY}",
                field=path.removesuffix(".code") + ".quantity",
            )
        out.append(BarcodeInput(code, quantity))
    codes = [b.code for b in out]
    if len(set(codes)) != len(codes):
        raise InventoryError("barcodes must be distinct", field=field_name, code="duplicate")
    return out


def _set_barcodes(*, product: Product, barcodes) -> None:
    wanted = {b.code: b.quantity for b in barcode_inputs(barcodes)}
    taken = (
        ProductBarcode.objects.filter(tenant_id=product.tenant_id, code__in=list(wanted))
        .exclude(product=product)
        .values_list("code", flat=True)
    )
    if taken:
        raise InventoryError(f"barcode {taken[0]} belongs to another product", field="barcodes", code="duplicate")
    ProductBarcode.objects.filter(product=product).exclude(code__in=list(wanted)).delete()
    existing = dict(ProductBarcode.objects.filter(product=product).values_list("code", "quantity"))
    for code, quantity in wanted.items():
        if code in existing and existing[code] != quantity:
            ProductBarcode.objects.filter(product=product, code=code).update(quantity=quantity)
    ProductBarcode.objects.bulk_create(
        [
            ProductBarcode(tenant_id=product.tenant_id, product=product, code=code, quantity=quantity)
            for code, quantity in wanted.items()
            if code not in existing
        ]
    )


# -- products ------------------------------------------------------------------------------


def _check_fields(fields: dict) -> None:
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise InventoryError(f"unknown fields: {', '.join(sorted(unknown))}")
    if "abc_class" in fields and fields["abc_class"] not in AbcClass.values:
        raise InventoryError("abc_class must be A, B or C", field="abc_class")


@transaction.atomic
def product_create(*, tenant_id, sku: str, name: str, barcodes=None, **fields) -> Product:
    """A product; ``barcodes`` are strings or {code, quantity} (a case GTIN counting ``quantity`` eaches)."""
    _check_fields(fields)
    if Product.objects.filter(tenant_id=tenant_id, sku=sku).exists():
        raise InventoryError(f"a product with SKU {sku} already exists", field="sku", code="duplicate")
    product = Product.objects.create(tenant_id=tenant_id, sku=sku, name=name, **fields)
    _set_barcodes(product=product, barcodes=barcodes or [])
    return product


@transaction.atomic
def product_update(*, product: Product, barcodes=None, **fields) -> Product:
    """Change fields; ``barcodes`` (when given) replaces the whole set."""
    _check_fields(fields)
    for name, value in fields.items():
        setattr(product, name, value)
    if fields:
        product.save(update_fields=[*fields, "updated_at"])
    if barcodes is not None:
        _set_barcodes(product=product, barcodes=barcodes)
    return product


def product_matches_code(*, product: Product, code: str) -> bool:
    """Whether a scanned code names this product (any of its barcodes, or its SKU)."""
    code = code.strip()
    if not code:
        return False
    if code == product.sku:
        return True
    return ProductBarcode.objects.filter(product=product, code=code).exists()


# -- CSV import ----------------------------------------------------------------------------


IMPORT_COLUMNS = [
    "sku",
    "name",
    "barcodes",
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
    "lot_tracked",
    "expiry_tracked",
    "reorder_point",
    "min_shelf_life_days",
    "abc_class",
    "ships_in_own_container",
    "keep_upright",
    "fragile",
    "poly_mailer_ok",
]
_FLAG_COLUMNS = ("lot_tracked", "expiry_tracked", "ships_in_own_container", "keep_upright", "fragile", "poly_mailer_ok")
IMPORT_MAX_ROWS = 5000
_INT_LIMITS = {
    "weight_g": 10_000_000,
    "length_mm": 100_000,
    "width_mm": 100_000,
    "height_mm": 100_000,
    "reorder_point": 10_000_000,
    "min_shelf_life_days": 3650,
}
_TRUE, _FALSE = {"1", "true", "yes", "y"}, {"0", "false", "no", "n"}


@dataclass
class ImportResult:
    valid: bool
    created: int = 0
    updated: int = 0
    errors: list[dict] = field(default_factory=list)  # [{row, field, message}]; row = line in the file


@dataclass
class _Row:
    line: int
    sku: str
    values: dict
    barcodes: list[BarcodeInput] | None


def _parse_row(line: int, cells: dict, errors: list[dict]) -> _Row | None:
    def error(name: str, message: str) -> None:
        errors.append({"row": line, "field": name, "message": message})

    before = len(errors)
    sku = (cells.get("sku") or "").strip()
    if not SKU_PATTERN.match(sku):
        error("sku", f"{csv_safe(sku) or 'an empty SKU'} is not a SKU (1 to 64 of letters, digits, . _ - /)")
    values: dict = {}
    name = (cells.get("name") or "").strip()
    if name:
        if len(name) > 200:
            error("name", "name is longer than 200 characters")
        values["name"] = name
    for column, top in _INT_LIMITS.items():
        raw = (cells.get(column) or "").strip()
        if not raw:
            continue
        if not (raw.isascii() and raw.isdigit()) or int(raw) > top:
            error(column, f"{csv_safe(raw)} is not a whole number from 0 to {top}")
        else:
            values[column] = int(raw)
    for column in _FLAG_COLUMNS:
        raw = (cells.get(column) or "").strip().lower()
        if not raw:
            continue
        if raw in _TRUE | _FALSE:
            values[column] = raw in _TRUE
        else:
            error(column, f"{csv_safe(raw)} is not true/false (or 1/0, yes/no)")
    raw = (cells.get("abc_class") or "").strip().upper()
    if raw:
        if raw in AbcClass.values:
            values["abc_class"] = raw
        else:
            error("abc_class", f"{csv_safe(raw)} is not A, B or C")
    barcodes = None
    raw_barcodes = cells.get("barcodes")
    if raw_barcodes is not None and raw_barcodes.strip():
        items = []
        for token in raw_barcodes.split():
            # CODE:N is a case barcode standing for N eaches.
            code, _, quantity = token.partition(":")
            if quantity and not (quantity.isascii() and quantity.isdigit()):
                error("barcodes", f"{csv_safe(token)}: the case quantity after ':' must be a whole number")
                continue
            items.append(BarcodeInput(code, int(quantity) if quantity else 1))
        try:
            barcodes = barcode_inputs(items)
        except InventoryError as exc:
            error("barcodes", str(exc))
    elif raw_barcodes is not None:
        barcodes = []
    if len(errors) > before:
        return None
    return _Row(line, sku, values, barcodes)


@transaction.atomic
def product_import(
    *, tenant_id, rows: list[dict], dry_run: bool = False, line_numbers: list[int] | None = None
) -> ImportResult:
    """Create or update products from CSV rows ({column: cell}); all or nothing.

    Every row is checked before anything is written: one bad row (or ``dry_run``) writes
    nothing and the result lists every error. Existing SKUs are updated (blank cells keep
    their value, a blank ``barcodes`` cell removes the barcodes); new SKUs need a name.
    ``line_numbers`` name each row's line in the file for the errors (default: 2, 3, ...).
    """
    line_numbers = line_numbers or list(range(2, len(rows) + 2))
    errors: list[dict] = []
    if len(rows) > IMPORT_MAX_ROWS:
        return ImportResult(
            valid=False, errors=[{"row": None, "field": None, "message": f"at most {IMPORT_MAX_ROWS} rows per file"}]
        )
    parsed = [_parse_row(line, cells, errors) for line, cells in zip(line_numbers, rows, strict=True)]
    parsed = [row for row in parsed if row is not None]
    existing = {p.sku: p for p in Product.objects.filter(tenant_id=tenant_id, sku__in=[r.sku for r in parsed])}
    seen_skus: dict[str, int] = {}
    code_owner: dict[str, str] = {}  # barcode -> SKU, as it will be after the import
    for code, sku in ProductBarcode.objects.filter(tenant_id=tenant_id).values_list("code", "product__sku"):
        code_owner[code] = sku
    for row in parsed:
        if row.barcodes is not None:
            for code in [c for c, owner in code_owner.items() if owner == row.sku]:
                del code_owner[code]  # this row replaces the product's barcodes
    for row in parsed:
        if row.sku in seen_skus:
            errors.append(
                {
                    "row": row.line,
                    "field": "sku",
                    "message": f"SKU {csv_safe(row.sku)} is already on line {seen_skus[row.sku]}",
                }
            )
            continue
        seen_skus[row.sku] = row.line
        if row.sku not in existing and "name" not in row.values:
            errors.append({"row": row.line, "field": "name", "message": "a new product needs a name"})
        for barcode in row.barcodes or []:
            owner = code_owner.get(barcode.code)
            if owner is not None and owner != row.sku:
                errors.append(
                    {
                        "row": row.line,
                        "field": "barcodes",
                        "message": f"barcode {csv_safe(barcode.code)} belongs to {csv_safe(owner)}",
                    }
                )
            else:
                code_owner[barcode.code] = row.sku
    result = ImportResult(valid=not errors, errors=sorted(errors, key=lambda e: e["row"] or 0))
    result.created = sum(1 for r in parsed if r.sku not in existing)
    result.updated = sum(1 for r in parsed if r.sku in existing)
    if errors or dry_run:
        return result
    # Barcodes that move between products in this file must leave their old product first.
    moving = [r for r in parsed if r.barcodes is not None]
    if moving:
        ProductBarcode.objects.filter(tenant_id=tenant_id, product__sku__in=[r.sku for r in moving]).delete()
    for row in parsed:
        product = existing.get(row.sku)
        if product is None:
            product_create(tenant_id=tenant_id, sku=row.sku, barcodes=row.barcodes or [], **row.values)
        else:
            product_update(product=product, barcodes=row.barcodes, **row.values)
    return result
