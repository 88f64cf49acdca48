"""``/track/<token>/``: the shopper's tracking page, public (no login), branded with the merchant's
name, colour and logo. It shows where the parcel is and the carrier's scans, and of the address
only the destination city and country. Rate-limited per client address (``TRACKING_PAGE_RATE``),
so that tokens cannot be guessed at speed; every request counts, found or not."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe

from fulfillment import public_pages
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
_HEADERS = {
    "X-Robots-Tag": "noindex, nofollow",
    # The token is in the URL: no request from the page (the logo, a link) may carry it elsewhere.
    "Referrer-Policy": "no-referrer",
}


@require_safe
def tracking_page(request, token):
    retry_after = public_pages.retry_after(request, rate=settings.TRACKING_PAGE_RATE, scope="public-tracking")
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
        "brand_text": public_pages.text_color(color),
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
