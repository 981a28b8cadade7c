"""Bad input gets a clear error and nothing is written: one rule for each write, whichever page
it comes from, and a malformed or out-of-range value in a URL is a 400 with a message."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from tests.factories import make_provision, make_stakeholder
from tracker.models import Activity, Position, Provision, Stakeholder
from tracker.models.whip import VoteTarget

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(demo) -> VoteTarget:
    """A whip board on the Senate deal, as the demo has it."""
    return VoteTarget.objects.filter(links__provision__slug="senate-deal-package").first()


BAD_POSITIONS = {
    "a 2 MB statement": {"statement": "x" * 2_000_000},
    "a date in year 9999": {"as_of": "9999-12-31"},
    "a date in year 1": {"as_of": "0001-01-01"},
    "a javascript: source": {"source_url": "javascript:alert(1)"},
}


def _good_position(deal: Provision) -> dict[str, str]:
    return {
        "target": f"provision:{deal.pk}",
        "stance": "lean_oppose",
        "as_of": "2024-05-20",
        "source_url": "https://example.org/floor",
        "statement": "Has doubts now",
        "statement_kind": "paraphrase",
    }


@pytest.mark.parametrize("bad", BAD_POSITIONS.values(), ids=BAD_POSITIONS.keys())
def test_the_board_and_the_stakeholder_page_refuse_the_same_bad_position(
    client: Client, editor, board, bad: dict
) -> None:
    murkowski = Stakeholder.objects.get(slug="lisa-murkowski")
    deal = Provision.objects.get(slug="senate-deal-package")
    before = Position.objects.count()
    client.force_login(editor)
    data = _good_position(deal) | bad

    on_the_page = client.post(reverse("tracker-position-create", args=[murkowski.pk]), data)
    on_the_board = client.post(
        reverse("tracker-whip-position-record", args=[board.pk, murkowski.pk]),
        {f"m{murkowski.pk}-{name}": value for name, value in data.items()},
    )

    assert on_the_page.status_code == on_the_board.status_code == 422
    assert Position.objects.count() == before
    # The same message on both pages: it comes from one rule.
    page_errors = on_the_page.context["position_form"].errors
    board_errors = on_the_board.context["form"].errors
    assert page_errors == board_errors and page_errors


def test_the_model_refuses_what_the_forms_refuse() -> None:
    """Every path that saves a position (the admin, a command, a feed) meets the same rule."""
    deal, senator = make_provision(kind="package"), make_stakeholder()
    for bad in ({"as_of": date(9999, 12, 31)}, {"statement": "x" * 2001}):
        with pytest.raises(ValidationError):
            senator.record_position(
                stance="undecided", provision=deal, **({"as_of": date(2024, 1, 1)} | bad)
            )
    assert not Position.objects.exists() and not Activity.objects.exists()


def test_the_database_refuses_an_overlong_statement_or_a_date_before_the_first_congress() -> None:
    deal, senator = make_provision(kind="package"), make_stakeholder()
    for bad in ({"statement": "x" * 2001}, {"as_of": date(1, 1, 1)}):
        fields = {"stance": "undecided", "as_of": date(2024, 1, 1)} | bad
        with pytest.raises(IntegrityError), transaction.atomic():
            # bulk_create skips the model's validation, as a raw import would.
            Position.objects.bulk_create([Position(stakeholder=senator, provision=deal, **fields)])


def _bad_urls(board: VoteTarget) -> dict[str, str]:
    return {
        "the board as of year 1": f"/whip/{board.pk}/?as_of=0001-01-01",
        "its CSV as of year 1": f"/whip/{board.pk}/board.csv?as_of=0001-01-01",
        "the board as of year 9999": f"/whip/{board.pk}/?as_of=9999-12-31",
        "the board as of a non-date": f"/whip/{board.pk}/?as_of=soon",
        "a timeline id past bigint": "/timeline/?provision=99999999999999999999",
        "a timeline page anchor past bigint": "/timeline/?before=99999999999999999999",
        "a negative timeline id": "/timeline/?stakeholder=-5",
        "an unknown timeline kind": "/timeline/?kind=nonsense",
        "a NUL in the demand search": "/demands/?q=%00",
        "an unknown demand status": "/demands/?status=nonsense",
        "a NUL in the provision search": "/provisions/?q=%00",
        "an unknown provision status": "/provisions/?status=nonsense",
        "a vote bill id past bigint": "/votes/?bill=99999999999999999999",
        "an unknown chamber": "/votes/?chamber=nonsense",
        "an unknown stakeholder party": "/stakeholders/?party=nonsense",
        "an unknown grid filter": "/positions/?show=nonsense",
    }


def test_every_malformed_or_out_of_range_url_value_is_a_400_with_a_message(
    client: Client, viewer, board
) -> None:
    client.force_login(viewer)
    for name, url in _bad_urls(board).items():
        response = client.get(url)
        assert response.status_code == 400, name
        if "csv" not in url:
            assert 'role="alert"' in response.content.decode(), name


def test_a_filter_error_reaches_an_htmx_swap_as_a_fragment(client: Client, viewer, board) -> None:
    client.force_login(viewer)
    for url in (f"/whip/{board.pk}/?as_of=0001-01-01", "/provisions/?status=nonsense"):
        response = client.get(url, headers={"HX-Request": "true"})
        body = response.content.decode()
        assert response.status_code == 400 and "<html" not in body, url
        assert "could not be applied" in body or "cannot be shown" in body, url
