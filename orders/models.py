"""Orders, their lines, stock allocations and the timeline."""

from __future__ import annotations

import uuid

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from fulfillment.tenancy.scoping import TenantScoped, scoped_queryset


class Status(models.TextChoices):
    RECEIVED = "received"
    ON_HOLD = "on_hold"
    BACKORDERED = "backordered"
    ALLOCATED = "allocated"
    PICKING = "picking"
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED = "returned"
    CANCELLED = "cancelled"


class HoldReason(models.TextChoices):
    PAYMENT_PENDING = "payment_pending"
    PAYMENT_FAILED = "payment_failed"
    ADDRESS_INVALID = "address_invalid"
    MANUAL = "manual"


class ShippingMethod(models.TextChoices):
    STANDARD = "standard"
    EXPRESS = "express"
    SAME_DAY = "same_day"


class PaymentStatus(models.TextChoices):
    PAID = "paid"
    AUTHORIZED = "authorized"
    PENDING = "pending"
    FAILED = "failed"


# Higher sorts first: same_day > express > standard.
PRIORITY = {ShippingMethod.SAME_DAY: 30, ShippingMethod.EXPRESS: 20, ShippingMethod.STANDARD: 10}

OrderQuerySet = scoped_queryset("warehouse")

GIFT_MESSAGE_MAX = 500

REQUESTED_CARRIER_MAX = 40
REQUESTED_SERVICE_MAX = 60
# requested_carrier / requested_service are codes: lowercase letters, digits, "_" and "-"
# (\Z, not $: "$" would let a trailing newline through).
requested_code_validator = RegexValidator(
    r"\A[a-z0-9_-]*\Z", message="Use only lowercase letters, digits, _ and -.", code="invalid"
)


class OrderNumber(models.Model):
    """A counter row per order, so that numbers come from the database's sequence without a hot row."""

    id = models.BigAutoField(primary_key=True)


class Order(TenantScoped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=20, unique=True)
    external_id = models.CharField(max_length=100)
    # A split (partial shipments): the backordered rest of ``parent``, same external_id, number "<parent>-2".
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="splits")
    # The unique (tenant, external_id) and the (tenant, status) indexes serve tenant lookups, and the
    # queue index starts with warehouse: single-column indexes would only slow every status change.
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    warehouse = models.ForeignKey(
        "inventory.Warehouse", on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    hold_reasons = models.JSONField(default=list, blank=True)
    address_errors = models.JSONField(default=list, blank=True)
    shipping_method = models.CharField(max_length=20, choices=ShippingMethod.choices)
    payment_status = models.CharField(max_length=20, choices=PaymentStatus.choices)
    currency = models.CharField(max_length=3)
    ship_to = models.JSONField()
    priority = models.PositiveSmallIntegerField(default=10)
    ship_by = models.DateTimeField()
    promised_delivery_date = models.DateField()
    # Printed on a gift note in the box; a gift order's slip leaves prices off (packing.documents).
    # A database default too, so that rows written set-wise without the column stay valid.
    gift_message = models.CharField(max_length=GIFT_MESSAGE_MAX, blank=True, default="", db_default="")
    # The merchant's carrier and service, which override rate shopping (shipping reads them).
    # Database defaults for the same reason as gift_message's.
    requested_carrier = models.CharField(
        max_length=REQUESTED_CARRIER_MAX,
        blank=True,
        default="",
        db_default="",
        validators=[requested_code_validator],
        help_text=(
            "The carrier to ship with instead of rate shopping: a carrier account's `carrier_id` or a karrio "
            "carrier name (e.g. `fedex`, `ups`, `canadapost`, `generic`). Lowercase letters, digits, `_` and `-`; "
            "empty when unset (rate shopping chooses)."
        ),
    )
    requested_service = models.CharField(
        max_length=REQUESTED_SERVICE_MAX,
        blank=True,
        default="",
        db_default="",
        validators=[requested_code_validator],
        help_text=(
            "The service to ship with instead of rate shopping: a karrio service code (e.g. `fedex_ground`) or a "
            "service level (`standard`, `express`, `same_day`); without `requested_carrier` it means that service "
            "from any carrier. Lowercase letters, digits, `_` and `-`; empty when unset."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], condition=Q(parent__isnull=True), name="order_external_id_unique"
            )
        ]
        indexes = [
            models.Index(fields=["warehouse", "status", "-priority", "ship_by", "created_at"]),
            models.Index(fields=["tenant", "status"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def can_edit(self) -> bool:
        return self.status in {Status.RECEIVED, Status.ON_HOLD, Status.BACKORDERED, Status.ALLOCATED}

    @property
    def can_change_requested_shipping(self) -> bool:
        """requested_carrier / requested_service may change until the order is packed (rate shopping
        starts then)."""
        return self.can_edit or self.status in {Status.PICKING, Status.PICKED}


class OrderLine(TenantScoped):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    allocated_quantity = models.PositiveIntegerField(default=0)
    backordered_quantity = models.PositiveIntegerField(default=0)
    picked_quantity = models.PositiveIntegerField(default=0)
    shipped_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(allocated_quantity__lte=models.F("quantity")), name="line_not_over_allocated"
            ),
        ]
        # Allocation asks, per product, what backorders ahead of an order wait for: only lines
        # still waiting are indexed, so the index stays as small as the backlog.
        indexes = [
            models.Index(fields=["product"], condition=Q(backordered_quantity__gt=0), name="line_backordered_product")
        ]


class OrderAllocation(TenantScoped):
    """Units of one line reserved at one balance (location + lot)."""

    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="allocations")
    balance = models.ForeignKey("inventory.StockBalance", on_delete=models.PROTECT, related_name="+")
    # Never looked up by location or lot: no index, one less to maintain per allocation written.
    location = models.ForeignKey("inventory.Location", on_delete=models.PROTECT, related_name="+", db_index=False)
    lot = models.ForeignKey("inventory.Lot", on_delete=models.PROTECT, related_name="+", db_index=False)
    quantity = models.PositiveIntegerField()
    picked_quantity = models.PositiveIntegerField(default=0)
    released = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]


class OrderEvent(TenantScoped):
    """The order timeline, written in the same transaction as the change."""

    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=50)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class ImportStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class OrderImport(TenantScoped):
    """A CSV file of orders, imported in Celery with progress; the file is kept so that any worker can read it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=255, blank=True)
    file_sha256 = models.CharField(max_length=64)
    content = models.TextField()
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    # Every row error, also those past the first 1,000 that ``errors`` keeps.
    error_count = models.PositiveIntegerField(default=0)
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Set with every committed chunk: the sweep re-runs imports that stopped moving.
    updated_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
