from django.contrib import admin

from shipping.models import CarrierAccount, CarrierService, LabelPurchase, Manifest, ShippingException, TrackingEvent


class CarrierServiceInline(admin.TabularInline):
    model = CarrierService
    extra = 0


@admin.register(CarrierAccount)
class CarrierAccountAdmin(admin.ModelAdmin):
    list_display = ["carrier_id", "carrier_name", "display_name", "test_mode", "active"]
    list_filter = ["carrier_name", "active", "test_mode"]
    exclude = ["credentials_encrypted"]  # encrypted; changed through the API or the carriers page
    inlines = [CarrierServiceInline]


@admin.register(LabelPurchase)
class LabelPurchaseAdmin(admin.ModelAdmin):
    list_display = ["shipment", "account", "service_code", "status", "total_charge", "currency", "started_at"]
    list_filter = ["status"]
    exclude = ["label"]
    readonly_fields = ["shipment", "account", "tenant", "manifest"]


@admin.register(ShippingException)
class ShippingExceptionAdmin(admin.ModelAdmin):
    list_display = ["shipment", "code", "created_at", "resolved_at"]
    list_filter = ["code"]


@admin.register(Manifest)
class ManifestAdmin(admin.ModelAdmin):
    list_display = ["account", "warehouse", "shipments_count", "created_at"]
    exclude = ["document_pdf", "carrier_document"]


@admin.register(TrackingEvent)
class TrackingEventAdmin(admin.ModelAdmin):
    list_display = ["shipment", "tenant", "code", "occurred_at"]
    list_filter = ["code"]
    search_fields = ["shipment__tracking_number"]
    list_select_related = ["shipment", "tenant"]
    readonly_fields = ["tenant", "shipment", "code", "description", "location", "occurred_at", "created_at"]
