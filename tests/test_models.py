"""The database guards the domain: natural keys, valid values, no negative money, history kept."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from tests.factories import make_negotiation, make_provision, make_stakeholder, make_version
from tracker.models import (
    Activity,
    ActivityKind,
    Bill,
    BillAction,
    Position,
    Provision,
    Stakeholder,
    StaleEditError,
    TransitionNotAllowed,
    VersionLine,
    Vote,
    normalise_cast,
)

pytestmark = pytest.mark.django_db


def _raises_integrity_error(create) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_a_bill_is_unique_by_congress_type_and_number() -> None:
    Bill.objects.create(congress=118, bill_type="hr", number=815, title="First title")
    _raises_integrity_error(
        lambda: Bill.objects.create(congress=118, bill_type="hr", number=815, title="Other title")
    )
    Bill.objects.create(congress=118, bill_type="s", number=815)  # another type is another bill


def test_an_unknown_bill_type_is_refused() -> None:
    _raises_integrity_error(lambda: Bill.objects.create(congress=118, bill_type="xx", number=1))


def test_a_vote_is_unique_by_chamber_congress_session_and_roll() -> None:
    fields = {
        "chamber": "senate",
        "congress": 118,
        "session": 2,
        "voted_on": date(2024, 2, 7),
        "question": "Cloture",
        "result": "Rejected",
    }
    Vote.objects.create(roll_number=39, **fields)
    _raises_integrity_error(lambda: Vote.objects.create(roll_number=39, **fields))
    Vote.objects.create(roll_number=39, **fields | {"chamber": "house"})


def test_votes_whose_roll_number_is_unconfirmed_can_coexist() -> None:
    fields = {
        "chamber": "senate",
        "congress": 118,
        "session": 2,
        "voted_on": date(2024, 2, 9),
        "result": "Agreed to",
    }
    Vote.objects.create(roll_number=None, question="Motion to proceed", **fields)
    Vote.objects.create(roll_number=None, question="Cloture on the substitute", **fields)
    assert Vote.objects.filter(roll_number__isnull=True).count() == 2


def test_a_bioguide_id_belongs_to_one_stakeholder_but_blank_ids_repeat() -> None:
    make_stakeholder(bioguide_id="L000575", lis_id="S378")
    _raises_integrity_error(lambda: make_stakeholder(bioguide_id="L000575"))
    _raises_integrity_error(lambda: make_stakeholder(lis_id="S378"))
    make_stakeholder(kind="advocacy", bioguide_id="", lis_id="")
    make_stakeholder(kind="advocacy", bioguide_id="", lis_id="")
    assert Stakeholder.objects.filter(bioguide_id="").count() == 2


def test_a_negative_amount_is_refused() -> None:
    provision = make_provision()
    version = make_version(provision.negotiation)
    _raises_integrity_error(
        lambda: VersionLine.objects.create(provision=provision, version=version, amount=-1)
    )
    VersionLine.objects.create(provision=provision, version=version, amount=0)


def test_a_negative_stated_total_is_refused() -> None:
    _raises_integrity_error(lambda: make_version(stated_total=-5))


def test_an_invalid_status_or_stance_is_refused() -> None:
    _raises_integrity_error(lambda: make_provision(status="maybe"))
    stakeholder = make_stakeholder()
    provision = make_provision()
    _raises_integrity_error(
        lambda: Position.objects.create(
            stakeholder=stakeholder, provision=provision, stance="sort of", as_of=date(2024, 2, 1)
        )
    )


def test_a_position_is_on_exactly_one_provision_or_demand() -> None:
    stakeholder = make_stakeholder()
    _raises_integrity_error(
        lambda: Position.objects.create(
            stakeholder=stakeholder, stance="undecided", as_of=date(2024, 2, 1)
        )
    )


def test_a_provision_slug_is_unique_within_its_negotiation() -> None:
    negotiation = make_negotiation()
    make_provision(negotiation, slug="ukraine")
    _raises_integrity_error(lambda: make_provision(negotiation, slug="ukraine"))
    make_provision(make_negotiation(), slug="ukraine")


def test_changing_a_status_records_who_when_and_from_what(editor) -> None:
    provision = make_provision(status="in_negotiation")

    activity = provision.change_status("agreed_in_principle", by=editor, note="Deal struck")

    provision.refresh_from_db()
    assert provision.status == "agreed_in_principle"
    assert provision.revision == 2
    assert activity.kind == ActivityKind.STATUS_CHANGE
    assert (activity.actor, activity.provision) == (editor, provision)
    assert (activity.from_value, activity.to_value) == ("in_negotiation", "agreed_in_principle")
    assert activity.detail == "Deal struck"
    assert "In negotiation → Agreed in principle" in activity.summary
    assert provision.history.count() == 2  # created, then changed


def test_a_status_change_based_on_an_old_revision_is_refused(editor) -> None:
    provision = make_provision(status="in_negotiation")
    seen_by_both = provision.revision
    Provision.objects.get(pk=provision.pk).change_status(
        "agreed_in_principle", by=editor, based_on_revision=seen_by_both
    )

    with pytest.raises(StaleEditError) as refused:
        provision.change_status("dropped", by=editor, based_on_revision=seen_by_both)

    assert refused.value.current.status == "agreed_in_principle"
    provision.refresh_from_db()
    assert provision.status == "agreed_in_principle"
    assert Activity.objects.filter(provision=provision).count() == 1


def test_a_status_change_to_an_unknown_or_same_status_is_refused(editor) -> None:
    provision = make_provision(status="in_text")
    with pytest.raises(ValueError, match="Unknown status"):
        provision.change_status("maybe", by=editor)
    with pytest.raises(TransitionNotAllowed, match="already In text"):
        provision.change_status("in_text", by=editor)
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("start", "refused"),
    [
        ("enacted", "in_negotiation"),
        ("proposed", "enacted"),
        ("in_negotiation", "passed_house"),
        ("dropped", "enacted"),
    ],
)
def test_the_workflow_refuses_a_jump_it_does_not_allow(editor, start: str, refused: str) -> None:
    provision = make_provision(status=start)
    with pytest.raises(TransitionNotAllowed, match="cannot move from"):
        provision.change_status(refused, by=editor)
    provision.refresh_from_db()
    assert provision.status == start
    assert not Activity.objects.exists()


def test_a_demand_follows_its_own_workflow(editor) -> None:
    from tracker.models import Demand

    negotiation = make_negotiation()
    demand = Demand.objects.create(
        negotiation=negotiation, slug="wall", title="Wall money", asks="Build it", status="raised"
    )
    demand.change_status("on_table", by=editor)
    demand.change_status("accepted", by=editor)
    with pytest.raises(TransitionNotAllowed):
        demand.change_status("raised", by=editor)
    assert [a.to_value for a in Activity.objects.order_by("id")] == ["on_table", "accepted"]


def test_a_new_position_keeps_the_old_one_and_becomes_current(editor) -> None:
    senator = make_stakeholder(name="James Lankford")
    deal = make_provision(kind="package", category="package", title="Senate deal")
    senator.record_position(
        stance="firm_support",
        as_of=date(2024, 2, 5),
        provision=deal,
        source_url="https://example.org/a",
        by=editor,
    )

    senator.record_position(
        stance="lean_oppose", as_of=date(2024, 5, 23), provision=deal, by=editor
    )

    assert senator.positions.count() == 2
    current = Position.objects.filter(stakeholder=senator, provision=deal).current().get()
    assert current.stance == "lean_oppose" and not current.is_sourced
    earlier = Position.objects.filter(provision=deal).as_of(date(2024, 3, 1)).get()
    assert earlier.stance == "firm_support"
    change = Activity.objects.filter(kind=ActivityKind.POSITION_CHANGE).first()
    assert (change.from_value, change.to_value) == ("firm_support", "lean_oppose")
    assert "Firm support → Lean oppose" in change.summary


def test_current_positions_are_per_stakeholder_and_target() -> None:
    deal, aid = make_provision(), make_provision()
    alice, bob = make_stakeholder(), make_stakeholder()
    for who, what, stance, day in [
        (alice, deal, "undecided", 1),
        (alice, deal, "firm_support", 3),
        (alice, aid, "firm_oppose", 2),
        (bob, deal, "lean_oppose", 2),
    ]:
        who.record_position(stance=stance, as_of=date(2024, 2, day), provision=what)

    current = {(p.stakeholder_id, p.provision_id): p.stance for p in Position.objects.current()}

    assert current == {
        (alice.pk, deal.pk): "firm_support",
        (alice.pk, aid.pk): "firm_oppose",
        (bob.pk, deal.pk): "lean_oppose",
    }


def test_bill_actions_are_keyed_by_a_stable_fingerprint() -> None:
    bill = Bill.objects.create(congress=118, bill_type="hr", number=815)
    fields = {
        "acted_on": date(2024, 4, 24),
        "acted_at_time": None,
        "source_system_code": 9,
        "action_code": "36000",
        "text": "Became Public Law No:  118-50.",
    }
    fingerprint = BillAction.fingerprint_for(**fields)
    assert fingerprint == BillAction.fingerprint_for(
        **fields | {"text": "Became Public Law No: 118-50."}
    )
    assert fingerprint != BillAction.fingerprint_for(**fields | {"source_system_code": 2})
    BillAction.objects.create(bill=bill, fingerprint=fingerprint, **fields)
    _raises_integrity_error(
        lambda: BillAction.objects.create(bill=bill, fingerprint=fingerprint, **fields)
    )


@pytest.mark.parametrize(
    ("published", "normalised"),
    [
        ("Yea", "yes"),
        ("Aye", "yes"),
        ("Guilty", "yes"),
        ("Nay", "no"),
        ("No", "no"),
        ("Not Guilty", "no"),
        ("Present", "present"),
        ("Present, Giving Live Pair", "present"),
        ("Not Voting", "absent"),
        ("Jeffries", "other"),
    ],
)
def test_published_votes_are_normalised(published: str, normalised: str) -> None:
    assert normalise_cast(published) == normalised


def test_a_bill_links_to_congress_gov() -> None:
    bill = Bill(congress=118, bill_type="hr", number=815)
    assert bill.congress_gov_url == "https://www.congress.gov/bill/118th-congress/house-bill/815"
    assert bill.label == "H.R. 815"
