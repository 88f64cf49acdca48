"""Merchant portal: API keys (list, create with the key shown once, revoke with a confirmation)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from fulfillment.tenancy import services
from fulfillment.tenancy.models import ApiKey, Tenant
from fulfillment.tenancy.portal import merchant_required

# The raw key of a key just created waits here for exactly one page view, then is gone.
_SESSION_NEW_KEY = "portal_new_api_key"


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, required=False, strip=True, help_text="What uses the key, e.g. 'Shopify sync'."
    )


def _keys(actor):
    return ApiKey.objects.filter(tenant_id=actor.tenant_id)


def _key_or_404(actor, key_id) -> ApiKey:
    key = _keys(actor).filter(pk=key_id).first()
    if key is None:
        raise Http404("No such API key.")
    return key


@require_http_methods(["GET", "POST"])
@merchant_required
def api_keys(request, *, actor):
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            key, raw = services.api_key_create(
                tenant=Tenant.objects.get(pk=actor.tenant_id), name=form.cleaned_data["name"]
            )
            request.session[_SESSION_NEW_KEY] = {"id": str(key.pk), "raw": raw}
            return redirect("tenancy:portal-api-key-created")
        status = 422
    else:
        status = 200
    context = {"form": form, "keys": _keys(actor).order_by("revoked_at", "-created_at")}
    return render(request, "tenancy/portal/api_keys.html", context, status=status)


@require_GET
@merchant_required
def api_key_created(request, *, actor):
    """The only page that ever shows the raw key: it is dropped from the session as it is shown."""
    new = request.session.pop(_SESSION_NEW_KEY, None)
    key = _keys(actor).filter(pk=new["id"]).first() if new else None
    if key is None:
        messages.info(request, "A key is shown only once, right after it is created. Create a new key if you lost it.")
        return redirect("tenancy:portal-api-keys")
    response = render(request, "tenancy/portal/api_key_created.html", {"key": key, "raw": new["raw"]})
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@merchant_required
def api_key_revoke(request, key_id, *, actor):
    """GET: confirm; POST: revoke. Requests with the key fail with 401 from then on."""
    key = _key_or_404(actor, key_id)
    if request.method == "POST":
        if key.revoked_at is None:
            services.api_key_revoke(key=key)
            messages.success(request, f"Key {key.prefix} revoked: requests with it are refused from now on.")
        else:
            messages.info(request, f"Key {key.prefix} was already revoked.")
        return redirect("tenancy:portal-api-keys")
    return render(request, "tenancy/portal/api_key_revoke.html", {"key": key})


app_name = "tenancy"
urlpatterns = [
    path("portal/api-keys/", api_keys, name="portal-api-keys"),
    path("portal/api-keys/created/", api_key_created, name="portal-api-key-created"),
    path("portal/api-keys/<uuid:key_id>/revoke/", api_key_revoke, name="portal-api-key-revoke"),
]
