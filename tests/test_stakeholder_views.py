"""Staff record a senator's position with its source; the old one stays in the history."""

import re
from datetime import date, timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_provision
from tracker.models import Activity, ActivityKind, Position, Provision, Stakeholder

pytestmark = pytest.mark.django_db


@pytest.fixture
def murkowski(demo) -> Stakeholder:
    return Stakeholder.objects.get(slug="lisa-murkowski")


def _position_data(**changes) -> dict:
    deal = Provision.objects.get(slug="senate-deal-package")
    return {
        "target": f"provision:{deal.pk}",
        "stance": "lean_oppose",
        "as_of": "2024-05-20",
        "source_url": "https://example.org/murkowski",
        "statement": "Has doubts now",
        "statement_kind": "paraphrase",
    } | changes


def test_an_editor_records_a_position_inline(client: Client, editor, murkowski) -> None:
    client.force_login(editor)
    before = murkowski.positions.count()

    response = client.post(
        reverse("tracker-position-create", args=[murkowski.pk]),
        _position_data(),
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'id="stakeholder-positions"' in body
    assert "Recorded: Lean oppose on" in body
    assert murkowski.positions.count() == before + 1
    current = Position.objects.filter(stakeholder=murkowski, provision__slug="senate-deal-package")
    assert current.current().get().stance == "lean_oppose"
    change = Activity.objects.get(
        kind=ActivityKind.POSITION_CHANGE, stakeholder=murkowski, actor=editor
    )
    assert "Firm support → Lean oppose" in change.summary


def test_a_position_without_a_source_is_kept_but_marked_unsourced(
    client: Client, editor, murkowski
) -> None:
    client.force_login(editor)
    client.post(
        reverse("tracker-position-create", args=[murkowski.pk]), _position_data(source_url="")
    )
    page = client.get(murkowski.get_absolute_url()).content.decode()
    assert "unsourced" in page


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"stance": "sort of"}, "Select a valid choice"),
        ({"source_url": "not a url"}, "Enter a valid URL"),
        ({"source_url": "ftp://example.org/x"}, "Enter a valid URL"),
        ({"as_of": (date.today() + timedelta(days=2)).isoformat()}, "cannot be in the future"),
        ({"target": "provision:999999"}, "Select a valid choice"),
    ],
)
def test_a_bad_position_changes_nothing(
    client: Client, editor, murkowski, changes: dict, error: str
) -> None:
    client.force_login(editor)
    before = Position.objects.count()
    response = client.post(
        reverse("tracker-position-create", args=[murkowski.pk]), _position_data(**changes)
    )
    assert response.status_code == 422
    assert error in response.content.decode()
    assert Position.objects.count() == before


def test_quotes_are_escaped(client: Client, editor, murkowski) -> None:
    client.force_login(editor)
    client.post(
        reverse("tracker-position-create", args=[murkowski.pk]),
        _position_data(statement="<img src=x onerror=alert(1)>", statement_kind="quote"),
    )
    page = client.get(murkowski.get_absolute_url()).content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_list_filters_by_chamber_party_and_state(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    page = client.get(
        reverse("tracker-stakeholder-list"), {"chamber": "senate", "party": "R", "state": "tx"}
    ).context["page"]
    assert sorted(s.name for s in page) == ["John Cornyn", "Ted Cruz"]


def test_the_grid_shows_words_and_links_sources(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    response = client.get(reverse("tracker-position-grid"), {"show": "senators"})
    body = response.content.decode()
    rows = {row.person.slug: row.cells for row in response.context["rows"]}
    assert len(rows) == 100
    lankford = rows["james-lankford"]
    columns = [target.slug for _, _, target in response.context["columns"]]
    deal = lankford[columns.index("senate-deal-package")]
    assert deal.stance == "firm_support"
    assert "Firm support" in body and deal.source_url in body


def test_the_grid_filters_to_a_party(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    response = client.get(reverse("tracker-position-grid"), {"show": "I"})
    assert {row.person.party for row in response.context["rows"]} == {"I"}


def test_the_grid_downloads_as_the_csv_of_what_the_page_shows(client: Client, viewer, demo) -> None:
    import csv
    import io

    client.force_login(viewer)
    page = client.get(reverse("tracker-position-grid"), {"show": "senators"})
    response = client.get(reverse("tracker-position-grid-csv"), {"show": "senators"})

    assert response["Content-Disposition"].endswith('.csv"')
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    columns = [target.title for _, _, target in page.context["columns"]]
    assert table[0] == ["Stakeholder", *columns]
    shown = {str(row.person): [cell.text for cell in row.cells] for row in page.context["rows"]}
    assert {line[0]: line[1:] for line in table[1:]} == shown
    lankford = next(line for line in table if line[0].startswith("James Lankford"))
    deal = Provision.objects.get(slug="senate-deal-package").title
    assert lankford[1 + columns.index(deal)] == "Firm support (source: news)"


def test_an_editor_notes_a_stakeholder_and_an_empty_note_is_refused(
    client: Client, editor, murkowski
) -> None:
    client.force_login(editor)
    url = reverse("tracker-stakeholder-note", args=[murkowski.pk])

    empty = client.post(url, {"text": ""})
    assert empty.status_code == 422
    assert "The note is empty or too long" in empty.content.decode()

    added = client.post(url, {"text": "Chief of staff says <b>wait</b> for the CBO score"})
    assert added["Location"] == murkowski.get_absolute_url()
    note = Activity.objects.get(kind=ActivityKind.NOTE, stakeholder=murkowski)
    assert note.actor == editor
    page = client.get(murkowski.get_absolute_url()).content.decode()
    assert "&lt;b&gt;wait&lt;/b&gt;" in page and "<b>wait</b>" not in page


# Drawn once per change ----------------------------------------------------------------------

TOKENS = re.compile(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')


def _page(client: Client, url: str, **query: str) -> str:
    response = client.get(url, query)
    assert response.status_code == 200
    return TOKENS.sub(r"\1…", response.content.decode())


def _record_many(stakeholder: Stakeholder, count: int) -> None:
    deal = Provision.objects.get(slug="senate-deal-package")
    for n in range(count):
        stakeholder.record_position(
            stance="lean_support" if n % 2 else "undecided",
            as_of=date(2024, 1, 1) + timedelta(days=n),
            provision=deal,
            source_url=f"https://example.org/murkowski/{n}",
            statement=f"Statement number {n}",
        )


def test_a_senators_page_shows_the_newest_positions_and_pages_through_the_rest(
    client: Client, viewer, murkowski
) -> None:
    _record_many(murkowski, 60)
    total = murkowski.positions.count()
    client.force_login(viewer)

    first = _page(client, murkowski.get_absolute_url())
    second = client.get(murkowski.get_absolute_url(), {"page": 2}, headers={"HX-Request": "true"})

    history = first.split('id="position-history"')[1]
    assert history.count("<tr>") == 1 + 50  # the header and the newest 50
    assert "Statement number 59" in history and "Statement number 9<" not in history
    assert f"1–50 of {total}" in history
    assert 'href="?page=2"' in history
    fragment = second.content.decode()
    assert "<html" not in fragment and fragment.startswith("<section")
    assert 'id="position-history"' in fragment and "Statement number 9<" in fragment
    assert f"51–{total} of {total}" in fragment


def test_the_history_pages_keep_the_primary_source_filter_and_nothing_else(
    client: Client, viewer, murkowski
) -> None:
    for n in range(55):
        murkowski.record_position(
            stance="undecided",
            as_of=date(2024, 1, 1) + timedelta(days=n),
            provision=Provision.objects.get(slug="senate-deal-package"),
            source_url=f"https://www.senate.gov/{n}",
        )
    client.force_login(viewer)

    page = _page(client, murkowski.get_absolute_url(), sources="primary", other="<x>")

    history = page.split('id="position-history"')[1]
    assert 'href="?sources=primary&amp;page=2"' in history
    assert "other=" not in history


def test_a_senators_page_is_drawn_once_then_again_after_a_change(
    client: Client, viewer, editor, murkowski
) -> None:
    client.force_login(viewer)
    first = _page(client, murkowski.get_absolute_url())
    with CaptureQueriesContext(connection) as queries:
        again = _page(client, murkowski.get_absolute_url())
    assert again == first
    assert not [q for q in queries if "tracker_position" in q["sql"]]

    # Drawn afresh, the page is what it was: keeping it changed nothing in it.
    caches["template_fragments"].clear()
    assert _page(client, murkowski.get_absolute_url()) == first

    client.force_login(editor)
    client.post(reverse("tracker-position-create", args=[murkowski.pk]), _position_data())
    client.post(reverse("tracker-stakeholder-note", args=[murkowski.pk]), {"text": "Call back"})
    client.force_login(viewer)
    after = _page(client, murkowski.get_absolute_url())
    assert "Has doubts now" in after and "Call back" in after
    assert "Has doubts now" not in first


def test_an_editor_gets_the_forms_a_viewer_does_not_from_the_same_kept_lists(
    client: Client, viewer, editor, murkowski
) -> None:
    client.force_login(viewer)
    seen_by_viewer = _page(client, murkowski.get_absolute_url())
    client.force_login(editor)
    seen_by_editor = _page(client, murkowski.get_absolute_url())
    client.force_login(viewer)
    again_by_viewer = _page(client, murkowski.get_absolute_url())

    assert "Record a position" not in seen_by_viewer and "Record a position" in seen_by_editor
    assert seen_by_editor.count('name="csrfmiddlewaretoken"') > seen_by_viewer.count(
        'name="csrfmiddlewaretoken"'
    )
    assert again_by_viewer == seen_by_viewer


def test_the_grid_is_drawn_once_per_change_and_per_filter(client: Client, viewer, editor, demo):
    client.force_login(viewer)
    grid = reverse("tracker-position-grid")
    first = _page(client, grid, show="senators")
    assert _page(client, grid, show="senators") == first
    caches["template_fragments"].clear()
    assert _page(client, grid, show="senators") == first

    # The filters are part of what is kept: each gets its own grid.
    hidden = _page(client, grid, show="senators", hide_derived="on")
    assert "roll call 39" in first and "roll call 39" not in hidden
    assert "Unknown" in _grid_lankford_deal(_page(client, grid, primary_only="on"))

    client.force_login(editor)
    lankford = Stakeholder.objects.get(slug="james-lankford")
    client.post(
        reverse("tracker-position-create", args=[lankford.pk]),
        _position_data(stance="firm_oppose", source_url="https://www.senate.gov/lankford"),
    )
    client.force_login(viewer)
    assert "Firm oppose" in _grid_lankford_deal(_page(client, grid, show="senators"))
    assert "Firm support" in _grid_lankford_deal(first)


def _grid_lankford_deal(page: str) -> str:
    from tests.test_position_sources import _deal_column, _grid_cell

    return _grid_cell(page, "James Lankford", _deal_column(page))


def test_the_grids_key_columns_follow_the_positions(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    grid = reverse("tracker-position-grid")
    newcomer = make_provision(demo, title="A newly argued provision")
    assert "A newly argued provision" not in _page(client, grid, show="all")

    for senator in Stakeholder.objects.filter(kind="senator").order_by("pk")[:100]:
        for day in (1, 2):
            senator.record_position(
                stance="undecided", as_of=date(2024, 3, day), provision=newcomer
            )

    assert "A newly argued provision" in _page(client, grid, show="all")


def test_the_stakeholder_list_is_drawn_once_per_change_and_per_filter(
    client: Client, viewer, editor, murkowski
) -> None:
    client.force_login(viewer)
    url = reverse("tracker-stakeholder-list")
    senators = _page(client, url, chamber="senate", state="ak")
    assert _page(client, url, chamber="senate", state="ak") == senators
    caches["template_fragments"].clear()
    assert _page(client, url, chamber="senate", state="ak") == senators
    assert "Lisa Murkowski" in senators and "Lisa Murkowski" not in _page(client, url, state="TX")
    count = murkowski.positions.count()
    assert f'<td class="num">{count}</td>' in senators

    client.force_login(editor)
    client.post(reverse("tracker-position-create", args=[murkowski.pk]), _position_data())
    client.force_login(viewer)
    after = _page(client, url, chamber="senate", state="ak")
    assert f'<td class="num">{count + 1}</td>' in after
