from rest_framework import serializers

from orders.inputs import (  # noqa: F401  (re-exported: the input serializers live with the CSV import)
    AddressSerializer,
    LineInputSerializer,
    OrderCreateSerializer,
    requested_field,
)
from orders.models import (
    GIFT_MESSAGE_MAX,
    REQUESTED_CARRIER_MAX,
    REQUESTED_SERVICE_MAX,
    Order,
    OrderEvent,
    OrderLine,
    PaymentStatus,
)

_UNTIL_PACKED = "Changeable until the order is packed; an empty string removes it."


# One row of GET /inventory/ (InventoryLevelView): stock with the orders that wait for it.
class InventoryLevelSerializer(serializers.Serializer):
    sku = serializers.CharField()
    product = serializers.UUIDField()
    warehouse = serializers.CharField()
    on_hand = serializers.IntegerField()
    allocated = serializers.IntegerField()
    available = serializers.IntegerField()
    backordered = serializers.IntegerField()
    inbound = serializers.IntegerField()


class AddressPatchSerializer(AddressSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


class OrderPatchSerializer(serializers.Serializer):
    ship_to = AddressPatchSerializer(required=False)
    payment_status = serializers.ChoiceField(choices=PaymentStatus.choices, required=False)
    gift_message = serializers.CharField(
        max_length=GIFT_MESSAGE_MAX,
        required=False,
        allow_blank=True,
        help_text="Replaces the gift message; an empty string removes it (the slip shows prices again).",
    )
    requested_carrier = requested_field("requested_carrier", REQUESTED_CARRIER_MAX, note=_UNTIL_PACKED)
    requested_service = requested_field("requested_service", REQUESTED_SERVICE_MAX, note=_UNTIL_PACKED)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                "Send ship_to, payment_status, gift_message, requested_carrier and/or requested_service."
            )
        return attrs


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = [
            "id",
            "sku",
            "quantity",
            "unit_price",
            "allocated_quantity",
            "backordered_quantity",
            "picked_quantity",
            "shipped_quantity",
        ]


class OrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ["type", "from_status", "to_status", "message", "data", "actor", "created_at"]


class ShipmentSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    carrier = serializers.CharField(source="carrier_code")
    service = serializers.CharField(source="service_code")
    tracking_number = serializers.CharField()
    estimated_delivery_date = serializers.DateField(allow_null=True)


class OrderSerializer(serializers.ModelSerializer):
    warehouse = serializers.CharField(source="warehouse.code")
    lines = OrderLineSerializer(many=True)
    shipments = serializers.SerializerMethodField()
    timeline = OrderEventSerializer(many=True, source="events")

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "external_id",
            "status",
            "hold_reasons",
            "address_errors",
            "priority",
            "shipping_method",
            "payment_status",
            "currency",
            "ship_to",
            "warehouse",
            "ship_by",
            "promised_delivery_date",
            "gift_message",
            "requested_carrier",
            "requested_service",
            "lines",
            "shipments",
            "timeline",
            "created_at",
            "updated_at",
        ]

    def get_shipments(self, order) -> list[dict]:
        # Shipments belong to a later stage (packing); they are read through the reverse
        # relation so that orders does not import upward.
        related = getattr(order, "shipments", None)
        if related is None:
            return []
        return ShipmentSummarySerializer(related.all(), many=True).data


class OrderListSerializer(OrderSerializer):
    class Meta(OrderSerializer.Meta):
        fields = [f for f in OrderSerializer.Meta.fields if f not in {"timeline", "shipments", "address_errors"}]


class BulkSerializer(serializers.Serializer):
    orders = serializers.ListField(child=serializers.JSONField(allow_null=True), allow_empty=False, max_length=1000)


_DATETIME = serializers.DateTimeField()
_PRICE = serializers.DecimalField(max_digits=12, decimal_places=2)


def order_row_answer(row: dict) -> dict:
    """``OrderListSerializer``'s answer for an order just written by bulk intake, from the row in memory
    (no re-read; a test holds the two equal)."""
    return {
        "id": str(row["id"]),
        "number": row["number"],
        "external_id": row["external_id"],
        "status": row["status"],
        "hold_reasons": row["hold_reasons"],
        "priority": row["priority"],
        "shipping_method": row["shipping_method"],
        "payment_status": row["payment_status"],
        "currency": row["currency"],
        "ship_to": row["ship_to"],
        "warehouse": row["warehouse"].code,
        "ship_by": _DATETIME.to_representation(row["ship_by"]),
        "promised_delivery_date": row["promised_delivery_date"].isoformat(),
        "gift_message": row["gift_message"],
        "requested_carrier": row["requested_carrier"],
        "requested_service": row["requested_service"],
        "lines": [
            {
                "id": line_id,
                "sku": sku,
                "quantity": quantity,
                "unit_price": None if price is None else _PRICE.to_representation(price),
                "allocated_quantity": 0,
                "backordered_quantity": 0,
                "picked_quantity": 0,
                "shipped_quantity": 0,
            }
            # (tenant, order, product, sku, quantity, unit_price, ...): orders.services.intake._LINE_COLUMNS
            for line_id, (_, _, _, sku, quantity, price, *_) in zip(row["line_ids"], row["lines"], strict=True)
        ],
        "created_at": _DATETIME.to_representation(row["created_at"]),
        "updated_at": _DATETIME.to_representation(row["updated_at"]),
    }


class BulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=[201, 409, 422])
    order = OrderListSerializer(required=False, help_text="201: the created order")
    errors = serializers.ListField(child=serializers.DictField(), required=False, help_text="409/422: field errors")
    existing_order_id = serializers.UUIDField(required=False, allow_null=True, help_text="409: the existing order")


class BulkResultsSerializer(serializers.Serializer):
    results = BulkResultSerializer(many=True)


class HoldSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="Why the order is held; shown on the timeline")


class ReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
