"""Fragments kept per change: the same value until something changes anywhere, then drawn
afresh, whatever the change was (a staff write, an admin edit, a feed run ending)."""

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.utils import timezone

from tests.factories import make_negotiation, make_provision, make_user
from tracker.models import Activity, FeedRun, Negotiation
from tracker.page_cache import current_stamp, kept

pytestmark = pytest.mark.django_db


class Builds:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"drawn {self.count}"


def test_a_fragment_is_drawn_once_per_change_and_per_key():
    build = Builds()
    assert kept("board", 1, stamp=current_stamp(), build=build) == "drawn 1"
    assert kept("board", 1, stamp=current_stamp(), build=build) == "drawn 1"
    # Another key (another board, another role) is its own fragment.
    assert kept("board", 2, stamp=current_stamp(), build=build) == "drawn 2"
    assert kept("grid", 1, stamp=current_stamp(), build=build) == "drawn 3"
    assert build.count == 3


def _staff_write() -> None:
    Activity.add_note(make_provision(), "Whip meeting moved to 4 pm", by=make_user("colleague"))


def _admin_edit() -> None:
    negotiation = Negotiation.objects.first() or make_negotiation()
    LogEntry.objects.log_actions(
        user_id=make_user("administrator").pk,
        queryset=[negotiation],
        action_flag=ADDITION,
        change_message="renamed",
        single_object=True,
    )


def _feed_run_ended() -> None:
    now = timezone.now()
    FeedRun.objects.create(source="congress", status="succeeded", started_at=now, finished_at=now)


@pytest.mark.parametrize("change", [_staff_write, _admin_edit, _feed_run_ended])
def test_any_change_draws_it_afresh(groups, change):
    build = Builds()
    before = current_stamp()
    kept("board", 1, stamp=before, build=build)
    change()
    after = current_stamp()
    assert after != before and str(after) != str(before)
    assert kept("board", 1, stamp=after, build=build) == "drawn 2"


def test_the_stamp_is_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        current_stamp()
