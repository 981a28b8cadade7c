"""Demands; status changes go through the workflow, onto the timeline."""

from django.contrib import admin

from tracker.admin.workflow import WorkflowAdmin
from tracker.models import (
    Demand,
)


@admin.register(Demand)
class DemandAdmin(WorkflowAdmin):
    list_display = ["title", "demanded_by", "status", "raised_on", "updated_at"]
    list_filter = ["status", "negotiation"]
    search_fields = ["title", "asks", "in_exchange_for", "demanded_by__name"]
    autocomplete_fields = ["negotiation", "demanded_by", "provisions"]
    readonly_fields = ["revision", "updated_at"]
    list_select_related = ["demanded_by"]
    prepopulated_fields = {"slug": ["title"]}
