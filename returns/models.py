"""Returns (RMAs): what the shopper sends back, and what the warehouse found and did with it."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q

from fulfillment.tenancy.scoping import TenantScoped, scoped_queryset


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested"
    RECEIVED = "received"


class Disposition(models.TextChoices):
    RESTOCK = "restock"
    QUARANTINE = "quarantine"
    DISPOSE = "dispose"


class Return(TenantScoped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=20)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="returns")
    # The order's warehouse: returns come back to the building that shipped them.
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(max_length=20, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    received_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_queryset("warehouse").as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "number"], name="return_number_unique")]
        indexes = [models.Index(fields=["warehouse", "status", "created_at"])]

    def __str__(self) -> str:
        return self.number


class ReturnLine(TenantScoped):
    """Units of one order line coming back; condition and disposition stay blank until received."""

    # ``return`` is a Python keyword, hence ``rma``.
    rma = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="return_lines")
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    reason = models.CharField(max_length=200)
    received_quantity = models.PositiveIntegerField(default=0)
    condition = models.CharField(max_length=50, blank=True)
    disposition = models.CharField(max_length=20, choices=Disposition.choices, blank=True)

    objects = scoped_queryset("rma__warehouse").as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(received_quantity__lte=F("quantity")), name="return_line_not_over_received"
            ),
            models.UniqueConstraint(fields=["tenant", "rma", "order_line"], name="return_line_order_line_unique"),
        ]
