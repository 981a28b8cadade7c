"""The H.R. 815 events the feed tests replay, and a small package of versions to replay them on."""

from datetime import date

from tests.factories import make_negotiation, make_provision, make_version
from tracker.models import Bill, BillAction, VersionLine

FAILED_CLOTURE = (
    date(2024, 2, 7),
    "Cloture on the motion to proceed to the measure not invoked in Senate by Yea-Nay Vote. "
    "49 - 50. Record Vote Number: 39.",
)
PASSED_SENATE = (
    date(2024, 2, 13),
    "Passed Senate with an amendment by Yea-Nay Vote. 70 - 29. Record Vote Number: 48.",
)
BECAME_LAW = (date(2024, 4, 24), "Became Public Law No: 118-50.")


def make_package() -> dict:
    """H.R. 815 carrying three versions: the deal (Feb 4), the Senate-passed text (Feb 13) and
    the law (Apr 24), with Ukraine money in all three and a border line only in the deal."""
    negotiation = make_negotiation()
    bill = Bill.objects.create(negotiation=negotiation, congress=118, bill_type="hr", number=815)
    deal = make_version(negotiation, slug="deal", bill=bill, dated=date(2024, 2, 4))
    passed = make_version(negotiation, slug="passed", bill=bill, dated=date(2024, 2, 13))
    law = make_version(negotiation, slug="law", bill=bill, dated=date(2024, 4, 24))
    ukraine = make_provision(negotiation, title="Ukraine", status="in_text")
    border = make_provision(negotiation, title="Border money", status="in_text")
    red_sea = make_provision(negotiation, title="Red Sea operations", status="in_text")
    for version in (deal, passed, law):
        VersionLine.objects.create(provision=ukraine, version=version, amount=60_000_000_000)
    VersionLine.objects.create(provision=border, version=deal, amount=20_000_000_000)
    VersionLine.objects.create(provision=red_sea, version=passed, amount=2_000_000_000)
    return {
        "bill": bill,
        "versions": (deal, passed, law),
        "ukraine": ukraine,
        "border": border,
        "red_sea": red_sea,
    }


def add_actions(bill: Bill, *actions: tuple[date, str]) -> None:
    """Store actions as the ingest would, after those the bill has."""
    start = bill.actions.count()
    for position, (day, text) in enumerate(actions, start=start + 1):
        kind = "BecameLaw" if text.startswith("Became") else "Floor"
        BillAction.objects.create(
            bill=bill,
            acted_on=day,
            text=text,
            action_type=kind,
            position=position,
            fingerprint=f"{day}-{position}",
        )
