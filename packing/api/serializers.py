from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from packing.models import Package, PackScan, PackSession, Shipment


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
        fields = ["id", "number", "box", "weight_g", "length_mm", "width_mm", "height_mm", "items", "tracking_number"]
        read_only_fields = fields
        extra_kwargs = {"tracking_number": {"help_text": "This parcel's own number; empty until the label is bought"}}

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


# -- pack sessions ---------------------------------------------------------------------------

MAX_WEIGHT_G = 1_000_000


class PackSessionOpenInputSerializer(serializers.Serializer):
    order = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text="The order's id or number (or give tote)"
    )
    tote = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="The barcode of the tote the order was picked into"
    )
    station = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
    warehouse = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="A warehouse code: look for the order or tote there"
    )


class PackScanInputSerializer(serializers.Serializer):
    barcode = serializers.CharField(
        max_length=128, trim_whitespace=True, help_text="A unit's GTIN / GS1 element string / barcode, or a box code"
    )
    scan_id = serializers.CharField(
        max_length=64, help_text="Made by the device for each scan; a resent scan repeats it"
    )


class PackSessionClosePackageSerializer(serializers.Serializer):
    box = serializers.CharField(max_length=30, required=False, allow_blank=True, help_text="Default: the box scanned")
    weight_g = serializers.IntegerField(
        min_value=1, max_value=MAX_WEIGHT_G, required=False, allow_null=True, help_text="From the scale"
    )
    override_reason = serializers.CharField(
        max_length=300, required=False, allow_blank=True, help_text="Why a weight outside the tolerance ships"
    )


class PackSessionCloseInputSerializer(serializers.Serializer):
    packages = PackSessionClosePackageSerializer(
        many=True,
        required=False,
        allow_null=True,
        help_text="One per package of the session that holds units, in order; leave out to take them as scanned",
    )


class PackSessionAbandonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class PackSessionUndoInputSerializer(serializers.Serializer):
    scan = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The id of the unit scan to take back (default: the last one); one already undone changes nothing",
    )


class PackSessionOrderSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField()
    tenant = serializers.UUIDField(source="tenant_id")
    status = serializers.CharField()


class PackSessionSummarySerializer(serializers.ModelSerializer):
    order = PackSessionOrderSerializer(read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)
    packer = serializers.CharField(source="packer.username", read_only=True)
    shipment = serializers.UUIDField(source="shipment_id", read_only=True, allow_null=True)

    class Meta:
        model = PackSession
        fields = ["id", "order", "status", "station", "warehouse", "packer", "opened_at", "closed_at", "shipment"]
        read_only_fields = fields


class ExpectedUnitSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField(help_text="Units to pack (picked)")
    scanned = serializers.IntegerField()
    remaining = serializers.IntegerField()
    weight_g = serializers.IntegerField(help_text="One unit's weight")
    image_url = serializers.CharField()
    barcodes = serializers.ListField(child=serializers.CharField())


class SessionPackageSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    box = serializers.SerializerMethodField(help_text="Box code; null until a box is scanned for it")
    items = PackageItemSerializer(many=True, source="items_json")
    units = serializers.IntegerField()
    expected_weight_g = serializers.IntegerField(
        help_text="The units, the box's tare, its void fill and (in the first package) the order's inserts"
    )
    weight_g = serializers.IntegerField(allow_null=True, help_text="Weighed at closing")
    override_reason = serializers.CharField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_box(self, package) -> str | None:
        return package.box.code if package.box else None


class _ExtentSerializer(serializers.Serializer):
    """Where a unit sits in its box (packing.cartonization.Placement): its corner and extents."""

    x_mm = serializers.IntegerField()
    y_mm = serializers.IntegerField()
    z_mm = serializers.IntegerField()
    length_mm = serializers.IntegerField(help_text="Extent along the box's length (x)")
    width_mm = serializers.IntegerField(help_text="Extent along the box's width (y)")
    height_mm = serializers.IntegerField(help_text="Extent up the box's height (z)")


class PlacementSerializer(_ExtentSerializer):
    item = serializers.IntegerField(help_text="Index into items")


class RecommendedPlacementSerializer(_ExtentSerializer):
    """A placement named by its unit's SKU (context ``skus``: the SKU of each item index)."""

    sku = serializers.SerializerMethodField()

    def get_sku(self, placement) -> str:
        return self.context["skus"][placement.item]


class PlannedPackageSerializer(serializers.Serializer):
    """A PlannedPackage (packing.cartonization) as the API shows it."""

    box = serializers.SerializerMethodField(help_text="Box code; null: the unit ships alone, as is")
    kind = serializers.SerializerMethodField(help_text="box, mailer or poly; null without a box")
    length_mm = serializers.IntegerField(help_text="The box's inner size, or the unit's own")
    width_mm = serializers.IntegerField()
    height_mm = serializers.IntegerField()
    fill_ratio = serializers.FloatField(help_text="Units' volume / box volume")
    weight_g = serializers.IntegerField(help_text="Contents and box tare")
    dim_weight_g = serializers.IntegerField()
    billable_weight_g = serializers.IntegerField(help_text="The larger of weight_g and dim_weight_g")
    items = PackageItemSerializer(many=True, source="items_json")
    placements = PlacementSerializer(many=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_box(self, package) -> str | None:
        return package.box.code if package.box else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_kind(self, package) -> str | None:
        return package.box.kind if package.box else None


class RecommendedPackageSerializer(PlannedPackageSerializer):
    """A pack session's recommended package: placements by SKU (context ``skus``), no DIM weight."""

    dim_weight_g = None
    placements = RecommendedPlacementSerializer(many=True)


class WeightToleranceSerializer(serializers.Serializer):
    percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    grams = serializers.IntegerField()


class PackSessionStateSerializer(serializers.Serializer):
    """A selectors.PackSessionState: everything a pack station shows."""

    id = serializers.UUIDField(source="session.id")
    status = serializers.CharField(source="session.status")
    station = serializers.CharField(source="session.station")
    warehouse = serializers.CharField(source="session.warehouse.code")
    packer = serializers.CharField(source="session.packer.username")
    opened_at = serializers.DateTimeField(source="session.opened_at")
    closed_at = serializers.DateTimeField(source="session.closed_at", allow_null=True)
    shipment = serializers.UUIDField(source="session.shipment_id", allow_null=True, help_text="Set once closed")
    order = PackSessionOrderSerializer(source="session.order")
    expected = ExpectedUnitSerializer(many=True)
    complete = serializers.BooleanField(help_text="Every unit is scanned: the session may close")
    packages = SessionPackageSerializer(many=True)
    current_package = serializers.SerializerMethodField(help_text="The package the next unit goes into")
    recommended_packages = serializers.SerializerMethodField()
    weight_tolerance = serializers.SerializerMethodField(help_text="The larger of percent and grams")

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_current_package(self, state) -> int | None:
        return state.current_package.number if state.current_package else None

    @extend_schema_field(RecommendedPackageSerializer(many=True))
    def get_recommended_packages(self, state) -> list[dict]:
        return RecommendedPackageSerializer(state.recommended, many=True, context={"skus": state.recommended_skus}).data

    @extend_schema_field(WeightToleranceSerializer)
    def get_weight_tolerance(self, state) -> dict:
        return WeightToleranceSerializer({"percent": state.tolerance.percent, "grams": state.tolerance.grams}).data


class PackScanSerializer(serializers.ModelSerializer):
    package = serializers.IntegerField(source="package.number", allow_null=True, read_only=True)

    class Meta:
        model = PackScan
        fields = ["id", "scan_id", "barcode", "sku", "quantity", "result", "code", "message", "package", "created_at"]
        read_only_fields = fields


class PackScanAnswerSerializer(serializers.Serializer):
    scan = PackScanSerializer()
    replayed = serializers.BooleanField(help_text="The scan id was seen before: its first outcome, nothing changed")
    session = PackSessionStateSerializer()
