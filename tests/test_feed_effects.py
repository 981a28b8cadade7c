"""The feeds move the negotiation: a bill's new actions set its stage and where each version
stands, make the status moves the record settles (once, never backwards, never over a staff
change made after the event) and propose the ones that need judgement."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_user
from tests.feed_events import (
    BECAME_LAW,
    FAILED_CLOTURE,
    PASSED_SENATE,
    add_actions,
    make_package,
)
from tracker import roles
from tracker.feed_effects import follow_bill
from tracker.models import (
    Activity,
    ActivityKind,
    Provision,
    StaleEditError,
    StatusProposal,
)

pytestmark = pytest.mark.django_db

EASTERN = ZoneInfo("America/New_York")


@pytest.fixture
def package() -> dict:
    return make_package()


def _status(provision: Provision) -> str:
    provision.refresh_from_db()
    return provision.status


def test_the_bill_stage_is_stored_with_the_action_that_set_it(package) -> None:
    bill = package["bill"]
    add_actions(bill, PASSED_SENATE, BECAME_LAW)

    follow_bill(bill)

    bill.refresh_from_db()
    assert (bill.stage, bill.stage_on, bill.public_law) == ("became_law", BECAME_LAW[0], "118-50")
    assert bill.stage_label == "became Public Law 118-50"
    assert bill.stage_text == BECAME_LAW[1]


def test_each_version_stands_where_its_first_decisive_action_left_it(package) -> None:
    bill, (deal, passed, law) = package["bill"], package["versions"]
    add_actions(bill, FAILED_CLOTURE, PASSED_SENATE, BECAME_LAW)

    follow_bill(bill)

    for version in (deal, passed, law):
        version.refresh_from_db()
    assert (deal.standing, deal.standing_on) == ("failed", date(2024, 2, 7))
    assert (passed.standing, passed.standing_on) == ("passed_senate", date(2024, 2, 13))
    assert (law.standing, law.standing_on) == ("became_law", date(2024, 4, 24))
    assert "49 - 50" in deal.standing_text


def test_passing_the_senate_moves_the_versions_provisions_once_with_the_feed_as_source(
    package,
) -> None:
    bill, ukraine = package["bill"], package["ukraine"]
    add_actions(bill, PASSED_SENATE)

    follow_bill(bill)

    assert _status(ukraine) == "passed_senate"
    move = Activity.objects.get(provision=ukraine, kind=ActivityKind.STATUS_CHANGE)
    assert move.actor is None and move.source == "congress.gov"
    assert move.source_url == bill.actions_url
    assert move.occurred_at == datetime.combine(date(2024, 2, 13), time(12), tzinfo=EASTERN)
    assert (move.from_value, move.to_value) == ("in_text", "passed_senate")
    assert "Record Vote Number: 48" in move.detail
    assert ukraine.revision == 2
    assert _status(package["border"]) == "in_text"  # only the deal carried it

    with CaptureQueriesContext(connection) as queries:
        follow_bill(bill)
    writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []


def test_becoming_law_enacts_what_the_law_carries_and_proposes_dropping_what_it_left_out(
    package,
) -> None:
    bill = package["bill"]
    add_actions(bill, PASSED_SENATE, BECAME_LAW)

    follow_bill(bill)

    assert _status(package["ukraine"]) == "enacted"
    assert _status(package["red_sea"]) == "passed_senate"  # moved by the Senate, not enacted
    proposal = StatusProposal.objects.get(provision=package["red_sea"])
    assert proposal.proposed_status == "dropped" and proposal.state == "open"
    assert "Not in the version that became law" in proposal.reason
    told = Activity.objects.get(provision=package["red_sea"], kind=ActivityKind.PROPOSAL)
    assert told.source == "congress.gov" and told.summary.endswith("the feed proposes Dropped")


def test_a_failed_deal_proposes_dropping_what_no_later_version_carries(package) -> None:
    bill = package["bill"]
    add_actions(bill, FAILED_CLOTURE)

    follow_bill(bill)

    proposal = StatusProposal.objects.get()
    assert proposal.provision == package["border"] and proposal.proposed_status == "dropped"
    assert _status(package["border"]) == "in_text"  # proposed, never applied
    assert not StatusProposal.objects.filter(provision=package["ukraine"]).exists()


def test_a_feed_never_moves_a_status_backwards_nor_a_dropped_provision(package) -> None:
    bill = package["bill"]
    Provision.objects.filter(pk=package["ukraine"].pk).update(status="enacted")
    Provision.objects.filter(pk=package["red_sea"].pk).update(status="dropped")
    add_actions(bill, PASSED_SENATE)

    follow_bill(bill)

    assert _status(package["ukraine"]) == "enacted"
    assert _status(package["red_sea"]) == "dropped"
    assert not Activity.objects.filter(kind=ActivityKind.STATUS_CHANGE).exists()


def test_a_staff_change_after_the_event_wins_over_the_feed(groups, package) -> None:
    editor = make_user("eddie", role=roles.EDITOR)
    ukraine = package["ukraine"]
    # Today, long after Feb 13, 2024, a staffer says it is back in negotiation.
    ukraine.change_status("in_negotiation", by=editor, note="Talks reopened")
    add_actions(package["bill"], PASSED_SENATE)

    follow_bill(package["bill"])

    assert _status(ukraine) == "in_negotiation"


def test_a_staff_correction_of_a_feed_move_is_respected_by_later_runs(groups, package) -> None:
    editor = make_user("eddie", role=roles.EDITOR)
    bill, ukraine = package["bill"], package["ukraine"]
    add_actions(bill, PASSED_SENATE)
    follow_bill(bill)
    ukraine.refresh_from_db()
    ukraine.change_status("in_text", by=editor, note="The feed was early")

    add_actions(bill, BECAME_LAW)  # a later run, with news on the bill
    follow_bill(bill)

    assert _status(ukraine) == "in_text"


def test_an_editor_accepts_a_proposal_with_the_normal_revision_check(groups, package) -> None:
    editor = make_user("eddie", role=roles.EDITOR)
    add_actions(package["bill"], FAILED_CLOTURE)
    follow_bill(package["bill"])
    proposal = StatusProposal.objects.get()
    border = package["border"]

    with pytest.raises(StaleEditError):
        proposal.accept(by=editor, based_on_revision=border.revision + 5)
    proposal.refresh_from_db()
    assert proposal.state == "open" and _status(border) == "in_text"

    proposal.accept(by=editor, based_on_revision=border.revision)

    proposal.refresh_from_db()
    assert proposal.state == "accepted" and proposal.decided_by == editor
    assert _status(border) == "dropped"


def test_a_dismissed_proposal_is_never_made_again(groups, package) -> None:
    editor = make_user("eddie", role=roles.EDITOR)
    bill = package["bill"]
    add_actions(bill, FAILED_CLOTURE)
    follow_bill(bill)
    StatusProposal.objects.get().dismiss(by=editor)
    bill.versions.update(standing="", standing_on=None)  # as if seen for the first time

    follow_bill(bill)

    assert StatusProposal.objects.count() == 1
    assert StatusProposal.objects.get().state == "dismissed"


def test_watchers_of_a_provision_get_its_feed_moves_and_proposals_in_their_digest(
    groups, package
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from tracker import digests

    reader = make_user("rita", role=roles.VIEWER)
    for provision in (package["ukraine"], package["red_sea"]):
        digests.set_watch(reader, provision, watching=True)
    add_actions(package["bill"], PASSED_SENATE, BECAME_LAW)
    follow_bill(package["bill"])

    digest = digests.build_digest(
        reader, until=timezone.now() + timedelta(seconds=1), since=timezone.now() - timedelta(1)
    )

    told = [entry.summary for group in digest.groups for s in group.sections for entry in s.entries]
    assert "Ukraine: Passed Senate → Enacted" in told
    assert "Red Sea operations: the feed proposes Dropped" in told
