"""Invoices (with their lines and the fees frozen to them) and the nightly storage snapshots.

The fee ledger and the rate cards are ``fulfillment.fees``: the stages write fees there; billing
reads them, snapshots storage, and issues invoices. An issued invoice never changes: its lines and
its fees are append-only tables (the database refuses UPDATE and DELETE, migration 0001).
"""

from __future__ import annotations

import uuid

from django.db import models

from fulfillment.fees.models import MONEY, FeeKind
from fulfillment.tenancy.scoping import TenantScoped


class Invoice(TenantScoped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=30, unique=True)
    period_start = models.DateField()
    period_end = models.DateField(help_text="The last day of the period (inclusive)")
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(**MONEY)
    monthly_minimum = models.DecimalField(**MONEY, help_text="The minimum for this period (prorated)")
    minimum_top_up = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    fee_count = models.PositiveIntegerField()
    issuer = models.JSONField(default=dict, help_text="The operator's details as printed")
    bill_to = models.JSONField(default=dict, help_text="The merchant's details as printed")
    issued_at = models.DateTimeField()
    issued_by = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-period_start", "number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "period_start"], name="invoice_one_per_tenant_start"),
            models.CheckConstraint(condition=models.Q(period_end__gte=models.F("period_start")), name="invoice_period"),
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(TenantScoped):
    id = models.BigAutoField(primary_key=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    kind = models.CharField(max_length=20, choices=FeeKind.choices)
    quantity = models.DecimalField(max_digits=18, decimal_places=6)
    amount = models.DecimalField(**MONEY)
    fee_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["invoice", "id"]
        constraints = [models.UniqueConstraint(fields=["invoice", "kind"], name="invoice_line_one_per_kind")]


class InvoiceFee(TenantScoped):
    """A fee frozen to the invoice that billed it; a fee is billed once (it is the primary key)."""

    # No foreign-key constraints and no index but the two below: neither an invoice nor a fee can
    # ever be deleted (triggers), and a million key checks and index entries at commit would double
    # the cost of a large invoice. ``tenant`` is here for row-level security.
    tenant = models.ForeignKey(
        "tenancy.Tenant", on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    fee = models.OneToOneField(
        "fees.Fee", on_delete=models.PROTECT, related_name="+", primary_key=True, db_constraint=False
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )

    class Meta:
        indexes = [models.Index(fields=["invoice", "fee"], name="invoice_fee_by_invoice")]


class StorageSnapshot(TenantScoped):
    """What a merchant held in a warehouse at the end of a day: the base of its storage fee."""

    id = models.BigAutoField(primary_key=True)
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    units = models.BigIntegerField()
    volume_m3 = models.DecimalField(max_digits=18, decimal_places=6)
    locations = models.PositiveIntegerField(help_text="Locations holding its stock")
    unsized_units = models.BigIntegerField(
        default=0, help_text="Units of products without dimensions: no volume, so no storage fee"
    )
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "warehouse", "day"], name="storage_snapshot_once_per_day")
        ]
