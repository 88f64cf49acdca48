"""Stock adjustments."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.api.base import ActorMixin, IsStaff
from fulfillment.api.errors import field_error
from fulfillment.tenancy.models import Tenant
from inventory import services
from inventory.api import serializers as s
from inventory.api.common import refusal
from inventory.models import Location, Warehouse


class AdjustmentView(ActorMixin, APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=s.AdjustmentSerializer, responses={201: s.MovementSerializer})
    def post(self, request):
        """Correct the stock of a location (found or lost units) with a reason; writes the ledger."""
        payload = s.AdjustmentSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        tenant = Tenant.objects.filter(slug=data["tenant"]).first()
        if tenant is None:
            raise field_error(f"unknown tenant {data['tenant']}", field="tenant", code="unknown_tenant")
        warehouses = Warehouse.objects.all()
        if not self.actor.sees_all_warehouses:
            warehouses = warehouses.filter(staff__id=self.actor.user_id)
        if data.get("warehouse"):
            warehouses = warehouses.filter(code=data["warehouse"].strip().upper())
        location = (
            Location.objects.filter(warehouse__in=warehouses, code=data["location"].strip().upper())
            .select_related("warehouse")
            .first()
        )
        if location is None:
            raise field_error(f"unknown location {data['location']}", field="location", code="unknown_location")
        try:
            with transaction.atomic():
                movement = services.stock_adjust(
                    tenant_id=tenant.pk,
                    warehouse_id=location.warehouse_id,
                    sku=data["sku"],
                    location_code=location.code,
                    quantity_delta=data["quantity_delta"],
                    reason=data["reason"],
                    lot=data["lot"],
                    expiry_date=data["expiry_date"],
                    actor=self.actor.label,
                )
        except services.InventoryError as exc:
            raise refusal(exc) from None
        return Response(s.MovementSerializer(movement).data, status=status.HTTP_201_CREATED)
