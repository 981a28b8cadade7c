"""Provisions and their amounts per version; status changes go through the workflow."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from tracker.admin.workflow import WorkflowAdmin
from tracker.models import (
    Provision,
    ProvisionStatus,
    TransitionNotAllowed,
    VersionLine,
)


class VersionLineInline(admin.TabularInline):
    model = VersionLine
    fk_name = "provision"
    extra = 0
    fields = ["version", "amount", "inclusion", "is_confirmed", "within", "note"]
    autocomplete_fields = ["version", "within"]


def _status_action(status: ProvisionStatus):
    def change_to_status(modeladmin, request: HttpRequest, queryset: QuerySet[Provision]) -> None:
        changed, refused = 0, []
        for provision in queryset:
            if provision.status == status:
                continue
            try:
                provision.change_status(status, by=request.user, note="Bulk change in the admin")
            except TransitionNotAllowed as error:
                refused.append(str(error))
                continue
            changed += 1
        modeladmin.message_user(
            request, f"{changed} provision(s) moved to {status.label}.", messages.SUCCESS
        )
        for reason in refused:
            modeladmin.message_user(request, f"Not changed: {reason}", messages.WARNING)

    change_to_status.__name__ = f"mark_{status.value}"
    return admin.action(description=f"Change status to: {status.label}")(change_to_status)


@admin.register(Provision)
class ProvisionAdmin(WorkflowAdmin):
    list_display = ["title", "kind", "category", "status", "unit", "owner", "updated_at"]
    list_filter = ["kind", "category", "status", "negotiation"]
    search_fields = ["title", "slug", "description"]
    autocomplete_fields = ["negotiation", "parent", "version", "owner"]
    readonly_fields = ["revision", "created_at", "updated_at"]
    list_select_related = ["owner", "negotiation"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [VersionLineInline]
    actions = [_status_action(status) for status in ProvisionStatus]


@admin.register(VersionLine)
class VersionLineAdmin(admin.ModelAdmin):
    list_display = ["provision", "version", "amount", "inclusion", "is_confirmed"]
    list_filter = ["inclusion", "is_confirmed", "version"]
    search_fields = ["provision__title", "note"]
    autocomplete_fields = ["provision", "version", "within"]
    list_select_related = ["provision", "version"]
