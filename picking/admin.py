from django.contrib import admin

from picking.models import PickList, PickTask, Wave


@admin.register(Wave)
class WaveAdmin(admin.ModelAdmin):
    list_display = ["id", "warehouse", "strategy", "status", "created_at"]


class TaskInline(admin.TabularInline):
    model = PickTask
    extra = 0
    fields = ["sequence", "location", "product", "quantity", "picked_quantity", "tote", "status"]
    readonly_fields = fields


@admin.register(PickList)
class PickListAdmin(admin.ModelAdmin):
    list_display = ["id", "warehouse", "zone", "status", "distance_m", "assigned_to"]
    inlines = [TaskInline]
