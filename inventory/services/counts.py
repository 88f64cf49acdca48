"""Cycle counts: scheduling by ABC class and exceptions, blind counting, variances, review.

A count covers one location and every tenant's stock in it. The associate counts blind (the
expected quantities are snapshot only when the count is submitted, under a lock on the
location's balances, so nothing moves between the snapshot and the corrections). Variances
become adjustments with reason ``count`` through the adjustment service, so the ledger has them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, Sum
from django.utils import timezone

from fulfillment.jobs import enqueue
from fulfillment.tenancy.actor import Actor
from fulfillment.tenancy.models import Tenant
from inventory import locks
from inventory.models import (
    Adjustment,
    AdjustmentReason,
    AdjustmentStatus,
    CountReason,
    CountStatus,
    CycleCount,
    CycleCountLine,
    Location,
    LocationKind,
    Lot,
    MovementReason,
    Product,
    StockBalance,
    StockMovement,
)
from inventory.services.adjustments import adjustment_create
from inventory.services.stock import InventoryError

# How often a location holding products of each ABC class is counted (days); settings override.
COUNT_INTERVAL_DAYS = {"A": 30, "B": 90, "C": 365}
# A line's variance posts without review when |variance| <= both of these.
COUNT_AUTO_UNITS = 2
COUNT_AUTO_PERCENT = Decimal("5")
SHORT_PICK_PREFIX = "short pick"


class CountStateError(InventoryError):
    """The count is not in the state the action needs (already submitted, decided, ...)."""

    status = 409


@dataclass(frozen=True)
class CountLineInput:
    sku: str
    counted_quantity: int
    lot: str = ""
    tenant: str = ""


def count_intervals() -> dict[str, int]:
    return {**COUNT_INTERVAL_DAYS, **getattr(settings, "COUNT_INTERVAL_DAYS", {})}


def within_tolerance(*, expected: int, variance: int) -> bool:
    units = int(getattr(settings, "COUNT_AUTO_UNITS", COUNT_AUTO_UNITS))
    percent = Decimal(str(getattr(settings, "COUNT_AUTO_PERCENT", COUNT_AUTO_PERCENT)))
    if variance == 0:
        return True
    if abs(variance) > units or expected <= 0:
        return False
    return Decimal(abs(variance)) * 100 <= percent * expected


# -- creating counts -----------------------------------------------------------------------


def _create_count(*, location: Location, reason: str, today: date) -> CycleCount | None:
    """A new open count, or None when the location already has one (the partial unique index decides)."""
    try:
        with transaction.atomic():
            return CycleCount.objects.create(
                warehouse_id=location.warehouse_id, location=location, reason=reason, scheduled_for=today
            )
    except IntegrityError:
        return None


@transaction.atomic
def count_create(*, warehouse_id, location_code: str, actor: str = "") -> CycleCount:
    """A manual count of one location; refused when the location already has an open count."""
    location = Location.objects.filter(warehouse_id=warehouse_id, code=location_code.strip().upper()).first()
    if location is None or location.is_virtual:
        raise InventoryError(f"unknown location {location_code}", field="location", code="unknown_location")
    count = _create_count(location=location, reason=CountReason.MANUAL, today=timezone.localdate())
    if count is None:
        raise InventoryError(f"location {location.code} already has an open count", field="location", code="duplicate")
    return count


@transaction.atomic
def count_request(
    *, location_id, reason: str = CountReason.SHORT_PICK, hold: bool = False
) -> tuple[CycleCount | None, bool]:
    """Ask for a count of a location now (a picker did not find what it should hold).

    Returns (the location's open count, whether this call created it). Never refuses: a
    location that already has an open count (or one in review) keeps it, since one count will
    settle both; a virtual location cannot be counted and gets None. The caller is usually in
    the middle of a pick, which must not fail because a count is already planned; the nightly
    schedule then finds the open count and adds none.

    ``hold``: the location also stops being sellable until a count submitted after now closes
    (see ``location_hold``), so that allocation does not send the next picker to the same
    empty place. Reservations already made there stay.
    """
    location = Location.objects.filter(pk=location_id).first()
    if location is None or location.is_virtual:
        return None, False
    if hold:
        location_hold(location_id=location.pk)
    count = _create_count(location=location, reason=reason, today=timezone.localdate())
    if count is not None:
        return count, True
    # The partial unique index refused ours: the open one was committed before our insert
    # looked, so this read (a new statement) sees it.
    existing = CycleCount.objects.filter(
        location=location, status__in=[CountStatus.OPEN, CountStatus.IN_REVIEW]
    ).first()
    return existing, False


def location_hold(*, location_id) -> None:
    """Take a location out of allocation until it is counted.

    The hold is the location's ``is_sellable`` switched off (allocation reads only sellable
    stock, so its hot path has nothing more to check), and ``held_since`` remembers that it was
    this hold that switched it off, and when. A location that was not sellable is left alone
    (there is nothing to give back later); one already held is held from now on, since a count
    made before this short pick says nothing about it. Runs in the caller's transaction; the
    location row is the last lock a short pick takes, after its balances, as a count's close
    takes it after the location's balances, so the two cannot deadlock.
    """
    Location.objects.filter(pk=location_id, is_virtual=False).filter(
        Q(is_sellable=True, held_since__isnull=True) | Q(held_since__isnull=False)
    ).update(is_sellable=False, held_since=timezone.now())


def _settle_hold(count: CycleCount) -> None:
    """After ``count`` closed (_close): give its location back to allocation when the count was
    made after the hold began.

    The backorders waiting for the products now free there are re-allocated (orders sits above
    us: a named task, after commit). A count submitted before the short pick that held the
    location cannot settle it: a new count is requested instead and the hold stays.
    """
    released = Location.objects.filter(
        pk=count.location_id, held_since__isnull=False, held_since__lte=count.submitted_at
    ).update(is_sellable=True, held_since=None)
    if released:
        product_ids = (
            StockBalance.objects.filter(location_id=count.location_id, on_hand__gt=F("allocated"))
            .values_list("product_id", flat=True)
            .distinct()
        )
        wanted = sorted({str(pk) for pk in product_ids})
        if wanted:
            enqueue("orders.tasks.reallocate_backorders", warehouse_id=str(count.warehouse_id), product_ids=wanted)
    elif Location.objects.filter(pk=count.location_id, held_since__isnull=False).exists():
        _create_count(location=count.location, reason=CountReason.SHORT_PICK, today=timezone.localdate())


def _last_counted() -> dict[int, object]:
    """location id -> when it was last counted (any submitted count)."""
    rows = (
        CycleCount.objects.filter(submitted_at__isnull=False)
        .values("location_id")
        .annotate(last=Max("submitted_at"))
        .values_list("location_id", "last")
    )
    return dict(rows)


@transaction.atomic
def cycle_counts_schedule(*, warehouse_id=None, now=None) -> list[CycleCount]:
    """Create the counts that are due; a second run creates nothing (one open count per location).

    Exceptions first: a short pick at the location since its last count, or a physical balance
    whose reservations exceed what it holds (or that is negative). Then ABC: a storage location
    is due when it holds a product of class X and was not counted within X's interval; a
    location never counted is due.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    last = _last_counted()
    locations = Location.objects.filter(is_virtual=False)
    if warehouse_id is not None:
        locations = locations.filter(warehouse_id=warehouse_id)
    wanted: dict[int, str] = {}

    # A held location waits for its count before anything else (it always has one; this is the
    # safety net should that count have gone missing).
    for location_id in locations.filter(held_since__isnull=False).values_list("pk", flat=True):
        wanted[location_id] = CountReason.SHORT_PICK

    intervals = count_intervals()
    short_picks = StockMovement.objects.filter(
        # Older short picks are covered by the ABC schedule: every stocked location is counted within a year.
        created_at__gte=now - timedelta(days=max(intervals.values())),
        reason=MovementReason.ADJUSTMENT,
        reference__istartswith=SHORT_PICK_PREFIX,
        from_location__in=locations,
    ).values_list("from_location_id", "created_at")
    for location_id, created_at in short_picks:
        since = last.get(location_id)
        if since is None or created_at > since:
            wanted.setdefault(location_id, CountReason.SHORT_PICK)

    negative = StockBalance.objects.filter(location__in=locations).filter(
        Q(on_hand__lt=0) | Q(on_hand__lt=F("allocated"))
    )
    for location_id in negative.values_list("location_id", flat=True).distinct():
        wanted.setdefault(location_id, CountReason.NEGATIVE_AVAILABILITY)

    held = (
        StockBalance.objects.filter(location__in=locations.filter(kind=LocationKind.STORAGE), on_hand__gt=0)
        .values_list("location_id", "product__abc_class")
        .distinct()
    )
    interval_of: dict[int, int] = {}
    for location_id, abc in held:
        days = intervals.get(abc, intervals["C"])
        interval_of[location_id] = min(days, interval_of.get(location_id, days))
    for location_id, days in interval_of.items():
        since = last.get(location_id)
        if since is None or since < now - timedelta(days=days):
            wanted.setdefault(location_id, CountReason.SCHEDULED)

    open_ids = set(
        CycleCount.objects.filter(status__in=[CountStatus.OPEN, CountStatus.IN_REVIEW]).values_list(
            "location_id", flat=True
        )
    )
    created = []
    for location in Location.objects.filter(pk__in=set(wanted) - open_ids).order_by("warehouse_id", "pick_sequence"):
        count = _create_count(location=location, reason=wanted[location.pk], today=today)
        if count is not None:
            created.append(count)
    return created


# -- submitting ----------------------------------------------------------------------------


def _lock_count(count_id, *statuses) -> CycleCount:
    count = locks.own_rows(CycleCount.objects).select_related("location").filter(pk=count_id).first()
    if count is None:
        raise InventoryError("no such count", code="not_found")
    if count.status not in statuses:
        raise CountStateError(f"the count is {count.status}", code="invalid_state")
    return count


def _snapshot(location: Location) -> dict[tuple, StockBalance]:
    """(tenant, product, lot) -> balance, locked in primary-key order until the transaction ends."""
    balances = locks.balances(StockBalance.objects.filter(location=location).select_related("lot", "product"))
    return {(b.tenant_id, b.product_id, b.lot_id): b for b in balances if b.on_hand != 0}


def _product_for(line: CountLineInput, *, index: int, expected_products: dict) -> Product:
    field = f"lines[{index}]"
    if line.tenant:
        tenant = Tenant.objects.filter(slug=line.tenant).first()
        if tenant is None:
            raise InventoryError(f"unknown tenant {line.tenant}", field=f"{field}.tenant", code="unknown_tenant")
        product = Product.objects.filter(tenant=tenant, sku=line.sku).first()
        if product is None:
            raise InventoryError(f"unknown SKU {line.sku}", field=f"{field}.sku", code="unknown_sku")
        return product
    # Without a tenant: the products expected here first, then any tenant's product with that SKU.
    here = [p for p in expected_products.values() if p.sku == line.sku]
    candidates = here or list(Product.objects.filter(sku=line.sku)[:2])
    if not candidates:
        raise InventoryError(f"unknown SKU {line.sku}", field=f"{field}.sku", code="unknown_sku")
    if len(candidates) > 1:
        raise InventoryError(
            f"several tenants have SKU {line.sku}: give the tenant", field=f"{field}.tenant", code="ambiguous"
        )
    return candidates[0]


def _distribute(counted: int, balances: list[StockBalance]) -> dict[int, int]:
    """Spread a product's count (the counter does not see lots) over its expected lots.

    Reserved units are covered first, so that the variance lands where it can be posted and
    reservations stay backed; then each lot up to what it should hold; a surplus goes to the
    newest lot.
    """
    share = {b.lot_id: 0 for b in balances}
    left = counted
    ordered = sorted(balances, key=lambda b: (b.lot.received_at, b.pk))
    for key in ("allocated", "on_hand"):
        for b in ordered:
            want = max(getattr(b, key) - share[b.lot_id], 0)
            take = min(want, left)
            share[b.lot_id] += take
            left -= take
    if left and ordered:
        share[ordered[-1].lot_id] += left
    return share


def _build_lines(count: CycleCount, lines: list[CountLineInput], snapshot: dict) -> list[CycleCountLine]:
    expected_products = {b.product_id: b.product for b in snapshot.values()}
    counted: dict[tuple, int] = defaultdict(int)  # (tenant, product, lot or None) -> units
    for index, line in enumerate(lines):
        product = _product_for(line, index=index, expected_products=expected_products)
        lot_id = None
        if line.lot:
            lot = Lot.objects.filter(tenant_id=product.tenant_id, product=product, code=line.lot).first()
            if lot is None:
                raise InventoryError(f"unknown lot {line.lot}", field=f"lines[{index}].lot", code="unknown_lot")
            lot_id = lot.pk
        counted[(product.tenant_id, product.pk, lot_id)] += line.counted_quantity
    by_product: dict[tuple, list[StockBalance]] = defaultdict(list)
    for (tenant_id, product_id, _lot), balance in snapshot.items():
        by_product[(tenant_id, product_id)].append(balance)
    result: dict[tuple, list[int]] = {key: [b.on_hand, 0] for key, b in snapshot.items()}  # [expected, counted]
    explicit = set()
    for key, quantity in counted.items():
        if key[2] is not None:
            result.setdefault(key, [0, 0])[1] += quantity  # a lot not expected here: expected 0
            explicit.add(key)
    for (tenant_id, product_id, lot_id), quantity in counted.items():
        if lot_id is not None:
            continue
        expected = by_product.get((tenant_id, product_id), [])
        open_lots = [b for b in expected if (tenant_id, product_id, b.lot_id) not in explicit]
        if open_lots:
            for lot_key, share in _distribute(quantity, open_lots).items():
                result[(tenant_id, product_id, lot_key)][1] += share
        elif expected:
            newest = max(expected, key=lambda b: (b.lot.received_at, b.pk))
            result[(tenant_id, product_id, newest.lot_id)][1] += quantity
        else:
            result[(tenant_id, product_id, None)] = [0, quantity]  # found here, nothing expected
    return CycleCountLine.objects.bulk_create(
        CycleCountLine(
            count=count,
            tenant_id=tenant_id,
            product_id=product_id,
            lot_id=lot_id,
            expected_quantity=expected,
            counted_quantity=quantity,
        )
        for (tenant_id, product_id, lot_id), (expected, quantity) in sorted(result.items(), key=str)
    )


def _posted(line: CycleCountLine) -> int:
    total = Adjustment.objects.filter(count_line_id=line.pk, status=AdjustmentStatus.POSTED).aggregate(
        s=Sum("quantity_delta")
    )["s"]
    return total or 0


def _post_variances(count: CycleCount, lines: list[CycleCountLine], *, actor: str) -> int:
    """Post what is left of each line's variance; returns the units that could not be posted.

    A count that finds fewer units than are reserved cannot take the reserved units away: the
    orders that hold them are being picked, and the pick (or its short pick) settles them. So a
    negative variance posts at most the unreserved units of that lot, and the rest stays on the
    line, visible in review, until a later approval can post it (or a recount replaces it).
    """
    unposted = 0
    for line in lines:
        remaining = (line.variance or 0) - _posted(line)
        if remaining == 0:
            continue
        if remaining < 0:
            balance = StockBalance.objects.filter(
                tenant_id=line.tenant_id, product_id=line.product_id, location_id=count.location_id, lot_id=line.lot_id
            ).first()
            free = 0 if balance is None else max(balance.on_hand - balance.allocated, 0)
            delta = -min(-remaining, free)
        else:
            delta = remaining
        unposted += abs(remaining - delta)
        if delta == 0:
            continue
        adjustment_create(
            tenant_id=line.tenant_id,
            warehouse_id=count.warehouse_id,
            sku=line.product.sku,
            location_code=count.location.code,
            quantity_delta=delta,
            reason=AdjustmentReason.COUNT,
            lot=line.lot.code if line.lot_id else "",
            note=f"cycle count {count.pk}",
            actor=actor,
            approved=True,
            count_line_id=line.pk,
        )
    return unposted


def _close(count: CycleCount, *, old: str, new: str, **fields) -> None:
    """Move ``count`` from ``old`` to ``new``; a count that closes settles its location's hold."""
    updated = CycleCount.objects.filter(pk=count.pk, status=old).update(status=new, **fields)
    if updated != 1:  # the count row is locked: cannot happen; refuse rather than decide twice
        raise CountStateError("the count changed meanwhile", code="invalid_state")
    count.status = new
    for name, value in fields.items():
        setattr(count, name, value)
    if new == CountStatus.CLOSED:
        _settle_hold(count)


@transaction.atomic
def count_submit(*, count_id, lines: list[CountLineInput], actor: str = "") -> CycleCount:
    """Record what was counted; products at the location that are not listed count as 0.

    No variance: closed. Every variance within tolerance: posted and closed. Otherwise the
    count waits in review for a manager (nothing posted yet).
    """
    count = _lock_count(count_id, CountStatus.OPEN)
    for index, line in enumerate(lines):
        if line.counted_quantity < 0:
            raise InventoryError("must not be negative", field=f"lines[{index}].counted_quantity", code="min_value")
    snapshot = _snapshot(count.location)
    created = _build_lines(count, lines, snapshot)
    saved = list(count.lines.select_related("product", "lot"))
    has_variance = any(line.variance for line in created)
    now = timezone.now()
    fields = {"has_variance": has_variance, "counted_by": actor[:100], "submitted_at": now}
    if not has_variance:
        _close(count, old=CountStatus.OPEN, new=CountStatus.CLOSED, closed_at=now, **fields)
        return count
    if all(within_tolerance(expected=x.expected_quantity, variance=x.variance) for x in saved):
        _close(count, old=CountStatus.OPEN, new=CountStatus.IN_REVIEW, **fields)
        if _post_variances(count, saved, actor=actor) == 0:
            _close(count, old=CountStatus.IN_REVIEW, new=CountStatus.CLOSED, closed_at=now)
        return count
    _close(count, old=CountStatus.OPEN, new=CountStatus.IN_REVIEW, **fields)
    return count


def _require_manager(actor: Actor) -> None:
    if actor is None or not actor.is_manager:
        raise PermissionDenied("Only a manager may decide a count in review.")


@transaction.atomic
def count_approve(*, count_id, actor: Actor) -> CycleCount:
    """Post the count's variances as adjustments (reason count); closes it when everything posted."""
    _require_manager(actor)
    count = _lock_count(count_id, CountStatus.IN_REVIEW)
    # The location's balances are locked too, so a pick cannot slip between reading and posting.
    _snapshot(count.location)
    lines = list(count.lines.select_related("product", "lot"))
    if _post_variances(count, lines, actor=actor.label) == 0:
        _close(count, old=CountStatus.IN_REVIEW, new=CountStatus.CLOSED, closed_at=timezone.now())
    return count


@transaction.atomic
def count_reject(*, count_id, actor: Actor) -> CycleCount:
    """Discard the counted figures (nothing more posts) and send someone to count again.

    A held location stays held: what it holds is as unknown as before, and the recount is the
    count that settles it.
    """
    _require_manager(actor)
    count = _lock_count(count_id, CountStatus.IN_REVIEW)
    _close(count, old=CountStatus.IN_REVIEW, new=CountStatus.CANCELLED, closed_at=timezone.now())
    recount = _create_count(location=count.location, reason=count.reason, today=timezone.localdate())
    if recount is None:  # the index allows one open count; ours was just closed, so this is a bug
        raise CountStateError("the location has another open count", code="invalid_state")
    return recount
