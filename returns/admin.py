from django.contrib import admin

from returns.models import Return, ReturnLine


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    extra = 0
    can_delete = False
    fields = ["sku", "quantity", "reason", "received_quantity", "condition", "disposition"]
    readonly_fields = fields


@admin.register(Return)
class ReturnAdmin(admin.ModelAdmin):
    """Read-only: returns change only through returns.services (stock moves with them)."""

    list_display = ["number", "tenant", "order", "warehouse", "status", "created_at", "received_at"]
    list_filter = ["status", "warehouse"]
    search_fields = ["number", "order__number", "order__external_id"]
    inlines = [ReturnLineInline]
    readonly_fields = ["number", "tenant", "order", "warehouse", "status", "created_at", "updated_at", "received_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
