from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from packing.api.serializers import PackedShipmentSerializer
from packing.models import Shipment
from shipping.models import LabelPurchase, RateShop, ShippingException, TrackingEvent, TrackingState, TrackingStatus


class TrackingEventSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=TrackingStatus.choices, help_text="karrio's normalised status of the scan")
    code = serializers.CharField(help_text="The carrier's own event code")
    reason = serializers.CharField(help_text="karrio's incident reason (blank when none)")

    class Meta:
        model = TrackingEvent
        fields = ["status", "code", "reason", "description", "location", "occurred_at"]
        read_only_fields = fields


class RateShopSerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="created_at")
    quotes = serializers.JSONField(help_text="Every quote, cheapest first (as GET .../rates/ answers them)")
    chosen = serializers.IntegerField(allow_null=True, help_text="Index of the quote chosen, null when none was")
    reason = serializers.CharField(help_text="Why that quote (or why none)")
    errors = serializers.JSONField(help_text="Accounts that could not quote")


class LabelPurchaseSerializer(serializers.ModelSerializer):
    carrier = serializers.CharField(source="account.carrier_id")
    manifest = serializers.UUIDField(source="manifest_id", allow_null=True)

    class Meta:
        model = LabelPurchase
        fields = [
            "id",
            "carrier",
            "service_code",
            "status",
            "quoted_charge",
            "total_charge",
            "currency",
            "tracking_numbers",
            "reason",
            "error_code",
            "error_message",
            "manifest",
            "started_at",
            "finished_at",
            "voided_at",
        ]
        read_only_fields = fields


class OpenExceptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShippingException
        fields = ["id", "code", "message", "created_at"]
        read_only_fields = fields


def shipment_queryset(qs):
    """What the shipment serializer reads, in a few queries (labels deferred)."""
    return (
        qs.select_related("order", "warehouse")
        .prefetch_related(
            "packages__box", "tracking_events", "label_purchases__account", "rate_shops", "shipping_exceptions"
        )
        .select_related("tracking_state")
        .defer("label_pdf", "label_zpl")
    )


class ShipmentSerializer(PackedShipmentSerializer):
    label_url = serializers.SerializerMethodField(help_text="The 4x6 PDF label; null until the label is bought")
    label_zpl_url = serializers.SerializerMethodField(help_text="The same label in ZPL; null until bought")
    tracking_events = TrackingEventSerializer(
        many=True, read_only=True, help_text="Deprecated: the same list as events (kept for existing clients)"
    )
    events = TrackingEventSerializer(
        source="tracking_events", many=True, read_only=True, help_text="Every carrier scan, oldest first"
    )
    tracking_status = serializers.SerializerMethodField(
        help_text="karrio's normalised status of the newest scan; null until the label is bought"
    )
    tracking_reason = serializers.SerializerMethodField(help_text="The newest incident in words (blank when none)")
    promised_delivery_date = serializers.DateField(source="order.promised_delivery_date", read_only=True)
    delayed = serializers.SerializerMethodField(help_text="True once it cannot arrive by the promised date")
    tracking_url = serializers.SerializerMethodField(help_text="The shopper's public tracking page")
    rate_shop = serializers.SerializerMethodField(help_text="The latest round of quotes and the choice")
    label_purchases = serializers.SerializerMethodField(help_text="Every purchase attempt, newest first")
    exception = serializers.SerializerMethodField(help_text="The open shipping exception, if it waits for a person")

    class Meta(PackedShipmentSerializer.Meta):
        fields = [
            *PackedShipmentSerializer.Meta.fields,
            "label_url",
            "label_zpl_url",
            "tracking_status",
            "tracking_reason",
            "promised_delivery_date",
            "delayed",
            "tracking_url",
            "events",
            "tracking_events",
            "rate_shop",
            "label_purchases",
            "exception",
        ]
        read_only_fields = fields

    def _url(self, obj: Shipment, name: str) -> str | None:
        if not obj.has_label:
            return None
        path = reverse(name, kwargs={"pk": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @staticmethod
    def _state(obj: Shipment) -> TrackingState | None:
        try:
            return obj.tracking_state
        except TrackingState.DoesNotExist:
            return None

    @extend_schema_field(serializers.ChoiceField(choices=TrackingStatus.choices, allow_null=True))
    def get_tracking_status(self, obj: Shipment) -> str | None:
        state = self._state(obj)
        if state is not None:
            return state.status
        return TrackingStatus.PENDING if obj.has_label else None

    def get_tracking_reason(self, obj: Shipment) -> str:
        state = self._state(obj)
        return state.reason if state is not None else ""

    def get_delayed(self, obj: Shipment) -> bool:
        state = self._state(obj)
        return bool(state is not None and state.delayed_at is not None)

    @extend_schema_field(serializers.URLField())
    def get_tracking_url(self, obj: Shipment) -> str:
        path = reverse("public-tracking", kwargs={"token": obj.public_token})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_label_url(self, obj: Shipment) -> str | None:
        return self._url(obj, "shipment-label-pdf")

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_label_zpl_url(self, obj: Shipment) -> str | None:
        return self._url(obj, "shipment-label-zpl")

    @extend_schema_field(RateShopSerializer(allow_null=True))
    def get_rate_shop(self, obj: Shipment) -> dict | None:
        shops: list[RateShop] = sorted(obj.rate_shops.all(), key=lambda r: r.created_at, reverse=True)
        return RateShopSerializer(shops[0]).data if shops else None

    @extend_schema_field(LabelPurchaseSerializer(many=True))
    def get_label_purchases(self, obj: Shipment) -> list[dict]:
        purchases = sorted(obj.label_purchases.all(), key=lambda p: p.started_at, reverse=True)
        return LabelPurchaseSerializer(purchases, many=True).data

    @extend_schema_field(OpenExceptionSerializer(allow_null=True))
    def get_exception(self, obj: Shipment) -> dict | None:
        found = next((e for e in obj.shipping_exceptions.all() if e.resolved_at is None), None)
        return OpenExceptionSerializer(found).data if found else None
