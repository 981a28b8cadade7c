"""The timeline is drawn once per change and query, and shared by every viewer: a note added
shows at once, each filter and each "Load more" page is its own."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tracker.models import Provision

pytestmark = pytest.mark.django_db


def _entry_queries(captured: CaptureQueriesContext) -> list[str]:
    # The data stamp reads the newest Activity id; entries are read with their actors.
    return [query["sql"] for query in captured if "tracker_activity" in query["sql"]][1:]


def test_the_timeline_is_drawn_once_and_then_served_as_it_was(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    url = reverse("tracker-timeline")

    with CaptureQueriesContext(connection) as drawn:
        first = client.get(url).content.decode()
    with CaptureQueriesContext(connection) as served:
        again = client.get(url).content.decode()

    assert _without_tokens(again) == _without_tokens(first)
    assert _entry_queries(drawn) and not _entry_queries(served)


def test_a_note_shows_at_once_and_each_query_is_its_own(
    client: Client, viewer, editor, demo
) -> None:
    provision = Provision.objects.get(slug="senate-deal-package")
    client.force_login(viewer)
    url = reverse("tracker-timeline")
    whole = client.get(url).content.decode()
    notes = client.get(url, {"kind": "note"}, headers={"HX-Request": "true"}).content.decode()

    client.force_login(editor)
    client.post(reverse("tracker-provision-note", args=[provision.pk]), {"text": "Votes Tue"})
    client.force_login(viewer)

    assert "Votes Tue" not in whole and "Votes Tue" not in notes
    assert "Votes Tue" in client.get(url).content.decode()
    assert "Votes Tue" in client.get(url, {"kind": "note"}).content.decode()
    older = re.search(r'href="\?([^"]*before=\d+[^"]*)"', whole)
    assert older, "the demo has more than a page of entries"
    more = client.get(url + "?" + older[1].replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert "Votes Tue" not in more.content.decode()


def test_a_filter_that_cannot_apply_is_said_each_time(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    url = reverse("tracker-timeline") + "?kind=nonsense"
    assert client.get(url).status_code == 400
    assert client.get(url).status_code == 400


def _without_tokens(page: str) -> str:
    """The page as it reads: CSRF tokens are masked afresh on every response."""
    return re.sub(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', r"\1", page)
