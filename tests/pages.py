"""Every staff page, form and export of the demo negotiation, for tests that walk them all, and
where the browser tests keep their screenshots."""

from pathlib import Path

from tracker.models import Bill, Demand, Negotiation, Provision, Stakeholder, Vote
from tracker.models.whip import VoteTarget

# Screenshots the browser tests take, for a person to look at.
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def staff_pages(demo: Negotiation) -> list[str]:
    provision = Provision.objects.filter(negotiation=demo).order_by("pk").first()
    demand = Demand.objects.filter(negotiation=demo).order_by("pk").first()
    senator = Stakeholder.objects.get(slug="lisa-murkowski")
    target = VoteTarget.objects.filter(links__provision__slug="senate-deal-package").first()
    bill = Bill.objects.filter(negotiation=demo).order_by("pk").first()
    vote = Vote.objects.filter(casts__isnull=False).order_by("pk").first()
    return [
        "/",
        "/provisions/",
        f"/provisions/{provision.pk}/",
        "/demands/",
        f"/demands/{demand.pk}/",
        f"/demands/{demand.pk}/edit",
        "/demands/new",
        "/stakeholders/",
        f"/stakeholders/{senator.pk}/",
        "/positions/",
        "/positions/grid.csv",
        "/timeline/",
        "/bills/",
        f"/bills/{bill.pk}/",
        "/votes/",
        f"/votes/{vote.pk}/",
        "/whip/",
        f"/whip/{target.pk}/",
        f"/whip/{target.pk}/board.csv",
        f"/whip/{target.pk}/results/",
        f"/whip/{target.pk}/members/{senator.pk}/position/",
        f"/whip/{target.pk}/members/{senator.pk}/override/",
        "/funding/",
        "/funding/?empty=hide",
        "/funding/comparison.csv",
        "/funding/comparison.csv?empty=hide",
        "/feeds/",
        "/digests/watches/",
        "/digests/preferences/",
        "/digests/preview",
        "/digests/preview/email.html",
        "/search/?q=Ukraine+aid",
        "/search/?q=H.R.+815",
        # Type-ahead for the long selects (tracker/choices.py).
        "/choices/position-targets/?q=title",
        f"/choices/position-targets/?whip={target.pk}&q=a",
        "/choices/stakeholders/?q=murk",
        f"/choices/provisions/?negotiation={demo.pk}&q=ukr",
        "/choices/time-zones/?q=new+york",
    ]
