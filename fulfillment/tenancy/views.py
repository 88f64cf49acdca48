"""Merchant portal: API keys (list, create with the key shown once, revoke with a confirmation),
branding (colour, slip message, logo) and shopper e-mails (on or off, which kinds, the sender); the
public logo of a tenant (/brand/<slug>/logo)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import parse_etags
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from fulfillment.errors import refusal_shown
from fulfillment.tenancy import selectors, services
from fulfillment.tenancy.branding import LOGO_MAX_BYTES, LOGO_MAX_SIDE
from fulfillment.tenancy.models import SLIP_MESSAGE_MAX, ApiKey, ShopperEmailKind, Tenant
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


class BrandingForm(forms.Form):
    brand_color = forms.RegexField(
        regex=r"^#[0-9A-Fa-f]{6}$",
        required=False,
        error_messages={"invalid": "Use a colour written as #RRGGBB, e.g. #1F6FEB."},
    )
    default_color = forms.BooleanField(required=False)
    slip_message = forms.CharField(max_length=SLIP_MESSAGE_MAX, required=False, strip=True)
    logo = forms.FileField(required=False)
    remove_logo = forms.BooleanField(required=False)


@require_http_methods(["GET", "POST"])
@merchant_required
def branding(request, *, actor):
    """GET: the branding with a logo preview; POST: save colour, message and logo together, or on any
    error (a bad colour, a file that is no PNG or JPEG, too large) change nothing and say why."""
    current = selectors.branding_get(tenant_id=actor.tenant_id)
    form = BrandingForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            changes = {
                "brand_color": "" if data["default_color"] else data["brand_color"],
                "slip_message": data["slip_message"],
            }
            if data["logo"] is not None:
                # One byte past the limit is enough to tell that it is too large.
                changes["logo"] = data["logo"].read(LOGO_MAX_BYTES + 1)
            elif data["remove_logo"]:
                changes["logo"] = None
            with refusal_shown(form=form) as refused:
                services.tenant_branding_update(tenant_id=actor.tenant_id, **changes)
            if not refused:
                messages.success(request, "Branding saved: new packing slips use it.")
                return redirect("tenancy:portal-branding")
        status = 422
    context = {
        "form": form,
        "branding": current,
        "color": form["brand_color"].value() if form.is_bound else (current.brand_color or "#1F6FEB"),
        "slip_message": form["slip_message"].value() if form.is_bound else current.slip_message,
        "max_kb": LOGO_MAX_BYTES // 1024,
        "max_side": LOGO_MAX_SIDE,
        "slip_message_max": SLIP_MESSAGE_MAX,
    }
    return render(request, "tenancy/portal/branding.html", context, status=status)


class ShopperEmailsForm(forms.Form):
    enabled = forms.BooleanField(required=False)
    kinds = forms.MultipleChoiceField(
        choices=ShopperEmailKind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    # Checked by the service (one valid address, no line break), as the API would be.
    email_from = forms.CharField(required=False, strip=True)


@require_http_methods(["GET", "POST"])
@merchant_required
def shopper_emails(request, *, actor):
    """GET: whether e-mails go to shoppers, which ones and from which address; POST: save the three
    together, or on any error (an unknown kind, a bad address) change nothing and say why."""
    current = selectors.shopper_email_settings_get(tenant_id=actor.tenant_id)
    initial = {"enabled": current.enabled, "kinds": list(current.kinds), "email_from": current.email_from}
    form = ShopperEmailsForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            with refusal_shown(form=form) as refused:
                services.tenant_shopper_emails_update(
                    tenant_id=actor.tenant_id,
                    enabled=data["enabled"],
                    kinds=data["kinds"],
                    email_from=data["email_from"],
                )
            if not refused:
                messages.success(request, "E-mail settings saved.")
                return redirect("tenancy:portal-shopper-emails")
        status = 422
    chosen = set(form["kinds"].value() or ()) if form.is_bound else set(current.kinds)
    context = {
        "form": form,
        "current": current,
        "enabled": bool(form["enabled"].value()) if form.is_bound else current.enabled,
        "kind_choices": [(value, label, value in chosen) for value, label in ShopperEmailKind.choices],
        "email_from": form["email_from"].value() if form.is_bound else current.email_from,
        "default_from": settings.DEFAULT_FROM_EMAIL,
    }
    return render(request, "tenancy/portal/shopper_emails.html", context, status=status)


@require_safe
def brand_logo(request, slug):
    """A tenant's logo, public (the tracking page and returns portal show it): 404 when there is none.

    Cached by browsers and proxies and revalidated with its ETag (the SHA-256 of the image). The
    versioned URL that the API and pages hand out (``?v=<digest prefix>``) names one image forever,
    so it is cached for a year; the bare URL for five minutes, since a new upload changes what it shows."""
    logo = selectors.logo_by_slug(slug=slug)
    if logo is None:
        raise Http404("No logo.")
    etag = f'"{logo.sha256}"'
    asked = parse_etags(request.headers.get("If-None-Match", ""))
    if etag in asked or "*" in asked:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(bytes(logo.content), content_type=logo.content_type)
    response["ETag"] = etag
    if request.GET.get("v") == logo.sha256[:12]:
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response["Cache-Control"] = "public, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response


app_name = "tenancy"
urlpatterns = [
    path("portal/branding/", branding, name="portal-branding"),
    path("portal/emails/", shopper_emails, name="portal-shopper-emails"),
    path("brand/<slug:slug>/logo", brand_logo, name="brand-logo"),
    path("portal/api-keys/", api_keys, name="portal-api-keys"),
    path("portal/api-keys/created/", api_key_created, name="portal-api-key-created"),
    path("portal/api-keys/<uuid:key_id>/revoke/", api_key_revoke, name="portal-api-key-revoke"),
]
