"""The box catalog: every staff member reads it, managers add and change boxes."""

from __future__ import annotations

from django.db import IntegrityError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, permissions, serializers
from rest_framework.validators import UniqueValidator

from fulfillment.api.base import ActorMixin, IsStaff
from fulfillment.api.pagination import CreatedCursorPagination
from packing.models import Box, BoxKind

PROBLEM = OpenApiResponse(description="Problem document (application/problem+json)")
MAX_SIDE_MM = 3000
MAX_BOX_WEIGHT_G = 1_000_000


class BoxSerializer(serializers.ModelSerializer):
    code = serializers.RegexField(
        r"^[A-Za-z0-9._\-]{1,30}$",
        validators=[UniqueValidator(queryset=Box.objects.all(), message="a box with this code exists")],
        help_text="What the packer scans; unique",
    )
    kind = serializers.ChoiceField(
        choices=BoxKind.choices, default=BoxKind.BOX, help_text="poly mailers take only poly_mailer_ok goods"
    )
    length_mm = serializers.IntegerField(min_value=1, max_value=MAX_SIDE_MM, help_text="Inner length")
    width_mm = serializers.IntegerField(min_value=1, max_value=MAX_SIDE_MM, help_text="Inner width")
    height_mm = serializers.IntegerField(min_value=1, max_value=MAX_SIDE_MM, help_text="Inner height")
    max_weight_g = serializers.IntegerField(min_value=1, max_value=MAX_BOX_WEIGHT_G, help_text="Heaviest contents")
    tare_weight_g = serializers.IntegerField(min_value=0, max_value=MAX_BOX_WEIGHT_G, default=0)
    cost = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, default=0)
    currency = serializers.RegexField(r"^[A-Z]{3}$", default="USD", help_text="ISO 4217")
    active = serializers.BooleanField(source="is_active", default=True, help_text="Inactive boxes are never chosen")

    class Meta:
        model = Box
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "length_mm",
            "width_mm",
            "height_mm",
            "max_weight_g",
            "tare_weight_g",
            "cost",
            "currency",
            "recyclable",
            "active",
        ]
        read_only_fields = ["id"]


class ManagersChange(IsStaff):
    """Every staff member reads the catalog; only managers add or change boxes (before any input is read)."""

    message = "Only managers change the box catalog."

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        return request.method in permissions.SAFE_METHODS or view.actor.is_manager


class BoxPagination(CreatedCursorPagination):
    ordering = ("code",)


@extend_schema_view(
    get=extend_schema(operation_id="v1_boxes_list"),
    post=extend_schema(operation_id="v1_boxes_create", responses={201: BoxSerializer, 403: PROBLEM, 422: PROBLEM}),
)
class BoxListView(ActorMixin, generics.ListCreateAPIView):
    """The box catalog (operator-owned, the same for every tenant); managers add boxes."""

    permission_classes = [ManagersChange]
    serializer_class = BoxSerializer
    pagination_class = BoxPagination

    def get_queryset(self):
        boxes = Box.objects.order_by("code")
        active = self.request.query_params.get("active")
        if active in ("true", "false"):
            boxes = boxes.filter(is_active=active == "true")
        return boxes

    def perform_create(self, serializer):
        try:
            serializer.save()
        except IntegrityError:
            raise exceptions.ValidationError({"code": ["a box with this code exists"]}) from None


@extend_schema_view(
    get=extend_schema(operation_id="v1_boxes_retrieve", responses={200: BoxSerializer, 404: PROBLEM}),
    patch=extend_schema(
        operation_id="v1_boxes_partial_update", responses={200: BoxSerializer, 403: PROBLEM, 404: PROBLEM, 422: PROBLEM}
    ),
)
class BoxDetailView(ActorMixin, generics.RetrieveUpdateAPIView):
    """One box by its code. A box in use keeps its packages; deactivate it to stop choosing it."""

    permission_classes = [ManagersChange]
    serializer_class = BoxSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return get_object_or_404(Box.objects.all(), code=self.kwargs["code"])
