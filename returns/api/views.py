from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from fulfillment.api.base import IsStaff, ScopedViewSet
from returns import services
from returns.api import serializers as s
from returns.models import Return, ReturnStatus


class ReturnFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ReturnStatus.choices)
    order = filters.UUIDFilter(field_name="order_id")
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Return
        fields = ["status", "order"]


class ReturnViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Returns (RMAs): merchants open them for their shipped orders; staff receive them."""

    model = Return
    serializer_class = s.ReturnSerializer
    filterset_class = ReturnFilter

    def base_queryset(self, qs):
        return qs.select_related("order", "warehouse").prefetch_related("lines", "receipts__line", "receipts__location")

    def _answer(self, return_id, code=status.HTTP_200_OK) -> Response:
        return Response(s.ReturnSerializer(self.get_queryset().get(pk=return_id)).data, status=code)

    @extend_schema(
        request=s.ReturnCreateSerializer,
        responses={
            201: s.ReturnSerializer,
            409: OpenApiResponse(description="the order is not shipped or delivered"),
            422: OpenApiResponse(
                description="unknown order (field order, code not_found), SKUs not on the order, "
                "or more units than were shipped and not yet returned"
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        """Open a return for units of one of your shipped or delivered orders."""
        if not self.actor.is_merchant:
            raise exceptions.PermissionDenied("Returns are opened by merchants with an API key.")
        payload = s.ReturnCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        rma = services.return_create(
            tenant_id=self.actor.tenant_id,
            order_id=data["order"],
            lines=[dict(line) for line in data["lines"]],
            actor=self.actor.label,
        )
        return self._answer(rma.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ReturnReceiveSerializer,
        responses={
            200: s.ReturnSerializer,
            409: OpenApiResponse(description="every unit of the return was already received"),
            422: OpenApiResponse(description="lines that are not on the return, too many units, unknown locations"),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsStaff])
    def receive(self, request, pk=None):
        """Receive a parcel of the return (it may come in several): per line the units found, their grade
        (new, opened, damaged, defective) and disposition (restock, quarantine, dispose). Restocked units
        become available and backorders are re-allocated."""
        rma = self.get_object()
        payload = s.ReturnReceiveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.return_receive(
            return_id=rma.pk,
            lines=[dict(line) for line in payload.validated_data["lines"]],
            actor=self.actor.label,
        )
        return self._answer(rma.pk)
