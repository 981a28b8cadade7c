"""Digests: watches, preferences and the delivery record."""

from django.contrib import admin

from tracker.models import DigestDelivery, DigestPreference, Watch


@admin.register(Watch)
class WatchAdmin(admin.ModelAdmin):
    list_display = ["user", "provision", "demand", "stakeholder", "negotiation", "created_at"]
    list_select_related = ["user", "provision", "demand", "stakeholder", "negotiation"]
    search_fields = [
        "user__username",
        "provision__title",
        "demand__title",
        "stakeholder__name",
        "negotiation__name",
    ]
    autocomplete_fields = ["user", "provision", "demand", "stakeholder", "negotiation"]
    readonly_fields = ["created_at"]


@admin.register(DigestPreference)
class DigestPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "frequency", "hour", "weekday", "time_zone", "send_empty"]
    list_select_related = ["user"]
    list_filter = ["frequency", "send_empty", "time_zone"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(admin.ModelAdmin):
    """The record of truth for every digest; read-only, since editing it could resend or skip."""

    list_display = [
        "user",
        "period",
        "status",
        "change_count",
        "attempts",
        "covers_until",
        "sent_at",
    ]
    list_select_related = ["user"]
    list_filter = ["status"]
    search_fields = ["user__username", "user__email", "period", "message_id"]
    date_hierarchy = "covers_until"

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
