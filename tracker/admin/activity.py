"""The timeline itself."""

from django.contrib import admin
from django.http import HttpRequest

from tracker.models import (
    Activity,
)


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "summary", "reported_by", "is_confirmed"]
    list_filter = ["kind", "is_confirmed", "source"]
    search_fields = ["summary", "detail"]
    autocomplete_fields = [
        "negotiation",
        "actor",
        "provision",
        "demand",
        "stakeholder",
        "position",
        "bill",
        "vote",
    ]
    readonly_fields = ["from_value", "to_value"]
    list_select_related = ["actor"]
    date_hierarchy = "occurred_at"

    def save_model(self, request: HttpRequest, obj: Activity, form, change: bool) -> None:
        if not change and obj.actor_id is None:
            obj.actor = request.user
        super().save_model(request, obj, form, change)
