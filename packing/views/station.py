"""The pack station pages: a bench (desktop with a scanner and a scale, ``/pack/``) and the same flow
on a handheld (``/handheld/pack/``, 360 px). Both run on the pack-session services, so a session
survives a reload, moves between the two and is the one the API shows.

The flow: scan a tote or an order number (the station is remembered); scan each unit (or a box code
to start the next parcel); follow the drawing of the recommended packing; weigh each parcel (typed,
or from a keyboard-wedge scale, which types the weight and Enter); close; print the slip and, once
bought, the label. A refused scan answers 422 with ``data-error`` (handheld.js buzzes, the field
turns red) and changes nothing but the log of refused scans.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from fulfillment.errors import Refusal, refusal_shown
from fulfillment.tenancy.portal import staff_actor
from packing import selectors, services
from packing.drawing import package_svg, packing_steps
from packing.models import PackSession

STATION_KEY = "pack_station"
LAYOUTS = {
    "bench": {"start": "packing:station", "session": "packing:station_session", "template": "bench"},
    "handheld": {
        "start": "packing:handheld_station",
        "session": "packing:handheld_station_session",
        "template": "handheld",
    },
}


@dataclass(frozen=True)
class Recommended:
    """A recommended parcel as the station draws it."""

    number: int
    box_code: str
    svg: str
    steps: list
    items: list
    billable_weight_g: int
    fill_percent: int


def _recommended(state) -> list[Recommended]:
    skus = list(state.recommended_skus)
    out = []
    for number, package in enumerate(state.recommended, start=1):
        code = package.box.code if package.box else "its own container"
        out.append(
            Recommended(
                number=number,
                box_code=code,
                svg=package_svg(package, skus, width_px=360, title=f"Package {number}: {code}"),
                steps=packing_steps(package, skus),
                items=package.items,
                billable_weight_g=package.billable_weight_g,
                fill_percent=round(package.fill_ratio * 100),
            )
        )
    return out


def _weight(raw: str) -> int | None:
    """Grams from what the packer or a wedge scale typed: ``1234``, ``1234 g``, ``1.234 kg``, ``2.5 lb``."""
    text = (raw or "").strip().lower().replace(",", ".")
    if not text:
        return None
    factors = (("kg", 1000), ("lb", 453.59237), ("oz", 28.349523125), ("g", 1))
    factor = 1.0
    for unit, grams in factors:
        if text.endswith(unit):
            text, factor = text[: -len(unit)].strip(), grams
            break
    try:
        value = float(text)
    except ValueError:
        return -1
    return round(value * factor)


def _context(request, state, *, actor, layout: str, error: str = "", field_errors=None, typed=None):
    session = state.session
    last = (
        session.scans.filter(result="accepted", sku__isnull=False).order_by("-created_at", "-id").first()
        if session.is_open
        else None
    )
    packages = []
    field_errors = field_errors or {}
    typed = typed or {}
    filled = [p for p in state.packages if p.units > 0]
    for index, package in enumerate(filled):
        allowed = state.tolerance.allowed_g(package.expected_weight_g)
        packages.append(
            {
                "package": package,
                "index": index,
                "allowed_g": allowed,
                "error": field_errors.get(index, ""),
                "needs_reason": index in field_errors or bool(typed.get(f"reason_{index}")),
                "weight": typed.get(f"weight_{index}", ""),
                "reason": typed.get(f"reason_{index}", ""),
            }
        )
    needs_box = next((p["package"].number for p in packages if p["package"].box is None), None)
    units_total = sum(u.quantity for u in state.expected)
    units_scanned = sum(u.scanned for u in state.expected)
    shipment = session.shipment
    label_problem = selectors.shipment_label_problem(shipment) if shipment is not None else ""
    return {
        "layout": layout,
        "urls": LAYOUTS[layout],
        "state": state,
        "session": session,
        "order": session.order,
        "expected": state.expected,
        "recommended": _recommended(state) if session.is_open else [],
        "inserts": state.inserts if session.is_open else (),
        "packages": packages,
        "current": state.current_package,
        "last_sku": last.sku if last else None,
        "last_scan": last.pk if last else None,
        "units_total": units_total,
        "units_scanned": units_scanned,
        "needs_box": needs_box,
        # A refusal shown under its field is not repeated at the top (it still buzzes: data-error).
        "error": "" if field_errors else error,
        "shipment": shipment,
        "label_pending": shipment is not None and not shipment.tracking_number and not label_problem,
        "label_problem": label_problem,
        "scan_id": uuid.uuid4(),
        "close_id": uuid.uuid4(),
        "is_mine": session.packer_id == request.user.pk,
        "can_abandon": session.is_open and (session.packer_id == request.user.pk or actor.is_manager),
    }


def _render_session(request, session, *, actor, layout: str, status: int = 200, **kwargs):
    state = selectors.pack_session_state(session=session)
    context = _context(request, state, actor=actor, layout=layout, **kwargs)
    return render(request, f"packing/station/{LAYOUTS[layout]['template']}_session.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def start(request, layout: str):
    actor = staff_actor(request)
    station = request.session.get(STATION_KEY, "")
    error = ""
    status = 200
    choices: list[str] = []  # the orders of a tote that holds several: the packer picks one
    if request.method == "POST":
        station = (request.POST.get("station") or "").strip().upper()[:40]
        request.session[STATION_KEY] = station
        reference = (request.POST.get("scan") or "").strip()
        if not reference:
            error, status = "Scan a tote or an order number.", 422
        else:
            with refusal_shown() as refused:
                opened = services.pack_session_open(user=request.user, station=station, scanned=reference)
            if not refused:
                if not opened.created:
                    messages.info(request, f"Order {opened.session.order.number}: your session, resumed.")
                return redirect(LAYOUTS[layout]["session"], session_id=opened.session.pk)
            error, status = refused.refusal.message, refused.refusal.status
            if refused.refusal.code == "ambiguous_tote":
                choices = list((refused.refusal.extra or {}).get("orders", []))
    context = {
        "layout": layout,
        "urls": LAYOUTS[layout],
        "station": station,
        "error": error,
        "choices": choices,
        "mine": selectors.open_pack_sessions(actor=actor, packer=request.user),
        "queue": selectors.pack_queue(actor=actor, limit=10),
        "scan_id": uuid.uuid4(),
    }
    return render(request, f"packing/station/{LAYOUTS[layout]['template']}_start.html", context, status=status)


def _scan_pk(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _close_inputs(request, state):
    """The close form's packages ({weight_g, override_reason}), and errors by package index."""
    filled = [p for p in state.packages if p.units > 0]
    inputs, errors = [], {}
    for index, _package in enumerate(filled):
        grams = _weight(request.POST.get(f"weight_{index}", ""))
        if grams is None:
            errors[index] = "Weigh this package."
        elif grams <= 0:
            errors[index] = "Type the weight in grams (or with kg, lb, oz)."
        inputs.append({"weight_g": grams, "override_reason": request.POST.get(f"reason_{index}", "")})
    return inputs, errors


def _field_errors(refusal: Refusal) -> dict[int, str]:
    """Close refusals by package index (``packages[1].weight_g`` is package index 1)."""
    out = {}
    for error in refusal.errors or []:
        field = error.get("field") or ""
        if field.startswith("packages["):
            try:
                out[int(field[len("packages[") : field.index("]")])] = error.get("message", "")
            except ValueError:
                continue
    return out


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def session_page(request, session_id, layout: str):
    actor = staff_actor(request)
    session = PackSession.objects.visible_to(actor).select_related("order", "shipment").filter(pk=session_id).first()
    if session is None:
        raise Http404("No such pack session.")
    url = reverse(LAYOUTS[layout]["session"], kwargs={"session_id": session.pk})
    if request.method == "GET":
        return _render_session(request, session, actor=actor, layout=layout)
    action = request.POST.get("action", "scan")
    if action == "abandon":
        with refusal_shown(request):
            services.pack_session_abandon(
                session_id=session.pk, user=request.user, reason=request.POST.get("reason", "")
            )
            messages.info(request, f"Packing of order {session.order.number} abandoned: it stays picked.")
            return redirect(LAYOUTS[layout]["start"])
        return redirect(url)
    if action == "undo":
        with refusal_shown() as refused:
            undone = services.pack_session_undo(
                session_id=session.pk, user=request.user, scan=_scan_pk(request.POST.get("scan"))
            )
        if refused:
            exc = refused.refusal
            return _render_session(request, session, actor=actor, layout=layout, status=exc.status, error=exc.message)
        messages.warning(request, f"Last scan undone: take one {undone.sku} out of the parcel.")
        return redirect(url)
    if action == "close":
        state = selectors.pack_session_state(session=session)
        inputs, errors = _close_inputs(request, state)
        typed = {k: v for k, v in request.POST.items() if k.startswith(("weight_", "reason_"))}
        if errors:
            first = next(iter(errors.values()))
            return _render_session(
                request, session, actor=actor, layout=layout, status=422, error=first, field_errors=errors, typed=typed
            )
        with refusal_shown() as refused:
            services.pack_session_close(session_id=session.pk, user=request.user, packages=inputs)
        if refused:
            exc = refused.refusal
            return _render_session(
                request,
                session,
                actor=actor,
                layout=layout,
                status=exc.status,
                error=exc.message,
                field_errors=_field_errors(exc),
                typed=typed,
            )
        messages.success(request, f"Order {session.order.number} packed: print the slip, the label follows.")
        return redirect(url)
    with refusal_shown() as refused:
        outcome = services.pack_session_scan(
            session_id=session.pk,
            barcode=request.POST.get("scan", ""),
            scan_id=request.POST.get("scan_id", ""),
            user=request.user,
        )
    if refused:
        exc = refused.refusal
        return _render_session(request, session, actor=actor, layout=layout, status=exc.status, error=exc.message)
    if not outcome.replayed:
        messages.success(request, outcome.scan.message)
    return redirect(url)


urlpatterns = [
    path("pack/", start, {"layout": "bench"}, name="station"),
    path("pack/<uuid:session_id>/", session_page, {"layout": "bench"}, name="station_session"),
    path("handheld/pack/", start, {"layout": "handheld"}, name="handheld_station"),
    path("handheld/pack/<uuid:session_id>/", session_page, {"layout": "handheld"}, name="handheld_station_session"),
]
