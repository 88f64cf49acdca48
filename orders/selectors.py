"""Reads of orders that are more than a one-line queryset."""

from __future__ import annotations

from django.db.models import F, Sum

from inventory.models import Warehouse
from orders.models import Order, OrderLine, Status


def backordered_by_product(*, actor, products) -> dict[tuple, int]:
    """{(product_id, warehouse_id): units waiting for stock} over the actor's backordered orders."""
    orders = Order.objects.visible_to(actor).filter(status__in=[Status.BACKORDERED, Status.PICKING])
    rows = (
        OrderLine.objects.filter(order__in=orders, product__in=products, backordered_quantity__gt=0)
        .values("product_id", warehouse_id=F("order__warehouse_id"))
        .annotate(quantity=Sum("backordered_quantity"))
    )
    return {(row["product_id"], row["warehouse_id"]): row["quantity"] for row in rows}


def warehouse_codes() -> dict:
    return dict(Warehouse.objects.values_list("pk", "code"))
