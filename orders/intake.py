"""A fast path for reading order payloads in bulk.

``quick_order_input(item)`` accepts only payloads that ``orders.inputs.OrderCreateSerializer`` would
accept unchanged (plain types, nothing to trim or coerce) and returns the same ``OrderInput`` the
serializer's data would give. Anything else returns None, and the caller validates that item with
the serializer, which produces the exact field errors. So the fast path can only be narrower than
the serializer, never wider: a test holds the two to the same output on generated payloads.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from orders.models import GIFT_MESSAGE_MAX, REQUESTED_CARRIER_MAX, REQUESTED_SERVICE_MAX, PaymentStatus, ShippingMethod
from orders.services import LineInput, OrderInput

_METHODS = frozenset(ShippingMethod.values)
_PAYMENTS = frozenset(PaymentStatus.values)
_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_PRICE = re.compile(r"\d{1,10}(\.\d{1,2})?")
_REQUESTED_CODE = re.compile(r"[a-z0-9_-]*")  # orders.models.requested_code_validator
# Address fields: (max length, required, blank allowed); mirrors orders.inputs.AddressSerializer.
_ADDRESS = {
    "name": (200, True, False),
    "company": (200, False, True),
    "line1": (200, True, True),
    "line2": (200, False, True),
    "city": (100, False, True),
    "region": (100, False, True),
    "postal_code": (20, False, True),
    "phone": (40, False, True),
}
_CENT = Decimal("0.01")
MAX_LINES = 500
MAX_QUANTITY = 100_000


def _plain(value, max_length: int, *, blank: bool) -> bool:
    """A string the serializer keeps as it is: no surrounding space, no NUL, no surrogate."""
    if type(value) is not str or len(value) > max_length:
        return False
    if not value:
        return blank
    if value[0].isspace() or value[-1].isspace() or "\x00" in value:
        return False
    return value.isascii() or not any("\ud800" <= ch <= "\udfff" for ch in value)


def _requested_code(value, max_length: int) -> bool:
    return type(value) is str and len(value) <= max_length and _REQUESTED_CODE.fullmatch(value) is not None


def _address(raw) -> dict | None:
    if type(raw) is not dict:
        return None
    out = {}
    for name, (max_length, required, blank) in _ADDRESS.items():
        if name not in raw:
            if required:
                return None
            out[name] = ""
            continue
        if not _plain(raw[name], max_length, blank=blank):
            return None
        out[name] = raw[name]
    country = raw.get("country")
    if type(country) is not str or not _COUNTRY.fullmatch(country):
        return None
    out["country"] = country
    email = raw.get("email", "")
    if not _plain(email, 254, blank=True):
        return None
    if email:
        try:
            validate_email(email)
        except ValidationError:
            return None
    out["email"] = email
    # The serializer's field order, so that stored addresses look the same either way.
    return {key: out[key] for key in _ORDER}


_ORDER = ("name", "company", "line1", "line2", "city", "region", "postal_code", "country", "phone", "email")


def _line(raw) -> LineInput | None:
    if type(raw) is not dict:
        return None
    sku, quantity = raw.get("sku"), raw.get("quantity")
    if not _plain(sku, 64, blank=False) or type(quantity) is not int or not 1 <= quantity <= MAX_QUANTITY:
        return None
    price = raw.get("unit_price")
    if price is None:
        return LineInput(sku=sku, quantity=quantity, unit_price=None)
    if type(price) is str and _PRICE.fullmatch(price):
        return LineInput(sku=sku, quantity=quantity, unit_price=Decimal(price).quantize(_CENT))
    if type(price) is int and 0 <= price < 10**10:
        return LineInput(sku=sku, quantity=quantity, unit_price=Decimal(price).quantize(_CENT))
    return None


def quick_order_input(item) -> OrderInput | None:
    """The OrderInput of a plainly valid payload, or None to let the serializer decide."""
    if type(item) is not dict:
        return None
    external_id, method, payment = item.get("external_id"), item.get("shipping_method"), item.get("payment_status")
    currency, warehouse = item.get("currency"), item.get("warehouse", "")
    if not _plain(external_id, 100, blank=False) or type(method) is not str or type(payment) is not str:
        return None
    if method not in _METHODS or payment not in _PAYMENTS:
        return None
    if type(currency) is not str or not _CURRENCY.fullmatch(currency) or not _plain(warehouse, 20, blank=True):
        return None
    gift_message = item.get("gift_message", "")
    if not _plain(gift_message, GIFT_MESSAGE_MAX, blank=True):
        return None
    carrier, service = item.get("requested_carrier", ""), item.get("requested_service", "")
    if not _requested_code(carrier, REQUESTED_CARRIER_MAX) or not _requested_code(service, REQUESTED_SERVICE_MAX):
        return None
    ship_to = _address(item.get("ship_to"))
    raw_lines = item.get("lines")
    if ship_to is None or type(raw_lines) is not list or not 1 <= len(raw_lines) <= MAX_LINES:
        return None
    lines = []
    for raw in raw_lines:
        line = _line(raw)
        if line is None:
            return None
        lines.append(line)
    return OrderInput(
        external_id=external_id,
        shipping_method=method,
        payment_status=payment,
        currency=currency,
        ship_to=ship_to,
        lines=lines,
        warehouse=warehouse,
        gift_message=gift_message,
        requested_carrier=carrier,
        requested_service=service,
    )
