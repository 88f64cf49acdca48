"""Helpers shared by the shipping pages."""

from __future__ import annotations

from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from shipping.models import ExceptionCode

# What each code means, in words a person at the dock acts on.
IN_WORDS = {
    ExceptionCode.NO_QUOTE: "No carrier quotes it",
    ExceptionCode.CARRIER_REFUSED: "The carrier refused",
    ExceptionCode.LABEL_FAILED: "The carrier could not be reached",
    ExceptionCode.PURCHASE_INTERRUPTED: "Purchase interrupted: check the carrier",
}


def next_url(request, default: str) -> str:
    """Where to go after a POST: the form's ``next`` when it is a path of this site, else ``default``."""
    candidate = request.POST.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def shipment_url(shipment_id) -> str:
    return reverse("shipping:shipment", args=[shipment_id])
