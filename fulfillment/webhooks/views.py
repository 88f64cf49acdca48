"""Merchant portal: webhook endpoints (create with the secret shown once, delete, re-enable) and
their delivery log with a manual retry."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from fulfillment.errors import refusal_shown
from fulfillment.tenancy.portal import merchant_required
from fulfillment.webhooks import services
from fulfillment.webhooks.models import EVENT_TYPES, DeliveryStatus, WebhookDelivery, WebhookEndpoint

DELIVERIES_PAGE_SIZE = 50
# The signing secret of an endpoint just created waits here for exactly one page view.
_SESSION_NEW_SECRET = "portal_new_webhook_secret"


class EndpointForm(forms.Form):
    url = forms.URLField(max_length=2000, label="URL", assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=[(e, e) for e in EVENT_TYPES], required=False, widget=forms.CheckboxSelectMultiple
    )


def _endpoint_or_404(actor, endpoint_id) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.visible_to(actor).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return endpoint


@require_http_methods(["GET", "POST"])
@merchant_required
def endpoints(request, *, actor):
    form = EndpointForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            with refusal_shown(form=form):
                endpoint = services.endpoint_create(
                    tenant_id=actor.tenant_id, url=form.cleaned_data["url"], events=form.cleaned_data["events"]
                )
                request.session[_SESSION_NEW_SECRET] = {"id": str(endpoint.pk), "secret": endpoint.secret}
                return redirect("webhooks:portal-endpoint", endpoint_id=endpoint.pk)
        status = 422
    rows = (
        WebhookEndpoint.objects.visible_to(actor)
        .annotate(
            failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
            pending=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
        )
        .order_by("-created_at")
    )
    context = {"form": form, "endpoints": rows, "event_types": EVENT_TYPES}
    return render(request, "webhooks/portal/endpoints.html", context, status=status)


@require_http_methods(["GET"])
@merchant_required
def endpoint_detail(request, endpoint_id, *, actor):
    endpoint = _endpoint_or_404(actor, endpoint_id)
    new = request.session.get(_SESSION_NEW_SECRET)
    secret = None
    if new and new.get("id") == str(endpoint.pk):
        secret = request.session.pop(_SESSION_NEW_SECRET)["secret"]
    status_filter = request.GET.get("status", "")
    deliveries = (
        WebhookDelivery.objects.visible_to(actor)
        .filter(endpoint=endpoint)
        .select_related("event")
        .order_by("-created_at", "-id")
    )
    if status_filter in DeliveryStatus.values:
        deliveries = deliveries.filter(status=status_filter)
    else:
        status_filter = ""
    page = Paginator(deliveries, DELIVERIES_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "endpoint": endpoint,
        "secret": secret,
        "page": page,
        "status_filter": status_filter,
        "status_query": urlencode({"status": status_filter}) if status_filter else "",
        "statuses": DeliveryStatus.values,
        "retryable": {DeliveryStatus.FAILED, DeliveryStatus.PENDING},
    }
    response = render(request, "webhooks/portal/endpoint.html", context)
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@merchant_required
def endpoint_delete(request, endpoint_id, *, actor):
    """GET: confirm; POST: delete the endpoint and its delivery log."""
    endpoint = _endpoint_or_404(actor, endpoint_id)
    if request.method == "POST":
        services.endpoint_delete(endpoint=endpoint)
        messages.success(request, f"Endpoint {endpoint.url} deleted.")
        return redirect("webhooks:portal-endpoints")
    return render(request, "webhooks/portal/endpoint_delete.html", {"endpoint": endpoint})


@require_POST
@merchant_required
def endpoint_enable(request, endpoint_id, *, actor):
    with refusal_shown(request):
        services.endpoint_enable(endpoint_id=endpoint_id, tenant_id=actor.tenant_id)
        messages.success(
            request,
            "Endpoint enabled: new events are delivered to it. Failed deliveries are not re-sent by themselves.",
        )
    return redirect("webhooks:portal-endpoint", endpoint_id=endpoint_id)


@require_POST
@merchant_required
def delivery_retry(request, delivery_id, *, actor):
    delivery = WebhookDelivery.objects.visible_to(actor).filter(pk=delivery_id).only("endpoint_id").first()
    if delivery is None:
        raise Http404("No such webhook delivery.")
    with refusal_shown(request, prefix="Not retried: ", suffix="."):
        services.delivery_retry(delivery_id=delivery_id, tenant_id=actor.tenant_id)
        messages.success(request, "Delivery queued: it is attempted now.")
    return redirect("webhooks:portal-endpoint", endpoint_id=delivery.endpoint_id)


app_name = "webhooks"
urlpatterns = [
    path("portal/webhooks/", endpoints, name="portal-endpoints"),
    path("portal/webhooks/<uuid:endpoint_id>/", endpoint_detail, name="portal-endpoint"),
    path("portal/webhooks/<uuid:endpoint_id>/delete/", endpoint_delete, name="portal-endpoint-delete"),
    path("portal/webhooks/<uuid:endpoint_id>/enable/", endpoint_enable, name="portal-endpoint-enable"),
    path("portal/webhooks/deliveries/<uuid:delivery_id>/retry/", delivery_retry, name="portal-delivery-retry"),
]
