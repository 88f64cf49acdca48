from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.api.base import ActorMixin, IsActor, IsStaff
from fulfillment.api.documents import FirstRendererNegotiation, document_response
from orders.models import Order
from packing import services
from packing.api import serializers as s
from packing.documents import packing_slip_pdf
from packing.models import Shipment

PROBLEM = OpenApiResponse(description="Problem document (application/problem+json)")


class OrderPackView(ActorMixin, APIView):
    """Pack a picked order into a shipment; the label is bought in the background."""

    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="v1_orders_pack_create",
        request=s.PackInputSerializer,
        responses={
            201: s.PackedShipmentSerializer,
            404: PROBLEM,
            409: OpenApiResponse(
                description="`invalid_state` (the order is not picked), or `being_packed`: another packer "
                "holds an open pack session for it (`held_by`, `station`)"
            ),
            422: PROBLEM,
        },
    )
    def post(self, request, pk):
        # Scope first: an order of a warehouse this staff member does not work in is 404.
        order = get_object_or_404(Order.objects.visible_to(self.actor).only("pk"), pk=pk)
        data = request.data if request.data else {}
        serializer = s.PackInputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        try:
            shipment = services.order_pack(
                order_id=order.pk,
                actor=self.actor.label,
                packages=serializer.validated_data.get("packages") or None,
                actor_obj=self.actor,
            )
        except Order.DoesNotExist:
            raise exceptions.NotFound() from None
        shipment = (
            Shipment.objects.select_related("order", "warehouse")
            .prefetch_related("packages__box")
            .defer("label_pdf", "label_zpl")
            .get(pk=shipment.pk)
        )
        return Response(s.PackedShipmentSerializer(shipment).data, status=status.HTTP_201_CREATED)


class PackingSlipView(ActorMixin, APIView):
    """The packing slip of an order (staff of its warehouse, or the merchant that owns it)."""

    permission_classes = [IsActor]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        operation_id="v1_orders_packing_slip_retrieve",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: PROBLEM},
        description=(
            "The slip in the merchant's branding (logo and name at the top, brand colour, slip message at the "
            "foot; see /api/v1/branding/). Unit prices, line totals and the total are printed when the order "
            "has prices, except on a gift order (gift_message set): no price at all, and a boxed gift note "
            "with the message."
        ),
    )
    def get(self, request, pk):
        order = get_object_or_404(Order.objects.visible_to(self.actor), pk=pk)
        pdf = packing_slip_pdf(order=order)
        return document_response(pdf, content_type="application/pdf", filename=f"packing-slip-{order.number}.pdf")
