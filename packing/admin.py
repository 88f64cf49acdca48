from django.contrib import admin

from packing.models import (
    Box,
    InsertRule,
    Material,
    MaterialAlert,
    MaterialBalance,
    MaterialMovement,
    Package,
    PackScan,
    PackSession,
    PackSessionPackage,
    Shipment,
)


@admin.register(Box)
class BoxAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "length_mm",
        "width_mm",
        "height_mm",
        "max_weight_g",
        "tare_weight_g",
        "void_fill_per_package",
        "is_active",
    ]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]


class PackageInline(admin.TabularInline):
    model = Package
    extra = 0
    can_delete = False
    fields = ["number", "box", "weight_g", "length_mm", "width_mm", "height_mm", "items"]
    readonly_fields = fields


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ["id", "order", "tenant", "warehouse", "status", "carrier_code", "tracking_number", "created_at"]
    list_filter = ["status", "carrier_code", "warehouse"]
    search_fields = ["tracking_number", "order__number", "order__external_id"]
    list_select_related = ["order", "tenant", "warehouse"]
    exclude = ["label_pdf"]
    readonly_fields = [
        "tenant",
        "order",
        "warehouse",
        "carrier_code",
        "service_code",
        "tracking_number",
        "rate_amount",
        "rate_currency",
        "label_zpl",
        "label_purchased_at",
        "delivered_at",
        "estimated_delivery_date",
        "public_token",
        "created_at",
        "updated_at",
    ]
    inlines = [PackageInline]


class PackSessionPackageInline(admin.TabularInline):
    model = PackSessionPackage
    extra = 0
    can_delete = False
    fields = ["number", "box", "weight_g", "override_reason"]
    readonly_fields = fields


class PackScanInline(admin.TabularInline):
    model = PackScan
    extra = 0
    can_delete = False
    fields = ["created_at", "scan_id", "barcode", "sku", "quantity", "result", "code", "package", "user"]
    readonly_fields = fields


@admin.register(PackSession)
class PackSessionAdmin(admin.ModelAdmin):
    """Read-only: sessions change through packing.services (the API and the pack station)."""

    list_display = ["id", "order", "warehouse", "station", "packer", "status", "opened_at", "closed_at"]
    list_filter = ["status", "warehouse"]
    search_fields = ["order__number", "station", "packer__username"]
    list_select_related = ["order", "warehouse", "packer"]
    readonly_fields = [
        "tenant",
        "order",
        "warehouse",
        "station",
        "packer",
        "status",
        "opened_at",
        "closed_at",
        "shipment",
    ]
    inlines = [PackSessionPackageInline, PackScanInline]

    def has_add_permission(self, request):
        return False


@admin.register(Material)
class MaterialAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "box", "unit_cost", "currency", "reorder_point"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


class _ReadOnly(admin.ModelAdmin):
    """Written by the services only (stock changes go through the ledger)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MaterialBalance)
class MaterialBalanceAdmin(_ReadOnly):
    list_display = ["warehouse", "material", "on_hand", "updated_at"]
    list_filter = ["warehouse"]
    list_select_related = ["warehouse", "material"]


@admin.register(MaterialMovement)
class MaterialMovementAdmin(_ReadOnly):
    list_display = ["at", "warehouse", "material", "quantity_delta", "reason", "reference", "actor", "note"]
    list_filter = ["reason", "warehouse"]
    search_fields = ["material__code", "reference"]
    list_select_related = ["warehouse", "material"]


@admin.register(MaterialAlert)
class MaterialAlertAdmin(_ReadOnly):
    list_display = ["created_at", "warehouse", "material", "message", "resolved_at"]
    list_filter = ["warehouse"]


@admin.register(InsertRule)
class InsertRuleAdmin(admin.ModelAdmin):
    list_display = ["tenant", "product", "quantity", "when", "active"]
    list_filter = ["when", "active"]
    list_select_related = ["tenant", "product"]
    raw_id_fields = ["product"]
