"""Writes of the tenancy kernel: tenants, API keys, staff users and their tokens."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from fulfillment.errors import Refusal
from fulfillment.tenancy.models import ApiKey, MerchantMembership, Role, StaffProfile, StaffToken, Tenant


class TenancyError(Refusal):
    pass


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
