"""The catalog: products and their barcodes."""

from __future__ import annotations

from django.db import transaction

from inventory.models import (
    Product,
    ProductBarcode,
)
from inventory.services.stock import (
    InventoryError,
)

PRODUCT_FIELDS = {
    "name",
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
    "lot_tracked",
    "expiry_tracked",
    "reorder_point",
}


def _set_barcodes(*, product: Product, barcodes: list[str]) -> None:
    barcodes = [b.strip() for b in barcodes if b and b.strip()]
    if len(set(barcodes)) != len(barcodes):
        raise InventoryError("barcodes must be distinct", field="barcodes", code="duplicate")
    taken = (
        ProductBarcode.objects.filter(tenant_id=product.tenant_id, code__in=barcodes)
        .exclude(product=product)
        .values_list("code", flat=True)
    )
    if taken:
        raise InventoryError(
            f"barcode {taken[0]} belongs to another product",
            field="barcodes",
            code="duplicate",
        )
    ProductBarcode.objects.filter(product=product).exclude(code__in=barcodes).delete()
    existing = set(ProductBarcode.objects.filter(product=product).values_list("code", flat=True))
    ProductBarcode.objects.bulk_create(
        [ProductBarcode(tenant_id=product.tenant_id, product=product, code=c) for c in barcodes if c not in existing]
    )


@transaction.atomic
def product_create(*, tenant_id, sku: str, name: str, barcodes: list[str] | None = None, **fields) -> Product:
    unknown = set(fields) - PRODUCT_FIELDS
    if unknown:
        raise InventoryError(f"unknown fields: {', '.join(sorted(unknown))}")
    if Product.objects.filter(tenant_id=tenant_id, sku=sku).exists():
        raise InventoryError(f"a product with SKU {sku} already exists", field="sku", code="duplicate")
    product = Product.objects.create(tenant_id=tenant_id, sku=sku, name=name, **fields)
    _set_barcodes(product=product, barcodes=barcodes or [])
    return product


@transaction.atomic
def product_update(*, product: Product, barcodes: list[str] | None = None, **fields) -> Product:
    unknown = set(fields) - PRODUCT_FIELDS
    if unknown:
        raise InventoryError(f"unknown fields: {', '.join(sorted(unknown))}")
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
