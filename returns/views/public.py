"""``/returns/<tenant_slug>/``: the shopper's returns portal, public (no login), branded like the
tracking page and laid out for a phone first.

1. The shopper names the order (the shop's order number, or ours) and its e-mail or postal code;
   a wrong number and a wrong e-mail read the same. The order found is remembered in the session.
2. The order's returnable units: per line a quantity, a reason (the policy's), a photo for a
   damaged or defective unit; the resolution (the policy's) and, for an exchange, what instead.
3. The RMA's page ``/returns/<tenant_slug>/r/<public_token>/``: its number, status, lines, what to
   do, the prepaid label (``.../label.pdf``) or the warehouse's address.

Order look-ups, RMA pages and label downloads count against ``RETURNS_PORTAL_RATE`` per client
address (a fixed window in the cache, as the tracking page's TRACKING_PAGE_RATE), so that order
numbers, e-mails and tokens cannot be tried at speed.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from fulfillment import public_pages
from fulfillment.tenancy import rls
from returns import selectors_shopper as selectors
from returns import services
from returns.models import Resolution, ReturnStatus

DEFAULT_BRAND_COLOR = "#000000"
NOT_FOUND = "We could not find a shipped order with that order number and e-mail or postal code."
_HEADERS = {
    "X-Robots-Tag": "noindex, nofollow",
    # The RMA's token is in the URL: no request to another site may carry it. Not "no-referrer": a
    # browser then sends its form posts with "Origin: null", which CSRF protection refuses.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
STATUS_WORDS = {
    ReturnStatus.REQUESTED: "Return requested",
    ReturnStatus.LABEL_ISSUED: "Label ready: send your parcel",
    ReturnStatus.IN_TRANSIT: "On its way back",
    ReturnStatus.RECEIVED: "Received at the warehouse",
    ReturnStatus.INSPECTED: "Inspected",
    ReturnStatus.REFUNDED: "Refunded",
    ReturnStatus.EXCHANGED: "Exchanged",
    ReturnStatus.CLOSED: "Closed",
}
RESOLUTION_WORDS = {
    Resolution.REFUND: "A refund",
    Resolution.EXCHANGE: "An exchange for another item",
    Resolution.STORE_CREDIT: "Store credit",
}
MAX_EXCHANGE_QUANTITY = 20


def _retry_after(request) -> int | None:
    return public_pages.retry_after(request, rate=settings.RETURNS_PORTAL_RATE, scope="returns-portal")


def _page(request, template: str, brand, context: dict | None = None, status: int = 200) -> HttpResponse:
    color = (brand.brand_color if brand else "") or DEFAULT_BRAND_COLOR
    response = render(
        request,
        template,
        {"brand": brand, "brand_color": color, "brand_text": public_pages.text_color(color), **(context or {})},
        status=status,
    )
    for name, value in _HEADERS.items():
        response[name] = value
    return response


def _too_many(request, brand, retry_after: int) -> HttpResponse:
    response = _page(request, "returns/public/too_many.html", brand, {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _brand(tenant_slug: str):
    brand = selectors.portal_brand(slug=tenant_slug)
    if brand is None:
        raise Http404("No such shop.")
    return brand


def _session_key(brand) -> str:
    return f"returns-portal:{brand.tenant_id}"


@require_http_methods(["GET", "POST"])
def lookup(request, tenant_slug):
    brand = _brand(tenant_slug)
    values = {"number": "", "contact": ""}
    error = ""
    status = 200
    if request.method == "POST":
        retry_after = _retry_after(request)
        if retry_after is not None:
            return _too_many(request, brand, retry_after)
        values = {k: (request.POST.get(k) or "").strip()[:200] for k in values}
        order_id = selectors.shopper_order_find(
            tenant_id=brand.tenant_id, number=values["number"], contact=values["contact"]
        )
        if order_id is not None:
            request.session[_session_key(brand)] = str(order_id)
            return redirect("public-returns-order", tenant_slug=brand.slug)
        error, status = NOT_FOUND, 404
    return _page(request, "returns/public/lookup.html", brand, {"values": values, "error": error}, status=status)


def _int(value, *, default: int = 0) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _request_from(post, files, order: selectors.ShopperOrder) -> tuple[dict, list[str]]:
    """The return the form asks for (as return_request_by_shopper takes it) and the form's own problems."""
    lines, photos, problems = [], [], []
    for index, line in enumerate(order.lines):
        quantity = _int(post.get(f"quantity-{index}"))
        if quantity <= 0 or line.returnable <= 0:
            continue
        reason = (post.get(f"reason-{index}") or "").strip()
        lines.append({"sku": line.sku, "quantity": quantity, "reason": reason})
        upload = files.get(f"photo-{index}")
        if upload is not None:
            if upload.size > settings.RETURNS_PHOTO_MAX_BYTES:
                limit = settings.RETURNS_PHOTO_MAX_BYTES // (1024 * 1024)
                problems.append(f"The photo of {line.sku} is over {limit} MB.")
                continue
            photos.append(services.ShopperPhoto(sku=line.sku, content=upload.read()))
        elif selectors.photo_wanted(reason):
            problems.append(f"Add a photo of the {line.name or line.sku} for “{reason}”.")
    if not lines:
        problems.append("Choose at least one item to return.")
    resolution = (post.get("resolution") or "").strip()
    exchange = []
    if resolution == Resolution.EXCHANGE:
        sku = (post.get("exchange_sku") or "").strip()
        quantity = _int(post.get("exchange_quantity"), default=1)
        if sku:
            exchange.append({"sku": sku, "quantity": quantity})
    return {"lines": lines, "resolution": resolution, "exchange_lines": exchange, "photos": photos}, problems


@require_http_methods(["GET", "POST"])
def order_lines(request, tenant_slug):
    brand = _brand(tenant_slug)
    order_id = request.session.get(_session_key(brand))
    order = selectors.shopper_order(tenant_id=brand.tenant_id, order_id=order_id) if order_id else None
    if order is None:
        return redirect("public-returns", tenant_slug=brand.slug)
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        asked, problems = _request_from(request.POST, request.FILES, order)
        if not problems:
            try:
                with rls.tenants(brand.tenant_id):
                    done = services.return_request_by_shopper(
                        tenant_id=brand.tenant_id, order_id=order.order_id, **asked
                    )
            except services.ReturnError as refusal:
                problems = [e["message"] for e in refusal.errors] or [refusal.message]
            else:
                request.session.pop(_session_key(brand), None)
                return redirect("public-return", tenant_slug=brand.slug, token=done.rma.public_token)
        status = 422
    posted = request.POST
    context = {
        "order": order,
        "rows": [
            {
                "index": i,
                "line": line,
                "quantities": list(range(0, line.returnable + 1)),
                "quantity": _int(posted.get(f"quantity-{i}")),
                "reason": posted.get(f"reason-{i}") or "",
            }
            for i, line in enumerate(order.lines)
        ],
        "resolutions": [(r, RESOLUTION_WORDS.get(r, r)) for r in order.resolutions],
        "resolution": posted.get("resolution") or (order.resolutions[0] if order.resolutions else ""),
        "exchange_sku": posted.get("exchange_sku") or "",
        "problems": problems,
        "exchange_quantities": list(range(1, MAX_EXCHANGE_QUANTITY + 1)),
        "photo_limit_mb": settings.RETURNS_PHOTO_MAX_BYTES // (1024 * 1024),
    }
    return _page(request, "returns/public/lines.html", brand, context, status=status)


def _public_return(request, brand, token: str):
    found = selectors.public_return(tenant_id=brand.tenant_id, token=token)
    if found is None:
        raise Http404("No such return.")
    return found


@require_safe
def rma_page(request, tenant_slug, token):
    brand = _brand(tenant_slug)
    retry_after = _retry_after(request)
    if retry_after is not None:
        return _too_many(request, brand, retry_after)
    found = _public_return(request, brand, token)
    context = {
        "r": found,
        "status_words": STATUS_WORDS.get(found.rma.status, found.rma.status),
        "resolution_words": RESOLUTION_WORDS.get(found.rma.resolution, found.rma.resolution),
        "label_url": reverse("public-return-label", kwargs={"tenant_slug": brand.slug, "token": token}),
        "can_retry_label": found.label is None
        and found.rma.status == ReturnStatus.REQUESTED
        and selectors.shopper_label_possible(tenant_id=brand.tenant_id),
    }
    return _page(request, "returns/public/rma.html", brand, context)


@require_safe
def label_pdf(request, tenant_slug, token):
    brand = _brand(tenant_slug)
    retry_after = _retry_after(request)
    if retry_after is not None:
        return _too_many(request, brand, retry_after)
    found = _public_return(request, brand, token)
    with rls.tenants(brand.tenant_id):
        document = services.return_label_document(rma=found.rma)
    if document is None:
        raise Http404("This return has no label.")
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="return-label-{found.rma.number}.pdf"'
    for name, value in _HEADERS.items():
        response[name] = value
    return response


@require_POST
def label_retry(request, tenant_slug, token):
    """The shopper asks again for a label the carrier refused (or could not be reached for)."""
    brand = _brand(tenant_slug)
    retry_after = _retry_after(request)
    if retry_after is not None:
        return _too_many(request, brand, retry_after)
    found = _public_return(request, brand, token)
    try:
        with rls.tenants(brand.tenant_id):
            services.return_label_issue(return_id=found.rma.pk, actor="shopper")
    except services.ReturnError as refusal:
        return _page(request, "returns/public/label_failed.html", brand, {"r": found, "message": refusal.message},
                     status=refusal.status)  # fmt: skip
    return redirect("public-return", tenant_slug=brand.slug, token=token)


# Included by fulfillment.urls without the "returns" namespace (returns.urls.public_urlpatterns).
urlpatterns = [
    path("returns/<slug:tenant_slug>/", lookup, name="public-returns"),
    path("returns/<slug:tenant_slug>/order/", order_lines, name="public-returns-order"),
    path("returns/<slug:tenant_slug>/r/<str:token>/", rma_page, name="public-return"),
    path("returns/<slug:tenant_slug>/r/<str:token>/label.pdf", label_pdf, name="public-return-label"),
    path("returns/<slug:tenant_slug>/r/<str:token>/label/", label_retry, name="public-return-label-retry"),
]
