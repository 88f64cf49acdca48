"""Every write to stock: warehouses, catalog, receipts, reservations, picks, moves, adjustments.

Rules: each change of quantity is a StockMovement plus balance updates in the same
transaction; balance rows are locked in location order (then primary key); counters change only by F()
expressions and conditional updates, so that the database refuses an oversell.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, IntegerField, Sum, Value, When
from django.utils import timezone

from fulfillment.errors import FieldRefusal
from inventory import locks
from inventory.models import (
    ADDRESS_FIELDS,
    VIRTUAL_KINDS,
    Location,
    LocationKind,
    Lot,
    MovementReason,
    Product,
    StockBalance,
    StockMovement,
    Warehouse,
    Zone,
    ZoneKind,
    even_cross_aisles,
    warehouse_address_check,
    warehouse_calendar_errors,
    warehouse_layout_errors,
)


class InventoryError(FieldRefusal):
    """A refused stock action; ``field`` names the input at fault when there is one. 422, or by its
    code: 409 when it conflicts with the current state, 404 when there is nothing to act on."""

    STATUSES = {
        "duplicate": 409,
        "already_put_away": 409,
        "not_draft": 409,
        "not_open": 409,
        "wrong_kind": 409,
        "not_found": 404,
    }

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str = "invalid",
        status: int | None = None,
        errors: list[dict] | None = None,
    ):
        super().__init__(message, field=field, code=code, status=status or self.STATUSES.get(code), errors=errors)


class InsufficientStock(InventoryError):
    pass


SPECIAL_LOCATIONS = {
    "RECEIVING": (LocationKind.RECEIVING, ZoneKind.RECEIVING),
    "PACKING": (LocationKind.PACKING, ZoneKind.PACKING),
    "SHIPPING": (LocationKind.SHIPPING, ZoneKind.SHIPPING),
    "RETURNS": (LocationKind.RETURNS, ZoneKind.RETURNS),
    "QUARANTINE": (LocationKind.QUARANTINE, ZoneKind.QUARANTINE),
    "V-SUPPLIER": (LocationKind.SUPPLIER, ZoneKind.VIRTUAL),
    "V-CUSTOMER": (LocationKind.CUSTOMER, ZoneKind.VIRTUAL),
    "V-ADJUSTMENT": (LocationKind.ADJUSTMENT, ZoneKind.VIRTUAL),
    "V-SCRAP": (LocationKind.SCRAP, ZoneKind.VIRTUAL),
}


# -- warehouses ----------------------------------------------------------------------------


def pick_sequence(*, aisle: int, bay: int, level: int, bays: int) -> int:
    """Serpentine order: up odd aisles, down even ones (a route refinement comes with picking)."""
    along = bay if aisle % 2 == 1 else bays + 1 - bay
    return aisle * 100000 + along * 100 + level


@transaction.atomic
def warehouse_create(
    *,
    code: str,
    name: str,
    aisles: int,
    bays: int,
    levels: int,
    country: str = "CA",
    timezone_name: str = "America/Toronto",
    subdivision: str = "",
    cutoffs: dict | None = None,
    aisle_pitch_m: float | Decimal = 3,
    bay_width_m: float | Decimal = 1,
    blocks: int = 1,
    depot_aisle: int = 1,
    zones: dict[str, tuple[int, int]] | None = None,
    company_name: str = "",
    contact_name: str = "",
    address_line1: str = "",
    address_line2: str = "",
    city: str = "",
    region: str = "",
    postal_code: str = "",
    phone: str = "",
) -> Warehouse:
    """A warehouse with its zones and locations.

    ``blocks`` splits every aisle by evenly spaced middle cross aisles; ``zones`` maps a storage
    zone code to the first and last aisle it holds (aisles in no zone stay in STORAGE), so that
    zone picking has zones to split by. The ship-from address (in ``country``) may be left out
    entirely, else it must be complete and valid (warehouse_address_check); it is stored normalised.
    """
    code = code.strip().upper()
    if not code or len(code) > 20:
        raise InventoryError("code must be 1 to 20 characters", field="code")
    for label, value, top in (
        ("aisles", aisles, 99),
        ("bays", bays, 99),
        ("levels", levels, 9),
    ):
        if not 1 <= value <= top:
            raise InventoryError(f"{label} must be between 1 and {top}", field=label)
    calendar = warehouse_calendar_errors(
        country=country, subdivision=subdivision, timezone_name=timezone_name, cutoffs=cutoffs or {}
    )
    if calendar:
        label, message = next(iter(calendar.items()))
        raise InventoryError(message, field=label)
    if not 1 <= blocks <= min(bays, 9):
        raise InventoryError(
            f"blocks must be between 1 and {min(bays, 9)} (one bay per block at least)", field="blocks"
        )
    cross_aisles = even_cross_aisles(bays=bays, blocks=blocks)
    layout = warehouse_layout_errors(
        aisles=aisles,
        bays=bays,
        aisle_pitch_m=aisle_pitch_m,
        bay_width_m=bay_width_m,
        cross_aisles=cross_aisles,
        depot_aisle=depot_aisle,
    )
    if layout:
        label, message = next(iter(layout.items()))
        raise InventoryError(message, field=label)
    address = _checked_address(
        {
            "company_name": company_name,
            "contact_name": contact_name,
            "address_line1": address_line1,
            "address_line2": address_line2,
            "city": city,
            "region": region,
            "postal_code": postal_code,
            "phone": phone,
            "country": country,
        }
    )
    zone_of_aisle = _zone_of_aisle(zones or {}, aisles=aisles)
    if Warehouse.objects.filter(code=code).exists():
        raise InventoryError(f"warehouse {code} already exists", field="code", code="duplicate")
    warehouse = Warehouse.objects.create(
        code=code,
        name=name,
        country=country,
        subdivision=subdivision,
        timezone=timezone_name,
        cutoffs=cutoffs or {},
        aisles=aisles,
        bays=bays,
        levels=levels,
        aisle_pitch_m=Decimal(str(aisle_pitch_m)),
        bay_width_m=Decimal(str(bay_width_m)),
        cross_aisles=cross_aisles,
        depot_aisle=depot_aisle,
        **{field: address[field] for field in ADDRESS_FIELDS},
    )
    zones = {kind: Zone.objects.create(warehouse=warehouse, code=kind.upper(), kind=kind) for kind in ZoneKind.values}
    storage_zones = {
        zone_code: Zone.objects.create(warehouse=warehouse, code=zone_code, kind=ZoneKind.STORAGE)
        for zone_code in sorted(set(zone_of_aisle.values()))
    }
    locations = [
        Location(
            warehouse=warehouse,
            zone=zones[zone_kind],
            code=loc_code,
            kind=kind,
            is_virtual=kind in VIRTUAL_KINDS,
        )
        for loc_code, (kind, zone_kind) in SPECIAL_LOCATIONS.items()
    ]
    for aisle in range(1, aisles + 1):
        for bay in range(1, bays + 1):
            for level in range(1, levels + 1):
                locations.append(
                    Location(
                        warehouse=warehouse,
                        zone=storage_zones.get(zone_of_aisle.get(aisle), zones[ZoneKind.STORAGE]),
                        code=f"{aisle:02d}-{bay:02d}-{level}",
                        kind=LocationKind.STORAGE,
                        aisle=aisle,
                        bay=bay,
                        level=level,
                        pick_sequence=pick_sequence(aisle=aisle, bay=bay, level=level, bays=bays),
                        is_sellable=True,
                    )
                )
    Location.objects.bulk_create(locations)
    return warehouse


@transaction.atomic
def warehouse_update_address(*, warehouse: Warehouse, **fields: str) -> Warehouse:
    """Change parts of a warehouse's ship-from address (the fields of ADDRESS_FIELDS; the others
    stay). The result must be complete and valid (warehouse_address_check), or blank throughout;
    it is stored normalised. A refusal names every field at fault and changes nothing."""
    unknown = sorted(set(fields) - set(ADDRESS_FIELDS))
    if unknown:
        raise InventoryError(
            f"{unknown[0]} is not a ship-from address field ({', '.join(ADDRESS_FIELDS)})", field=unknown[0]
        )
    for field, value in fields.items():
        if not isinstance(value, str):
            raise InventoryError(f"{field} must be text", field=field)
    # Locked, so that two updates of different parts cannot each check an address the other changes.
    current = Warehouse.objects.select_for_update().get(pk=warehouse.pk)
    merged = {field: getattr(current, field) for field in (*ADDRESS_FIELDS, "country")} | fields
    address = _checked_address(merged)
    changed = [field for field in ADDRESS_FIELDS if getattr(current, field) != address[field]]
    for field in ADDRESS_FIELDS:
        setattr(current, field, address[field])
    if changed:
        current.save(update_fields=changed)
    for field in ADDRESS_FIELDS:  # the caller's instance reads what was stored
        setattr(warehouse, field, address[field])
    return warehouse


def _checked_address(fields: dict) -> dict[str, str]:
    """The ship-from address fields normalised, or an InventoryError naming every field at fault."""
    address, errors = warehouse_address_check(fields)
    if errors:
        raise InventoryError(errors[0]["message"], field=errors[0]["field"], code=errors[0]["code"], errors=errors)
    return address


def _zone_of_aisle(zones: dict[str, tuple[int, int]], *, aisles: int) -> dict[int, str]:
    """aisle -> storage zone code, refusing reserved codes, aisles outside the warehouse and overlaps."""
    reserved = {kind.upper() for kind in ZoneKind.values}
    zone_of: dict[int, str] = {}
    for raw_code, (first, last) in zones.items():
        zone_code = raw_code.strip().upper()
        if not zone_code or len(zone_code) > 20 or not zone_code.replace("-", "").replace("_", "").isalnum():
            raise InventoryError(f"zone code {raw_code!r} must be 1 to 20 letters or digits", field="zones")
        if zone_code in reserved:
            raise InventoryError(f"zone code {zone_code} is reserved", field="zones")
        if not 1 <= first <= last <= aisles:
            raise InventoryError(
                f"zone {zone_code}: aisles {first}-{last} must lie within 1-{aisles}, first <= last", field="zones"
            )
        for aisle in range(first, last + 1):
            if aisle in zone_of:
                raise InventoryError(f"aisle {aisle} is in zones {zone_of[aisle]} and {zone_code}", field="zones")
            zone_of[aisle] = zone_code
    return zone_of


def special_location(*, warehouse_id, code: str) -> Location:
    return Location.objects.get(warehouse_id=warehouse_id, code=code)


# -- the ledger ----------------------------------------------------------------------------


def _bump(
    *,
    tenant_id,
    product_id,
    location: Location,
    lot_id,
    on_hand: int,
    allocated: int = 0,
) -> None:
    """Change one balance row; a physical location may never go below zero (or below its reservations)."""
    rows = StockBalance.objects.filter(
        tenant_id=tenant_id,
        product_id=product_id,
        location_id=location.pk,
        lot_id=lot_id,
    )
    if on_hand < 0 and not location.is_virtual:
        # The conditional update is the check: never below zero, never below what stays reserved.
        rows = rows.filter(on_hand__gte=-on_hand).filter(on_hand__gte=F("allocated") + (allocated - on_hand))
    if allocated < 0:
        rows = rows.filter(allocated__gte=-allocated)
    updated = rows.update(on_hand=F("on_hand") + on_hand, allocated=F("allocated") + allocated)
    if updated:
        return
    if (on_hand < 0 and not location.is_virtual) or allocated < 0:
        raise InsufficientStock(
            f"not enough stock at {location.code}",
            field="quantity",
            code="insufficient_stock",
        )
    try:
        with transaction.atomic():
            StockBalance.objects.create(
                tenant_id=tenant_id,
                product_id=product_id,
                location=location,
                lot_id=lot_id,
                on_hand=on_hand,
                allocated=allocated,
            )
    except IntegrityError:
        # Another transaction created the row first: apply the change to it instead.
        StockBalance.objects.filter(
            tenant_id=tenant_id,
            product_id=product_id,
            location_id=location.pk,
            lot_id=lot_id,
        ).update(on_hand=F("on_hand") + on_hand, allocated=F("allocated") + allocated)


def _move(
    *,
    tenant_id,
    product_id,
    lot_id,
    source: Location,
    target: Location,
    quantity: int,
    reason: str,
    reference: str = "",
    actor: str = "",
    release: int = 0,
) -> StockMovement:
    """One movement and its two balance changes; ``release`` also frees that many reserved units at the source."""
    if quantity <= 0:
        raise InventoryError("quantity must be positive", field="quantity")
    if source.pk == target.pk:
        raise InventoryError("source and target are the same location", field="location")
    changes = [(source, -quantity, -release), (target, quantity, 0)]
    # Both rows are locked (updated) in location order, whichever way the units go, so that two
    # movements between the same pair of locations in opposite directions cannot deadlock.
    for location, on_hand, allocated in sorted(changes, key=lambda change: change[0].pk):
        _bump(
            tenant_id=tenant_id,
            product_id=product_id,
            location=location,
            lot_id=lot_id,
            on_hand=on_hand,
            allocated=allocated,
        )
    return StockMovement.objects.create(
        tenant_id=tenant_id,
        product_id=product_id,
        lot_id=lot_id,
        from_location=source,
        to_location=target,
        quantity=quantity,
        reason=reason,
        reference=reference[:100],
        actor=actor[:100],
    )


def lot_for_receipt(*, product: Product, code: str, expiry_date, default_code: str, field: str) -> Lot:
    if product.lot_tracked and not code:
        raise InventoryError(
            f"{product.sku} is lot-tracked: a lot is required",
            field=f"{field}.lot",
            code="required",
        )
    if product.expiry_tracked and not expiry_date:
        raise InventoryError(
            f"{product.sku} is expiry-tracked: an expiry date is required",
            field=f"{field}.expiry_date",
            code="required",
        )
    lot, created = Lot.objects.get_or_create(
        tenant_id=product.tenant_id,
        product=product,
        code=code or default_code,
        defaults={"expiry_date": expiry_date, "received_at": timezone.now()},
    )
    if not created and expiry_date and lot.expiry_date and lot.expiry_date != expiry_date:
        raise InventoryError(
            f"lot {lot.code} already has expiry {lot.expiry_date}",
            field=f"{field}.expiry_date",
            code="conflict",
        )
    return lot


# -- reservations and picks ----------------------------------------------------------------


@dataclass(frozen=True)
class Reservation:
    balance_id: int
    location_id: int
    lot_id: int
    quantity: int


# Each candidate balance is read as a tuple (no model objects: allocation is the hot path): pk,
# product, location, lot, on_hand, allocated, lot expiry date, lot received at, location pick
# sequence, product expiry_tracked, product min_shelf_life_days (_CANDIDATES_SQL's columns).


# The candidates of a reservation, locked in location order, then primary key: the order _move
# locks a movement's two balances in, and orders.locks.allocation_short_lock a short pick's,
# so that a reservation, a transfer and a short pick of the same product cannot deadlock
# (precompiled SQL, as this runs once per allocated order).
_CANDIDATES_SQL = """
SELECT b.id, b.product_id, b.location_id, b.lot_id, b.on_hand, b.allocated,
       lot.expiry_date, lot.received_at, loc.pick_sequence, p.expiry_tracked, p.min_shelf_life_days
FROM inventory_stockbalance b
JOIN inventory_location loc ON loc.id = b.location_id
JOIN inventory_lot lot ON lot.id = b.lot_id
JOIN inventory_product p ON p.id = b.product_id
WHERE b.tenant_id = %s AND b.product_id = ANY(%s::uuid[]) AND loc.warehouse_id = %s AND loc.is_sellable
  AND b.on_hand > b.allocated AND NOT (b.location_id = ANY(%s::bigint[]))
ORDER BY b.location_id, b.id
FOR NO KEY UPDATE OF b
"""


# What is free to reserve of one product: the candidates' filters and the shelf-life rule
# (_may_ship) in SQL, as a scalar subquery for statements that need it beside other rows (nothing
# locked). ``{product}`` is the SQL expression of the product id; the statement binds %(tenant)s,
# %(warehouse)s and %(today)s.
FREE_UNITS_SQL = """(
    SELECT COALESCE(sum(b.on_hand - b.allocated), 0)::int
    FROM inventory_stockbalance b
    JOIN inventory_location loc ON loc.id = b.location_id
    JOIN inventory_lot lot ON lot.id = b.lot_id
    JOIN inventory_product p ON p.id = b.product_id
    WHERE b.product_id = {product} AND b.tenant_id = %(tenant)s AND loc.warehouse_id = %(warehouse)s
      AND loc.is_sellable AND b.on_hand > b.allocated
      AND (NOT p.expiry_tracked OR lot.expiry_date >= %(today)s::date + p.min_shelf_life_days)
)"""


def _candidates(*, tenant_id, warehouse_id, product_ids: list, exclude: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES_SQL, [tenant_id, product_ids, warehouse_id, exclude])
        return cursor.fetchall()


def _may_ship(row, today: date) -> bool:
    expiry, tracked, min_days = row[6], row[9], row[10]
    return not tracked or (expiry is not None and expiry >= today + timedelta(days=min_days))


def _removal_key(row):
    """FEFO for expiry-tracked products, else FIFO by receipt; then the pick path; then the row."""
    expiry = row[6] if row[9] and row[6] else date.max
    return (expiry, row[7], row[8], row[0])


def _held_back(rows, holdback, elsewhere) -> dict:
    """{product_id: units} of the candidate ``rows`` left to the orders ahead (stock_reserve)."""
    left: dict = defaultdict(int)
    if not holdback:
        return left
    free: dict = defaultdict(int)
    for row in rows:
        free[row[1]] += row[4] - row[5]
    # Only an entry that these products could serve even with nothing kept for the others can keep anything.
    queue = [(key, wants) for key, wants in holdback if all(free[pid] >= units for pid, units in wants.items())]
    if queue and elsewhere is not None:
        more: dict = defaultdict(dict)
        for key, pid, units, free_units in elsewhere([key for key, _wants in queue]):
            more[key][pid] = more[key].get(pid, 0) + units
            free[pid] = free_units
        queue = [(key, {**wants, **more.get(key, {})}) for key, wants in queue]
    for _key, wants in queue:
        if all(free[pid] - left[pid] >= units for pid, units in wants.items()):
            for pid, units in wants.items():
                left[pid] += units
    return left


def stock_reserve(
    *,
    tenant_id,
    warehouse_id,
    needs: dict,
    partial: bool = False,
    exclude_location_ids=(),
    holdback: list[tuple] | None = None,
    holdback_elsewhere: Callable[[list], list[tuple]] | None = None,
    apply: bool = True,
) -> dict[object, list[Reservation]] | None:
    """Reserve ``needs`` {product_id: quantity} from sellable stock, FIFO (FEFO when expiry-tracked).

    Must run inside the caller's transaction. Candidate balance rows of all products are
    locked in one statement in location order (then primary key), so concurrent allocators queue instead of
    deadlocking, and each sees the others' reservations. Lots that are expired or under the
    product's minimum remaining shelf life are never reserved. All or nothing unless
    ``partial``: returns None (and changes nothing) when any product is short. Two statements
    in all: the locking SELECT and one UPDATE of every reserved row.

    ``holdback`` [(key, {product_id: units}), ...] names what the orders ahead in the queue wait
    for of these products, in queue order, each entry served whole or not at all: each is served
    first when what is free covers all it waits for (as if they had been re-allocated first), and
    those units are left to them. One that cannot be covered holds nothing, so a large backorder,
    or one still short of another product, does not stop smaller orders behind it from shipping.
    ``holdback_elsewhere(keys)`` tells, for the entries that these products alone could serve,
    what else they wait for and what is free of it (read without locking), as (key, product_id,
    units, free units): one more statement, only then.
    """
    assert transaction.get_connection().in_atomic_block, "stock_reserve needs a transaction"
    needs = {pid: qty for pid, qty in needs.items() if qty > 0}
    if not needs:
        return {}
    today = timezone.localdate()
    exclude = list(exclude_location_ids)
    rows = [
        row
        for row in _candidates(tenant_id=tenant_id, warehouse_id=warehouse_id, product_ids=list(needs), exclude=exclude)
        if _may_ship(row, today)
    ]
    rows.sort(key=_removal_key)
    plan: dict[object, list[Reservation]] = defaultdict(list)
    remaining = dict(needs)
    increments: dict[int, int] = {}
    left_for_others = _held_back(rows, holdback, holdback_elsewhere)
    for row in rows:
        pk, product_id, location_id, lot_id, on_hand, allocated = row[:6]
        want = remaining.get(product_id, 0)
        if want <= 0:
            continue
        free = on_hand - allocated
        if left_for_others[product_id]:
            kept = min(free, left_for_others[product_id])
            left_for_others[product_id] -= kept
            free -= kept
        take = min(want, free)
        if take > 0:
            plan[product_id].append(Reservation(pk, location_id, lot_id, take))
            remaining[product_id] = want - take
            increments[pk] = take
    if not partial and any(qty > 0 for qty in remaining.values()):
        return None
    if increments and apply:
        updated = StockBalance.objects.filter(pk__in=list(increments)).update(
            allocated=F("allocated")
            + Case(*(When(pk=pk, then=Value(q)) for pk, q in increments.items()), output_field=IntegerField())
        )
        # Cannot differ under the lock, and the balance check constraint refuses an oversell anyway.
        if updated != len(increments):
            raise InsufficientStock("stock changed during reservation", code="insufficient_stock")
    return dict(plan)


def stock_release(*, balance_id: int, quantity: int) -> None:
    if quantity <= 0:
        return
    updated = StockBalance.objects.filter(pk=balance_id, allocated__gte=quantity).update(
        allocated=F("allocated") - quantity
    )
    if updated != 1:
        raise InventoryError("cannot release more than is reserved", code="over_release")


def stock_pick(*, balance_id: int, quantity: int, reference: str = "", actor: str = "") -> StockMovement:
    """Move reserved units from their location to PACKING, consuming the reservation."""
    balance = StockBalance.objects.select_related("location").get(pk=balance_id)
    packing = special_location(warehouse_id=balance.location.warehouse_id, code="PACKING")
    return _move(
        tenant_id=balance.tenant_id,
        product_id=balance.product_id,
        lot_id=balance.lot_id,
        source=balance.location,
        target=packing,
        quantity=quantity,
        reason=MovementReason.PICK,
        reference=reference,
        actor=actor,
        release=quantity,
    )


def stock_write_off_missing(*, balance_id: int, quantity: int, reference: str = "", actor: str = "") -> int:
    """Units a picker could not find leave sellable stock (to V-ADJUSTMENT) until a count finds them.

    Only unreserved units can go; returns how many did.
    """
    balance = locks.balances(StockBalance.objects).select_related("location").get(pk=balance_id)
    quantity = min(quantity, balance.on_hand - balance.allocated)
    if quantity <= 0:
        return 0
    _move(
        tenant_id=balance.tenant_id,
        product_id=balance.product_id,
        lot_id=balance.lot_id,
        source=balance.location,
        target=special_location(warehouse_id=balance.location.warehouse_id, code="V-ADJUSTMENT"),
        quantity=quantity,
        reason=MovementReason.ADJUSTMENT,
        reference=reference or "missing at pick",
        actor=actor,
    )
    return quantity


def stock_transfer(
    *,
    tenant_id,
    product_id,
    lot_id,
    warehouse_id,
    source_code: str | None = None,
    target_code: str | None = None,
    source: Location | None = None,
    target: Location | None = None,
    quantity: int,
    reason: str,
    reference: str = "",
    actor: str = "",
) -> StockMovement:
    """A movement between two locations named by code (e.g. PACKING -> V-CUSTOMER on shipment)."""
    source = source or special_location(warehouse_id=warehouse_id, code=source_code)
    target = target or special_location(warehouse_id=warehouse_id, code=target_code)
    return _move(
        tenant_id=tenant_id,
        product_id=product_id,
        lot_id=lot_id,
        source=source,
        target=target,
        quantity=quantity,
        reason=reason,
        reference=reference,
        actor=actor,
    )


def restock_location(*, tenant_id, product_id, warehouse_id) -> Location:
    """Where returned sellable units go: a location already holding the product, else the first empty one."""
    holding = (
        StockBalance.objects.filter(
            tenant_id=tenant_id,
            product_id=product_id,
            location__warehouse_id=warehouse_id,
            location__is_sellable=True,
        )
        .order_by("-on_hand", "location__pick_sequence")
        .select_related("location")
        .first()
    )
    if holding is not None:
        return holding.location
    location = (
        Location.objects.filter(warehouse_id=warehouse_id, is_sellable=True)
        .exclude(balances__on_hand__gt=0)
        .order_by("pick_sequence")
        .first()
    )
    if location is None:
        raise InventoryError("no sellable location to restock into", code="no_location")
    return location


# -- verification --------------------------------------------------------------------------


def ledger_differences() -> list[str]:
    """Balances that differ from the sum of their movements, and products whose movements do not net to zero."""
    expected: dict[tuple, int] = defaultdict(int)
    keys = ("tenant_id", "product_id", "lot_id")
    for row in StockMovement.objects.values(*keys, "to_location_id").annotate(q=Sum("quantity")):
        expected[(row["tenant_id"], row["product_id"], row["to_location_id"], row["lot_id"])] += row["q"]
    for row in StockMovement.objects.values(*keys, "from_location_id").annotate(q=Sum("quantity")):
        expected[
            (
                row["tenant_id"],
                row["product_id"],
                row["from_location_id"],
                row["lot_id"],
            )
        ] -= row["q"]
    problems = []
    actual = {
        (b["tenant_id"], b["product_id"], b["location_id"], b["lot_id"]): b["on_hand"]
        for b in StockBalance.objects.values("tenant_id", "product_id", "location_id", "lot_id", "on_hand")
    }
    for key in sorted(set(expected) | set(actual), key=str):
        want, have = expected.get(key, 0), actual.get(key, 0)
        if want != have:
            problems.append(
                f"tenant={key[0]} product={key[1]} location={key[2]} lot={key[3]}: balance {have}, movements {want}"
            )
    totals: dict[tuple, int] = defaultdict(int)
    for key, value in actual.items():
        totals[(key[0], key[1])] += value
    for (tenant, product), total in sorted(totals.items(), key=str):
        if total != 0:
            problems.append(f"tenant={tenant} product={product}: balances sum to {total}, not 0")
    bad_reservations = StockBalance.objects.filter(allocated__gt=F("on_hand")).exclude(allocated=0).count()
    if bad_reservations:
        problems.append(f"{bad_reservations} balances reserve more than they hold")
    return problems
