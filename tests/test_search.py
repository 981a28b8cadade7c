"""The one search box: provisions, demands, stakeholders, bills, votes and notes at once, grouped
by kind and ranked; PostgreSQL full-text and trigram search, and the SQLite fallback."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tracker.models import Activity, Provision, Stakeholder
from tracker.search import bill_number, search, words_of

pytestmark = pytest.mark.django_db


def _titles(results, kind: str) -> list[str]:
    return next((group.hits for group in results.groups if group.kind == kind), [])


def _found(results, kind: str) -> list[str]:
    return [hit.title for hit in _titles(results, kind)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("H.R. 815", ("hr", 815)),
        ("hr815", ("hr", 815)),
        ("H.R.8035", ("hr", 8035)),
        ("8035", ("", 8035)),
        ("S. 4361", ("s", 4361)),
        ("h.j.res. 1", ("hjres", 1)),
        ("Ukraine aid", None),
    ],
)
def test_it_reads_a_bill_number_however_it_is_written(query: str, expected) -> None:
    assert bill_number(query) == expected


def test_a_bill_number_is_searched_as_the_number_alone() -> None:
    assert words_of("H.R. 8035") == ["8035"]
    assert words_of("a Ukraine b aid") == ["ukraine", "aid"]


@pytest.mark.parametrize("query", ["Ukraine weapons", "Ukraine aid"])
def test_words_find_the_provision_that_has_them(demo, query: str) -> None:
    results = search(query, demo)
    assert _found(results, "provision")[0] == "Ukraine (military, economic and related aid)"


@pytest.mark.parametrize("query", ["H.R. 8035", "hr8035", "8035"])
def test_a_bill_is_found_by_its_number(demo, query: str) -> None:
    results = search(query, demo)
    assert _found(results, "bill")[0].startswith("H.R. 8035:")
    # Its roll calls come along.
    assert any("8035" in title for title in _found(results, "vote"))
    # And the bill is the best match of all: its group comes first.
    assert results.shown[0].kind == "bill"


def test_results_come_grouped_with_notes_and_stakeholders(demo, editor) -> None:
    lankford = Stakeholder.objects.get(slug="james-lankford")
    Activity.add_note(lankford, "Wants the parole language tightened", by=editor)
    results = search("parole language", demo)
    assert any("parole language" in title for title in _found(results, "note"))
    assert "James Lankford (R-OK)" in _found(search("Lankford", demo), "stakeholder")


def test_nothing_to_search_finds_nothing(demo) -> None:
    assert search("  ", demo).total == 0
    assert search("zzzqqqxxx", demo).total == 0


def test_the_page_and_the_panel(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    url = reverse("tracker-search")
    page = client.get(url, {"q": "Ukraine aid"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "<html" in body and "Ukraine (military, economic and related aid)" in body
    panel = client.get(url, {"q": "Ukraine aid"}, headers={"HX-Request": "true"})
    fragment = panel.content.decode()
    assert "<html" not in fragment and 'id="search-results-list"' in fragment
    assert "All results on a page" in fragment
    assert client.post(url, {"q": "x"}).status_code == 405


def test_results_are_searched_once_and_a_new_note_is_found_at_once(
    client: Client, viewer, editor, demo
) -> None:
    client.force_login(viewer)
    url = reverse("tracker-search")
    first = client.get(url, {"q": "parole language"}, headers={"HX-Request": "true"})
    with CaptureQueriesContext(connection) as captured:
        again = client.get(url, {"q": "parole  language"}, headers={"HX-Request": "true"})
    assert again.content == first.content
    assert not [query for query in captured if "tracker_provision" in query["sql"]]

    client.force_login(editor)
    lankford = Stakeholder.objects.get(slug="james-lankford")
    client.post(
        reverse("tracker-stakeholder-note", args=[lankford.pk]),
        {"text": "Wants the parole language tightened"},
    )
    client.force_login(viewer)
    found = client.get(url, {"q": "parole language"}, headers={"HX-Request": "true"})

    assert "Wants the parole language tightened" not in first.content.decode()
    assert "Wants the parole language tightened" in found.content.decode()


def test_every_page_has_the_search_box(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    body = client.get(reverse("tracker-provision-list")).content.decode()
    assert 'id="site-q"' in body and 'aria-keyshortcuts="/"' in body
    assert f'action="{reverse("tracker-search")}"' in body


def test_an_outsider_is_sent_to_log_in(client: Client, demo) -> None:
    response = client.get(reverse("tracker-search"), {"q": "Ukraine"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.postgres
def test_a_name_typed_with_a_letter_wrong_is_found_on_postgresql(demo) -> None:
    assert "James Lankford (R-OK)" in _found(search("Lankferd", demo), "stakeholder")


@pytest.mark.postgres
def test_a_word_is_found_while_still_being_typed_on_postgresql(demo) -> None:
    assert "Ukraine (military, economic and related aid)" in _found(
        search("ukra", demo), "provision"
    )


@pytest.mark.postgres
def test_the_search_uses_its_indexes_on_postgresql(demo) -> None:
    """With sequential and plain index scans priced out (a b-tree scan filtered row by row is
    what the planner picks on a tiny table otherwise), each full-text and trigram match uses
    its own index. No ordering: the models' default one would join other tables in."""
    from django.contrib.postgres.search import SearchQuery

    from tracker.search import PROVISION_DOCUMENT, STAKEHOLDER_DOCUMENT

    query = SearchQuery("ukrain", search_type="raw", config="english")
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_indexscan = off")
        for queryset in (
            Provision.objects.annotate(d=PROVISION_DOCUMENT).filter(d=query),
            Stakeholder.objects.annotate(d=STAKEHOLDER_DOCUMENT).filter(d=query),
            Stakeholder.objects.filter(name__trigram_word_similar="Lankford"),
        ):
            plans.append(queryset.order_by().values("pk").explain())
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_indexscan")
    assert "provision_search" in plans[0], plans[0]
    assert "stakeholder_search" in plans[1], plans[1]
    assert "stakeholder_name_trgm" in plans[2], plans[2]


def test_the_sqlite_fallback_ranks_title_matches_first(demo) -> None:
    if connection.vendor == "postgresql":
        pytest.skip("the fallback is what SQLite runs")
    results = search("Ukraine weapons", demo)
    ranks = [hit.rank for hit in _titles(results, "provision")]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] > ranks[-1]
