"""Stock adjustments: request (posts at once below the thresholds), list, detail, approve, reject."""

from __future__ import annotations

from django.db import transaction
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response

from fulfillment.api.base import ActorMixin, IsStaff
from fulfillment.api.errors import field_error
from fulfillment.tenancy.models import Tenant
from inventory.api import serializers as s
from inventory.models import Adjustment, AdjustmentReason, AdjustmentStatus, Location, Warehouse
from inventory.services import adjustments as service


class AdjustmentInputSerializer(serializers.Serializer):
    tenant = serializers.SlugField(help_text="The tenant's slug")
    warehouse = serializers.CharField(max_length=20, required=False, help_text="Default: the location's warehouse")
    sku = serializers.CharField(max_length=64)
    location = serializers.CharField(max_length=30)
    quantity_delta = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000)
    reason = serializers.ChoiceField(choices=AdjustmentReason.choices)
    lot = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    expiry_date = serializers.DateField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate_quantity_delta(self, value):
        if value == 0:
            raise serializers.ValidationError("Must not be zero.", code="zero")
        return value


class AdjustmentSerializer(serializers.ModelSerializer):
    tenant = serializers.CharField(source="tenant.slug")
    warehouse = serializers.CharField(source="warehouse.code")
    sku = serializers.CharField(source="product.sku")
    location = serializers.CharField(source="location.code")
    lot = serializers.CharField(source="lot.code", allow_null=True, default=None)
    value = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="|quantity_delta| x unit value")
    movement = s.MovementSerializer(allow_null=True)
    count_line = serializers.IntegerField(source="count_line_id", allow_null=True)

    class Meta:
        model = Adjustment
        fields = [
            "id",
            "tenant",
            "warehouse",
            "sku",
            "location",
            "lot",
            "quantity_delta",
            "reason",
            "note",
            "value",
            "status",
            "requested_by",
            "decided_by",
            "decided_at",
            "movement",
            "count_line",
            "created_at",
        ]


class _AdjustmentQueryset:
    """Adjustments this staff member may see: TenantScoped rows, narrowed to their warehouses."""

    permission_classes = [IsStaff]
    serializer_class = AdjustmentSerializer

    def get_queryset(self):
        return Adjustment.objects.visible_to(self.actor).select_related(
            "tenant", "warehouse", "product", "location", "lot", "movement__product", "movement__lot",
            "movement__from_location", "movement__to_location",
        )  # fmt: skip

    def _get(self, pk) -> Adjustment:
        adjustment = self.get_queryset().filter(pk=pk).first()
        if adjustment is None:
            raise exceptions.NotFound("No such adjustment.")
        return adjustment


class AdjustmentView(_AdjustmentQueryset, ActorMixin, generics.GenericAPIView):
    @extend_schema(
        parameters=[OpenApiParameter("status", enum=AdjustmentStatus.values, required=False)],
        responses=AdjustmentSerializer(many=True),
    )
    def get(self, request):
        """Adjustments in the staff member's warehouses, newest first; filter with ?status=."""
        qs = self.get_queryset()
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in AdjustmentStatus.values:
                raise field_error(f"unknown status {wanted}", field="status", code="invalid_choice")
            qs = qs.filter(status=wanted)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(AdjustmentSerializer(page, many=True).data)

    @extend_schema(
        request=AdjustmentInputSerializer,
        responses={201: AdjustmentSerializer, 202: AdjustmentSerializer},
        description=(
            "Correct the stock of a location with a reason code. Within the thresholds it posts at once "
            "(201, with the ledger movement); above them it waits for a manager's approval (202)."
        ),
    )
    def post(self, request):
        payload = AdjustmentInputSerializer(data=request.data)
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
        with transaction.atomic():
            adjustment = service.adjustment_create(
                tenant_id=tenant.pk,
                warehouse_id=location.warehouse_id,
                sku=data["sku"],
                location_code=location.code,
                quantity_delta=data["quantity_delta"],
                reason=data["reason"],
                lot=data["lot"],
                expiry_date=data["expiry_date"],
                note=data["note"],
                actor=self.actor.label,
            )
        posted = adjustment.status == AdjustmentStatus.POSTED
        return Response(
            AdjustmentSerializer(self._get(adjustment.pk)).data,
            status=status.HTTP_201_CREATED if posted else status.HTTP_202_ACCEPTED,
        )


class AdjustmentDetailView(_AdjustmentQueryset, ActorMixin, generics.GenericAPIView):
    @extend_schema(responses=AdjustmentSerializer)
    def get(self, request, pk):
        return Response(AdjustmentSerializer(self._get(pk)).data)


_DecisionSerializer = inline_serializer(
    "AdjustmentDecision", {"note": serializers.CharField(max_length=100, required=False, allow_blank=True)}
)


def _decide(view, pk, decide):
    adjustment = view._get(pk)
    if not view.actor.is_manager:
        raise exceptions.PermissionDenied("Only a manager may approve or reject adjustments.")
    decide(adjustment)
    return Response(AdjustmentSerializer(view._get(pk)).data)


class AdjustmentApproveView(_AdjustmentQueryset, ActorMixin, generics.GenericAPIView):
    @extend_schema(request=None, responses=AdjustmentSerializer)
    def post(self, request, pk):
        """Post a pending adjustment (managers). 409 when its units are no longer there to remove."""
        return _decide(self, pk, lambda a: service.adjustment_approve(adjustment_id=a.pk, actor=self.actor))


class AdjustmentRejectView(_AdjustmentQueryset, ActorMixin, generics.GenericAPIView):
    @extend_schema(request=_DecisionSerializer, responses=AdjustmentSerializer)
    def post(self, request, pk):
        """Refuse a pending adjustment (managers); nothing moves."""
        note = str(request.data.get("note", ""))[:100] if hasattr(request.data, "get") else ""
        return _decide(self, pk, lambda a: service.adjustment_reject(adjustment_id=a.pk, actor=self.actor, note=note))


urlpatterns = [
    path("inventory/adjustments/<uuid:pk>/", AdjustmentDetailView.as_view(), name="inventory-adjustment-detail"),
    path(
        "inventory/adjustments/<uuid:pk>/approve/",
        AdjustmentApproveView.as_view(),
        name="inventory-adjustment-approve",
    ),
    path(
        "inventory/adjustments/<uuid:pk>/reject/",
        AdjustmentRejectView.as_view(),
        name="inventory-adjustment-reject",
    ),
]
