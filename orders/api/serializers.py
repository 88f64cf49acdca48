from rest_framework import serializers

from orders.models import Order, OrderEvent, OrderLine, PaymentStatus, ShippingMethod


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


class AddressPatchSerializer(AddressSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


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
    lines = LineInputSerializer(many=True, allow_empty=False, max_length=500)
    warehouse = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class OrderPatchSerializer(serializers.Serializer):
    ship_to = AddressPatchSerializer(required=False)
    payment_status = serializers.ChoiceField(choices=PaymentStatus.choices, required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Send ship_to and/or payment_status.")
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
    orders = serializers.ListField(child=serializers.JSONField(), allow_empty=False, max_length=1000)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
