from rest_framework import serializers

from fulfillment.webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Event types; empty means every event"
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "is_active", "disabled_reason", "disabled_at", "created_at"]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The answer to a create: the only time the signing secret is shown."""

    secret = serializers.CharField(read_only=True, help_text="Standard Webhooks signing secret (whsec_...); shown once")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointCreateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000, help_text="http(s) URL resolving to a public address")
    events = serializers.ListField(
        child=serializers.CharField(max_length=50, help_text=f"One of: {', '.join(EVENT_TYPES)}"),
        required=False,
        default=list,
        max_length=len(EVENT_TYPES),
        help_text="Event types to receive; empty or missing: every event",
    )


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event = serializers.UUIDField(source="event_id", read_only=True)
    endpoint = serializers.UUIDField(source="endpoint_id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    message_id = serializers.CharField(source="event.message_id", read_only=True, help_text="The webhook-id header")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event",
            "event_type",
            "message_id",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields
