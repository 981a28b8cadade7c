"""Refresh workflows: one function per source, each recording a FeedRun. No HTTP here: the
adapters fetch, `ingest` writes, and this module decides what to fetch and records the outcome.

Every failure of one item is an error on the run naming the item, and the run goes on. A failure
of the whole source (the menu cannot be read, senate.gov blocks us, the API key is refused) fails
the run and keeps every stored row as it was; a transient one is re-raised for the task to retry.
"""

import hashlib
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tracker.feeds import congress, house, legislators, senate
from tracker.feeds.client import (
    FeedError,
    FeedResponse,
    FeedUnavailable,
    check_time_left,
)
from tracker.feeds.ingest import (
    UNCHANGED,
    BillIndex,
    IngestError,
    MemberIndex,
    Outcome,
    VoteIndex,
    ingest_bill,
    ingest_legislator,
    ingest_roll_call,
    record_departures,
)
from tracker.feeds.roll_calls import BillRef, RollCall
from tracker.feeds.sources import BY_KEY
from tracker.models import Bill, FeedDocument, FeedRun, FeedRunStatus, FeedSource, Vote

Progress = Callable[[FeedRun], None]
# Votes re-checked on every run for corrections (the Senate's modify_date, the House has none);
# a nightly run re-checks the whole session with conditional requests.
RECENT_RECHECK = 20
# Give up on a source after this many unreachable items in a row: it is down, not one bad file.
MAX_CONSECUTIVE_UNAVAILABLE = 3
MAX_NEW_HOUSE_ROLLS = 1500
_FLUSH_EVERY = 10


class RefreshFailed(FeedUnavailable):
    """The whole source could not be read this time; the run records why. Retry later."""


# Runs and the lock ------------------------------------------------------------------------------


class RunRecorder:
    """Counts and errors of one run, saved every few items so the page can show progress."""

    def __init__(self, run: FeedRun, progress: Progress | None) -> None:
        self.run = run
        self.progress = progress
        self._unsaved = 0

    def count(self, outcome: Outcome) -> None:
        setattr(self.run, outcome.outcome, getattr(self.run, outcome.outcome) + 1)
        self.run.new_members.extend(outcome.new_members)
        self.step()

    def error(self, key: str, message: str) -> None:
        self.run.failed += 1
        self.run.errors.append({"key": key, "message": str(message)[:500]})
        self.step()

    def skip(self) -> None:
        self.run.skipped += 1
        self.step()

    def fetched(self) -> None:
        self.run.fetched += 1

    def total(self, total: int) -> None:
        self.run.progress_total = total
        self.flush()

    def step(self) -> None:
        check_time_left()  # a run given a time limit stops between items too, not only on HTTP
        self.run.progress_done += 1
        self._unsaved += 1
        if self._unsaved >= _FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        self._unsaved = 0
        self.run.save()
        if self.progress:
            self.progress(self.run)


def _begin(
    source: str, scope: str, *, run_id: int | None, trigger: str, progress: Progress | None
) -> RunRecorder:
    """Claim the source's lock by marking the run `running`; the run is `skipped` if it is held."""
    now = timezone.now()
    # A worker killed past its hard time limit leaves a `running` row behind: release it.
    stale_before = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    FeedRun.objects.filter(
        source=source, status=FeedRunStatus.RUNNING, started_at__lt=stale_before
    ).update(status=FeedRunStatus.ABANDONED, finished_at=now, message="The worker stopped mid-run.")
    run = FeedRun.objects.filter(pk=run_id).first() if run_id else None
    if run is not None and run.status == FeedRunStatus.RUNNING:
        # This run's task is delivered again, which the broker does only once the worker that
        # took it is gone (acks_late): the run was left `running` by a dead worker. Start it
        # over, on the same row, so the page polling it sees it finish.
        run = FeedRun(
            pk=run.pk,
            source=source,
            trigger=run.trigger,
            requested_by_id=run.requested_by_id,
            queued_at=run.queued_at,
        )
    if run is None or run.status != FeedRunStatus.QUEUED:
        # A retry of a task whose queued run already finished gets a run of its own.
        run = FeedRun(source=source, trigger=trigger)
    run.scope, run.status, run.started_at = scope, FeedRunStatus.RUNNING, now
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError:
        run.status, run.finished_at = FeedRunStatus.SKIPPED, now
        run.message = "Another refresh of this source was running; this one did nothing."
        run.save()
        if progress:
            progress(run)
    return RunRecorder(run, progress)


@contextmanager
def _guarded(recorder: RunRecorder) -> Iterator[None]:
    """Whatever stops a run (a time limit, a bug), the run says so instead of staying `running`."""
    try:
        yield
    except BaseException as error:
        if recorder.run.status == FeedRunStatus.RUNNING:
            _finish(recorder, fatal=f"stopped by {type(error).__name__}: {error}")
        raise


def _finish(recorder: RunRecorder, *, fatal: str = "") -> FeedRun:
    run = recorder.run
    run.finished_at = timezone.now()
    if fatal:
        run.status = FeedRunStatus.FAILED
        run.message = fatal[:300]
    elif run.failed:
        run.status = FeedRunStatus.PARTIAL
    else:
        run.status = FeedRunStatus.SUCCEEDED
    run.progress_done = max(run.progress_done, run.progress_total)
    recorder.flush()
    return run


def _fail(recorder: RunRecorder, key: str, error: Exception, *, raise_retryable: bool) -> FeedRun:
    recorder.run.errors.append({"key": key, "message": str(error)[:500]})
    run = _finish(recorder, fatal=f"{key}: {error}")
    if raise_retryable and getattr(error, "retryable", False):
        raise RefreshFailed(f"{run.get_source_display()} run {run.pk}: {error}") from error
    return run


# Change detection per file ----------------------------------------------------------------------


class Documents:
    """FeedDocument rows for a batch of URLs, loaded in one query."""

    def __init__(self, urls: Iterable[str]) -> None:
        self.by_url = {doc.url: doc for doc in FeedDocument.objects.filter(url__in=list(urls))}

    def validators(self, url: str) -> dict[str, str]:
        doc = self.by_url.get(url)
        return {"etag": doc.etag, "last_modified": doc.last_modified} if doc else {}

    def unchanged(self, url: str, response: FeedResponse) -> bool:
        if response.not_modified:
            return True
        doc = self.by_url.get(url)
        return doc is not None and doc.sha256 == hashlib.sha256(response.body).hexdigest()

    def remember(self, url: str, response: FeedResponse) -> None:
        """Called only after the file was stored, so a failed ingest is retried next time."""
        now = timezone.now()
        values = {
            "etag": response.headers.get("etag", "")[:200],
            "last_modified": response.headers.get("last-modified", "")[:100],
            "sha256": hashlib.sha256(response.body).hexdigest(),
            "fetched_at": now,
            "changed_at": now,
        }
        doc, _ = FeedDocument.objects.update_or_create(url=url, defaults=values)
        self.by_url[url] = doc


# Roll calls (both chambers) ---------------------------------------------------------------------

Fetch = Callable[[dict[str, str]], FeedResponse]


class _RollBatch:
    """Fetch, parse and store roll calls one by one, sharing the member, bill and file indexes."""

    def __init__(
        self,
        recorder: RunRecorder,
        chamber: str,
        parse: Callable[[bytes, str, str], RollCall],
        urls: Iterable[str],
    ) -> None:
        self.recorder = recorder
        self.parse = parse
        self.documents = Documents(urls)
        self.members = MemberIndex(chamber)
        self.bills = BillIndex()
        self.votes = VoteIndex()
        self.unavailable_in_a_row = 0

    def take(self, key: str, url: str, fetch: Fetch) -> str:
        """Handle one roll; return a message when the whole source should stop, else ""."""
        try:
            response = fetch(self.documents.validators(url))
        except FeedUnavailable as error:
            self.recorder.error(key, str(error))
            self.unavailable_in_a_row += 1
            if self.unavailable_in_a_row >= MAX_CONSECUTIVE_UNAVAILABLE:
                return (
                    f"{key}: gave up after {self.unavailable_in_a_row} unreachable files in a row"
                )
            return ""
        except FeedError as error:
            self.recorder.error(key, str(error))
            return ""
        self.unavailable_in_a_row = 0
        return self.store(key, url, response)

    def store(self, key: str, url: str, response: FeedResponse) -> str:
        self.recorder.fetched()
        if self.documents.unchanged(url, response):
            self.recorder.count(Outcome(UNCHANGED))
            return ""
        try:
            roll = self.parse(response.body, url, key)
            outcome = ingest_roll_call(
                roll, members=self.members, bills=self.bills, votes=self.votes
            )
        except (FeedError, IngestError) as error:
            self.recorder.error(key, str(error))
            return ""
        except IntegrityError as error:
            self.recorder.error(key, f"refused by the database: {error}")
            return ""
        self.documents.remember(url, response)
        self.recorder.count(outcome)
        return ""


def refresh_senate(
    congress_number: int,
    session: int,
    *,
    recheck_all: bool = False,
    run_id: int | None = None,
    trigger: str = "schedule",
    progress: Progress | None = None,
    raise_retryable: bool = False,
) -> FeedRun:
    """Discover the session's votes from its menu; fetch new ones and re-check recent ones.

    senate.gov answering 403 stops the run at once (it is blocking us): stored votes stay as they
    were, the run fails, and the Feeds page shows the source as stale until a run succeeds.
    """
    scope = f"{congress_number}-{session}"
    recorder = _begin(FeedSource.SENATE, scope, run_id=run_id, trigger=trigger, progress=progress)
    if recorder.run.status == FeedRunStatus.SKIPPED:
        return recorder.run
    with _guarded(recorder):
        try:
            menu = senate.fetch_menu(congress_number, session)
        except FeedError as error:
            return _fail(recorder, f"menu {scope}", error, raise_retryable=raise_retryable)
        synced = set(
            Vote.objects.filter(
                chamber="senate",
                congress=congress_number,
                session=session,
                last_synced_at__isnull=False,
            ).values_list("roll_number", flat=True)
        )
        numbers = sorted(menu.vote_numbers)
        recent = set(numbers[-RECENT_RECHECK:])
        wanted = [n for n in numbers if recheck_all or n not in synced or n in recent]
        recorder.run.skipped += len(numbers) - len(wanted)
        urls = {n: senate.vote_url(congress_number, session, n) for n in wanted}
        batch = _RollBatch(
            recorder,
            "senate",
            lambda body, url, key: senate.parse_vote(body, source_url=url, expected_key=key),
            urls.values(),
        )
        recorder.total(len(wanted))
        for number in wanted:
            key = f"senate-{congress_number}-{session}-{number}"
            try:
                fatal = batch.take(
                    key,
                    urls[number],
                    lambda validators, n=number: senate.fetch_vote(
                        congress_number, session, n, **validators
                    ),
                )
            except senate.SenateBlocked as error:
                return _fail(recorder, key, error, raise_retryable=raise_retryable)
            if fatal:
                return _fail(recorder, key, RefreshFailed(fatal), raise_retryable=raise_retryable)
        return _finish(recorder)


def current_year() -> int:
    return timezone.localdate().year


def current_session() -> tuple[int, int]:
    """Today's congress and session (a session runs with the calendar year)."""
    return house_session(current_year())


def house_session(year: int) -> tuple[int, int]:
    """The congress and session a calendar year's House rolls belong to."""
    return (year - 1789) // 2 + 1, 1 if year % 2 else 2


def refresh_house(
    year: int,
    *,
    recheck_all: bool = False,
    run_id: int | None = None,
    trigger: str = "schedule",
    progress: Progress | None = None,
    raise_retryable: bool = False,
) -> FeedRun:
    """Fetch the year's rolls after the last one we synced, until the Clerk has no more, and
    re-check recent ones by content hash (the House publishes no modification date)."""
    congress_number, session = house_session(year)
    recorder = _begin(
        FeedSource.HOUSE, str(year), run_id=run_id, trigger=trigger, progress=progress
    )
    if recorder.run.status == FeedRunStatus.SKIPPED:
        return recorder.run
    with _guarded(recorder):
        synced = sorted(
            Vote.objects.filter(
                chamber="house",
                congress=congress_number,
                session=session,
                last_synced_at__isnull=False,
            ).values_list("roll_number", flat=True)
        )
        recheck = synced if recheck_all else synced[-RECENT_RECHECK:]
        batch = _RollBatch(
            recorder, "house", _parse_house, (house.roll_url(year, n) for n in recheck)
        )
        recorder.total(len(recheck))
        for number in recheck:
            fatal = batch.take(
                _house_key(year, number),
                house.roll_url(year, number),
                lambda validators, n=number: house.fetch_roll(year, n, **validators),
            )
            if fatal:
                return _fail(
                    recorder, str(year), RefreshFailed(fatal), raise_retryable=raise_retryable
                )
        # Discovery: the Clerk has no index, so ask for the next roll until there is none.
        last = synced[-1] if synced else 0
        for number in range(last + 1, last + 1 + MAX_NEW_HOUSE_ROLLS):
            key = _house_key(year, number)
            try:
                response = house.fetch_roll(year, number)
            except house.RollNotFound:
                break
            except FeedUnavailable as error:
                return _fail(recorder, key, error, raise_retryable=raise_retryable)
            except FeedError as error:
                recorder.error(key, str(error))
                continue
            recorder.run.progress_total += 1
            batch.store(key, house.roll_url(year, number), response)
        return _finish(recorder)


def _house_key(year: int, number: int) -> str:
    congress_number, session = house_session(year)
    return f"house-{congress_number}-{session}-{number}"


def _parse_house(body: bytes, url: str, key: str) -> RollCall:
    return house.parse_roll(body, source_url=url, expected_key=key)


# Bills ------------------------------------------------------------------------------------------


def negotiation_bill_keys() -> list[str]:
    """The bills the office follows: those attached to a negotiation."""
    return [bill.key for bill in Bill.objects.filter(negotiation__isnull=False)]


# The bill list's update dates are not written in order, and at list level may be a date only
# (Congress.gov stamps some bills late): look back this far before the last check, so a bill
# stamped late is seen.
BILL_LIST_OVERLAP = timedelta(days=2)
# A bill last checked longer ago than this is asked for by its own item: one bill failing for
# days must not stretch every run's list back over the whole congress.
BILL_LIST_WINDOW = timedelta(days=3)


def refresh_bills(
    bill_keys: list[str] | None = None,
    *,
    recheck_all: bool = False,
    run_id: int | None = None,
    trigger: str = "schedule",
    progress: Progress | None = None,
    raise_retryable: bool = False,
) -> FeedRun:
    """Refresh the followed bills; an unchanged one costs no request of its own.

    One list request per congress (`fromDateTime`: since the followed bills were last checked,
    less an overlap) names the bills that changed; only those, and bills never synced, get an
    item request, and only a bill whose update date moved is fetched whole (actions, amendments,
    cosponsors, titles, summaries, text versions) and stored in one transaction. If any part
    fails, nothing of that bill is stored and its dates stay old, so the next run tries again.
    `recheck_all` (nightly) skips the list and asks for every bill: the list filters on
    updateDate only, and a new text may move only updateDateIncludingText.
    """
    keys = bill_keys if bill_keys is not None else negotiation_bill_keys()
    scope = keys[0] if len(keys) == 1 else f"{len(keys)} bills"
    recorder = _begin(FeedSource.CONGRESS, scope, run_id=run_id, trigger=trigger, progress=progress)
    if recorder.run.status == FeedRunStatus.SKIPPED:
        return recorder.run
    with _guarded(recorder):
        refs: dict[str, BillRef] = {}
        for key in keys:
            try:
                refs[key] = _bill_ref(key)
            except ValueError as error:
                recorder.error(key, str(error))
        stored = _stored_bills(refs.values())
        checked_at = timezone.now()
        # Bills checked within the window may be vouched for by the list; the rest are asked for.
        listable = {
            ref: bill
            for ref, bill in stored.items()
            if bill.records_synced_at and bill.last_synced_at >= checked_at - BILL_LIST_WINDOW
        }
        try:
            changed = None if recheck_all else _listed_as_changed(recorder, listable)
        except (congress.KeyRefused, FeedUnavailable) as error:
            return _fail(recorder, "bill list", error, raise_retryable=raise_retryable)
        recorder.total(len(refs))
        unchanged: list[int] = []
        for key, ref in refs.items():
            bill = stored.get(ref)
            if ref in listable and changed is not None and ref not in changed:
                unchanged.append(bill.pk)
                recorder.skip()  # not listed as changed: no request of its own
                continue
            try:
                record = congress.fetch_bill(ref)
                recorder.fetched()
                # Unchanged only once its records were stored: a bill synced before they were
                # kept is fetched whole once, whatever its dates say.
                if (
                    bill
                    and bill.records_synced_at
                    and record.changed_at
                    and bill.source_updated_at == record.changed_at
                ):
                    unchanged.append(bill.pk)
                    recorder.count(Outcome(UNCHANGED))
                    continue
                actions, details = congress.fetch_actions(ref), congress.fetch_details(ref)
                outcome = ingest_bill(record, actions, details)
            except (congress.KeyRefused, FeedUnavailable) as error:
                # Every further request would fail the same way (RateLimitLow is one of these).
                return _fail(recorder, key, error, raise_retryable=raise_retryable)
            except FeedError as error:
                recorder.error(key, str(error))
                continue
            except IntegrityError as error:
                recorder.error(key, f"refused by the database: {error}")
                continue
            recorder.count(outcome)
        # Checked and unchanged as of the list request: the next list starts from here.
        Bill.objects.filter(pk__in=unchanged).update(last_synced_at=checked_at)
        return _finish(recorder)


def _stored_bills(refs: Iterable[BillRef]) -> dict[BillRef, Bill]:
    """The followed bills synced before, by reference, in one query."""
    wanted = set(refs)
    bills = Bill.objects.filter(
        congress__in={ref.congress for ref in wanted}, last_synced_at__isnull=False
    ).only(
        "congress",
        "bill_type",
        "number",
        "last_synced_at",
        "source_updated_at",
        "records_synced_at",
    )
    by_ref = {BillRef(b.congress, b.bill_type, b.number): b for b in bills}
    return {ref: bill for ref, bill in by_ref.items() if ref in wanted}


def _listed_as_changed(recorder: RunRecorder, bills: dict[BillRef, Bill]) -> set[BillRef] | None:
    """The bills Congress.gov lists as updated since these were last checked, or None (ask for
    each bill) when there are none to vouch for or the list could not be read or is too long."""
    if not bills:
        return None
    changed: set[BillRef] = set()
    for congress_number in sorted({ref.congress for ref in bills}):
        checked = [b.last_synced_at for r, b in bills.items() if r.congress == congress_number]
        try:
            changed |= congress.fetch_updated_bills(
                congress_number,
                min(checked) - BILL_LIST_OVERLAP,
                # Past this many list entries, one item request per bill is cheaper.
                at_most=congress.PAGE_LIMIT * len(checked),
            )
        except congress.KeyRefused:
            raise
        except congress.ListTooLong:
            return None
        except congress.CongressFeedError as error:
            recorder.error(f"bill list {congress_number}", f"{error}; checked each bill instead")
            return None
        recorder.fetched()
    return changed


def _bill_ref(key: str) -> BillRef:
    """ "118-hr-815" -> BillRef."""
    parts = key.strip().lower().split("-")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit():
        raise ValueError(f"not a bill key (expected e.g. 118-hr-815): {key!r}")
    return BillRef(int(parts[0]), parts[1], int(parts[2]))


# Members ----------------------------------------------------------------------------------------


def refresh_members(
    *,
    run_id: int | None = None,
    trigger: str = "schedule",
    progress: Progress | None = None,
    raise_retryable: bool = False,
) -> FeedRun:
    """Create and update senators and representatives from legislators-current."""
    recorder = _begin(
        FeedSource.MEMBERS, "current", run_id=run_id, trigger=trigger, progress=progress
    )
    if recorder.run.status == FeedRunStatus.SKIPPED:
        return recorder.run
    with _guarded(recorder):
        try:
            people = legislators.fetch_current()
        except FeedError as error:
            return _fail(recorder, "legislators-current", error, raise_retryable=raise_retryable)
        recorder.run.fetched = len(people)
        recorder.total(len(people))
        for person in people:
            try:
                outcome = ingest_legislator(person)
            except IngestError as error:
                recorder.error(person.bioguide_id, str(error))
                continue
            recorder.count(outcome)
        if not recorder.run.errors:
            left = record_departures(people, on=timezone.localdate())
            if left:
                recorder.run.message = f"{left} member(s) no longer listed: marked as having left."
        return _finish(recorder)


# One source by its key --------------------------------------------------------------------------


def refresh(source: str, scope: str | list[str] | None = None, **options: object) -> FeedRun:
    """Refresh `source` (a key of tracker.feeds.sources) through the function below that its
    registry entry names. `scope` says what, in the source's own words (bill keys, "118-2",
    "2024"); none means what the negotiation follows now. A malformed scope raises ValueError."""
    if source not in BY_KEY:
        raise ValueError(f"unknown feed source {source!r}")
    entry_point = getattr(sys.modules[__name__], BY_KEY[source].refresh)
    return entry_point(scope or None, **options)


def refresh_bills_by_key(scope: str | list[str] | None, **options: object) -> FeedRun:
    keys = scope.split(",") if isinstance(scope, str) else scope
    for key in keys or []:
        _bill_ref(key)  # refuses a malformed key before any run is recorded
    return refresh_bills(keys, **options)


def refresh_senate_session(scope: str | None, **options: object) -> FeedRun:
    if scope is None:
        congress_number, session = current_session()
    else:
        congress_number, _, session_text = scope.partition("-")
        if not (congress_number.isdigit() and session_text in {"1", "2", "3"}):
            raise ValueError(f'a Senate session looks like "118-2", not {scope!r}')
        congress_number, session = int(congress_number), int(session_text)
    return refresh_senate(congress_number, session, **options)


def refresh_house_year(scope: str | None, **options: object) -> FeedRun:
    if scope is not None and not str(scope).isdigit():
        raise ValueError(f"a House year looks like 2024, not {scope!r}")
    return refresh_house(int(scope) if scope else current_year(), **options)


def refresh_legislators(scope: None, *, recheck_all: bool = False, **options: object) -> FeedRun:
    # The members file is always read whole: there is nothing more to re-check.
    return refresh_members(**options)
