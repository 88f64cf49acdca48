from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from fulfillment.api.base import IsMerchant, ScopedViewSet
from fulfillment.webhooks import services
from fulfillment.webhooks.api import serializers as s
from fulfillment.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


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
        endpoint = services.endpoint_create(tenant_id=self.actor.tenant_id, **payload.validated_data)
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

    @extend_schema(
        request=None,
        responses={
            200: s.WebhookEndpointSerializer,
            404: OpenApiResponse(description="no such endpoint in your account"),
        },
    )
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        """Re-enable an endpoint that was disabled (410 Gone, or days of failed deliveries).

        New events are delivered to it again; deliveries that failed meanwhile are not re-sent by
        themselves: retry them with POST /webhook-deliveries/{id}/retry/.
        """
        endpoint = services.endpoint_enable(endpoint_id=pk, tenant_id=self.actor.tenant_id)
        return Response(s.WebhookEndpointSerializer(endpoint).data)


class WebhookDeliveryFilter(filters.FilterSet):
    endpoint = filters.UUIDFilter(field_name="endpoint_id", help_text="A webhook endpoint id")
    status = filters.MultipleChoiceFilter(choices=DeliveryStatus.choices, help_text="Repeat for several")
    event_type = filters.CharFilter(field_name="event__type", help_text="e.g. order.shipped")

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "status", "event_type"]


class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Deliveries of events to the merchant's endpoints, newest first, with a manual retry."""

    model = WebhookDelivery
    serializer_class = s.WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilter
    permission_classes = [IsMerchant]
    http_method_names = ["get", "post", "head", "options"]

    def base_queryset(self, qs):
        return qs.select_related("event")

    @extend_schema(
        request=None,
        responses={
            202: s.WebhookDeliverySerializer,
            404: OpenApiResponse(description="no such delivery in your account"),
            409: OpenApiResponse(description="the delivery already succeeded, or its endpoint is disabled"),
        },
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Attempt a failed or pending delivery again now (the attempt count is kept)."""
        delivery = services.delivery_retry(delivery_id=pk, tenant_id=self.actor.tenant_id)
        delivery = self.get_queryset().get(pk=delivery.pk)
        return Response(s.WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
