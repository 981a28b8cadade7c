from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tracker.models import Activity, Demand, Negotiation


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The negotiation at a glance: its versions' toplines, open demands, latest activity."""
    negotiation = Negotiation.objects.prefetch_related("versions").first()
    context = {"negotiation": negotiation}
    if negotiation is not None:
        context["open_demands"] = Demand.objects.filter(negotiation=negotiation).open()
        context["latest_activity"] = Activity.objects.filter(
            negotiation=negotiation
        ).for_timeline()[:15]
    return render(request, "tracker/home.html", context)
