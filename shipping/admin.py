from django.contrib import admin

from shipping.models import (
    CarrierAccount,
    CarrierService,
    LabelPurchase,
    Manifest,
    ShippingException,
    TrackingEvent,
    TrackingState,
)


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
    list_display = ["shipment", "tenant", "status", "code", "occurred_at", "source"]
    list_filter = ["status", "source"]
    search_fields = ["shipment__tracking_number"]
    list_select_related = ["shipment", "tenant"]
    readonly_fields = [
        "tenant",
        "shipment",
        "status",
        "code",
        "reason",
        "description",
        "location",
        "occurred_at",
        "source",
        "created_at",
    ]


@admin.register(TrackingState)
class TrackingStateAdmin(admin.ModelAdmin):
    list_display = ["shipment", "tenant", "status", "status_at", "next_poll_at", "delayed_at", "exception_at"]
    list_filter = ["status"]
    search_fields = ["shipment__tracking_number"]
    list_select_related = ["shipment", "tenant"]
    readonly_fields = [f.name for f in TrackingState._meta.fields]
