from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from fulfillment.api.base import ScopedViewSet
from fulfillment.api.errors import Unprocessable
from inventory import services
from inventory.api import imports
from inventory.api import serializers as s
from inventory.models import AbcClass, Product, StockMovement
from inventory.services import catalog

# -- serializers of the catalog ------------------------------------------------------------

_BARCODE_SCHEMA = {
    "oneOf": [
        {"type": "string", "description": "A GTIN-8/12/13/14 (check digit verified) or an internal code; 1 each"},
        {
            "type": "object",
            "properties": {
                "code": {"type": "string", "maxLength": 64},
                "quantity": {"type": "integer", "minimum": 1, "maximum": catalog.MAX_CASE_QUANTITY, "default": 1},
            },
            "required": ["code"],
        },
    ]
}


@extend_schema_field(_BARCODE_SCHEMA)
class BarcodeField(serializers.Field):
    """A barcode as a plain string (quantity 1) or {code, quantity} (a case GTIN standing for N eaches)."""

    default_error_messages = {"invalid": "A barcode is a string or an object with code and quantity."}

    def to_internal_value(self, data):
        if isinstance(data, str):
            if len(data) > 64:
                raise serializers.ValidationError("A barcode has at most 64 characters.")
            return catalog.BarcodeInput(data, 1)
        if isinstance(data, dict) and isinstance(data.get("code"), str) and set(data) <= {"code", "quantity"}:
            quantity = data.get("quantity", 1)
            if not isinstance(quantity, int) or isinstance(quantity, bool):
                raise serializers.ValidationError({"quantity": ["A valid integer is required."]})
            if len(data["code"]) > 64:
                raise serializers.ValidationError({"code": ["A barcode has at most 64 characters."]})
            return catalog.BarcodeInput(data["code"], quantity)
        self.fail("invalid")

    def to_representation(self, value):
        return value.code


class CaseBarcodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    quantity = serializers.IntegerField()


class ProductSerializer(serializers.ModelSerializer):
    barcodes = serializers.ListField(
        child=BarcodeField(),
        required=False,
        max_length=20,
        help_text="GTIN/UPC/EAN codes or internal codes; {code, quantity} for a case barcode. "
        "Answered as the list of every code.",
    )
    case_barcodes = serializers.SerializerMethodField(help_text="Barcodes that stand for more than one each")
    sku = serializers.RegexField(catalog.SKU_PATTERN.pattern, max_length=64)
    weight_g = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False)
    length_mm = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    width_mm = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    height_mm = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    reorder_point = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False)
    min_shelf_life_days = serializers.IntegerField(
        min_value=0, max_value=3650, required=False, help_text="Expiry-tracked units with fewer days left do not ship"
    )
    abc_class = serializers.ChoiceField(choices=AbcClass.choices, required=False)
    unit_value = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, help_text="Value of one unit (decimal string)"
    )

    class Meta:
        model = Product
        fields = ["id", "sku", "barcodes", "case_barcodes", *catalog.PRODUCT_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    @extend_schema_field(CaseBarcodeSerializer(many=True))
    def get_case_barcodes(self, instance):
        return [{"code": b.code, "quantity": b.quantity} for b in _barcodes(instance) if b.quantity > 1]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["barcodes"] = [b.code for b in _barcodes(instance)]
        return data


def _barcodes(product: Product) -> list:
    return sorted(product.barcode_set.all(), key=lambda b: b.pk)


class ProductUpdateSerializer(ProductSerializer):
    class Meta(ProductSerializer.Meta):
        read_only_fields = ["id", "sku", "created_at", "updated_at"]


# -- the viewset ---------------------------------------------------------------------------


class ProductViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ScopedViewSet
):
    """The merchant's catalog. Staff may read every tenant's products."""

    model = Product
    serializer_class = ProductSerializer
    filterset_fields = ["sku"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def base_queryset(self, qs):
        return qs.prefetch_related("barcode_set")

    def get_serializer_class(self):
        return ProductUpdateSerializer if self.action == "partial_update" else ProductSerializer

    def _merchant_only(self):
        if not self.actor.is_merchant:
            raise exceptions.PermissionDenied("Only the merchant edits its catalog.")

    def create(self, request, *args, **kwargs):
        self._merchant_only()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        product = services.product_create(tenant_id=self.actor.tenant_id, **data)
        return Response(ProductSerializer(product).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        self._merchant_only()
        product = self.get_object()
        serializer = ProductUpdateSerializer(product, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        product = services.product_update(product=product, **serializer.validated_data)
        return Response(ProductSerializer(Product.objects.get(pk=product.pk)).data)

    @extend_schema(
        request={"multipart/form-data": imports.ProductImportRequestSerializer},
        parameters=[
            OpenApiParameter("dry_run", bool, description="1: check the file and answer the preview; write nothing")
        ],
        responses={
            200: imports.ProductImportResultSerializer,
            422: OpenApiResponse(description="A bad file or bad rows (nothing was written): problem+json with errors"),
        },
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser])
    def import_csv(self, request):
        """Create or update products from a CSV file, all or nothing; ``?dry_run=1`` previews."""
        self._merchant_only()
        dry_run = request.query_params.get("dry_run", "").lower() in {"1", "true", "yes"}
        rows, lines = imports.read_product_csv(request.FILES.get("file"))
        result = catalog.product_import(tenant_id=self.actor.tenant_id, rows=rows, line_numbers=lines, dry_run=dry_run)
        body = {"valid": result.valid, "created": result.created, "updated": result.updated, "errors": result.errors}
        if not result.valid and not dry_run:
            raise Unprocessable("The file has errors; nothing was imported.", errors=result.errors)
        return Response(body)

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
