from rest_framework import serializers

from inventory.models import InboundShipment


class InboundLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    lot = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    expiry_date = serializers.DateField(required=False, allow_null=True, default=None)


class InboundCreateSerializer(serializers.Serializer):
    warehouse = serializers.CharField(max_length=20)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    expected_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    lines = InboundLineInputSerializer(many=True, allow_empty=False, max_length=1000)


class InboundLineSerializer(serializers.Serializer):
    sku = serializers.CharField(source="product.sku")
    quantity = serializers.IntegerField()
    received_quantity = serializers.IntegerField()
    lot = serializers.CharField(source="lot_code")
    expiry_date = serializers.DateField()


class InboundShipmentSerializer(serializers.ModelSerializer):
    warehouse = serializers.CharField(source="warehouse.code")
    lines = InboundLineSerializer(many=True)

    class Meta:
        model = InboundShipment
        fields = ["id", "warehouse", "reference", "expected_at", "status", "lines", "created_at", "updated_at"]


class ReceiptLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    location = serializers.CharField(max_length=30)
    lot = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    expiry_date = serializers.DateField(required=False, allow_null=True, default=None)


class ReceiptSerializer(serializers.Serializer):
    lines = ReceiptLineSerializer(many=True, allow_empty=False, max_length=1000)


class MovementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField(source="product.sku")
    lot = serializers.CharField(source="lot.code")
    from_location = serializers.CharField(source="from_location.code")
    to_location = serializers.CharField(source="to_location.code")
    quantity = serializers.IntegerField()
    reason = serializers.CharField()
    reference = serializers.CharField()
    created_at = serializers.DateTimeField()
