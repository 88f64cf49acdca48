"""``/shipping/end-of-day/``: per warehouse and active carrier account, the labels waiting to be
handed over (shipments, packages, weight), "Close the day" (a manifest with its PDF), and the past
manifests with their PDFs."""

from __future__ import annotations

import contextlib
import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from fulfillment.errors import refusal_shown
from fulfillment.tenancy.portal import staff_actor
from inventory.selectors import warehouses_for
from shipping import selectors, services
from shipping.models import CarrierAccount

PAGE_SIZE = 50


def _kg(grams: int) -> str:
    return f"{grams / 1000:.1f}"


@require_GET
@login_required
def end_of_day(request):
    actor = staff_actor(request)
    accounts = selectors.active_accounts()
    sections = []
    for warehouse in warehouses_for(actor):
        rows = []
        for account in accounts:
            waiting = services.manifest_preview(warehouse=warehouse, account=account)
            rows.append({"account": account, "waiting": waiting, "weight_kg": _kg(waiting["weight_g"])})
        sections.append({"warehouse": warehouse, "rows": rows, "waiting": sum(r["waiting"]["shipments"] for r in rows)})
    manifests = selectors.manifests_for(actor=actor)
    page = Paginator(manifests, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for manifest in page.object_list:
        manifest.weight_kg = _kg(manifest.total_weight_g)
    closed = None
    with contextlib.suppress(ValueError):  # absent or not an id: nothing to point at
        closed = manifests.filter(pk=uuid.UUID(request.GET.get("closed", ""))).first()
    context = {
        "sections": sections,
        "page": page,
        "query": "",
        "closed": closed,
        "is_manager": actor.is_manager,
    }
    return render(request, "shipping/end_of_day.html", context)


class CloseForm(forms.Form):
    warehouse = forms.CharField(max_length=20, strip=True)
    carrier_account = forms.UUIDField()


@require_POST
@login_required
def end_of_day_close(request):
    actor = staff_actor(request)
    form = CloseForm(request.POST)
    back = reverse("shipping:end-of-day")
    if not form.is_valid():
        messages.error(request, "Choose a warehouse and a carrier account to close.")
        return redirect(back)
    warehouse = warehouses_for(actor).filter(code=form.cleaned_data["warehouse"].upper()).first()
    account = CarrierAccount.objects.filter(pk=form.cleaned_data["carrier_account"]).first()
    if warehouse is None or account is None:
        raise Http404("No such warehouse or carrier account.")
    with refusal_shown(request, prefix=f"{warehouse.code} · {account.carrier_id}: "):
        manifest = services.manifest_close(
            warehouse_code=warehouse.code, carrier_account=str(account.pk), actor=actor.label
        )
        messages.success(
            request,
            f"Day closed at {warehouse.code} for {account.display_name}: {manifest.shipments_count} "
            f"shipment{'' if manifest.shipments_count == 1 else 's'}, {manifest.packages_count} "
            f"package{'' if manifest.packages_count == 1 else 's'}.",
        )
        return redirect(f"{back}?closed={manifest.pk}")
    return redirect(back)


urlpatterns = [
    path("shipping/end-of-day/", end_of_day, name="end-of-day"),
    path("shipping/end-of-day/close/", end_of_day_close, name="end-of-day-close"),
]
