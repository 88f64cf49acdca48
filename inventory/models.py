"""Catalog, warehouses and locations, lots, and the append-only stock ledger with its balances."""

from __future__ import annotations

import uuid
from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from fulfillment.tenancy.scoping import TenantQuerySet, TenantScoped, scoped_queryset


class Warehouse(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, default="CA")
    timezone = models.CharField(max_length=64, default="America/Toronto")
    cutoff_time = models.TimeField(default=time(14, 0), help_text="Orders in before this local time ship today.")
    aisles = models.PositiveSmallIntegerField(default=0)
    bays = models.PositiveSmallIntegerField(default=0)
    levels = models.PositiveSmallIntegerField(default=0)
    aisle_pitch_m = models.DecimalField(max_digits=5, decimal_places=2, default=3)
    bay_width_m = models.DecimalField(max_digits=5, decimal_places=2, default=1)
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="warehouses", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code


class ZoneKind(models.TextChoices):
    RECEIVING = "receiving"
    STORAGE = "storage"
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

    class Meta:
        constraints = [models.UniqueConstraint(fields=["warehouse", "code"], name="location_code_unique")]
        indexes = [models.Index(fields=["warehouse", "kind"])]

    def __str__(self) -> str:
        return self.code

    @property
    def barcode(self) -> str:
        return self.code


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
    PICK = "pick"
    PUT_BACK = "put_back"
    SHIPMENT = "shipment"
    ADJUSTMENT = "adjustment"
    RETURN = "return"
    RESTOCK = "restock"
    QUARANTINE = "quarantine"
    DISPOSAL = "disposal"
    MOVE = "move"


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
    lot_code = models.CharField(max_length=64, blank=True)
    expiry_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
