"""Pages for managers: the order queue (filters, CSV export), one order, and the exceptions list.

Staff only, limited to the warehouses the user works in (``Order.objects.visible_to``). Everyone on
the staff sees the pages; only managers hold, release and cancel, through a confirm step that calls
the same services as the API. A refused action (the order moved on meanwhile) is shown as it is and
changes nothing.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from fulfillment.api.csv import csv_response
from fulfillment.errors import refusal_shown
from fulfillment.tenancy.models import Tenant
from fulfillment.tenancy.portal import staff_actor
from inventory.selectors import warehouses_for
from orders import selectors, services
from orders.models import HoldReason, Order, Status
from orders.transitions import CANCELLABLE

PAGE_SIZE = 100
EXCEPTION_LIST_SIZE = 50
CSV_COLUMNS = [
    "number",
    "external_id",
    "tenant",
    "warehouse",
    "status",
    "hold_reasons",
    "shipping_method",
    "priority",
    "ship_by",
    "promised_delivery_date",
    "created_at",
    "late",
]


# -- what a manager may do to an order -----------------------------------------------------


ACTIONS = {
    "hold": {"label": "Hold", "reason_required": True, "button": "Put on hold"},
    "release": {"label": "Release", "reason_required": False, "button": "Release hold"},
    "cancel": {"label": "Cancel", "reason_required": True, "button": "Cancel order"},
}


def available_actions(order: Order) -> list[str]:
    """The actions the order's state allows (the services check again under a lock)."""
    actions = []
    held = order.status == Status.ON_HOLD and HoldReason.MANUAL in (order.hold_reasons or [])
    if order.status in services.HOLDABLE and not held:
        actions.append("hold")
    if held:
        actions.append("release")
    if order.status in CANCELLABLE:
        actions.append("cancel")
    return actions


# -- the queue -----------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(required=False)
    warehouse = forms.ChoiceField(required=False)
    tenant = forms.ChoiceField(required=False)
    hold = forms.ChoiceField(required=False, choices=[("", "Any hold reason"), *HoldReason.choices])
    late = forms.BooleanField(required=False)
    q = forms.CharField(required=False, max_length=100, strip=True)

    def __init__(self, data, *, warehouse_codes: list[str], tenants: list[tuple[str, str]]):
        super().__init__(data)
        self.fields["status"].choices = [("", "All open")] + [(s, Status(s).label) for s in selectors.OPEN_STATUSES]
        self.fields["warehouse"].choices = [("", "All my warehouses")] + [(c, c) for c in warehouse_codes]
        self.fields["tenant"].choices = [("", "All tenants")] + tenants

    def filters(self, tenant_ids: dict) -> selectors.QueueFilters:
        data = self.cleaned_data
        return selectors.QueueFilters(
            status=data["status"],
            warehouse_code=data["warehouse"],
            tenant_id=tenant_ids.get(data["tenant"]),
            hold_reason=data["hold"],
            late=data["late"],
            search=data["q"],
        )


@require_GET
@login_required
def order_queue(request):
    actor = staff_actor(request)
    warehouse_codes = list(warehouses_for(actor).values_list("code", flat=True))
    tenant_rows = list(Tenant.objects.order_by("slug").values_list("pk", "slug", "name"))
    params = request.GET.copy()
    if "warehouse" in params:  # codes are stored upper-case; accept what a person types in the URL
        params["warehouse"] = params["warehouse"].strip().upper()
    form = QueueFilterForm(
        params, warehouse_codes=warehouse_codes, tenants=[(slug, name) for _pk, slug, name in tenant_rows]
    )
    now = timezone.now()
    if form.is_valid():
        orders = selectors.order_queue(
            actor=actor, filters=form.filters({slug: pk for pk, slug, _name in tenant_rows}), now=now
        )
    else:
        orders = Order.objects.none()
    if request.GET.get("export") == "csv":
        return _csv(orders, now=now)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    export = query.copy()
    export["export"] = "csv"
    rows = [(order, available_actions(order)) for order in page.object_list]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "now": now,
        "can_act": actor.is_manager,
        "query": query.urlencode(),
        "export_query": export.urlencode(),
        "next": request.get_full_path(),
    }
    return render(request, "orders/manager/queue.html", context)


def _csv(orders, *, now):
    rows = (
        [
            o.number,
            o.external_id,
            o.tenant.slug,
            o.warehouse.code,
            o.status,
            " ".join(o.hold_reasons or []),
            o.shipping_method,
            o.priority,
            o.ship_by.isoformat(),
            o.promised_delivery_date.isoformat(),
            o.created_at.isoformat(),
            "yes" if o.is_late else "no",
        ]
        for o in orders.iterator(chunk_size=2000)
    )
    return csv_response(filename=f"orders-{date.today().isoformat()}.csv", header=CSV_COLUMNS, rows=rows)


# -- one order -----------------------------------------------------------------------------


@require_GET
@login_required
def order_detail(request, order_id):
    actor = staff_actor(request)
    order = selectors.order_for_manager(actor=actor, order_id=order_id)
    if order is None:
        raise Http404("No such order.")
    context = {
        "order": order,
        "actions": available_actions(order),
        "late": order.is_late and order.status in selectors.OPEN_STATUSES,
        "can_act": actor.is_manager,
        "next": request.get_full_path(),
    }
    return render(request, "orders/manager/detail.html", context)


# -- hold, release, cancel -----------------------------------------------------------------


class ActionForm(forms.Form):
    reason = forms.CharField(required=False, max_length=300, strip=True, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, data=None, *, reason_required: bool):
        super().__init__(data)
        self.fields["reason"].required = reason_required


def _next_url(request, order: Order) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("orders:manager-detail", args=[order.pk])


def _run(action: str, *, order: Order, reason: str, actor) -> str:
    """Call the service; returns the flash message. Raises services.OrderError when refused."""
    if action == "hold":
        services.order_hold(order_id=order.pk, reason=reason, actor=actor.label, tenant_id=order.tenant_id)
        return f"Order {order.number} is on hold: {reason}"
    if action == "release":
        updated = services.order_release(order_id=order.pk, reason=reason, actor=actor.label, tenant_id=order.tenant_id)
        if updated.status == Status.ON_HOLD:
            return f"Manual hold of order {order.number} released; still on hold: {', '.join(updated.hold_reasons)}"
        return f"Order {order.number} released; it is allocated again."
    services.order_cancel(order_id=order.pk, reason=reason, actor=actor.label, tenant_id=order.tenant_id)
    return f"Order {order.number} cancelled."


@login_required
@require_http_methods(["GET", "POST"])
def order_action(request, order_id, action):
    actor = staff_actor(request, manager=True)
    spec = ACTIONS[action]
    order = Order.objects.visible_to(actor).select_related("tenant", "warehouse").filter(pk=order_id).first()
    if order is None:
        raise Http404("No such order.")
    next_url = _next_url(request, order)
    form = ActionForm(request.POST if request.method == "POST" else None, reason_required=spec["reason_required"])
    status = 200
    if request.method == "POST":
        if form.is_valid():
            with refusal_shown(request, prefix=f"Order {order.number}: "):
                try:
                    messages.success(
                        request, _run(action, order=order, reason=form.cleaned_data["reason"], actor=actor)
                    )
                except Order.DoesNotExist:
                    raise Http404("No such order.") from None
            return redirect(next_url)
        status = 422
    context = {
        "order": order,
        "action": action,
        "spec": spec,
        "form": form,
        "allowed": action in available_actions(order),
        "next": next_url,
    }
    return render(request, "orders/manager/confirm.html", context, status=status)


# -- exceptions ----------------------------------------------------------------------------


GROUPS = [
    ("on_hold", "On hold", "Orders stopped by a payment, address or manual hold.", "status=on_hold"),
    ("backordered", "Backordered over a day", "Waiting for stock for more than 24 hours.", "status=backordered"),
    ("late", "Past ship-by", "Open orders whose ship-by time has passed.", "late=1"),
    ("short_pick", "Short picks", "Open orders where a picker did not find every unit.", ""),
    ("exception", "Shipment exceptions", "Parcels delayed, lost or damaged with the carrier.", ""),
]


@require_GET
@login_required
def order_exceptions(request):
    actor = staff_actor(request)
    data = selectors.order_exceptions(actor=actor, limit=EXCEPTION_LIST_SIZE)
    counts = data["counts"]
    groups = [
        {
            "key": key,
            "title": title,
            "help": help_text,
            "count": counts[key],
            "orders": data["lists"][key],
            "queue_query": queue_query,
        }
        for key, title, help_text, queue_query in GROUPS
    ]
    holds = [(value, label, counts[f"hold:{value}"]) for value, label in HoldReason.choices]
    context = {"groups": groups, "holds": holds, "now": data["now"], "limit": EXCEPTION_LIST_SIZE}
    return render(request, "orders/manager/exceptions.html", context)


urlpatterns = [
    path("orders/", order_queue, name="manager-queue"),
    path("orders/exceptions/", order_exceptions, name="manager-exceptions"),
    path("orders/<uuid:order_id>/", order_detail, name="manager-detail"),
    *(
        path(f"orders/<uuid:order_id>/{action}/", order_action, {"action": action}, name=f"manager-{action}")
        for action in ACTIONS
    ),
]
