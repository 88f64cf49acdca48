"""ASNs (API and CSV), receiving, discrepancies, put-away, manual moves, scans and labels."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.api.base import ActorMixin, IsMerchant, IsStaff, ScopedViewSet
from fulfillment.api.documents import FirstRendererNegotiation, document_response
from fulfillment.api.errors import Unprocessable, field_error
from fulfillment.tenancy.models import Tenant
from inventory import labels, scanning, services
from inventory.api import serializers as s
from inventory.models import InboundShipment, Location, LocationKind, Product, Receipt, ReceiptStatus, Warehouse
from inventory.selectors import warehouse_from_code
from inventory.services import inbound as inbound_services
from inventory.services import putaway

PROBLEM = OpenApiResponse(description="Problem document (application/problem+json)")


# -- serializers -----------------------------------------------------------------------------


class InboundLineDetailSerializer(serializers.Serializer):
    sku = serializers.CharField(source="product.sku")
    quantity = serializers.IntegerField(help_text="Expected on the ASN (0 for a product that was not on it)")
    received_quantity = serializers.IntegerField(help_text="Received in good condition")
    damaged_quantity = serializers.IntegerField(help_text="Received damaged (held in quarantine)")
    lot = serializers.CharField(source="lot_code")
    expiry_date = serializers.DateField()


class DiscrepancySerializer(serializers.Serializer):
    sku = serializers.CharField(source="product.sku")
    kind = serializers.CharField(help_text="over | short | damaged | unexpected")
    quantity = serializers.IntegerField()
    note = serializers.CharField()


class InboundShipmentDetailSerializer(s.InboundShipmentSerializer):
    lines = InboundLineDetailSerializer(many=True)
    discrepancies = serializers.SerializerMethodField()

    class Meta(s.InboundShipmentSerializer.Meta):
        fields = [*s.InboundShipmentSerializer.Meta.fields, "discrepancies"]

    @extend_schema_field(DiscrepancySerializer(many=True))
    def get_discrepancies(self, obj) -> list[dict]:
        rows = sorted(obj.discrepancies.all(), key=lambda d: (d.created_at, d.pk))
        return DiscrepancySerializer(rows, many=True).data


class ReceiveLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=0, max_value=1_000_000, help_text="Units in good condition")
    location = serializers.CharField(
        max_length=30, required=False, allow_blank=True, default="", help_text="Default: RECEIVING"
    )
    lot = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    expiry_date = serializers.DateField(required=False, allow_null=True, default=None)
    damaged_quantity = serializers.IntegerField(
        min_value=0, max_value=1_000_000, required=False, default=0, help_text="Damaged units, put in QUARANTINE"
    )

    def validate(self, attrs):
        if attrs["quantity"] + attrs["damaged_quantity"] <= 0:
            raise serializers.ValidationError({"quantity": ["Receive at least one unit."]})
        return attrs


class ReceiveSerializer(serializers.Serializer):
    lines = ReceiveLineSerializer(many=True, allow_empty=False, max_length=1000)


class AsnImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with columns sku, quantity, lot, expiry_date")
    warehouse = serializers.CharField(max_length=20)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    expected_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True)
    field = serializers.CharField()
    message = serializers.CharField()


class AsnPreviewSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    valid = serializers.BooleanField()
    lines = s.InboundLineInputSerializer(many=True)
    errors = RowErrorSerializer(many=True)


class DockToStockSerializer(serializers.Serializer):
    warehouse = serializers.CharField()
    days = serializers.IntegerField()
    receipts = serializers.IntegerField(help_text="Receipts fully put away in the period")
    average_seconds = serializers.FloatField(allow_null=True)
    p90_seconds = serializers.FloatField(allow_null=True, help_text="Nearest-rank 90th percentile")


class ReceiptOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    shipment = serializers.UUIDField(source="shipment_id")
    tenant = serializers.CharField(source="tenant.slug")
    warehouse = serializers.CharField(source="location.warehouse.code")
    sku = serializers.CharField(source="product.sku")
    lot = serializers.CharField(source="lot.code")
    expiry_date = serializers.DateField(source="lot.expiry_date")
    location = serializers.CharField(source="location.code")
    quantity = serializers.IntegerField()
    put_away_quantity = serializers.IntegerField()
    status = serializers.CharField()
    received_at = serializers.DateTimeField()
    put_away_at = serializers.DateTimeField()
    suggested_location = serializers.SerializerMethodField()

    def get_suggested_location(self, obj) -> str | None:
        if obj.status != ReceiptStatus.AWAITING_PUT_AWAY:
            return None
        location = putaway.putaway_suggest(receipt=obj)
        return location.code if location else None


class PutAwaySerializer(serializers.Serializer):
    location_barcode = serializers.CharField(max_length=100)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class MoveSerializer(serializers.Serializer):
    tenant = serializers.SlugField(help_text="The tenant's slug")
    sku = serializers.CharField(max_length=64)
    lot = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    from_location = serializers.CharField(max_length=30)
    to_location = serializers.CharField(max_length=30)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    warehouse = serializers.CharField(max_length=20, required=False, help_text="Default: your only warehouse")


class ScanInSerializer(serializers.Serializer):
    scan = serializers.CharField(max_length=500, trim_whitespace=False)
    tenant = serializers.SlugField(required=False, help_text="Resolve the product in this tenant's catalog")


class ScanOutSerializer(serializers.Serializer):
    raw = serializers.CharField()
    kind = serializers.CharField(help_text="gs1 | gtin | code")
    gtin = serializers.CharField(allow_blank=True, help_text="As GTIN-14")
    lot = serializers.CharField(allow_blank=True)
    expiry_date = serializers.DateField(allow_null=True)
    sscc = serializers.CharField(allow_blank=True)
    product = serializers.UUIDField(allow_null=True)
    sku = serializers.CharField(allow_null=True)
    units_per_scan = serializers.IntegerField(allow_null=True)


# -- ASNs ------------------------------------------------------------------------------------


def _staff_warehouses(actor):
    warehouses = Warehouse.objects.all()
    if not actor.sees_all_warehouses:
        warehouses = warehouses.filter(staff__id=actor.user_id)
    return warehouses


def _warehouse_for(actor, code: str | None, *, field: str = "warehouse") -> Warehouse:
    warehouses = _staff_warehouses(actor)
    if code:
        warehouse = warehouses.filter(code=code.strip().upper()).first()
    else:
        candidates = list(warehouses.order_by("code")[:2])
        warehouse = candidates[0] if len(candidates) == 1 else None
        if len(candidates) > 1:
            raise field_error("name the warehouse", field=field, code="required")
    if warehouse is None:
        raise field_error(f"unknown warehouse {code or ''}".strip(), field=field, code="unknown_warehouse")
    return warehouse


class InboundShipmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    """Advance shipping notices (ASNs) with what was received and the discrepancies; staff receive and close them."""

    model = InboundShipment
    serializer_class = InboundShipmentDetailSerializer
    filterset_fields = ["status"]

    def base_queryset(self, qs):
        return qs.select_related("warehouse").prefetch_related("lines__product", "discrepancies__product")

    def _answer(self, shipment_id, code=status.HTTP_200_OK):
        return Response(InboundShipmentDetailSerializer(self.get_queryset().get(pk=shipment_id)).data, status=code)

    @extend_schema(request=s.InboundCreateSerializer, responses={201: InboundShipmentDetailSerializer})
    def create(self, request, *args, **kwargs):
        if not self.actor.is_merchant:
            raise exceptions.PermissionDenied("ASNs are sent by merchants.")
        payload = s.InboundCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        warehouse = warehouse_from_code(self.actor, data["warehouse"])
        shipment = services.inbound_create(
            tenant_id=self.actor.tenant_id,
            warehouse=warehouse,
            reference=data["reference"],
            expected_at=data["expected_at"],
            lines=[services.InboundLineInput(**line) for line in data["lines"]],
        )
        return self._answer(shipment.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": AsnImportSerializer},
        parameters=[OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="Validate only; create nothing")],
        responses={201: InboundShipmentDetailSerializer, 200: AsnPreviewSerializer, 422: PROBLEM},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        permission_classes=[IsMerchant],
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_csv(self, request):
        """An ASN from a CSV file; any bad row creates nothing; ``?dry_run=1`` answers the preview."""
        payload = AsnImportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        warehouse = warehouse_from_code(self.actor, data["warehouse"])
        dry_run = request.query_params.get("dry_run", "").lower() in {"1", "true", "yes"}
        upload = data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise field_error("the file is larger than 5 MB", field="file", code="too_large")
        result = inbound_services.inbound_import_csv(
            tenant_id=self.actor.tenant_id,
            warehouse=warehouse,
            content=upload.read(),
            reference=data["reference"],
            expected_at=data["expected_at"],
            dry_run=dry_run,
        )
        if dry_run:
            preview = {
                "dry_run": True,
                "valid": not result.errors,
                "lines": [vars(line) for line in result.lines],
                "errors": result.errors,
            }
            return Response(AsnPreviewSerializer(preview).data)
        if result.errors:
            raise Unprocessable("The file has invalid rows; nothing was created.", errors=result.errors)
        return self._answer(result.shipment.pk, status.HTTP_201_CREATED)

    @extend_schema(request=ReceiveSerializer, responses={200: InboundShipmentDetailSerializer, 422: PROBLEM})
    @action(detail=True, methods=["post"], permission_classes=[IsStaff])
    def receive(self, request, pk=None):
        """Receive units (into RECEIVING unless a location is named); damaged units go to QUARANTINE."""
        shipment = self.get_object()
        payload = ReceiveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.inbound_receive(
            shipment_id=shipment.pk,
            lines=[services.ReceiptLineInput(**line) for line in payload.validated_data["lines"]],
            actor=self.actor.label,
        )
        return self._answer(shipment.pk)

    @extend_schema(request=None, responses={200: InboundShipmentDetailSerializer, 409: PROBLEM})
    @action(detail=True, methods=["post"], permission_classes=[IsStaff])
    def close(self, request, pk=None):
        """Nothing more will arrive: the ASN becomes received and lines still short are recorded."""
        shipment = self.get_object()
        inbound_services.inbound_close(shipment_id=shipment.pk, actor=self.actor.label)
        return self._answer(shipment.pk)

    @extend_schema(
        parameters=[
            OpenApiParameter("warehouse", OpenApiTypes.STR, description="Warehouse code"),
            OpenApiParameter("days", OpenApiTypes.INT, description="Period in days (default 7, at most 366)"),
        ],
        responses={200: DockToStockSerializer},
    )
    @action(detail=False, methods=["get"], url_path="dock-to-stock", permission_classes=[IsStaff])
    def dock_to_stock(self, request):
        """Dock-to-stock time (receipt to put-away) per warehouse: average and p90 in seconds."""
        warehouse = _warehouse_for(self.actor, request.query_params.get("warehouse"))
        try:
            days = int(request.query_params.get("days", "7"))
        except ValueError:
            days = 0
        if not 1 <= days <= 366:
            raise field_error("days must be a whole number from 1 to 366", field="days")
        figures = putaway.dock_to_stock(warehouse=warehouse, days=days)
        return Response(DockToStockSerializer(figures).data)


# -- put-away --------------------------------------------------------------------------------


class ReceiptPagination(CursorPagination):
    """Oldest first: the put-away queue."""

    ordering = ("received_at", "id")
    page_size_query_param = "limit"
    max_page_size = 200


class ReceiptViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Receipts of the staff member's warehouses, with the suggested put-away location."""

    model = Receipt
    serializer_class = ReceiptOutSerializer
    permission_classes = [IsStaff]
    pagination_class = ReceiptPagination
    filterset_fields = ["status"]

    def base_queryset(self, qs):
        return qs.select_related("tenant", "product", "lot", "location__warehouse")

    @extend_schema(request=PutAwaySerializer, responses={200: ReceiptOutSerializer, 422: PROBLEM})
    @action(detail=True, methods=["post"], url_path="put-away")
    def put_away(self, request, pk=None):
        """Confirm units put away by scanning the location; a wrong location is 422 and changes nothing."""
        receipt = self.get_object()
        payload = PutAwaySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        putaway.putaway_confirm(receipt_id=receipt.pk, actor=self.actor.label, **payload.validated_data)
        return Response(ReceiptOutSerializer(self.get_queryset().get(pk=receipt.pk)).data)


class MoveView(ActorMixin, APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=MoveSerializer, responses={201: s.MovementSerializer(many=True), 422: PROBLEM})
    def post(self, request):
        """Move units between two physical locations (reserved units stay where they are)."""
        payload = MoveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        tenant = Tenant.objects.filter(slug=data["tenant"]).first()
        if tenant is None:
            raise field_error(f"unknown tenant {data['tenant']}", field="tenant", code="unknown_tenant")
        product = Product.objects.filter(tenant=tenant, sku=data["sku"]).first()
        if product is None:
            raise field_error(f"unknown SKU {data['sku']}", field="sku", code="unknown_sku")
        warehouse = _warehouse_for(self.actor, data.get("warehouse"))
        movements = putaway.stock_move(
            product=product,
            warehouse_id=warehouse.pk,
            from_code=data["from_location"],
            to_code=data["to_location"],
            quantity=data["quantity"],
            lot=data["lot"],
            actor=self.actor.label,
        )
        return Response(s.MovementSerializer(movements, many=True).data, status=status.HTTP_201_CREATED)


# -- scans -----------------------------------------------------------------------------------


class ScanParseView(ActorMixin, APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=ScanInSerializer, responses={200: ScanOutSerializer, 422: PROBLEM})
    def post(self, request):
        """Parse a scan (GS1 element strings with ``|`` as separator, GTINs, SKUs); with ``tenant``, name the product."""
        payload = ScanInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        scan = scanning.parse_scan(data["scan"])
        product, units = None, None
        if data.get("tenant"):
            tenant = Tenant.objects.filter(slug=data["tenant"]).first()
            if tenant is None:
                raise field_error(f"unknown tenant {data['tenant']}", field="tenant", code="unknown_tenant")
            product, units = scanning.resolve_product(tenant.pk, scan)
        body = {
            "raw": scan.raw,
            "kind": scan.kind,
            "gtin": scan.gtin,
            "lot": scan.lot,
            "expiry_date": scan.expiry_date,
            "sscc": scan.sscc,
            "product": product.pk if product else None,
            "sku": product.sku if product else None,
            "units_per_scan": units,
        }
        return Response(ScanOutSerializer(body).data)


# -- labels ----------------------------------------------------------------------------------


class LocationLabelsView(ActorMixin, APIView):
    permission_classes = [IsStaff]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        operation_id="v1_locations_labels_pdf_retrieve",
        parameters=[
            OpenApiParameter("warehouse", OpenApiTypes.STR, description="Warehouse code"),
            OpenApiParameter("codes", OpenApiTypes.STR, description="Comma-separated codes; default all storage"),
        ],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 422: PROBLEM},
    )
    def get(self, request):
        """Location labels: one per location, Code 128 of the code and the code in large type."""
        warehouse = _warehouse_for(self.actor, request.query_params.get("warehouse"))
        locations = Location.objects.filter(warehouse=warehouse, is_virtual=False)
        raw_codes = request.query_params.get("codes", "")
        if raw_codes.strip():
            codes = list(dict.fromkeys(c.strip().upper() for c in raw_codes.split(",") if c.strip()))
            found = {loc.code: loc for loc in locations.filter(code__in=codes)}
            unknown = [c for c in codes if c not in found]
            if unknown:
                raise field_error(f"unknown location(s): {', '.join(unknown)}", field="codes", code="unknown_location")
            chosen = [found[c] for c in codes]
        else:
            chosen = list(locations.filter(kind=LocationKind.STORAGE).order_by("pick_sequence", "code"))
        return document_response(
            labels.location_labels_pdf(chosen),
            content_type="application/pdf",
            filename=f"locations-{warehouse.code}.pdf",
        )


class ProductLabelViewSet(ScopedViewSet):
    """A product label (merchant or staff): Code 128 of the first barcode or the SKU, name, SKU."""

    model = Product
    content_negotiation_class = FirstRendererNegotiation

    def base_queryset(self, qs):
        return qs.prefetch_related("barcode_set")

    @extend_schema(
        operation_id="v1_products_label_pdf_retrieve",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: PROBLEM},
    )
    def label_pdf(self, request, pk=None):
        product = self.get_object()
        return document_response(
            labels.product_label_pdf(product), content_type="application/pdf", filename=f"label-{product.sku}.pdf"
        )


receipt_list = ReceiptViewSet.as_view({"get": "list"})

urlpatterns = [
    path("scans/parse/", ScanParseView.as_view(), name="scan-parse"),
    path("receipts/", receipt_list, name="receipt-list"),
    path("receipts/<uuid:pk>/", ReceiptViewSet.as_view({"get": "retrieve"}), name="receipt-detail"),
    path("receipts/<uuid:pk>/put-away/", ReceiptViewSet.as_view({"post": "put_away"}), name="receipt-put-away"),
    path("moves/", MoveView.as_view(), name="moves"),
    path("locations/labels.pdf", LocationLabelsView.as_view(), name="location-labels-pdf"),
    path("products/<uuid:pk>/label.pdf", ProductLabelViewSet.as_view({"get": "label_pdf"}), name="product-label-pdf"),
]
