"""Rates, label purchase and void, pushed tracking events and the exceptions queue (staff)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from fulfillment.api.base import ActorMixin, IsStaff, ScopedViewSet
from fulfillment.api.pagination import CreatedCursorPagination
from packing.models import Shipment
from shipping import services
from shipping.api.serializers import ShipmentSerializer, shipment_queryset
from shipping.models import ExceptionCode, ShippingException, TrackingStatus

PROBLEM = OpenApiResponse(description="Problem document (application/problem+json)")


class QuoteSerializer(serializers.Serializer):
    carrier = serializers.CharField(help_text="The carrier account's carrier_id")
    carrier_account = serializers.UUIDField()
    carrier_name = serializers.CharField(help_text="karrio's carrier name")
    service = serializers.CharField()
    service_name = serializers.CharField()
    level = serializers.CharField(help_text="standard | express | same_day")
    total_charge = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    transit_days = serializers.IntegerField(allow_null=True)
    estimated_delivery_date = serializers.DateField()
    keeps_promise = serializers.BooleanField(help_text="Arrives by the order's promised_delivery_date")
    billable_weight_g = serializers.IntegerField(
        help_text="Actual or DIM weight with the account's divisor, per parcel summed"
    )


class CarrierErrorSerializer(serializers.Serializer):
    carrier = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class RatesSerializer(serializers.Serializer):
    results = QuoteSerializer(many=True, help_text="Cheapest first")
    chosen = QuoteSerializer(allow_null=True, help_text="What a purchase without carrier_account/service buys")
    reason = serializers.CharField(help_text="Why that quote (or why none)")
    errors = CarrierErrorSerializer(many=True, help_text="Accounts that could not quote")


class PurchaseInputSerializer(serializers.Serializer):
    carrier_account = serializers.UUIDField(required=False, help_text="Default: the rate shop's choice")
    service = serializers.CharField(max_length=60, required=False, help_text="A service code of that account")


class ShipmentActionView(ActorMixin, generics.GenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = ShipmentSerializer

    def shipment(self, pk) -> Shipment:
        return get_object_or_404(Shipment.objects.visible_to(self.actor), pk=pk)

    def serialized(self, pk) -> dict:
        shipment = shipment_queryset(Shipment.objects.visible_to(self.actor)).get(pk=pk)
        return ShipmentSerializer(shipment, context={"request": self.request}).data

    def answer(self, pk, *, code=status.HTTP_200_OK) -> Response:
        return Response(self.serialized(pk), status=code)


class ShipmentRatesView(ShipmentActionView):
    @extend_schema(
        operation_id="v1_shipments_rates_retrieve", responses={200: RatesSerializer, 403: PROBLEM, 404: PROBLEM}
    )
    def get(self, request, pk):
        """Quotes from every active account and service that can carry the packages there (asked now)."""
        shipment = self.shipment(pk)
        result = services.shipment_rates(shipment_id=shipment.pk)
        return Response(
            RatesSerializer(
                {"results": result.quotes, "chosen": result.choice, "reason": result.reason, "errors": result.errors}
            ).data
        )


class ShipmentPurchaseView(ShipmentActionView):
    @extend_schema(
        operation_id="v1_shipments_purchase_create",
        request=PurchaseInputSerializer,
        responses={201: ShipmentSerializer, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM, 502: PROBLEM},
    )
    def post(self, request, pk):
        """Buy the label (the cheapest quote that keeps the promise unless a quote is named); the order
        is shipped. 409 when a label exists; 422 for a quote nobody offers or a carrier's refusal;
        502 when the carrier cannot be reached."""
        shipment = self.shipment(pk)
        data = PurchaseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.shipment_purchase_label(
            shipment_id=shipment.pk,
            carrier_account=data.validated_data.get("carrier_account"),
            service=data.validated_data.get("service", ""),
            actor=self.actor.label,
            refuse=True,
        )
        return self.answer(shipment.pk, code=status.HTTP_201_CREATED)


class ShipmentVoidView(ShipmentActionView):
    @extend_schema(
        operation_id="v1_shipments_void_create",
        request=None,
        responses={200: ShipmentSerializer, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM, 502: PROBLEM},
    )
    def post(self, request, pk):
        """Void an unused label with the carrier; the order is packed again. 409 once the carrier has
        scanned the parcel or the label is on a closed manifest."""
        shipment = self.shipment(pk)
        services.shipment_void_label(shipment_id=shipment.pk, actor=self.actor.label)
        return self.answer(shipment.pk)


class TrackingEventInputSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=60,
        help_text="The carrier's event code (read through its karrio connector, e.g. FedEx DL) or karrio's "
        "status (in_transit, delivered, ...)",
    )
    status = serializers.ChoiceField(
        choices=TrackingStatus.choices, required=False, default="", help_text="karrio's status, when the code is not"
    )
    reason = serializers.CharField(
        max_length=60, required=False, allow_blank=True, default="", help_text="karrio's incident reason"
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    occurred_at = serializers.DateTimeField()
    location = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    source = serializers.ChoiceField(
        choices=[("push", "push"), ("manual", "manual")],
        required=False,
        default="push",
        help_text="push (a carrier's webhook) or manual (a scan entered by a person)",
    )


class TrackingEventAnswerSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="1 when the event was new, 0 for a duplicate")
    shipment = ShipmentSerializer()


class ShipmentTrackingEventView(ShipmentActionView):
    @extend_schema(
        operation_id="v1_shipments_tracking_events_create",
        request=TrackingEventInputSerializer,
        responses={
            201: TrackingEventAnswerSerializer,
            200: TrackingEventAnswerSerializer,
            403: PROBLEM,
            404: PROBLEM,
            409: PROBLEM,
            422: PROBLEM,
        },
    )
    def post(self, request, pk):
        """A carrier's pushed event or a manual scan, normalised as polled events are; a duplicate is 200."""
        shipment = self.shipment(pk)
        data = TrackingEventInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        added = services.shipment_tracking_event_add(shipment_id=shipment.pk, **data.validated_data)
        return Response(
            {"added": added, "shipment": self.serialized(pk)},
            status=status.HTTP_201_CREATED if added else status.HTTP_200_OK,
        )


class ShippingExceptionSerializer(serializers.ModelSerializer):
    shipment = serializers.UUIDField(source="shipment_id")
    order = serializers.UUIDField(source="shipment.order_id")
    order_number = serializers.CharField(source="shipment.order.number")
    warehouse = serializers.CharField(source="shipment.warehouse.code")

    class Meta:
        model = ShippingException
        fields = [
            "id",
            "shipment",
            "order",
            "order_number",
            "warehouse",
            "code",
            "message",
            "details",
            "created_at",
            "resolved_at",
            "resolution",
        ]
        read_only_fields = fields


class ExceptionPagination(CreatedCursorPagination):
    ordering = ("created_at", "id")


class ShippingExceptionViewSet(ScopedViewSet):
    """The exceptions queue: packed shipments that could not get a label (open ones unless ?resolved=true)."""

    model = ShippingException
    permission_classes = [IsStaff]
    serializer_class = ShippingExceptionSerializer
    pagination_class = ExceptionPagination

    def base_queryset(self, qs):
        qs = qs.select_related("shipment__order", "shipment__warehouse")
        if self.action == "list":
            resolved = self.request.query_params.get("resolved") in {"true", "1"}
            qs = qs.filter(resolved_at__isnull=not resolved)
            code = self.request.query_params.get("code")
            if code in ExceptionCode.values:
                qs = qs.filter(code=code)
        return qs

    @extend_schema(operation_id="v1_shipping_exceptions_list")
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="v1_shipping_exceptions_retry_create",
        request=None,
        responses={202: ShippingExceptionSerializer, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM},
    )
    def retry(self, request, pk=None):
        """Resolve it and buy the label again (in the worker)."""
        found = self.get_object()
        services.shipping_exception_retry(exception_id=found.pk, actor=self.actor.label)
        found.refresh_from_db()
        return Response(self.get_serializer(found).data, status=status.HTTP_202_ACCEPTED)
