"""``/shipping/carriers/``: carrier accounts (managers only, as in the API): each with its status,
test mode, services and last connection test, with Test connection and Deactivate/Activate; and
``/shipping/carriers/new/``: add an account, its credentials (password inputs, never filled in,
never shown) and its services, with a rate sheet (zone rows) for a generic account; and
``/shipping/carriers/<id>/edit/``: change them (credentials typed replace those stored, blank ones
stay; the services and rate sheet as listed replace the old ones)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fulfillment.errors import Refusal, refusal_shown, sentence
from fulfillment.tenancy.portal import staff_actor
from shipping import selectors, services
from shipping.carriers import gateway
from shipping.models import CarrierAccount, ServiceCode

SERVICE_ROWS = 3  # blank service rows on a new form (the page's script adds more)
ZONE_ROWS = 3  # blank zone rows per service
MAX_ROW_INDEX = 500  # row numbers above this are not read (the service allows 50 services, 500 zones)

SERVICE_FIELDS = ("code", "name", "level", "transit_days", "currency", "max_weight_g")
ZONE_FIELDS = ("countries", "min_kg", "max_kg", "rate", "transit_days")
SERVICE_KEY = re.compile(r"^service-(\d{1,3})-(" + "|".join(SERVICE_FIELDS) + r")$")
ZONE_KEY = re.compile(r"^service-(\d{1,3})-zone-(\d{1,3})-(" + "|".join(ZONE_FIELDS) + r")$")
ERROR_PATH = re.compile(r"^services\[(\d+)\](?:\.zones(?:\[(\d+)\])?)?(?:\.(\w+))?$")

# The service's names of a row's fields, in the words of the form's columns.
FIELD_WORDS = {
    "service_code": "code",
    "service_name": "name",
    "level": "level",
    "transit_days": "transit days",
    "currency": "currency",
    "max_weight_g": "max weight (g)",
    "zones": "rate sheet",
    "country_codes": "countries",
    "min_weight_kg": "min kg",
    "max_weight_kg": "max kg",
    "rate": "rate",
}


class AccountForm(forms.Form):
    carrier_name = forms.ChoiceField(label="Carrier")
    carrier_id = forms.CharField(
        max_length=40, required=False, label="Account handle", help_text="e.g. fedex-main; default the carrier's name"
    )
    display_name = forms.CharField(max_length=100, required=False, label="Display name")
    account_country = forms.CharField(
        max_length=2, required=False, label="Account country", help_text="ISO code, e.g. CA"
    )
    test_mode = forms.BooleanField(required=False, initial=True, label="Test mode (the carrier's sandbox)")

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["carrier_name"].choices = [(name, name) for name in gateway.carrier_names()]


@dataclass
class ZoneRow:
    index: int
    values: dict
    errors: list[str] = field(default_factory=list)

    def blank(self) -> bool:
        return not any(self.values.get(name) for name in ZONE_FIELDS)


@dataclass
class ServiceRow:
    index: int
    values: dict
    zones: list[ZoneRow]
    errors: list[str] = field(default_factory=list)

    def blank(self) -> bool:
        filled = any(self.values.get(name) for name in SERVICE_FIELDS if name not in ("level", "currency"))
        return not filled and all(zone.blank() for zone in self.zones)


def _blank_rows(services_count: int = SERVICE_ROWS) -> list[ServiceRow]:
    return [
        ServiceRow(index=i, values={"currency": "CAD"}, zones=[ZoneRow(index=j, values={}) for j in range(ZONE_ROWS)])
        for i in range(services_count)
    ]


def _posted_rows(data) -> list[ServiceRow]:
    """The service and zone rows of a posted form, by their row numbers (blank ones too, to show again)."""
    values: dict[int, dict] = {}
    zones: dict[int, dict[int, dict]] = {}
    for key in data:
        if found := SERVICE_KEY.match(key):
            i = int(found.group(1))
            if i <= MAX_ROW_INDEX:
                values.setdefault(i, {})[found.group(2)] = data.get(key, "").strip()
        elif found := ZONE_KEY.match(key):
            i, j = int(found.group(1)), int(found.group(2))
            if i <= MAX_ROW_INDEX and j <= MAX_ROW_INDEX:
                values.setdefault(i, {})
                zones.setdefault(i, {}).setdefault(j, {})[found.group(3)] = data.get(key, "").strip()
    rows = []
    for i in sorted(values):
        row_zones = [ZoneRow(index=j, values=zones.get(i, {})[j]) for j in sorted(zones.get(i, {}))]
        start = max((zone.index for zone in row_zones), default=-1) + 1
        row_zones += [ZoneRow(index=start + k, values={}) for k in range(ZONE_ROWS - len(row_zones))]
        rows.append(ServiceRow(index=i, values=values[i], zones=row_zones))
    return rows or _blank_rows()


def _whole(text: str):
    """A whole number as typed, or the text itself for the service to refuse (None when blank)."""
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _service_input(rows: list[ServiceRow], *, generic: bool) -> tuple[list[dict], list[tuple[ServiceRow, list]]]:
    """The ``services`` argument of carrier_account_create, and for each entry its row and the
    rows of its zones (so that an error about services[0].zones[1] lands on the row it is about)."""
    given, where = [], []
    for row in rows:
        if row.blank():
            continue
        v = row.values
        service = {
            "service_code": v.get("code", ""),
            "service_name": v.get("name", ""),
            "level": v.get("level", ""),
            "transit_days": _whole(v.get("transit_days", "")),
            "currency": v.get("currency", ""),
        }
        if v.get("max_weight_g"):
            service["max_weight_g"] = _whole(v["max_weight_g"])
        filled = [zone for zone in row.zones if not zone.blank()]
        if generic or filled:
            zones = []
            for zone in filled:
                z = zone.values
                entry = {"rate": z.get("rate", "")} if z.get("rate") else {}
                if z.get("countries"):
                    entry["country_codes"] = [c.strip() for c in z["countries"].split(",") if c.strip()]
                if z.get("min_kg"):
                    entry["min_weight_kg"] = z["min_kg"]
                if z.get("max_kg"):
                    entry["max_weight_kg"] = z["max_kg"]
                if z.get("transit_days"):
                    entry["transit_days"] = _whole(z["transit_days"])
                zones.append(entry)
            service["zones"] = zones
        given.append(service)
        where.append((row, filled))
    return given, where


def _credentials(data, carrier_name: str) -> dict:
    required, optional = gateway.credential_fields(carrier_name)
    return {
        name: data.get(f"cred-{carrier_name}-{name}", "")
        for name in (*required, *optional)
        if data.get(f"cred-{carrier_name}-{name}", "")
    }


def _place(refusal: Refusal, *, form: AccountForm, where, credential_errors: dict) -> None:
    """Each error of a refused account beside the input it is about (the form's own errors otherwise)."""
    for path_, message in refusal.field_messages():
        path_ = path_ or ""
        if path_ in form.fields:
            form.add_error(path_, message)
        elif path_.startswith("credentials."):
            credential_errors[path_.split(".", 1)[1]] = message
        elif (found := ERROR_PATH.match(path_)) and int(found.group(1)) < len(where):
            row, zones = where[int(found.group(1))]
            words = FIELD_WORDS.get(found.group(3) or "", found.group(3) or "")
            if found.group(2) is not None and int(found.group(2)) < len(zones):
                zones[int(found.group(2))].errors.append(f"{words}: {message}" if words else message)
            else:
                row.errors.append(f"{words}: {message}" if words else message)
        else:
            form.add_error(None, f"{FIELD_WORDS.get(path_, path_)}: {message}" if path_ else message)


def _carrier_fields(chosen: str, errors: dict) -> list[dict]:
    """Each carrier's credential inputs (required first), with the chosen carrier's errors beside them."""
    found = []
    for name in gateway.carrier_names():
        required, optional = gateway.credential_fields(name)
        fields = [
            {"name": f, "required": f in required, "error": errors.get(f, "") if name == chosen else ""}
            for f in (*required, *optional)
        ]
        found.append({"name": name, "fields": fields})
    return found


def _form_context(
    form: AccountForm,
    rows: list[ServiceRow],
    credential_errors: dict | None = None,
    refused: str = "",
    account: CarrierAccount | None = None,
) -> dict:
    chosen = form["carrier_name"].value() or ""
    return {
        "account": account,
        "form": form,
        "rows": rows,
        "next_service": max((row.index for row in rows), default=-1) + 1,
        "zone_rows": ZONE_ROWS,
        "carriers": _carrier_fields(chosen, credential_errors or {}),
        "refused": refused,
        "levels": ServiceCode.choices,
        "is_manager": True,
    }


def _submit(request, form: AccountForm, *, save, account: CarrierAccount | None = None):
    """A posted account form: ``save(cleaned data, services)`` creates or changes the account and
    answers its carrier_id (then the list, at it); a refusal shows each error beside its input, 422."""
    rows = _posted_rows(request.POST)
    credential_errors: dict[str, str] = {}
    message = ""
    if form.is_valid():
        data = form.cleaned_data
        given, where = _service_input(rows, generic=data["carrier_name"] == "generic")
        with refusal_shown() as refused:
            carrier_id = save(data, given)
            return redirect(f"{reverse('shipping:carriers')}#account-{carrier_id}")
        _place(refused.refusal, form=form, where=where, credential_errors=credential_errors)
        message = sentence(refused.refusal.message)
    context = _form_context(form, rows, credential_errors, refused=message, account=account)
    return render(request, "shipping/carrier_form.html", context, status=422)


@require_GET
@login_required
def carrier_list(request):
    staff_actor(request, manager=True)
    accounts = selectors.carrier_accounts()
    rows = [{"account": a, "capabilities": sorted(gateway.capabilities(a.carrier_name))} for a in accounts]
    return render(request, "shipping/carriers.html", {"rows": rows, "is_manager": True})


@login_required
@require_http_methods(["GET", "POST"])
def carrier_new(request):
    staff_actor(request, manager=True)
    if request.method == "GET":
        form = AccountForm(initial={"carrier_name": "generic", "test_mode": True})
        return render(request, "shipping/carrier_form.html", _form_context(form, _blank_rows()))
    form = AccountForm(request.POST)

    def create(data: dict, given: list[dict]) -> str:
        account = services.carrier_account_create(
            carrier_name=data["carrier_name"],
            carrier_id=data["carrier_id"],
            display_name=data["display_name"],
            credentials=_credentials(request.POST, data["carrier_name"]),
            test_mode=data["test_mode"],
            account_country=data["account_country"],
            services=given,
        )
        count = account.services.count()
        messages.success(
            request, f"Carrier account {account.carrier_id} added with {count} service{'' if count == 1 else 's'}."
        )
        return account.carrier_id

    return _submit(request, form, save=create)


class EditAccountForm(AccountForm):
    """The same form with the carrier and the handle fixed: another carrier is another account."""

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["carrier_name"].disabled = True
        self.fields["carrier_id"].disabled = True


def _rows_of(account: CarrierAccount) -> list[ServiceRow]:
    """The account's services as form rows, each with one blank zone row more, and one blank service."""
    rows = []
    for i, service in enumerate(account.services.order_by("transit_days", "service_code")):
        zones = [
            ZoneRow(
                index=j,
                values={
                    "countries": ", ".join(zone.get("country_codes") or []),
                    "min_kg": zone.get("min_weight_kg") or "",
                    "max_kg": zone.get("max_weight_kg") or "",
                    "rate": zone.get("rate") or "",
                    "transit_days": "" if zone.get("transit_days") is None else str(zone["transit_days"]),
                },
            )
            for j, zone in enumerate(service.zones or [])
        ]
        zones.append(ZoneRow(index=len(zones), values={}))
        values = {
            "code": service.service_code,
            "name": service.service_name,
            "level": service.level,
            "transit_days": str(service.transit_days),
            "currency": service.currency,
            "max_weight_g": str(service.max_weight_g or ""),
        }
        rows.append(ServiceRow(index=i, values=values, zones=zones))
    blank = _blank_rows(1)[0]
    blank.index = len(rows)
    return [*rows, blank]


@login_required
@require_http_methods(["GET", "POST"])
def carrier_edit(request, account_id):
    staff_actor(request, manager=True)
    account = _account_or_404(account_id)
    initial = {
        "carrier_name": account.carrier_name,
        "carrier_id": account.carrier_id,
        "display_name": account.display_name,
        "account_country": account.account_country,
        "test_mode": account.test_mode,
    }
    if request.method == "GET":
        form = EditAccountForm(initial=initial)
        return render(request, "shipping/carrier_form.html", _form_context(form, _rows_of(account), account=account))
    form = EditAccountForm(request.POST, initial=initial)

    def update(data: dict, given: list[dict]) -> str:
        changes = {
            "display_name": data["display_name"] or account.carrier_id,
            "account_country": data["account_country"],
            "test_mode": data["test_mode"],
            "services": given,
        }
        if typed := _credentials(request.POST, account.carrier_name):
            changes["credentials"] = typed  # blank inputs keep what is stored
        services.carrier_account_update(account_id=account.pk, **changes)
        messages.success(request, f"Carrier account {account.carrier_id} saved.")
        return account.carrier_id

    return _submit(request, form, save=update, account=account)


def _account_or_404(account_id) -> CarrierAccount:
    account = CarrierAccount.objects.filter(pk=account_id).first()
    if account is None:
        raise Http404("No such carrier account.")
    return account


@require_POST
@login_required
def carrier_check(request, account_id):
    staff_actor(request, manager=True)
    account = _account_or_404(account_id)
    with refusal_shown(request, prefix=f"{account.carrier_id}: "):
        checked = services.carrier_account_check(account_id=account.pk)
        if checked.last_check_ok:
            messages.success(request, f"{checked.carrier_id}: connected. {sentence(checked.last_check_message)}")
        else:
            messages.error(
                request, f"{checked.carrier_id}: the connection failed. {sentence(checked.last_check_message)}"
            )
    return redirect(f"{reverse('shipping:carriers')}#account-{account.carrier_id}")


@require_POST
@login_required
def carrier_active(request, account_id, active: bool):
    staff_actor(request, manager=True)
    account = _account_or_404(account_id)
    with refusal_shown(request, prefix=f"{account.carrier_id}: "):
        if active:
            services.carrier_account_update(account_id=account.pk, active=True)
            messages.success(request, f"{account.carrier_id} is active: it quotes and buys labels again.")
        else:
            services.carrier_account_deactivate(account_id=account.pk)
            messages.success(request, f"{account.carrier_id} is deactivated: it no longer quotes or buys labels.")
    return redirect(f"{reverse('shipping:carriers')}#account-{account.carrier_id}")


urlpatterns = [
    path("shipping/carriers/", carrier_list, name="carriers"),
    path("shipping/carriers/new/", carrier_new, name="carrier-new"),
    path("shipping/carriers/<uuid:account_id>/edit/", carrier_edit, name="carrier-edit"),
    path("shipping/carriers/<uuid:account_id>/check/", carrier_check, name="carrier-check"),
    path("shipping/carriers/<uuid:account_id>/activate/", carrier_active, {"active": True}, name="carrier-activate"),
    path(
        "shipping/carriers/<uuid:account_id>/deactivate/", carrier_active, {"active": False}, name="carrier-deactivate"
    ),
]
