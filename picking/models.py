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


class Wave(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="waves")
    strategy = models.CharField(max_length=20, choices=Strategy.choices)
    status = models.CharField(max_length=20, choices=WaveStatus.choices, default=WaveStatus.RELEASED)
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
    status = models.CharField(max_length=20, choices=PickListStatus.choices, default=PickListStatus.OPEN)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="pick_lists"
    )
    distance_m = models.DecimalField(max_digits=9, decimal_places=1, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = WarehouseScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]


class TaskStatus(models.TextChoices):
    OPEN = "open"
    PICKED = "picked"
    SHORT = "short"
    CANCELLED = "cancelled"


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
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sequence", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(picked_quantity__lte=models.F("quantity")), name="task_not_over_picked")
        ]

    @property
    def remaining(self) -> int:
        return self.quantity - self.picked_quantity
