"""Handheld pages for returns (360 px, keyboard-wedge scanner: the code, then Enter).

``/handheld/returns/``: scan the return label's tracking number, the RMA number or the order number;
one return opens it, an order with several lists them, nothing offers to record the parcel as
unexpected. ``/handheld/returns/<id>/``: the units still expected per line and the grading of this
parcel (quantity, grade, disposition, a location for restock, a note; a second grade per line for
units in another state), received through ``returns.services.return_receive_parcel``: a refused
row is shown beside it and nothing is saved. ``.../unexpected/``: units nobody announced.

Staff only; an associate sees the returns of the warehouses they work in (another's is 404).
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from fulfillment.errors import refusal_shown, sentence
from fulfillment.tenancy.portal import staff_actor
from inventory.selectors import warehouses_for
from returns import selectors_floor as floor
from returns import services
from returns.models import Disposition, Grade, ReturnPhoto
from returns.views.documents import photo_response

SLOTS = ("", "2")  # a line's first grade row, and the optional second one
_FIELD = re.compile(r"^lines\[(\d+)\]\.?(\w*)$")


@never_cache
@login_required
@require_GET
def scan(request):
    actor = staff_actor(request)
    code = request.GET.get("scan", "").strip()
    context = {"code": code, "match": None}
    if not code:
        return render(request, "returns/handheld/scan.html", context)
    match = floor.returns_for_scan(actor=actor, code=code)
    context["match"] = match
    if len(match.receivable) == 1:
        return redirect("returns:handheld_return", return_id=match.receivable[0].pk)
    if match.receivable:
        return render(request, "returns/handheld/scan.html", context)
    if match.closed:
        names = ", ".join(f"{r.number} ({r.status})" for r in match.closed)
        context["error"] = f"{code}: nothing more is expected on {names}."
        return render(request, "returns/handheld/scan.html", context, status=409)
    context["error"] = f"Nothing matches {code} in your warehouses."
    return render(request, "returns/handheld/scan.html", context, status=404)


def _typed(request, line_pk, slot: str) -> dict:
    get = request.POST.get
    return {
        "quantity": get(f"qty{slot}-{line_pk}", "").strip(),
        "grade": get(f"grade{slot}-{line_pk}", ""),
        "disposition": get(f"disp{slot}-{line_pk}", ""),
        "location": get(f"loc{slot}-{line_pk}", "").strip(),
        "note": get(f"note{slot}-{line_pk}", "").strip(),
    }


def _rows(state, request) -> tuple[list[dict], list[tuple], dict, dict]:
    """The service's rows from the form, the (line, slot) of each, what was typed, and the page's own
    errors (a quantity that is not a whole number)."""
    rows, keys, typed, errors = [], [], {}, {}
    for item in state.lines:
        if not item.outstanding:
            continue
        for slot in SLOTS:
            values = _typed(request, item.line.pk, slot)
            typed[(item.line.pk, slot)] = values
            raw = values["quantity"]
            if not raw or raw == "0":
                continue
            try:
                quantity = int(raw)
            except ValueError:
                errors.setdefault((item.line.pk, slot), []).append("The quantity must be a whole number.")
                continue
            rows.append(
                {
                    "sku": item.line.sku,
                    "quantity": quantity,
                    "condition": values["grade"],
                    "disposition": values["disposition"],
                    "location": values["location"] if values["disposition"] == Disposition.RESTOCK else "",
                    "note": values["note"],
                }
            )
            keys.append((item.line.pk, slot))
    return rows, keys, typed, errors


def _form_lines(state, typed: dict, errors: dict) -> list[dict]:
    out = []
    for item in state.lines:
        slots = []
        for slot in SLOTS:
            values = typed.get((item.line.pk, slot))
            if values is None:
                values = {"quantity": str(item.outstanding) if slot == "" else "", "grade": "", "disposition": ""}
                values.update(location="", note="")
            slots.append({"slot": slot, "values": values, "errors": errors.get((item.line.pk, slot), [])})
        out.append({"item": item, "slots": slots, "open_second": bool(slots[1]["values"]["quantity"])})
    return out


def _render_return(request, state, *, typed=None, errors=None, error: str = "", status: int = 200):
    context = {
        "state": state,
        "rma": state.rma,
        "lines": _form_lines(state, typed or {}, errors or {}),
        "grades": Grade.choices,
        "dispositions": Disposition.choices,
        "error": error,
    }
    return render(request, "returns/handheld/receive.html", context, status=status)


def _summary(state) -> str:
    left = [f"{item.outstanding} x {item.line.sku}" for item in state.lines if item.outstanding]
    if not left:
        return "Every unit is in."
    return f"Still expected: {', '.join(left)}."


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def receive(request, return_id):
    actor = staff_actor(request)
    state = floor.return_to_receive(actor=actor, return_id=return_id)
    if state is None:
        raise Http404("No such return in your warehouses.")
    if request.method == "GET":
        return _render_return(request, state)
    rows, keys, typed, errors = _rows(state, request)
    if errors:
        return _render_return(request, state, typed=typed, errors=errors, error="Nothing was saved.", status=422)
    seen = {}
    for item in state.lines:
        raw = request.POST.get(f"seen-{item.line.pk}", "")
        if raw.isdigit():
            seen[item.line.sku] = int(raw)
    with refusal_shown() as refused:
        services.return_receive_parcel(return_id=state.rma.pk, rows=rows, actor=actor.label, seen=seen)
    if refused:
        exc = refused.refusal
        general = []
        for field, message in exc.field_messages():
            found = _FIELD.match(field or "")
            if found and int(found.group(1)) < len(keys):
                errors.setdefault(keys[int(found.group(1))], []).append(sentence(message))
            else:
                general.append(sentence(message))
        error = " ".join(general or [sentence(exc.message)]) + " Nothing was saved."
        return _render_return(request, state, typed=typed, errors=errors, error=error, status=exc.status)
    units = sum(row["quantity"] for row in rows)
    after = floor.return_to_receive(actor=actor, return_id=return_id)
    messages.success(
        request, f"Received {units} unit{'' if units == 1 else 's'} on {state.rma.number}. {_summary(after)}"
    )
    return redirect("returns:handheld_scan")


def _int(raw: str) -> int | str:
    raw = (raw or "").strip()
    try:
        return int(raw)
    except ValueError:
        return raw


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def unexpected(request, return_id=None):
    actor = staff_actor(request)
    state = None
    if return_id is not None:
        state = floor.return_to_receive(actor=actor, return_id=return_id)
        if state is None:
            raise Http404("No such return in your warehouses.")
    warehouses = list(warehouses_for(actor))
    source = request.POST if request.method == "POST" else request.GET
    code = source.get("warehouse", "").strip().upper()
    warehouse = state.rma.warehouse if state else next((w for w in warehouses if w.code == code), None)
    if warehouse is None and warehouses and not code:
        warehouse = warehouses[0]
    tenants = list(floor.warehouse_tenants(warehouses=warehouses)) if warehouses and not state else []
    typed = {
        "scanned": source.get("scanned", "").strip()[:100],
        "sku": source.get("sku", "").strip(),
        "quantity": source.get("quantity", "1").strip(),
        "grade": source.get("grade", ""),
        "note": source.get("note", "").strip(),
        "tenant": source.get("tenant", ""),
    }
    context = {
        "state": state,
        "rma": state.rma if state else None,
        "warehouses": warehouses,
        "warehouse": warehouse,
        "tenants": tenants,
        "typed": typed,
        "grades": Grade.choices,
        "errors": {},
        "error": "",
    }
    if request.method == "GET":
        return render(request, "returns/handheld/unexpected.html", context)
    if warehouse is None:
        context["errors"] = {"warehouse": ["Choose the warehouse."]}
        context["error"] = "Nothing was saved."
        return render(request, "returns/handheld/unexpected.html", context, status=422)
    tenant_id = None
    if state is None:
        tenant_id = next((t.pk for t in tenants if str(t.pk) == typed["tenant"]), None)
    with refusal_shown() as refused:
        record = services.unexpected_return_record(
            warehouse_id=warehouse.pk,
            rma_id=state.rma.pk if state else None,
            tenant_id=tenant_id,
            scanned=typed["scanned"],
            sku=typed["sku"],
            quantity=_int(typed["quantity"]),
            grade=typed["grade"],
            note=typed["note"],
            actor=actor.label,
        )
    if refused:
        errors: dict[str, list[str]] = {}
        general = []
        for field, message in refused.refusal.field_messages():
            if field in {"sku", "quantity", "grade", "note", "tenant"}:
                errors.setdefault(field, []).append(sentence(message))
            else:
                general.append(sentence(message))
        context["errors"] = errors
        context["error"] = " ".join(general) + (" " if general else "") + "Nothing was saved."
        return render(request, "returns/handheld/unexpected.html", context, status=refused.refusal.status)
    if record.product_id:
        where = f"into {record.location.code}" if record.location else ""
        messages.success(request, f"Recorded {record.quantity} x {record.sku} as unexpected, {where}.")
    else:
        messages.warning(
            request,
            f"Recorded {record.quantity} x {record.sku} as unexpected: not a product of "
            f"{record.tenant.name}, so no stock was booked. Keep the units aside for the manager.",
        )
    if state is not None and state.receivable:
        return redirect("returns:handheld_return", return_id=state.rma.pk)
    return redirect("returns:handheld_scan")


@login_required
@require_GET
def photo(request, return_id, photo_id):
    """A picture the shopper sent of a line, for the inspector grading it."""
    actor = staff_actor(request)
    found = ReturnPhoto.objects.visible_to(actor).filter(pk=photo_id, rma_id=return_id).first()
    if found is None:
        raise Http404("No such photo.")
    return photo_response(found.content, found.content_type, photo_id=found.pk)


urlpatterns = [
    path("handheld/returns/", scan, name="handheld_scan"),
    path("handheld/returns/unexpected/", unexpected, name="handheld_unexpected"),
    path("handheld/returns/<uuid:return_id>/", receive, name="handheld_return"),
    path("handheld/returns/<uuid:return_id>/unexpected/", unexpected, name="handheld_return_unexpected"),
    path("handheld/returns/<uuid:return_id>/photos/<int:photo_id>/", photo, name="handheld_return_photo"),
]
