"""Reads for packing: what an order has picked, the box catalog as cartonization specs."""

from __future__ import annotations

from orders.models import Order, OrderLine
from packing.cartonization import DEFAULT_DIM_DIVISOR, BoxSpec, ItemSpec, PlannedPackage, cartonize
from packing.models import Box


def picked_quantities(*, order: Order) -> dict[str, int]:
    """Picked units per SKU, in the order of the order's lines (a SKU on two lines is summed)."""
    totals: dict[str, int] = {}
    lines = OrderLine.objects.filter(order=order).order_by("pk").values_list("sku", "picked_quantity")
    for sku, picked in lines:
        totals[sku] = totals.get(sku, 0) + picked
    return {sku: quantity for sku, quantity in totals.items() if quantity > 0}


def order_item_specs(*, order: Order) -> list[ItemSpec]:
    """The picked units of an order with their products' dimensions and weights."""
    return _unit_specs(order, ordered_if_none_picked=False)


def _unit_specs(order: Order, *, ordered_if_none_picked: bool) -> list[ItemSpec]:
    """The order's picked units per SKU as cartonization specs, in line order (with
    ``ordered_if_none_picked``, the ordered units while nothing is picked yet); one query."""
    picked: dict[str, int] = {}
    ordered: dict[str, int] = {}
    products = {}
    for line in OrderLine.objects.filter(order=order).select_related("product").order_by("pk"):
        picked[line.sku] = picked.get(line.sku, 0) + line.picked_quantity
        ordered[line.sku] = ordered.get(line.sku, 0) + line.quantity
        products.setdefault(line.sku, line.product)
    quantities = ordered if ordered_if_none_picked and not any(picked.values()) else picked
    return [_spec(products[sku], sku, quantity) for sku, quantity in quantities.items() if quantity > 0]


def box_spec(box: Box) -> BoxSpec:
    return BoxSpec(
        code=box.code,
        length_mm=box.length_mm,
        width_mm=box.width_mm,
        height_mm=box.height_mm,
        max_weight_g=box.max_weight_g,
        tare_weight_g=box.tare_weight_g,
        kind=box.kind,
        cost=box.cost,
    )


def active_boxes() -> list[Box]:
    return list(Box.objects.filter(is_active=True).order_by("code"))


def recommended_packages(
    *, order: Order, boxes: list[Box] | None = None, dim_divisor: int = DEFAULT_DIM_DIVISOR
) -> list[PlannedPackage]:
    """Cartonization of the order's picked units over the active boxes (what packing uses without packages)."""
    boxes = active_boxes() if boxes is None else boxes
    return cartonize(order_item_specs(order=order), [box_spec(b) for b in boxes], dim_divisor=dim_divisor)


def order_unit_specs(*, order: Order) -> list[ItemSpec]:
    """The units to cartonize for an order: what was picked once picking has begun, else what was ordered."""
    return _unit_specs(order, ordered_if_none_picked=True)


def _spec(product, sku: str, quantity: int) -> ItemSpec:
    return ItemSpec(
        sku=sku,
        quantity=quantity,
        length_mm=product.length_mm,
        width_mm=product.width_mm,
        height_mm=product.height_mm,
        weight_g=product.weight_g,
        own_container=product.ships_in_own_container,
        upright=product.keep_upright,
        fragile=product.fragile,
        poly_ok=product.poly_mailer_ok,
    )


def boxes_by_code(codes: list[str] | None) -> tuple[list[Box], list[str]]:
    """(the active boxes named, the codes that name no active box); None: the whole active catalog."""
    if codes is None:
        return active_boxes(), []
    found = {b.code: b for b in Box.objects.filter(code__in=codes, is_active=True)}
    return [found[c] for c in dict.fromkeys(codes) if c in found], [c for c in codes if c not in found]
