"""Reads for packing: what an order has picked, the box catalog as cartonization specs, the
inserts an order gets, and the materials of the staff's warehouses."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from inventory.selectors import warehouses_for
from orders.models import Order, OrderLine, Status
from packing.cartonization import DEFAULT_DIM_DIVISOR, BoxSpec, ItemSpec, PlannedPackage, cartonize
from packing.models import Box, InsertRule, InsertWhen, Material, MaterialAlert, MaterialBalance, MaterialMovement


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
