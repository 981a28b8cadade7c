"""The whip pages as staff use them: the board, its as-of view and filters, recording positions
and overrides from it, and predicted vs actual."""

import pytest
from django.utils import timezone

from tests.factories import make_negotiation, make_provision, make_stakeholder
from tracker.models import Activity, Demand, Position
from tracker.models.whip import StanceOverride, VoteTarget, VoteTargetLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def target() -> VoteTarget:
    negotiation = make_negotiation()
    target = VoteTarget.objects.create(negotiation=negotiation, motion="Cloture on the deal")
    VoteTargetLink.objects.create(target=target, provision=make_provision(negotiation))
    return target


@pytest.fixture
def senator():
    return make_stakeholder(name="James Lankford", party="R", state="OK")


def _position_form(target: VoteTarget, member, **fields) -> dict:
    prefix = f"m{member.pk}-"
    values = {
        "target": f"provision:{target.links.get().provision_id}",
        "stance": "firm_support",
        "as_of": timezone.localdate().isoformat(),
        "source_url": "https://example.org/floor-speech",
        "statement": "Will vote to proceed.",
        "statement_kind": "paraphrase",
    }
    return {prefix + key: value for key, value in (values | fields).items()}


def test_the_list_links_every_target(client, viewer, target) -> None:
    client.force_login(viewer)
    response = client.get("/whip/")
    assert response.status_code == 200
    assert f'href="/whip/{target.pk}/"' in response.content.decode()


def test_the_board_shows_the_count_against_the_threshold(client, viewer, target, senator) -> None:
    senator.record_position(
        stance="lean_support", as_of=timezone.localdate(), provision=target.links.get().provision
    )
    client.force_login(viewer)

    page = client.get(f"/whip/{target.pk}/").content.decode()

    assert '<strong id="yes-count">1</strong> yes of <strong>60</strong> needed' in page
    assert '<strong id="still-needed">59</strong> still needed' in page
    assert "Persuadable" in page and "James Lankford" in page
    # A viewer sees no write forms.
    assert "Record position" not in page


def test_the_htmx_board_is_a_fragment(client, viewer, target) -> None:
    client.force_login(viewer)
    response = client.get(f"/whip/{target.pk}/", {"party": "R"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert "<html" not in page
    assert 'id="board"' in page


def test_a_bad_date_gets_a_clear_error(client, viewer, target) -> None:
    client.force_login(viewer)
    response = client.get(f"/whip/{target.pk}/", {"as_of": "last tuesday"})
    assert response.status_code == 400
    assert "Enter a valid date" in response.content.decode()
    assert client.get(f"/whip/{target.pk}/board.csv", {"as_of": "x"}).status_code == 400


def test_an_editor_records_a_position_from_the_board(client, editor, target, senator) -> None:
    client.force_login(editor)

    response = client.post(
        f"/whip/{target.pk}/members/{senator.pk}/position/",
        _position_form(target, senator),
        headers={"HX-Request": "true"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert '<strong id="yes-count">1</strong>' in page
    position = Position.objects.get(stakeholder=senator)
    assert (position.stance, position.recorded_by) == ("firm_support", editor)
    assert Activity.objects.filter(position=position, actor=editor).exists()


def test_without_htmx_recording_redirects_back_to_the_board(client, editor, target, senator):
    client.force_login(editor)
    response = client.post(
        f"/whip/{target.pk}/members/{senator.pk}/position/", _position_form(target, senator)
    )
    assert response.status_code == 302
    assert response["Location"] == f"/whip/{target.pk}/"


def test_a_bad_position_is_refused_and_nothing_is_saved(client, editor, target, senator) -> None:
    client.force_login(editor)

    response = client.post(
        f"/whip/{target.pk}/members/{senator.pk}/position/",
        _position_form(target, senator, stance="maybe", as_of="soon"),
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 422
    assert "<html" not in response.content.decode()
    assert f'id="record-{senator.pk}"' in response.content.decode()
    assert "Nothing was saved" in response.content.decode()
    assert not Position.objects.exists()


def test_a_viewer_cannot_record_positions(client, viewer, target, senator) -> None:
    client.force_login(viewer)
    response = client.post(
        f"/whip/{target.pk}/members/{senator.pk}/position/", _position_form(target, senator)
    )
    assert response.status_code == 403
    assert not Position.objects.exists()


def test_opening_the_record_form_writes_nothing(client, editor, target, senator) -> None:
    client.force_login(editor)
    url = f"/whip/{target.pk}/members/{senator.pk}/position/"

    page = client.get(url)
    fragment = client.get(url, headers={"HX-Request": "true"})

    assert page.status_code == fragment.status_code == 200
    assert "<html" in page.content.decode() and "<html" not in fragment.content.decode()
    assert f'action="{url}"' in fragment.content.decode()
    # Nothing is chosen for the user: no stance checked, no item selected.
    assert "checked" not in fragment.content.decode()
    assert 'value="" selected' in fragment.content.decode()
    assert not Position.objects.exists() and not Activity.objects.exists()


def test_an_override_needs_its_own_permission_and_a_note(client, viewer, editor, target, senator):
    url = f"/whip/{target.pk}/members/{senator.pk}/override/"
    prefix = f"o{senator.pk}-"
    client.force_login(viewer)
    refused = client.post(url, {prefix + "stance": "lean_support", prefix + "note": "Told us."})
    assert refused.status_code == 403

    client.force_login(editor)
    missing_note = client.post(
        url, {prefix + "stance": "lean_support"}, headers={"HX-Request": "true"}
    )
    assert missing_note.status_code == 422
    assert not StanceOverride.objects.exists()

    response = client.post(
        url,
        {prefix + "stance": "lean_support", prefix + "note": "Told our chief of staff."},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert '<strong id="yes-count">1</strong>' in response.content.decode()
    override = StanceOverride.objects.get()
    assert (override.set_by, override.note) == (editor, "Told our chief of staff.")
    assert Activity.objects.filter(stakeholder=senator, actor=editor).exists()


def test_a_member_of_the_other_chamber_is_not_on_the_board(client, editor, target) -> None:
    representative = make_stakeholder(kind="representative")
    client.force_login(editor)
    response = client.post(
        f"/whip/{target.pk}/members/{representative.pk}/position/",
        _position_form(target, representative),
    )
    assert response.status_code == 404


def test_the_demo_board_as_of_the_day_before_and_after_the_cloture_vote(
    client, viewer, demo, demo_targets
):
    cloture, _ = demo_targets
    client.force_login(viewer)

    before = client.get(f"/whip/{cloture.pk}/", {"as_of": "2024-02-06"}).content.decode()
    after = client.get(f"/whip/{cloture.pk}/", {"as_of": "2024-02-07"}).content.decode()

    assert '<strong id="yes-count">3</strong> yes of <strong>60</strong>' in before
    # From Feb 7 the positions read off roll call 39 itself are on the board: its 49 yes, and
    # Schumer, who backed the deal but voted no for procedure.
    assert '<strong id="yes-count">50</strong> yes of <strong>60</strong>' in after
    assert "Whip count over time" in after


def test_predicted_vs_actual_names_hits_and_explains_itself(
    client, viewer, demo, demo_targets
) -> None:
    cloture, _ = demo_targets
    client.force_login(viewer)

    page = client.get(f"/whip/{cloture.pk}/results/").content.decode()

    assert "end of <strong>Feb 6, 2024</strong>, the day before the roll call" in page
    assert "49-50" in page
    assert "7 of 100 called; 7 right (100%)" in page
    assert "James Lankford" in page


def test_results_wait_for_the_roll_call(client, viewer, target) -> None:
    client.force_login(viewer)
    page = client.get(f"/whip/{target.pk}/results/").content.decode()
    assert "The roll call for this vote is not linked yet" in page


def test_pages_need_a_login(client, target) -> None:
    for url in (f"/whip/{target.pk}/", f"/whip/{target.pk}/results/", "/whip/"):
        assert client.get(url).status_code == 302


def test_each_row_says_why_with_staff_text_escaped(client, editor, target, senator) -> None:
    """The rows are written in Python for speed; what staff typed must still come out as text."""
    from datetime import date

    from tracker.whip import set_override

    demand_link = VoteTargetLink.objects.create(
        target=target,
        demand=Demand.objects.create(
            negotiation=target.negotiation, slug="parole-cap", title="Parole cap", asks="A cap"
        ),
        support_means="no",
    )
    opponent = make_stakeholder(name="Chris Murphy", party="D", state="CT")
    opponent.record_position(
        stance="firm_support",
        as_of=date(2024, 2, 1),
        demand=demand_link.demand,
        source_url="https://example.org/?a=1&b=2",
    )
    set_override(
        target, senator, stance="lean_support", note="<script>x()</script> & co", by=editor
    )
    client.force_login(editor)

    page = client.get(f"/whip/{target.pk}/", {"as_of": timezone.localdate().isoformat()})

    html = page.content.decode()
    assert "<script>x()</script>" not in html
    assert "&lt;script&gt;x()&lt;/script&gt; &amp; co" in html
    assert "Firm support on Parole cap (support means no)" in html
    assert 'href="https://example.org/?a=1&amp;b=2"' in html
    # Each member's row opens that member's forms, and no other's.
    for member in (senator, opponent):
        row = html[html.index(f'id="member-{member.pk}"') :]
        row = row[: row.index("</tr>")]
        assert f'href="/whip/{target.pk}/members/{member.pk}/position/"' in row
        assert f'href="/whip/{target.pk}/members/{member.pk}/override/"' in row
