"""No page makes more queries on a big negotiation than on the demo one: no N+1 anywhere."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.bench.scale import SCALE_SLUG, ScaleSize, seed_scale
from tracker.models import Bill, Demand, Negotiation, Provision, Stakeholder, Vote
from tracker.page_cache import FRAGMENTS

pytestmark = pytest.mark.django_db

BIG = ScaleSize(
    senators=100,
    representatives=120,
    others=20,
    provisions=120,
    demands=20,
    positions=4000,
    votes=30,
    activities=4000,
)


def _pages(negotiation: Negotiation) -> dict[str, str]:
    provision = Provision.objects.filter(negotiation=negotiation).order_by("pk").first()
    demand = Demand.objects.filter(negotiation=negotiation).order_by("pk").first()
    busiest = (
        Stakeholder.objects.filter(positions__provision__negotiation=negotiation)
        .order_by("pk")
        .first()
    )
    bill = Bill.objects.filter(negotiation=negotiation).order_by("pk").first()
    roll_call = (
        Vote.objects.filter(bill__negotiation=negotiation, casts__isnull=False)
        .order_by("pk")
        .first()
    )
    return {
        "dashboard": reverse("tracker-home"),
        "provisions": reverse("tracker-provision-list"),
        "provisions searched": reverse("tracker-provision-list") + "?q=o&sort=status",
        "provision": reverse("tracker-provision-detail", args=[provision.pk]),
        "demands": reverse("tracker-demand-list"),
        "demand": reverse("tracker-demand-detail", args=[demand.pk]),
        "stakeholders": reverse("tracker-stakeholder-list"),
        "stakeholder": reverse("tracker-stakeholder-detail", args=[busiest.pk]),
        "grid": reverse("tracker-position-grid") + "?show=all",
        "timeline": reverse("tracker-timeline"),
        "bills": reverse("tracker-bill-list"),
        "bill": reverse("tracker-bill-detail", args=[bill.pk]),
        "votes": reverse("tracker-vote-list"),
        "vote": reverse("tracker-vote-detail", args=[roll_call.pk]),
        "search": reverse("tracker-search") + "?q=senate+border",
        "search by bill number": reverse("tracker-search") + "?q=H.R.+1",
    }


def _query_counts(client: Client, negotiation: Negotiation) -> dict[str, int]:
    counts = {}
    for name, url in _pages(negotiation).items():
        # Every page drawn from scratch: a part kept from an earlier request costs no query.
        caches[FRAGMENTS].clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        counts[name] = len(queries)
    return counts


def test_query_counts_do_not_grow_with_the_data(client: Client, editor, demo, settings) -> None:
    client.force_login(editor)
    client.get(reverse("tracker-home"))  # the session's first request does one-off checks
    settings.CURRENT_NEGOTIATION = demo.slug
    on_demo = _query_counts(client, demo)

    big = seed_scale(BIG)
    settings.CURRENT_NEGOTIATION = SCALE_SLUG
    on_big = _query_counts(client, big)

    for page, count in on_demo.items():
        assert abs(on_big[page] - count) <= 1, (page, count, on_big[page])
        assert count <= 25, (page, count)
