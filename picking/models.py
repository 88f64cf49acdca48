"""Waves, pick lists and pick tasks: operator-owned; a wave can hold orders of several tenants."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class WarehouseScopedQuerySet(models.QuerySet):
    """Operator rows: staff see their warehouses' rows; merchants see none."""

    def visible_to(self, actor):
        if actor is None or not actor.is_staff:
            return self.none()
        if actor.sees_all_warehouses:
            return self.all()
        return self.filter(warehouse__staff__id=actor.user_id)


class Strategy(models.TextChoices):
    DISCRETE = "discrete"
    BATCH = "batch"
    ZONE = "zone"
    WAVE = "wave"


class WaveStatus(models.TextChoices):
    RELEASED = "released"
    COMPLETED = "completed"


class WaveSchedule(models.Model):
    """Automatic wave release for a warehouse: at each local time in ``release_times`` a wave of the
    allocated orders is planned with these caps and released (beat checks every minute)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.CASCADE, related_name="wave_schedules")
    name = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    strategy = models.CharField(max_length=20, choices=Strategy.choices, default=Strategy.WAVE)
    release_times = models.JSONField(default=list, help_text='Local times "HH:MM" at which a wave is released.')
    max_orders = models.PositiveIntegerField(default=200)
    max_lines = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no cap on lines per wave")
    totes_per_cart = models.PositiveSmallIntegerField(default=8)
    tote_volume_l = models.DecimalField(max_digits=7, decimal_places=1, default=40)
    cart_volume_l = models.DecimalField(
        max_digits=8, decimal_places=1, null=True, blank=True, help_text="Empty: totes x tote volume"
    )
    last_released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WarehouseScopedQuerySet.as_manager()

    class Meta:
        ordering = ["warehouse_id", "name"]
        constraints = [models.UniqueConstraint(fields=["warehouse", "name"], name="wave_schedule_name_unique")]

    def __str__(self) -> str:
        return self.name


class Wave(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="waves")
    strategy = models.CharField(max_length=20, choices=Strategy.choices)
    status = models.CharField(max_length=20, choices=WaveStatus.choices, default=WaveStatus.RELEASED)
    # The earliest ship_by among its orders: the carrier cut-off the wave works towards.
    cutoff = models.DateTimeField(null=True, blank=True)
    schedule = models.ForeignKey(WaveSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="waves")
    order_count = models.PositiveIntegerField(default=0)
    line_count = models.PositiveIntegerField(default=0)
    unit_count = models.PositiveIntegerField(default=0)
    distance_m = models.DecimalField(max_digits=11, decimal_places=1, default=0)
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = WarehouseScopedQuerySet.as_manager()


class PickListStatus(models.TextChoices):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class PickList(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="pick_lists")
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="+")
    zone = models.CharField(max_length=20, blank=True)
    # Single-unit orders are batched apart: several share a tote and are sorted at packing.
    single_units = models.BooleanField(default=False)
    totes = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=20, choices=PickListStatus.choices, default=PickListStatus.OPEN)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="pick_lists"
    )
    distance_m = models.DecimalField(max_digits=9, decimal_places=1, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = WarehouseScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]


class TaskStatus(models.TextChoices):
    OPEN = "open"
    PICKED = "picked"
    SHORT = "short"
    CANCELLED = "cancelled"


# A confirmed task: picked in full, or short (a short pick is a confirmed line too).
CONFIRMED_STATUSES = (TaskStatus.PICKED, TaskStatus.SHORT)


class PickTask(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.PROTECT, related_name="+")
    pick_list = models.ForeignKey(PickList, on_delete=models.CASCADE, related_name="tasks")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="pick_tasks")
    allocation = models.ForeignKey("orders.OrderAllocation", on_delete=models.PROTECT, related_name="pick_tasks")
    location = models.ForeignKey("inventory.Location", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey("inventory.Lot", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    picked_quantity = models.PositiveIntegerField(default=0)
    tote = models.CharField(max_length=20, blank=True)
    sequence = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    picked_by = models.CharField(max_length=100, blank=True)
    # Handheld progress, kept here so that a reload (or another device) resumes where the picker was:
    # the location was scanned, and the units counted by product scans but not yet put in the tote.
    location_confirmed = models.BooleanField(default=False)
    counted_quantity = models.PositiveIntegerField(default=0)
    picked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sequence", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(picked_quantity__lte=models.F("quantity")), name="task_not_over_picked")
        ]

    @property
    def remaining(self) -> int:
        return self.quantity - self.picked_quantity


class ScanKind(models.TextChoices):
    LOCATION = "location"
    PRODUCT = "product"
    QUANTITY = "quantity"
    TOTE = "tote"
    SHORT = "short"


class PickScan(models.Model):
    """Every scan on a pick list, accepted or refused: makes a repeated scan (same id) harmless and
    is what pick rates and pick accuracy are computed from."""

    id = models.BigAutoField(primary_key=True)
    pick_list = models.ForeignKey(PickList, on_delete=models.CASCADE, related_name="scans")
    scan_id = models.CharField(max_length=64, help_text="Sent by the device with each scan; a repeat is ignored.")
    task = models.ForeignKey(PickTask, null=True, blank=True, on_delete=models.CASCADE, related_name="scans")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="pick_scans"
    )
    actor = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=20, choices=ScanKind.choices)
    code = models.CharField(max_length=128, blank=True)
    accepted = models.BooleanField()
    error_code = models.CharField(max_length=40, blank=True)
    message = models.CharField(max_length=300, blank=True)
    quantity = models.PositiveIntegerField(default=0, help_text="Units this scan counted or confirmed")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["pick_list", "scan_id"], name="pick_scan_id_unique")]
