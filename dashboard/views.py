"""Manager dashboard pages: thin views over dashboard.selectors."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from dashboard import selectors
from fulfillment.tenancy.authentication import actor_for_user, merchant_actor_for_user
from fulfillment.tenancy.portal import PORTAL_HOME, login_redirect
from orders.models import Status
from picking.selectors_performance import IDLE_GAP_CAP_MINUTES

RECENT_ORDERS = 20
REFRESH_SECONDS = 15


def staff_required(view):
    """Log in first (anonymous users go to the login page); then staff only (others get 403).

    The view receives the request's actor as ``actor``. An htmx poll whose session has expired
    is sent to the login page as a whole page (HX-Redirect), not swapped into the table.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return login_redirect(request)
        actor = actor_for_user(request.user)
        if actor is None:
            if merchant_actor_for_user(request.user) is not None:
                # Merchants land here after logging in (LOGIN_REDIRECT_URL is "/"): their home is the portal.
                return redirect(PORTAL_HOME)
            raise PermissionDenied("The dashboard is for warehouse staff.")
        return view(request, *args, actor=actor, **kwargs)

    return wrapper


def _age(seconds: int) -> str:
    """How old a cached figure may be, in words: "a minute", "2 minutes", "30 seconds"."""
    if seconds % 60:
        return f"{seconds} seconds"
    minutes = seconds // 60
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def _count_rows(counts: dict[str, int]) -> list[dict]:
    return [{"status": status, "label": Status(status).label, "count": n} for status, n in counts.items()]


def _counts_context(actor) -> dict:
    counts = selectors.order_counts_by_status(actor=actor)
    return {"count_rows": _count_rows(counts), "total": sum(counts.values()), "refresh_seconds": REFRESH_SECONDS}


@require_GET
@staff_required
def home(request, *, actor):
    warehouses = selectors.assigned_warehouses(actor=actor)
    context = {
        **_counts_context(actor),
        "orders": selectors.recent_orders(actor=actor, limit=RECENT_ORDERS),
        **selectors.stock_alerts(actor=actor),
        "recent_limit": RECENT_ORDERS,
        "sees_all_warehouses": actor.sees_all_warehouses,
        "warehouse_codes": [w.code for w in warehouses],
        "picking_rows": selectors.picking_today(actor=actor, warehouses=warehouses),
        "picking_several_warehouses": len(warehouses) > 1,
        "picking_idle_minutes": IDLE_GAP_CAP_MINUTES,
        "picking_cache_age": _age(selectors.PICKING_CACHE_SECONDS),
        "is_manager": actor.is_manager,
    }
    return render(request, "dashboard/home.html", context)


@require_GET
@staff_required
def counts(request, *, actor):
    """The counts table alone, polled by htmx every REFRESH_SECONDS."""
    return render(request, "dashboard/_counts.html", _counts_context(actor))
