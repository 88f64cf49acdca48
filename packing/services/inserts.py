"""Inserts: a merchant's rules that put one of its products (a flyer, a sample) into parcels.

The operator keeps inserts at the warehouse's PACKING location, in the merchant's stock. When an
order is packed (``order_pack``, same transaction), each insert ``selectors.order_inserts`` names
leaves PACKING for the customer through the stock ledger (``inventory.services.stock_transfer``,
reason ``insert``, the order's number as reference) and the order timeline says so. When PACKING
does not hold enough free units, the insert is skipped, never the pack, and the timeline says that.

Units at PACKING that picked orders still owe to their lines (picked, not yet shipped) are not
free: an insert never takes a unit another parcel is waiting for.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Sum

from fulfillment.errors import FieldRefusal
from inventory import locks as inventory_locks
from inventory import services as inventory
from inventory.models import MovementReason, Product, StockBalance
from orders import services as orders_services
from orders.models import Order, OrderAllocation
from packing import selectors
from packing.models import InsertRule, InsertWhen

MAX_INSERT_QUANTITY = 100
INSERT_LOCATION = "PACKING"


class InsertRuleError(FieldRefusal):
    """A refused insert rule (422; 404 for a rule the merchant does not have)."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message, field=field, code=code, status=404 if code == "not_found" else 422)


def _product(*, tenant_id, sku: str) -> Product:
    product = Product.objects.filter(tenant_id=tenant_id, sku=sku).first()
    if product is None:
        raise InsertRuleError(f"unknown SKU {sku}", field="sku", code="unknown_sku")
    return product


def _check(*, quantity: int | None, when: str | None) -> None:
    if quantity is not None and not 1 <= quantity <= MAX_INSERT_QUANTITY:
        raise InsertRuleError(f"quantity must be 1 to {MAX_INSERT_QUANTITY}", field="quantity", code="out_of_range")
    if when is not None and when not in InsertWhen.values:
        raise InsertRuleError(
            f"when must be one of {', '.join(InsertWhen.values)}", field="when", code="invalid_choice"
        )


@transaction.atomic
def insert_rule_create(
    *, tenant_id, sku: str, quantity: int = 1, when: str = InsertWhen.ALWAYS, active: bool = True
) -> InsertRule:
    """A rule of the merchant ``tenant_id``: ``sku`` must be one of its products."""
    _check(quantity=quantity, when=when)
    product = _product(tenant_id=tenant_id, sku=sku)
    return InsertRule.objects.create(tenant_id=tenant_id, product=product, quantity=quantity, when=when, active=active)


def _own_rule(*, tenant_id, rule_id) -> InsertRule:
    # Another merchant's rule is "not found", exactly like a missing one.
    rule = InsertRule.objects.select_for_update().filter(tenant_id=tenant_id, pk=rule_id).first()
    if rule is None:
        raise InsertRuleError("no such insert rule", code="not_found")
    return rule


@transaction.atomic
def insert_rule_update(
    *,
    tenant_id,
    rule_id,
    sku: str | None = None,
    quantity: int | None = None,
    when: str | None = None,
    active: bool | None = None,
) -> InsertRule:
    """Change the fields given (None: keep)."""
    rule = _own_rule(tenant_id=tenant_id, rule_id=rule_id)
    _check(quantity=quantity, when=when)
    fields = []
    if sku is not None:
        rule.product = _product(tenant_id=tenant_id, sku=sku)
        fields.append("product")
    for name, value in (("quantity", quantity), ("when", when), ("active", active)):
        if value is not None:
            setattr(rule, name, value)
            fields.append(name)
    if fields:
        rule.save(update_fields=[*fields, "updated_at"])
    return rule


@transaction.atomic
def insert_rule_delete(*, tenant_id, rule_id) -> None:
    """Remove a rule; inserts already packed stay in the ledger and on the timelines."""
    _own_rule(tenant_id=tenant_id, rule_id=rule_id).delete()


def _free_at_packing(*, order: Order, product_id, location_id) -> list[tuple[StockBalance, int]]:
    """The merchant's balances of the product at PACKING, locked (primary-key order), with the units
    of each that no picked, unshipped order is owed, oldest lot first."""
    balances = list(
        inventory_locks.balances(StockBalance.objects)
        .filter(tenant_id=order.tenant_id, product_id=product_id, location_id=location_id, on_hand__gt=0)
        .select_related("lot")
    )
    owed = dict(
        OrderAllocation.objects.filter(
            tenant_id=order.tenant_id,
            line__product_id=product_id,
            line__order__warehouse_id=order.warehouse_id,
            released=False,
            picked_quantity__gt=0,
        )
        .values("lot_id")
        .annotate(units=Sum("picked_quantity"))
        .values_list("lot_id", "units")
    )
    free = [(b, b.on_hand - b.allocated - owed.get(b.lot_id, 0)) for b in balances]
    return sorted(((b, n) for b, n in free if n > 0), key=lambda item: (item[0].lot.received_at, item[0].pk))


def inserts_consume(*, order: Order, actor: str = "") -> list[tuple[selectors.Insert, bool]]:
    """Put the order's inserts into its parcel (in ``order_pack``'s transaction, the order locked).

    Returns (insert, consumed) per insert; a skipped one (not enough free at PACKING) changes no
    stock. Each writes one timeline entry on the order.
    """
    assert transaction.get_connection().in_atomic_block, "inserts_consume runs inside order_pack"
    inserts = selectors.order_inserts(order)
    if not inserts:
        return []
    packing = inventory.special_location(warehouse_id=order.warehouse_id, code=INSERT_LOCATION)
    outcome = []
    for insert in inserts:
        free = _free_at_packing(order=order, product_id=insert.product_id, location_id=packing.pk)
        consumed = sum(n for _, n in free) >= insert.quantity
        if consumed:
            left = insert.quantity
            for balance, units in free:
                take = min(units, left)
                inventory.stock_transfer(
                    tenant_id=order.tenant_id,
                    product_id=insert.product_id,
                    lot_id=balance.lot_id,
                    warehouse_id=order.warehouse_id,
                    source=packing,
                    target_code="V-CUSTOMER",
                    quantity=take,
                    reason=MovementReason.INSERT,
                    reference=f"order {order.number} insert",
                    actor=actor,
                )
                left -= take
                if not left:
                    break
            message = f"insert {insert.sku} × {insert.quantity} added ({insert.when})"
        else:
            message = f"insert {insert.sku} skipped: none at {INSERT_LOCATION}"
            if free:
                message = f"insert {insert.sku} skipped: only {sum(n for _, n in free)} at {INSERT_LOCATION}"
        orders_services.order_note(
            order_id=order.pk,
            type="insert_added" if consumed else "insert_skipped",
            message=message,
            data={"sku": insert.sku, "quantity": insert.quantity, "rule": str(insert.rule_id), "when": insert.when},
            actor=actor,
        )
        outcome.append((insert, consumed))
    return outcome
