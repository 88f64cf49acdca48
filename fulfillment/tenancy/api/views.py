from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.api.base import ActorMixin, IsMerchant
from fulfillment.api.parsers import SafeJSONParser
from fulfillment.tenancy import selectors, services
from fulfillment.tenancy.api import serializers as s

PROBLEM = OpenApiResponse(description="Problem document (application/problem+json) naming the fields at fault")


class BrandingView(ActorMixin, APIView):
    """The merchant's branding on packing slips (and the shopper pages): colour, slip message, logo."""

    permission_classes = [IsMerchant]
    # One way in for the logo: base64 in JSON (documented in the schema), no multipart.
    parser_classes = [SafeJSONParser]

    def _answer(self, request):
        branding = selectors.branding_get(tenant_id=self.actor.tenant_id)
        body = {
            "name": branding.name,
            "brand_color": branding.brand_color,
            "slip_message": branding.slip_message,
            "logo_url": request.build_absolute_uri(branding.logo_url) if branding.logo_url else None,
            "logo_content_type": branding.logo_content_type,
        }
        return Response(s.BrandingSerializer(body).data)

    @extend_schema(operation_id="v1_branding_retrieve", responses=s.BrandingSerializer)
    def get(self, request):
        return self._answer(request)

    @extend_schema(
        operation_id="v1_branding_partial_update",
        request=s.BrandingPatchSerializer,
        responses={200: s.BrandingSerializer, 422: PROBLEM},
        description=(
            "JSON only: the logo travels base64-encoded in `logo` (null removes it). A refusal (a bad colour, "
            "a file that is not a PNG or JPEG, too large in bytes or pixels) is 422 and changes nothing."
        ),
    )
    def patch(self, request):
        payload = s.BrandingPatchSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.tenant_branding_update(tenant_id=self.actor.tenant_id, **payload.validated_data)
        return self._answer(request)
