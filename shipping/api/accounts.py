"""Carrier accounts (operator-owned): every staff member reads them; managers add, change, test,
deactivate and delete them. Credentials are write-only: the answer names which are set, never
their values."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from fulfillment.api.base import ActorMixin
from fulfillment.api.pagination import CreatedCursorPagination
from packing.api.boxes import ManagersChange
from shipping import credentials as secrets
from shipping import services
from shipping.carriers import gateway
from shipping.models import DIM_UNITS, CarrierAccount, CarrierService, ServiceCode

PROBLEM = OpenApiResponse(description="Problem document (application/problem+json)")


class AccountsManagersChange(ManagersChange):
    message = "Only managers change carrier accounts."


class ZoneSerializer(serializers.Serializer):
    country_codes = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="ISO 3166-1 alpha-2; empty or absent: anywhere"
    )
    min_weight_kg = serializers.DecimalField(max_digits=8, decimal_places=3, required=False, allow_null=True)
    max_weight_kg = serializers.DecimalField(
        max_digits=8, decimal_places=3, required=False, allow_null=True, help_text="Exclusive"
    )
    rate = serializers.DecimalField(max_digits=10, decimal_places=2, help_text="Price per parcel")
    transit_days = serializers.IntegerField(
        required=False, allow_null=True, help_text="This zone's, else the service's"
    )


class CarrierServiceSerializer(serializers.ModelSerializer):
    level = serializers.ChoiceField(
        choices=ServiceCode.choices, help_text="The order shipping_method it serves (same_day only same-day orders)"
    )
    zones = ZoneSerializer(many=True, required=False, help_text="The rate sheet (generic accounts only)")

    class Meta:
        model = CarrierService
        fields = [
            "service_code",
            "service_name",
            "level",
            "transit_days",
            "currency",
            "max_weight_g",
            "zones",
            "active",
        ]


class LastCheckSerializer(serializers.Serializer):
    at = serializers.DateTimeField(allow_null=True)
    ok = serializers.BooleanField(allow_null=True)
    message = serializers.CharField()


class CarrierAccountSerializer(serializers.ModelSerializer):
    services = CarrierServiceSerializer(many=True, read_only=True)
    credentials_set = serializers.SerializerMethodField(help_text="Names of the credentials stored (never values)")
    capabilities = serializers.SerializerMethodField()
    last_check = serializers.SerializerMethodField()

    class Meta:
        model = CarrierAccount
        fields = [
            "id",
            "carrier_name",
            "carrier_id",
            "display_name",
            "test_mode",
            "active",
            "account_country",
            "dim_divisor",
            "dim_unit",
            "services",
            "credentials_set",
            "capabilities",
            "last_check",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_credentials_set(self, obj: CarrierAccount) -> list[str]:
        return sorted(secrets.decrypt(obj.credentials_encrypted))

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_capabilities(self, obj: CarrierAccount) -> list[str]:
        """What karrio's connector does: rating, shipping, cancel (void), tracking, manifest."""
        return sorted(gateway.capabilities(obj.carrier_name))

    @extend_schema_field(LastCheckSerializer)
    def get_last_check(self, obj: CarrierAccount) -> dict:
        return {"at": obj.last_checked_at, "ok": obj.last_check_ok, "message": obj.last_check_message}


@extend_schema_field(CarrierServiceSerializer(many=True))
class ServicesField(serializers.JSONField):
    pass


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "writeOnly": True,
        "description": "The carrier's credentials (fedex: api_key, secret_key, account_number; ups: client_id, "
        "client_secret, account_number; dhl_express: site_id, password, account_number; canadapost: username, "
        "password, customer_number; generic: none). Stored encrypted; never returned.",
    }
)
class CredentialsField(serializers.JSONField):
    pass


class CarrierAccountInputSerializer(serializers.Serializer):
    carrier_name = serializers.CharField(
        max_length=40, help_text="karrio's name: fedex, ups, dhl_express, canadapost, generic"
    )
    carrier_id = serializers.CharField(
        max_length=40, required=False, help_text="This account's handle; default carrier_name"
    )
    display_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    credentials = CredentialsField(required=False)
    test_mode = serializers.BooleanField(default=True)
    active = serializers.BooleanField(default=True)
    account_country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    dim_divisor = serializers.IntegerField(required=False, min_value=1, max_value=100_000)
    dim_unit = serializers.ChoiceField(choices=DIM_UNITS, required=False)
    services = ServicesField(help_text="At least one; a generic account's carry their zones (the rate sheet)")


class CarrierAccountPatchSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=100, required=False)
    credentials = CredentialsField(required=False, help_text="Merged: keys given replace those stored")
    test_mode = serializers.BooleanField(required=False)
    active = serializers.BooleanField(required=False)
    account_country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    dim_divisor = serializers.IntegerField(required=False, min_value=1, max_value=100_000)
    dim_unit = serializers.ChoiceField(choices=DIM_UNITS, required=False)
    services = ServicesField(required=False, help_text="Replaces the list")


class AccountPagination(CreatedCursorPagination):
    ordering = ("carrier_id",)


def _accounts():
    return CarrierAccount.objects.prefetch_related("services").order_by("carrier_id")


@extend_schema_view(
    get=extend_schema(operation_id="v1_carrier_accounts_list"),
    post=extend_schema(
        operation_id="v1_carrier_accounts_create",
        request=CarrierAccountInputSerializer,
        responses={201: CarrierAccountSerializer, 403: PROBLEM, 422: PROBLEM},
    ),
)
class CarrierAccountListView(ActorMixin, generics.ListCreateAPIView):
    """Carrier connections through karrio; a generic account carries its own rate sheet."""

    permission_classes = [AccountsManagersChange]
    serializer_class = CarrierAccountSerializer
    pagination_class = AccountPagination

    def get_queryset(self):
        return _accounts()

    def create(self, request, *args, **kwargs):
        data = CarrierAccountInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = services.carrier_account_create(**data.validated_data)
        return Response(CarrierAccountSerializer(_accounts().get(pk=account.pk)).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="v1_carrier_accounts_retrieve", responses={200: CarrierAccountSerializer, 404: PROBLEM}
    ),
    patch=extend_schema(
        operation_id="v1_carrier_accounts_partial_update",
        request=CarrierAccountPatchSerializer,
        responses={200: CarrierAccountSerializer, 403: PROBLEM, 404: PROBLEM, 422: PROBLEM},
    ),
    delete=extend_schema(
        operation_id="v1_carrier_accounts_destroy",
        responses={204: None, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM},
        description="Deletes an account that never bought a label; one that did answers 409 (deactivate it).",
    ),
)
class CarrierAccountDetailView(ActorMixin, generics.GenericAPIView):
    permission_classes = [AccountsManagersChange]
    serializer_class = CarrierAccountSerializer

    def account(self, pk) -> CarrierAccount:
        return get_object_or_404(_accounts(), pk=pk)

    def get(self, request, pk):
        return Response(CarrierAccountSerializer(self.account(pk)).data)

    def patch(self, request, pk):
        self.account(pk)
        data = CarrierAccountPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.carrier_account_update(account_id=pk, **data.validated_data)
        return Response(CarrierAccountSerializer(self.account(pk)).data)

    def delete(self, request, pk):
        self.account(pk)
        services.carrier_account_delete(account_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CarrierAccountCheckView(ActorMixin, generics.GenericAPIView):
    permission_classes = [AccountsManagersChange]
    serializer_class = CarrierAccountSerializer

    @extend_schema(
        operation_id="v1_carrier_accounts_check_create",
        request=None,
        responses={200: CarrierAccountSerializer, 403: PROBLEM, 404: PROBLEM},
        description="Test the connection: a rate request for a 1 kg parcel; the answer's last_check says how it went.",
    )
    def post(self, request, pk):
        get_object_or_404(CarrierAccount, pk=pk)
        services.carrier_account_check(account_id=pk)
        return Response(CarrierAccountSerializer(get_object_or_404(_accounts(), pk=pk)).data)
