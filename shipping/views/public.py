"""``/track/<token>/``: the shopper's tracking page, public (no login), branded with the merchant's
name, colour and logo. It shows where the parcel is and the carrier's scans, and of the address
only the destination city and country. Rate-limited per client address (``TRACKING_PAGE_RATE``),
so that tokens cannot be guessed at speed; every request counts, found or not."""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe

from shipping import selectors_tracking as selectors
from shipping.models import TrackingStatus

# What each status tells the shopper.
STATUS_WORDS = {
    TrackingStatus.PENDING: "Label created",
    TrackingStatus.PICKED_UP: "Picked up by the carrier",
    TrackingStatus.IN_TRANSIT: "On its way",
    TrackingStatus.OUT_FOR_DELIVERY: "Out for delivery",
    TrackingStatus.DELIVERED: "Delivered",
    TrackingStatus.ON_HOLD: "Held by the carrier",
    TrackingStatus.DELIVERY_DELAYED: "Delayed",
    TrackingStatus.DELIVERY_FAILED: "Delivery attempt failed",
    TrackingStatus.READY_FOR_PICKUP: "Ready for pickup",
    TrackingStatus.RETURN_TO_SENDER: "Returning to the sender",
    TrackingStatus.CANCELLED: "Cancelled",
    TrackingStatus.UNKNOWN: "Update from the carrier",
}
NOT_LABELLED_WORDS = "Being prepared for shipping"
# The packing slip's accent when the merchant chose none (packing.documents.DEFAULT_ACCENT: black).
DEFAULT_BRAND_COLOR = "#000000"
_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_HEADERS = {
    "X-Robots-Tag": "noindex, nofollow",
    # The token is in the URL: no request from the page (the logo, a link) may carry it elsewhere.
    "Referrer-Policy": "no-referrer",
}


def _retry_after(request) -> int | None:
    """Seconds until this client may ask again once over ``TRACKING_PAGE_RATE`` (a fixed window
    counted in the cache), else None. The client is REMOTE_ADDR: behind a proxy, the proxy must
    set it to the shopper's address."""
    rate = settings.TRACKING_PAGE_RATE
    if not rate:
        return None
    count, unit = rate.split("/")
    limit, period = int(count), _PERIOD_SECONDS[unit]
    now = time.time()
    window = int(now // period)
    key = f"public-tracking:{period}:{window}:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, timeout=period)
    try:
        used = cache.incr(key)
    except ValueError:  # the entry expired between add and incr
        cache.set(key, 1, timeout=period)
        used = 1
    if used <= limit:
        return None
    return max(1, math.ceil((window + 1) * period - now))


def _text_color(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (#RRGGBB), by relative luminance."""
    red, green, blue = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    return "#000000" if luminance > 0.179 else "#FFFFFF"


@require_safe
def tracking_page(request, token):
    retry_after = _retry_after(request)
    if retry_after is not None:
        response = render(request, "shipping/public/too_many.html", {"retry_after": retry_after}, status=429)
        response["Retry-After"] = str(retry_after)
        response["Cache-Control"] = "no-store"
        for name, value in _HEADERS.items():
            response[name] = value
        return response
    tracking = selectors.public_tracking(token=token)
    if tracking is None:
        raise Http404("No such shipment.")
    color = tracking.brand_color or DEFAULT_BRAND_COLOR
    if tracking.has_label or tracking.status != TrackingStatus.PENDING:
        status_words = STATUS_WORDS.get(tracking.status, tracking.status)
    else:
        status_words = NOT_LABELLED_WORDS
    context = {
        "t": tracking,
        "status_words": status_words,
        "events": [{"event": e, "words": STATUS_WORDS.get(e.status, e.status)} for e in tracking.events],
        "brand_color": color,
        "brand_text": _text_color(color),
    }
    response = render(request, "shipping/public/tracking.html", context)
    # The shopper's browser may keep it a minute; shared caches never (it is one shopper's parcel).
    response["Cache-Control"] = "private, max-age=60"
    for name, value in _HEADERS.items():
        response[name] = value
    return response


# Included by fulfillment.urls without the "shipping" namespace: the page is "public-tracking".
urlpatterns = [
    path("track/<str:token>/", tracking_page, name="public-tracking"),
]
