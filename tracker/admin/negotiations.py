"""The negotiation and the versions of its package."""

from django.contrib import admin

from tracker.models import (
    Negotiation,
    PackageVersion,
)


@admin.register(Negotiation)
class NegotiationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "congress", "created_at"]
    search_fields = ["name", "slug"]
    list_filter = ["congress"]
    readonly_fields = ["created_at"]
    prepopulated_fields = {"slug": ["name"]}


class PackageVersionInline(admin.TabularInline):
    model = PackageVersion
    extra = 0
    fields = ["slug", "name", "stage", "dated", "stated_total", "stated_total_confirmed"]


NegotiationAdmin.inlines = [PackageVersionInline]


@admin.register(PackageVersion)
class PackageVersionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "negotiation",
        "stage",
        "dated",
        "stated_total",
        "stated_total_confirmed",
    ]
    list_filter = ["stage", "negotiation"]
    search_fields = ["name", "slug"]
    autocomplete_fields = ["negotiation", "bill"]
    list_select_related = ["negotiation"]
