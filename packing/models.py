"""Boxes (operator catalog), shipments and their packages, and the pack station's sessions.

A shipment is created when an order is packed; shipping (a higher stage) later writes the
carrier, tracking and label fields through ``packing.services``. A pack session is one packer
scanning a picked order's units into boxes at a station; closing it packs the order.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from fulfillment.tenancy.scoping import TenantScoped, scoped_queryset


class BoxKind(models.TextChoices):
    BOX = "box"  # a rigid carton
    MAILER = "mailer"  # a padded or rigid mailer: flat goods of any kind
    POLY = "poly"  # a poly bag: only soft goods (Product.poly_mailer_ok), never fragile ones


class Box(models.Model):
    """A carton or mailer the warehouse packs into (operator-owned, shared by every tenant)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=BoxKind.choices, default=BoxKind.BOX)
    cost = models.DecimalField(max_digits=10, decimal_places=2, default=0, help_text="What one costs the warehouse")
    currency = models.CharField(max_length=3, default="USD")
    recyclable = models.BooleanField(default=True)
    length_mm = models.PositiveIntegerField(help_text="Inner length")
    width_mm = models.PositiveIntegerField(help_text="Inner width")
    height_mm = models.PositiveIntegerField(help_text="Inner height")
    max_weight_g = models.PositiveIntegerField(help_text="Heaviest contents the box may hold")
    tare_weight_g = models.PositiveIntegerField(default=0, help_text="Weight of the empty box")
    void_fill_per_package = models.PositiveSmallIntegerField(
        default=0, help_text="Units of the void fill material a package in this box uses"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "boxes"
        constraints = [
            models.CheckConstraint(
                condition=Q(length_mm__gt=0, width_mm__gt=0, height_mm__gt=0, max_weight_g__gt=0),
                name="box_dimensions_positive",
            )
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def volume_mm3(self) -> int:
        return self.length_mm * self.width_mm * self.height_mm


class ShipmentStatus(models.TextChoices):
    PACKED = "packed"
    LABEL_PURCHASED = "label_purchased"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


# A parcel only moves forward (a sandbox or carrier scan may skip steps); ``exception`` (delayed,
# damaged, lost) can happen once it is with the carrier, and a later scan moves it on again.
SHIPMENT_ALLOWED: dict[str, set[str]] = {
    ShipmentStatus.PACKED: {ShipmentStatus.LABEL_PURCHASED},
    ShipmentStatus.LABEL_PURCHASED: {
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
        ShipmentStatus.EXCEPTION,
    },
    ShipmentStatus.IN_TRANSIT: {ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERED, ShipmentStatus.EXCEPTION},
    ShipmentStatus.OUT_FOR_DELIVERY: {ShipmentStatus.DELIVERED, ShipmentStatus.EXCEPTION},
    ShipmentStatus.EXCEPTION: {ShipmentStatus.IN_TRANSIT, ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERED},
    ShipmentStatus.DELIVERED: set(),
}


def new_public_token() -> str:
    """An unguessable token for the public tracking page (192 random bits)."""
    return secrets.token_urlsafe(24)


class Shipment(TenantScoped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="shipments")
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="shipments")
    status = models.CharField(max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.PACKED)
    # Codes, not foreign keys: carriers live in shipping, a higher layer.
    carrier_code = models.CharField(max_length=30, blank=True)
    service_code = models.CharField(max_length=30, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    rate_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    rate_currency = models.CharField(max_length=3, blank=True)
    label_pdf = models.BinaryField(null=True, blank=True)
    label_zpl = models.TextField(blank=True)
    label_purchased_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    estimated_delivery_date = models.DateField(null=True, blank=True)
    public_token = models.CharField(max_length=64, default=new_public_token, editable=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("warehouse").as_manager()

    class Meta:
        constraints = [
            # One outbound parcel set per order: a second pack of the same order is refused.
            models.UniqueConstraint(fields=["tenant", "order"], name="shipment_one_per_order"),
            models.UniqueConstraint(fields=["tenant", "public_token"], name="shipment_public_token_unique"),
            models.UniqueConstraint(
                fields=["tenant", "carrier_code", "tracking_number"],
                condition=~Q(tracking_number=""),
                name="shipment_tracking_number_unique",
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return self.tracking_number or str(self.id)

    @property
    def has_label(self) -> bool:
        return self.label_purchased_at is not None


class Package(TenantScoped):
    """One parcel of a shipment: the box used (None = shipped in the product's own packaging) and its contents."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="packages")
    number = models.PositiveSmallIntegerField(help_text="1-based position in the shipment")
    box = models.ForeignKey(Box, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    weight_g = models.PositiveIntegerField()
    length_mm = models.PositiveIntegerField()
    width_mm = models.PositiveIntegerField()
    height_mm = models.PositiveIntegerField()
    items = models.JSONField(default=list, help_text='[{"sku": ..., "quantity": ...}]')
    # The carrier's number for this parcel (the first package's is the shipment's); blank until bought.
    tracking_number = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped_queryset("shipment__warehouse").as_manager()

    class Meta:
        ordering = ["shipment", "number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "shipment", "number"], name="package_number_unique"),
        ]


class PackSessionStatus(models.TextChoices):
    OPEN = "open"
    CLOSED = "closed"  # the order was packed: ``shipment`` is set
    ABANDONED = "abandoned"  # given up; the order stays picked and a new session may start


class PackSession(TenantScoped):
    """One packer packing one picked order at a station, unit by scanned unit."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="pack_sessions")
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="+")
    station = models.CharField(max_length=40, blank=True, help_text='Where it is packed, e.g. "BENCH-1"')
    packer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pack_sessions")
    status = models.CharField(max_length=20, choices=PackSessionStatus.choices, default=PackSessionStatus.OPEN)
    opened_at = models.DateTimeField(default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    shipment = models.ForeignKey(Shipment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = scoped_queryset("warehouse").as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # What stops a second packer: an order has at most one open session.
            models.UniqueConstraint(
                fields=["tenant", "order"], condition=Q(status="open"), name="pack_session_one_open_per_order"
            ),
        ]
        indexes = [models.Index(fields=["warehouse", "status"])]

    def __str__(self) -> str:
        return f"{self.order_id} at {self.station or '?'}"

    @property
    def is_open(self) -> bool:
        return self.status == PackSessionStatus.OPEN


class PackSessionPackage(TenantScoped):
    """A parcel being filled in a session: the box scanned for it, and at closing its weight."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(PackSession, on_delete=models.CASCADE, related_name="packages")
    number = models.PositiveSmallIntegerField(help_text="1-based position in the session")
    box = models.ForeignKey(Box, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    weight_g = models.PositiveIntegerField(null=True, blank=True, help_text="Weighed at closing")
    override_reason = models.CharField(max_length=300, blank=True, help_text="Why a weight off the expected one ships")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped_queryset("session__warehouse").as_manager()

    class Meta:
        ordering = ["session", "number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "session", "number"], name="pack_session_package_number_unique")
        ]


class PackScanResult(models.TextChoices):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    UNDONE = "undone"  # accepted, then taken back by the packer (the unit came out of the parcel)


class PackScan(TenantScoped):
    """Every scan at a pack station, accepted or refused: a resent scan (same ``scan_id``) is answered
    from it, and the mis-scan rate is computed from the refused ones."""

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(PackSession, on_delete=models.CASCADE, related_name="scans")
    package = models.ForeignKey(
        PackSessionPackage, null=True, blank=True, on_delete=models.CASCADE, related_name="scans"
    )
    scan_id = models.CharField(max_length=64, help_text="Made by the device for each scan; a repeat is ignored.")
    barcode = models.CharField(max_length=128)
    sku = models.CharField(max_length=64, null=True, blank=True, help_text="The unit's SKU; null for a box scan")
    quantity = models.PositiveIntegerField(
        default=0, help_text="Units this scan counted (a case barcode counts its pack)"
    )
    result = models.CharField(max_length=10, choices=PackScanResult.choices)
    code = models.CharField(max_length=40, blank=True, help_text="Why it was refused")
    message = models.CharField(max_length=300, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="pack_scans"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = scoped_queryset("session__warehouse").as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "session", "scan_id"], name="pack_scan_id_unique"),
        ]

    @property
    def accepted(self) -> bool:
        return self.result == PackScanResult.ACCEPTED


# -- packing materials (operator stock) ------------------------------------------------------


class MaterialKind(models.TextChoices):
    BOX = "box"
    MAILER = "mailer"
    POLY = "poly"
    VOID_FILL = "void_fill"
    TAPE = "tape"
    OTHER = "other"


class Material(models.Model):
    """A packing material the operator stocks (operator-owned, like the box catalog: no tenant).

    ``box`` names the catalog box this material is; packing an order into that box uses one unit.
    The one ``void_fill`` material is what boxes with ``void_fill_per_package`` use.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=MaterialKind.choices)
    box = models.OneToOneField(Box, on_delete=models.PROTECT, null=True, blank=True, related_name="material")
    unit_cost = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    currency = models.CharField(max_length=3, default="USD")
    reorder_point = models.PositiveIntegerField(default=0, help_text="At or below this on hand, an alert is raised")
    weight_g = models.PositiveIntegerField(
        default=0, help_text="Grams per unit that go into a parcel (void fill): part of its expected weight"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            # One void fill, so that "a box uses N units of void fill" needs no second choice.
            models.UniqueConstraint(fields=["kind"], condition=Q(kind="void_fill"), name="material_one_void_fill"),
        ]

    def __str__(self) -> str:
        return self.code


class MaterialBalance(models.Model):
    """On hand of one material in one warehouse: always the sum of its movements. It may go negative
    (a box was used that the books did not have); the low-stock alert then says so."""

    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="material_balances")
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="balances")
    on_hand = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "material"], name="material_balance_unique"),
        ]

    @property
    def is_low(self) -> bool:
        return self.on_hand <= self.material.reorder_point


class MaterialReason(models.TextChoices):
    RECEIVED = "received"  # a delivery of materials
    CONSUMED = "consumed"  # used by packing
    ADJUSTED = "adjusted"  # a correction (damaged, found, lost)
    COUNTED = "counted"  # a count: the delta between the books and what was counted


# What a person may record (the API, the page); ``consumed`` is packing's alone.
MANUAL_MATERIAL_REASONS = [
    (r.value, r.label) for r in (MaterialReason.RECEIVED, MaterialReason.ADJUSTED, MaterialReason.COUNTED)
]


class MaterialMovement(models.Model):
    """Append-only (the database refuses UPDATE and DELETE): one change of a material's balance."""

    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="+")
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="movements")
    quantity_delta = models.IntegerField()
    reason = models.CharField(max_length=10, choices=MaterialReason.choices)
    # What consumed it: the package (and so its shipment); set only for ``consumed``.
    package = models.ForeignKey(Package, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reference = models.CharField(max_length=100, blank=True, help_text="e.g. the order number, a delivery note")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            # A count that matches the books is kept (it says when stock was last counted); nothing else is zero.
            models.CheckConstraint(
                condition=~Q(quantity_delta=0) | Q(reason="counted"), name="material_movement_not_zero"
            ),
        ]
        indexes = [models.Index(fields=["warehouse", "material", "at"])]


class MaterialAlert(models.Model):
    """A material at or below its reorder point in a warehouse; resolved when stock rises above it.

    One open alert per warehouse and material (the partial unique constraint): a crossing is
    alerted once, however many packs follow it, as inventory's StockAlert does for products.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.CASCADE, related_name="+")
    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="alerts")
    on_hand = models.IntegerField(help_text="On hand when the alert was raised")
    reorder_point = models.PositiveIntegerField()
    message = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["warehouse", "material"],
                condition=Q(resolved_at__isnull=True),
                name="material_one_open_alert",
            ),
        ]


# -- inserts (per merchant) ------------------------------------------------------------------


class InsertWhen(models.TextChoices):
    ALWAYS = "always"
    FIRST_ORDER = "first_order"  # the shopper's first packed order with this merchant


class InsertRule(TenantScoped):
    """Put ``quantity`` of the merchant's product (a flyer, a sample) into the parcel; consumed from
    the merchant's stock at the warehouse's PACKING location when the order is packed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    when = models.CharField(max_length=20, choices=InsertWhen.choices, default=InsertWhen.ALWAYS)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset(None).as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="insert_rule_quantity_positive")]
