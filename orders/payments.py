"""Payment holds through a pluggable verifier.

An operator plugs in a real check (a payment provider's API, a fraud score) by naming a class
in the setting ``ORDER_PAYMENT_VERIFIER`` (env var of the same name): it is instantiated
without arguments and its ``holds(order_data=...)`` answers the hold reasons
(``HoldReason.PAYMENT_PENDING`` / ``HoldReason.PAYMENT_FAILED``) of an order, [] to let it go.
``order_data`` is what the caller has: an ``OrderInput`` at intake, the ``Order`` on update, or
a mapping; each has ``payment_status``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from orders.models import HoldReason, PaymentStatus

DEFAULT_PAYMENT_VERIFIER = "orders.payments.StatusPaymentVerifier"


@runtime_checkable
class PaymentVerifier(Protocol):
    def holds(self, *, order_data) -> list[str]:
        """The payment hold reasons of the order (HoldReason values); [] when it may go ahead."""
        ...


def payment_status_of(order_data) -> str:
    if isinstance(order_data, Mapping):
        return order_data.get("payment_status") or ""
    return getattr(order_data, "payment_status", "") or ""


class StatusPaymentVerifier:
    """Trusts the merchant's payment_status: pending and failed hold the order, paid and authorized do not."""

    HOLDS = {
        PaymentStatus.PAID: [],
        PaymentStatus.AUTHORIZED: [],
        PaymentStatus.PENDING: [HoldReason.PAYMENT_PENDING],
        PaymentStatus.FAILED: [HoldReason.PAYMENT_FAILED],
    }

    def holds(self, *, order_data) -> list[str]:
        status = payment_status_of(order_data)
        try:
            return list(self.HOLDS[status])
        except KeyError:
            raise ValueError(f"unknown payment_status {status!r}") from None


def payment_verifier() -> PaymentVerifier:
    """The verifier the setting ORDER_PAYMENT_VERIFIER names (one instance per dotted path)."""
    return _verifier(getattr(settings, "ORDER_PAYMENT_VERIFIER", "") or DEFAULT_PAYMENT_VERIFIER)


@lru_cache(maxsize=8)
def _verifier(path: str) -> PaymentVerifier:
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"ORDER_PAYMENT_VERIFIER {path!r} cannot be imported: {exc}") from None
    try:
        verifier = cls()
    except TypeError as exc:
        raise ImproperlyConfigured(
            f"ORDER_PAYMENT_VERIFIER {path!r} must be a class that takes no arguments: {exc}"
        ) from None
    if not callable(getattr(verifier, "holds", None)):
        raise ImproperlyConfigured(f"ORDER_PAYMENT_VERIFIER {path!r} has no holds(*, order_data) method")
    return verifier
