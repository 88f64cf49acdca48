"""Cartonization over HTTP: which boxes, and where each unit goes, for given units or an order's.

It lives in shipping, not packing, because the DIM divisor is the carrier account's (a carrier
is a shipping model); the packing is packing.cartonization's, the same function packing uses.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.api.base import ActorMixin, IsStaff
from orders.models import Order
from packing.api.serializers import PlannedPackageSerializer
from packing.cartonization import ItemSpec, PlannedPackage
from shipping import selectors
from shipping.selectors import MAX_CARTON_UNITS as MAX_UNITS

PROBLEM = OpenApiResponse(description="Problem document (application/problem+json)")
MAX_SIDE_MM = 10_000
MAX_UNIT_WEIGHT_G = 1_000_000


class CartonItemSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    length_mm = serializers.IntegerField(min_value=1, max_value=MAX_SIDE_MM)
    width_mm = serializers.IntegerField(min_value=1, max_value=MAX_SIDE_MM)
    height_mm = serializers.IntegerField(min_value=1, max_value=MAX_SIDE_MM)
    weight_g = serializers.IntegerField(min_value=0, max_value=MAX_UNIT_WEIGHT_G)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)
    own_container = serializers.BooleanField(default=False, help_text="Ships alone in its own packaging")
    upright = serializers.BooleanField(default=False, help_text="Its height stays vertical")
    fragile = serializers.BooleanField(default=False, help_text="Nothing rests above it; never in a poly mailer")
    poly_ok = serializers.BooleanField(default=False, help_text="May go into a poly mailer (soft goods)")


class CartonizationInputSerializer(serializers.Serializer):
    items = CartonItemSerializer(many=True, allow_empty=False, max_length=MAX_UNITS)
    boxes = serializers.ListField(
        child=serializers.CharField(max_length=30),
        required=False,
        allow_empty=False,
        max_length=100,
        help_text="Box codes to choose from; default: the active catalog",
    )
    carrier = serializers.CharField(max_length=30, required=False, help_text="Its DIM divisor; default 5000 cm³/kg")
    service = serializers.CharField(max_length=20, required=False)

    def validate_items(self, items):
        if sum(item["quantity"] for item in items) > MAX_UNITS:
            raise serializers.ValidationError(f"at most {MAX_UNITS} units in one request", code="too_many_units")
        return items


class CartonizationSerializer(serializers.Serializer):
    dim_divisor = serializers.IntegerField(help_text="mm³ per gram used (5000 = 5000 cm³/kg)")
    packages = PlannedPackageSerializer(many=True)
    total_billable_weight_g = serializers.IntegerField()


def _answer(plan: list[PlannedPackage], divisor: int) -> dict:
    total = sum(p.billable_weight_g for p in plan)
    return CartonizationSerializer({"dim_divisor": divisor, "packages": plan, "total_billable_weight_g": total}).data


class CartonizationView(ActorMixin, APIView):
    """Stateless: the packages for the given units (nothing is stored)."""

    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="v1_cartonization_create",
        request=CartonizationInputSerializer,
        responses={200: CartonizationSerializer, 403: PROBLEM, 422: PROBLEM},
    )
    def post(self, request):
        serializer = CartonizationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        plan, divisor = selectors.cartonization_plan(
            [ItemSpec(**item) for item in data["items"]],
            box_codes=data.get("boxes"),
            carrier_code=data.get("carrier"),
            service_code=data.get("service"),
        )
        return Response(_answer(plan, divisor))


class OrderCartonizationView(ActorMixin, APIView):
    """The packages for an order's units: picked ones once picking began, else the ordered ones."""

    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="v1_orders_cartonization_retrieve",
        parameters=[
            OpenApiParameter("carrier", str, description="Use this carrier's DIM divisor"),
            OpenApiParameter("service", str),
        ],
        responses={200: CartonizationSerializer, 404: PROBLEM, 422: PROBLEM},
    )
    def get(self, request, pk):
        order = get_object_or_404(Order.objects.visible_to(self.actor), pk=pk)
        plan, divisor = selectors.order_cartonization_plan(
            order=order,
            carrier_code=request.query_params.get("carrier"),
            service_code=request.query_params.get("service"),
        )
        return Response(_answer(plan, divisor))
