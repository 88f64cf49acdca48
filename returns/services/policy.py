"""A merchant's return policy: checked whole, then saved; a refused change saves nothing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction

from returns.models import Resolution, ReturnPolicy
from returns.selectors import return_policy
from returns.services.common import ReturnError, field_error
from shipping.models import CarrierAccount

MAX_REASONS = 30
MAX_SKUS = 5000


@dataclass(frozen=True)
class PolicyInput:
    """The fields to change; None leaves a field as it is."""

    window_days: int | None = None
    non_returnable_skus: list | None = None
    restocking_fee_percent: object = None
    return_shipping_fee: object = None
    free_exchanges: bool | None = None
    resolutions: list | None = None
    reasons: list | None = None
    # The carrier account (its carrier_id; "" for none) and service (service_code) of return labels.
    label_account: str | None = None
    label_service: str | None = None
    exchange_before_receipt: bool | None = None


def _decimal(value, *, field: str, low: Decimal, high: Decimal, errors: list) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.append(field_error(field, "invalid", "A number is required."))
        return None
    if not amount.is_finite() or amount < low or amount > high:
        errors.append(field_error(field, "out_of_range", f"Between {low} and {high}."))
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors.append(field_error(field, "too_precise", "At most two decimal places."))
        return None
    return amount


def _strings(values, *, field: str, limit: int, max_length: int, errors: list) -> list[str] | None:
    if not isinstance(values, list) or any(not isinstance(v, str) for v in values):
        errors.append(field_error(field, "invalid", "A list of texts is required."))
        return None
    cleaned, seen = [], set()
    for value in (v.strip() for v in values):
        if not value:
            continue
        if len(value) > max_length:
            errors.append(field_error(field, "max_length", f"Each at most {max_length} characters: {value[:20]}..."))
            return None
        if value.casefold() not in seen:
            seen.add(value.casefold())
            cleaned.append(value)
    if len(cleaned) > limit:
        errors.append(field_error(field, "too_many", f"At most {limit}."))
        return None
    return cleaned


def _label_choice(policy: ReturnPolicy, changes: PolicyInput, errors: list) -> None:
    """The account and service return labels are bought on: an active account by its carrier_id ("" for
    none: RMAs then come without a label) and one of its active services (its quickest when not named)."""
    if changes.label_account is None and changes.label_service is None:
        return
    if changes.label_account is not None:
        handle = str(changes.label_account).strip()
        if not handle:
            policy.label_account, policy.label_service_code = None, ""
            return
        account = CarrierAccount.objects.filter(carrier_id=handle, active=True).first()
        if account is None:
            errors.append(
                field_error("label_account", "unknown_carrier_account", f"No active carrier account {handle}.")
            )
            return
    else:
        account = policy.label_account
        if account is None:
            errors.append(field_error("label_service", "carrier_required", "Choose the carrier account first."))
            return
    services = list(account.services.filter(active=True).order_by("transit_days", "service_code"))
    wanted = (changes.label_service or "").strip()
    if not wanted and changes.label_account is not None and policy.label_account_id == account.pk:
        wanted = policy.label_service_code  # the same account again: its service stays
    service = next((s for s in services if s.service_code == wanted), None) if wanted else None
    if wanted and service is None:
        errors.append(
            field_error("label_service", "unknown_service", f"{account.carrier_id} offers no service {wanted}.")
        )
        return
    if service is None:
        if not services:
            errors.append(field_error("label_account", "no_service", f"{account.carrier_id} has no active service."))
            return
        service = services[0]
    policy.label_account, policy.label_service_code = account, service.service_code


@transaction.atomic
def return_policy_update(*, tenant_id, changes: PolicyInput, actor: str = "") -> ReturnPolicy:
    """Change the tenant's return policy (created with the defaults on first change). ReturnError
    (422) naming every field at fault, with nothing saved."""
    policy = return_policy(tenant_id=tenant_id)
    errors: list[dict] = []
    if changes.window_days is not None:
        window = changes.window_days
        if isinstance(window, bool) or not isinstance(window, int) or not 0 <= window <= 3650:
            errors.append(field_error("window_days", "out_of_range", "Whole days between 0 and 3650."))
        else:
            policy.window_days = window
    if changes.non_returnable_skus is not None:
        skus = _strings(changes.non_returnable_skus, field="non_returnable_skus", limit=MAX_SKUS, max_length=64,
                        errors=errors)  # fmt: skip
        if skus is not None:
            policy.non_returnable_skus = skus
    if changes.restocking_fee_percent is not None:
        fee = _decimal(changes.restocking_fee_percent, field="restocking_fee_percent", low=Decimal(0),
                       high=Decimal(100), errors=errors)  # fmt: skip
        if fee is not None:
            policy.restocking_fee_percent = fee
    if changes.return_shipping_fee is not None:
        fee = _decimal(changes.return_shipping_fee, field="return_shipping_fee", low=Decimal(0),
                       high=Decimal("99999999.99"), errors=errors)  # fmt: skip
        if fee is not None:
            policy.return_shipping_fee = fee
    if changes.free_exchanges is not None:
        policy.free_exchanges = bool(changes.free_exchanges)
    if changes.resolutions is not None:
        resolutions = changes.resolutions
        unknown = [r for r in resolutions if r not in Resolution.values] if isinstance(resolutions, list) else None
        if unknown is None or unknown:
            errors.append(field_error("resolutions", "invalid", f"Choose from {', '.join(Resolution.values)}."))
        elif not resolutions:
            errors.append(field_error("resolutions", "required", "At least one resolution must be offered."))
        else:
            policy.resolutions = [r for r in Resolution.values if r in resolutions]
    if changes.reasons is not None:
        reasons = _strings(changes.reasons, field="reasons", limit=MAX_REASONS, max_length=100, errors=errors)
        if reasons is not None and not reasons:
            errors.append(field_error("reasons", "required", "At least one reason must be offered."))
        elif reasons is not None:
            policy.reasons = reasons
    if changes.exchange_before_receipt is not None:
        policy.exchange_before_receipt = bool(changes.exchange_before_receipt)
    _label_choice(policy, changes, errors)
    if errors:
        raise ReturnError("The return policy has invalid fields.", errors=errors)
    policy.updated_by = actor[:100]
    policy.save()
    return policy
