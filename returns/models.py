"""Returns (RMAs): what the shopper sends back, and what the warehouse found and did with it."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q

from fulfillment.tenancy.scoping import TenantScoped, scoped_queryset


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested"
    RECEIVED = "received"


class Grade(models.TextChoices):
    """What the inspection found of a returned unit."""

    NEW = "new"  # unopened, as it left
    OPENED = "opened"  # opened or tried, sellable as it is
    DAMAGED = "damaged"  # harmed in use or in transit
    DEFECTIVE = "defective"  # does not work as it should


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


class ReturnReceipt(TenantScoped):
    """Units of one return line received in one go: their grade, where they went, who took them in.
    A return may arrive in several parcels; each receipt is a row, and the line keeps the total."""

    id = models.BigAutoField(primary_key=True)
    rma = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="receipts")
    line = models.ForeignKey(ReturnLine, on_delete=models.CASCADE, related_name="receipts")
    quantity = models.PositiveIntegerField()
    grade = models.CharField(max_length=20, choices=Grade.choices)
    disposition = models.CharField(max_length=20, choices=Disposition.choices)
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True, default="", help_text="The inspector's words")
    received_at = models.DateTimeField()
    actor = models.CharField(max_length=100, blank=True, default="")

    objects = scoped_queryset("rma__warehouse").as_manager()

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="return_receipt_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.line_id} {self.grade}"


class Resolution(models.TextChoices):
    REFUND = "refund"
    EXCHANGE = "exchange"
    STORE_CREDIT = "store_credit"


DEFAULT_REASONS = [
    "Too small",
    "Too large",
    "Not as described",
    "Changed my mind",
    "Arrived damaged",
    "Defective",
    "Wrong item sent",
]


class ReturnPolicy(TenantScoped):
    """A merchant's return policy: how long after delivery a shopper may return, what may not come
    back, what a return costs the shopper (a restocking fee in percent of the line price and a
    flat return shipping fee, both in the order's currency), whether exchanges are free of those
    fees, which resolutions the shopper may choose, and the reasons offered. A merchant without a
    row has the defaults (``returns.selectors.return_policy``)."""

    tenant = models.OneToOneField("tenancy.Tenant", on_delete=models.CASCADE, primary_key=True, related_name="+")
    window_days = models.PositiveIntegerField(default=30)
    non_returnable_skus = models.JSONField(default=list, blank=True)
    restocking_fee_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    return_shipping_fee = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    free_exchanges = models.BooleanField(default=True)
    resolutions = models.JSONField(default=list, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=100, blank=True, default="")

    objects = scoped_queryset(None).as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(window_days__lte=3650), name="return_policy_window_at_most_ten_years"),
            models.CheckConstraint(
                condition=Q(restocking_fee_percent__gte=0, restocking_fee_percent__lte=100),
                name="return_policy_restocking_fee_percent",
            ),
            models.CheckConstraint(condition=Q(return_shipping_fee__gte=0), name="return_policy_shipping_fee"),
        ]

    def __str__(self) -> str:
        return f"return policy of {self.tenant_id}"
