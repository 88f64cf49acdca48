"""Suppliers, purchase orders, reorder suggestions, pick faces and move tasks."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from fulfillment.api.base import IsMerchant, IsStaff, ScopedViewSet
from fulfillment.api.errors import field_error
from fulfillment.tenancy.models import Tenant
from inventory import selectors_replenishment as sel
from inventory.models import (
    Location,
    MoveTask,
    PickFace,
    Product,
    PurchaseOrder,
    ReorderSuggestion,
    Supplier,
)
from inventory.selectors import warehouse_from_code
from inventory.services import replenishment as services


class SuggestionFilter(django_filters.FilterSet):
    to_order = django_filters.BooleanFilter(method="filter_to_order", help_text="Only rows with a suggested quantity")
    warehouse = django_filters.CharFilter(field_name="warehouse__code", lookup_expr="iexact")
    sku = django_filters.CharFilter(field_name="product__sku")

    class Meta:
        model = ReorderSuggestion
        fields = ["to_order", "warehouse", "sku"]

    def filter_to_order(self, queryset, name, value):
        return queryset.filter(suggested_quantity__gt=0) if value else queryset.filter(suggested_quantity=0)


class IdCursorPagination(CursorPagination):
    """For rows without ``created_at``: oldest first by id."""

    ordering = ("id",)
    page_size_query_param = "limit"
    max_page_size = 200


# -- serializers -----------------------------------------------------------------------------


class SupplierSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=200)
    lead_time_days = serializers.IntegerField(min_value=0, max_value=365, required=False, default=7)
    email = serializers.EmailField(required=False, allow_blank=True, default="")

    class Meta:
        model = Supplier
        fields = ["id", "name", "email", "lead_time_days", "created_at"]
        read_only_fields = ["id", "created_at"]


class PurchaseLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class PurchaseOrderCreateSerializer(serializers.Serializer):
    supplier = serializers.UUIDField()
    warehouse = serializers.CharField(max_length=20)
    expected_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    lines = PurchaseLineSerializer(many=True, allow_empty=False, max_length=1000)


class PurchaseOrderLineOutSerializer(serializers.Serializer):
    sku = serializers.CharField(source="product.sku")
    quantity = serializers.IntegerField()


class PurchaseOrderSerializer(serializers.ModelSerializer):
    supplier_name = serializers.CharField(source="supplier.name")
    warehouse = serializers.CharField(source="warehouse.code")
    lines = PurchaseOrderLineOutSerializer(many=True)

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "number",
            "status",
            "supplier",
            "supplier_name",
            "warehouse",
            "expected_at",
            "sent_at",
            "inbound_shipment",
            "lines",
            "created_at",
        ]


class ReorderSuggestionSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    warehouse = serializers.CharField(source="warehouse.code")
    supplier = serializers.UUIDField(source="product.supplier_id", allow_null=True)
    forecast = serializers.ListField(child=serializers.DictField(), help_text="[{day, quantity}]")

    class Meta:
        model = ReorderSuggestion
        fields = [
            "id",
            "sku",
            "product",
            "warehouse",
            "supplier",
            "model",
            "daily_demand",
            "forecast",
            "available",
            "inbound",
            "days_of_cover",
            "safety_stock",
            "reorder_point",
            "suggested_quantity",
            "computed_at",
        ]


class SuggestionOrderSerializer(serializers.Serializer):
    suggestions = serializers.ListField(child=serializers.UUIDField(), allow_empty=False, max_length=500)


class PickFaceSerializer(serializers.ModelSerializer):
    tenant = serializers.CharField(source="tenant.slug")
    sku = serializers.CharField(source="product.sku")
    warehouse = serializers.CharField(source="location.warehouse.code")
    location = serializers.CharField(source="location.code")
    on_hand = serializers.SerializerMethodField()

    class Meta:
        model = PickFace
        fields = ["id", "tenant", "sku", "warehouse", "location", "min_quantity", "max_quantity", "on_hand"]

    def get_on_hand(self, obj) -> int:
        return self.context.get("on_hand", {}).get(obj.pk, 0)


class PickFaceCreateSerializer(serializers.Serializer):
    tenant = serializers.SlugField(help_text="The merchant's slug")
    sku = serializers.CharField(max_length=64)
    warehouse = serializers.CharField(max_length=20)
    location = serializers.CharField(max_length=30, help_text="Location code (its barcode)")
    min_quantity = serializers.IntegerField(min_value=0, max_value=1_000_000)
    max_quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class MoveTaskSerializer(serializers.ModelSerializer):
    warehouse = serializers.CharField(source="warehouse.code")
    sku = serializers.CharField(source="product.sku")
    lot = serializers.CharField(source="lot.code", allow_null=True, default=None)
    from_location = serializers.CharField(source="from_location.code")
    to_location = serializers.CharField(source="to_location.code")

    class Meta:
        model = MoveTask
        fields = [
            "id",
            "kind",
            "status",
            "warehouse",
            "sku",
            "lot",
            "from_location",
            "to_location",
            "quantity",
            "created_at",
            "done_at",
            "done_by",
        ]


class MoveTaskCompleteSerializer(serializers.Serializer):
    from_location_barcode = serializers.CharField(max_length=64)
    to_location_barcode = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    product_barcode = serializers.CharField(max_length=200, required=False, help_text="Checked when given")


# -- views -----------------------------------------------------------------------------------


class SupplierViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    """The merchant's suppliers; a product's supplier gives its lead time."""

    model = Supplier
    serializer_class = SupplierSerializer
    permission_classes = [IsMerchant]

    def create(self, request, *args, **kwargs):
        payload = SupplierSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        supplier = services.supplier_create(tenant_id=self.actor.tenant_id, **payload.validated_data)
        return Response(SupplierSerializer(supplier).data, status=status.HTTP_201_CREATED)


class PurchaseOrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    """Purchase orders to suppliers; sending one creates its ASN."""

    model = PurchaseOrder
    serializer_class = PurchaseOrderSerializer
    permission_classes = [IsMerchant]
    filterset_fields = ["status"]

    def base_queryset(self, qs):
        return qs.select_related("supplier", "warehouse").prefetch_related("lines__product")

    @extend_schema(request=PurchaseOrderCreateSerializer, responses={201: PurchaseOrderSerializer})
    def create(self, request, *args, **kwargs):
        payload = PurchaseOrderCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        supplier = Supplier.objects.visible_to(self.actor).filter(pk=data["supplier"]).first()
        if supplier is None:
            raise field_error("unknown supplier", field="supplier", code="unknown_supplier")
        warehouse = warehouse_from_code(self.actor, data["warehouse"])
        po = services.purchase_order_create(
            tenant_id=self.actor.tenant_id,
            supplier=supplier,
            warehouse=warehouse,
            expected_at=data["expected_at"],
            lines=[services.PurchaseLineInput(**line) for line in data["lines"]],
        )
        return Response(PurchaseOrderSerializer(self.get_queryset().get(pk=po.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: PurchaseOrderSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Send to the supplier: the status becomes ``sent`` and an ASN with the same lines is created (409 twice)."""
        po = self.get_object()
        services.purchase_order_send(purchase_order_id=po.pk, tenant_id=self.actor.tenant_id)
        return Response(PurchaseOrderSerializer(self.get_queryset().get(pk=po.pk)).data)


class ReorderSuggestionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Nightly forecasts and reorder advice per product and warehouse (staff: their warehouses)."""

    model = ReorderSuggestion
    serializer_class = ReorderSuggestionSerializer
    pagination_class = IdCursorPagination
    filterset_class = SuggestionFilter

    def base_queryset(self, qs):
        return sel.suggestions_visible(qs, self.actor)

    @extend_schema(
        request=SuggestionOrderSerializer,
        responses={
            201: inline_serializer("SuggestionPurchaseOrders", {"purchase_orders": PurchaseOrderSerializer(many=True)})
        },
    )
    @action(detail=False, methods=["post"], url_path="purchase-order", permission_classes=[IsMerchant])
    def purchase_order(self, request):
        """Draft purchase orders for the chosen suggestions, one per supplier and warehouse."""
        payload = SuggestionOrderSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        orders = services.purchase_orders_from_suggestions(
            tenant_id=self.actor.tenant_id, suggestion_ids=payload.validated_data["suggestions"]
        )
        rows = (
            PurchaseOrder.objects.visible_to(self.actor)
            .filter(pk__in=[po.pk for po in orders])
            .select_related("supplier", "warehouse")
            .prefetch_related("lines__product")
            .order_by("number")
        )
        return Response(
            {"purchase_orders": PurchaseOrderSerializer(rows, many=True).data}, status=status.HTTP_201_CREATED
        )


class PickFaceViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, ScopedViewSet):
    """Pick faces kept between min and max by replenishment (staff; managers change them)."""

    model = PickFace
    serializer_class = PickFaceSerializer
    permission_classes = [IsStaff]
    pagination_class = IdCursorPagination

    def base_queryset(self, qs):
        return qs.select_related("tenant", "product", "location", "location__warehouse")

    def _manager_only(self):
        if not self.actor.is_manager:
            raise exceptions.PermissionDenied("Only managers change pick faces.")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        on_hand = sel.pick_face_on_hand(pick_faces=page)
        return self.get_paginated_response(PickFaceSerializer(page, many=True, context={"on_hand": on_hand}).data)

    @extend_schema(request=PickFaceCreateSerializer, responses={201: PickFaceSerializer})
    def create(self, request, *args, **kwargs):
        self._manager_only()
        payload = PickFaceCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        warehouse = warehouse_from_code(self.actor, data["warehouse"])
        tenant = Tenant.objects.filter(slug=data["tenant"]).first()
        if tenant is None:
            raise field_error(f"unknown tenant {data['tenant']}", field="tenant", code="unknown_tenant")
        product = Product.objects.filter(tenant=tenant, sku=data["sku"]).first()
        if product is None:
            raise field_error(f"unknown SKU {data['sku']}", field="sku", code="unknown_sku")
        location = Location.objects.filter(warehouse=warehouse, code=data["location"].strip().upper()).first()
        if location is None:
            raise field_error(f"unknown location {data['location']}", field="location", code="unknown_location")
        face = services.pick_face_create(
            tenant_id=tenant.pk,
            product=product,
            location=location,
            min_quantity=data["min_quantity"],
            max_quantity=data["max_quantity"],
        )
        face = self.get_queryset().get(pk=face.pk)
        on_hand = sel.pick_face_on_hand(pick_faces=[face])
        return Response(PickFaceSerializer(face, context={"on_hand": on_hand}).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        self._manager_only()
        face = self.get_object()
        services.pick_face_delete(pick_face_id=face.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MoveTaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Work for associates: replenishment (and manual) moves between locations."""

    model = MoveTask
    serializer_class = MoveTaskSerializer
    permission_classes = [IsStaff]
    filterset_fields = ["status", "kind"]

    def base_queryset(self, qs):
        return qs.select_related("warehouse", "product", "lot", "from_location", "to_location")

    @extend_schema(request=MoveTaskCompleteSerializer, responses={200: MoveTaskSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Scan the source, (optionally) the product and the target: the units move through the ledger.

        A wrong scan is 422 and changes nothing; a task already done is 409.
        """
        task = self.get_object()
        payload = MoveTaskCompleteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.move_task_complete(task_id=task.pk, actor=self.actor.label, **payload.validated_data)
        return Response(MoveTaskSerializer(self.get_queryset().get(pk=task.pk)).data)


router = SimpleRouter()
router.register("suppliers", SupplierViewSet, basename="supplier")
router.register("purchase-orders", PurchaseOrderViewSet, basename="purchase-order")
router.register("reorder-suggestions", ReorderSuggestionViewSet, basename="reorder-suggestion")
router.register("pick-faces", PickFaceViewSet, basename="pick-face")
router.register("move-tasks", MoveTaskViewSet, basename="move-task")

urlpatterns = [*router.urls]
