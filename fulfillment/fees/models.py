"""Rate cards (per merchant, with effective dates; an operator default) and the fee ledger."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from fulfillment.tenancy.scoping import TenantScoped

MONEY = {"max_digits": 14, "decimal_places": 2}
PRICE = {"max_digits": 14, "decimal_places": 4}
PERCENT = {"max_digits": 7, "decimal_places": 2}
ZERO = Decimal("0")


class FeeKind(models.TextChoices):
    STORAGE = "storage", "Storage"
    RECEIVING = "receiving", "Receiving"
    PICK = "pick", "Picks (per order)"
    PICK_EXTRA_UNIT = "pick_extra_unit", "Picks (extra units)"
    PACK = "pack", "Packing (per package)"
    MATERIALS = "materials", "Packing materials"
    SHIPPING = "shipping", "Shipping labels"
    RETURN = "return", "Returns (per RMA)"
    RETURN_UNIT = "return_unit", "Returns (per unit)"
    ADJUSTMENT = "adjustment", "Adjustments"


class SourceType(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    ORDER = "order", "Order"
    SHIPMENT = "shipment", "Shipment"
    RETURN = "return", "Return"
    STORAGE_DAY = "storage_day", "Storage day"
    FEE = "fee", "Fee"
    MANUAL = "manual", "Manual"


class RatePrices(models.Model):
    """The prices of a rate card, per API.md ("3PL billing")."""

    storage_per_m3_day = models.DecimalField(**PRICE, default=ZERO, validators=[MinValueValidator(ZERO)])
    receiving_per_unit = models.DecimalField(**PRICE, default=ZERO, validators=[MinValueValidator(ZERO)])
    pick_per_order = models.DecimalField(**PRICE, default=ZERO, validators=[MinValueValidator(ZERO)])
    pick_per_extra_unit = models.DecimalField(**PRICE, default=ZERO, validators=[MinValueValidator(ZERO)])
    pack_per_package = models.DecimalField(**PRICE, default=ZERO, validators=[MinValueValidator(ZERO)])
    materials_markup_percent = models.DecimalField(**PERCENT, default=ZERO, validators=[MinValueValidator(ZERO)])
    shipping_markup_percent = models.DecimalField(**PERCENT, default=ZERO, validators=[MinValueValidator(ZERO)])
    return_per_rma = models.DecimalField(**PRICE, default=ZERO, validators=[MinValueValidator(ZERO)])
    return_per_unit = models.DecimalField(**PRICE, default=ZERO, validators=[MinValueValidator(ZERO)])
    monthly_minimum = models.DecimalField(**MONEY, default=ZERO, validators=[MinValueValidator(ZERO)])
    currency = models.CharField(max_length=3, default="CAD")
    effective_from = models.DateField(help_text="The card prices fees from this day (operator time) on")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=100, blank=True)

    PRICE_FIELDS = (
        "storage_per_m3_day",
        "receiving_per_unit",
        "pick_per_order",
        "pick_per_extra_unit",
        "pack_per_package",
        "materials_markup_percent",
        "shipping_markup_percent",
        "return_per_rma",
        "return_per_unit",
        "monthly_minimum",
        "currency",
    )

    class Meta:
        abstract = True

    def prices(self) -> dict:
        return {name: getattr(self, name) for name in self.PRICE_FIELDS}


class DefaultRateCard(RatePrices):
    """The operator's card for every merchant without one of its own (operator data: no tenant)."""

    id = models.BigAutoField(primary_key=True)

    class Meta:
        ordering = ["-effective_from"]
        constraints = [models.UniqueConstraint(fields=["effective_from"], name="default_rate_card_one_per_day")]


class RateCard(RatePrices, TenantScoped):
    """A merchant's own card, one per effective date; the latest one that has begun applies."""

    id = models.BigAutoField(primary_key=True)

    class Meta:
        ordering = ["tenant_id", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "effective_from"], name="rate_card_one_per_tenant_day")
        ]


class Fee(TenantScoped):
    """One billable event, priced when written; append-only (the database refuses UPDATE and DELETE).

    ``amount`` is ``quantity * unit_price`` rounded half-up to the cent (a correction carries its
    signed amount). ``dedupe_key``, when set, makes the event billable once per tenant: a second
    recording of the same pick, package or storage day is a no-op.
    """

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=20, choices=FeeKind.choices)
    quantity = models.DecimalField(max_digits=18, decimal_places=6)
    unit_price = models.DecimalField(**PRICE)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    cost = models.DecimalField(**MONEY, null=True, blank=True, help_text="What the operator paid (labels, materials)")
    source_type = models.CharField(max_length=20, choices=SourceType.choices)
    source_id = models.CharField(max_length=64, blank=True)
    source_ref = models.CharField(max_length=100, blank=True, help_text="e.g. the order number or the ASN reference")
    warehouse_code = models.CharField(max_length=20, blank=True)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    rate_card = models.CharField(max_length=40, blank=True, help_text="The card that priced it, e.g. tenant@2026-12-01")
    dedupe_key = models.CharField(max_length=120, null=True, blank=True)
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    reason = models.CharField(max_length=200, blank=True)
    actor = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["tenant", "occurred_at"], name="fee_tenant_occurred"),
            models.Index(fields=["tenant", "kind", "occurred_at"], name="fee_tenant_kind_occurred"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "dedupe_key"], condition=Q(dedupe_key__isnull=False), name="fee_once_per_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"
