"""Markup that staff (or a feed) wrote stays text: on every page, fragment and email part that
shows it, nobody's browser runs it or lets it act in their name.

Reproduced before the fix: an Editor's note with an element carrying hx-post and
hx-trigger="load" made whoever opened their digest preview, an Admin included, send POSTs with
their own CSRF token.
"""

import json
import pprint
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import make_user
from tests.pages import staff_pages
from tracker import digests, roles
from tracker.models import Activity, Bill, Demand, Provision, Stakeholder, Vote
from tracker.models.whip import VoteTarget
from tracker.whip import set_override

pytestmark = pytest.mark.django_db

# An element htmx would act on as soon as it is in the page, and one a browser would run.
ACTIVE = '<img src=x hx-post="/provisions/1/notes" hx-trigger="load">'
SCRIPT = "<script>alert(1)</script>"
PAYLOAD = f"{ACTIVE}{SCRIPT}"


# The one element of the app's own that fires on load: the form moving the "last visit" marker.
SEEN_FORM = re.compile(r'<form[^>]*class="seen-form"[^>]*hx-trigger="load"[^>]*>')


def _is_inert(body: str) -> bool:
    body = SEEN_FORM.sub("", body)
    return ACTIVE not in body and SCRIPT not in body and 'hx-trigger="load"' not in body


@pytest.fixture
def hostile(demo, editor, admin_user):
    """The payload in every field staff or a feed can write, through the app's own verbs."""
    provision = Provision.objects.filter(negotiation=demo).order_by("pk").first()
    demand = Demand.objects.filter(negotiation=demo).order_by("pk").first()
    senator = Stakeholder.objects.get(slug="lisa-murkowski")
    deal = Provision.objects.get(slug="senate-deal-package")
    target = VoteTarget.objects.filter(links__provision=deal).first()
    for subject in (provision, demand, senator):
        Activity.add_note(subject, f"note {PAYLOAD}", by=editor)
    senator.record_position(
        stance="lean_oppose",
        as_of=date(2024, 5, 20),
        provision=deal,
        statement=f"statement {PAYLOAD}",
        source_url="https://example.org/?q=<b>",
        by=editor,
    )
    set_override(target, senator, stance="undecided", note=f"override {PAYLOAD}", by=editor)
    provision.description = f"description {PAYLOAD}"
    provision.notes = f"notes {PAYLOAD}"
    provision.save()
    Demand.objects.filter(pk=demand.pk).update(
        title=f"title {PAYLOAD}", asks=f"asks {PAYLOAD}", in_exchange_for=f"for {PAYLOAD}"
    )
    VoteTarget.objects.filter(pk=target.pk).update(notes=f"target {PAYLOAD}")
    Stakeholder.objects.filter(pk=senator.pk).update(role=f"role {PAYLOAD}")
    # What a feed wrote: a roll call's question and a bill's title.
    Vote.objects.filter(casts__isnull=False).update(question=f"question {PAYLOAD}")
    Bill.objects.filter(negotiation=demo).update(title=f"bill {PAYLOAD}")
    return {"editor": editor, "admin": admin_user, "senator": senator, "target": target}


def test_every_page_shows_staff_markup_as_text(client: Client, hostile, demo) -> None:
    client.force_login(hostile["admin"])
    shown = 0
    # The CSV exports hold the text as typed: they are checked below as downloads.
    for url in [url for url in staff_pages(demo) if not url.endswith(".csv")]:
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code == 200, url
        assert _is_inert(body), url
        shown += "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert shown >= 10  # the payload really is on the pages, as text


def test_the_digest_preview_shows_another_users_notes_as_text(
    client: Client, hostile, demo
) -> None:
    """The Admin previews the Editor's digest, whose text part holds the Editor's note."""
    editor = hostile["editor"]
    digests.set_watch(editor, demo, watching=True)
    client.force_login(hostile["admin"])

    page = client.get("/digests/preview", {"user": editor.get_username()}).content.decode()

    assert "note &lt;img src=x" in page  # the note is there, as text
    assert _is_inert(page)


def test_fragments_show_staff_markup_as_text(client: Client, hostile, demo) -> None:
    client.force_login(hostile["editor"])
    target, senator = hostile["target"], hostile["senator"]
    deal = Provision.objects.get(slug="senate-deal-package")
    htmx = {"HX-Request": "true"}
    fragments = [
        client.get("/timeline/", headers=htmx),
        client.get("/provisions/", {"q": "description"}, headers=htmx),
        client.get("/demands/", {"q": "title"}, headers=htmx),
        client.get(f"/whip/{target.pk}/", headers=htmx),
        client.get(f"/whip/{target.pk}/members/{senator.pk}/override/", headers=htmx),
        client.post(
            f"/stakeholders/{senator.pk}/positions",
            {
                "target": f"provision:{deal.pk}",
                "stance": "undecided",
                "as_of": timezone.localdate().isoformat(),
                "statement": f"again {PAYLOAD}",
                "statement_kind": "quote",
            },
            headers=htmx,
        ),
    ]
    for response in fragments:
        body = response.content.decode()
        assert response.status_code == 200, response.request
        assert "<html" not in body
        assert _is_inert(body), response.request


def test_email_parts_keep_staff_markup_as_text(hostile, demo) -> None:
    reader = make_user("reader", role=roles.VIEWER)
    digests.set_watch(reader, demo, watching=True)
    message = digests.digest_message(digests.build_digest(reader, until=timezone.now()))

    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "note &lt;img src=x" in html and _is_inert(html)
    # The text part is plain text for mail clients: the note as typed, never read as HTML.
    assert message.content_subtype == "plain" and "note <img src=x" in message.body


def test_exports_are_downloads_a_browser_will_not_read_as_html(
    client: Client, hostile, demo
) -> None:
    client.force_login(hostile["editor"])
    target = hostile["target"]
    for url in ("/positions/grid.csv", f"/whip/{target.pk}/board.csv", "/funding/comparison.csv"):
        response = client.get(url)
        assert response["Content-Type"].startswith("text/csv"), url
        assert response["Content-Disposition"].startswith("attachment;"), url
        assert response["X-Content-Type-Options"] == "nosniff", url


def test_htmx_is_configured_to_ignore_what_slips_through(client: Client, groups, demo) -> None:
    client.force_login(make_user("reader", role=roles.VIEWER))
    page = client.get("/").content.decode()
    config = json.loads(re.search(r'<meta name="htmx-config" content=\'([^\']*)\'>', page)[1])
    assert config["selfRequestsOnly"] is True
    assert config["allowScriptTags"] is False
    assert config["allowEval"] is False


class _TextOutsideDisabled(HTMLParser):
    """Collects staff- or feed-written text that sits outside every `hx-disable` container
    (outside the page's head, a form field's own text and a select's options)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    PLAIN = {"title", "textarea", "option", "script", "style"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, bool]] = []
        self.exposed: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in self.VOID:
            self.open.append((tag, any(name == "hx-disable" for name, _ in attrs)))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth][0] == tag:
                del self.open[depth:]
                return

    def handle_data(self, data: str) -> None:
        if "hx-trigger" not in data:
            return
        tags = {tag for tag, _ in self.open}
        if tags & self.PLAIN or "head" in tags:
            return
        if not any(disabled for _, disabled in self.open):
            self.exposed.append(" > ".join(tag for tag, _ in self.open[-4:]))


def test_staff_and_feed_text_sits_inside_hx_disable(client: Client, hostile, demo) -> None:
    client.force_login(hostile["admin"])
    exposed = {}
    for url in [url for url in staff_pages(demo) if not url.endswith(".csv")]:
        parser = _TextOutsideDisabled()
        parser.feed(client.get(url).content.decode())
        if parser.exposed:
            exposed[url] = parser.exposed
    assert exposed == {}, pprint.pformat(exposed)
