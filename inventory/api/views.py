from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from fulfillment.api.base import ScopedViewSet
from inventory import services
from inventory.api import serializers as s
from inventory.api.common import refusal
from inventory.models import Product, StockMovement


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
            raise refusal(exc) from None
        return Response(s.ProductSerializer(product).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        self._merchant_only()
        product = self.get_object()
        serializer = s.ProductUpdateSerializer(product, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            product = services.product_update(product=product, **serializer.validated_data)
        except services.InventoryError as exc:
            raise refusal(exc) from None
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
