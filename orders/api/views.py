from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.api.base import ActorMixin, ScopedViewSet
from fulfillment.api.errors import flatten_errors
from fulfillment.bulk import gc_paused
from fulfillment.tenancy.models import Tenant
from inventory.models import InboundLine, Product, StockBalance
from inventory.selectors import stock_levels, stock_levels_by_lot
from orders import selectors, services
from orders.api import serializers as s
from orders.inputs import order_input
from orders.intake import quick_order_input
from orders.models import Order, Status


class OrderFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Status.choices)
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    external_id = filters.CharFilter()
    number = filters.CharFilter()

    class Meta:
        model = Order
        fields = ["status", "external_id", "number", "shipping_method"]


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Orders: merchants create and manage their own; staff see the orders of their warehouses."""

    model = Order
    serializer_class = s.OrderSerializer
    filterset_class = OrderFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def base_queryset(self, qs):
        qs = qs.select_related("warehouse").prefetch_related("lines")
        if self.action == "retrieve":
            qs = qs.prefetch_related("events")
        return qs

    def get_serializer_class(self):
        return s.OrderListSerializer if self.action == "list" else s.OrderSerializer

    def _tenant(self) -> Tenant:
        if not self.actor.is_merchant:
            raise exceptions.PermissionDenied("Orders are created by merchants with an API key.")
        return Tenant.objects.get(pk=self.actor.tenant_id)

    def _answer(self, order_id, code=status.HTTP_200_OK):
        order = self.get_queryset().prefetch_related("events").get(pk=order_id)
        return Response(s.OrderSerializer(order).data, status=code)

    @extend_schema(
        request=s.OrderCreateSerializer,
        responses={
            201: s.OrderSerializer,
            409: OpenApiResponse(description="external_id already used: existing_order_id names that order"),
            422: OpenApiResponse(description="invalid fields or unknown SKUs, with errors[].field paths"),
        },
    )
    def create(self, request, *args, **kwargs):
        """Create one order. An address that fails the country's rules puts it on hold instead of refusing it."""
        tenant = self._tenant()
        payload = s.OrderCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        order = services.order_create(tenant=tenant, data=order_input(payload.validated_data), actor=self.actor.label)
        return self._answer(order.pk, status.HTTP_201_CREATED)

    @extend_schema(request=s.OrderPatchSerializer, responses=s.OrderSerializer)
    def partial_update(self, request, *args, **kwargs):
        """Fix ship_to, payment_status or gift_message while the order is not yet picking (holds are
        re-evaluated); change requested_carrier / requested_service until the order is packed."""
        order = self.get_object()
        if not self.actor.is_merchant:
            raise exceptions.PermissionDenied("Only the merchant changes its orders.")
        payload = s.OrderPatchSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.order_update(
            order_id=order.pk,
            tenant_id=order.tenant_id,
            ship_to=payload.validated_data.get("ship_to"),
            payment_status=payload.validated_data.get("payment_status"),
            gift_message=payload.validated_data.get("gift_message"),
            requested_carrier=payload.validated_data.get("requested_carrier"),
            requested_service=payload.validated_data.get("requested_service"),
            actor=self.actor.label,
        )
        return self._answer(order.pk)

    @extend_schema(request=s.CancelSerializer, responses={200: s.OrderSerializer, 409: OpenApiResponse()})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel before shipping: reservations are released and picked units put back; 409 after."""
        return self._order_action(request, s.CancelSerializer, services.order_cancel, with_tenant=True)

    def _order_action(self, request, payload_class, service, *, with_tenant: bool = False):
        """Validate the body, run one order service on the (scoped) order, answer the order or the refusal."""
        order = self.get_object()
        payload = payload_class(data=request.data)
        payload.is_valid(raise_exception=True)
        scope = {"tenant_id": order.tenant_id} if with_tenant else {}
        service(order_id=order.pk, actor=self.actor.label, reason=payload.validated_data["reason"], **scope)
        return self._answer(order.pk)

    def _manager(self):
        if not self.actor.is_manager:
            raise exceptions.PermissionDenied("Only warehouse managers hold and release orders.")

    @extend_schema(request=s.HoldSerializer, responses={200: s.OrderSerializer, 409: OpenApiResponse()})
    @action(detail=True, methods=["post"])
    def hold(self, request, pk=None):
        """Managers: stop an order before picking, with a reason; its reservations go back to stock."""
        self._manager()
        return self._order_action(request, s.HoldSerializer, services.order_hold)

    @extend_schema(request=s.ReleaseSerializer, responses={200: s.OrderSerializer, 409: OpenApiResponse()})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Managers: lift a manual hold; the order allocates again unless a payment or address hold remains."""
        self._manager()
        return self._order_action(request, s.ReleaseSerializer, services.order_release)

    @extend_schema(
        request=s.BulkSerializer,
        responses={200: OpenApiResponse(response=s.BulkResultsSerializer, description="per-item results, in order")},
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Up to 1,000 orders: ``{"orders": [...]}``; each answered 201, 409 or 422; valid ones are created.

        A 409 item carries ``existing_order_id``: the order that already has its external_id (also
        when the same external_id appears twice in one call: the second points at the first).
        """
        with gc_paused():
            return self._bulk(request)

    def _bulk(self, request):
        tenant = self._tenant()
        payload = s.BulkSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        results: list[dict | None] = []
        inputs, positions = [], []
        for index, item in enumerate(payload.validated_data["orders"]):
            data = quick_order_input(item)
            if data is None:
                one = s.OrderCreateSerializer(data=item)
                if not one.is_valid():
                    results.append({"index": index, "status": 422, "errors": flatten_errors(one.errors)})
                    continue
                data = order_input(one.validated_data)
            results.append(None)
            inputs.append(data)
            positions.append(index)
        created = services.order_create_many(tenant=tenant, items=inputs, actor=self.actor.label)
        for index, result in zip(positions, created, strict=True):
            item = {"index": index, "status": result.status}
            if result.status == 201:
                item["order"] = s.order_row_answer(result.row)
            else:
                item["errors"] = result.errors
                if result.status == 409:
                    item["existing_order_id"] = str(result.existing_id) if result.existing_id else None
            results[index] = item
        return Response({"results": results})


class InventoryLevelView(ActorMixin, APIView):
    """Stock per product and warehouse, with the demand that waits for it (backordered).

    ``?detail=lots`` adds ``lots``: one row per lot (sku, product, warehouse, lot, expiry_date,
    on_hand, allocated, available); ``?sku=`` and ``?warehouse=`` (code) narrow both lists.
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("sku", str, description="Only this SKU"),
            OpenApiParameter("warehouse", str, description="Only this warehouse (code)"),
            OpenApiParameter("detail", str, enum=["lots"], description="lots: add per-lot rows under `lots`"),
        ],
        responses=inline_serializer(
            name="InventoryLevels",
            fields={
                "results": s.InventoryLevelSerializer(many=True),
                "lots": inline_serializer(
                    name="InventoryLotLevel",
                    fields={
                        "sku": s.serializers.CharField(),
                        "product": s.serializers.UUIDField(),
                        "warehouse": s.serializers.CharField(),
                        "lot": s.serializers.CharField(),
                        "expiry_date": s.serializers.DateField(allow_null=True),
                        "on_hand": s.serializers.IntegerField(),
                        "allocated": s.serializers.IntegerField(),
                        "available": s.serializers.IntegerField(),
                    },
                    many=True,
                    required=False,
                    help_text="Only with ?detail=lots",
                ),
                "next": s.serializers.CharField(allow_null=True),
                "previous": s.serializers.CharField(allow_null=True),
            },
        ),
    )
    def get(self, request):
        products = Product.objects.visible_to(self.actor)
        sku = request.query_params.get("sku")
        if sku:
            products = products.filter(sku=sku)
        balances = StockBalance.objects.visible_to(self.actor).filter(product__in=products)
        inbound = InboundLine.objects.filter(product__in=products)
        warehouse = (request.query_params.get("warehouse") or "").strip().upper()
        if warehouse:
            balances = balances.filter(location__warehouse__code=warehouse)
            inbound = inbound.filter(shipment__warehouse__code=warehouse)
        levels = stock_levels(balances=balances, inbound_lines=inbound)
        backordered = selectors.backordered_by_product(actor=self.actor, products=products)
        for key, quantity in backordered.items():
            levels[key]["backordered"] = quantity
        names = dict(products.values_list("pk", "sku"))
        codes = selectors.warehouse_codes()
        rows = [
            {
                "sku": names[product_id],
                "product": str(product_id),
                "warehouse": codes[warehouse_id],
                "on_hand": level["on_hand"],
                "allocated": level["allocated"],
                "available": level["available"],
                "backordered": level.get("backordered", 0),
                "inbound": level["inbound"],
            }
            for (product_id, warehouse_id), level in levels.items()
            if product_id in names and (not warehouse or codes[warehouse_id] == warehouse)
        ]
        rows.sort(key=lambda r: (r["sku"], r["warehouse"]))
        body = {"results": rows, "next": None, "previous": None}
        if request.query_params.get("detail") == "lots":
            body["lots"] = [
                {
                    "sku": lot["sku"],
                    "product": str(lot["product_id"]),
                    "warehouse": codes[lot["warehouse_id"]],
                    "lot": lot["lot"],
                    "expiry_date": lot["expiry_date"].isoformat() if lot["expiry_date"] else None,
                    "on_hand": lot["on_hand"],
                    "allocated": lot["allocated"],
                    "available": lot["available"],
                }
                for lot in stock_levels_by_lot(balances=balances)
            ]
        return Response(body)
