"""Reads of the shopper's public returns portal (/returns/<tenant_slug>/).

The shopper has no login and so no row-level-security scope. The tenant comes from the URL's slug
(tenants are not tenant rows); every read of the tenant's rows then runs in that tenant's scope
alone (``rls.tenants``), so that no mistake here can reach another tenant's orders. An RMA's token
is looked up in the operator scope for its id and tenant only, and answered only when that tenant
is the URL's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q

from fulfillment.tenancy import rls
from fulfillment.tenancy import selectors as tenancy_selectors
from fulfillment.tenancy.models import Tenant
from inventory import selectors as inventory_selectors
from inventory.models import Product
from orders.models import Order, OrderLine
from returns.models import RETURNABLE, Return, ReturnLabel, ReturnLine
from returns.selectors import buys_labels, requested_by_line, return_policy

_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_HEX_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
PHOTO_REASON_WORDS = ("damag", "defect", "broken")


def photo_wanted(reason: str) -> bool:
    """Whether a reason asks for a photo of the unit (damaged, defective, broken)."""
    return any(word in (reason or "").casefold() for word in PHOTO_REASON_WORDS)


@dataclass(frozen=True)
class PortalBrand:
    tenant_id: object
    slug: str
    merchant: str
    brand_color: str
    logo_url: str | None


def portal_brand(*, slug: str) -> PortalBrand | None:
    """The merchant of a returns portal URL, None for no such tenant."""
    tenant = Tenant.objects.filter(slug=slug).only("pk").first()
    if tenant is None:
        return None
    branding = tenancy_selectors.branding_get(tenant_id=tenant.pk)
    return PortalBrand(
        tenant_id=tenant.pk,
        slug=branding.slug,
        merchant=branding.name,
        brand_color=branding.brand_color if _HEX_COLOR.fullmatch(branding.brand_color or "") else "",
        logo_url=branding.logo_url,
    )


def _squeeze(value) -> str:
    return re.sub(r"\s+", "", str(value or "")).casefold()


def shopper_order_find(*, tenant_id, number: str, contact: str):
    """The id of the tenant's shipped or delivered order whose number (the shop's, or ours) is
    ``number`` and whose ship-to e-mail or postal code is ``contact`` (case and spaces aside); None
    otherwise, whichever of the two was wrong."""
    number, wanted = (number or "").strip(), _squeeze(contact)
    if not number or not wanted:
        return None
    with rls.tenants(tenant_id):
        candidates = (
            Order.objects.filter(tenant_id=tenant_id, status__in=list(RETURNABLE))
            .filter(Q(external_id__iexact=number) | Q(number__iexact=number))
            .order_by("created_at", "pk")
            .values_list("pk", "ship_to")
        )
        for order_id, ship_to in candidates:
            ship_to = ship_to or {}
            if wanted in {_squeeze(ship_to.get("email")), _squeeze(ship_to.get("postal_code"))} - {""}:
                return order_id
    return None


@dataclass(frozen=True)
class ReturnableLine:
    sku: str
    name: str
    shipped: int
    requested: int  # already asked for by earlier returns
    returnable: int  # what may still come back (0 for a SKU the policy never takes back)
    non_returnable: bool


@dataclass(frozen=True)
class ShopperOrder:
    order_id: object
    number: str
    external_id: str
    lines: list[ReturnableLine]
    reasons: list[str]
    resolutions: list[str]
    products: list[tuple[str, str]]  # (sku, name) the shopper may ask for in an exchange
    has_label_account: bool


def shopper_order(*, tenant_id, order_id) -> ShopperOrder | None:
    """The order as the returns form shows it: per SKU what was shipped, already asked for and may
    still come back; the policy's reasons and resolutions; the shop's products for an exchange."""
    with rls.tenants(tenant_id):
        order = Order.objects.filter(pk=order_id, tenant_id=tenant_id, status__in=list(RETURNABLE)).first()
        if order is None:
            return None
        policy = return_policy(tenant_id=tenant_id)
        never = {sku.casefold() for sku in policy.non_returnable_skus or []}
        requested = requested_by_line(order_id=order.pk)
        per_sku: dict[str, dict] = {}
        for line in OrderLine.objects.filter(order=order).select_related("product").order_by("pk"):
            row = per_sku.setdefault(line.sku, {"name": line.product.name, "shipped": 0, "requested": 0, "best": 0})
            row["shipped"] += line.shipped_quantity
            row["requested"] += requested.get(line.pk, 0)
            # return_create takes one order line per SKU: the most one line still has.
            row["best"] = max(row["best"], line.shipped_quantity - requested.get(line.pk, 0))
        lines = [
            ReturnableLine(
                sku=sku,
                name=row["name"],
                shipped=row["shipped"],
                requested=row["requested"],
                returnable=0 if sku.casefold() in never else max(row["best"], 0),
                non_returnable=sku.casefold() in never,
            )
            for sku, row in per_sku.items()
            if row["shipped"] > 0
        ]
        products = list(Product.objects.filter(tenant_id=tenant_id).order_by("name", "sku").values_list("sku", "name"))
        return ShopperOrder(
            order_id=order.pk,
            number=order.number,
            external_id=order.external_id,
            lines=lines,
            reasons=list(policy.reasons or []),
            resolutions=list(policy.resolutions or []),
            products=products,
            has_label_account=policy.label_account_id is not None,
        )


@dataclass(frozen=True)
class PublicReturn:
    rma: Return
    lines: list[ReturnLine]
    label: ReturnLabel | None
    carrier: str
    warehouse: dict
    order_external_id: str


def public_return(*, tenant_id, token: str) -> PublicReturn | None:
    """The RMA whose token is ``token`` when it is the tenant's; None otherwise (a malformed token,
    another tenant's RMA or none: the same 404)."""
    token = token if _TOKEN.fullmatch(token or "") else ""
    with rls.operator():
        found = list(Return.objects.filter(public_token=token).values_list("pk", "tenant_id")[:2])
    if len(found) != 1 or str(found[0][1]) != str(tenant_id):
        return None
    with rls.tenants(tenant_id):
        rma = Return.objects.select_related("order", "warehouse", "tenant").get(pk=found[0][0], tenant_id=tenant_id)
        label = ReturnLabel.objects.select_related("account").defer("label").filter(rma_id=rma.pk).first()
        return PublicReturn(
            rma=rma,
            lines=list(rma.lines.order_by("pk")),
            label=label,
            carrier=label.account.display_name if label is not None else "",
            warehouse=inventory_selectors.warehouse_address(rma.warehouse),
            order_external_id=rma.order.external_id,
        )


def shopper_label_possible(*, tenant_id) -> bool:
    """Whether the tenant's policy buys prepaid labels (an active account is chosen)."""
    with rls.tenants(tenant_id):
        return buys_labels(return_policy(tenant_id=tenant_id))
