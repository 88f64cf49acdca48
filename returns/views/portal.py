"""``/portal/returns/policy/``: the merchant's return policy, read and changed as one form; a
refused change shows each field's problem and saves nothing (the checks are the service's)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from fulfillment.errors import refusal_shown
from fulfillment.tenancy.portal import merchant_required
from returns import services
from returns.models import Resolution
from returns.selectors import return_policy
from shipping.models import CarrierAccount


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines()]


class PolicyForm(forms.Form):
    window_days = forms.IntegerField(label="Days after delivery", min_value=0, max_value=3650)
    restocking_fee_percent = forms.CharField(label="Restocking fee (% of the price)", max_length=12)
    return_shipping_fee = forms.CharField(label="Return shipping fee (per return)", max_length=16)
    free_exchanges = forms.BooleanField(label="Exchanges are free of these fees", required=False)
    resolutions = forms.MultipleChoiceField(
        choices=Resolution.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    non_returnable_skus = forms.CharField(
        label="SKUs that cannot be returned (one per line)", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    reasons = forms.CharField(label="Reasons offered (one per line)", widget=forms.Textarea(attrs={"rows": 6}))
    label_account = forms.ChoiceField(label="Prepaid return labels", required=False)
    exchange_before_receipt = forms.BooleanField(
        label="Trust the shopper: ship an exchange before the return arrives", required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label_account"].choices = label_choices()


def label_choices() -> list[tuple[str, str]]:
    """ "carrier_id/service_code" of every active service of the active carrier accounts, after "none"."""
    choices = [("", "None: the shopper sends the parcel at their own cost")]
    for account in CarrierAccount.objects.filter(active=True).prefetch_related("services").order_by("carrier_id"):
        for service in sorted(
            (s for s in account.services.all() if s.active), key=lambda s: (s.transit_days, s.service_code)
        ):
            choices.append(
                (f"{account.carrier_id}/{service.service_code}", f"{account.display_name}: {service.service_name}")
            )
    return choices


@require_http_methods(["GET", "POST"])
@merchant_required
def policy(request, *, actor):
    current = return_policy(tenant_id=actor.tenant_id)
    initial = {
        "window_days": current.window_days,
        "restocking_fee_percent": f"{current.restocking_fee_percent:.2f}",
        "return_shipping_fee": f"{current.return_shipping_fee:.2f}",
        "free_exchanges": current.free_exchanges,
        "resolutions": list(current.resolutions),
        "non_returnable_skus": "\n".join(current.non_returnable_skus),
        "reasons": "\n".join(current.reasons),
        "label_account": (
            f"{current.label_account.carrier_id}/{current.label_service_code}" if current.label_account_id else ""
        ),
        "exchange_before_receipt": current.exchange_before_receipt,
    }
    form = PolicyForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            account, _, service = (data["label_account"] or "").partition("/")
            with refusal_shown(form=form) as refused:
                services.return_policy_update(
                    tenant_id=actor.tenant_id,
                    changes=services.PolicyInput(
                        window_days=data["window_days"],
                        restocking_fee_percent=data["restocking_fee_percent"],
                        return_shipping_fee=data["return_shipping_fee"],
                        free_exchanges=data["free_exchanges"],
                        resolutions=data["resolutions"],
                        non_returnable_skus=_lines(data["non_returnable_skus"]),
                        reasons=_lines(data["reasons"]),
                        label_account=account,
                        label_service=service,
                        exchange_before_receipt=data["exchange_before_receipt"],
                    ),
                    actor=actor.label,
                )
            if not refused:
                messages.success(request, "Return policy saved: new returns follow it.")
                return redirect("returns:portal-policy")
        status = 422
    return render(request, "returns/portal/policy.html", {"form": form, "current": current}, status=status)


urlpatterns = [path("portal/returns/policy/", policy, name="portal-policy")]
