"""An Editor accepts or dismisses a status change a feed proposed."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import IntegerField
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tracker.forms import MAX_ID
from tracker.models import ProposalState, StaleEditError, StatusProposal, TransitionNotAllowed
from tracker.views.access import permission_needed


@permission_needed("tracker.change_provision", "decide on the feeds' proposals")
@require_POST
def proposal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept (a normal status change, refused if the provision changed since the page was
    read) or dismiss one proposal; the buttons say which."""
    proposal = get_object_or_404(
        StatusProposal.objects.select_related("provision"), pk=pk, state=ProposalState.OPEN
    )
    decision = request.POST.get("decision")
    refused = ""
    if decision == "accept":
        try:
            revision = IntegerField(min_value=1, max_value=MAX_ID).clean(
                request.POST.get("revision")
            )
            proposal.accept(by=request.user, based_on_revision=revision)
        except ValidationError:  # a missing or malformed revision
            refused = "This form is out of date or damaged: reload the page and try again."
        except StaleEditError as stale:
            refused = f"{stale.current} was changed since this page was loaded; reload to decide."
        except TransitionNotAllowed as error:
            refused = str(error)
    elif decision == "dismiss":
        proposal.dismiss(by=request.user)
    else:
        refused = "Say accept or dismiss."
    proposal.refresh_from_db()
    proposal.provision.refresh_from_db()
    status = 409 if refused else 200
    if request.htmx:
        context = {"proposal": proposal, "refused": refused}
        return render(request, "provisions/_proposal_decided.html", context, status=status)
    if refused:
        messages.error(request, f"Not changed: {refused}")
    else:
        messages.success(request, f"{proposal.provision.title}: proposal {proposal.state}.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = proposal.provision.get_absolute_url()
    return redirect(target)
