from rest_framework import serializers

from picking.models import PickList, PickTask, Strategy, Wave


class WaveCreateSerializer(serializers.Serializer):
    warehouse = serializers.CharField(max_length=20)
    strategy = serializers.ChoiceField(choices=Strategy.choices, default=Strategy.BATCH)
    max_orders = serializers.IntegerField(min_value=1, max_value=1000, default=50)


class PickListSummarySerializer(serializers.ModelSerializer):
    orders = serializers.SerializerMethodField()
    tasks_count = serializers.SerializerMethodField()
    distance_m = serializers.FloatField()

    class Meta:
        model = PickList
        fields = ["id", "zone", "status", "orders", "tasks_count", "distance_m"]

    def get_orders(self, pick_list) -> list[str]:
        return sorted({str(t.order_id) for t in pick_list.tasks.all()})

    def get_tasks_count(self, pick_list) -> int:
        return len(pick_list.tasks.all())


class WaveSerializer(serializers.ModelSerializer):
    warehouse = serializers.CharField(source="warehouse.code")
    pick_lists = PickListSummarySerializer(many=True)

    class Meta:
        model = Wave
        fields = ["id", "warehouse", "strategy", "status", "pick_lists", "created_at", "completed_at"]


class PickTaskSerializer(serializers.ModelSerializer):
    location = serializers.CharField(source="location.code")
    sku = serializers.CharField(source="product.sku")
    lot = serializers.CharField(source="lot.code")
    order = serializers.UUIDField(source="order_id")
    order_number = serializers.CharField(source="order.number")

    class Meta:
        model = PickTask
        fields = [
            "id",
            "sequence",
            "location",
            "sku",
            "lot",
            "quantity",
            "picked_quantity",
            "tote",
            "order",
            "order_number",
            "status",
        ]


class PickListSerializer(serializers.ModelSerializer):
    wave = serializers.UUIDField(source="wave_id")
    warehouse = serializers.CharField(source="warehouse.code")
    distance_m = serializers.FloatField()
    tasks = PickTaskSerializer(many=True)

    class Meta:
        model = PickList
        fields = ["id", "wave", "warehouse", "zone", "status", "distance_m", "tasks", "created_at", "completed_at"]


class PickInputSerializer(serializers.Serializer):
    task = serializers.UUIDField()
    location_barcode = serializers.CharField(max_length=64)
    product_barcode = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=0, max_value=100_000)
    short = serializers.BooleanField(default=False)
