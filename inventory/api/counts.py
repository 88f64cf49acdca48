"""Cycle counts: create, list, detail (blind for associates), submit, approve, reject, accuracy."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response

from fulfillment.api.base import ActorMixin, IsStaff
from fulfillment.api.errors import field_error
from inventory import selectors_counts as selectors
from inventory.models import CountStatus, CycleCount, Warehouse
from inventory.selectors import warehouse_from_code
from inventory.services import counts as service


class CountCreateSerializer(serializers.Serializer):
    warehouse = serializers.CharField(max_length=20)
    location = serializers.CharField(max_length=30, help_text="The location's code (its barcode)")


class CountLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    lot = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    tenant = serializers.SlugField(required=False, allow_blank=True, default="", help_text="Needed for a SKU "
                                   "that several tenants use, when it was not expected at the location")  # fmt: skip
    counted_quantity = serializers.IntegerField(min_value=0, max_value=1_000_000)


class CountSubmitSerializer(serializers.Serializer):
    lines = CountLineInputSerializer(many=True, max_length=1000, help_text="Products not listed count as 0")


class CountLineSerializer(serializers.Serializer):
    tenant = serializers.CharField()
    sku = serializers.CharField()
    lot = serializers.CharField(allow_null=True)
    expected_quantity = serializers.IntegerField(allow_null=True, help_text="Managers only (blind count)")
    counted_quantity = serializers.IntegerField(allow_null=True)
    variance = serializers.IntegerField(allow_null=True, help_text="Managers only")
    posted_quantity = serializers.IntegerField(allow_null=True, help_text="Posted as adjustments; managers only")


class CycleCountSerializer(serializers.ModelSerializer):
    warehouse = serializers.CharField(source="warehouse.code")
    location = serializers.CharField(source="location.code")
    # Plain strings in the schema: enum names "reason"/"status" collide with other components.
    reason = serializers.CharField(help_text="scheduled | short_pick | negative_availability | manual")
    status = serializers.CharField(help_text="open | in_review | closed | cancelled")
    lines = serializers.SerializerMethodField()
    location_held = serializers.BooleanField(
        source="location.is_held",
        read_only=True,
        help_text="The location is held after a short pick: no order is allocated its stock until it is counted",
    )

    class Meta:
        model = CycleCount
        fields = [
            "id",
            "warehouse",
            "location",
            "location_held",
            "reason",
            "status",
            "scheduled_for",
            "has_variance",
            "counted_by",
            "submitted_at",
            "closed_at",
            "lines",
            "created_at",
        ]

    @extend_schema_field(CountLineSerializer(many=True))
    def get_lines(self, count) -> list[dict]:
        actor = self.context["actor"]
        return CountLineSerializer(selectors.count_lines(count=count, actor=actor), many=True).data

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context["actor"].is_manager:
            data.pop("has_variance")  # blind: an associate does not learn whether the count matched
        return data


class AccuracySerializer(serializers.Serializer):
    days = serializers.IntegerField()
    locations_counted = serializers.IntegerField()
    locations_without_variance = serializers.IntegerField()
    accuracy_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)


class _Counts(ActorMixin):
    permission_classes = [IsStaff]
    serializer_class = CycleCountSerializer

    # Counts are operator rows, not TenantScoped: the selector scopes them to the actor's warehouses.
    def get_queryset(self):
        return selectors.counts_visible_to(self.actor)

    def _get(self, pk) -> CycleCount:
        count = self.get_queryset().filter(pk=pk).first()
        if count is None:
            raise exceptions.NotFound("No such count.")
        return count

    def _render(self, count, code=status.HTTP_200_OK):
        count = self._get(count.pk)
        return Response(CycleCountSerializer(count, context={"actor": self.actor}).data, status=code)


def _manager(actor) -> None:
    if not actor.is_manager:
        raise exceptions.PermissionDenied("Only a manager may decide a count in review.")


class CountListView(_Counts, generics.GenericAPIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("status", enum=CountStatus.values, required=False),
            OpenApiParameter("warehouse", str, required=False),
        ],
        responses=CycleCountSerializer(many=True),
    )
    def get(self, request):
        """Counts in the staff member's warehouses, newest first. Expected quantities: managers only."""
        qs = self.get_queryset()
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in CountStatus.values:
                raise field_error(f"unknown status {wanted}", field="status", code="invalid_choice")
            qs = qs.filter(status=wanted)
        if request.query_params.get("warehouse"):
            qs = qs.filter(warehouse__code=request.query_params["warehouse"].strip().upper())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(CycleCountSerializer(page, many=True, context={"actor": self.actor}).data)

    @extend_schema(request=CountCreateSerializer, responses={201: CycleCountSerializer})
    def post(self, request):
        """A manual count of one location; 409 when the location already has an open count."""
        payload = CountCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        warehouse = warehouse_from_code(self.actor, data["warehouse"])
        count = service.count_create(warehouse_id=warehouse.pk, location_code=data["location"])
        return self._render(count, status.HTTP_201_CREATED)


class CountDetailView(_Counts, generics.GenericAPIView):
    @extend_schema(responses=CycleCountSerializer)
    def get(self, request, pk):
        return self._render(self._get(pk))


class CountSubmitView(_Counts, generics.GenericAPIView):
    @extend_schema(request=CountSubmitSerializer, responses=CycleCountSerializer)
    def post(self, request, pk):
        """Counted quantities. No variance: closed; small variances post at once; bigger ones wait in review."""
        count = self._get(pk)
        payload = CountSubmitSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        service.count_submit(
            count_id=count.pk,
            lines=[service.CountLineInput(**line) for line in payload.validated_data["lines"]],
            actor=self.actor.label,
        )
        return self._render(count)


class CountApproveView(_Counts, generics.GenericAPIView):
    @extend_schema(request=None, responses=CycleCountSerializer)
    def post(self, request, pk):
        """Post the variances as adjustments (managers). Units still reserved stay in review, visible."""
        count = self._get(pk)
        _manager(self.actor)
        service.count_approve(count_id=count.pk, actor=self.actor)
        return self._render(count)


class CountRejectView(_Counts, generics.GenericAPIView):
    @extend_schema(request=None, responses={201: CycleCountSerializer})
    def post(self, request, pk):
        """Discard the counted figures (managers); answers with the recount that replaces it."""
        count = self._get(pk)
        _manager(self.actor)
        recount = service.count_reject(count_id=count.pk, actor=self.actor)
        return self._render(recount, status.HTTP_201_CREATED)


class AccuracyView(_Counts, generics.GenericAPIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("days", int, required=False, description="Period in days (default 30)"),
            OpenApiParameter("warehouse", str, required=False),
        ],
        responses=AccuracySerializer,
    )
    def get(self, request):
        """Inventory accuracy: locations counted without variance / locations counted, over the period."""
        raw = request.query_params.get("days", "30")
        if not raw.isdigit() or not 1 <= int(raw) <= 3660:
            raise field_error("days must be a whole number from 1 to 3660", field="days", code="invalid")
        warehouse_id = None
        if request.query_params.get("warehouse"):
            warehouse = Warehouse.objects.filter(code=request.query_params["warehouse"].strip().upper()).first()
            if warehouse is None:
                raise field_error("unknown warehouse", field="warehouse", code="unknown_warehouse")
            warehouse_id = warehouse.pk
        result = selectors.inventory_accuracy(actor=self.actor, days=int(raw), warehouse_id=warehouse_id)
        return Response(AccuracySerializer(result).data)


urlpatterns = [
    path("cycle-counts/", CountListView.as_view(), name="cycle-count-list"),
    path("cycle-counts/accuracy/", AccuracyView.as_view(), name="cycle-count-accuracy"),
    path("cycle-counts/<uuid:pk>/", CountDetailView.as_view(), name="cycle-count-detail"),
    path("cycle-counts/<uuid:pk>/submit/", CountSubmitView.as_view(), name="cycle-count-submit"),
    path("cycle-counts/<uuid:pk>/approve/", CountApproveView.as_view(), name="cycle-count-approve"),
    path("cycle-counts/<uuid:pk>/reject/", CountRejectView.as_view(), name="cycle-count-reject"),
]
