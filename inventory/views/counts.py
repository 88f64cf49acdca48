"""Pages: blind counting on the handheld; count review and adjustment approval for managers.

The handheld keeps the scans of the count in progress in the session (nothing is written
until the associate submits, so an abandoned count leaves no trace); submitting calls the same
service as ``POST /api/v1/cycle-counts/{id}/submit/``.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from fulfillment.errors import Refusal, refusal_shown
from fulfillment.tenancy.portal import staff_actor
from inventory import selectors_counts as selectors
from inventory.models import CountStatus, ProductBarcode, StockBalance
from inventory.services import adjustments as adjustment_service
from inventory.services import counts as count_service

# A typed number this short is a quantity (it sets the count of the last product); longer is a barcode.
QUANTITY_PATTERN = re.compile(r"^\d{1,6}$")


# -- handheld ------------------------------------------------------------------------------


@login_required
def handheld_counts(request):
    actor = staff_actor(request)
    return render(request, "inventory/counts/handheld_list.html", {"counts": selectors.open_counts(actor=actor)})


def _state_key(count) -> str:
    return f"count:{count.pk}"


def _resolve_scan(code: str, *, location_id) -> tuple[dict, int]:
    """(item, units) for a product barcode; prefers products that are expected at the location."""
    barcodes = list(ProductBarcode.objects.filter(code=code).select_related("product", "tenant")[:10])
    if not barcodes:
        raise Refusal(f"Unknown barcode {code}.")
    if len(barcodes) > 1:
        here = set(
            StockBalance.objects.filter(location_id=location_id, product__in=[b.product for b in barcodes]).values_list(
                "product_id", flat=True
            )
        )
        barcodes = [b for b in barcodes if b.product_id in here] or barcodes
        if len(barcodes) > 1:
            raise Refusal(f"Barcode {code} belongs to several merchants: count it with the API.")
    barcode = barcodes[0]
    item = {"sku": barcode.product.sku, "tenant": barcode.tenant.slug, "name": barcode.product.name}
    return item, barcode.quantity


def _count_context(count, state, *, error: str = "") -> dict:
    items = state.get("items", {})
    return {
        "count": count,
        "location_ok": bool(state.get("location_ok")),
        "items": sorted(items.values(), key=lambda i: (i["sku"], i["tenant"])),
        "last": items.get(state.get("last") or ""),
        "error": error,
    }


@login_required
@require_http_methods(["GET", "POST"])
def handheld_count(request, count_id):
    actor = staff_actor(request)
    count = selectors.counts_visible_to(actor).filter(pk=count_id).first()
    if count is None:
        raise Http404("No such count.")
    key = _state_key(count)
    state = request.session.get(key, {"location_ok": False, "items": {}, "last": None})
    if count.status != CountStatus.OPEN:
        request.session.pop(key, None)
        messages.info(request, f"The count of {count.location.code} is already submitted.")
        return redirect("inventory:handheld_counts")
    if request.method == "GET":
        return render(request, "inventory/counts/handheld_count.html", _count_context(count, state))
    action = request.POST.get("action", "scan")
    with refusal_shown() as refused:
        if action == "reset":
            request.session.pop(key, None)
            return redirect("inventory:handheld_count", count_id=count.pk)
        if action == "submit":
            if not state.get("location_ok"):
                raise Refusal(f"Scan location {count.location.code} first.")
            lines = [
                count_service.CountLineInput(sku=i["sku"], tenant=i["tenant"], counted_quantity=i["quantity"])
                for i in state.get("items", {}).values()
            ]
            count_service.count_submit(count_id=count.pk, lines=lines, actor=actor.label)
            request.session.pop(key, None)
            # Blind to the end: the associate is not told whether the count matched.
            messages.success(request, f"Count of {count.location.code} submitted.")
            return redirect("inventory:handheld_counts")
        scan = request.POST.get("scan", "").strip()
        if not scan:
            raise Refusal("Scan a barcode.")
        if not state.get("location_ok"):
            if not count.location.matches_scan(scan):
                raise Refusal(f"Wrong location {scan}: go to {count.location.code}.")
            state["location_ok"] = True
        elif QUANTITY_PATTERN.match(scan):
            last = state.get("last")
            if not last:
                raise Refusal("Scan a product before typing its quantity.")
            state["items"][last]["quantity"] = int(scan)
        else:
            item, units = _resolve_scan(scan, location_id=count.location_id)
            item_key = f"{item['tenant']}/{item['sku']}"
            entry = state["items"].setdefault(item_key, {**item, "quantity": 0})
            entry["quantity"] += units
            state["last"] = item_key
        request.session[key] = state
        return redirect("inventory:handheld_count", count_id=count.pk)
    # Only a refusal gets here: every way through the block answers.
    context = _count_context(count, state, error=refused.refusal.message)
    return render(request, "inventory/counts/handheld_count.html", context, status=422)


# -- manager -------------------------------------------------------------------------------


@login_required
def count_review(request):
    actor = staff_actor(request, manager=True)
    counts = list(selectors.counts_in_review(actor=actor))
    rows = [(count, selectors.count_lines(count=count, actor=actor)) for count in counts]
    return render(
        request,
        "inventory/counts/review.html",
        {"rows": rows, "accuracy": selectors.inventory_accuracy(actor=actor, days=30)},
    )


def _hold_news(was_held: bool, location) -> str:
    if location.is_held:
        return f" {location.code} was short-picked after this count: it stays held for a new count."
    if was_held:
        return f" {location.code} is no longer held: orders may be allocated its stock again."
    return ""


@login_required
@require_POST
def count_decide(request, count_id, decision):
    actor = staff_actor(request, manager=True)
    count = selectors.counts_visible_to(actor).filter(pk=count_id).first()
    if count is None:
        raise Http404("No such count.")
    with refusal_shown(request):
        code, was_held = count.location.code, count.location.is_held
        if decision == "approve":
            count = count_service.count_approve(count_id=count.pk, actor=actor)
            count.location.refresh_from_db(fields=["held_since", "is_sellable"])
            if count.status == CountStatus.CLOSED:
                messages.success(request, f"Variances of {code} posted.{_hold_news(was_held, count.location)}")
            else:
                messages.warning(request, f"{code}: reserved units could not be adjusted yet.")
        else:
            count_service.count_reject(count_id=count.pk, actor=actor)
            held = f" {code} stays held until the recount is posted." if was_held else ""
            messages.info(request, f"Count of {code} rejected: a recount is scheduled.{held}")
    return redirect("inventory:count_review")


@login_required
def adjustment_review(request):
    actor = staff_actor(request, manager=True)
    return render(
        request,
        "inventory/counts/adjustments.html",
        {"adjustments": selectors.adjustments_pending(actor=actor), "limits": adjustment_service.approval_thresholds()},
    )


@login_required
@require_POST
def adjustment_decide(request, adjustment_id, decision):
    actor = staff_actor(request, manager=True)
    adjustment = selectors.adjustments_pending(actor=actor).filter(pk=adjustment_id).first()
    if adjustment is None:
        raise Http404("No such pending adjustment.")
    with refusal_shown(request, prefix="Not approved: "):
        if decision == "approve":
            adjustment_service.adjustment_approve(adjustment_id=adjustment.pk, actor=actor)
            messages.success(request, f"Adjustment of {adjustment.product.sku} posted.")
        else:
            adjustment_service.adjustment_reject(adjustment_id=adjustment.pk, actor=actor)
            messages.info(request, f"Adjustment of {adjustment.product.sku} rejected.")
    return redirect("inventory:adjustment_review")


urlpatterns = [
    path("handheld/count/", handheld_counts, name="handheld_counts"),
    path("handheld/count/<uuid:count_id>/", handheld_count, name="handheld_count"),
    path("inventory/counts/", count_review, name="count_review"),
    path("inventory/counts/<uuid:count_id>/approve/", count_decide, {"decision": "approve"}, name="count_approve"),
    path("inventory/counts/<uuid:count_id>/reject/", count_decide, {"decision": "reject"}, name="count_reject"),
    path("inventory/adjustments/", adjustment_review, name="adjustment_review"),
    path(
        "inventory/adjustments/<uuid:adjustment_id>/approve/",
        adjustment_decide,
        {"decision": "approve"},
        name="adjustment_approve",
    ),
    path(
        "inventory/adjustments/<uuid:adjustment_id>/reject/",
        adjustment_decide,
        {"decision": "reject"},
        name="adjustment_reject",
    ),
]
