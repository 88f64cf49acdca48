"""Billing's reads: month to date per merchant, an invoice's fees, rate cards as shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import Count, Exists, Max, OuterRef, Sum
from django.utils import timezone

from billing.models import Invoice, InvoiceFee, InvoiceLine, StorageSnapshot
from fulfillment.fees import services as fees
from fulfillment.fees.models import DefaultRateCard, Fee, FeeKind, RateCard
from fulfillment.tenancy import rls
from fulfillment.tenancy.models import Tenant

KIND_LABELS = dict(FeeKind.choices)


def month_start(today: date) -> date:
    return today.replace(day=1)


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass
class MonthToDate:
    tenant: Tenant
    card: fees.Card  # in effect today
    by_kind: dict[str, Decimal] = field(default_factory=dict)
    total: Decimal = Decimal(0)
    fees: int = 0
    # Fees in another currency than the card's: not in ``total`` (they cannot be invoiced as they are).
    other_currencies: dict[str, Decimal] = field(default_factory=dict)
    # Units held without dimensions at the latest storage snapshot: stored, not billed.
    unsized_units: int = 0

    @property
    def currency(self) -> str:
        return self.card.currency

    @property
    def monthly_minimum(self) -> Decimal:
        return self.card.prices["monthly_minimum"]

    @property
    def card_label(self) -> str:
        return self.card.label

    @property
    def rows(self) -> list[tuple[str, str, Decimal]]:
        return [(kind, KIND_LABELS[kind], self.by_kind[kind]) for kind in FeeKind.values if kind in self.by_kind]


def month_to_date(*, tenants, today: date | None = None) -> list[MonthToDate]:
    """Per merchant (the ``tenants`` queryset, already scoped), the fees that occurred this month
    so far, by kind: one GROUP BY over the month's fees (by the (tenant, occurred_at) index)."""
    today = today or timezone.localdate()
    start = _start_of(month_start(today))
    tenants = list(tenants.order_by("name"))
    sums = (
        Fee.objects.filter(tenant_id__in=[t.pk for t in tenants], occurred_at__gte=start)
        .values("tenant_id", "kind", "currency")
        .annotate(amount=Sum("amount"), fees=Count("id"))
    )
    result = {}
    for tenant in tenants:
        result[tenant.pk] = MonthToDate(tenant=tenant, card=fees.card_for(tenant_id=tenant.pk, on=today))
    for row in sums:
        mtd = result[row["tenant_id"]]
        if row["currency"] != mtd.currency:
            mtd.other_currencies[row["currency"]] = mtd.other_currencies.get(row["currency"], 0) + row["amount"]
            mtd.fees += row["fees"]
            continue
        mtd.by_kind[row["kind"]] = mtd.by_kind.get(row["kind"], Decimal(0)) + row["amount"]
        mtd.total += row["amount"]
        mtd.fees += row["fees"]
    latest = StorageSnapshot.objects.filter(tenant_id__in=list(result)).aggregate(day=Max("day"))["day"]
    if latest is not None:
        unsized = (
            StorageSnapshot.objects.filter(tenant_id__in=list(result), day=latest, unsized_units__gt=0)
            .values("tenant_id")
            .annotate(units=Sum("unsized_units"))
        )
        for row in unsized:
            result[row["tenant_id"]].unsized_units = row["units"]
    return [result[t.pk] for t in tenants]


def card_versions(*, tenant_id) -> list[RateCard] | list[DefaultRateCard]:
    """Every version of a merchant's own card (``tenant_id`` None: of the default card), latest first."""
    if tenant_id is None:
        return list(DefaultRateCard.objects.order_by("-effective_from"))
    return list(RateCard.objects.filter(tenant_id=tenant_id).order_by("-effective_from"))


def scheduled(versions, *, today: date) -> list:
    """The versions that take effect after ``today``, soonest first."""
    return sorted((c for c in versions if c.effective_from > today), key=lambda c: c.effective_from)


def invoices_visible_to(actor):
    """The invoices of the merchants an actor may see billing of, newest first."""
    return (
        Invoice.objects.visible_to(actor)
        .filter(tenant__in=tenants_visible_to(actor))
        .select_related("tenant")
        .order_by("-issued_at", "-number")
    )


def fees_visible_to(actor, *, tenant_slug: str = "", kind: str = ""):
    """The fee rows of the merchants an actor may see billing of, newest first, optionally of one
    merchant (slug) and one kind; annotated ``invoiced``."""
    qs = Fee.objects.visible_to(actor).filter(tenant__in=tenants_visible_to(actor))
    if tenant_slug:
        qs = qs.filter(tenant__slug=tenant_slug)
    if kind:
        qs = qs.filter(kind=kind)
    return fees_with_invoice(qs.select_related("tenant").order_by("-occurred_at", "-id"))


def invoice_lines(invoice: Invoice) -> list[InvoiceLine]:
    return list(InvoiceLine.objects.filter(invoice=invoice).order_by("id"))


def invoice_fees(invoice: Invoice):
    """The fee rows frozen to the invoice, oldest first (a queryset: iterate with .iterator())."""
    return Fee.objects.filter(
        tenant_id=invoice.tenant_id, pk__in=InvoiceFee.objects.filter(invoice_id=invoice.pk).values("fee_id")
    ).order_by("occurred_at", "id")


def fees_with_invoice(qs):
    """Annotate ``invoiced``: whether the fee is on an invoice."""
    return qs.annotate(invoiced=Exists(InvoiceFee.objects.filter(fee_id=OuterRef("pk"))))


def tenants_visible_to(actor):
    """The merchants an actor may see billing of: a merchant itself; staff, the tenants of their
    scope (operator admins: all)."""

    if actor is None:
        return Tenant.objects.none()
    if actor.is_merchant:
        return Tenant.objects.filter(pk=actor.tenant_id)
    if actor.is_staff:
        scope = rls.current()
        if scope.operator or actor.sees_all_warehouses:
            return Tenant.objects.all()
        return Tenant.objects.filter(pk__in=list(scope.tenants))
    return Tenant.objects.none()


# -- the merchant portal's billing pages ---------------------------------------------------------


@dataclass
class PortalBilling:
    """What a merchant's billing page shows: the month so far, the card in effect, its invoices."""

    month: MonthToDate
    invoices: list[Invoice]
    today: date

    @property
    def card(self) -> fees.Card:
        return self.month.card

    @property
    def minimum_remaining(self) -> Decimal:
        """How far the month's fees are from the monthly minimum (zero once it is reached)."""
        return max(Decimal(0), self.month.monthly_minimum - self.month.total)


def portal_billing(*, actor, today: date | None = None) -> PortalBilling:
    """The signed-in merchant's month to date, its card of today and its invoices, newest first."""
    today = today or timezone.localdate()
    [month] = month_to_date(tenants=tenants_visible_to(actor), today=today)
    return PortalBilling(
        month=month,
        invoices=list(Invoice.objects.visible_to(actor).order_by("-period_start", "number")),
        today=today,
    )


def fees_not_invoiced(*, actor):
    """The merchant's fees that are on no invoice yet, oldest first: this month's, and any late one
    of an invoiced period (it goes on the next invoice)."""
    return (
        Fee.objects.visible_to(actor)
        .exclude(Exists(InvoiceFee.objects.filter(fee_id=OuterRef("pk"))))
        .order_by("occurred_at", "id")
    )
