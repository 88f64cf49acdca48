"""Handheld pages for inbound work: receive an ASN, put away, move (360 px, keyboard-wedge scanner).

Each page keeps its progress in the session and calls the same services as the API; a refused
scan answers 422 with ``data-error`` (handheld.js buzzes and vibrates) and changes nothing. The
pages' own refusals are worded as the services' are (no full stop: the page adds it).
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from fulfillment.errors import Refusal, refusal_shown
from fulfillment.tenancy.portal import staff_actor
from inventory import scanning, services
from inventory.models import (
    InboundShipment,
    InboundStatus,
    Location,
    Product,
    Receipt,
    ReceiptStatus,
    StockBalance,
    Warehouse,
)
from inventory.services import putaway


def _warehouses(actor):
    warehouses = Warehouse.objects.all()
    if not actor.sees_all_warehouses:
        warehouses = warehouses.filter(staff__id=actor.user_id)
    return warehouses


def _int(value, *, field: str, minimum: int = 0) -> int:
    try:
        number = int(str(value or "0").strip())
    except ValueError:
        raise Refusal(f"{field} must be a whole number") from None
    if number < minimum:
        raise Refusal(f"{field} must be at least {minimum}")
    return number


# -- receive ---------------------------------------------------------------------------------


@login_required
def receive_list(request):
    actor = staff_actor(request)
    shipments = (
        InboundShipment.objects.visible_to(actor)
        .filter(status__in=[InboundStatus.EXPECTED, InboundStatus.PARTIALLY_RECEIVED])
        .select_related("warehouse", "tenant")
        .prefetch_related("lines")
        .order_by("expected_at", "created_at")
    )
    return render(request, "inventory/handheld/receive_list.html", {"shipments": shipments})


def _receive_key(shipment) -> str:
    return f"receive:{shipment.pk}"


def _receive_context(request, shipment, *, error: str = "") -> dict:
    state = request.session.get(_receive_key(shipment), {})
    product = Product.objects.filter(pk=state["product"]).first() if state.get("product") else None
    return {
        "shipment": shipment,
        "lines": list(shipment.lines.select_related("product").order_by("pk")),
        "state": state,
        "product": product,
        "needs_lot": bool(product and product.lot_tracked and not state.get("lot_scanned")),
        "needs_expiry": bool(product and product.expiry_tracked and not state.get("expiry_scanned")),
        "error": error,
    }


def _receive_scan(request, shipment, state: dict) -> dict:
    scan = scanning.parse_scan(request.POST.get("scan", ""))
    product, per_scan = scanning.resolve_product(shipment.tenant_id, scan)
    if state.get("product") and state["product"] != str(product.pk):
        raise Refusal(f"That is {product.sku}: confirm or cancel {state['sku']} first")
    if state.get("product"):  # the same product again: one more scan's worth of units
        if scan.lot and state.get("lot") and scan.lot != state["lot"]:
            raise Refusal(f"Lot {scan.lot} differs from {state['lot']}: confirm this lot first")
        state["quantity"] += per_scan
        return state
    if not shipment.lines.filter(product=product).exists():
        messages.warning(request, f"{product.sku} is not on this ASN: it will be recorded as unexpected.")
    return {
        "product": str(product.pk),
        "sku": product.sku,
        "per_scan": per_scan,
        "quantity": per_scan,
        "lot": scan.lot,
        "lot_scanned": bool(scan.lot),
        "expiry": scan.expiry_date.isoformat() if scan.expiry_date else "",
        "expiry_scanned": bool(scan.expiry_date),
    }


def _receive_confirm(request, shipment, state: dict, actor) -> str:
    if not state.get("product"):
        raise Refusal("Scan a product first")
    quantity = _int(request.POST.get("quantity", state["quantity"]), field="Quantity")
    damaged = _int(request.POST.get("damaged"), field="Damaged")
    lot = state.get("lot") or request.POST.get("lot", "").strip()
    expiry = state.get("expiry") or request.POST.get("expiry_date", "").strip()
    try:
        expiry_date = date.fromisoformat(expiry) if expiry else None
    except ValueError:
        raise Refusal("Expiry must be a date YYYY-MM-DD") from None
    services.inbound_receive(
        shipment_id=shipment.pk,
        lines=[
            services.ReceiptLineInput(
                sku=state["sku"], quantity=quantity, lot=lot, expiry_date=expiry_date, damaged_quantity=damaged
            )
        ],
        actor=actor.label,
    )
    note = f" and {damaged} damaged to QUARANTINE" if damaged else ""
    return f"Received {quantity} × {state['sku']} into RECEIVING{note}."


@login_required
@require_http_methods(["GET", "POST"])
def receive(request, shipment_id):
    actor = staff_actor(request)
    shipment = (
        InboundShipment.objects.visible_to(actor).filter(pk=shipment_id).select_related("warehouse", "tenant").first()
    )
    if shipment is None:
        raise Http404("No such inbound shipment.")
    if request.method == "GET":
        return render(request, "inventory/handheld/receive.html", _receive_context(request, shipment))
    key = _receive_key(shipment)
    state = request.session.get(key, {})
    action = request.POST.get("action", "scan")
    with refusal_shown() as refused:
        if action == "cancel":
            request.session.pop(key, None)
        elif action == "confirm":
            messages.success(request, _receive_confirm(request, shipment, state, actor))
            request.session.pop(key, None)
        else:
            request.session[key] = _receive_scan(request, shipment, state)
    if refused:
        context = _receive_context(request, shipment, error=f"{refused.refusal.message}.")
        return render(request, "inventory/handheld/receive.html", context, status=422)
    return redirect("inventory:handheld_receive", shipment_id=shipment.pk)


# -- put away --------------------------------------------------------------------------------


def _next_receipt(actor):
    return (
        Receipt.objects.visible_to(actor)
        .filter(status=ReceiptStatus.AWAITING_PUT_AWAY)
        .select_related("product", "lot", "location__warehouse", "tenant")
        .order_by("received_at", "pk")
        .first()
    )


@login_required
@require_http_methods(["GET", "POST"])
def put_away(request):
    actor = staff_actor(request)
    receipt = _next_receipt(actor)
    if request.method == "POST" and receipt is not None:
        if request.POST.get("receipt") != str(receipt.pk):
            messages.info(request, "The queue moved on; here is the next receipt.")
            return redirect("inventory:handheld_putaway")
        suggestion = putaway.putaway_suggest(receipt=receipt)
        scan = request.POST.get("scan", "").strip().upper()
        remaining = receipt.quantity - receipt.put_away_quantity
        with refusal_shown() as refused:
            putaway.putaway_confirm(receipt_id=receipt.pk, location_barcode=scan, quantity=remaining, actor=actor.label)
        if refused:
            context = {
                "receipt": receipt,
                "remaining": remaining,
                "suggestion": suggestion,
                "error": f"{refused.refusal.message}.",
            }
            return render(request, "inventory/handheld/putaway.html", context, status=422)
        if suggestion is not None and scan != suggestion.code:
            messages.info(request, f"Put away in {scan} instead of the suggested {suggestion.code}.")
        messages.success(request, f"Put away {remaining} × {receipt.product.sku} in {scan}.")
        return redirect("inventory:handheld_putaway")
    context = {"receipt": receipt, "suggestion": None, "remaining": 0}
    if receipt is not None:
        context.update(
            suggestion=putaway.putaway_suggest(receipt=receipt), remaining=receipt.quantity - receipt.put_away_quantity
        )
    return render(request, "inventory/handheld/putaway.html", context)


# -- move ------------------------------------------------------------------------------------

MOVE_KEY = "handheld:move"
MOVE_STAGES = {
    "from": "Scan the location to take from",
    "product": "Scan the product",
    "quantity": "Quantity",
    "to": "Scan the location to put in",
}


def _move_location(actor, code: str, *, warehouse_id=None) -> Location:
    locations = Location.objects.filter(warehouse__in=_warehouses(actor), code=code.strip().upper(), is_virtual=False)
    if warehouse_id:
        locations = locations.filter(warehouse_id=warehouse_id)
    found = list(locations[:2])
    if len(found) != 1:
        raise Refusal(f"No location {code} in your warehouse")
    return found[0]


def _move_product(source: Location, text: str) -> tuple[Product, str]:
    """The product scanned, among the tenants that hold stock at the source (one barcode, one owner)."""
    scan = scanning.parse_scan(text)
    owners = StockBalance.objects.filter(location=source, on_hand__gt=0).values_list("tenant_id", flat=True).distinct()
    matches = []
    for tenant_id in owners:
        try:
            matches.append(scanning.resolve_product(tenant_id, scan)[0])
        except scanning.ScanError:
            continue
    if len(matches) != 1:
        raise Refusal(f"No product {text} at {source.code}" if not matches else f"{text} is ambiguous here")
    return matches[0], scan.lot


def _move_step(request, actor, state: dict) -> dict:
    stage = state.get("stage", "from")
    text = request.POST.get("scan", "").strip()
    if not text:
        raise Refusal("Scan a barcode")
    if stage == "from":
        source = _move_location(actor, text)
        return {"stage": "product", "from": source.code, "warehouse": str(source.warehouse_id)}
    source = _move_location(actor, state["from"], warehouse_id=state["warehouse"])
    if stage == "product":
        product, lot = _move_product(source, text)
        return {**state, "stage": "quantity", "product": str(product.pk), "sku": product.sku, "lot": lot}
    if stage == "quantity":
        return {**state, "stage": "to", "quantity": _int(text, field="Quantity", minimum=1)}
    target = _move_location(actor, text, warehouse_id=state["warehouse"])
    putaway.stock_move(
        product=Product.objects.get(pk=state["product"]),
        warehouse_id=state["warehouse"],
        from_code=source.code,
        to_code=target.code,
        quantity=state["quantity"],
        lot=state.get("lot", ""),
        actor=actor.label,
    )
    messages.success(request, f"Moved {state['quantity']} × {state['sku']} from {source.code} to {target.code}.")
    return {}


@login_required
@require_http_methods(["GET", "POST"])
def move(request):
    actor = staff_actor(request)
    state = request.session.get(MOVE_KEY, {})
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            request.session.pop(MOVE_KEY, None)
            return redirect("inventory:handheld_move")
        with refusal_shown() as refused:
            request.session[MOVE_KEY] = _move_step(request, actor, state)
        if refused:
            context = {
                "state": state,
                "prompt": MOVE_STAGES[state.get("stage", "from")],
                "error": f"{refused.refusal.message}.",
            }
            return render(request, "inventory/handheld/move.html", context, status=422)
        return redirect("inventory:handheld_move")
    return render(
        request, "inventory/handheld/move.html", {"state": state, "prompt": MOVE_STAGES[state.get("stage", "from")]}
    )


urlpatterns = [
    path("handheld/receive/", receive_list, name="handheld_receive_list"),
    path("handheld/receive/<uuid:shipment_id>/", receive, name="handheld_receive"),
    path("handheld/putaway/", put_away, name="handheld_putaway"),
    path("handheld/move/", move, name="handheld_move"),
]
