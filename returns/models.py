"""Returns (RMAs): what the shopper sends back, and what the warehouse found and did with it."""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.db.models import F, Q

from fulfillment.tenancy.scoping import TenantScoped, scoped_queryset
from orders.models import Status as OrderStatus


def new_public_token() -> str:
    """An unguessable token for the shopper's link to a return (no login on the public portal)."""
    return secrets.token_urlsafe(24)


class ReturnStatus(models.TextChoices):
    """An RMA's life (API.md "Returns"): requested, label_issued (a prepaid return label was bought),
    in_transit (the carrier has the parcel), received (a first parcel is in), inspected (every unit
    is in and graded), then refunded or exchanged, and closed (nothing more will happen)."""

    REQUESTED = "requested"
    LABEL_ISSUED = "label_issued"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    INSPECTED = "inspected"
    REFUNDED = "refunded"
    EXCHANGED = "exchanged"
    CLOSED = "closed"


# Orders a return may be opened for: they left the warehouse.
RETURNABLE = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED})
# Returns whose parcel is awaited (announced, with a label, on its way), those a parcel may still
# come in for (also received in part), and those a merchant may still close (not resolved yet).
AWAITED = frozenset({ReturnStatus.REQUESTED, ReturnStatus.LABEL_ISSUED, ReturnStatus.IN_TRANSIT})
RECEIVABLE = AWAITED | {ReturnStatus.RECEIVED}
CLOSABLE = RECEIVABLE | {ReturnStatus.INSPECTED}


class ReturnSource(models.TextChoices):
    API = "api"  # the merchant's system
    PORTAL = "portal"  # the merchant, in the portal
    SHOPPER = "shopper"  # the shopper, in the public returns portal


class Grade(models.TextChoices):
    """What the inspection found of a returned unit."""

    NEW = "new"  # unopened, as it left
    OPENED = "opened"  # opened or tried, sellable as it is
    DAMAGED = "damaged"  # harmed in use or in transit
    DEFECTIVE = "defective"  # does not work as it should


class Disposition(models.TextChoices):
    RESTOCK = "restock"
    QUARANTINE = "quarantine"
    DISPOSE = "dispose"


class Resolution(models.TextChoices):
    REFUND = "refund"
    EXCHANGE = "exchange"
    STORE_CREDIT = "store_credit"


class Return(TenantScoped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=20)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="returns")
    # The order's warehouse: returns come back to the building that shipped them.
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(max_length=20, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    received_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=20, choices=Resolution.choices, default=Resolution.REFUND)
    source = models.CharField(max_length=20, choices=ReturnSource.choices, default=ReturnSource.API)
    # What the shopper wants instead, for an exchange: [{sku, quantity}].
    exchange_lines = models.JSONField(default=list, blank=True)
    exchange_order = models.OneToOneField(
        "orders.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="exchange_for"
    )
    # The shopper's link to this RMA (its page and label) from the public returns portal.
    public_token = models.CharField(max_length=64, default=new_public_token, editable=False)
    inspected_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_queryset("warehouse").as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="return_number_unique"),
            models.UniqueConstraint(fields=["public_token"], name="return_public_token_unique"),
        ]
        indexes = [models.Index(fields=["warehouse", "status", "created_at"])]

    def __str__(self) -> str:
        return self.number


class ReturnLine(TenantScoped):
    """Units of one order line coming back; condition and disposition stay blank until received."""

    # ``return`` is a Python keyword, hence ``rma``.
    rma = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="return_lines")
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    reason = models.CharField(max_length=200)
    received_quantity = models.PositiveIntegerField(default=0)
    condition = models.CharField(max_length=50, blank=True)
    disposition = models.CharField(max_length=20, choices=Disposition.choices, blank=True)

    objects = scoped_queryset("rma__warehouse").as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(received_quantity__lte=F("quantity")), name="return_line_not_over_received"
            ),
            models.UniqueConstraint(fields=["tenant", "rma", "order_line"], name="return_line_order_line_unique"),
        ]


class ReturnPhoto(TenantScoped):
    """A picture the shopper sent of a unit that arrived damaged or defective, kept in the database
    (no media server to run): the merchant and the inspector see it on the return's pages."""

    id = models.BigAutoField(primary_key=True)
    rma = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="photos")
    line = models.ForeignKey(ReturnLine, on_delete=models.CASCADE, related_name="photos")
    content_type = models.CharField(max_length=50)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped_queryset("rma__warehouse").as_manager()

    class Meta:
        ordering = ["id"]


class ReturnReceipt(TenantScoped):
    """Units of one return line received in one go: their grade, where they went, who took them in.
    A return may arrive in several parcels; each receipt is a row, and the line keeps the total."""

    id = models.BigAutoField(primary_key=True)
    rma = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="receipts")
    line = models.ForeignKey(ReturnLine, on_delete=models.CASCADE, related_name="receipts")
    quantity = models.PositiveIntegerField()
    grade = models.CharField(max_length=20, choices=Grade.choices)
    disposition = models.CharField(max_length=20, choices=Disposition.choices)
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True, default="", help_text="The inspector's words")
    received_at = models.DateTimeField()
    actor = models.CharField(max_length=100, blank=True, default="")

    objects = scoped_queryset("rma__warehouse").as_manager()

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="return_receipt_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.line_id} {self.grade}"


DEFAULT_REASONS = [
    "Too small",
    "Too large",
    "Not as described",
    "Changed my mind",
    "Arrived damaged",
    "Defective",
    "Wrong item sent",
]


class ReturnPolicy(TenantScoped):
    """A merchant's return policy: how long after delivery a shopper may return, what may not come
    back, what a return costs the shopper (a restocking fee in percent of the line price and a
    flat return shipping fee, both in the order's currency), whether exchanges are free of those
    fees, which resolutions the shopper may choose, and the reasons offered. A merchant without a
    row has the defaults (``returns.selectors.return_policy``)."""

    tenant = models.OneToOneField("tenancy.Tenant", on_delete=models.CASCADE, primary_key=True, related_name="+")
    window_days = models.PositiveIntegerField(default=30)
    non_returnable_skus = models.JSONField(default=list, blank=True)
    restocking_fee_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    return_shipping_fee = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    free_exchanges = models.BooleanField(default=True)
    resolutions = models.JSONField(default=list, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=100, blank=True, default="")
    # Where prepaid return labels are bought (none: the shopper gets the RMA without a label).
    label_account = models.ForeignKey(
        "shipping.CarrierAccount", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    label_service_code = models.CharField(max_length=60, blank=True, default="")
    # Trust the shopper: an exchange's new order is allocated at once, not when the return arrives.
    exchange_before_receipt = models.BooleanField(default=False)

    objects = scoped_queryset(None).as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(window_days__lte=3650), name="return_policy_window_at_most_ten_years"),
            models.CheckConstraint(
                condition=Q(restocking_fee_percent__gte=0, restocking_fee_percent__lte=100),
                name="return_policy_restocking_fee_percent",
            ),
            models.CheckConstraint(condition=Q(return_shipping_fee__gte=0), name="return_policy_shipping_fee"),
        ]

    def __str__(self) -> str:
        return f"return policy of {self.tenant_id}"


class LabelStatus(models.TextChoices):
    ISSUED = "issued"  # bought, not yet scanned by the carrier
    IN_TRANSIT = "in_transit"  # the carrier has it
    DELIVERED = "delivered"  # the carrier delivered it to the warehouse
    VOIDED = "voided"


class ReturnLabel(TenantScoped):
    """The prepaid return label of an RMA: a karrio return shipment (``is_return``) from the shopper
    to the warehouse, bought on the merchant's chosen carrier account, and tracked like an outbound
    shipment (``status``, ``next_poll_at``)."""

    rma = models.OneToOneField(Return, on_delete=models.CASCADE, primary_key=True, related_name="label")
    account = models.ForeignKey("shipping.CarrierAccount", on_delete=models.PROTECT, related_name="+")
    service_code = models.CharField(max_length=60)
    service_name = models.CharField(max_length=100, blank=True, default="")
    carrier_shipment_id = models.CharField(max_length=100, blank=True, default="")
    tracking_number = models.CharField(max_length=64, db_index=True)
    label = models.BinaryField()
    label_type = models.CharField(max_length=10, default="PDF")
    total_charge = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    status = models.CharField(max_length=20, choices=LabelStatus.choices, default=LabelStatus.ISSUED)
    # karrio's tracking status of the newest scan, and when it happened.
    tracking_status = models.CharField(max_length=30, blank=True, default="")
    tracking_at = models.DateTimeField(null=True, blank=True)
    events = models.JSONField(default=list, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("rma__warehouse").as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["next_poll_at"], name="return_label_due", condition=Q(next_poll_at__isnull=False))
        ]

    def __str__(self) -> str:
        return self.tracking_number


class RefundStatus(models.TextChoices):
    PENDING = "pending"  # the policy's amount is computed; the merchant has not confirmed it
    REFUNDED = "refunded"  # the merchant confirmed it (the amount is what they paid back)


class RefundMethod(models.TextChoices):
    ORIGINAL_PAYMENT = "original_payment"
    STORE_CREDIT = "store_credit"


class ReturnRefund(TenantScoped):
    """What the shopper gets back for an RMA. One row per RMA (the primary key), so a refund is
    never paid twice: ``amount_due`` is the policy's figure (line prices less the restocking fee
    of opened and damaged units and the return shipping fee), ``amount`` what the merchant
    confirmed (at most the amount due), ``breakdown`` how the figure was reached."""

    rma = models.OneToOneField(Return, on_delete=models.CASCADE, primary_key=True, related_name="refund")
    status = models.CharField(max_length=20, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    method = models.CharField(max_length=20, choices=RefundMethod.choices, default=RefundMethod.ORIGINAL_PAYMENT)
    amount_due = models.DecimalField(max_digits=12, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3)
    breakdown = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=300, blank=True, default="")
    computed_at = models.DateTimeField()
    refunded_at = models.DateTimeField(null=True, blank=True)
    refunded_by = models.CharField(max_length=100, blank=True, default="")

    objects = scoped_queryset("rma__warehouse").as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount_due__gte=0), name="return_refund_due_not_negative"),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0, amount__lte=F("amount_due")),
                name="return_refund_at_most_due",
            ),
        ]


class UnexpectedReturn(TenantScoped):
    """Units that came back and were not announced: an extra SKU in an RMA's parcel, or a parcel no
    RMA explains (``rma`` blank). Recorded, with where they were put, so that nothing is lost; the
    units enter the ledger into QUARANTINE until someone decides."""

    id = models.BigAutoField(primary_key=True)
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="+")
    rma = models.ForeignKey(Return, on_delete=models.SET_NULL, null=True, blank=True, related_name="unexpected")
    scanned = models.CharField(max_length=100, blank=True, default="", help_text="What the parcel's label said")
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    grade = models.CharField(max_length=20, choices=Grade.choices)
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True, default="")
    received_at = models.DateTimeField()
    actor = models.CharField(max_length=100, blank=True, default="")
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_queryset("warehouse").as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="unexpected_return_quantity_positive")]
