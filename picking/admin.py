from django import forms
from django.contrib import admin

from picking.models import PickList, PickTask, Wave, WaveSchedule
from picking.services.waves import PARAM_FIELDS, schedule_errors


@admin.register(Wave)
class WaveAdmin(admin.ModelAdmin):
    list_display = ["id", "warehouse", "strategy", "status", "cutoff", "order_count", "distance_m", "created_at"]
    list_filter = ["status", "strategy", "warehouse"]
    readonly_fields = ["order_count", "line_count", "unit_count", "distance_m", "cutoff", "schedule", "created_by"]


class WaveScheduleForm(forms.ModelForm):
    """The same checks as the schedule pages (picking.services.waves.schedule_errors)."""

    class Meta:
        model = WaveSchedule
        fields = [
            "warehouse",
            "name",
            "enabled",
            "strategy",
            "release_times",
            "max_orders",
            "max_lines",
            "totes_per_cart",
            "tote_volume_l",
            "cart_volume_l",
            "last_released_at",
        ]

    def clean(self):
        data = super().clean()
        times, errors = schedule_errors(
            name=data.get("name") or "",
            release_times=data.get("release_times"),
            **{name: data.get(name) for name in PARAM_FIELDS},
        )
        for field, message in errors.items():
            self.add_error(field if field in self.fields else None, message)
        data["release_times"] = times
        return data


@admin.register(WaveSchedule)
class WaveScheduleAdmin(admin.ModelAdmin):
    form = WaveScheduleForm
    list_display = ["name", "warehouse", "enabled", "strategy", "release_times", "max_orders", "last_released_at"]
    list_filter = ["enabled", "warehouse"]


class TaskInline(admin.TabularInline):
    model = PickTask
    extra = 0
    fields = ["sequence", "location", "product", "quantity", "picked_quantity", "tote", "status"]
    readonly_fields = fields


@admin.register(PickList)
class PickListAdmin(admin.ModelAdmin):
    list_display = ["id", "warehouse", "zone", "status", "distance_m", "assigned_to"]
    inlines = [TaskInline]
