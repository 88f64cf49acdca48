"""What an order looks like on the way in: the one validation shared by the JSON API and the CSV import.

The serializers here check shape and types (field paths like ``lines[0].sku``); the business
checks (known SKUs, warehouse, duplicates, address rules) stay in ``orders.services``.
This module sits between the interfaces/import service and ``orders.services``: it imports
services (for ``OrderInput``), so services must never import it.
"""

from __future__ import annotations

from rest_framework import serializers

from orders import services
from orders.models import (
    GIFT_MESSAGE_MAX,
    REQUESTED_CARRIER_MAX,
    REQUESTED_SERVICE_MAX,
    Order,
    PaymentStatus,
    ShippingMethod,
    requested_code_validator,
)

MAX_LINES = 500


def requested_field(name: str, max_length: int, *, note: str = "", **kwargs) -> serializers.CharField:
    """requested_carrier / requested_service: the model field's rules and help text (plus ``note``)."""
    help_text = " ".join(filter(None, [Order._meta.get_field(name).help_text, note]))
    return serializers.CharField(
        max_length=max_length,
        required=False,
        allow_blank=True,
        validators=[requested_code_validator],
        help_text=help_text,
        **kwargs,
    )


class AddressSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    line1 = serializers.CharField(max_length=200, allow_blank=True)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    country = serializers.RegexField(r"^[A-Z]{2}$", help_text="ISO 3166-1 alpha-2, upper case")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")


class LineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )


class OrderCreateSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    shipping_method = serializers.ChoiceField(choices=ShippingMethod.choices)
    payment_status = serializers.ChoiceField(choices=PaymentStatus.choices)
    currency = serializers.RegexField(r"^[A-Z]{3}$", help_text="ISO 4217")
    ship_to = AddressSerializer()
    lines = LineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)
    warehouse = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    gift_message = serializers.CharField(
        max_length=GIFT_MESSAGE_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="Printed on a gift note in the parcel; the packing slip of a gift order shows no prices.",
    )
    requested_carrier = requested_field("requested_carrier", REQUESTED_CARRIER_MAX, default="")
    requested_service = requested_field("requested_service", REQUESTED_SERVICE_MAX, default="")


def order_input(validated: dict) -> services.OrderInput:
    """The service's input from ``OrderCreateSerializer.validated_data``."""
    return services.OrderInput(
        external_id=validated["external_id"],
        shipping_method=validated["shipping_method"],
        payment_status=validated["payment_status"],
        currency=validated["currency"],
        ship_to=dict(validated["ship_to"]),
        lines=[services.LineInput(**line) for line in validated["lines"]],
        warehouse=validated.get("warehouse", ""),
        gift_message=validated.get("gift_message", ""),
        requested_carrier=validated.get("requested_carrier", ""),
        requested_service=validated.get("requested_service", ""),
    )
