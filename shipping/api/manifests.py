"""End of day (staff): close a carrier account's labels at a warehouse into a manifest, and read it."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from fulfillment.api.base import ActorMixin, IsStaff
from fulfillment.api.documents import FirstRendererNegotiation, document_response
from fulfillment.api.pagination import CreatedCursorPagination
from inventory.selectors import warehouse_from_code, warehouses_for
from shipping import services
from shipping.models import LabelPurchase, Manifest

PROBLEM = OpenApiResponse(description="Problem document (application/problem+json)")


class ManifestShipmentSerializer(serializers.ModelSerializer):
    shipment = serializers.UUIDField(source="shipment_id")
    order_number = serializers.CharField(source="shipment.order.number")

    class Meta:
        model = LabelPurchase
        fields = ["shipment", "order_number", "service_code", "tracking_numbers", "total_charge", "currency"]
        read_only_fields = fields


class ManifestSerializer(serializers.ModelSerializer):
    warehouse = serializers.CharField(source="warehouse.code")
    carrier_account = serializers.UUIDField(source="account_id")
    carrier = serializers.CharField(source="account.carrier_id")
    shipments = serializers.SerializerMethodField()
    manifest_url = serializers.SerializerMethodField()

    class Meta:
        model = Manifest
        fields = [
            "id",
            "warehouse",
            "carrier_account",
            "carrier",
            "shipments_count",
            "packages_count",
            "total_weight_g",
            "carrier_reference",
            "created_by",
            "created_at",
            "manifest_url",
            "shipments",
        ]
        read_only_fields = fields

    @extend_schema_field(ManifestShipmentSerializer(many=True))
    def get_shipments(self, obj: Manifest) -> list[dict]:
        labels = obj.labels.select_related("shipment__order").order_by("shipment__order__number")
        return ManifestShipmentSerializer(labels, many=True).data

    @extend_schema_field(serializers.URLField())
    def get_manifest_url(self, obj: Manifest) -> str:
        path = reverse("manifest-pdf", kwargs={"pk": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ManifestInputSerializer(serializers.Serializer):
    warehouse = serializers.CharField(max_length=20, help_text="Warehouse code")
    carrier_account = serializers.CharField(max_length=40, help_text="The account's id or carrier_id")


class ManifestPagination(CreatedCursorPagination):
    ordering = ("-created_at", "id")


def _visible(actor):
    return Manifest.objects.select_related("warehouse", "account").filter(warehouse__in=warehouses_for(actor))


@extend_schema_view(
    get=extend_schema(operation_id="v1_manifests_list"),
    post=extend_schema(
        operation_id="v1_manifests_create",
        request=ManifestInputSerializer,
        responses={201: ManifestSerializer, 403: PROBLEM, 409: PROBLEM, 422: PROBLEM, 502: PROBLEM},
        description="End of day: closes the account's labels at the warehouse that are on no manifest yet; "
        "409 when there are none.",
    ),
)
class ManifestListView(ActorMixin, generics.ListCreateAPIView):
    permission_classes = [IsStaff]
    serializer_class = ManifestSerializer
    pagination_class = ManifestPagination

    def get_queryset(self):
        qs = _visible(self.actor)
        if code := self.request.query_params.get("warehouse"):
            qs = qs.filter(warehouse__code=code.upper())
        return qs

    def create(self, request, *args, **kwargs):
        data = ManifestInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        warehouse = warehouse_from_code(self.actor, data.validated_data["warehouse"])
        manifest = services.manifest_close(
            warehouse_code=warehouse.code,
            carrier_account=data.validated_data["carrier_account"],
            actor=self.actor.label,
        )
        return Response(ManifestSerializer(manifest, context={"request": request}).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(operation_id="v1_manifests_retrieve", responses={200: ManifestSerializer, 404: PROBLEM})
)
class ManifestDetailView(ActorMixin, generics.RetrieveAPIView):
    permission_classes = [IsStaff]
    serializer_class = ManifestSerializer

    def get_queryset(self):
        return _visible(self.actor)


class ManifestPdfView(ActorMixin, generics.GenericAPIView):
    permission_classes = [IsStaff]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        operation_id="v1_manifests_pdf_retrieve",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: PROBLEM},
    )
    def get(self, request, pk):
        manifest = get_object_or_404(_visible(self.actor), pk=pk)
        return document_response(
            bytes(manifest.document_pdf or b""),
            content_type="application/pdf",
            filename=f"manifest-{manifest.account.carrier_id}-{manifest.created_at:%Y%m%d-%H%M}.pdf",
        )
