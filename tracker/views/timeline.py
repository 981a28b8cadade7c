from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from tracker.forms import TimelineFilterForm
from tracker.models import Activity, Negotiation
from tracker.page_cache import current_stamp, kept
from tracker.views.access import current_negotiation

PAGE_SIZE = 40


@login_required
def timeline(request: HttpRequest) -> HttpResponse:
    """The negotiation's activity, newest first, filterable, loading more as staff scroll on."""
    negotiation = current_negotiation()
    filters = TimelineFilterForm(request.GET or None)
    part = "page" if request.htmx else "content"
    if filters.is_bound and not filters.is_valid():
        # Drawn with the errors, and never kept: any text can be in a crafted link.
        drawn = _drawn(request, part, negotiation, filters)
    else:
        drawn = kept(
            f"timeline-{part}",
            negotiation.pk,
            # Every parameter: the form shows them, the "Load more" link carries them.
            sorted(request.GET.lists()),
            stamp=current_stamp(),
            build=lambda: _drawn(request, part, negotiation, filters),
        )
    code = 400 if filters.errors else 200
    if request.htmx:
        return HttpResponse(drawn, status=code)
    return render(request, "timeline/list.html", {"content": drawn}, status=code)


def _drawn(
    request: HttpRequest, part: str, negotiation: Negotiation, filters: TimelineFilterForm
) -> str:
    """The filters and a page of entries, drawn: the same for everyone with the same query,
    so kept per query until something changes."""
    activities = Activity.objects.filter(negotiation=negotiation).for_timeline()
    subject = None
    if filters.is_valid():
        wanted = filters.cleaned_data
        if wanted["kind"]:
            activities = activities.filter(kind=wanted["kind"])
        for field in ("provision", "demand", "stakeholder", "vote", "bill"):
            if wanted[field]:
                activities = activities.filter(**{f"{field}_id": wanted[field]})
                subject = (
                    Activity._meta.get_field(field)
                    .related_model.objects.filter(pk=wanted[field])
                    .first()
                )
        starts, ends = filters.window()
        if starts is not None:
            activities = activities.filter(occurred_at__gte=starts)
        if ends is not None:
            activities = activities.filter(occurred_at__lt=ends)
        if wanted["after"] is not None:
            activities = activities.filter(id__gt=wanted["after"])
        if wanted["upto"]:
            activities = activities.filter(id__lte=wanted["upto"])
        if wanted["before"]:
            # Keyset paging: entries older than the last one shown, stable as new ones arrive.
            anchor = Activity.objects.filter(pk=wanted["before"]).values("occurred_at").first()
            if anchor:
                activities = activities.filter(
                    Q(occurred_at__lt=anchor["occurred_at"])
                    | Q(occurred_at=anchor["occurred_at"], pk__lt=wanted["before"])
                )
    page = list(activities[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    query = request.GET.copy()
    query.pop("before", None)
    if more:
        query["before"] = page[-1].pk
    context = {
        "filters": filters,
        "activities": page,
        "more": more,
        "next_query": query.urlencode(),
        "subject": subject,
    }
    return render_to_string(f"timeline/list.html#{part}", context)
