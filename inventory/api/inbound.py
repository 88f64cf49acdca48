"""ASNs and receiving."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from fulfillment.api.base import IsStaff, ScopedViewSet
from fulfillment.api.errors import field_error
from inventory import services
from inventory.api import serializers as s
from inventory.api.common import refusal
from inventory.models import InboundShipment, Warehouse


class InboundShipmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    """Advance shipping notices (ASNs); staff receive them into locations."""

    model = InboundShipment
    serializer_class = s.InboundShipmentSerializer
    filterset_fields = ["status"]

    def base_queryset(self, qs):
        return qs.select_related("warehouse").prefetch_related("lines__product")

    @extend_schema(request=s.InboundCreateSerializer, responses={201: s.InboundShipmentSerializer})
    def create(self, request, *args, **kwargs):
        if not self.actor.is_merchant:
            raise exceptions.PermissionDenied("ASNs are sent by merchants.")
        payload = s.InboundCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        warehouse = Warehouse.objects.filter(code=data["warehouse"].strip().upper()).first()
        if warehouse is None:
            raise field_error(f"unknown warehouse {data['warehouse']}", field="warehouse", code="unknown_warehouse")
        try:
            shipment = services.inbound_create(
                tenant_id=self.actor.tenant_id,
                warehouse=warehouse,
                reference=data["reference"],
                expected_at=data["expected_at"],
                lines=[services.InboundLineInput(**line) for line in data["lines"]],
            )
        except services.InventoryError as exc:
            raise refusal(exc) from None
        shipment = self.get_queryset().get(pk=shipment.pk)
        return Response(s.InboundShipmentSerializer(shipment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ReceiptSerializer, responses=s.InboundShipmentSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsStaff])
    def receive(self, request, pk=None):
        """Receive units into locations; stock becomes available and backorders are re-allocated."""
        shipment = self.get_object()
        payload = s.ReceiptSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            services.inbound_receive(
                shipment_id=shipment.pk,
                lines=[services.ReceiptLineInput(**line) for line in payload.validated_data["lines"]],
                actor=self.actor.label,
            )
        except services.InventoryError as exc:
            raise refusal(exc) from None
        return Response(s.InboundShipmentSerializer(self.get_queryset().get(pk=shipment.pk)).data)
