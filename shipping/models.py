"""Carrier accounts (operator-owned, through karrio) and their services; what shipping records
about each shipment: rate shops, label purchases, exceptions, manifests and tracking events."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from fulfillment.tenancy.scoping import TenantScoped, scoped_queryset
from orders.models import ShippingMethod
from packing.cartonization import dim_divisor_mm3_per_g

# The order's shipping_method a service answers to (a service's ``level``).
ServiceCode = ShippingMethod
DIM_UNITS = [("metric", "cm³/kg"), ("imperial", "in³/lb")]


class CarrierAccount(models.Model):
    """One connection to a carrier through karrio: its name there, credentials, services.

    ``carrier_id`` is the account's own handle (unique): shipments record it as their carrier.
    Credentials are stored encrypted (shipping.credentials) and never leave through the API."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    carrier_name = models.CharField(max_length=40, help_text="karrio's carrier name, e.g. fedex, ups, generic")
    carrier_id = models.SlugField(max_length=40, unique=True, help_text="This account's handle, e.g. fedex-main")
    display_name = models.CharField(max_length=100)
    credentials_encrypted = models.TextField(blank=True, default="")
    test_mode = models.BooleanField(default=True)
    active = models.BooleanField(default=True)
    account_country = models.CharField(max_length=2, blank=True, default="")
    # Dimensional weight: volume / divisor. Metric carriers use 5000 cm³/kg, US ones 139 in³/lb.
    dim_divisor = models.PositiveIntegerField(default=5000, help_text="cm³ per kg, or in³ per lb when imperial")
    dim_unit = models.CharField(max_length=10, choices=DIM_UNITS, default="metric")
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True, blank=True)
    last_check_message = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["carrier_id"]
        constraints = [
            models.CheckConstraint(condition=Q(dim_divisor__gt=0), name="carrier_account_dim_divisor_positive"),
        ]

    def __str__(self) -> str:
        return self.carrier_id

    @property
    def dim_divisor_mm3_per_g(self) -> int:
        """The divisor in mm³ per gram, what packing.cartonization takes (5000 cm³/kg is 5000)."""
        return dim_divisor_mm3_per_g(self.dim_divisor, self.dim_unit)


class CarrierService(models.Model):
    """A service an account sells, with the service level (order shipping_method) it serves.

    ``zones`` is the rate sheet of a generic account: [{country_codes?, min_weight_kg?,
    max_weight_kg?, rate}]; other carriers price their services themselves."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(CarrierAccount, on_delete=models.CASCADE, related_name="services")
    service_code = models.CharField(max_length=60, help_text="karrio's service code, e.g. fedex_ground")
    service_name = models.CharField(max_length=100)
    level = models.CharField(max_length=20, choices=ServiceCode.choices)
    transit_days = models.PositiveSmallIntegerField(help_text="Business days in transit")
    currency = models.CharField(max_length=3, default="CAD")
    zones = models.JSONField(default=list, blank=True)
    max_weight_g = models.PositiveIntegerField(null=True, blank=True, help_text="Heaviest parcel the service takes")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["account", "transit_days", "service_code"]
        constraints = [
            models.UniqueConstraint(fields=["account", "service_code"], name="carrier_service_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account.carrier_id}/{self.service_code}"


class RateShop(TenantScoped):
    """One round of quotes for a shipment: every quote, the carriers that failed, and the choice.

    ``quotes``: [{carrier_account, carrier, carrier_name, service, service_name, level,
    total_charge, currency, transit_days, estimated_delivery_date, keeps_promise,
    billable_weight_g}], cheapest first; ``chosen``: the index into quotes or None."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shipment = models.ForeignKey("packing.Shipment", on_delete=models.CASCADE, related_name="rate_shops")
    quotes = models.JSONField(default=list)
    errors = models.JSONField(default=list)
    chosen = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = scoped_queryset("shipment__warehouse").as_manager()

    class Meta:
        ordering = ["-created_at"]


class PurchaseStatus(models.TextChoices):
    CALLING = "calling"  # the carrier is being asked: nobody else may ask for this shipment
    BOUGHT = "bought"
    FAILED = "failed"  # the carrier refused or stayed unreachable: nothing was bought
    INTERRUPTED = "interrupted"  # the worker died during the call: the carrier may have sold it
    VOIDED = "voided"


class LabelPurchase(TenantScoped):
    """One attempt to buy a shipment's label; its id is the purchase key.

    At most one attempt per shipment is ``calling`` or ``bought`` (a partial unique index), so
    a task that runs twice cannot buy twice. The carrier's answer (shipment reference, tracking
    numbers, label) is stored the moment it arrives, before anything else is done with it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shipment = models.ForeignKey("packing.Shipment", on_delete=models.CASCADE, related_name="label_purchases")
    account = models.ForeignKey(CarrierAccount, on_delete=models.PROTECT, related_name="+")
    service_code = models.CharField(max_length=60)
    service_name = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(max_length=20, choices=PurchaseStatus.choices, default=PurchaseStatus.CALLING)
    quoted_charge = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    total_charge = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    transit_days = models.PositiveSmallIntegerField(null=True, blank=True)
    estimated_delivery_date = models.DateField(null=True, blank=True, help_text="The quote's")
    carrier_shipment_id = models.CharField(max_length=100, blank=True, default="")
    tracking_numbers = models.JSONField(default=list, blank=True)
    label = models.BinaryField(null=True, blank=True)
    label_type = models.CharField(max_length=10, blank=True, default="")
    reason = models.CharField(max_length=300, blank=True, default="")
    error_code = models.CharField(max_length=40, blank=True, default="")
    error_message = models.CharField(max_length=500, blank=True, default="")
    actor = models.CharField(max_length=100, blank=True, default="")
    manifest = models.ForeignKey(
        "shipping.Manifest", on_delete=models.PROTECT, null=True, blank=True, related_name="labels"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_queryset("shipment__warehouse").as_manager()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment"],
                condition=Q(status__in=["calling", "bought"]),
                name="label_purchase_one_live_per_shipment",
            ),
        ]
        indexes = [models.Index(fields=["account", "status", "manifest"])]


class ExceptionCode(models.TextChoices):
    NO_QUOTE = "no_quote"  # no active account and service can carry the parcels there
    CARRIER_REFUSED = "carrier_refused"  # the carrier said no (address, weight, account)
    LABEL_FAILED = "label_failed"  # the carrier stayed unreachable through every retry
    PURCHASE_INTERRUPTED = "purchase_interrupted"  # the worker died mid-call: check the carrier


class ShippingException(TenantScoped):
    """A packed shipment that could not get a label, waiting for a person (the exceptions queue)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shipment = models.ForeignKey("packing.Shipment", on_delete=models.CASCADE, related_name="shipping_exceptions")
    code = models.CharField(max_length=30, choices=ExceptionCode.choices)
    message = models.CharField(max_length=500)
    details = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=200, blank=True, default="")

    objects = scoped_queryset("shipment__warehouse").as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment"], condition=Q(resolved_at__isnull=True), name="shipping_exception_one_open"
            ),
        ]


class Manifest(models.Model):
    """End of day for one carrier account at one warehouse: the labels handed over (operator-owned)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="manifests")
    account = models.ForeignKey(CarrierAccount, on_delete=models.PROTECT, related_name="manifests")
    shipments_count = models.PositiveIntegerField(default=0)
    packages_count = models.PositiveIntegerField(default=0)
    total_weight_g = models.PositiveIntegerField(default=0)
    carrier_reference = models.CharField(max_length=100, blank=True, default="")
    carrier_document = models.BinaryField(null=True, blank=True)
    document_pdf = models.BinaryField(null=True, blank=True)
    created_by = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]


class TrackingStatus(models.TextChoices):
    """karrio's normalised tracking statuses: every carrier's scans are told in these words."""

    PENDING = "pending"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    ON_HOLD = "on_hold"
    DELIVERY_DELAYED = "delivery_delayed"
    DELIVERY_FAILED = "delivery_failed"
    READY_FOR_PICKUP = "ready_for_pickup"
    RETURN_TO_SENDER = "return_to_sender"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class TrackingEvent(TenantScoped):
    """A carrier scan of a shipment, as the carrier told it (``code``) and in karrio's words
    (``status``, ``reason``). A shipment has any number; the same scan told twice (a second poll,
    a pushed event the poll also finds) is one row."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shipment = models.ForeignKey("packing.Shipment", on_delete=models.CASCADE, related_name="tracking_events")
    status = models.CharField(max_length=20, choices=TrackingStatus.choices, default=TrackingStatus.UNKNOWN)
    code = models.CharField(max_length=60, help_text="The carrier's own event code")
    reason = models.CharField(max_length=60, blank=True, default="", help_text="karrio's incident reason, if any")
    description = models.CharField(max_length=200, blank=True)
    location = models.CharField(max_length=100, blank=True)
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=10, default="poll", help_text="poll, push (a carrier's) or manual")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped_queryset("shipment__warehouse").as_manager()

    class Meta:
        ordering = ["occurred_at", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "shipment", "occurred_at", "status", "code", "location"],
                name="tracking_event_scan_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.status} {self.occurred_at:%Y-%m-%d %H:%M}"


class TrackingState(TenantScoped):
    """Where a shipment's tracking stands: the newest scan's status (an older scan arriving late
    never overrides it), when to ask the carrier next, and what has been flagged once (delayed,
    exception). One per shipment with a label."""

    shipment = models.OneToOneField(
        "packing.Shipment", on_delete=models.CASCADE, primary_key=True, related_name="tracking_state"
    )
    status = models.CharField(max_length=20, choices=TrackingStatus.choices, default=TrackingStatus.PENDING)
    status_at = models.DateTimeField(null=True, blank=True, help_text="When the newest scan happened")
    reason = models.CharField(max_length=200, blank=True, default="", help_text="The newest incident, in words")
    # Polling: null next_poll_at means no more polls (delivered, cancelled, or 30 days without news).
    next_poll_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_news_at = models.DateTimeField(help_text="The last time a scan was new (or the label was bought)")
    poll_failures = models.PositiveIntegerField(default=0)
    delayed_at = models.DateTimeField(null=True, blank=True, help_text="When it was found late (once)")
    exception_at = models.DateTimeField(null=True, blank=True, help_text="When the order was put in exception")
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("shipment__warehouse").as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["next_poll_at"], condition=Q(next_poll_at__isnull=False), name="tracking_state_due"),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.status}"

    @property
    def delayed(self) -> bool:
        return self.delayed_at is not None
