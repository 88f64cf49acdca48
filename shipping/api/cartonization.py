"""Cartonization over HTTP: which boxes, and where each unit goes, for given units or an order's.

It lives in shipping, not packing, because the DIM divisor is the carrier account's (a carrier
is a shipping model); the packing is packing.cartonization's, the same function packing uses.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.api.base import ActorMixin, IsStaff
from orders.models import Order
from packing import selectors as packing_selectors
from packing.cartonization import DEFAULT_DIM_DIVISOR, ItemSpec, PlannedPackage, cartonize
from shipping.models import Carrier

PROBLEM = OpenApiResponse(description="Problem document (application/problem+json)")
MAX_SIDE_MM = 10_000
MAX_UNIT_WEIGHT_G = 1_000_000
MAX_UNITS = 200  # units in one request: more is not an order but a pallet


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


class PlacementSerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text="Index into items")
    x_mm = serializers.IntegerField()
    y_mm = serializers.IntegerField()
    z_mm = serializers.IntegerField()
    length_mm = serializers.IntegerField(help_text="Extent along the box's length (x)")
    width_mm = serializers.IntegerField(help_text="Extent along the box's width (y)")
    height_mm = serializers.IntegerField(help_text="Extent up the box's height (z)")


class PlannedItemSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


class PlannedPackageSerializer(serializers.Serializer):
    box = serializers.CharField(allow_null=True, help_text="Box code; null: the unit ships alone, as is")
    kind = serializers.CharField(allow_null=True, help_text="box, mailer or poly; null without a box")
    length_mm = serializers.IntegerField(help_text="The box's inner size, or the unit's own")
    width_mm = serializers.IntegerField()
    height_mm = serializers.IntegerField()
    fill_ratio = serializers.FloatField(help_text="Units' volume / box volume")
    weight_g = serializers.IntegerField(help_text="Contents and box tare")
    dim_weight_g = serializers.IntegerField()
    billable_weight_g = serializers.IntegerField(help_text="The larger of weight_g and dim_weight_g")
    items = PlannedItemSerializer(many=True)
    placements = PlacementSerializer(many=True)


class CartonizationSerializer(serializers.Serializer):
    dim_divisor = serializers.IntegerField(help_text="mm³ per gram used (5000 = 5000 cm³/kg)")
    packages = PlannedPackageSerializer(many=True)
    total_billable_weight_g = serializers.IntegerField()


def _answer(plan: list[PlannedPackage], divisor: int) -> dict:
    return {
        "dim_divisor": divisor,
        "packages": [
            {
                "box": p.box.code if p.box else None,
                "kind": p.box.kind if p.box else None,
                "length_mm": p.length_mm,
                "width_mm": p.width_mm,
                "height_mm": p.height_mm,
                "fill_ratio": p.fill_ratio,
                "weight_g": p.weight_g,
                "dim_weight_g": p.dim_weight_g,
                "billable_weight_g": p.billable_weight_g,
                "items": p.items_json(),
                "placements": [vars(pl) for pl in p.placements],
            }
            for p in plan
        ],
        "total_billable_weight_g": sum(p.billable_weight_g for p in plan),
    }


def _divisor(carrier_code: str | None, service_code: str | None) -> int:
    if not carrier_code:
        if service_code:
            raise exceptions.ValidationError({"service": ["a service needs its carrier"]})
        return DEFAULT_DIM_DIVISOR
    carrier = Carrier.objects.filter(code=carrier_code, is_active=True).first()
    if carrier is None:
        raise exceptions.ValidationError({"carrier": [f"unknown or inactive carrier {carrier_code!r}"]})
    if service_code and not carrier.services.filter(code=service_code, is_active=True).exists():
        raise exceptions.ValidationError({"service": [f"{carrier_code} offers no service {service_code!r}"]})
    return carrier.dim_divisor_mm3_per_g


def _boxes(codes: list[str] | None) -> list:
    boxes, unknown = packing_selectors.boxes_by_code(codes)
    if unknown:
        raise exceptions.ValidationError({"boxes": [f"unknown or inactive box {', '.join(unknown)}"]})
    return [packing_selectors.box_spec(b) for b in boxes]


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
        divisor = _divisor(data.get("carrier"), data.get("service"))
        boxes = _boxes(data.get("boxes"))
        items = [ItemSpec(**item) for item in data["items"]]
        return Response(_answer(cartonize(items, boxes, dim_divisor=divisor), divisor))


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
        divisor = _divisor(request.query_params.get("carrier"), request.query_params.get("service"))
        items = packing_selectors.order_unit_specs(order=order)
        if sum(i.quantity for i in items) > MAX_UNITS:
            raise exceptions.ValidationError({"items": [f"the order has more than {MAX_UNITS} units"]})
        return Response(_answer(cartonize(items, _boxes(None), dim_divisor=divisor), divisor))
