"""Handheld pick pages (360 px, keyboard-wedge scanner: the scanner types the code and Enter).

The state lives in the database (picking.services.scans), so a reload or another device shows the
same step. Every form carries a fresh scan id, so a double submit is answered from the stored
outcome. An accepted scan redirects (POST-redirect-GET); a refused one answers 422 (409 when the
list moved on) with ``data-error``, for handheld.js to buzz and vibrate, and changes nothing.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from fulfillment.errors import refusal_shown
from fulfillment.tenancy.portal import staff_actor
from picking import selectors, services
from picking.models import PickList
from picking.services.picks import assigned_elsewhere


@login_required
def pick_lists(request):
    actor = staff_actor(request)
    return render(request, "picking/pick_lists.html", {"pick_lists": selectors.open_pick_lists(actor=actor)})


@login_required
@require_POST
def pick_next(request):
    actor = staff_actor(request)
    pick_list = services.pick_list_next(actor=actor, user=request.user)
    if pick_list is None:
        messages.info(request, "Nothing to pick right now.")
        return redirect("picking:pick_lists")
    return redirect("picking:pick", pick_list_id=pick_list.pk)


def _render(request, state, *, actor, error: str = "", status: int = 200, short: bool = False):
    task = state.task
    holder = state.pick_list.assigned_to
    context = {
        "state": state,
        "pick_list": state.pick_list,
        "task": task,
        "error": error,
        "short": short and task is not None and state.step != "location",
        "mine": not assigned_elsewhere(state.pick_list, request.user),
        "holder": holder,
        "can_take_over": actor.is_manager and holder is not None and holder.pk != request.user.pk,
        # One id per form: a form submitted twice is one scan. Without JavaScript these are the ids;
        # handheld.js gives each scan it queues from the scan field an id of its own instead.
        "scan_ids": {name: uuid.uuid4() for name in ("scan", "all", "plus", "minus", "short", "confirm", "take")},
    }
    return render(request, "picking/pick.html", context, status=status)


def _quantity(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise services.PickingError("The quantity must be a whole number.", field="quantity") from None


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def pick(request, pick_list_id):
    actor = staff_actor(request)
    pick_list = PickList.objects.visible_to(actor).filter(pk=pick_list_id).first()
    if pick_list is None:
        raise Http404("No such pick list.")
    url = reverse("picking:pick", kwargs={"pick_list_id": pick_list.pk})
    if request.method == "GET":
        state = services.pick_state(pick_list=pick_list)
        return _render(request, state, actor=actor, short=request.GET.get("short") == "1")
    action = request.POST.get("action", "")
    if action == "take":
        with refusal_shown(request):
            services.pick_list_assign(
                pick_list=pick_list, user=request.user, actor=actor.label, replace=actor.is_manager
            )
            messages.success(request, "The pick list is yours.")
        return redirect(url)
    with refusal_shown() as refused:
        result = services.pick_scan(
            pick_list=pick_list,
            scan_id=request.POST.get("scan_id", ""),
            code=request.POST.get("scan", ""),
            action=action,
            quantity=_quantity(request.POST.get("quantity")),
            task_id=request.POST.get("task") or None,
            user=request.user,
            actor=actor.label,
        )
    if refused:
        exc = refused.refusal
        if isinstance(exc, services.ScanRefused):  # refused and logged: the state it was refused in
            again = action == "short" and exc.code in ("tote_required", "wrong_tote", "wrong_location", "bad_quantity")
            return _render(request, exc.state, actor=actor, error=exc.message, status=exc.status, short=again)
        state = services.pick_state(pick_list=pick_list)
        return _render(request, state, actor=actor, error=exc.message, status=exc.status)
    if not result.replayed:
        if result.scan.kind == "short":
            messages.warning(request, result.scan.message)
        else:
            messages.success(request, result.scan.message)
    return redirect(url)


urlpatterns = [
    path("handheld/pick/", pick_lists, name="pick_lists"),
    path("handheld/pick/next/", pick_next, name="pick_next"),
    path("handheld/pick/<uuid:pick_list_id>/", pick, name="pick"),
]
