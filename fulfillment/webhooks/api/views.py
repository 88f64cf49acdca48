from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from fulfillment.api.base import IsMerchant, ScopedViewSet
from fulfillment.api.errors import Unprocessable
from fulfillment.webhooks import services
from fulfillment.webhooks.api import serializers as s
from fulfillment.webhooks.models import WebhookDelivery, WebhookEndpoint


class WebhookEndpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The merchant's webhook endpoints and their delivery attempts. The signing secret is shown once."""

    model = WebhookEndpoint
    serializer_class = s.WebhookEndpointSerializer
    permission_classes = [IsMerchant]
    http_method_names = ["get", "post", "delete", "head", "options"]

    @extend_schema(
        request=s.WebhookEndpointCreateSerializer,
        responses={
            201: s.WebhookEndpointCreatedSerializer,
            422: OpenApiResponse(description="unknown event types (events[i]) or a URL that is not public (url)"),
        },
    )
    def create(self, request, *args, **kwargs):
        """Register an endpoint; the answer carries the signing secret, which is never shown again."""
        payload = s.WebhookEndpointCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            endpoint = services.endpoint_create(tenant_id=self.actor.tenant_id, **payload.validated_data)
        except services.WebhookError as exc:
            raise Unprocessable(str(exc), errors=exc.errors) from None
        return Response(s.WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        """Delete the endpoint; pending deliveries to it are dropped."""
        services.endpoint_delete(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=s.WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """Delivery attempts to this endpoint, newest first."""
        endpoint = self.get_object()
        qs = WebhookDelivery.objects.visible_to(self.actor).filter(endpoint=endpoint).select_related("event")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.WebhookDeliverySerializer(page, many=True).data)
