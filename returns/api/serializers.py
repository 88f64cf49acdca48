from rest_framework import serializers

from returns.models import Disposition, Grade, Return, ReturnLine, ReturnReceipt


class ReturnLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReturnLine
        fields = ["sku", "quantity", "reason", "received_quantity", "condition", "disposition"]
        read_only_fields = fields


class ReturnReceiptSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="line.sku")
    condition = serializers.ChoiceField(source="grade", choices=Grade.choices, help_text="The grade found")
    location = serializers.CharField(source="location.code", allow_null=True, default=None)

    class Meta:
        model = ReturnReceipt
        fields = ["sku", "quantity", "condition", "disposition", "location", "note", "received_at", "actor"]
        read_only_fields = fields


class ReturnSerializer(serializers.ModelSerializer):
    order = serializers.UUIDField(source="order_id", read_only=True, help_text="The order's id")
    order_number = serializers.CharField(source="order.number", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True, help_text="The warehouse code")
    lines = ReturnLineSerializer(many=True, read_only=True)
    receipts = ReturnReceiptSerializer(
        many=True, read_only=True, help_text="Each parcel's units as received, oldest first"
    )

    class Meta:
        model = Return
        fields = [
            "id",
            "number",
            "order",
            "order_number",
            "warehouse",
            "status",
            "lines",
            "receipts",
            "created_at",
            "updated_at",
            "received_at",
        ]
        read_only_fields = fields


class ReturnLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    reason = serializers.CharField(max_length=200)


class ReturnCreateSerializer(serializers.Serializer):
    order = serializers.UUIDField(help_text="The id of one of your shipped or delivered orders")
    lines = ReturnLineInputSerializer(many=True, allow_empty=False, max_length=500)


class ReceiptLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    condition = serializers.ChoiceField(choices=Grade.choices, help_text="The grade the inspection found")
    note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="The inspector's words"
    )
    disposition = serializers.ChoiceField(choices=Disposition.choices)
    location = serializers.CharField(
        max_length=30,
        required=False,
        allow_blank=True,
        default="",
        help_text="restock only: the sellable location (barcode) to put the units; default: a suggested one",
    )


class ReturnReceiveSerializer(serializers.Serializer):
    lines = ReceiptLineInputSerializer(many=True, allow_empty=False, max_length=500)
