"""``/api/v1/return-policy/``: the merchant's own return policy."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.api.base import ActorMixin, IsMerchant
from returns import services
from returns.models import Resolution, ReturnPolicy
from returns.selectors import return_policy

PROBLEM = OpenApiResponse(description="Problem document (application/problem+json) naming the fields at fault")


class ReturnPolicySerializer(serializers.ModelSerializer):
    window_days = serializers.IntegerField(help_text="Days after delivery a return may be opened (0-3650)")
    non_returnable_skus = serializers.ListField(child=serializers.CharField(), help_text="SKUs that never come back")
    restocking_fee_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, help_text="Kept from a refund, in percent of the line price"
    )
    return_shipping_fee = serializers.DecimalField(
        max_digits=10, decimal_places=2, help_text="Kept from a refund per return, in the order's currency"
    )
    free_exchanges = serializers.BooleanField(help_text="An exchange costs the shopper no fee")
    resolutions = serializers.ListField(
        child=serializers.ChoiceField(choices=Resolution.choices), help_text="What the shopper may choose"
    )
    reasons = serializers.ListField(child=serializers.CharField(), help_text="The reasons the shopper picks from")
    label_account = serializers.SerializerMethodField(help_text="carrier_id of the account return labels are bought on")
    label_service = serializers.CharField(source="label_service_code", help_text="service_code of return labels")
    exchange_before_receipt = serializers.BooleanField(
        help_text="An exchange's new order is allocated at once, not when the return arrives"
    )

    class Meta:
        model = ReturnPolicy
        fields = [
            "window_days",
            "non_returnable_skus",
            "restocking_fee_percent",
            "return_shipping_fee",
            "free_exchanges",
            "resolutions",
            "reasons",
            "label_account",
            "label_service",
            "exchange_before_receipt",
            "updated_at",
        ]
        read_only_fields = fields

    def get_label_account(self, policy: ReturnPolicy) -> str | None:
        return policy.label_account.carrier_id if policy.label_account_id else None


class ReturnPolicyInputSerializer(serializers.Serializer):
    """The shapes only; the rules (ranges, known resolutions, at least one) are the service's."""

    window_days = serializers.IntegerField(required=False)
    non_returnable_skus = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False)
    restocking_fee_percent = serializers.CharField(required=False, help_text='A decimal, e.g. "15" or "12.50"')
    return_shipping_fee = serializers.CharField(required=False, help_text='A decimal, e.g. "7.95"')
    free_exchanges = serializers.BooleanField(required=False)
    resolutions = serializers.ListField(child=serializers.CharField(), required=False)
    reasons = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False)
    label_account = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="An active account's carrier_id; null: no labels"
    )
    label_service = serializers.CharField(
        required=False, allow_blank=True, help_text="One of the account's active service codes (else its quickest)"
    )
    exchange_before_receipt = serializers.BooleanField(required=False)


class ReturnPolicyView(ActorMixin, APIView):
    """The merchant's return policy: the window after delivery, what never comes back, the fees, the
    resolutions and reasons the shopper chooses from, the carrier account and service prepaid return
    labels are bought on (none: RMAs come without a label), and whether an exchange ships before the
    return arrives. A merchant who never set one has the defaults."""

    permission_classes = [IsMerchant]

    def _answer(self, policy: ReturnPolicy) -> Response:
        return Response(ReturnPolicySerializer(policy).data)

    @extend_schema(operation_id="v1_return_policy_retrieve", responses=ReturnPolicySerializer)
    def get(self, request):
        return self._answer(return_policy(tenant_id=self.actor.tenant_id))

    @extend_schema(
        operation_id="v1_return_policy_update",
        request=ReturnPolicyInputSerializer,
        responses={200: ReturnPolicySerializer, 422: PROBLEM},
        description="Fields left out keep their value. A refusal names every field at fault and saves nothing.",
    )
    def put(self, request):
        payload = ReturnPolicyInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if "label_account" in data and data["label_account"] is None:
            data["label_account"] = ""  # null: no return labels
        policy = services.return_policy_update(
            tenant_id=self.actor.tenant_id,
            changes=services.PolicyInput(**data),
            actor=self.actor.label,
        )
        return self._answer(policy)
