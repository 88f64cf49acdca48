"""``/shipping/exceptions/``: packed shipments that could not get a label, waiting for a person,
with Retry (the purchase runs again in the worker) and a link to each shipment's page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from fulfillment.errors import refusal_shown
from fulfillment.tenancy.portal import staff_actor
from shipping import selectors, services
from shipping.views.common import IN_WORDS, next_url

PAGE_SIZE = 50


@require_GET
@login_required
def exception_list(request):
    actor = staff_actor(request)
    page = Paginator(selectors.shipping_exceptions_open(actor=actor), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"exception": e, "in_words": IN_WORDS.get(e.code, e.get_code_display())} for e in page.object_list]
    context = {"page": page, "rows": rows, "query": "", "next": request.get_full_path(), "is_manager": actor.is_manager}
    return render(request, "shipping/exceptions.html", context)


@require_POST
@login_required
def exception_retry(request, exception_id):
    actor = staff_actor(request)
    found = selectors.shipping_exception_for(actor=actor, exception_id=exception_id)
    if found is None:
        raise Http404("No such shipping exception.")
    back = next_url(request, reverse("shipping:exceptions"))
    number = found.shipment.order.number
    with refusal_shown(request, prefix=f"Order {number}: "):
        services.shipping_exception_retry(exception_id=found.pk, actor=actor.label)
        messages.success(request, f"Order {number}: the label purchase runs again.")
    return redirect(back)


urlpatterns = [
    path("shipping/exceptions/", exception_list, name="exceptions"),
    path("shipping/exceptions/<uuid:exception_id>/retry/", exception_retry, name="exception-retry"),
]
