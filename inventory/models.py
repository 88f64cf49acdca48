"""Catalog, warehouses and locations, lots, and the append-only stock ledger with its balances."""

from __future__ import annotations

import uuid
from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from fulfillment.tenancy.scoping import TenantQuerySet, TenantScoped, scoped_queryset
from inventory.warehouse_rules import (  # noqa: F401 - re-exported: callers import them from here
    ADDRESS_FIELDS,
    CUTOFF_METHODS,
    even_cross_aisles,
    holiday_countries,
    parse_cutoff,
    warehouse_address_check,
    warehouse_calendar_errors,
    warehouse_layout_errors,
)


class Warehouse(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, default="CA")
    timezone = models.CharField(max_length=64, default="America/Toronto")
    cutoff_time = models.TimeField(default=time(14, 0), help_text="Orders in before this local time ship today.")
    subdivision = models.CharField(
        max_length=10, blank=True, default="", help_text="State or province whose public holidays also close it."
    )
    cutoffs = models.JSONField(
        default=dict,
        blank=True,
        help_text='Cut-off per service level, e.g. {"same_day": "12:00", "express": "15:00"}; others use cutoff_time.',
    )
    aisles = models.PositiveSmallIntegerField(default=0)
    bays = models.PositiveSmallIntegerField(default=0)
    levels = models.PositiveSmallIntegerField(default=0)
    # Geometry for pick routes: parallel aisles AA at aisle_pitch_m centre to centre, bays BB of
    # bay_width_m along them, bay 1 at the front cross aisle. A middle cross aisle runs after each
    # bay in ``cross_aisles`` (so len + 1 blocks); pickers start and end at the front of depot_aisle.
    aisle_pitch_m = models.DecimalField(max_digits=5, decimal_places=2, default=3)
    bay_width_m = models.DecimalField(max_digits=5, decimal_places=2, default=1)
    cross_aisles = models.JSONField(
        default=list, blank=True, help_text="Bays after which a middle cross aisle runs, e.g. [10] for two blocks."
    )
    depot_aisle = models.PositiveSmallIntegerField(
        default=1, help_text="Pickers start and end at the front cross aisle, at this aisle."
    )
    # The ship-from address carriers print and rate from (blank until it is set: warehouse_address_missing
    # in inventory.selectors names what a label still needs); checked by warehouse_address_errors.
    company_name = models.CharField(max_length=200, blank=True, default="")
    contact_name = models.CharField(max_length=200, blank=True, default="", help_text="Who answers the phone")
    address_line1 = models.CharField(max_length=200, blank=True, default="")
    address_line2 = models.CharField(max_length=200, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    region = models.CharField(
        max_length=100, blank=True, default="", help_text="State or province code, e.g. ON (where the country has them)"
    )
    postal_code = models.CharField(max_length=20, blank=True, default="")
    phone = models.CharField(max_length=20, blank=True, default="", help_text="E.164, e.g. +19055550100")
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="warehouses", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        errors = warehouse_calendar_errors(
            country=self.country, subdivision=self.subdivision, timezone_name=self.timezone, cutoffs=self.cutoffs
        )
        errors.update(
            warehouse_layout_errors(
                aisles=self.aisles,
                bays=self.bays,
                aisle_pitch_m=self.aisle_pitch_m,
                bay_width_m=self.bay_width_m,
                cross_aisles=self.cross_aisles,
                depot_aisle=self.depot_aisle,
            )
        )
        address, address_errors = warehouse_address_check({f: getattr(self, f) for f in (*ADDRESS_FIELDS, "country")})
        for error in address_errors:
            errors.setdefault(error["field"], error["message"])
        if errors:
            raise ValidationError(errors)
        for field in ADDRESS_FIELDS:  # stored normalised, as the services store it (E.164 phone, ...)
            setattr(self, field, address[field])

    @property
    def blocks(self) -> int:
        return len(self.cross_aisles or []) + 1

    def cutoff_for(self, method: str) -> time:
        """The local time before which an order of this service level leaves today."""
        value = (self.cutoffs or {}).get(method)
        return time.fromisoformat(value) if value else self.cutoff_time


# The service levels a warehouse can have its own cut-off for (orders.models.ShippingMethod's values;
# this stage cannot import orders).
class ZoneKind(models.TextChoices):
    RECEIVING = "receiving"
    STORAGE = "storage"
    PICK_FACE = "pick_face"
    PACKING = "packing"
    SHIPPING = "shipping"
    RETURNS = "returns"
    QUARANTINE = "quarantine"
    VIRTUAL = "virtual"


class Zone(models.Model):
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="zones")
    code = models.CharField(max_length=20)
    kind = models.CharField(max_length=20, choices=ZoneKind.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["warehouse", "code"], name="zone_code_unique")]

    def __str__(self) -> str:
        return f"{self.warehouse.code}/{self.code}"


class LocationKind(models.TextChoices):
    STORAGE = "storage"
    RECEIVING = "receiving"
    PACKING = "packing"
    SHIPPING = "shipping"
    RETURNS = "returns"
    QUARANTINE = "quarantine"
    # Virtual locations: the other side of every movement that enters or leaves the building.
    SUPPLIER = "supplier"
    CUSTOMER = "customer"
    ADJUSTMENT = "adjustment"
    SCRAP = "scrap"


VIRTUAL_KINDS = {LocationKind.SUPPLIER, LocationKind.CUSTOMER, LocationKind.ADJUSTMENT, LocationKind.SCRAP}


class Location(models.Model):
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="locations")
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="locations")
    code = models.CharField(max_length=30)
    kind = models.CharField(max_length=20, choices=LocationKind.choices)
    aisle = models.PositiveSmallIntegerField(null=True, blank=True)
    bay = models.PositiveSmallIntegerField(null=True, blank=True)
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    pick_sequence = models.PositiveIntegerField(default=0)
    is_sellable = models.BooleanField(default=False)
    is_virtual = models.BooleanField(default=False)
    capacity = models.PositiveIntegerField(null=True, blank=True, help_text="Units it holds; empty = unlimited")
    # A picker found less than the location should hold: it is not sellable (so allocation, which
    # takes only sellable stock, passes it by) until a count made after this moment closes.
    held_since = models.DateTimeField(
        null=True, blank=True, help_text="Held for a count since a short pick here; sellable again once counted"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["warehouse", "code"], name="location_code_unique")]
        indexes = [models.Index(fields=["warehouse", "kind"])]

    def __str__(self) -> str:
        return self.code

    @property
    def barcode(self) -> str:
        return self.code

    @property
    def is_held(self) -> bool:
        """Held for a count after a short pick (see ``held_since``)."""
        return self.held_since is not None

    def matches_scan(self, scan: str) -> bool:
        """Whether a scanned or typed code names this location (its barcode is its code, any case)."""
        return (scan or "").strip().upper() == self.code.upper()


class AbcClass(models.TextChoices):
    A = "A"
    B = "B"
    C = "C"


class Product(TenantScoped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    weight_g = models.PositiveIntegerField(default=0)
    length_mm = models.PositiveIntegerField(default=0)
    width_mm = models.PositiveIntegerField(default=0)
    height_mm = models.PositiveIntegerField(default=0)
    lot_tracked = models.BooleanField(default=False)
    expiry_tracked = models.BooleanField(default=False)
    reorder_point = models.PositiveIntegerField(default=0)
    min_shelf_life_days = models.PositiveIntegerField(
        default=0, help_text="Expiry-tracked units with fewer days left than this are not shipped"
    )
    abc_class = models.CharField(max_length=1, choices=AbcClass.choices, default=AbcClass.C)
    unit_value = models.DecimalField(max_digits=12, decimal_places=2, default=0, help_text="For adjustment thresholds")
    supplier = models.ForeignKey("Supplier", null=True, blank=True, on_delete=models.SET_NULL, related_name="products")
    # Packing rules (cartonization and the pack station).
    ships_in_own_container = models.BooleanField(
        default=False, help_text="Ships alone in its own packaging, labelled as is (no box)"
    )
    keep_upright = models.BooleanField(default=False, help_text="Never turned on its side: its height stays vertical")
    fragile = models.BooleanField(default=False, help_text="Nothing is stacked on it; never in a poly mailer")
    poly_mailer_ok = models.BooleanField(default=False, help_text="Soft goods that may go in a poly mailer")
    image_url = models.URLField(max_length=500, blank=True, help_text="Shown to the packer at the pack station")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "sku"], name="product_sku_unique")]

    def __str__(self) -> str:
        return self.sku


class ProductBarcode(TenantScoped):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="barcode_set")
    code = models.CharField(max_length=64)
    # A case GTIN-14 may stand for several eaches: one scan counts this many units.
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="barcode_unique")]


class Lot(TenantScoped):
    """A batch of one product; non-lot-tracked products get one lot per receipt so FIFO has a date."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    code = models.CharField(max_length=64)
    expiry_date = models.DateField(null=True, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "product", "code"], name="lot_code_unique")]

    def __str__(self) -> str:
        return self.code


class StockBalance(TenantScoped):
    """On hand and allocated per (tenant, product, location, lot): always the sum of movements."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="balances")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="balances")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="balances")
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)

    objects = scoped_queryset("location__warehouse").as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "product", "location", "lot"], name="balance_key_unique"),
            models.CheckConstraint(condition=Q(allocated__gte=0), name="balance_allocated_not_negative"),
            # The database itself refuses an oversell: reserved units must exist.
            models.CheckConstraint(
                condition=Q(allocated=0) | Q(allocated__lte=F("on_hand")), name="balance_allocated_le_on_hand"
            ),
        ]
        indexes = [models.Index(fields=["product", "location"])]


class MovementReason(models.TextChoices):
    RECEIPT = "receipt"
    PUT_AWAY = "put_away"
    REPLENISHMENT = "replenishment"
    COUNT = "count"
    PICK = "pick"
    PUT_BACK = "put_back"
    SHIPMENT = "shipment"
    ADJUSTMENT = "adjustment"
    RETURN = "return"
    RESTOCK = "restock"
    QUARANTINE = "quarantine"
    DISPOSAL = "disposal"
    MOVE = "move"
    INSERT = "insert"  # a merchant's insert (a flyer) leaves PACKING in a parcel (packing.services.inserts)


class StockMovement(TenantScoped):
    """Append-only: a quantity of one lot moved from one location to another."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="movements")
    from_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    to_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    reason = models.CharField(max_length=20, choices=MovementReason.choices)
    reference = models.CharField(max_length=100, blank=True)
    actor = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = scoped_queryset("to_location__warehouse").as_manager()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="movement_quantity_positive")]


class InboundStatus(models.TextChoices):
    EXPECTED = "expected"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"


class InboundShipment(TenantScoped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="inbound_shipments")
    reference = models.CharField(max_length=100, blank=True)
    expected_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=InboundStatus.choices, default=InboundStatus.EXPECTED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("warehouse").as_manager()


class InboundLine(TenantScoped):
    shipment = models.ForeignKey(InboundShipment, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    received_quantity = models.PositiveIntegerField(default=0)
    damaged_quantity = models.PositiveIntegerField(default=0)
    lot_code = models.CharField(max_length=64, blank=True)
    expiry_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["id"]


# -- receiving and put-away ------------------------------------------------------------------


class DiscrepancyKind(models.TextChoices):
    OVER = "over"
    SHORT = "short"
    DAMAGED = "damaged"
    UNEXPECTED = "unexpected"


class InboundDiscrepancy(TenantScoped):
    """What arrived differs from the ASN; shown to the merchant."""

    shipment = models.ForeignKey(InboundShipment, on_delete=models.CASCADE, related_name="discrepancies")
    line = models.ForeignKey(InboundLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=DiscrepancyKind.choices)
    quantity = models.PositiveIntegerField()
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class ReceiptStatus(models.TextChoices):
    AWAITING_PUT_AWAY = "awaiting_put_away"
    PUT_AWAY = "put_away"


class Receipt(TenantScoped):
    """Units received from an ASN; they sit where received (RECEIVING) until put away."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shipment = models.ForeignKey(InboundShipment, on_delete=models.CASCADE, related_name="receipts")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    put_away_quantity = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=ReceiptStatus.choices, default=ReceiptStatus.AWAITING_PUT_AWAY)
    received_at = models.DateTimeField(auto_now_add=True)
    put_away_at = models.DateTimeField(null=True, blank=True, help_text="When the last unit reached storage")
    received_by = models.CharField(max_length=100, blank=True)

    objects = scoped_queryset("location__warehouse").as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(put_away_quantity__lte=F("quantity")), name="receipt_not_over_put_away")
        ]


class PickFace(TenantScoped):
    """A sellable location assigned to one product, kept between min and max by replenishment."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="pick_faces")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="pick_faces")
    min_quantity = models.PositiveIntegerField(default=0)
    max_quantity = models.PositiveIntegerField(default=0)

    objects = scoped_queryset("location__warehouse").as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "product", "location"], name="pick_face_unique")]


class MoveTaskKind(models.TextChoices):
    PUT_AWAY = "put_away"
    REPLENISHMENT = "replenishment"
    MANUAL = "manual"
    # Picked units of a cancelled order, from PACKING back to the shelf they came from.
    PUT_BACK = "put_back"


class MoveTaskStatus(models.TextChoices):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class MoveTask(TenantScoped):
    """Work for associates: move units of one lot from one location to another."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="move_tasks")
    kind = models.CharField(max_length=20, choices=MoveTaskKind.choices)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    from_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    to_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=MoveTaskStatus.choices, default=MoveTaskStatus.OPEN)
    receipt = models.ForeignKey(Receipt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.CharField(max_length=100, blank=True)

    objects = scoped_queryset("warehouse").as_manager()


# -- adjustments and counts ------------------------------------------------------------------


class AdjustmentReason(models.TextChoices):
    DAMAGED = "damaged"
    EXPIRED = "expired"
    FOUND = "found"
    LOST = "lost"
    COUNT = "count"


class AdjustmentStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval"
    POSTED = "posted"
    REJECTED = "rejected"


class Adjustment(TenantScoped):
    """A correction of stock; above the thresholds it waits for a manager before it posts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="adjustments")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="adjustments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity_delta = models.IntegerField()
    reason = models.CharField(max_length=20, choices=AdjustmentReason.choices)
    note = models.CharField(max_length=200, blank=True)
    value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    status = models.CharField(max_length=20, choices=AdjustmentStatus.choices)
    requested_by = models.CharField(max_length=100, blank=True)
    decided_by = models.CharField(max_length=100, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    movement = models.ForeignKey(StockMovement, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    count_line = models.ForeignKey("CycleCountLine", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped_queryset("warehouse").as_manager()

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(quantity_delta=0), name="adjustment_not_zero")]


class CountReason(models.TextChoices):
    SCHEDULED = "scheduled"
    SHORT_PICK = "short_pick"
    NEGATIVE_AVAILABILITY = "negative_availability"
    MANUAL = "manual"


class CountStatus(models.TextChoices):
    OPEN = "open"
    IN_REVIEW = "in_review"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class CycleCount(models.Model):
    """A blind count of one location (all tenants' stock in it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="cycle_counts")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="cycle_counts")
    reason = models.CharField(max_length=30, choices=CountReason.choices)
    status = models.CharField(max_length=20, choices=CountStatus.choices, default=CountStatus.OPEN)
    scheduled_for = models.DateField()
    has_variance = models.BooleanField(default=False)
    counted_by = models.CharField(max_length=100, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # At most one open count per location: a scheduler run twice adds nothing.
            models.UniqueConstraint(
                fields=["location"], condition=Q(status__in=["open", "in_review"]), name="one_open_count_per_location"
            )
        ]


class CycleCountLine(models.Model):
    count = models.ForeignKey(CycleCount, on_delete=models.CASCADE, related_name="lines")
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    expected_quantity = models.IntegerField(help_text="Snapshot when the count was submitted")
    counted_quantity = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    @property
    def variance(self) -> int | None:
        return None if self.counted_quantity is None else self.counted_quantity - self.expected_quantity


# -- replenishment ---------------------------------------------------------------------------


class Supplier(TenantScoped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    lead_time_days = models.PositiveIntegerField(default=7)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="supplier_name_unique")]


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft"
    SENT = "sent"
    CANCELLED = "cancelled"


class PurchaseOrder(TenantScoped):
    """Sent to a supplier; sending it creates the ASN that receiving works from."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchase_orders")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=30)
    status = models.CharField(max_length=20, choices=PurchaseOrderStatus.choices, default=PurchaseOrderStatus.DRAFT)
    inbound_shipment = models.OneToOneField(
        InboundShipment, null=True, blank=True, on_delete=models.SET_NULL, related_name="purchase_order"
    )
    expected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "number"], name="po_number_unique")]


class PurchaseOrderLine(TenantScoped):
    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]


class DemandDay(TenantScoped):
    """Units shipped per product, warehouse and day: the history forecasts learn from."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="demand_days")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "product", "warehouse", "day"], name="demand_day_unique")
        ]


class ReorderSuggestion(TenantScoped):
    """The latest forecast and reorder advice per product and warehouse (replaced nightly)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reorder_suggestions")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="+")
    computed_at = models.DateTimeField()
    model = models.CharField(max_length=40, help_text="Forecast model used, e.g. holt_winters, ses, mean")
    daily_demand = models.DecimalField(max_digits=12, decimal_places=3)
    forecast = models.JSONField(default=list, help_text="[{day, quantity}] for the coming days")
    available = models.IntegerField()
    inbound = models.IntegerField()
    days_of_cover = models.DecimalField(max_digits=10, decimal_places=1, null=True)
    safety_stock = models.IntegerField()
    reorder_point = models.IntegerField()
    suggested_quantity = models.IntegerField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "product", "warehouse"], name="reorder_suggestion_unique")
        ]


class AlertKind(models.TextChoices):
    LOW_STOCK = "low_stock"
    EXPIRING = "expiring"


class StockAlert(TenantScoped):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="alerts")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    message = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_queryset("warehouse").as_manager()

    class Meta:
        constraints = [
            # One open alert per kind, product, warehouse and lot: a nightly run does not repeat itself.
            models.UniqueConstraint(
                fields=["tenant", "kind", "product", "warehouse"],
                condition=Q(resolved_at__isnull=True, lot__isnull=True),
                name="one_open_product_alert",
            ),
            models.UniqueConstraint(
                fields=["tenant", "kind", "lot", "warehouse"],
                condition=Q(resolved_at__isnull=True, lot__isnull=False),
                name="one_open_lot_alert",
            ),
        ]
