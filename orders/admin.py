from django.contrib import admin

from orders.models import Order, OrderEvent, OrderLine


class LineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in OrderLine._meta.fields]


class EventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "type", "from_status", "to_status", "message", "actor"]
    fields = readonly_fields


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Read-only: order state changes only through services (the API and the pages)."""

    list_display = ["number", "tenant", "external_id", "status", "shipping_method", "ship_by", "created_at"]
    list_filter = ["status", "shipping_method", "warehouse"]
    search_fields = ["number", "external_id"]
    inlines = [LineInline, EventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
