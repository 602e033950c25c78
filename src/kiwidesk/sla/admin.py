from __future__ import annotations

from django.contrib import admin

from kiwidesk.sla.models import BusinessCalendar, Clock, Policy, Target


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin[BusinessCalendar]):
    list_display = ["name", "time_zone", "is_always_open", "country", "subdivision"]


class TargetInline(admin.TabularInline[Target, Policy]):
    model = Target
    extra = 0
    raw_id_fields = ["organisation"]


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin[Policy]):
    list_display = ["name", "position", "is_active", "calendar"]
    list_editable = ["position", "is_active"]
    inlines = [TargetInline]


@admin.register(Clock)
class ClockAdmin(admin.ModelAdmin[Clock]):
    list_display = ["case", "metric", "thread", "state", "due_at", "breached_at", "policy"]
    list_filter = ["state", "metric", "policy"]
    raw_id_fields = ["case", "thread"]
    show_full_result_count = False

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        # Clocks are derived from events; an edit would be overwritten by the next one.
        return False
