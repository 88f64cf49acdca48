from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins

from fulfillment.api.base import ScopedViewSet
from fulfillment.api.documents import FirstRendererNegotiation, document_response
from packing.models import Shipment, ShipmentStatus
from shipping import services
from shipping.api.serializers import ShipmentSerializer, shipment_queryset

PROBLEM = OpenApiResponse(description="Problem document (application/problem+json)")
NO_LABEL = "No label has been bought for this shipment yet."


class ShipmentFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=ShipmentStatus.choices)
    order = filters.UUIDFilter(field_name="order_id")
    tracking_number = filters.CharFilter()
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Shipment
        fields = ["status", "order", "tracking_number"]


class ShipmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Shipments: merchants see their own; staff see those of their warehouses."""

    model = Shipment
    serializer_class = ShipmentSerializer
    filterset_class = ShipmentFilter

    def base_queryset(self, qs):
        return shipment_queryset(qs)


class ShipmentLabelViewSet(ScopedViewSet):
    """The label of a shipment as a 4x6 PDF or ZPL; 404 until it is bought."""

    model = Shipment
    content_negotiation_class = FirstRendererNegotiation

    def _bought(self) -> Shipment:
        shipment = self.get_object()
        if not shipment.has_label:
            raise exceptions.NotFound(NO_LABEL)
        return shipment

    @extend_schema(
        operation_id="v1_shipments_label_pdf_retrieve",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: PROBLEM},
    )
    def label_pdf(self, request, pk=None):
        shipment = self._bought()
        document = services.label_document(shipment=shipment, kind="pdf")
        if document is None:
            raise exceptions.NotFound("This carrier's label cannot be had as PDF.")
        return document_response(
            document,
            content_type="application/pdf",
            filename=f"label-{shipment.tracking_number}.pdf",
        )

    @extend_schema(
        operation_id="v1_shipments_label_zpl_retrieve",
        responses={(200, "application/x-zpl"): OpenApiTypes.STR, 404: PROBLEM},
    )
    def label_zpl(self, request, pk=None):
        shipment = self._bought()
        document = services.label_document(shipment=shipment, kind="zpl")
        if document is None:
            raise exceptions.NotFound("This carrier's label cannot be had as ZPL.")
        return document_response(
            document, content_type="application/x-zpl", filename=f"label-{shipment.tracking_number}.zpl"
        )
