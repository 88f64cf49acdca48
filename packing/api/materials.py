"""Packing materials (operator stock): every staff member reads the balances of their warehouses
and the ledger; managers add materials and record receipts, adjustments and counts."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from fulfillment.api.base import ActorMixin
from fulfillment.api.pagination import CreatedCursorPagination
from inventory.selectors import warehouse_from_code
from packing import selectors, services
from packing.api.boxes import ManagersChange
from packing.models import MANUAL_MATERIAL_REASONS, Material, MaterialKind, MaterialMovement

PROBLEM = OpenApiResponse(description="Problem document (application/problem+json)")
WAREHOUSE_PARAM = OpenApiParameter(
    "warehouse", OpenApiTypes.STR, description="Only this warehouse (the code of one you work in)"
)


class MaterialsManagersChange(ManagersChange):
    message = "Only managers change packing materials."


class MaterialBalanceSerializer(serializers.Serializer):
    warehouse = serializers.CharField(source="warehouse_code")
    on_hand = serializers.IntegerField(help_text="May be negative: more was used than the books had")
    low = serializers.BooleanField(help_text="on_hand is at or below the material's reorder_point")


class MaterialSerializer(serializers.ModelSerializer):
    box = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text="The catalog box it stocks")
    balances = serializers.SerializerMethodField()

    class Meta:
        model = Material
        fields = ["id", "code", "name", "kind", "box", "unit_cost", "currency", "reorder_point", "weight_g", "balances"]
        read_only_fields = fields

    @extend_schema_field(MaterialBalanceSerializer(many=True))
    def get_balances(self, obj: Material) -> list[dict]:
        """One per warehouse you work in (0 where nothing was recorded yet)."""
        return MaterialBalanceSerializer(self.context["stock"].get(obj.pk, []), many=True).data


class MaterialInputSerializer(serializers.Serializer):
    code = serializers.RegexField(r"^[A-Za-z0-9._\-]{1,30}$", help_text="Unique")
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=MaterialKind.choices)
    box = serializers.CharField(
        max_length=30, required=False, allow_null=True, help_text="The code of the catalog box this material is"
    )
    unit_cost = serializers.DecimalField(max_digits=10, decimal_places=4, min_value=0, default=0)
    currency = serializers.RegexField(r"^[A-Z]{3}$", default="USD", help_text="ISO 4217")
    reorder_point = serializers.IntegerField(min_value=0, max_value=services.materials.MAX_QUANTITY, default=0)
    weight_g = serializers.IntegerField(
        min_value=0, max_value=100_000, default=0, help_text="Grams per unit in a parcel (void fill)"
    )


class MaterialPatchSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    unit_cost = serializers.DecimalField(max_digits=10, decimal_places=4, min_value=0, required=False)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, help_text="ISO 4217")
    reorder_point = serializers.IntegerField(
        min_value=0,
        max_value=services.materials.MAX_QUANTITY,
        required=False,
        help_text="A new reorder point raises or resolves the low-stock alerts at once",
    )
    weight_g = serializers.IntegerField(min_value=0, max_value=100_000, required=False)


class MaterialMovementSerializer(serializers.ModelSerializer):
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)
    material = serializers.CharField(source="material.code", read_only=True)
    user = serializers.CharField(source="user.username", read_only=True, allow_null=True, default=None)
    package = serializers.UUIDField(source="package_id", read_only=True, allow_null=True)
    shipment = serializers.UUIDField(source="shipment_id", read_only=True, allow_null=True)

    class Meta:
        model = MaterialMovement
        fields = [
            "id",
            "warehouse",
            "material",
            "quantity_delta",
            "reason",
            "package",
            "shipment",
            "reference",
            "user",
            "actor",
            "note",
            "at",
        ]
        read_only_fields = fields


class MaterialMovementInputSerializer(serializers.Serializer):
    warehouse = serializers.CharField(max_length=20, help_text="The code of a warehouse you work in")
    reason = serializers.ChoiceField(
        choices=MANUAL_MATERIAL_REASONS,
        help_text="received: a delivery (quantity > 0); adjusted: a correction (quantity +/-, not 0); "
        "counted: what was counted (quantity >= 0; the movement is the difference with the books)",
    )
    quantity = serializers.IntegerField(
        min_value=-services.materials.MAX_QUANTITY, max_value=services.materials.MAX_QUANTITY
    )
    reference = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class MaterialPagination(CreatedCursorPagination):
    ordering = ("code",)


class MovementPagination(CreatedCursorPagination):
    ordering = ("-at", "-id")


def _material_answer(view, materials: list[Material]) -> dict:
    warehouse = view.request.query_params.get("warehouse")
    return {"stock": selectors.material_stock(actor=view.actor, materials=materials, warehouse_code=warehouse)}


@extend_schema_view(
    get=extend_schema(operation_id="v1_materials_list", parameters=[WAREHOUSE_PARAM]),
    post=extend_schema(
        operation_id="v1_materials_create",
        request=MaterialInputSerializer,
        responses={201: MaterialSerializer, 403: PROBLEM, 409: PROBLEM, 422: PROBLEM},
    ),
)
class MaterialListView(ActorMixin, generics.ListCreateAPIView):
    """Packing materials (operator stock) with their on hand in each warehouse you work in; a
    balance at or below the reorder point is ``low``. Managers add materials."""

    permission_classes = [MaterialsManagersChange]
    serializer_class = MaterialSerializer
    pagination_class = MaterialPagination

    def get_queryset(self):
        # Materials are the operator's catalog (no tenant); their balances are read per warehouse.
        return Material.objects.select_related("box").order_by("code")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        data = MaterialSerializer(page, many=True, context=_material_answer(self, page)).data
        return self.get_paginated_response(data)

    def create(self, request, *args, **kwargs):
        payload = MaterialInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        values = dict(payload.validated_data)
        material = services.material_create(box_code=values.pop("box", None), **values)
        data = MaterialSerializer(material, context=_material_answer(self, [material])).data
        return Response(data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="v1_materials_retrieve",
        parameters=[WAREHOUSE_PARAM],
        responses={200: MaterialSerializer, 404: PROBLEM},
    ),
    patch=extend_schema(
        operation_id="v1_materials_partial_update",
        request=MaterialPatchSerializer,
        responses={200: MaterialSerializer, 403: PROBLEM, 404: PROBLEM, 422: PROBLEM},
    ),
)
class MaterialDetailView(ActorMixin, generics.GenericAPIView):
    """One material by its code, with its balances; managers change its name, cost and reorder point
    (the box it stocks and its kind stay: add another material instead)."""

    permission_classes = [MaterialsManagersChange]
    serializer_class = MaterialSerializer

    def material(self) -> Material:
        return get_object_or_404(Material.objects.select_related("box"), code=self.kwargs["code"])

    def get(self, request, code):
        material = self.material()
        return Response(MaterialSerializer(material, context=_material_answer(self, [material])).data)

    def patch(self, request, code):
        material = self.material()
        payload = MaterialPatchSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.material_update(code=material.code, **payload.validated_data)
        material = self.material()
        return Response(MaterialSerializer(material, context=_material_answer(self, [material])).data)


@extend_schema_view(
    get=extend_schema(operation_id="v1_materials_movements_list", parameters=[WAREHOUSE_PARAM]),
    post=extend_schema(
        operation_id="v1_materials_movements_create",
        request=MaterialMovementInputSerializer,
        responses={201: MaterialMovementSerializer, 403: PROBLEM, 404: PROBLEM, 422: PROBLEM},
    ),
)
class MaterialMovementListView(ActorMixin, generics.ListCreateAPIView):
    """The ledger of one material in the warehouses you work in, newest first (append-only).
    Managers record a receipt, an adjustment or a count; packing records what it consumes."""

    permission_classes = [MaterialsManagersChange]
    serializer_class = MaterialMovementSerializer
    pagination_class = MovementPagination

    def material(self) -> Material:
        return get_object_or_404(Material.objects.all(), code=self.kwargs["code"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no material code
            return MaterialMovement.objects.none()
        return selectors.material_movements(
            actor=self.actor, material=self.material(), warehouse_code=self.request.query_params.get("warehouse")
        )

    def create(self, request, *args, **kwargs):
        material = self.material()
        payload = MaterialMovementInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        values = payload.validated_data
        warehouse = warehouse_from_code(self.actor, values["warehouse"])
        movement = services.material_movement_record(
            warehouse_id=warehouse.pk,
            material_code=material.code,
            reason=values["reason"],
            quantity=values["quantity"],
            reference=values["reference"],
            note=values["note"],
            actor=self.actor.label,
            user_id=self.actor.user_id,
        )
        movement = MaterialMovement.objects.select_related("warehouse", "material", "user").get(pk=movement.pk)
        return Response(MaterialMovementSerializer(movement).data, status=status.HTTP_201_CREATED)
