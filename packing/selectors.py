"""Reads for packing: what an order has picked, the box catalog as cartonization specs."""

from __future__ import annotations

from orders.models import Order, OrderLine
from packing.cartonization import BoxSpec, ItemSpec, PlannedPackage, cartonize
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
    picked = picked_quantities(order=order)
    products = {}
    for line in OrderLine.objects.filter(order=order).select_related("product").order_by("pk"):
        products.setdefault(line.sku, line.product)
    return [
        ItemSpec(
            sku=sku,
            quantity=quantity,
            length_mm=products[sku].length_mm,
            width_mm=products[sku].width_mm,
            height_mm=products[sku].height_mm,
            weight_g=products[sku].weight_g,
        )
        for sku, quantity in picked.items()
    ]


def box_spec(box: Box) -> BoxSpec:
    return BoxSpec(
        code=box.code,
        length_mm=box.length_mm,
        width_mm=box.width_mm,
        height_mm=box.height_mm,
        max_weight_g=box.max_weight_g,
        tare_weight_g=box.tare_weight_g,
    )


def active_boxes() -> list[Box]:
    return list(Box.objects.filter(is_active=True).order_by("code"))


def recommended_packages(*, order: Order, boxes: list[Box] | None = None) -> list[PlannedPackage]:
    """Cartonization of the order's picked units over the active boxes (what packing uses without packages)."""
    boxes = active_boxes() if boxes is None else boxes
    return cartonize(order_item_specs(order=order), [box_spec(b) for b in boxes])
