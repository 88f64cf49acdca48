"""Pages: replenishment suggestions and alerts (managers), handheld replenishment moves (associates)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from fulfillment.errors import refusal_shown
from fulfillment.tenancy.portal import staff_actor
from inventory import selectors_replenishment as sel
from inventory.models import MoveTask, MoveTaskKind, MoveTaskStatus
from inventory.services import replenishment as services
from inventory.services.catalog import product_matches_code

STAGES = ("from", "product", "to")


def _alerts_context(actor) -> dict:
    alerts = list(sel.open_alerts(actor=actor)[:200])
    return {
        "low_stock_alerts": [a for a in alerts if a.kind == "low_stock"],
        "expiring_alerts": [a for a in alerts if a.kind == "expiring"],
    }


@login_required
def replenishment(request):
    """Reorder suggestions (most urgent first) and open low-stock and expiry alerts."""
    actor = staff_actor(request, manager=True)
    only = request.GET.get("only") == "to_order"
    suggestions = list(sel.suggestions_for(actor=actor, only_to_order=only)[:500])
    return render(
        request,
        "inventory/replenishment/index.html",
        {"suggestions": suggestions, "only_to_order": only, **_alerts_context(actor)},
    )


@login_required
def alerts_partial(request):
    """The alerts card alone, for the dashboard (include or hx-get)."""
    actor = staff_actor(request)
    return render(request, "inventory/replenishment/_alerts.html", _alerts_context(actor))


@login_required
def handheld_tasks(request):
    actor = staff_actor(request)
    return render(
        request,
        "inventory/replenishment/handheld_tasks.html",
        {"tasks": sel.open_move_tasks(actor=actor, kind=None).exclude(kind=MoveTaskKind.PUT_AWAY)},
    )


def _state_key(task) -> str:
    return f"replenish:{task.pk}"


@login_required
@require_http_methods(["GET", "POST"])
def handheld_task(request, task_id):
    """Scan the source location, the product, then the pick face: the units move (wrong scan = buzz)."""
    actor = staff_actor(request)
    task = (
        MoveTask.objects.visible_to(actor)
        .filter(pk=task_id, kind__in=[MoveTaskKind.REPLENISHMENT, MoveTaskKind.MANUAL, MoveTaskKind.PUT_BACK])
        .select_related("product", "lot", "from_location", "to_location")
        .first()
    )
    if task is None:
        raise Http404("No such move task.")
    if task.status != MoveTaskStatus.OPEN:
        messages.info(request, "That task is already done.")
        return redirect("inventory:handheld_replenish")
    key = _state_key(task)
    stage = request.session.get(key, "from")
    if request.method == "GET":
        return _task_page(request, task, stage)
    scan = request.POST.get("scan", "").strip()
    error = ""
    if not scan:
        error = "Scan a barcode."
    elif stage == "from":
        if not task.from_location.matches_scan(scan):
            error = f"Wrong location {scan}: take from {task.from_location.code}."
        else:
            request.session[key] = "product"
    elif stage == "product":
        if not product_matches_code(product=task.product, code=scan):
            error = f"Wrong product {scan}: expected {task.product.sku}."
        else:
            request.session[key] = "to"
    else:
        with refusal_shown() as refused:
            services.move_task_complete(
                task_id=task.pk,
                from_location_barcode=task.from_location.code,
                to_location_barcode=scan,
                quantity=task.quantity,
                actor=actor.label,
            )
            request.session.pop(key, None)
            messages.success(request, f"Moved {task.quantity} × {task.product.sku} to {task.to_location.code}.")
            return redirect("inventory:handheld_replenish")
        error = refused.refusal.message  # only a refusal gets here
    if error:
        return _task_page(request, task, stage, error=error, status=422)
    return redirect("inventory:handheld_replenish_task", task_id=task.pk)


def _task_page(request, task, stage: str, *, error: str = "", status: int = 200):
    labels = {"from": "Scan source location", "product": "Scan product", "to": "Scan pick face"}
    return render(
        request,
        "inventory/replenishment/handheld_task.html",
        {"task": task, "stage": stage, "prompt": labels[stage], "error": error, "step": STAGES.index(stage) + 1},
        status=status,
    )


urlpatterns = [
    path("inventory/replenishment/", replenishment, name="replenishment"),
    path("inventory/replenishment/alerts/", alerts_partial, name="replenishment_alerts"),
    path("handheld/replenish/", handheld_tasks, name="handheld_replenish"),
    path("handheld/replenish/<uuid:task_id>/", handheld_task, name="handheld_replenish_task"),
]
