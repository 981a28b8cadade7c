"""Roll-call votes and their casts."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from tracker.models import (
    Vote,
    VoteCast,
)


class VoteCastInline(admin.TabularInline):
    model = VoteCast
    extra = 0
    fields = ["member", "published_as", "cast", "party", "state"]
    autocomplete_fields = ["member"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[VoteCast]:
        return super().get_queryset(request).select_related("member")


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "chamber",
        "roll_number",
        "voted_on",
        "result",
        "tally",
        "is_confirmed",
    ]
    list_filter = ["chamber", "congress", "session", "is_confirmed"]
    search_fields = ["question", "title", "result", "=roll_number", "amendment"]
    autocomplete_fields = ["bill"]
    readonly_fields = ["source_modified_at", "last_synced_at"]
    list_select_related = ["bill"]
    date_hierarchy = "voted_on"
    inlines = [VoteCastInline]


@admin.register(VoteCast)
class VoteCastAdmin(admin.ModelAdmin):
    list_display = ["member", "vote", "published_as", "cast", "party", "state"]
    list_filter = ["cast", "party"]
    search_fields = ["member__name", "published_as"]
    autocomplete_fields = ["vote", "member"]
    list_select_related = ["member", "vote"]
