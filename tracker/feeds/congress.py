"""Congress.gov API v3: a bill, its actions, and the sub-resources staff read beside them.

Reference: https://github.com/LibraryOfCongress/api.congress.gov (README, Documentation/
BillEndpoint.md). The key travels in the X-Api-Key header, never in a URL or a log line;
`pagination.next` lacks it, so it is sent again on every page. Bills are keyed by congress, type
(lower case) and number; every list response carries `pagination` (count, next).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from django.conf import settings

from tracker.feeds import client
from tracker.feeds.roll_calls import BillRef

PAGE_LIMIT = 250
# Stop a run well before the hourly quota (5,000) runs out; the rest waits for the next run.
RATE_LIMIT_FLOOR = 50
_MAX_PAGES = 200


class CongressFeedError(client.FeedError):
    """Congress.gov answered something we cannot use."""


class BillNotFound(CongressFeedError):
    """No such bill. The API says so with a 404, or for some numbers with a 500 and an error body;
    neither is retried, and neither touches stored data."""


class KeyRefused(CongressFeedError):
    """401/403: the API key is missing, wrong or revoked. Every further request would fail."""


class RateLimitLow(client.FeedUnavailable):
    """X-Ratelimit-Remaining fell under the floor: wait for the hourly window to roll over."""


@dataclass(frozen=True)
class CostEstimateRecord:
    """One entry of a bill item's `cboCostEstimates`: CBO's title, what it scored (its own
    words, e.g. "As passed by the Senate on February 13, 2024"), when it was published, and the
    link to it on cbo.gov."""

    title: str
    description: str
    published_at: datetime | None
    url: str


@dataclass(frozen=True)
class BillRecord:
    congress: int
    bill_type: str
    number: int
    title: str
    origin_chamber: str
    introduced_on: date | None
    updated_at: datetime | None
    updated_including_text_at: datetime | None
    latest_action_on: date | None
    latest_action_text: str
    public_law: str
    action_count: int | None
    cost_estimates: tuple[CostEstimateRecord, ...] = ()

    @property
    def changed_at(self) -> datetime | None:
        """The later of updateDate and updateDateIncludingText: a new text moves only the latter."""
        stamps = [stamp for stamp in (self.updated_at, self.updated_including_text_at) if stamp]
        return max(stamps) if stamps else None

    @property
    def ref(self) -> BillRef:
        return BillRef(self.congress, self.bill_type, self.number)


@dataclass(frozen=True)
class RecordedVoteRef:
    chamber: str
    congress: int
    session: int
    roll_number: int


@dataclass(frozen=True)
class ActionRecord:
    acted_on: date
    acted_at_time: time | None
    text: str
    action_type: str
    action_code: str
    source_system_code: int | None
    recorded_votes: tuple[RecordedVoteRef, ...] = ()


@dataclass(frozen=True)
class ActionList:
    actions: tuple[ActionRecord, ...]
    # The API's own total; a shorter list means a page went missing and must not replace ours.
    published_count: int | None

    @property
    def complete(self) -> bool:
        return self.published_count is None or self.published_count == len(self.actions)


@dataclass(frozen=True)
class CosponsorRecord:
    bioguide_id: str
    full_name: str
    party: str
    state: str
    district: int | None
    sponsored_on: date | None
    is_original: bool
    withdrawn_on: date | None


@dataclass(frozen=True)
class AmendmentRecord:
    congress: int
    amendment_type: str
    number: int
    purpose: str
    description: str
    latest_action_on: date | None
    latest_action_text: str
    updated_at: datetime | None


@dataclass(frozen=True)
class TitleRecord:
    title: str
    title_type: str


@dataclass(frozen=True)
class SummaryRecord:
    version_code: str
    acted_on: date | None
    action_desc: str
    updated_at: datetime | None
    text: str


@dataclass(frozen=True)
class TextVersionRecord:
    version_type: str
    dated: datetime | None
    urls: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class BillDetails:
    """Everything besides actions that a bill refresh stores, each list complete as published."""

    amendments: tuple[AmendmentRecord, ...]
    cosponsors: tuple[CosponsorRecord, ...]
    titles: tuple[TitleRecord, ...]
    summaries: tuple[SummaryRecord, ...]
    texts: tuple[TextVersionRecord, ...]
    # The parts whose list is as long as the API's own count: only these may remove rows.
    complete: frozenset[str] = frozenset(
        {"amendments", "cosponsors", "titles", "summaries", "texts"}
    )


# Fetching -------------------------------------------------------------------------------------


def bill_path(ref: BillRef) -> str:
    return f"bill/{ref.congress}/{ref.bill_type}/{ref.number}"


def fetch_bill(ref: BillRef) -> BillRecord:
    """GET /bill/{congress}/{type}/{number}: the bill item.

    Reference: https://github.com/LibraryOfCongress/api.congress.gov/blob/main/Documentation/BillEndpoint.md
    """
    payload = _get_json(bill_path(ref), item=ref.key)
    return parse_bill(payload)


def fetch_actions(ref: BillRef) -> ActionList:
    """GET /bill/.../actions, every page."""
    items, published = _get_all(f"{bill_path(ref)}/actions", "actions", item=ref.key)
    return ActionList(tuple(parse_action(item) for item in items), published)


def _parse_title(item: dict) -> TitleRecord:
    return TitleRecord(title=_str(item.get("title")), title_type=_str(item.get("titleType")))


def fetch_details(ref: BillRef) -> BillDetails:
    """The five sub-resources, each every page; any one failing fails the whole (nothing stored).

    A list shorter than the API's own count (a page went missing) is kept but marked incomplete,
    so it adds and updates rows and never removes one.
    """
    # part of BillDetails -> (path under the bill, list key in the payload, item parser)
    sources: dict[str, tuple[str, str, Callable[[dict], Any]]] = {
        "amendments": ("amendments", "amendments", parse_amendment),
        "cosponsors": ("cosponsors", "cosponsors", parse_cosponsor),
        "titles": ("titles", "titles", _parse_title),
        "summaries": ("summaries", "summaries", parse_summary),
        "texts": ("text", "textVersions", parse_text_version),
    }
    parts: dict[str, tuple] = {}
    complete = set()
    for part, (path, list_key, parse) in sources.items():
        items, published = _get_all(f"{bill_path(ref)}/{path}", list_key, item=ref.key)
        parts[part] = tuple(parse(item) for item in items)
        # >=: the cosponsor count leaves out withdrawn cosponsors, which the list still has.
        if published is None or len(items) >= published:
            complete.add(part)
    return BillDetails(**parts, complete=frozenset(complete))


class ListTooLong(CongressFeedError):
    """The bill list names more bills than asking for each followed bill would cost."""


def fetch_updated_bills(congress: int, since: datetime, *, at_most: int) -> set[BillRef]:
    """GET /bill/{congress}?fromDateTime=...: the bills whose updateDate moved since `since`.

    A page or two for every bill of a congress, so a run over unchanged bills costs one request
    in all instead of one item request per bill. Congress.gov re-stamps thousands of bills on
    some days: past `at_most` bills, ListTooLong says to ask for each followed bill instead.
    """
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    items, _ = _get_all(
        f"bill/{congress}",
        "bills",
        item=f"bill list {congress} since {stamp}",
        # Newest change first: a bill re-stamped while we page moves to the front, so the pages
        # after it repeat an entry rather than skip one (and the next run lists it again).
        params={"fromDateTime": stamp, "sort": "updateDate desc"},
        max_count=at_most,
    )
    refs = set()
    for item in items:
        try:
            refs.add(BillRef(int(item["congress"]), str(item["type"]).lower(), int(item["number"])))
        except (KeyError, TypeError, ValueError):
            raise CongressFeedError(f"bill list {congress}: an entry without identity") from None
    return refs


def _get_json(path_or_url: str, *, item: str, params: dict[str, str] | None = None) -> dict:
    url = path_or_url
    if not url.startswith(("http://", "https://")):
        url = f"{settings.CONGRESS_API_BASE_URL.rstrip('/')}/{path_or_url}"
        params = {"format": "json", **(params or {})}
    headers = {"Accept": "application/json"}
    if settings.CONGRESS_API_KEY:
        headers["X-Api-Key"] = settings.CONGRESS_API_KEY
    try:
        # 404 and 500 come back here so a "no such bill" answer is not retried as an outage.
        response = client.get(
            url, params=params, headers=headers, allow_statuses=frozenset({404, 500})
        )
    except client.FeedHTTPError as error:
        if error.status in {401, 403}:
            raise KeyRefused(
                f"{item}: Congress.gov refused the API key (HTTP {error.status}: "
                f"{_error_code(error.body)})"
            ) from None
        raise
    remaining = response.headers.get("x-ratelimit-remaining", "")
    if response.status == 404:
        raise BillNotFound(f"{item}: not found ({_error_code(response.body)})")
    payload = _decode(response.body, item=item)
    if response.status == 500:
        if isinstance(payload, dict) and "error" in payload:
            raise BillNotFound(
                f"{item}: the API failed on it (HTTP 500: {payload['error']!s:.120})"
            )
        raise client.FeedUnavailable(f"{item}: Congress.gov answered HTTP 500")
    if remaining.isdigit() and int(remaining) < RATE_LIMIT_FLOOR:
        raise RateLimitLow(f"{item}: only {remaining} requests left this hour")
    if not isinstance(payload, dict):
        raise CongressFeedError(f"{item}: expected a JSON object")
    return payload


def _get_all(
    path: str,
    list_key: str,
    *,
    item: str,
    params: dict[str, str] | None = None,
    max_count: int | None = None,
) -> tuple[list[dict], int | None]:
    payload = _get_json(path, item=item, params={"limit": str(PAGE_LIMIT), **(params or {})})
    items: list[dict] = []
    published = None
    for _ in range(_MAX_PAGES):
        page = payload.get(list_key)
        if not isinstance(page, list):
            raise CongressFeedError(f"{item}: no {list_key} list in the response")
        items.extend(entry for entry in page if isinstance(entry, dict))
        pagination = payload.get("pagination") or {}
        if isinstance(pagination.get("count"), int):
            published = pagination["count"]
            if max_count is not None and published > max_count:
                raise ListTooLong(f"{item}: {published} entries, more than {max_count}")
        next_url = pagination.get("next")
        if not next_url:
            return items, published
        payload = _get_json(next_url, item=item)
    raise CongressFeedError(f"{item}: more than {_MAX_PAGES} pages of {list_key}")


def _decode(body: bytes, *, item: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise CongressFeedError(f"{item}: malformed JSON ({error})") from None


def _error_code(body: bytes) -> str:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "no detail"
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or "no detail")
    return str(error or "no detail")[:120]


# Parsing --------------------------------------------------------------------------------------


def parse_bill(payload: dict) -> BillRecord:
    bill = payload.get("bill")
    if not isinstance(bill, dict):
        raise CongressFeedError("bill item: no 'bill' object")
    try:
        ref = BillRef(int(bill["congress"]), str(bill["type"]).lower(), int(bill["number"]))
    except (KeyError, TypeError, ValueError) as error:
        raise CongressFeedError(f"bill item: bad identity ({error})") from None
    latest = bill.get("latestAction") or {}
    laws = bill.get("laws") or []
    public_law = next(
        (str(law.get("number")) for law in laws if isinstance(law, dict) and law.get("number")), ""
    )
    actions = bill.get("actions") or {}
    return BillRecord(
        congress=ref.congress,
        bill_type=ref.bill_type,
        number=ref.number,
        title=_str(bill.get("title")),
        origin_chamber=_str(bill.get("originChamber")),
        introduced_on=_date(bill.get("introducedDate"), ref.key),
        updated_at=_datetime(bill.get("updateDate"), ref.key),
        updated_including_text_at=_datetime(bill.get("updateDateIncludingText"), ref.key),
        latest_action_on=_date(latest.get("actionDate"), ref.key),
        latest_action_text=_str(latest.get("text")),
        public_law=public_law,
        action_count=actions.get("count") if isinstance(actions, dict) else None,
        cost_estimates=parse_cost_estimates(bill, ref.key),
    )


def parse_cost_estimates(bill: dict, item: str = "bill item") -> tuple[CostEstimateRecord, ...]:
    """The bill item's `cboCostEstimates` list: `{title, description, pubDate, url}` each, the
    description ending in a newline as CBO writes it. An entry without a web link or a title is
    left out (it cannot be shown or told apart); a missing list is an empty one.

    Reference: https://github.com/LibraryOfCongress/api.congress.gov/blob/main/Documentation/BillEndpoint.md
    """
    entries = bill.get("cboCostEstimates") or []
    if not isinstance(entries, list):
        raise CongressFeedError(f"{item}: cboCostEstimates is not a list")
    estimates = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        url, title = _str(entry.get("url")), " ".join(_str(entry.get("title")).split())
        if not title or not url.lower().startswith(("https://", "http://")):
            continue
        estimates.append(
            CostEstimateRecord(
                title=title,
                description=_str(entry.get("description")),
                published_at=_datetime(entry.get("pubDate"), f"{item} CBO estimate"),
                url=url,
            )
        )
    return tuple(estimates)


def parse_action(item: dict) -> ActionRecord:
    acted_on = _date(item.get("actionDate"), "action")
    if acted_on is None or not _str(item.get("text")):
        raise CongressFeedError(f"action without a date or text: {str(item)[:120]}")
    source = item.get("sourceSystem") or {}
    code = source.get("code") if isinstance(source, dict) else None
    votes = []
    for vote in item.get("recordedVotes") or []:
        try:
            votes.append(
                RecordedVoteRef(
                    chamber=str(vote["chamber"]).lower(),
                    congress=int(vote["congress"]),
                    session=int(vote["sessionNumber"]),
                    roll_number=int(vote["rollNumber"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue  # A broken vote link does not make the action itself wrong.
    action_time = _str(item.get("actionTime"))
    return ActionRecord(
        acted_on=acted_on,
        acted_at_time=time.fromisoformat(action_time) if action_time else None,
        text=" ".join(_str(item.get("text")).split()),
        action_type=_str(item.get("type")),
        action_code=_str(item.get("actionCode")),
        source_system_code=int(code)
        if isinstance(code, int | str) and str(code).isdigit()
        else None,
        recorded_votes=tuple(votes),
    )


def parse_cosponsor(item: dict) -> CosponsorRecord:
    district = item.get("district")
    return CosponsorRecord(
        bioguide_id=_str(item.get("bioguideId")),
        full_name=_str(item.get("fullName")),
        party=_str(item.get("party")),
        state=_str(item.get("state")),
        district=district if isinstance(district, int) else None,
        sponsored_on=_date(item.get("sponsorshipDate"), "cosponsor"),
        is_original=bool(item.get("isOriginalCosponsor")),
        withdrawn_on=_date(item.get("sponsorshipWithdrawnDate"), "cosponsor"),
    )


def parse_amendment(item: dict) -> AmendmentRecord:
    latest = item.get("latestAction") or {}
    return AmendmentRecord(
        congress=int(item.get("congress") or 0),
        amendment_type=_str(item.get("type")).lower(),
        number=int(item.get("number") or 0),
        purpose=_str(item.get("purpose")),
        description=_str(item.get("description")),
        latest_action_on=_date(latest.get("actionDate"), "amendment"),
        latest_action_text=_str(latest.get("text")),
        updated_at=_datetime(item.get("updateDate"), "amendment"),
    )


def parse_summary(item: dict) -> SummaryRecord:
    return SummaryRecord(
        version_code=_str(item.get("versionCode")),
        acted_on=_date(item.get("actionDate"), "summary"),
        action_desc=_str(item.get("actionDesc")),
        updated_at=_datetime(item.get("updateDate"), "summary"),
        text=item.get("text") or "",
    )


def parse_text_version(item: dict) -> TextVersionRecord:
    formats = tuple(
        (_str(f.get("type")), _str(f.get("url")))
        for f in item.get("formats") or []
        # Shown as links: anything but a web address (javascript:, data:) is dropped.
        if isinstance(f, dict) and _str(f.get("url")).lower().startswith(("https://", "http://"))
    )
    return TextVersionRecord(
        version_type=_str(item.get("type")),
        dated=_datetime(item.get("date"), "text version"),
        urls=formats,
    )


def _str(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _date(value: object, item: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise CongressFeedError(f"{item}: unreadable date {value!r}") from None


def _datetime(value: object, item: str) -> datetime | None:
    """Both "2022-04-03" (list level) and "2022-09-29T03:27:05Z" (item level) occur."""
    if not value:
        return None
    text = str(value)
    try:
        if len(text) == 10:
            return datetime.fromisoformat(f"{text}T00:00:00+00:00")
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CongressFeedError(f"{item}: unreadable timestamp {value!r}") from None
