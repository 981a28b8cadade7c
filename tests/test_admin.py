"""Administrators manage every record in the Django admin; other roles cannot get in."""

from datetime import UTC, date, datetime

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.factories import make_provision
from tracker.models import (
    Activity,
    ActivityKind,
    Amendment,
    Bill,
    BillAction,
    Cosponsor,
    DigestDelivery,
    DigestPreference,
    FeedDocument,
    FeedRun,
    Position,
    Provision,
    Stakeholder,
    StanceOverride,
    Vacancy,
    VoteTarget,
    Watch,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_of_everything(demo) -> None:
    bill = Bill.objects.get(congress=118, bill_type="hr", number=815)
    fields = {
        "acted_on": date(2024, 4, 24),
        "acted_at_time": None,
        "source_system_code": 9,
        "action_code": "36000",
        "text": "Became Public Law No: 118-50.",
    }
    BillAction.objects.create(bill=bill, fingerprint=BillAction.fingerprint_for(**fields), **fields)
    Amendment.objects.create(bill=bill, congress=118, amendment_type="samdt", number=1388)
    Cosponsor.objects.create(bill=bill, bioguide_id="M001111", full_name="Sen. Murray, Patty")
    FeedRun.objects.create(source="senate", scope="118-2")
    FeedDocument.objects.create(url="https://www.senate.gov/x.xml")
    Vacancy.objects.create(chamber="senate", state="NJ", vacated_on=date(2024, 8, 20))
    StanceOverride.objects.create(
        target=VoteTarget.objects.first(),
        member=Stakeholder.objects.senators().first(),
        stance="lean_support",
        note="Told the office privately",
        set_on=date(2024, 2, 6),
    )
    someone = get_user_model().objects.create_user("watcher", "watcher@example.com")
    Watch.objects.create(user=someone, negotiation=demo)
    DigestPreference.objects.create(user=someone)
    DigestDelivery.objects.create(
        user=someone,
        period="daily:2024-02-07",
        covers_from=datetime(2024, 2, 6, 12, tzinfo=UTC),
        covers_until=datetime(2024, 2, 7, 12, tzinfo=UTC),
    )


# Records that are only ever written by the app (a delivery log, an override's history) have
# no add page, by design.
NO_ADD_PAGE = {"digestdelivery", "stanceoverride"}


def _admin_pages() -> list[str]:
    """Changelist, add, change and history pages of every registered model with a row to open."""
    urls = []
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"{prefix}_changelist"))
        if model._meta.model_name not in NO_ADD_PAGE:
            urls.append(reverse(f"{prefix}_add"))
        first = model._default_manager.order_by("pk").first()
        if first is None:
            # Only third-party models (allauth's) may be empty in the demo.
            assert model._meta.app_label != "tracker", f"the test data has no {model.__name__}"
            continue
        urls += [
            reverse(f"{prefix}_change", args=[first.pk]),
            reverse(f"{prefix}_history", args=[first.pk]),
        ]
    return urls


def test_every_admin_page_renders_for_an_admin(
    client: Client, admin_user, one_of_everything
) -> None:
    client.force_login(admin_user)
    failures = []
    for url in _admin_pages():
        response = client.get(url)
        if response.status_code != 200:
            failures.append(f"{url}: {response.status_code}")
    assert failures == []


def test_every_admin_page_is_refused_to_a_viewer(client: Client, viewer, one_of_everything) -> None:
    client.force_login(viewer)
    for url in _admin_pages():
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith((reverse("admin:login"), reverse("account_login")))


def test_an_editor_cannot_reach_the_admin_either(client: Client, editor) -> None:
    client.force_login(editor)
    response = client.get(reverse("admin:tracker_provision_changelist"))
    assert response.status_code == 302


def test_a_bulk_status_change_goes_through_the_timeline(client: Client, admin_user, demo) -> None:
    client.force_login(admin_user)
    chosen = list(Provision.objects.filter(status="dropped").order_by("pk")[:3])

    response = client.post(
        reverse("admin:tracker_provision_changelist"),
        {"action": "mark_in_negotiation", "_selected_action": [p.pk for p in chosen]},
        follow=True,
    )

    assert response.status_code == 200
    assert "3 provision(s) moved to In negotiation." in response.content.decode()
    for provision in chosen:
        provision.refresh_from_db()
        assert provision.status == "in_negotiation"
        change = Activity.objects.get(provision=provision, kind=ActivityKind.STATUS_CHANGE)
        assert (change.actor, change.from_value) == (admin_user, "dropped")


def test_a_status_edited_in_the_change_form_reaches_the_timeline(
    client: Client, admin_user, demo
) -> None:
    client.force_login(admin_user)
    provision = make_provision(demo, title="A line still in the text", status="in_text")
    url = reverse("admin:tracker_provision_change", args=[provision.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data |= {
        "status": "passed_house",
        "sources": '["https://example.org"]',
        "negotiation": demo.pk,
        "lines-TOTAL_FORMS": 0,
        "lines-INITIAL_FORMS": 0,
    }

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    change = Activity.objects.get(provision=provision, kind=ActivityKind.STATUS_CHANGE)
    assert (change.from_value, change.to_value) == ("in_text", "passed_house")


def test_the_change_form_refuses_a_status_the_workflow_forbids(
    client: Client, admin_user, demo
) -> None:
    client.force_login(admin_user)
    provision = Provision.objects.get(negotiation=demo, slug="ukraine")  # enacted: final
    url = reverse("admin:tracker_provision_change", args=[provision.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data |= {
        "status": "dropped",
        "sources": "[]",
        "negotiation": demo.pk,
        "lines-TOTAL_FORMS": 0,
        "lines-INITIAL_FORMS": 0,
    }

    response = client.post(url, data)

    assert response.status_code == 200
    assert "The workflow does not allow Enacted → Dropped." in response.content.decode()
    provision.refresh_from_db()
    assert provision.status == "enacted"


def test_a_position_added_in_the_admin_is_recorded_with_activity(
    client: Client, admin_user, demo
) -> None:
    client.force_login(admin_user)
    senator = Position.objects.filter(provision__slug="senate-deal-package").first().stakeholder
    provision = Provision.objects.get(slug="ukraine")
    response = client.post(
        reverse("admin:tracker_position_add"),
        {
            "stakeholder": senator.pk,
            "provision": provision.pk,
            "stance": "lean_support",
            "as_of": "2024-03-01",
            "source_url": "https://example.org/statement",
            "statement": "Said she would look at it.",
            "statement_kind": "paraphrase",
        },
    )

    assert response.status_code == 302
    position = Position.objects.get(
        stakeholder=senator, provision=provision, as_of=date(2024, 3, 1)
    )
    assert position.recorded_by == admin_user
    assert Activity.objects.filter(position=position, kind=ActivityKind.POSITION_CHANGE).exists()
