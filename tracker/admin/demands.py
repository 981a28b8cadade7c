"""Demands; status changes go through the workflow, onto the timeline."""

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from tracker.admin.provisions import WorkflowStatusForm
from tracker.models import (
    Demand,
)


@admin.register(Demand)
class DemandAdmin(SimpleHistoryAdmin):
    form = WorkflowStatusForm
    list_display = ["title", "demanded_by", "status", "raised_on", "updated_at"]
    list_filter = ["status", "negotiation"]
    search_fields = ["title", "asks", "in_exchange_for", "demanded_by__name"]
    autocomplete_fields = ["negotiation", "demanded_by", "provisions"]
    readonly_fields = ["revision", "updated_at"]
    list_select_related = ["demanded_by"]
    prepopulated_fields = {"slug": ["title"]}

    def save_model(self, request: HttpRequest, obj: Demand, form, change: bool) -> None:
        if change and "status" in form.changed_data:
            new_status = obj.status
            obj.status = form.initial["status"]
            super().save_model(request, obj, form, change)
            obj.change_status(new_status, by=request.user, note="Changed in the admin")
        else:
            super().save_model(request, obj, form, change)
