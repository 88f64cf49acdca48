from django.contrib import admin

from fulfillment.webhooks.models import OutboxEvent, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "tenant", "is_active", "disabled_reason", "created_at"]
    list_filter = ["is_active"]
    exclude = ["secret"]


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["type", "tenant", "created_at"]
    list_filter = ["type"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["status"]

    def has_change_permission(self, request, obj=None):
        return False
