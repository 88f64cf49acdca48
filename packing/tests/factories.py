"""Test helpers: orders brought to ``picked`` without the picking app, and a packed order."""

from __future__ import annotations

import importlib

from django.apps import apps
from django.db import transaction

from orders import services as orders_services
from orders.models import Order, OrderAllocation, Status
from orders.tests.factories import order
from packing import services

_default_boxes_migration = importlib.import_module("packing.migrations.0002_default_boxes")


def ensure_default_boxes() -> None:
    """Run the catalog data migration's function (get_or_create: a no-op when the boxes exist)."""
    _default_boxes_migration.create_boxes(apps, None)


def picked_order(tenant, *, external_id: str, lines: list[tuple[str, int]], **fields) -> Order:
    """An order allocated, picked in full (stock moves to PACKING) and marked picked."""
    created = order(tenant, external_id=external_id, lines=lines, **fields)
    orders_services.order_allocate(order_id=created.pk)
    orders_services.order_mark_picking(order_id=created.pk, actor="test")
    with transaction.atomic():
        for allocation in OrderAllocation.objects.filter(line__order=created).order_by("pk"):
            orders_services.allocation_pick(allocation_id=allocation.pk, quantity=allocation.quantity, actor="test")
    orders_services.order_mark_picked(order_id=created.pk, actor="test")
    created.refresh_from_db()
    assert created.status == Status.PICKED, created.status
    return created


def packed_order(tenant, *, external_id: str, lines: list[tuple[str, int]], **fields):
    """A picked order packed with the recommended cartonization: (order, shipment).

    The label purchase is enqueued on commit; run it with django_capture_on_commit_callbacks.
    """
    picked = picked_order(tenant, external_id=external_id, lines=lines, **fields)
    shipment = services.order_pack(order_id=picked.pk, actor="test")
    picked.refresh_from_db()
    return picked, shipment
