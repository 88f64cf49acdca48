from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from fulfillment.api.base import IsMerchant, IsStaff, ScopedViewSet
from fulfillment.api.documents import FirstRendererNegotiation, document_response
from returns import services
from returns.api import serializers as s
from returns.models import Return, ReturnStatus
from shipping.api.labels import TrackingEventInputSerializer


class ReturnTrackingEventInputSerializer(TrackingEventInputSerializer):
    """A scan of a return label: the fields of a shipment's tracking event, without the reason."""

    reason = None


NOT_FOUND = OpenApiResponse(description="Problem document: no such return (another merchant's reads the same)")


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
        return (
            qs.select_related("order", "warehouse", "exchange_order", "refund", "label")
            .defer("label__label")
            .prefetch_related("lines", "receipts__line", "receipts__location")
        )

    def _answer(self, return_id, code=status.HTTP_200_OK) -> Response:
        return Response(s.ReturnSerializer(self.get_queryset().get(pk=return_id)).data, status=code)

    @extend_schema(
        request=s.ReturnCreateSerializer,
        responses={
            201: s.ReturnSerializer,
            404: OpenApiResponse(
                description="no such order of yours (another merchant's reads the same): errors name "
                "field order, code not_found"
            ),
            409: OpenApiResponse(description="the order is not shipped or delivered"),
            422: OpenApiResponse(
                description="SKUs not on the order, "
                "or more units than were shipped and not yet returned, outside the return window, a "
                "non-returnable SKU, a resolution the policy does not offer, exchange lines missing for "
                "an exchange (or given for another resolution) or naming unknown SKUs"
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        """Open a return for units of one of your shipped or delivered orders, with the resolution the
        shopper chose (refund by default). An exchange becomes a new order at once (price 0, paid,
        external_id `<order's external_id>-EX-<RMA number>`): held until the return's first parcel is
        received, unless your policy trusts the shopper (`exchange_before_receipt`)."""
        if not self.actor.is_merchant:
            raise exceptions.PermissionDenied("Returns are opened by merchants with an API key.")
        payload = s.ReturnCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        opened = services.return_open(
            tenant_id=self.actor.tenant_id,
            order_id=data["order"],
            lines=[dict(line) for line in data["lines"]],
            actor=self.actor.label,
            resolution=data["resolution"],
            exchange_lines=[dict(line) for line in data["exchange_lines"]],
            label=data["label"],
            notify_shopper=data["notify_shopper"],
        )
        return self._answer(opened.rma.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            200: s.ReturnSerializer,
            404: NOT_FOUND,
            409: OpenApiResponse(
                description="the return is past `requested`, or your policy names no label account and service"
            ),
            422: OpenApiResponse(description="the carrier refused the label (code carrier_refused)"),
            502: OpenApiResponse(description="the carrier could not be reached (code carrier_unavailable): try again"),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsMerchant], url_path="label")
    def label(self, request, pk=None):
        """Buy the return's prepaid label on your policy's label account and service: the return becomes
        `label_issued` and its answer carries `label_url` and `tracking_number`. A label already bought is
        answered again; nothing is bought twice."""
        rma = self.get_object()
        services.return_label_buy(return_id=rma.pk, actor=self.actor.label)
        return self._answer(rma.pk)

    @extend_schema(
        request=s.ReturnReceiveSerializer,
        responses={
            200: s.ReturnSerializer,
            404: NOT_FOUND,
            409: OpenApiResponse(description="every unit of the return was already received, or it is closed"),
            422: OpenApiResponse(description="lines that are not on the return, too many units, unknown locations"),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsStaff])
    def receive(self, request, pk=None):
        """Receive a parcel of the return (it may come in several): per line the units found, their grade
        (new, opened, damaged, defective) and disposition (restock, quarantine, dispose). Restocked units
        become available and backorders are re-allocated. The first parcel makes the return `received`
        (and releases an exchange's held order); once every unit is in it is `inspected` (an exchange:
        `exchanged`) and a refund's amount due is ready to confirm."""
        rma = self.get_object()
        payload = s.ReturnReceiveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.return_receive(
            return_id=rma.pk,
            lines=[dict(line) for line in payload.validated_data["lines"]],
            actor=self.actor.label,
        )
        return self._answer(rma.pk)

    @extend_schema(
        request=s.ReturnRefundInputSerializer,
        responses={
            200: s.ReturnSerializer,
            404: NOT_FOUND,
            409: OpenApiResponse(
                description="not inspected yet, an exchange or closed (code not_inspected / exchange), or "
                "already refunded (code already_refunded)"
            ),
            422: OpenApiResponse(
                description="amount above the amount due (field amount, code exceeds_due), negative (negative) "
                "or of more than 2 decimal places; store_credit for a return that is not store credit "
                "(field method, code not_allowed)"
            ),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsMerchant])
    def refund(self, request, pk=None):
        """Confirm the refund of an inspected return: the amount due the policy computed
        (`refund.amount_due`, with its `breakdown`) or a lower `amount`. The return becomes `refunded`
        and a `return.refunded` webhook carries the amount and currency. A refund is paid once: a
        second confirmation is a 409."""
        rma = self.get_object()
        payload = s.ReturnRefundInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        services.return_refund(
            return_id=rma.pk,
            tenant_id=self.actor.tenant_id,
            amount=data["amount"],
            method=data["method"],
            note=data["note"],
            actor=self.actor.label,
        )
        return self._answer(rma.pk)

    @extend_schema(
        request=s.ReturnCloseInputSerializer,
        responses={
            200: s.ReturnSerializer,
            404: NOT_FOUND,
            409: OpenApiResponse(description="the return is refunded, exchanged or closed already"),
            422: OpenApiResponse(description="a note over 300 characters"),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsMerchant])
    def close(self, request, pk=None):
        """Close a return that will not be resolved (nothing to refund, or the units never arrive):
        `closed`. A pending refund can then no longer be confirmed; an exchange's new order still
        waiting for the return is cancelled."""
        rma = self.get_object()
        payload = s.ReturnCloseInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.return_close(
            return_id=rma.pk,
            tenant_id=self.actor.tenant_id,
            note=payload.validated_data["note"],
            actor=self.actor.label,
        )
        return self._answer(rma.pk)

    @extend_schema(
        operation_id="v1_returns_tracking_events_create",
        request=ReturnTrackingEventInputSerializer,
        responses={
            201: s.ReturnSerializer,
            200: s.ReturnSerializer,
            404: OpenApiResponse(description="no such return, or it has no return label"),
            422: OpenApiResponse(
                description="a code no connector reads (field code, code unknown_status), a time without "
                "zone or in the future (field occurred_at)"
            ),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsStaff], url_path="tracking-events")
    def tracking_events(self, request, pk=None):
        """A carrier's pushed scan of the return label (or one typed in), read as shipment scans are:
        the first scan that says the carrier has the parcel makes the return `in_transit`. 201 when the
        scan is new, 200 for one already known."""
        rma = self.get_object()
        payload = ReturnTrackingEventInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        added = services.return_label_scan_add(
            return_id=rma.pk,
            code=data["code"],
            status=data["status"],
            occurred_at=data["occurred_at"],
            description=data["description"],
            location=data["location"],
            source=data["source"],
        )
        return self._answer(rma.pk, status.HTTP_201_CREATED if added else status.HTTP_200_OK)


class ReturnLabelViewSet(ScopedViewSet):
    """The prepaid return label of a return as a PDF; 404 when it has none."""

    model = Return
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        operation_id="v1_returns_label_pdf_retrieve",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: NOT_FOUND},
    )
    def label_pdf(self, request, pk=None):
        rma = self.get_object()
        content = services.return_label_document(rma=rma)  # none, voided or not a PDF: no label
        if content is None:
            raise exceptions.NotFound("This return has no label.")
        return document_response(content, content_type="application/pdf", filename=f"return-{rma.number}.pdf")
