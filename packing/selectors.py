"""Reads for packing: what an order has picked, the box catalog as cartonization specs, what a pack
station shows of a pack session (pack_session_state), the pack queue and the packers' day, the
inserts an order gets, and the materials of the staff's warehouses."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from fulfillment.env import WeightTolerance
from inventory.models import ProductBarcode
from inventory.selectors import warehouses_for
from orders.models import Order, OrderLine, Status
from packing.cartonization import DEFAULT_DIM_DIVISOR, BoxSpec, ItemSpec, PlannedPackage, cartonize
from packing.models import (
    Box,
    InsertRule,
    InsertWhen,
    Material,
    MaterialAlert,
    MaterialBalance,
    MaterialKind,
    MaterialMovement,
    PackScan,
    PackScanResult,
    PackSession,
    PackSessionPackage,
    PackSessionStatus,
    Shipment,
)
from picking.models import PickTask


def picked_quantities(*, order: Order) -> dict[str, int]:
    """Picked units per SKU, in the order of the order's lines (a SKU on two lines is summed)."""
    totals: dict[str, int] = {}
    lines = OrderLine.objects.filter(order=order).order_by("pk").values_list("sku", "picked_quantity")
    for sku, picked in lines:
        totals[sku] = totals.get(sku, 0) + picked
    return {sku: quantity for sku, quantity in totals.items() if quantity > 0}


def order_item_specs(*, order: Order) -> list[ItemSpec]:
    """The picked units of an order with their products' dimensions and weights."""
    return _unit_specs(order, ordered_if_none_picked=False)


def _line_totals(lines) -> tuple[dict[str, int], dict[str, int], dict]:
    """(picked, ordered, product) per SKU of an order's lines, in line order (a SKU on two lines is summed)."""
    picked: dict[str, int] = {}
    ordered: dict[str, int] = {}
    products = {}
    for line in lines:
        picked[line.sku] = picked.get(line.sku, 0) + line.picked_quantity
        ordered[line.sku] = ordered.get(line.sku, 0) + line.quantity
        products.setdefault(line.sku, line.product)
    return picked, ordered, products


def _order_lines(order: Order) -> list[OrderLine]:
    return list(OrderLine.objects.filter(order=order).select_related("product").order_by("pk"))


def _unit_specs(order: Order, *, ordered_if_none_picked: bool) -> list[ItemSpec]:
    """The order's picked units per SKU as cartonization specs, in line order (with
    ``ordered_if_none_picked``, the ordered units while nothing is picked yet); one query."""
    picked, ordered, products = _line_totals(_order_lines(order))
    quantities = ordered if ordered_if_none_picked and not any(picked.values()) else picked
    return [_spec(products[sku], sku, quantity) for sku, quantity in quantities.items() if quantity > 0]


def box_spec(box: Box) -> BoxSpec:
    return BoxSpec(
        code=box.code,
        length_mm=box.length_mm,
        width_mm=box.width_mm,
        height_mm=box.height_mm,
        max_weight_g=box.max_weight_g,
        tare_weight_g=box.tare_weight_g,
        kind=box.kind,
        cost=box.cost,
    )


def active_boxes() -> list[Box]:
    return list(Box.objects.filter(is_active=True).order_by("code"))


def recommended_packages(
    *, order: Order, boxes: list[Box] | None = None, dim_divisor: int = DEFAULT_DIM_DIVISOR
) -> list[PlannedPackage]:
    """Cartonization of the order's picked units over the active boxes (what packing uses without packages)."""
    boxes = active_boxes() if boxes is None else boxes
    return cartonize(order_item_specs(order=order), [box_spec(b) for b in boxes], dim_divisor=dim_divisor)


def order_unit_specs(*, order: Order) -> list[ItemSpec]:
    """The units to cartonize for an order: what was picked once picking has begun, else what was ordered."""
    return _unit_specs(order, ordered_if_none_picked=True)


def _spec(product, sku: str, quantity: int) -> ItemSpec:
    return ItemSpec(
        sku=sku,
        quantity=quantity,
        length_mm=product.length_mm,
        width_mm=product.width_mm,
        height_mm=product.height_mm,
        weight_g=product.weight_g,
        own_container=product.ships_in_own_container,
        upright=product.keep_upright,
        fragile=product.fragile,
        poly_ok=product.poly_mailer_ok,
    )


def boxes_by_code(codes: list[str] | None) -> tuple[list[Box], list[str]]:
    """(the active boxes named, the codes that name no active box); None: the whole active catalog."""
    if codes is None:
        return active_boxes(), []
    found = {b.code: b for b in Box.objects.filter(code__in=codes, is_active=True)}
    return [found[c] for c in dict.fromkeys(codes) if c in found], [c for c in codes if c not in found]


# -- pack sessions ---------------------------------------------------------------------------


def weight_tolerance() -> WeightTolerance:
    """PACK_WEIGHT_TOLERANCE (fulfillment.env): how far a weighed parcel may be from its expected weight."""
    return settings.PACK_WEIGHT_TOLERANCE


@dataclass(frozen=True)
class ExpectedUnit:
    """A SKU of the order as the packer sees it: what to pack and how many are scanned so far."""

    sku: str
    name: str
    quantity: int  # picked units to pack
    scanned: int
    weight_g: int
    image_url: str
    barcodes: tuple[str, ...]

    @property
    def remaining(self) -> int:
        return self.quantity - self.scanned


@dataclass(frozen=True)
class SessionPackage:
    """A parcel of the session: its box, the units scanned into it and what it should weigh."""

    number: int
    box: Box | None
    items: tuple[tuple[str, int], ...]  # (sku, units) in the order first scanned
    expected_weight_g: int  # ParcelWeights.expected_g: units, box tare, void fill, inserts (first parcel)
    weight_g: int | None  # weighed, once closed
    override_reason: str

    @property
    def units(self) -> int:
        return sum(quantity for _sku, quantity in self.items)

    def items_json(self) -> list[dict]:
        return [{"sku": sku, "quantity": quantity} for sku, quantity in self.items]


@dataclass(frozen=True)
class ParcelWeights:
    """What a parcel should weigh: its units, the box's tare, the void fill the box takes
    (``Box.void_fill_per_package`` units of the void-fill material's ``weight_g``), and in the
    first parcel the order's inserts (the flyer goes in with the slip)."""

    unit_weights: dict[str, int]
    void_fill_g: int = 0
    inserts_g: int = 0

    def expected_g(self, items, box: Box | None, *, first: bool) -> int:
        grams = sum(self.unit_weights.get(sku, 0) * quantity for sku, quantity in items)
        if box is not None:
            grams += box.tare_weight_g + box.void_fill_per_package * self.void_fill_g
        return grams + (self.inserts_g if first else 0)


def void_fill_weight_g() -> int:
    """Grams of one unit of the void-fill material (0 without one)."""
    return Material.objects.filter(kind=MaterialKind.VOID_FILL).values_list("weight_g", flat=True).first() or 0


def inserts_weight_g(inserts) -> int:
    """Grams of inserts (order_inserts)."""
    return sum(i.weight_g * i.quantity for i in inserts)


@dataclass(frozen=True)
class PackSessionState:
    """Everything a pack station shows: the expected units, the recommended packages (with the unit
    of each placement: ``recommended_skus[placement.item]``), the packages so far."""

    session: PackSession
    expected: tuple[ExpectedUnit, ...]
    packages: tuple[SessionPackage, ...]
    recommended: tuple[PlannedPackage, ...]
    recommended_skus: tuple[str, ...]
    tolerance: WeightTolerance
    weights: ParcelWeights
    inserts: tuple = ()  # order_inserts: what goes into the first parcel

    @property
    def current_package(self) -> SessionPackage | None:
        """The package the next unit goes into (the last one), None before the first scan."""
        return self.packages[-1] if self.packages else None

    @property
    def missing(self) -> tuple[ExpectedUnit, ...]:
        return tuple(unit for unit in self.expected if unit.remaining > 0)

    @property
    def complete(self) -> bool:
        return not self.missing


def scanned_units(*, session: PackSession) -> dict[str, int]:
    """Accepted units per SKU scanned in the session."""
    rows = (
        PackScan.objects.filter(session=session, result=PackScanResult.ACCEPTED, sku__isnull=False)
        .values("sku")
        .annotate(units=Sum("quantity"))
    )
    return {row["sku"]: row["units"] for row in rows}


def session_packages(*, session: PackSession, weights: ParcelWeights | None = None) -> list[SessionPackage]:
    """The session's packages in number order with their scanned contents and expected weights."""
    if weights is None:
        unit_weights = dict(OrderLine.objects.filter(order_id=session.order_id).values_list("sku", "product__weight_g"))
        weights = ParcelWeights(unit_weights, void_fill_weight_g(), inserts_weight_g(order_inserts(session.order)))
    contents: dict[int, dict[str, int]] = {}
    scans = PackScan.objects.filter(session=session, result=PackScanResult.ACCEPTED, sku__isnull=False).order_by(
        "created_at", "id"
    )
    for package_id, sku, quantity in scans.values_list("package_id", "sku", "quantity"):
        items = contents.setdefault(package_id, {})
        items[sku] = items.get(sku, 0) + quantity
    packages = []
    first = True  # the first package that holds units gets the inserts
    for package in PackSessionPackage.objects.filter(session=session).select_related("box").order_by("number"):
        items = contents.get(package.pk, {})
        expected = weights.expected_g(items.items(), package.box, first=first and bool(items))
        first = first and not items
        packages.append(
            SessionPackage(
                number=package.number,
                box=package.box,
                items=tuple(items.items()),
                expected_weight_g=expected,
                weight_g=package.weight_g,
                override_reason=package.override_reason,
            )
        )
    return packages


def pack_session_state(*, session: PackSession, recommended: bool = True) -> PackSessionState:
    """What the pack station shows for ``session`` (re-read: the caller's copy may be stale).
    ``recommended=False`` leaves out the cartonization (empty), for callers that only check the units."""
    session = PackSession.objects.select_related("order", "warehouse", "packer", "shipment").get(pk=session.pk)
    order = session.order
    lines = _order_lines(order)
    scanned = scanned_units(session=session)
    barcodes: dict = {}
    for product_id, code in (
        ProductBarcode.objects.filter(product_id__in={line.product_id for line in lines})
        .order_by("pk")
        .values_list("product_id", "code")
    ):
        barcodes.setdefault(product_id, []).append(code)
    picked, _ordered, products = _line_totals(lines)
    expected = tuple(
        ExpectedUnit(
            sku=sku,
            name=products[sku].name,
            quantity=quantity,
            scanned=scanned.get(sku, 0),
            weight_g=products[sku].weight_g,
            image_url=products[sku].image_url,
            barcodes=tuple(barcodes.get(products[sku].pk, ())),
        )
        for sku, quantity in picked.items()
        if quantity > 0
    )
    specs = [_spec(products[sku], sku, q) for sku, q in picked.items() if q > 0] if recommended else []
    plan = cartonize(specs, [box_spec(b) for b in active_boxes()]) if specs else []
    inserts = tuple(order_inserts(order))
    weights = ParcelWeights({u.sku: u.weight_g for u in expected}, void_fill_weight_g(), inserts_weight_g(inserts))
    return PackSessionState(
        session=session,
        expected=expected,
        packages=tuple(session_packages(session=session, weights=weights)),
        recommended=tuple(plan),
        recommended_skus=tuple(spec.sku for spec in specs),
        tolerance=weight_tolerance(),
        weights=weights,
        inserts=inserts,
    )


# -- the pack station's start page and the manager's packing page ------------------------------


@dataclass(frozen=True)
class QueuedOrder:
    """A picked order waiting at packing."""

    order: Order
    units: int
    totes: tuple[str, ...]
    held_by: str  # the packer of its open session, "" when nobody is packing it
    late: bool


def open_pack_sessions(*, actor, packer) -> list[PackSession]:
    """``packer``'s open sessions, newest first (to resume after a reload or on another device)."""
    return list(
        PackSession.objects.visible_to(actor)
        .filter(packer=packer, status=PackSessionStatus.OPEN)
        .select_related("order__tenant")
        .order_by("-opened_at")[:20]
    )


def pack_queue(*, actor, warehouse=None, limit: int | None = 50, now=None) -> list[QueuedOrder]:
    """Picked orders waiting to be packed, oldest ship-by first (then priority, then age): what a
    packer takes next. Four queries whatever the length."""
    now = now or timezone.now()
    orders = Order.objects.visible_to(actor).filter(status=Status.PICKED)
    if warehouse is not None:
        orders = orders.filter(warehouse=warehouse)
    orders = list(
        orders.select_related("tenant", "warehouse").order_by("ship_by", "-priority", "created_at")[: limit or None]
    )
    ids = [o.pk for o in orders]
    units = dict(
        OrderLine.objects.filter(order_id__in=ids)
        .values("order_id")
        .annotate(n=Sum("picked_quantity"))
        .values_list("order_id", "n")
    )
    totes: dict = {}
    for order_id, tote in (
        PickTask.objects.filter(order_id__in=ids, picked_quantity__gt=0)
        .exclude(tote="")
        .values_list("order_id", "tote")
        .distinct()
        .order_by("order_id", "tote")
    ):
        totes.setdefault(order_id, []).append(tote)
    held = dict(
        PackSession.objects.filter(order_id__in=ids, status=PackSessionStatus.OPEN).values_list(
            "order_id", "packer__username"
        )
    )
    return [
        QueuedOrder(
            order=o,
            units=units.get(o.pk) or 0,
            totes=tuple(totes.get(o.pk, ())),
            held_by=held.get(o.pk, ""),
            late=o.ship_by < now,
        )
        for o in orders
    ]


@dataclass(frozen=True)
class PackerDay:
    """One packer's packing over a period: orders and packages packed, units scanned, refused scans."""

    packer: str
    orders: int
    packages: int
    units: int
    scans: int
    refused: int
    overrides: int

    @property
    def mis_scan_rate(self) -> float:
        """Refused scans per scan (0 without scans)."""
        return self.refused / self.scans if self.scans else 0.0

    @property
    def mis_scan_percent(self) -> float:
        return round(100 * self.mis_scan_rate, 1)


def packer_stats(*, actor, start, end, warehouse=None) -> list[PackerDay]:
    """Per packer, the sessions closed and the scans made in [start, end), busiest first; orders packed
    without a session (the pack API) make a row of their own named "(API)". Set-based: four queries."""
    sessions = PackSession.objects.visible_to(actor).filter(
        status=PackSessionStatus.CLOSED, closed_at__gte=start, closed_at__lt=end
    )
    scans = PackScan.objects.visible_to(actor).filter(created_at__gte=start, created_at__lt=end)
    shipments = Shipment.objects.visible_to(actor).filter(created_at__gte=start, created_at__lt=end)
    if warehouse is not None:
        sessions = sessions.filter(warehouse=warehouse)
        scans = scans.filter(session__warehouse=warehouse)
        shipments = shipments.filter(warehouse=warehouse)
    rows: dict[str, dict] = {}

    def row(name: str) -> dict:
        return rows.setdefault(name, {"orders": 0, "packages": 0, "units": 0, "scans": 0, "refused": 0, "overrides": 0})

    for name, orders, packages, overrides in (
        sessions.values("packer__username")
        .annotate(
            n_orders=Count("id", distinct=True),
            n_packages=Count("packages", filter=Q(packages__weight_g__isnull=False), distinct=True),
            n_overrides=Count("packages", filter=~Q(packages__override_reason=""), distinct=True),
        )
        .values_list("packer__username", "n_orders", "n_packages", "n_overrides")
    ):
        r = row(name)
        r["orders"], r["packages"], r["overrides"] = orders, packages, overrides
    for name, total, refused, units in (
        scans.values("session__packer__username")
        .annotate(
            n_scans=Count("id"),
            n_refused=Count("id", filter=Q(result=PackScanResult.REFUSED)),
            n_units=Sum("quantity", filter=Q(result=PackScanResult.ACCEPTED)),
        )
        .values_list("session__packer__username", "n_scans", "n_refused", "n_units")
    ):
        r = row(name)
        r["scans"], r["refused"] = total, refused
        r["units"] = units or 0
    direct = shipments.exclude(pk__in=PackSession.objects.filter(shipment__isnull=False).values("shipment_id"))
    direct_counts = direct.aggregate(n_orders=Count("id", distinct=True), n_packages=Count("packages", distinct=True))
    if direct_counts["n_orders"]:
        r = row("(API)")
        r["orders"], r["packages"] = direct_counts["n_orders"], direct_counts["n_packages"]
    out = [PackerDay(packer=name, **values) for name, values in rows.items()]
    return sorted(out, key=lambda d: (-d.orders, -d.units, d.packer))


# -- inserts ---------------------------------------------------------------------------------

# An order that reached these has been packed (a shopper's earlier parcel); cancelled ones never were.
PACKED_STATUSES = (Status.PACKED, Status.SHIPPED, Status.DELIVERED, Status.EXCEPTION, Status.RETURNED)


@dataclass(frozen=True)
class Insert:
    """An insert that goes into an order's parcel: ``quantity`` of the merchant's ``sku``."""

    rule_id: object
    product_id: object
    sku: str
    name: str
    quantity: int
    when: str
    weight_g: int = 0  # per unit


def _ship_to_key(ship_to: dict) -> tuple[str, str, str]:
    return tuple((ship_to.get(key) or "").strip() for key in ("line1", "postal_code", "country"))


def is_first_order(order: Order) -> bool:
    """True when the merchant has packed no other order for this order's shopper.

    The shopper is the ship-to e-mail (case-insensitive) when the order has one; without an
    e-mail, the ship-to address (line1, postal code and country, case-insensitive). Orders that
    were packed (packed, shipped, delivered, exception, returned) count, whenever they were
    placed; cancelled or not yet packed ones do not.
    """
    ship_to = order.ship_to or {}
    others = Order.objects.filter(tenant_id=order.tenant_id, status__in=PACKED_STATUSES).exclude(pk=order.pk)
    email = (ship_to.get("email") or "").strip()
    if email:
        return not others.filter(ship_to__email__iexact=email).exists()
    line1, postal_code, country = _ship_to_key(ship_to)
    if not line1:
        return True  # no way to tell this shopper apart: treat as new
    return not others.filter(
        Q(ship_to__line1__iexact=line1)
        & Q(ship_to__postal_code__iexact=postal_code)
        & Q(ship_to__country__iexact=country)
    ).exists()


def order_inserts(order: Order) -> list[Insert]:
    """The inserts the merchant's active rules put into this order's parcel, in rule order.

    ``always`` rules apply to every order; ``first_order`` rules only when ``is_first_order``
    (the shopper's e-mail, else the ship-to address, has no earlier packed order).
    """
    rules = list(
        InsertRule.objects.filter(tenant_id=order.tenant_id, active=True)
        .select_related("product")
        .order_by("created_at", "id")
    )
    first = None
    inserts = []
    for rule in rules:
        if rule.when == InsertWhen.FIRST_ORDER:
            if first is None:
                first = is_first_order(order)
            if not first:
                continue
        inserts.append(
            Insert(
                rule_id=rule.pk,
                product_id=rule.product_id,
                sku=rule.product.sku,
                name=rule.product.name,
                quantity=rule.quantity,
                when=rule.when,
                weight_g=rule.product.weight_g,
            )
        )
    return inserts


# -- materials -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialStock:
    """A material's on hand in one warehouse (0 when nothing was ever recorded there)."""

    warehouse_code: str
    warehouse_id: object
    on_hand: int
    reorder_point: int

    @property
    def low(self) -> bool:
        return self.on_hand <= self.reorder_point


def material_stock(*, actor, materials: list[Material], warehouse_code: str | None = None) -> dict:
    """{material id: [MaterialStock per warehouse of the actor, by code]}; one query of balances."""
    warehouses = list(warehouses_for(actor))
    if warehouse_code:
        warehouses = [w for w in warehouses if w.code == warehouse_code.strip().upper()]
    on_hand = {
        (b["material_id"], b["warehouse_id"]): b["on_hand"]
        for b in MaterialBalance.objects.filter(
            warehouse__in=[w.pk for w in warehouses], material__in=[m.pk for m in materials]
        ).values("material_id", "warehouse_id", "on_hand")
    }
    return {
        m.pk: [MaterialStock(w.code, w.pk, on_hand.get((m.pk, w.pk), 0), m.reorder_point) for w in warehouses]
        for m in materials
    }


def material_movements(*, actor, material: Material | None = None, warehouse_code: str | None = None):
    """The ledger in the actor's warehouses, newest first."""
    movements = MaterialMovement.objects.filter(warehouse__in=warehouses_for(actor)).select_related(
        "warehouse", "material", "user"
    )
    if material is not None:
        movements = movements.filter(material=material)
    if warehouse_code:
        movements = movements.filter(warehouse__code=warehouse_code.strip().upper())
    return movements.order_by("-at", "-id")


def material_open_alerts(*, actor):
    """Open low-stock alerts of materials in the actor's warehouses, newest first."""
    return (
        MaterialAlert.objects.filter(warehouse__in=warehouses_for(actor), resolved_at__isnull=True)
        .select_related("warehouse", "material")
        .order_by("-created_at")
    )


def shipment_label_problem(shipment) -> str:
    """Why the shipment waits for a person instead of a label (shipping's open exception), or "".

    Shipping is a higher layer: its exceptions are read through the app registry, never imported."""
    from django.apps import apps

    exceptions = apps.get_model("shipping", "ShippingException")
    found = exceptions.objects.filter(shipment_id=shipment.pk, resolved_at__isnull=True).values_list(
        "message", flat=True
    )
    return next(iter(found), "")
