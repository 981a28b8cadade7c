"""Bills and what Congress.gov publishes about them, mostly read-only: the feed keeps them."""

from django.contrib import admin
from django.http import HttpRequest

from tracker.models import (
    Amendment,
    Bill,
    BillAction,
    BillSummary,
    BillTextVersion,
    BillTitle,
    Cosponsor,
)


class BillActionInline(admin.TabularInline):
    model = BillAction
    extra = 0
    fields = [
        "acted_on",
        "acted_at_time",
        "text",
        "action_type",
        "action_code",
        "source_system_code",
    ]
    readonly_fields = ["fingerprint"]


class AmendmentInline(admin.TabularInline):
    model = Amendment
    extra = 0
    fields = ["amendment_type", "number", "purpose", "latest_action_on", "latest_action_text"]
    show_change_link = True


class CosponsorInline(admin.TabularInline):
    model = Cosponsor
    extra = 0
    fields = ["full_name", "member", "sponsored_on", "is_original", "withdrawn_on"]
    autocomplete_fields = ["member"]


class BillSummaryInline(admin.StackedInline):
    model = BillSummary
    extra = 0
    fields = ["version_code", "acted_on", "action_desc", "text"]


class BillTextVersionInline(admin.TabularInline):
    model = BillTextVersion
    extra = 0
    fields = ["version_type", "dated", "formats"]


class BillTitleInline(admin.TabularInline):
    model = BillTitle
    extra = 0
    fields = ["title_type", "title"]


@admin.register(Bill)
class BillAdmin(admin.ModelAdmin):
    list_display = [
        "label",
        "congress",
        "title",
        "latest_action_on",
        "public_law",
        "last_synced_at",
    ]
    list_filter = ["congress", "bill_type", "negotiation"]
    search_fields = ["title", "=number", "latest_action_text"]
    autocomplete_fields = ["negotiation"]
    readonly_fields = ["source_updated_at", "last_synced_at", "congress_gov_url"]
    list_select_related = ["negotiation"]
    # What Congress.gov publishes, each list as the feed stores it (a correction here is
    # overwritten by the next refresh that sees the bill change).
    inlines = [
        BillActionInline,
        AmendmentInline,
        CosponsorInline,
        BillSummaryInline,
        BillTextVersionInline,
        BillTitleInline,
    ]


@admin.register(BillAction)
class BillActionAdmin(admin.ModelAdmin):
    list_display = ["bill", "acted_on", "text", "action_type", "source_system_code"]
    list_filter = ["action_type", "source_system_code"]
    search_fields = ["text", "action_code"]
    autocomplete_fields = ["bill"]
    readonly_fields = ["fingerprint", "recorded_at"]
    list_select_related = ["bill"]
    date_hierarchy = "acted_on"

    def save_model(self, request: HttpRequest, obj: BillAction, form, change: bool) -> None:
        obj.fingerprint = BillAction.fingerprint_for(
            acted_on=obj.acted_on,
            acted_at_time=obj.acted_at_time,
            source_system_code=obj.source_system_code,
            action_code=obj.action_code,
            text=obj.text,
        )
        super().save_model(request, obj, form, change)


@admin.register(Amendment)
class AmendmentAdmin(admin.ModelAdmin):
    list_display = ["label", "bill", "purpose", "latest_action_on", "latest_action_text"]
    list_filter = ["congress", "amendment_type"]
    search_fields = ["=number", "purpose", "description", "latest_action_text"]
    autocomplete_fields = ["bill"]
    list_select_related = ["bill"]


@admin.register(Cosponsor)
class CosponsorAdmin(admin.ModelAdmin):
    list_display = ["full_name", "bill", "party", "state", "sponsored_on", "withdrawn_on"]
    list_filter = ["party", "is_original"]
    search_fields = ["full_name", "=bioguide_id"]
    autocomplete_fields = ["bill", "member"]
    list_select_related = ["bill"]
