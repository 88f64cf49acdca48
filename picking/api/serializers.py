from decimal import Decimal

from rest_framework import serializers

from picking import planning
from picking.models import PickList, PickTask, Strategy, Wave


class WaveInputSerializer(serializers.Serializer):
    """What a wave takes: the warehouse, the strategy and the caps (see picking.planning)."""

    warehouse = serializers.CharField(max_length=20)
    strategy = serializers.ChoiceField(choices=Strategy.choices, default=Strategy.BATCH)
    max_orders = serializers.IntegerField(min_value=1, max_value=planning.MAX_WAVE_ORDERS, default=50)
    max_lines = serializers.IntegerField(
        min_value=1, max_value=planning.MAX_WAVE_LINES, required=False, allow_null=True, default=None
    )
    totes_per_cart = serializers.IntegerField(min_value=1, max_value=planning.MAX_TOTES_PER_CART, default=8)
    tote_volume_l = serializers.DecimalField(
        max_digits=6, decimal_places=1, min_value=Decimal("0.1"), max_value=planning.MAX_VOLUME_L, default=Decimal(40)
    )
    cart_volume_l = serializers.DecimalField(
        max_digits=6,
        decimal_places=1,
        min_value=Decimal("0.1"),
        max_value=planning.MAX_VOLUME_L,
        required=False,
        allow_null=True,
        default=None,
        help_text="Empty: totes per cart x tote volume.",
    )
    ship_by_until = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Only orders whose ship-by is at or before this."
    )
    orders = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        allow_null=True,
        default=None,
        max_length=planning.MAX_WAVE_ORDERS,
        help_text="Only these orders (e.g. the ids a preview answered); those no longer allocated are left out.",
    )


class PickListSummarySerializer(serializers.ModelSerializer):
    orders = serializers.SerializerMethodField()
    tasks_count = serializers.SerializerMethodField()
    distance_m = serializers.FloatField()

    class Meta:
        model = PickList
        fields = ["id", "zone", "single_units", "totes", "status", "orders", "tasks_count", "distance_m"]

    def get_orders(self, pick_list) -> list[str]:
        return sorted({str(t.order_id) for t in pick_list.tasks.all()})

    def get_tasks_count(self, pick_list) -> int:
        return len(pick_list.tasks.all())


class WaveSerializer(serializers.ModelSerializer):
    warehouse = serializers.CharField(source="warehouse.code")
    distance_m = serializers.FloatField()
    pick_lists = PickListSummarySerializer(many=True)

    class Meta:
        model = Wave
        fields = [
            "id",
            "warehouse",
            "strategy",
            "status",
            "cutoff",
            "order_count",
            "line_count",
            "unit_count",
            "distance_m",
            "pick_lists",
            "created_by",
            "created_at",
            "completed_at",
        ]


class WaveReleasedSerializer(WaveSerializer):
    left_out = serializers.SerializerMethodField(
        help_text="Orders named in `orders` that were no longer allocated (or over the caps) and were left out."
    )

    class Meta(WaveSerializer.Meta):
        fields = [*WaveSerializer.Meta.fields, "left_out"]

    def get_left_out(self, wave) -> int:
        return self.context.get("left_out", 0)


class PlannedListSerializer(serializers.Serializer):
    zone = serializers.CharField()
    single_units = serializers.BooleanField()
    oversize = serializers.BooleanField(help_text="An order too big for a cart's caps, on a list of its own.")
    priority = serializers.CharField(source="priority_label")
    ship_by = serializers.DateTimeField()
    orders = serializers.ListField(child=serializers.UUIDField())
    totes = serializers.IntegerField()
    tasks_count = serializers.IntegerField()
    units = serializers.IntegerField()
    volume_l = serializers.FloatField()
    distance_m = serializers.FloatField()


class CutoffGroupSerializer(serializers.Serializer):
    priority = serializers.CharField(source="label")
    shipping_method = serializers.CharField()
    ship_by = serializers.DateTimeField()
    waiting = serializers.IntegerField(help_text="Allocated orders of this cut-off group.")
    orders = serializers.IntegerField(help_text="Of them, taken into the wave.")
    lines = serializers.IntegerField()
    units = serializers.IntegerField()
    cut = serializers.BooleanField(help_text="The caps stopped the wave inside this group.")


class WavePlanSerializer(serializers.Serializer):
    """A wave as it would be released now; nothing is written."""

    strategy = serializers.CharField(source="params.strategy")
    planned_as = serializers.CharField(help_text="discrete, batch or zone: what `wave` is for this warehouse.")
    orders = serializers.ListField(child=serializers.UUIDField(), source="order_ids")
    order_count = serializers.IntegerField()
    line_count = serializers.IntegerField()
    unit_count = serializers.IntegerField()
    tasks_count = serializers.IntegerField()
    totes = serializers.IntegerField()
    cutoff = serializers.DateTimeField(allow_null=True)
    waiting = serializers.IntegerField(help_text="Allocated orders waiting in the warehouse (within ship_by_until).")
    left_waiting = serializers.IntegerField(help_text="Of them, not in this wave.")
    over_line_cap = serializers.ListField(
        child=serializers.UUIDField(),
        help_text="Orders with more lines than max_lines: no wave of that cap takes them.",
    )
    single_unit_orders = serializers.IntegerField()
    oversize_orders = serializers.IntegerField()
    distance_m = serializers.FloatField()
    fcfs_distance_m = serializers.FloatField(
        allow_null=True, help_text="The distance first-come-first-served carts of the same orders would walk."
    )
    distance_vs_fcfs = serializers.FloatField(allow_null=True)
    seconds = serializers.FloatField(help_text="Planning time.")
    groups = CutoffGroupSerializer(many=True, source="taken_groups")
    pick_lists = PlannedListSerializer(many=True, source="lists")


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
    assigned_to = serializers.SerializerMethodField(help_text="The username of the picker who took the list.")
    tasks = PickTaskSerializer(many=True)

    class Meta:
        model = PickList
        fields = [
            "id",
            "wave",
            "warehouse",
            "zone",
            "status",
            "distance_m",
            "assigned_to",
            "tasks",
            "created_at",
            "started_at",
            "completed_at",
        ]

    def get_assigned_to(self, pick_list) -> str | None:
        return pick_list.assigned_to.get_username() if pick_list.assigned_to_id else None


class PickInputSerializer(serializers.Serializer):
    task = serializers.UUIDField()
    location_barcode = serializers.CharField(max_length=64)
    product_barcode = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=0, max_value=100_000)
    short = serializers.BooleanField(default=False)


# -- the handheld scan flow (picking.services.scans) ----------------------------------------

SCAN_ACTIONS = [
    ("all", "count all the remaining units (after one product scan)"),
    ("plus", "one unit more"),
    ("minus", "one unit less"),
    ("set", "set the counted units to `quantity` (a keypad)"),
    ("short", "report a short pick: the counted units were found, the rest is missing"),
    ("confirm", "put the counted units on the cart (a task without a tote)"),
]
STEPS = [("location", "location"), ("product", "product"), ("count", "count"), ("tote", "tote"), ("done", "done")]


class PickScanInputSerializer(serializers.Serializer):
    scan_id = serializers.CharField(
        max_length=64,
        help_text="Made by the device for each scan (a UUID): a repeat is answered from the stored outcome "
        "and changes nothing.",
    )
    code = serializers.CharField(
        max_length=128,
        required=False,
        allow_blank=True,
        default="",
        help_text="What was scanned: the location, the product (any barcode, the SKU, a case barcode, a GS1-128 "
        "element string with (10) lot), or the tote. Needed unless `action` is given.",
    )
    action = serializers.ChoiceField(
        choices=SCAN_ACTIONS, required=False, allow_blank=True, default="", help_text="An on-screen button instead."
    )
    quantity = serializers.IntegerField(
        min_value=0,
        max_value=100_000,
        required=False,
        allow_null=True,
        default=None,
        help_text="For `set`: the units counted; for `short`: the units found (must be those counted).",
    )
    task = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The task the device shows: if the list moved on meanwhile, the scan is refused (409 "
        "`stale_task`) instead of applying to the next task.",
    )


# A task as the handheld shows it: PickTaskSerializer's fields and what the scan flow counts.
class PickStateTaskSerializer(PickTaskSerializer):
    product_name = serializers.CharField(source="product.name")
    remaining = serializers.IntegerField(help_text="Units still to put in the tote.")
    counted = serializers.IntegerField(source="counted_quantity", help_text="Units scanned, not yet in the tote.")

    class Meta(PickTaskSerializer.Meta):
        fields = [
            "id",
            "sequence",
            "location",
            "sku",
            "product_name",
            "lot",
            "quantity",
            "picked_quantity",
            "remaining",
            "counted",
            "location_confirmed",
            "tote",
            "order",
            "order_number",
            "status",
        ]


class ToteDropSerializer(serializers.Serializer):
    tote = serializers.CharField()
    orders = serializers.ListField(child=serializers.CharField(), help_text="Order numbers in the tote.")
    units = serializers.IntegerField()


class PickStateSerializer(serializers.Serializer):
    """Where a pick list is: what to scan next, progress, the metres left, the totes for packing."""

    pick_list = serializers.UUIDField(source="pick_list.pk")
    status = serializers.CharField(source="pick_list.status")
    assigned_to = serializers.SerializerMethodField()
    step = serializers.ChoiceField(choices=STEPS, help_text="What the current task waits for; `done`: nothing left.")
    done = serializers.BooleanField()
    task = PickStateTaskSerializer(allow_null=True, help_text="The current task; null when done.")
    counted = serializers.IntegerField()
    remaining = serializers.IntegerField()
    picks_done = serializers.IntegerField()
    picks_total = serializers.IntegerField()
    units_picked = serializers.IntegerField()
    units_total = serializers.IntegerField()
    remaining_distance_m = serializers.FloatField(
        help_text="Metres from the picker (the current location once scanned, else the last pick) through the "
        "open tasks in sequence and back to the depot."
    )
    totes = ToteDropSerializer(many=True, help_text="What each tote holds: the drop at packing.")

    def get_assigned_to(self, state) -> str | None:
        user = state.pick_list.assigned_to
        return user.get_username() if user else None


class PickScanOutcomeSerializer(serializers.Serializer):
    scan_id = serializers.CharField(source="scan.scan_id")
    kind = serializers.CharField(source="scan.kind")
    accepted = serializers.BooleanField(source="scan.accepted")
    error_code = serializers.CharField(source="scan.error_code")
    message = serializers.CharField(source="scan.message")
    quantity = serializers.IntegerField(source="scan.quantity", help_text="Units this scan counted or confirmed.")
    replayed = serializers.BooleanField(default=False, help_text="A repeated scan id: nothing was done again.")


class PickScanAnswerSerializer(PickStateSerializer):
    """The state after the scan, and what the scan did."""

    scan = PickScanOutcomeSerializer()

    def to_representation(self, result):
        body = PickStateSerializer(result.state).data
        body["scan"] = PickScanOutcomeSerializer(result).data
        return body


class ProblemErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()


class PickScanRefusedSerializer(serializers.Serializer):
    """application/problem+json: the refused scan (logged) and the unchanged state."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = ProblemErrorSerializer(many=True)
    scan = PickScanOutcomeSerializer()
    state = PickStateSerializer()


class PickListTakeSerializer(serializers.Serializer):
    user = serializers.CharField(
        max_length=150,
        required=False,
        allow_blank=True,
        default="",
        help_text="Managers: the username to hand the list to. Empty: the caller takes it.",
    )
