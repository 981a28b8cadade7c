"""Feed runs and the documents they fetched: read-only records of what happened."""

from django.contrib import admin
from django.http import HttpRequest

from tracker.models import FeedDocument, FeedRun


@admin.register(FeedRun)
class FeedRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "source",
        "scope",
        "status",
        "trigger",
        "started_at",
        "finished_at",
        "fetched",
        "created",
        "updated",
        "unchanged",
        "skipped",
        "failed",
    ]
    list_filter = ["source", "status", "trigger"]
    search_fields = ["scope", "message"]
    list_select_related = ["requested_by"]
    date_hierarchy = "queued_at"

    def get_readonly_fields(self, request: HttpRequest, obj: FeedRun | None = None) -> list[str]:
        # A run is a record of what happened: once written, the admin shows it and edits nothing.
        return [field.name for field in FeedRun._meta.fields] if obj else []


@admin.register(FeedDocument)
class FeedDocumentAdmin(admin.ModelAdmin):
    list_display = ["url", "etag", "last_modified", "fetched_at", "changed_at"]
    search_fields = ["url"]
    readonly_fields = ["url", "etag", "last_modified", "sha256", "fetched_at", "changed_at"]
