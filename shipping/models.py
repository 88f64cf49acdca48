"""Carriers and their service levels (operator-owned), and the tracking events of shipments."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from fulfillment.tenancy.scoping import TenantScoped, scoped_queryset
from packing.cartonization import dim_divisor_mm3_per_g


class Carrier(models.Model):
    """A carrier account; ``kind`` names the client class in shipping.carriers.registry."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=30, help_text="Client implementation, e.g. sandbox")
    is_active = models.BooleanField(default=True)
    # Dimensional weight: volume / divisor. Metric carriers use 5000 cm³/kg, US ones 139 in³/lb.
    dim_divisor = models.PositiveIntegerField(default=5000, help_text="cm³ per kg, or in³ per lb when imperial")
    dim_unit = models.CharField(max_length=10, choices=[("metric", "cm³/kg"), ("imperial", "in³/lb")], default="metric")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def dim_divisor_mm3_per_g(self) -> int:
        """The divisor in mm³ per gram, what packing.cartonization takes (5000 cm³/kg is 5000)."""
        return dim_divisor_mm3_per_g(self.dim_divisor, self.dim_unit)


class ServiceCode(models.TextChoices):
    """The order's shipping_method a service level answers to."""

    STANDARD = "standard"
    EXPRESS = "express"
    SAME_DAY = "same_day"


class ServiceLevel(models.Model):
    carrier = models.ForeignKey(Carrier, on_delete=models.CASCADE, related_name="services")
    code = models.CharField(max_length=20, choices=ServiceCode.choices)
    name = models.CharField(max_length=100)
    transit_business_days = models.PositiveSmallIntegerField()
    base_rate = models.DecimalField(max_digits=10, decimal_places=2)
    per_kg_rate = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="CAD")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["carrier", "transit_business_days", "code"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "code"], name="service_level_code_unique"),
            models.CheckConstraint(condition=Q(base_rate__gte=0, per_kg_rate__gte=0), name="service_rates_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier.code}/{self.code}"


class TrackingCode(models.TextChoices):
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


class TrackingEvent(TenantScoped):
    """A carrier scan of a shipment; one per code, so that polling twice adds nothing."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shipment = models.ForeignKey("packing.Shipment", on_delete=models.CASCADE, related_name="tracking_events")
    code = models.CharField(max_length=30, choices=TrackingCode.choices)
    description = models.CharField(max_length=200, blank=True)
    location = models.CharField(max_length=100, blank=True)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped_queryset("shipment__warehouse").as_manager()

    class Meta:
        ordering = ["occurred_at", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "shipment", "code"], name="tracking_event_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.code}"
