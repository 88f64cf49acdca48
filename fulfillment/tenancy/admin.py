from django.contrib import admin
from django.utils import timezone

from fulfillment.tenancy.models import ApiKey, MerchantMembership, StaffProfile, StaffToken, Tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "default_warehouse_code", "allow_partial_shipments", "shopper_emails", "created_at"]
    search_fields = ["slug", "name"]


@admin.action(description="Revoke the selected keys")
def revoke(modeladmin, request, queryset):
    queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


class _KeyAdmin(admin.ModelAdmin):
    """Keys are created by commands (the raw key is shown once there); here they can only be revoked."""

    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    actions = [revoke]

    def has_add_permission(self, request):
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(_KeyAdmin):
    list_display = ["prefix", "tenant", "name", "created_at", "last_used_at", "revoked_at"]


@admin.register(StaffToken)
class StaffTokenAdmin(_KeyAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role"]


@admin.register(MerchantMembership)
class MerchantMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "created_at"]
    list_select_related = ["user", "tenant"]
