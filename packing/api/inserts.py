"""Insert rules (merchants) and the inserts of an order (staff, for the pack station)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.api.base import ActorMixin, IsMerchant, IsStaff, ScopedViewSet
from orders.models import Order
from packing import selectors, services
from packing.models import InsertRule, InsertWhen

PROBLEM = OpenApiResponse(description="Problem document (application/problem+json)")


class InsertRuleSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True, help_text="One of your products (e.g. a flyer)")
    name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = InsertRule
        fields = ["id", "sku", "name", "quantity", "when", "active", "created_at", "updated_at"]
        read_only_fields = fields


class InsertRuleInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64, help_text="One of your products; kept at the warehouse's PACKING")
    quantity = serializers.IntegerField(min_value=1, max_value=services.inserts.MAX_INSERT_QUANTITY, default=1)
    when = serializers.ChoiceField(
        choices=InsertWhen.choices,
        default=InsertWhen.ALWAYS,
        help_text="always: every order; first_order: only the shopper's first packed order with you "
        "(the ship-to e-mail, or without one the ship-to address)",
    )
    active = serializers.BooleanField(default=True)


class InsertRulePatchSerializer(InsertRuleInputSerializer):
    sku = serializers.CharField(max_length=64, required=False)
    quantity = serializers.IntegerField(min_value=1, max_value=services.inserts.MAX_INSERT_QUANTITY, required=False)
    when = serializers.ChoiceField(choices=InsertWhen.choices, required=False)
    active = serializers.BooleanField(required=False)


@extend_schema_view(
    list=extend_schema(operation_id="v1_insert_rules_list"),
    retrieve=extend_schema(
        operation_id="v1_insert_rules_retrieve", responses={200: InsertRuleSerializer, 404: PROBLEM}
    ),
    create=extend_schema(
        operation_id="v1_insert_rules_create",
        request=InsertRuleInputSerializer,
        responses={201: InsertRuleSerializer, 422: PROBLEM},
    ),
    partial_update=extend_schema(
        operation_id="v1_insert_rules_partial_update",
        request=InsertRulePatchSerializer,
        responses={200: InsertRuleSerializer, 404: PROBLEM, 422: PROBLEM},
    ),
    destroy=extend_schema(operation_id="v1_insert_rules_destroy", responses={204: None, 404: PROBLEM}),
)
class InsertRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Your insert rules: a product of yours (a flyer, a sample) that goes into parcels, always or
    in a shopper's first order. The warehouse keeps the inserts at PACKING, in your stock; a pack
    with too few there ships without the insert and the order's timeline says so."""

    model = InsertRule
    serializer_class = InsertRuleSerializer
    permission_classes = [IsMerchant]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def base_queryset(self, qs):
        return qs.select_related("product").order_by("-created_at", "-id")

    def create(self, request, *args, **kwargs):
        payload = InsertRuleInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        rule = services.insert_rule_create(tenant_id=self.actor.tenant_id, **payload.validated_data)
        return Response(InsertRuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        rule = self.get_object()
        payload = InsertRulePatchSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        rule = services.insert_rule_update(tenant_id=self.actor.tenant_id, rule_id=rule.pk, **payload.validated_data)
        return Response(InsertRuleSerializer(self.get_queryset().get(pk=rule.pk)).data)

    def destroy(self, request, *args, **kwargs):
        services.insert_rule_delete(tenant_id=self.actor.tenant_id, rule_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrderInsertSerializer(serializers.Serializer):
    rule = serializers.UUIDField(source="rule_id")
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    when = serializers.ChoiceField(choices=InsertWhen.choices)


class OrderInsertsSerializer(serializers.Serializer):
    order = serializers.UUIDField()
    inserts = OrderInsertSerializer(many=True)


class OrderInsertsView(ActorMixin, APIView):
    """What the packer puts into an order's parcel besides its lines (the merchant's insert rules
    that apply to it now); packing the order takes them from PACKING."""

    permission_classes = [IsStaff]

    @extend_schema(operation_id="v1_orders_inserts_retrieve", responses={200: OrderInsertsSerializer, 404: PROBLEM})
    def get(self, request, pk):
        order = get_object_or_404(Order.objects.visible_to(self.actor), pk=pk)
        return Response(OrderInsertsSerializer({"order": order.pk, "inserts": selectors.order_inserts(order)}).data)
