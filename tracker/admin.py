"""The Django admin: every model, with the same domain verbs as the staff views.

Status changes and new positions made here go through `Provision.change_status`,
`Demand.change_status` and `Stakeholder.record_position`, so they reach the timeline too.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from tracker.models import (
    Activity,
    Amendment,
    Bill,
    BillAction,
    BillSummary,
    BillTextVersion,
    BillTitle,
    Cosponsor,
    Demand,
    Negotiation,
    PackageVersion,
    Position,
    Provision,
    ProvisionStatus,
    Stakeholder,
    TransitionNotAllowed,
    VersionLine,
    Vote,
    VoteCast,
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


class VersionLineInline(admin.TabularInline):
    model = VersionLine
    extra = 0
    fields = ["version", "amount", "inclusion", "is_confirmed", "note"]
    autocomplete_fields = ["version"]


class WorkflowStatusForm(forms.ModelForm):
    """Refuses a status the workflow does not allow from the stored one."""

    def clean_status(self) -> str:
        new_status = self.cleaned_data["status"]
        stored = self.instance
        if (
            stored.pk
            and new_status != stored.status
            and new_status not in stored.TRANSITIONS[stored.status]
        ):
            raise forms.ValidationError(
                f"The workflow does not allow {stored.get_status_display()} → "
                f"{dict(self.fields['status'].choices)[new_status]}."
            )
        return new_status


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
class ProvisionAdmin(SimpleHistoryAdmin):
    form = WorkflowStatusForm
    list_display = ["title", "kind", "category", "status", "unit", "owner", "updated_at"]
    list_filter = ["kind", "category", "status", "negotiation"]
    search_fields = ["title", "slug", "description"]
    autocomplete_fields = ["negotiation", "parent", "version", "owner"]
    readonly_fields = ["revision", "created_at", "updated_at"]
    list_select_related = ["owner", "negotiation"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [VersionLineInline]
    actions = [_status_action(status) for status in ProvisionStatus]

    def save_model(self, request: HttpRequest, obj: Provision, form, change: bool) -> None:
        if change and "status" in form.changed_data:
            new_status = obj.status
            obj.status = form.initial["status"]
            super().save_model(request, obj, form, change)
            obj.change_status(new_status, by=request.user, note="Changed in the admin")
        else:
            super().save_model(request, obj, form, change)


@admin.register(VersionLine)
class VersionLineAdmin(admin.ModelAdmin):
    list_display = ["provision", "version", "amount", "inclusion", "is_confirmed"]
    list_filter = ["inclusion", "is_confirmed", "version"]
    search_fields = ["provision__title", "note"]
    autocomplete_fields = ["provision", "version"]
    list_select_related = ["provision", "version"]


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
    list_filter = ["stance", "statement_kind", "as_of"]
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


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "summary", "reported_by", "is_confirmed"]
    list_filter = ["kind", "is_confirmed", "source"]
    search_fields = ["summary", "detail"]
    autocomplete_fields = [
        "negotiation",
        "actor",
        "provision",
        "demand",
        "stakeholder",
        "position",
        "bill",
        "vote",
    ]
    readonly_fields = ["from_value", "to_value"]
    list_select_related = ["actor"]
    date_hierarchy = "occurred_at"

    def save_model(self, request: HttpRequest, obj: Activity, form, change: bool) -> None:
        if not change and obj.actor_id is None:
            obj.actor = request.user
        super().save_model(request, obj, form, change)


# The feeds, digests and analysis models register themselves in their own modules.
from tracker import admin_analysis, admin_digests, admin_feeds  # noqa: E402, F401
