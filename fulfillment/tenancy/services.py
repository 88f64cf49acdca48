"""Writes of the tenancy kernel: tenants, their branding, API keys, staff users and their tokens."""

from __future__ import annotations

import hashlib

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from fulfillment.errors import FieldRefusal, Refusal
from fulfillment.tenancy.branding import LogoProblem, check_logo, normalized_color
from fulfillment.tenancy.models import (
    SLIP_MESSAGE_MAX,
    ApiKey,
    MerchantMembership,
    Role,
    ShopperEmailKind,
    StaffProfile,
    StaffToken,
    Tenant,
    TenantLogo,
)


class TenancyError(Refusal):
    pass


class BrandingError(FieldRefusal):
    """Refused branding input: 422 naming each field at fault; nothing is changed."""


#: "Leave it as it is" for the optional arguments of ``tenant_branding_update``.
UNCHANGED = object()


@transaction.atomic
def tenant_branding_update(*, tenant_id, brand_color=UNCHANGED, slip_message=UNCHANGED, logo=UNCHANGED) -> None:
    """Set a tenant's brand colour (#RRGGBB, "" for none), slip message and logo (the uploaded
    bytes; None removes it). An argument left out is left as it is.

    Every given value is checked before anything is written, so a refusal (BrandingError, naming
    each field at fault) changes nothing.
    """
    errors: list[dict] = []
    changes: dict = {}
    if brand_color is not UNCHANGED:
        color = normalized_color(brand_color)
        if color is None:
            errors.append(
                {"field": "brand_color", "code": "invalid", "message": "Use a colour written as #RRGGBB, e.g. #1F6FEB."}
            )
        else:
            changes["brand_color"] = color
    if slip_message is not UNCHANGED:
        message = (slip_message or "").strip()
        if len(message) > SLIP_MESSAGE_MAX:
            errors.append(
                {
                    "field": "slip_message",
                    "code": "max_length",
                    "message": f"Ensure this field has no more than {SLIP_MESSAGE_MAX} characters.",
                }
            )
        else:
            changes["slip_message"] = message
    checked = None
    if logo is not UNCHANGED and logo is not None:
        try:
            checked = check_logo(bytes(logo))
        except LogoProblem as problem:
            errors.append({"field": "logo", "code": problem.code, "message": problem.message})
    if errors:
        raise BrandingError("The branding was not changed.", errors=errors)
    if changes:
        Tenant.objects.filter(pk=tenant_id).update(**changes)
    if checked is not None:
        TenantLogo.objects.update_or_create(
            tenant_id=tenant_id,
            defaults={
                "content": checked.content,
                "content_type": checked.content_type,
                "sha256": hashlib.sha256(checked.content).hexdigest(),
                "width": checked.width,
                "height": checked.height,
                "updated_at": timezone.now(),
            },
        )
    elif logo is None:
        TenantLogo.objects.filter(tenant_id=tenant_id).delete()


class ShopperEmailSettingsError(FieldRefusal):
    """Refused shopper e-mail settings: 422 naming each field at fault; nothing is changed."""


EMAIL_FROM_MAX = Tenant._meta.get_field("email_from").max_length


@transaction.atomic
def tenant_shopper_emails_update(*, tenant_id, enabled: bool, kinds, email_from: str) -> None:
    """Set whether a tenant e-mails its shoppers, which kinds (ShopperEmailKind values; the others
    are opted out) and the sender address ("" for the site's DEFAULT_FROM_EMAIL).

    Everything is checked before anything is written: an unknown kind or an address that is not
    one valid e-mail address (ShopperEmailSettingsError, naming each field at fault) changes nothing.
    """
    errors: list[dict] = []
    wanted = list(dict.fromkeys(kinds))
    unknown = [kind for kind in wanted if kind not in ShopperEmailKind.values]
    if unknown:
        errors.append(
            {
                "field": "kinds",
                "code": "invalid_choice",
                "message": f"Unknown e-mail kind {unknown[0]!r}: choose among {', '.join(ShopperEmailKind.values)}.",
            }
        )
    sender = (email_from or "").strip()
    if sender:
        try:
            # A line break or a second address would break (or add to) the From header of every e-mail.
            if len(sender) > EMAIL_FROM_MAX or any(c in sender for c in "\r\n,"):
                raise ValidationError("not one address")
            validate_email(sender)
        except ValidationError:
            errors.append(
                {
                    "field": "email_from",
                    "code": "invalid",
                    "message": "Enter one valid e-mail address, e.g. hello@shop.example.",
                }
            )
    if errors:
        raise ShopperEmailSettingsError("The e-mail settings were not changed.", errors=errors)
    Tenant.objects.filter(pk=tenant_id).update(
        shopper_emails=bool(enabled),
        shopper_email_opt_out=[kind for kind in ShopperEmailKind.values if kind not in wanted],
        email_from=sender,
    )


@transaction.atomic
def tenant_create(*, slug: str, name: str, default_warehouse_code: str = "") -> tuple[Tenant, str]:
    """A tenant and its first API key; the raw key is returned once and never stored."""
    if Tenant.objects.filter(slug=slug).exists():
        raise TenancyError(f"tenant {slug!r} already exists")
    tenant = Tenant.objects.create(slug=slug, name=name, default_warehouse_code=default_warehouse_code)
    _, raw = api_key_create(tenant=tenant, name="first key")
    return tenant, raw


def api_key_create(*, tenant: Tenant, name: str = "") -> tuple[ApiKey, str]:
    raw, prefix, digest = ApiKey.generate()
    key = ApiKey.objects.create(tenant=tenant, prefix=prefix, key_hash=digest, name=name)
    return key, raw


def api_key_revoke(*, key: ApiKey) -> None:
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def staff_create(*, username: str, password: str, role: str) -> tuple[object, str]:
    """A staff user with a role and a first API token (returned raw, once)."""
    if role not in Role.values:
        raise TenancyError(f"role must be one of {', '.join(Role.values)}")
    User = get_user_model()
    user, _created = User.objects.get_or_create(username=username)
    user.set_password(password)
    user.is_staff = role == Role.MANAGER  # managers may use the Django admin
    user.save()
    StaffProfile.objects.update_or_create(user=user, defaults={"role": role})
    _, raw = staff_token_create(user=user)
    return user, raw


def staff_token_create(*, user, name: str = "") -> tuple[StaffToken, str]:
    raw, prefix, digest = StaffToken.generate()
    token = StaffToken.objects.create(user=user, prefix=prefix, key_hash=digest, name=name)
    return token, raw


@transaction.atomic
def merchant_user_create(*, tenant: Tenant, username: str, password: str, email: str = ""):
    """A portal login for a merchant: sees only this tenant's orders, stock, keys and webhooks."""
    User = get_user_model()
    if User.objects.filter(username=username).exclude(merchant_membership__tenant=tenant).exists():
        raise TenancyError(f"user {username!r} already exists")
    user, _created = User.objects.get_or_create(username=username, defaults={"email": email})
    user.set_password(password)
    user.save()
    MerchantMembership.objects.update_or_create(user=user, defaults={"tenant": tenant})
    return user
