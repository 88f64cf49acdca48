from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from packing.models import Package, Shipment


class PackItemInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class PackPackageInputSerializer(serializers.Serializer):
    box = serializers.CharField(max_length=30, help_text="A box code from GET /api/v1/boxes/")
    weight_g = serializers.IntegerField(
        min_value=1,
        max_value=1_000_000,
        required=False,
        help_text="Weighed gross weight; default: contents plus the box's tare weight",
    )
    items = PackItemInputSerializer(many=True, allow_empty=False)


class PackInputSerializer(serializers.Serializer):
    packages = PackPackageInputSerializer(
        many=True,
        required=False,
        allow_null=True,
        help_text="How the order was packed; must hold exactly the picked units. "
        "Leave out (or empty) to use the recommended cartonization.",
    )


class PackageItemSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


class PackageSerializer(serializers.ModelSerializer):
    box = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="Box code; null when the item ships in its own packaging"
    )
    items = serializers.SerializerMethodField()

    class Meta:
        model = Package
        fields = ["id", "number", "box", "weight_g", "length_mm", "width_mm", "height_mm", "items"]
        read_only_fields = fields

    @extend_schema_field(PackageItemSerializer(many=True))
    def get_items(self, obj: Package) -> list[dict]:
        return obj.items


class RateSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()


class PackedShipmentSerializer(serializers.ModelSerializer):
    """The shipment as packing knows it; shipping's Shipment adds label URLs and tracking events."""

    order = serializers.UUIDField(source="order_id", read_only=True)
    order_number = serializers.CharField(source="order.number", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)
    carrier = serializers.CharField(source="carrier_code", read_only=True, help_text="Empty until the label is bought")
    service = serializers.CharField(source="service_code", read_only=True, help_text="Empty until the label is bought")
    rate = serializers.SerializerMethodField()
    packages = PackageSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "order",
            "order_number",
            "warehouse",
            "status",
            "carrier",
            "service",
            "tracking_number",
            "rate",
            "estimated_delivery_date",
            "packages",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RateSerializer(allow_null=True))
    def get_rate(self, obj: Shipment) -> dict | None:
        if obj.rate_amount is None:
            return None
        return {"amount": f"{obj.rate_amount:.2f}", "currency": obj.rate_currency}
