from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.api.base import ActorMixin, IsStaff, ScopedViewSet
from fulfillment.api.errors import Conflict, field_error
from fulfillment.tenancy.models import Tenant
from inventory import services
from inventory.api import serializers as s
from inventory.models import InboundShipment, Location, Product, StockMovement, Warehouse


def _refusal(exc: services.InventoryError):
    if exc.code == "duplicate":
        return Conflict(str(exc))
    if exc.code == "not_found":
        return exceptions.NotFound(str(exc))
    return field_error(str(exc), field=exc.field, code=exc.code)


class ProductViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ScopedViewSet
):
    """The merchant's catalog. Staff may read every tenant's products."""

    model = Product
    serializer_class = s.ProductSerializer
    filterset_fields = ["sku"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def base_queryset(self, qs):
        return qs.prefetch_related("barcode_set")

    def get_serializer_class(self):
        return s.ProductUpdateSerializer if self.action == "partial_update" else s.ProductSerializer

    def _merchant_only(self):
        if not self.actor.is_merchant:
            raise exceptions.PermissionDenied("Only the merchant edits its catalog.")

    def create(self, request, *args, **kwargs):
        self._merchant_only()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            product = services.product_create(tenant_id=self.actor.tenant_id, **data)
        except services.InventoryError as exc:
            raise _refusal(exc) from None
        return Response(s.ProductSerializer(product).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        self._merchant_only()
        product = self.get_object()
        serializer = s.ProductUpdateSerializer(product, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            product = services.product_update(product=product, **serializer.validated_data)
        except services.InventoryError as exc:
            raise _refusal(exc) from None
        return Response(s.ProductSerializer(Product.objects.get(pk=product.pk)).data)

    @extend_schema(responses=s.MovementSerializer(many=True))
    @action(detail=True, methods=["get"])
    def movements(self, request, pk=None):
        """The product's ledger: every movement of its units, newest first."""
        product = self.get_object()
        qs = (
            StockMovement.objects.visible_to(self.actor)
            .filter(product=product)
            .select_related("product", "lot", "from_location", "to_location")
            .order_by("-created_at", "-id")
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.MovementSerializer(page, many=True).data)


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
            raise _refusal(exc) from None
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
            raise _refusal(exc) from None
        return Response(s.InboundShipmentSerializer(self.get_queryset().get(pk=shipment.pk)).data)


class AdjustmentView(ActorMixin, APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=s.AdjustmentSerializer, responses={201: s.MovementSerializer})
    def post(self, request):
        """Correct the stock of a location (found or lost units) with a reason; writes the ledger."""
        payload = s.AdjustmentSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        tenant = Tenant.objects.filter(slug=data["tenant"]).first()
        if tenant is None:
            raise field_error(f"unknown tenant {data['tenant']}", field="tenant", code="unknown_tenant")
        warehouses = Warehouse.objects.all()
        if not self.actor.sees_all_warehouses:
            warehouses = warehouses.filter(staff__id=self.actor.user_id)
        if data.get("warehouse"):
            warehouses = warehouses.filter(code=data["warehouse"].strip().upper())
        location = (
            Location.objects.filter(warehouse__in=warehouses, code=data["location"].strip().upper())
            .select_related("warehouse")
            .first()
        )
        if location is None:
            raise field_error(f"unknown location {data['location']}", field="location", code="unknown_location")
        try:
            with transaction.atomic():
                movement = services.stock_adjust(
                    tenant_id=tenant.pk,
                    warehouse_id=location.warehouse_id,
                    sku=data["sku"],
                    location_code=location.code,
                    quantity_delta=data["quantity_delta"],
                    reason=data["reason"],
                    lot=data["lot"],
                    expiry_date=data["expiry_date"],
                    actor=self.actor.label,
                )
        except services.InventoryError as exc:
            raise _refusal(exc) from None
        return Response(s.MovementSerializer(movement).data, status=status.HTTP_201_CREATED)
