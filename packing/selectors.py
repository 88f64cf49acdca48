"""Reads for packing: what an order has picked, the box catalog as cartonization specs, and what a
pack station shows of a pack session (pack_session_state)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Sum

from fulfillment.env import WeightTolerance
from inventory.models import ProductBarcode
from orders.models import Order, OrderLine
from packing.cartonization import DEFAULT_DIM_DIVISOR, BoxSpec, ItemSpec, PlannedPackage, cartonize
from packing.models import Box, PackScan, PackScanResult, PackSession, PackSessionPackage


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


def _unit_specs(order: Order, *, ordered_if_none_picked: bool) -> list[ItemSpec]:
    """The order's picked units per SKU as cartonization specs, in line order (with
    ``ordered_if_none_picked``, the ordered units while nothing is picked yet); one query."""
    picked: dict[str, int] = {}
    ordered: dict[str, int] = {}
    products = {}
    for line in OrderLine.objects.filter(order=order).select_related("product").order_by("pk"):
        picked[line.sku] = picked.get(line.sku, 0) + line.picked_quantity
        ordered[line.sku] = ordered.get(line.sku, 0) + line.quantity
        products.setdefault(line.sku, line.product)
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
    expected_weight_g: int  # the units' weights and the box's tare
    weight_g: int | None  # weighed, once closed
    override_reason: str

    @property
    def units(self) -> int:
        return sum(quantity for _sku, quantity in self.items)

    def items_json(self) -> list[dict]:
        return [{"sku": sku, "quantity": quantity} for sku, quantity in self.items]


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


def session_packages(*, session: PackSession, unit_weights: dict[str, int] | None = None) -> list[SessionPackage]:
    """The session's packages in number order with their scanned contents and expected weights."""
    if unit_weights is None:
        unit_weights = dict(OrderLine.objects.filter(order_id=session.order_id).values_list("sku", "product__weight_g"))
    contents: dict[int, dict[str, int]] = {}
    scans = PackScan.objects.filter(session=session, result=PackScanResult.ACCEPTED, sku__isnull=False).order_by(
        "created_at", "id"
    )
    for package_id, sku, quantity in scans.values_list("package_id", "sku", "quantity"):
        items = contents.setdefault(package_id, {})
        items[sku] = items.get(sku, 0) + quantity
    packages = []
    for package in PackSessionPackage.objects.filter(session=session).select_related("box").order_by("number"):
        items = contents.get(package.pk, {})
        tare = package.box.tare_weight_g if package.box else 0
        packages.append(
            SessionPackage(
                number=package.number,
                box=package.box,
                items=tuple(items.items()),
                expected_weight_g=sum(unit_weights.get(sku, 0) * n for sku, n in items.items()) + tare,
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
    lines = list(OrderLine.objects.filter(order=order).select_related("product").order_by("pk"))
    scanned = scanned_units(session=session)
    barcodes: dict = {}
    for product_id, code in (
        ProductBarcode.objects.filter(product_id__in={line.product_id for line in lines})
        .order_by("pk")
        .values_list("product_id", "code")
    ):
        barcodes.setdefault(product_id, []).append(code)
    picked: dict[str, int] = {}
    products = {}
    for line in lines:
        picked[line.sku] = picked.get(line.sku, 0) + line.picked_quantity
        products.setdefault(line.sku, line.product)
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
    specs = order_item_specs(order=order) if recommended else []
    plan = cartonize(specs, [box_spec(b) for b in active_boxes()]) if specs else []
    return PackSessionState(
        session=session,
        expected=expected,
        packages=tuple(session_packages(session=session, unit_weights={u.sku: u.weight_g for u in expected})),
        recommended=tuple(plan),
        recommended_skus=tuple(spec.sku for spec in specs),
        tolerance=weight_tolerance(),
    )
