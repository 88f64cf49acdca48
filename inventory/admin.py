from django.contrib import admin

from inventory.models import InboundShipment, Location, Lot, Product, StockBalance, StockMovement, Warehouse


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "country", "timezone", "cutoff_time"]
    filter_horizontal = ["staff"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["code", "warehouse", "kind", "is_sellable", "pick_sequence"]
    list_filter = ["warehouse", "kind"]
    search_fields = ["code"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "tenant", "weight_g"]
    list_filter = ["tenant"]
    search_fields = ["sku", "name"]


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    list_display = ["code", "product", "expiry_date", "received_at"]


@admin.register(StockBalance)
class StockBalanceAdmin(admin.ModelAdmin):
    """Read-only: balances change only through movements."""

    list_display = ["product", "location", "lot", "on_hand", "allocated"]
    list_filter = ["location__warehouse"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StockMovement)
class StockMovementAdmin(StockBalanceAdmin):
    list_display = ["created_at", "product", "lot", "from_location", "to_location", "quantity", "reason", "reference"]
    list_filter = ["reason"]


@admin.register(InboundShipment)
class InboundShipmentAdmin(admin.ModelAdmin):
    list_display = ["id", "tenant", "warehouse", "reference", "status", "created_at"]
