"""3PL billing over the API: rate cards, the fee ledger, invoices (API.md, "3PL billing").

Managers (staff tokens) read and write for the merchants of their warehouses; merchants read their
own card, fees and invoices; associates see no billing (403).
"""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import documents, selectors, services
from billing.api import serializers as s
from billing.models import Invoice
from fulfillment.api.base import ActorMixin, ScopedViewSet
from fulfillment.api.documents import FirstRendererNegotiation
from fulfillment.fees import services as fees
from fulfillment.fees.models import Fee, FeeKind

PROBLEM = OpenApiResponse(description="Problem document (application/problem+json) naming the fields at fault")
NOT_FOUND = OpenApiResponse(description="Problem document: no such merchant, fee or invoice (another's reads the same)")
FORBIDDEN = OpenApiResponse(description="Problem document: associates see no billing; merchants may only read")


def _reader(actor) -> None:
    if actor.is_staff and not actor.is_manager:
        raise exceptions.PermissionDenied("Billing is for warehouse managers.")


def _manager(actor) -> None:
    if not actor.is_manager:
        raise exceptions.PermissionDenied("Only warehouse managers change billing.")


def _tenant(actor, slug: str):
    tenant = selectors.tenants_visible_to(actor).filter(slug=slug).first()
    if tenant is None:
        raise Http404("no such merchant")
    return tenant


def _card_answer(*, tenant, today) -> dict:
    """The card in effect today (a merchant's, or the default card when ``tenant`` is None) and those scheduled."""
    tenant_id = tenant.pk if tenant else None
    card = fees.card_for(tenant_id=tenant_id, on=today)
    later = selectors.scheduled(selectors.card_versions(tenant_id=tenant_id), today=today)
    return {
        **card.prices,
        "effective_from": card.effective_from,
        "tenant": tenant.slug if tenant else None,
        "source": "default" if card.is_default else "tenant",
        "scheduled": [{**c.prices(), "effective_from": c.effective_from} for c in later],
    }


class BillingReader:
    """Associates are refused before anything is read (merchants and managers read)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        _reader(self.actor)


def _card_input(request) -> tuple[dict, object]:
    """A card's prices and its ``effective_from`` (None: today) from the request body."""
    payload = s.RateCardInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = dict(payload.validated_data)
    return data, data.pop("effective_from", None)


class RateCardView(BillingReader, ActorMixin, APIView):
    """A merchant's rate card: the one in effect today (its own, else the operator's default), and
    the cards scheduled to take effect later."""

    @extend_schema(
        operation_id="v1_tenants_rate_card_retrieve",
        responses={200: s.RateCardSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request, slug):
        tenant = _tenant(self.actor, slug)
        return Response(s.RateCardSerializer(_card_answer(tenant=tenant, today=timezone.localdate())).data)

    @extend_schema(
        operation_id="v1_tenants_rate_card_update",
        request=s.RateCardInputSerializer,
        responses={200: s.RateCardSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 422: PROBLEM},
        description=(
            "Managers: set the merchant's card from `effective_from` (default today; a past day is 422). "
            "Fields left out keep the values in effect that day. Fees already written keep their prices; "
            "a card set again for the same day replaces it."
        ),
    )
    def put(self, request, slug):
        _manager(self.actor)
        tenant = _tenant(self.actor, slug)
        data, effective_from = _card_input(request)
        fees.rate_card_set(tenant_id=tenant.pk, prices=data, effective_from=effective_from, actor=self.actor.label)
        return Response(s.RateCardSerializer(_card_answer(tenant=tenant, today=timezone.localdate())).data)


class DefaultRateCardView(ActorMixin, APIView):
    """The operator's default card: it prices every merchant that has no card of its own."""

    @extend_schema(operation_id="v1_default_rate_card_retrieve", responses={200: s.RateCardSerializer, 403: FORBIDDEN})
    def get(self, request):
        _manager(self.actor)
        return Response(s.RateCardSerializer(_card_answer(tenant=None, today=timezone.localdate())).data)

    @extend_schema(
        operation_id="v1_default_rate_card_update",
        request=s.RateCardInputSerializer,
        responses={200: s.RateCardSerializer, 403: FORBIDDEN, 422: PROBLEM},
        description="Operator admins only (it prices every merchant of every warehouse); managers read it.",
    )
    def put(self, request):
        # It prices every merchant of every warehouse: only an operator admin changes it.
        if not self.actor.sees_all_warehouses:
            raise exceptions.PermissionDenied("Only an operator admin changes the default card.")
        data, effective_from = _card_input(request)
        fees.default_rate_card_set(prices=data, effective_from=effective_from, actor=self.actor.label)
        return Response(s.RateCardSerializer(_card_answer(tenant=None, today=timezone.localdate())).data)


class OccurredCursorPagination(CursorPagination):
    ordering = ("-occurred_at", "-id")
    page_size_query_param = "limit"
    max_page_size = 500


class IssuedCursorPagination(CursorPagination):
    ordering = ("-issued_at", "-id")
    page_size_query_param = "limit"
    max_page_size = 200


class FeeFilter(filters.FilterSet):
    tenant = filters.CharFilter(field_name="tenant__slug", help_text="The merchant's slug")
    kind = filters.ChoiceFilter(choices=FeeKind.choices)
    occurred_after = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    invoice = filters.UUIDFilter(method="on_invoice", help_text="Only the fees frozen to this invoice")

    class Meta:
        model = Fee
        fields = ["tenant", "kind"]

    def on_invoice(self, queryset, name, value):
        from billing.models import InvoiceFee

        return queryset.filter(pk__in=InvoiceFee.objects.filter(invoice_id=value).values("fee_id"))


class FeeViewSet(BillingReader, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The fee ledger, append-only: one row per billable event, priced when it happened."""

    model = Fee
    serializer_class = s.FeeSerializer
    filterset_class = FeeFilter
    pagination_class = OccurredCursorPagination

    def base_queryset(self, qs):
        return selectors.fees_with_invoice(qs.select_related("tenant"))

    @extend_schema(
        request=s.FeeCorrectionSerializer,
        responses={201: s.FeeSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 422: PROBLEM},
    )
    def create(self, request, *args, **kwargs):
        """Managers: a correction, as a new signed row with a reason (a fee is never changed). With
        `corrects` it keeps that fee's kind and source and may not take it past zero; without, it is
        an `adjustment`. It is billed on the next invoice."""
        _manager(self.actor)
        payload = s.FeeCorrectionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        tenant = _tenant(self.actor, data["tenant"])
        fee = fees.fee_correct(
            tenant_id=tenant.pk,
            amount=data["amount"],
            reason=data["reason"],
            corrects_id=data.get("corrects"),
            actor=self.actor.label,
        )
        answer = self.get_queryset().get(pk=fee.pk)
        return Response(s.FeeSerializer(answer).data, status=status.HTTP_201_CREATED)


class InvoiceFilter(filters.FilterSet):
    tenant = filters.CharFilter(field_name="tenant__slug", help_text="The merchant's slug")

    class Meta:
        model = Invoice
        fields = ["tenant"]


class InvoiceViewSet(BillingReader, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Invoices: a merchant's fees up to a period's end, frozen; lines per kind, minimum, total."""

    model = Invoice
    serializer_class = s.InvoiceSerializer
    filterset_class = InvoiceFilter
    pagination_class = IssuedCursorPagination

    def base_queryset(self, qs):
        return qs.select_related("tenant").prefetch_related("lines")

    @extend_schema(
        request=s.InvoiceCreateSerializer,
        responses={
            201: s.InvoiceSerializer,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: OpenApiResponse(
                description="the period overlaps an invoice of the merchant (`existing_invoice_id` names it)"
            ),
            422: PROBLEM,
        },
    )
    def create(self, request, *args, **kwargs):
        """Managers: invoice a merchant for a period (days, inclusive). Every fee that occurred before
        the period ends and is on no invoice yet is frozen to it (a late fee of an invoiced period
        goes on the next one). `invoice.issued` is sent to the merchant's webhooks."""
        _manager(self.actor)
        payload = s.InvoiceCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        tenant = _tenant(self.actor, data["tenant"])
        invoice = services.invoice_issue(
            tenant_id=tenant.pk,
            period_start=data["period_start"],
            period_end=data["period_end"],
            actor=self.actor.label,
        )
        answer = self.get_queryset().get(pk=invoice.pk)
        return Response(s.InvoiceSerializer(answer, context={"request": request}).data, status=status.HTTP_201_CREATED)


class InvoiceDocumentViewSet(BillingReader, ScopedViewSet):
    model = Invoice
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        operation_id="v1_invoices_pdf",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"])
    def invoice_pdf(self, request, pk=None):
        """The invoice as a PDF: the operator's and the merchant's details, period, lines, totals."""
        return documents.invoice_pdf_response(self.get_object())

    @extend_schema(
        operation_id="v1_invoices_csv",
        parameters=[OpenApiParameter("pk", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={(200, "text/csv"): OpenApiTypes.BINARY, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"])
    def invoice_csv(self, request, pk=None):
        """Every fee row frozen to the invoice, oldest first: its amounts add up to the subtotal."""
        return documents.fees_csv_response(self.get_object())
