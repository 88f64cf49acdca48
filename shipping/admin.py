from django.contrib import admin

from shipping.models import Carrier, ServiceLevel, TrackingEvent


class ServiceLevelInline(admin.TabularInline):
    model = ServiceLevel
    extra = 0


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    inlines = [ServiceLevelInline]


@admin.register(TrackingEvent)
class TrackingEventAdmin(admin.ModelAdmin):
    list_display = ["shipment", "tenant", "code", "occurred_at"]
    list_filter = ["code"]
    search_fields = ["shipment__tracking_number"]
    list_select_related = ["shipment", "tenant"]
    readonly_fields = ["tenant", "shipment", "code", "description", "location", "occurred_at", "created_at"]
