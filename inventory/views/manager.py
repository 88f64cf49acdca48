"""Pages for managers: the inventory list (filters, CSV export) and a product page with its ledger and demand chart.

Staff only; every figure is limited to the warehouses the user works in (inventory.selectors).
"""

from __future__ import annotations

import csv
from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_GET

from fulfillment.api.csv import csv_safe
from fulfillment.tenancy.models import Tenant
from fulfillment.tenancy.portal import staff_actor
from inventory import selectors
from inventory.models import Product

LIST_PAGE_SIZE = 100
LEDGER_PAGE_SIZE = 50
CSV_COLUMNS = [
    "tenant",
    "sku",
    "name",
    "warehouse",
    "on_hand",
    "allocated",
    "available",
    "backordered",
    "inbound",
    "reorder_point",
    "low",
]


def _filters(request) -> dict:
    tenant_id = request.GET.get("tenant", "").strip()
    tenant = Tenant.objects.filter(slug=tenant_id).first() if tenant_id else None
    return {
        "tenant": tenant,
        "tenant_slug": tenant_id,
        "warehouse": request.GET.get("warehouse", "").strip().upper(),
        "q": request.GET.get("q", "").strip()[:64],
        "low": request.GET.get("low") in {"1", "on", "true"},
    }


@require_GET
@login_required
def inventory_list(request):
    actor = staff_actor(request)
    f = _filters(request)
    rows = (
        []
        if f["tenant_slug"] and f["tenant"] is None
        else selectors.inventory_rows(
            actor=actor,
            tenant_id=f["tenant"].pk if f["tenant"] else None,
            warehouse_code=f["warehouse"],
            sku_search=f["q"],
            only_low=f["low"],
        )
    )
    if request.GET.get("export") == "csv":
        return _csv(rows)
    page = Paginator(rows, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "filters": f,
        "tenants": Tenant.objects.order_by("slug"),
        "warehouses": selectors.warehouses_for(actor),
        "query": query.urlencode(),
        "export_query": _with(query, export="csv"),
    }
    return render(request, "inventory/manager/list.html", context)


def _with(query, **extra) -> str:
    query = query.copy()
    for key, value in extra.items():
        query[key] = value
    return query.urlencode()


def _csv(rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="inventory-{date.today().isoformat()}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        cells = [
            r["tenant"].slug,
            r["product"].sku,
            r["product"].name,
            r["warehouse"].code,
            r["on_hand"],
            r["allocated"],
            r["available"],
            r["backordered"],
            r["inbound"],
            r["reorder_point"],
            "yes" if r["low"] else "no",
        ]
        # Names and SKUs come from merchants: a cell starting with = + - @ must not run as a formula.
        writer.writerow([csv_safe(cell) if isinstance(cell, str) else cell for cell in cells])
    return response


@require_GET
@login_required
def product_detail(request, product_id):
    actor = staff_actor(request)
    product = Product.objects.visible_to(actor).select_related("tenant").filter(pk=product_id).first()
    if product is None:
        raise Http404("No such product.")
    ledger = Paginator(selectors.product_ledger(actor=actor, product=product), LEDGER_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    levels = [r for r in selectors.inventory_rows(actor=actor, tenant_id=product.tenant_id) if r["product"] == product]
    series = selectors.demand_and_forecast(actor=actor, product=product)
    context = {
        "product": product,
        "levels": levels,
        "ledger": ledger,
        "series": series,
        "chart": demand_chart_svg(series["history"], series["forecast"]),
        "barcodes": product.barcode_set.order_by("pk"),
    }
    return render(request, "inventory/manager/product.html", context)


# -- the chart ---------------------------------------------------------------------------------

CHART_W, CHART_H = 720, 220
PAD_L, PAD_R, PAD_T, PAD_B = 44, 12, 12, 28


def demand_chart_svg(history: list[tuple[date, int]], forecast: list[tuple[date, float]]) -> str:
    """An inline SVG: demand per day as bars, the forecast as a dashed line; '' when there is nothing to draw.

    Drawn on the server from numbers only (dates and quantities), so no script and no outside library.
    """
    if not history and not forecast:
        return ""
    days = [d for d, _ in history] + [d for d, _ in forecast]
    first, last = min(days), max(days)
    span = max((last - first).days, 1)
    top = max([q for _, q in history] + [q for _, q in forecast] + [1])
    top = _nice(top)
    plot_w, plot_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    bar_w = max(plot_w / (span + 1) * 0.8, 1)

    def x(day: date) -> float:
        return PAD_L + (day - first).days / span * (plot_w - bar_w) + bar_w / 2

    def y(quantity: float) -> float:
        return PAD_T + plot_h - quantity / top * plot_h

    def n(value: float) -> str:  # format_html escapes its arguments into strings: format numbers first
        return f"{value:.1f}"

    bars = format_html_join(
        "",
        '<rect class="demand" x="{}" y="{}" width="{}" height="{}"><title>{}: {}</title></rect>',
        ((n(x(d) - bar_w / 2), n(y(q)), n(bar_w), n(PAD_T + plot_h - y(q)), d.isoformat(), q) for d, q in history),
    )
    line = ""
    if forecast:
        points = " ".join(f"{n(x(d))},{n(y(q))}" for d, q in forecast)
        line = format_html(
            '<polyline class="forecast" points="{}" fill="none" stroke="#d9480f" stroke-width="2" '
            'stroke-dasharray="6 4"/>',
            points,
        )
    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#dde1e6"/>'
        '<text x="{}" y="{}" text-anchor="end" font-size="11" fill="#5c6370">{}</text>',
        ((PAD_L, CHART_W - PAD_R, n(y(v)), n(y(v)), PAD_L - 6, n(y(v) + 4), _fmt(v)) for v in (0, top / 2, top)),
    )
    labels = format_html(
        '<text x="{}" y="{}" font-size="11" fill="#5c6370">{}</text>'
        '<text x="{}" y="{}" text-anchor="end" font-size="11" fill="#5c6370">{}</text>',
        PAD_L,
        CHART_H - 8,
        first.isoformat(),
        CHART_W - PAD_R,
        CHART_H - 8,
        last.isoformat(),
    )
    today = date.today()
    marker = ""
    if first <= today <= last:
        marker = format_html(
            '<line class="today" x1="{}" x2="{}" y1="{}" y2="{}" stroke="#5c6370" stroke-dasharray="2 3"/>',
            n(x(today)),
            n(x(today)),
            PAD_T,
            PAD_T + plot_h,
        )
    return format_html(
        '<svg class="demand-chart" role="img" aria-label="Daily demand and forecast" viewBox="0 0 {} {}" '
        'width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        "<style>.demand{{fill:#3b6fd8}}</style>{}{}{}{}{}</svg>",
        CHART_W,
        CHART_H,
        grid,
        bars,
        line,
        marker,
        labels,
    )


def _nice(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 5 x 10^n)."""
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if value <= factor * step:
            return factor * step
    return value


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


urlpatterns = [
    path("inventory/", inventory_list, name="manager-list"),
    path("inventory/products/<uuid:product_id>/", product_detail, name="manager-product"),
]
