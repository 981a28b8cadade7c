"""CBO cost estimates: filled by the Congress.gov refresh and the demo; an Admin can tie one to
the package version it scores."""

from django.contrib import admin

from tracker.models import CostEstimate


@admin.register(CostEstimate)
class CostEstimateAdmin(admin.ModelAdmin):
    list_display = ["title", "bill", "published_at", "version"]
    list_filter = ["bill"]
    search_fields = ["title", "description", "url"]
    autocomplete_fields = ["bill", "version"]
    list_select_related = ["bill", "version"]
    date_hierarchy = "published_at"
