from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from packing.api.serializers import PackedShipmentSerializer
from packing.models import Shipment
from shipping.models import TrackingEvent


class TrackingEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackingEvent
        fields = ["code", "description", "location", "occurred_at"]
        read_only_fields = fields


class ShipmentSerializer(PackedShipmentSerializer):
    label_url = serializers.SerializerMethodField(help_text="The 4x6 PDF label; null until the label is bought")
    label_zpl_url = serializers.SerializerMethodField(help_text="The same label in ZPL; null until bought")
    tracking_events = TrackingEventSerializer(many=True, read_only=True)

    class Meta(PackedShipmentSerializer.Meta):
        fields = [*PackedShipmentSerializer.Meta.fields, "label_url", "label_zpl_url", "tracking_events"]
        read_only_fields = fields

    def _url(self, obj: Shipment, name: str) -> str | None:
        if not obj.has_label:
            return None
        path = reverse(name, kwargs={"pk": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_label_url(self, obj: Shipment) -> str | None:
        return self._url(obj, "shipment-label-pdf")

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_label_zpl_url(self, obj: Shipment) -> str | None:
        return self._url(obj, "shipment-label-zpl")
