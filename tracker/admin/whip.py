"""Whip counts: vote targets (with what they are about),
vacancies, and the whip overrides staff set from the board."""

from django.contrib import admin
from django.http import HttpRequest

from tracker.models.whip import StanceOverride, Vacancy, VoteTarget, VoteTargetLink


class VoteTargetLinkInline(admin.TabularInline):
    model = VoteTargetLink
    extra = 1
    autocomplete_fields = ["provision", "demand"]


@admin.register(VoteTarget)
class VoteTargetAdmin(admin.ModelAdmin):
    list_display = ["motion", "negotiation", "chamber", "expected_on", "rule", "vote"]
    list_filter = ["chamber", "rule", "negotiation"]
    list_select_related = ["negotiation", "vote"]
    search_fields = ["motion", "notes"]
    autocomplete_fields = ["vote"]
    readonly_fields = ["created_by", "created_at"]
    inlines = [VoteTargetLinkInline]

    def save_model(self, request: HttpRequest, obj: VoteTarget, form: object, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Vacancy)
class VacancyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "chamber", "state", "district", "vacated_on", "filled_on", "reason"]
    list_filter = ["chamber", "state"]
    search_fields = ["state", "reason", "former_member__name"]
    autocomplete_fields = ["former_member"]
    list_select_related = ["former_member"]


@admin.register(StanceOverride)
class StanceOverrideAdmin(admin.ModelAdmin):
    """Read-mostly: overrides are set from the board (with an activity row) and kept as history."""

    list_display = ["member", "target", "stance", "set_on", "set_by", "note"]
    list_filter = ["stance", "target"]
    list_select_related = ["member", "target", "set_by"]
    search_fields = ["member__name", "note", "target__motion"]
    readonly_fields = ["target", "member", "stance", "note", "set_on", "set_by", "set_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
