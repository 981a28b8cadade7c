"""Stakeholders and their positions; a position added here is recorded like any other."""

from django.contrib import admin
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from tracker.models import (
    Position,
    Stakeholder,
)


class NewPositionsThroughRecordFormSet(BaseInlineFormSet):
    """Positions added in the stakeholder page are recorded like any other, with Activity."""

    def save_new(self, form, commit: bool = True) -> Position:
        data = form.cleaned_data
        return self.instance.record_position(
            stance=data["stance"],
            as_of=data["as_of"],
            provision=data.get("provision"),
            demand=data.get("demand"),
            source_url=data.get("source_url", ""),
            source_type=data.get("source_type") or None,
            source_is_weak=data.get("source_is_weak", False),
            statement=data.get("statement", ""),
            statement_kind=data["statement_kind"],
            by=self.request_user,
        )


class PositionInline(admin.TabularInline):
    model = Position
    formset = NewPositionsThroughRecordFormSet
    extra = 0
    fields = [
        "provision",
        "demand",
        "stance",
        "as_of",
        "source_url",
        "source_type",
        "source_is_weak",
        "statement_kind",
        "statement",
        "recorded_by",
        "recorded_at",
    ]
    readonly_fields = ["recorded_by", "recorded_at"]
    autocomplete_fields = ["provision", "demand"]

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.request_user = request.user
        return formset


@admin.register(Stakeholder)
class StakeholderAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "party", "state", "role", "bioguide_id", "lis_id", "in_office"]
    list_filter = ["kind", "party", "in_office", "state"]
    search_fields = ["name", "role", "=bioguide_id", "=lis_id", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [PositionInline]


@admin.register(Position)
class PositionAdmin(SimpleHistoryAdmin):
    list_display = ["stakeholder", "target", "stance", "as_of", "is_sourced", "recorded_by"]
    list_filter = ["stance", "source_type", "source_is_weak", "statement_kind", "as_of"]
    search_fields = ["stakeholder__name", "provision__title", "demand__title", "statement"]
    autocomplete_fields = ["stakeholder", "provision", "demand", "derived_from_vote"]
    readonly_fields = ["recorded_by", "recorded_at"]
    list_select_related = ["stakeholder", "provision", "demand", "recorded_by"]
    date_hierarchy = "as_of"

    @admin.display(boolean=True, description="sourced")
    def is_sourced(self, position: Position) -> bool:
        return position.is_sourced

    def save_model(self, request: HttpRequest, obj: Position, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        recorded = obj.stakeholder.record_position(
            stance=obj.stance,
            as_of=obj.as_of,
            provision=obj.provision,
            demand=obj.demand,
            source_url=obj.source_url,
            statement=obj.statement,
            statement_kind=obj.statement_kind,
            by=request.user,
        )
        obj.pk = recorded.pk
