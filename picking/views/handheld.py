"""Handheld pick pages (360 px, keyboard-wedge scanner: the scanner types the code and Enter)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from fulfillment.tenancy.portal import staff_actor
from picking import selectors, services
from picking.models import PickList, PickTask, TaskStatus


def _state_key(pick_list) -> str:
    return f"pick:{pick_list.pk}"


@login_required
def pick_lists(request):
    actor = staff_actor(request)
    return render(request, "picking/pick_lists.html", {"pick_lists": selectors.open_pick_lists(actor=actor)})


def _context(request, pick_list, task, *, error: str = ""):
    tasks = list(pick_list.tasks.exclude(status=TaskStatus.CANCELLED).values_list("status", flat=True))
    state = request.session.get(_state_key(pick_list), {})
    location_ok = bool(task and state.get("task") == str(task.pk) and state.get("location_ok"))
    return {
        "pick_list": pick_list,
        "task": task,
        "location_ok": location_ok,
        "done": sum(1 for s in tasks if s != TaskStatus.OPEN),
        "total": len(tasks),
        "error": error,
    }


@login_required
@require_http_methods(["GET", "POST"])
def pick(request, pick_list_id):
    actor = staff_actor(request)
    pick_list = PickList.objects.visible_to(actor).filter(pk=pick_list_id).first()
    if pick_list is None:
        raise Http404("No such pick list.")
    task = services.next_task(pick_list=pick_list)
    if request.method == "GET" or task is None:
        return render(request, "picking/pick.html", _context(request, pick_list, task))
    key = _state_key(pick_list)
    state = request.session.get(key, {})
    if request.POST.get("task") != str(task.pk):
        # The page was stale (another device picked this task): show the current one.
        messages.info(request, "The list moved on; here is the next pick.")
        return redirect("picking:pick", pick_list_id=pick_list.pk)
    try:
        if request.POST.get("action") == "short":
            services.pick_confirm(
                pick_list=pick_list,
                task_id=task.pk,
                location_barcode=task.location.code,
                quantity=0,
                short=True,
                actor=actor.label,
                user=request.user,
            )
            request.session.pop(key, None)
            messages.warning(request, f"Short pick reported for {task.product.sku} at {task.location.code}.")
            return redirect("picking:pick", pick_list_id=pick_list.pk)
        scan = request.POST.get("scan", "").strip()
        if not scan:
            raise services.PickingError("Scan a barcode.")
        location_ok = state.get("task") == str(task.pk) and state.get("location_ok")
        if not location_ok:
            if not task.location.matches_scan(scan):
                raise services.PickingError(f"Wrong location {scan}: go to {task.location.code}.")
            request.session[key] = {"task": str(task.pk), "location_ok": True}
            return redirect("picking:pick", pick_list_id=pick_list.pk)
        done = services.pick_confirm(
            pick_list=pick_list,
            task_id=task.pk,
            location_barcode=task.location.code,
            product_barcode=scan,
            quantity=task.remaining,
            actor=actor.label,
            user=request.user,
        )
        request.session.pop(key, None)
        messages.success(request, f"Picked {done.picked_quantity} × {task.product.sku} into {task.tote or 'the tote'}.")
        return redirect("picking:pick", pick_list_id=pick_list.pk)
    except services.PickingError as exc:
        task = PickTask.objects.select_related("location", "product", "order", "lot").get(pk=task.pk)
        return render(request, "picking/pick.html", _context(request, pick_list, task, error=str(exc)), status=422)


urlpatterns = [
    path("handheld/pick/", pick_lists, name="pick_lists"),
    path("handheld/pick/<uuid:pick_list_id>/", pick, name="pick"),
]
