"""Reads of the tenancy kernel that are more than a one-line queryset: a tenant's branding."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from fulfillment.tenancy import rls
from fulfillment.tenancy.models import ShopperEmailKind, Tenant, TenantLogo


@dataclass(frozen=True)
class Branding:
    name: str
    slug: str
    brand_color: str  # "#RRGGBB" or ""
    slip_message: str
    logo_sha256: str | None  # None: no logo
    logo_content_type: str | None

    @property
    def logo_url(self) -> str | None:
        """The logo's public path, versioned by its digest so that a new logo is a new URL."""
        if self.logo_sha256 is None:
            return None
        return f"{reverse('tenancy:brand-logo', args=[self.slug])}?v={self.logo_sha256[:12]}"


def branding_get(*, tenant_id) -> Branding:
    """A tenant's branding, without the logo's bytes (Tenant.DoesNotExist when there is no such tenant)."""
    tenant = Tenant.objects.only("name", "slug", "brand_color", "slip_message").get(pk=tenant_id)
    with rls.tenants(tenant.pk):
        logo = TenantLogo.objects.filter(tenant_id=tenant.pk).values_list("sha256", "content_type").first()
    return Branding(
        name=tenant.name,
        slug=tenant.slug,
        brand_color=tenant.brand_color,
        slip_message=tenant.slip_message,
        logo_sha256=logo[0] if logo else None,
        logo_content_type=logo[1] if logo else None,
    )


@dataclass(frozen=True)
class ShopperEmailSettings:
    enabled: bool
    kinds: tuple[str, ...]  # the ShopperEmailKind values sent when enabled, in their order
    email_from: str  # "" for the site's DEFAULT_FROM_EMAIL


def shopper_email_settings_get(*, tenant_id) -> ShopperEmailSettings:
    """Which e-mails a tenant sends its shoppers, and from which address (Tenant.DoesNotExist when none)."""
    tenant = Tenant.objects.only("shopper_emails", "shopper_email_opt_out", "email_from").get(pk=tenant_id)
    opted_out = set(tenant.shopper_email_opt_out or ())
    return ShopperEmailSettings(
        enabled=tenant.shopper_emails,
        kinds=tuple(kind for kind in ShopperEmailKind.values if kind not in opted_out),
        email_from=tenant.email_from,
    )


def logo_get(*, tenant_id) -> TenantLogo | None:
    """The tenant's logo with its bytes, or None. Read in that tenant's scope: the logo is public
    (the tracking page and returns portal show it to shoppers, who have no scope of their own)."""
    with rls.tenants(tenant_id):
        return TenantLogo.objects.filter(tenant_id=tenant_id).first()


def logo_by_slug(*, slug: str) -> TenantLogo | None:
    tenant_id = Tenant.objects.filter(slug=slug).values_list("pk", flat=True).first()
    return logo_get(tenant_id=tenant_id) if tenant_id else None
