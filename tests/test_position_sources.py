"""Where a position comes from, wherever it shows: a source's type (primary first), a weak source
marked, and a stance read off a roll call labelled with the question that vote answered, on the
grid (which can hide them or keep only primary sources), the stakeholder and provision pages,
the whip board, the CSVs and the digests."""

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import make_negotiation, make_provision, make_stakeholder, make_vote
from tracker import digests
from tracker.models import Position, Provision, Stakeholder, Vote

pytestmark = pytest.mark.django_db

CLOTURE_39 = "Motion to Invoke Cloture: Motion to Proceed to H.R. 815"
PASSAGE_48 = "On Passage of the Bill H.R. 815"


def _grid(client: Client, **query: str) -> str:
    return client.get(
        reverse("tracker-position-grid"), {"show": "senators", **query}
    ).content.decode()


def _grid_cell(page: str, senator: str, column: int) -> str:
    row = re.search(
        rf"<tr><th scope=\"row\"><a [^>]*>{senator}[^<]*</a></th>(.*?)</tr>", page, re.S
    )
    return re.findall(r"<td>(.*?)</td>", row.group(1), re.S)[column]


def _deal_column(page: str) -> int:
    head = re.search(r"<thead>(.*?)</thead>", page, re.S).group(1)
    titles = re.findall(r'<th scope="col"><a [^>]*>(.*?)</a>', head)
    return next(i for i, title in enumerate(titles) if title.startswith("Senate bipartisan deal"))


# Sources: type, primary first, weak ---------------------------------------------------------


def test_the_demo_cites_the_records_primary_source_first_and_says_its_type(
    client: Client, viewer, demo
) -> None:
    sanders = Stakeholder.objects.get(slug="bernard-sanders")
    client.force_login(viewer)

    position = Position.objects.get(stakeholder=sanders, provision__slug="israel-security")
    page = client.get(sanders.get_absolute_url()).content.decode()

    assert (position.source_url, position.source_type) == (
        "https://sanders.senate.gov/?p=90258",
        "primary",
    )
    assert re.search(
        r'sanders\.senate\.gov</a> <span class="badge source-type source-primary"[^>]*>primary<',
        page,
    )


def test_a_position_resting_only_on_a_weak_source_is_marked(client: Client, viewer, demo) -> None:
    menendez = Stakeholder.objects.get(slug="robert-menendez")
    client.force_login(viewer)

    page = client.get(menendez.get_absolute_url()).content.decode()
    grid = _grid(client)

    assert 'politicscomic.com</a> <span class="badge source-type source-aggregator"' in page
    assert "weak source</span>" in page
    assert "aggregator, weak source" in _grid_cell(grid, "Robert Menendez", _deal_column(grid))


def test_the_stakeholder_page_can_show_only_positions_with_a_primary_source(
    client: Client, viewer, demo
) -> None:
    lankford = Stakeholder.objects.get(slug="james-lankford")
    client.force_login(viewer)

    everything = client.get(lankford.get_absolute_url()).content.decode()
    primary = client.get(lankford.get_absolute_url(), {"sources": "primary"}).content.decode()

    # His deal position cites The Hill (news); his April vote cites senate.gov (primary).
    assert "digital-release.thehill.com" in everything and "www.senate.gov" in everything
    assert "digital-release.thehill.com" not in primary and "www.senate.gov" in primary
    assert 'name="sources" value="primary" checked' in primary


def test_a_staffer_recording_a_senate_gov_source_gets_primary_unless_they_say(db) -> None:
    negotiation = make_negotiation()
    deal = make_provision(negotiation)
    member = make_stakeholder()

    on_senate_gov = member.record_position(
        stance="firm_support",
        as_of=date(2024, 2, 5),
        provision=deal,
        source_url="https://www.lankford.senate.gov/news/1",
    )
    elsewhere = member.record_position(
        stance="firm_support", as_of=date(2024, 2, 6), provision=deal, source_url="https://x.org/"
    )
    told = member.record_position(
        stance="firm_support",
        as_of=date(2024, 2, 7),
        provision=deal,
        source_url="https://x.org/",
        source_type="news",
    )

    assert [p.source_type for p in (on_senate_gov, elsewhere, told)] == ["primary", "", "news"]


def test_the_position_form_saves_the_source_type_staff_choose(client: Client, editor, demo) -> None:
    murkowski = Stakeholder.objects.get(slug="lisa-murkowski")
    deal = Provision.objects.get(negotiation=demo, slug="senate-deal-package")
    client.force_login(editor)

    client.post(
        reverse("tracker-position-create", args=[murkowski.pk]),
        {
            "target": f"provision:{deal.pk}",
            "stance": "lean_support",
            "as_of": "2024-02-08",
            "source_url": "https://www.example.org/interview",
            "source_type": "analysis",
            "statement": "Said so in an interview.",
            "statement_kind": "paraphrase",
        },
    )

    latest = Position.objects.filter(stakeholder=murkowski, provision=deal).current().get()
    assert (latest.stance, latest.source_type) == ("lean_support", "analysis")


# Stances read off a roll call ---------------------------------------------------------------


def test_the_grid_labels_stances_read_off_a_roll_call_with_the_question(
    client: Client, viewer, demo
) -> None:
    client.force_login(viewer)

    page = _grid(client)

    boozman = _grid_cell(page, "John Boozman", _deal_column(page))
    assert "Firm oppose" in boozman
    assert f'title="{CLOTURE_39}">roll call 39<' in boozman
    assert re.search(rf"Roll call 39</a>, Feb 7, 2024: {CLOTURE_39}", page)
    assert "not something they said" in page


def test_the_grid_can_hide_stances_read_off_a_roll_call(client: Client, viewer, demo) -> None:
    client.force_login(viewer)

    page = _grid(client, hide_derived="on")

    assert "roll call 39" not in page and "John Boozman" not in page
    assert "Firm support" in _grid_cell(page, "James Lankford", _deal_column(page))
    assert 'name="hide_derived" id="id_hide_derived" checked' in page


def test_the_grid_can_keep_only_positions_with_a_primary_source(
    client: Client, viewer, demo
) -> None:
    client.force_login(viewer)

    page = _grid(client, primary_only="on")

    # Lankford's stated support of the deal cites The Hill, not a primary source.
    assert "Unknown" in _grid_cell(page, "James Lankford", _deal_column(page))
    assert '<span class="cell-note">news</span>' not in page


def test_the_grid_csv_says_where_each_stance_comes_from(client: Client, viewer, demo) -> None:
    client.force_login(viewer)

    response = client.get(reverse("tracker-position-grid-csv"), {"show": "senators"})

    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    deal = next(i for i, title in enumerate(table[0]) if title.startswith("Senate bipartisan deal"))
    cells = {line[0].split(" (")[0]: line[deal] for line in table[1:]}
    assert cells["John Boozman"] == f"Firm oppose (derived from roll call 39: {CLOTURE_39})"
    assert cells["Robert Menendez"] == "Firm oppose (source: aggregator, weak source)"


def test_the_stakeholder_and_provision_pages_label_derived_stances(
    client: Client, viewer, demo, django_assert_max_num_queries
) -> None:
    boozman = Stakeholder.objects.get(slug="john-boozman")
    deal = Provision.objects.get(negotiation=demo, slug="senate-deal-package")
    client.force_login(viewer)

    mine = client.get(boozman.get_absolute_url()).content.decode()
    with django_assert_max_num_queries(30):
        on_deal = client.get(deal.get_absolute_url()).content.decode()

    label = f'<span class="derived">derived from roll call 39: {CLOTURE_39}</span>'
    assert label in mine
    # Every senator who has no stated position on the deal: 87 stances read off roll call 39.
    assert on_deal.count(label) == 87


def test_the_whip_board_and_its_csv_label_derived_stances(
    client: Client, viewer, demo, demo_targets
) -> None:
    _, concur = demo_targets
    client.force_login(viewer)

    page = client.get(f"/whip/{concur.pk}/", {"as_of": "2024-04-22"}).content.decode()
    response = client.get(f"/whip/{concur.pk}/board.csv", {"as_of": "2024-04-22"})

    assert f"derived from roll call 48: {PASSAGE_48}" in page
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    column = table[0].index("Derived from (roll call: question)")
    derived = [row for row in table[1:] if row[column]]
    assert derived and all(
        row[column] == f"derived from roll call 48: {PASSAGE_48}" for row in derived
    )


def test_a_derived_position_in_a_digest_says_which_vote_and_question(groups) -> None:
    from tests.test_digests import subscriber

    negotiation = make_negotiation()
    deal = make_provision(negotiation, title="The deal")
    vote = make_vote(roll_number=39, question=CLOTURE_39)
    member = make_stakeholder(name="Senator Example")
    user = subscriber()
    digests.set_watch(user, negotiation, watching=True)

    member.record_position(
        stance="firm_oppose",
        as_of=date(2024, 2, 7),
        provision=deal,
        source_url="https://www.senate.gov/legislative/LIS/roll_call_votes/vote1182/vote_118_2_00039.xml",
        derived_from_vote=vote,
    )

    digest = digests.build_digest(
        user, since=datetime(2020, 1, 1, tzinfo=UTC), until=datetime(2100, 1, 1, tzinfo=UTC)
    )
    entry = digest.groups[0].sections[0].entries[0]
    assert "(derived from roll call 39)" in entry.summary
    assert f"Derived from roll call 39: {CLOTURE_39}" in entry.detail
    assert Vote.objects.count() == 1
