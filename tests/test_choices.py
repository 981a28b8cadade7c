"""Type-ahead for long selects: /choices/<kind>/ answers what was typed with at most 20 options
of exactly what the form's select offers, to logged-in staff only, as inert text; the forms mark
their long selects for it and still work as plain selects."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import (
    link_to_target,
    make_demand,
    make_negotiation,
    make_provision,
    make_stakeholder,
    make_vote_target,
)
from tracker import choices
from tracker.models import Demand, Position, Provision, Stakeholder

pytestmark = pytest.mark.django_db

OPTION = re.compile(r'<li role="option" id="([^"]+)" data-value="([^"]*)"')


def _values(response) -> list[str]:
    return [value for _, value in OPTION.findall(response.content.decode())]


def test_it_requires_a_login(client: Client, demo) -> None:
    response = client.get("/choices/stakeholders/", {"q": "murk"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_to_write(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    assert client.post("/choices/stakeholders/", {"q": "murk"}).status_code == 405


def test_an_unknown_kind_is_not_found(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    assert client.get("/choices/users/", {"q": "a"}).status_code == 404
    assert client.get("/choices/provisions/", {"negotiation": "x"}).status_code == 404
    assert client.get("/choices/position-targets/", {"whip": "99999999"}).status_code == 404


def test_it_finds_stakeholders_by_name_party_and_state(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    murkowski = Stakeholder.objects.get(slug="lisa-murkowski")

    response = client.get("/choices/stakeholders/", {"q": "murk", "for": "id_demanded_by"})

    assert response.status_code == 200
    assert _values(response) == [str(murkowski.pk)]
    body = response.content.decode()
    # The option's text is the select's own ("Lisa Murkowski (R-AK)"), its id the combobox's.
    assert 'id="id_demanded_by-option-1"' in body and "Lisa Murkowski (R-AK)" in body
    assert '<p id="id_demanded_by-status" hx-swap-oob="innerHTML">1 match.</p>' in body
    alaska = client.get("/choices/stakeholders/", {"q": "R AK"})
    assert str(murkowski.pk) in _values(alaska)
    assert all(
        s.state == "AK" and s.party == "R"
        for s in Stakeholder.objects.filter(pk__in=_values(alaska))
    )


def test_it_is_bounded_and_says_how_many_match(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    total = Stakeholder.objects.count()
    assert total > choices.LIMIT

    response = client.get("/choices/stakeholders/", {"q": ""})

    assert len(_values(response)) == choices.LIMIT
    assert f"{choices.LIMIT} of {total} shown: type more to narrow." in response.content.decode()
    # A query as long as a page is cut, not run word by word.
    long = client.get("/choices/stakeholders/", {"q": "a " * 5000})
    assert long.status_code == 200 and len(_values(long)) <= choices.LIMIT


def test_names_that_start_with_the_text_come_first(client: Client, viewer) -> None:
    client.force_login(viewer)
    inner = make_stakeholder(name="Anna Collins")
    first = make_stakeholder(name="Collins Zed")
    values = _values(client.get("/choices/stakeholders/", {"q": "collins"}))
    assert values.index(str(first.pk)) < values.index(str(inner.pk))


def test_nothing_matching_says_so(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    body = client.get("/choices/time-zones/", {"q": "zzzz", "for": "id_time_zone"}).content
    assert "No match for “zzzz”." in body.decode()


def test_the_combobox_id_is_checked_before_it_names_anything(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    body = client.get(
        "/choices/stakeholders/", {"q": "murk", "for": '"><script>alert(1)</script>'}
    ).content.decode()
    assert "<script>" not in body
    assert 'id="choices-stakeholders-status"' in body


def test_staff_markup_in_a_title_stays_text(client: Client, viewer) -> None:
    negotiation = make_negotiation()
    make_provision(negotiation, title='Border <img src=x onerror="alert(1)"> & "wall"')
    client.force_login(viewer)

    body = client.get(
        "/choices/provisions/", {"q": "border <img", "negotiation": negotiation.pk}
    ).content.decode()

    assert "<img" not in body
    assert "Border &lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &quot;wall&quot;" in body
    assert "No match" not in body


def test_position_targets_are_the_forms_own_choices(client: Client, editor, demo) -> None:
    """Every option the endpoint offers is one the stakeholder page's select has, with its
    label; provisions and demands both."""
    client.force_login(editor)
    senator = Stakeholder.objects.get(slug="lisa-murkowski")
    page = client.get(f"/stakeholders/{senator.pk}/").content.decode()
    select = re.search(r'<select name="target"[^>]*>(.*?)</select>', page, re.S)
    assert select and 'data-choices="/choices/position-targets/"' in page
    offered = dict(re.findall(r'<option value="([^"]+)">([^<]+)</option>', select.group(1)))

    found = client.get("/choices/position-targets/", {"q": "border"})

    values = _values(found)
    assert values and all(value in offered for value in values)
    assert any(
        v.startswith("demand:")
        for v in _values(
            client.get("/choices/position-targets/", {"q": Demand.objects.first().title[:12]})
        )
    )
    body = found.content.decode()
    for value in values:
        assert offered[value] in body


def test_a_whip_boards_form_offers_only_what_the_vote_is_about(client: Client, editor) -> None:
    negotiation = make_negotiation()
    target = make_vote_target(negotiation)
    about = [link_to_target(target).provision for _ in range(3)]
    demand = make_demand(negotiation, title="Provision-like demand")
    link_to_target(target, demand=demand)
    elsewhere = make_provision(negotiation, title="Provision not on this vote")
    client.force_login(editor)

    values = _values(
        client.get("/choices/position-targets/", {"q": "provision", "whip": target.pk})
    )

    assert sorted(values) == sorted([f"provision:{p.pk}" for p in about] + [f"demand:{demand.pk}"])
    assert f"provision:{elsewhere.pk}" not in values


def test_time_zones_are_found_by_city(client: Client, viewer) -> None:
    client.force_login(viewer)
    values = _values(client.get("/choices/time-zones/", {"q": "new york"}))
    assert values[0] == "America/New_York"


def test_demand_form_marks_its_long_selects(client: Client, editor, demo) -> None:
    client.force_login(editor)
    page = client.get("/demands/new").content.decode()
    negotiation = Provision.objects.filter(slug="ukraine").get().negotiation_id
    assert re.search(r'<select name="demanded_by"[^>]*data-choices="/choices/stakeholders/"', page)
    assert re.search(
        r'<select name="provisions"[^>]*'
        rf'data-choices="/choices/provisions/\?negotiation={negotiation}"',
        page,
    )
    # Nothing is preselected: "nobody named" until someone is chosen.
    assert '<option value="" selected>Nobody named (unattributed)</option>' in page


def test_the_whip_member_form_asks_for_its_own_vote(client: Client, editor, demo_targets) -> None:
    cloture, _ = demo_targets
    senator = Stakeholder.objects.get(slug="lisa-murkowski")
    client.force_login(editor)
    form = client.get(
        f"/whip/{cloture.pk}/members/{senator.pk}/position/", headers={"HX-Request": "true"}
    )
    assert f'data-choices="/choices/position-targets/?whip={cloture.pk}"' in form.content.decode()


def test_the_preferences_time_zone_is_marked(client: Client, viewer) -> None:
    client.force_login(viewer)
    page = client.get("/digests/preferences/").content.decode()
    assert re.search(r'<select name="time_zone"[^>]*data-choices="/choices/time-zones/"', page)


def test_without_javascript_the_select_records_a_position(client: Client, editor, demo) -> None:
    """The plain select posts its value, as before: the type-ahead only sits on top of it."""
    client.force_login(editor)
    senator = Stakeholder.objects.get(slug="lisa-murkowski")
    deal = Provision.objects.get(slug="senate-deal-package")
    response = client.post(
        f"/stakeholders/{senator.pk}/positions",
        {
            "target": f"provision:{deal.pk}",
            "stance": "undecided",
            "as_of": timezone.localdate().isoformat(),
            "statement_kind": "quote",
        },
    )
    assert response.status_code == 302
    assert Position.objects.filter(stakeholder=senator, provision=deal, stance="undecided").exists()
