"""Staff record a senator's position with its source; the old one stays in the history."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse

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
