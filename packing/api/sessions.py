"""Pack sessions over HTTP (staff tokens, scoped to the staff member's warehouses): open a picked
order at a station, scan its units and boxes, close it with the weighed parcels, or abandon it.
The pack-station page calls the same services (packing.services.sessions)."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from fulfillment.api.base import IsStaff, ScopedViewSet
from fulfillment.api.pagination import CreatedCursorPagination
from packing import selectors, services
from packing.api import serializers as s
from packing.models import PackSession, PackSessionStatus

PROBLEM = OpenApiResponse(description="Problem document (application/problem+json)")
NOT_FOUND = OpenApiResponse(description="no such session in the caller's warehouses")


def _validated(serializer_class, request) -> dict:
    payload = serializer_class(data=request.data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


class PackSessionFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=PackSessionStatus.choices)
    warehouse = filters.CharFilter(field_name="warehouse__code", lookup_expr="iexact", help_text="A warehouse code")

    class Meta:
        model = PackSession
        fields = ["status", "warehouse"]


class PackSessionPagination(CreatedCursorPagination):
    ordering = ("-opened_at", "-id")


class PackSessionViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Pack sessions of the caller's warehouses."""

    model = PackSession
    serializer_class = s.PackSessionSummarySerializer
    permission_classes = [IsStaff]
    filterset_class = PackSessionFilter
    pagination_class = PackSessionPagination

    def base_queryset(self, qs):
        return qs.select_related("order", "warehouse", "packer")

    def _state(self, session, *, code=status.HTTP_200_OK) -> Response:
        return Response(s.PackSessionStateSerializer(selectors.pack_session_state(session=session)).data, status=code)

    @extend_schema(
        request=s.PackSessionOpenInputSerializer,
        responses={
            201: s.PackSessionStateSerializer,
            200: OpenApiResponse(s.PackSessionStateSerializer, description="the caller's open session, resumed"),
            409: OpenApiResponse(
                description="`order_not_picked`, or `being_packed`: another packer holds it (`held_by`, `station`)"
            ),
            422: OpenApiResponse(
                description="`order_or_tote` (neither or both), `unknown_order`, `unknown_tote`, `ambiguous_tote` "
                "(a tote holding several picked orders: `orders`), or invalid input"
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        """Open packing of a picked order at a station, named by `order` (id or number) or by `tote`:
        the expected units per SKU, the recommended packages with their placements, the packages so far.
        The caller's own open session for the order is resumed (200), e.g. after a page reload."""
        data = _validated(s.PackSessionOpenInputSerializer, request)
        opened = services.pack_session_open(
            user=request.user,
            order=data.get("order"),
            tote=data.get("tote"),
            station=data["station"],
            warehouse=data.get("warehouse"),
        )
        return self._state(opened.session, code=status.HTTP_201_CREATED if opened.created else status.HTTP_200_OK)

    @extend_schema(responses={200: s.PackSessionStateSerializer, 404: NOT_FOUND})
    def retrieve(self, request, *args, **kwargs):
        """One session as the pack station shows it."""
        return self._state(self.get_object())

    @extend_schema(
        request=s.PackScanInputSerializer,
        responses={
            200: s.PackScanAnswerSerializer,
            404: NOT_FOUND,
            409: OpenApiResponse(
                description="`session_not_open` (closed or abandoned), `being_packed` (another packer's session), "
                "`scan_id_reused` (the scan id was used for another barcode)"
            ),
            422: OpenApiResponse(
                description="`not_in_order`, `too_many`, `unknown_barcode`: recorded as a refused scan, nothing "
                "else changed; or invalid input"
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def scans(self, request, pk=None):
        """One scan: a unit's barcode (GTIN, GS1 element string, other barcode) goes into the current
        package; a box code starts the next package in that box (or boxes the current package when it
        has no box yet). A resent `scan_id` answers the first outcome and changes nothing."""
        session = self.get_object()
        data = _validated(s.PackScanInputSerializer, request)
        outcome = services.pack_session_scan(
            session_id=session.pk, barcode=data["barcode"], scan_id=data["scan_id"], user=request.user
        )
        state = selectors.pack_session_state(session=session)
        return Response(
            s.PackScanAnswerSerializer({"scan": outcome.scan, "replayed": outcome.replayed, "session": state}).data
        )

    @extend_schema(
        request=s.PackSessionUndoInputSerializer,
        responses={
            200: s.PackSessionStateSerializer,
            404: NOT_FOUND,
            409: OpenApiResponse(description="`session_not_open`, `being_packed` (another packer's session)"),
            422: OpenApiResponse(description="`nothing_to_undo`: no such unit scan (or none yet)"),
        },
    )
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        """Take back the last unit scan (the unit came out of the parcel again): it no longer counts
        and stays in the scan log as `undone`."""
        session = self.get_object()
        data = _validated(s.PackSessionUndoInputSerializer, request)
        services.pack_session_undo(session_id=session.pk, user=request.user, scan=data.get("scan"))
        return self._state(session)

    @extend_schema(
        request=s.PackSessionCloseInputSerializer,
        responses={
            200: s.PackSessionStateSerializer,
            404: NOT_FOUND,
            409: OpenApiResponse(description="`session_not_open`, `being_packed`, `order_not_picked`"),
            422: OpenApiResponse(
                description="`missing_units` (listed in `missing_units`), `package_count`, `box_required`, "
                "`unknown_box`, `weight_out_of_tolerance` (the error carries `expected_weight_g` and "
                "`tolerance_g`; give `override_reason` to ship it anyway): nothing changed"
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the session with the weighed parcels: the order is packed into a shipment with the
        scanned packages and rate shopping and label purchase start in the background."""
        session = self.get_object()
        data = _validated(s.PackSessionCloseInputSerializer, request)
        packages = data.get("packages")
        session = services.pack_session_close(session_id=session.pk, user=request.user, packages=packages)
        return self._state(session)

    @extend_schema(
        request=s.PackSessionAbandonInputSerializer,
        responses={
            200: s.PackSessionStateSerializer,
            403: OpenApiResponse(description="neither its packer nor a manager"),
            404: NOT_FOUND,
            409: OpenApiResponse(description="`session_not_open`"),
        },
    )
    @action(detail=True, methods=["post"])
    def abandon(self, request, pk=None):
        """Give the session up (its packer, or a manager of the warehouse): the order stays picked."""
        session = self.get_object()
        data = _validated(s.PackSessionAbandonInputSerializer, request)
        session = services.pack_session_abandon(session_id=session.pk, user=request.user, reason=data["reason"])
        return self._state(session)
