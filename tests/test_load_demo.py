"""`load_demo` loads the real 2023-24 negotiation, idempotently, or nothing at all."""

from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from tracker.demo import DEMO_FIXTURE, DemoFixtureError, load_demo
from tracker.models import (
    Activity,
    Negotiation,
    Position,
    Provision,
    Stakeholder,
    VersionLine,
    Vote,
)

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Negotiation, Provision, VersionLine, Stakeholder, Position, Vote, Activity)
    } | {"history": Provision.history.count() + Position.history.count()}


def test_it_loads_the_enacted_and_requested_figures(demo) -> None:
    versions = {version.slug: version for version in demo.versions.all()}
    assert versions["enacted"].stated_total == 95_340_000_000
    assert versions["request"].stated_total == 105_850_000_000
    assert versions["senate_deal"].stated_total == 118_280_000_000
    ukraine = VersionLine.objects.get(provision__slug="ukraine", version__slug="enacted")
    assert (ukraine.amount, ukraine.is_confirmed) == (60_840_000_000, True)


def test_unconfirmed_figures_are_marked_as_such(demo) -> None:
    israel_final = VersionLine.objects.get(
        provision__slug="israel-security", version__slug="enacted"
    )
    assert israel_final.amount == 17_000_000_000
    assert israel_final.is_confirmed is False
    assert Vote.objects.filter(roll_number__isnull=True).exists()
    assert Activity.objects.filter(is_confirmed=False).exists()


def test_all_100_senators_resolve_the_feb_7_cloture_vote(demo) -> None:
    senators = Stakeholder.objects.senators()
    assert senators.count() == 100
    assert senators.exclude(lis_id="").exclude(bioguide_id="").count() == 100
    cloture = Vote.objects.get(chamber="senate", congress=118, session=2, roll_number=39)
    assert (cloture.yeas, cloture.nays, cloture.not_voting) == (49, 50, 1)
    casts = {cast: cloture.casts.filter(cast=cast).count() for cast in ("yes", "no", "absent")}
    assert casts == {"yes": 49, "no": 50, "absent": 1}
    lankford = Stakeholder.objects.get(slug="james-lankford")
    assert cloture.casts.get(member=lankford).published_as == "Yea"


def test_positions_are_sourced_or_derived_from_a_named_roll_call(demo) -> None:
    for position in Position.objects.select_related("derived_from_vote"):
        assert position.source_url, position
        if position.derived_from_vote:
            assert position.source_url == position.derived_from_vote.source_url
    # The record has no stance for Jeffries on the deal: none is invented.
    assert not Position.objects.filter(
        stakeholder__slug="hakeem-jeffries", provision__slug="senate-deal-package"
    ).exists()


def test_loading_twice_changes_nothing(demo) -> None:
    before = _counts()

    _, report = load_demo()

    assert not report.changed_anything, (report.created, report.updated)
    assert _counts() == before


def test_the_command_creates_roles_and_demo_users(settings, capsys) -> None:
    settings.DEMO_MODE = True
    call_command("load_demo")
    call_command("load_demo")

    output = capsys.readouterr().out
    assert "already up to date: nothing changed" in output
    assert f"password: {settings.DEMO_PASSWORD}" in output
    users = get_user_model().objects.filter(username__in=["viewer", "editor", "admin"])
    roles = {user.username: [g.name for g in user.groups.all()] for user in users}
    assert roles == {"viewer": ["Viewer"], "editor": ["Editor"], "admin": ["Admin"]}
    assert get_user_model().objects.get(username="admin").is_staff
    assert get_user_model().objects.get(username="viewer").check_password(settings.DEMO_PASSWORD)


def test_outside_demo_mode_no_demo_users_are_made(settings) -> None:
    settings.DEMO_MODE = False
    call_command("load_demo")
    assert not get_user_model().objects.exists()


def _broken_fixture(tmp_path: Path, section: str, index: int, **changes) -> Path:
    fixture = yaml.safe_load(DEMO_FIXTURE.read_text(encoding="utf-8"))
    fixture[section][index].update(changes)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(fixture, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("section", "changes", "message"),
    [
        ("timeline", {"date": "2024-13-45"}, "timeline[-1]"),
        ("positions", {"stance": "sort of"}, "stance"),
        ("positions", {"stakeholder": "nobody-at-all"}, "unknown stakeholder 'nobody-at-all'"),
        ("provisions", {"status": "finished"}, "status"),
    ],
)
def test_a_bad_record_aborts_the_whole_load_naming_it(
    tmp_path: Path, section: str, changes: dict, message: str
) -> None:
    path = _broken_fixture(tmp_path, section, -1, **changes)

    with pytest.raises(DemoFixtureError) as refused:
        load_demo(path)

    assert message in str(refused.value) or section in str(refused.value)
    assert f"{section}[" in str(refused.value)
    assert not Negotiation.objects.exists()
    assert not Stakeholder.objects.exists()


def test_a_negative_amount_is_refused_by_name(tmp_path: Path) -> None:
    fixture = yaml.safe_load(DEMO_FIXTURE.read_text(encoding="utf-8"))
    fixture["provisions"][0]["lines"]["enacted"]["amount"] = -1
    path = tmp_path / "negative.yaml"
    path.write_text(yaml.safe_dump(fixture, allow_unicode=True), encoding="utf-8")

    with pytest.raises(
        CommandError, match=r"Nothing was loaded\. provisions\[0\] \(ukraine\) line enacted"
    ):
        call_command("load_demo", fixture=path)
    assert not VersionLine.objects.exists()


def test_every_provision_ends_where_the_record_ends(demo) -> None:
    """Apr 24, 2024 is the end of the record: each provision is enacted or dropped, nothing is
    left on the way, and what the law carries in full is what is enacted."""
    enacted_lines = dict(
        VersionLine.objects.filter(version__slug="enacted").values_list("provision_id", "inclusion")
    )
    for provision in Provision.objects.filter(negotiation=demo):
        assert provision.status in {"enacted", "dropped"}, provision
        carried = enacted_lines.get(provision.pk) == "included"
        assert (provision.status == "enacted") == carried, provision
