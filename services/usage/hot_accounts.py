"""Hot accounts: the accounts whose customers read a rep's shared content recently, by engaged time.

Computed from the raw usage events (the same source as a share link's open statistics in
`shares.ShareStore.stats`: `customer_open` counts opens, `page_view` seconds are engaged time,
and the stored bot verdict `is_bot` excludes scanners, previews and floods). Every customer
event of a rep's links counts, whichever link carried it: a share link, a deal room, or any
future link that records customer events with the rep and the account (or opportunity).

An event names its account by `account_id`; a link sent for an opportunity only names no
account, so its events are grouped under the opportunity instead (a "group" below is one of
the two). Two Elasticsearch passes, never raw events in Python:

1. ranking: composite aggregations over every group in the window (exact, any number of
   groups), keeping only the best `offset + page_size + 1` in a bounded heap;
2. details of the page's groups only: assets (most engaged time first) and their pages.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from elasticsearch import Elasticsearch
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import common_pb2, usage_pb2
from services.common import auth, errors, es as es_util, pagination, validation
from services.usage import model, reports
from services.usage.store import Names

ACCOUNT = "account"
OPPORTUNITY = "opportunity"
MAX_ASSETS = 20  # per account: a page of accounts stays a bounded answer
MAX_PAGES = 100  # per asset
MAX_OFFSET = 10_000  # deepest row a page token may start at (bounds the ranking heap)
MAX_WINDOW_DAYS = 90
DEFAULT_WINDOW_DAYS = 7
CUSTOMER_TYPES = sorted(model.CUSTOMER_TYPES)  # customer_open, page_view, customer_download


@dataclass(frozen=True, order=True)
class GroupKey:
    """An account (`kind` ACCOUNT) or, for links sent for an opportunity only, that opportunity."""

    kind: str
    value: str


@dataclass
class AssetRead:
    asset_id: str
    engaged_seconds: float
    opens: int
    pages: list[tuple[int, float, int]]  # (page, seconds, views), most-read first
    title: str = ""


@dataclass
class HotAccount:
    key: GroupKey
    engaged_seconds: float
    opens: int
    distinct_viewers: int
    last_opened_ms: float | None
    last_active_ms: float | None
    rank: int = 0
    rep_ids: list[str] = field(default_factory=list)
    assets: list[AssetRead] = field(default_factory=list)
    display_name: str = ""


@dataclass
class HotPage:
    accounts: list[HotAccount]
    more: bool


def base_filters(start: datetime, end: datetime, rep_id: str) -> list[dict[str, Any]]:
    """Human customer events of the window (of one rep's links when `rep_id` is set)."""
    filters: list[dict[str, Any]] = [reports.time_filter(start, end), {"terms": {"type": CUSTOMER_TYPES}},
                                     {"term": {"is_bot": False}}]
    if rep_id:
        filters.append({"term": {"rep_id": rep_id}})
    return filters


def group_query(kind: str, filters: list[dict[str, Any]], values: list[str] | None = None) -> dict[str, Any]:
    """Events of one kind of group: with an account, or with an opportunity and no account."""
    own = list(filters)
    must_not: list[dict[str, Any]] = []
    if kind == ACCOUNT:
        own.append({"exists": {"field": "account_id"}})
    else:
        own.append({"exists": {"field": "opportunity_id"}})
        must_not.append({"exists": {"field": "account_id"}})
    if values is not None:
        own.append({"terms": {group_field(kind): values}})
    return {"bool": {"filter": own, "must_not": must_not}}


def group_field(kind: str) -> str:
    return "account_id" if kind == ACCOUNT else "opportunity_id"


def ranking_aggs() -> dict[str, Any]:
    """Per group: engaged seconds, opens (with distinct clients and the last one), last activity."""
    return {
        "engaged": {"filter": {"term": {"type": "page_view"}}, "aggs": {"s": {"sum": {"field": "seconds"}}}},
        "opens": {"filter": {"term": {"type": "customer_open"}}, "aggs": {
            "last": {"max": {"field": "occurred_at"}},
            "viewers": {"cardinality": {"field": "ip_hash", "precision_threshold": 3000}},
        }},
        "last": {"max": {"field": "occurred_at"}},
    }


def account_of(key: GroupKey, bucket: dict[str, Any]) -> HotAccount:
    opens = bucket["opens"]
    return HotAccount(
        key=key, engaged_seconds=round(float(bucket["engaged"]["s"]["value"] or 0.0), 3),
        opens=int(opens["doc_count"]), distinct_viewers=int(opens["viewers"]["value"] or 0),
        last_opened_ms=opens["last"]["value"] if opens["doc_count"] else None,
        last_active_ms=bucket["last"]["value"])


def rank_key(account: HotAccount) -> tuple[float, int, float, GroupKey]:
    """Most engaged time first; ties by opens, then the latest activity, then the id (a total order)."""
    return -account.engaged_seconds, -account.opens, -(account.last_active_ms or 0.0), account.key


def best(accounts: Iterable[HotAccount], keep: int) -> list[HotAccount]:
    """The `keep` best accounts in rank order, holding at most about 2 x `keep` in memory."""
    kept: list[HotAccount] = []
    for account in accounts:
        kept.append(account)
        if len(kept) >= 2 * keep + 1000:
            kept = heapq.nsmallest(keep, kept, key=rank_key)
    return heapq.nsmallest(keep, kept, key=rank_key)


def ranked_groups(es: Elasticsearch, names: Names, filters: list[dict[str, Any]],
                  timeout_s: float) -> Iterable[HotAccount]:
    """Every group of the window with its totals (composite aggregations: exact, paged)."""
    target = es.options(request_timeout=timeout_s)
    for kind in (ACCOUNT, OPPORTUNITY):
        for b in es_util.composite_buckets(target, names.events, group_query(kind, filters),
                                           [es_util.terms_source(group_field(kind))], ranking_aggs()):
            yield account_of(GroupKey(kind, b["key"]["k"]), b)


def page_aggs() -> dict[str, Any]:
    """Per group of a page: its reps and its assets (most engaged first) with their pages (most read first)."""
    engaged = {"filter": {"term": {"type": "page_view"}}, "aggs": {"s": {"sum": {"field": "seconds"}}}}
    return {
        "reps": {"terms": {"field": "rep_id", "size": 100, "order": {"_key": "asc"}}},
        "assets": {
            "terms": {"field": "asset_id", "size": MAX_ASSETS,
                      "order": [{"engaged>s": "desc"}, {"opens": "desc"}, {"_key": "asc"}]},
            "aggs": {
                "engaged": engaged,
                "opens": {"filter": {"term": {"type": "customer_open"}}},
                "pages": {"filter": {"term": {"type": "page_view"}}, "aggs": {"by_page": {
                    "terms": {"field": "page", "size": MAX_PAGES, "order": [{"s": "desc"}, {"_key": "asc"}]},
                    "aggs": {"s": {"sum": {"field": "seconds"}}}}}},
            },
        },
    }


def assets_of(bucket: dict[str, Any]) -> list[AssetRead]:
    return [AssetRead(asset_id=a["key"], engaged_seconds=round(float(a["engaged"]["s"]["value"] or 0.0), 3),
                      opens=int(a["opens"]["doc_count"]),
                      pages=[(int(p["key"]), round(float(p["s"]["value"] or 0.0), 3), int(p["doc_count"]))
                             for p in a["pages"]["by_page"]["buckets"]])
            for a in bucket["assets"]["buckets"]]


def fill_details(es: Elasticsearch, names: Names, filters: list[dict[str, Any]], accounts: list[HotAccount],
                 timeout_s: float) -> None:
    """Reps and assets of the page's groups: one search per kind of group present, aggregations only."""
    target = es.options(request_timeout=timeout_s)
    for kind in (ACCOUNT, OPPORTUNITY):
        of_kind = {a.key.value: a for a in accounts if a.key.kind == kind}
        if not of_kind:
            continue
        response = target.search(
            index=names.events, size=0, ignore_unavailable=True, allow_no_indices=True, track_total_hits=False,
            query=group_query(kind, filters, sorted(of_kind)),
            aggs={"g": {"terms": {"field": group_field(kind), "size": len(of_kind)}, "aggs": page_aggs()}})
        for b in (response.get("aggregations") or {}).get("g", {}).get("buckets", []):
            account = of_kind.get(b["key"])
            if account is not None:
                account.rep_ids = [r["key"] for r in b["reps"]["buckets"]]
                account.assets = assets_of(b)


def display_names(es: Elasticsearch, names: Names, keys: list[GroupKey], timeout_s: float) -> dict[GroupKey, str]:
    """Names to show for accounts (and opportunities standing in for them); missing keys show their id.

    The CRM's account and opportunity names belong to the feedback service, which the usage
    service does not call, so this answers nothing: the portal names the page's ids itself
    (services/portal/opportunities.deal_names). Names carried by events or links would be
    resolved here (one bounded lookup for the page's keys).
    """
    return {}


def list_hot_accounts(es: Elasticsearch, names: Names, start: datetime, end: datetime, rep_id: str, offset: int,
                      size: int, timeout_s: float) -> HotPage:
    """One page of hot accounts in rank order, starting at row `offset`, with assets, titles and names."""
    filters = base_filters(start, end, rep_id)
    top = best(ranked_groups(es, names, filters, timeout_s), offset + size + 1)
    page = top[offset:offset + size]
    for i, account in enumerate(page):
        account.rank = offset + i + 1
    fill_details(es, names, filters, page, timeout_s)
    catalog = reports.titles(es, names, sorted({a.asset_id for acc in page for a in acc.assets}), timeout_s)
    for account in page:
        for asset in account.assets:
            asset.title = catalog.get(asset.asset_id, {}).get("title", "")
    found = display_names(es, names, [a.key for a in page], timeout_s)
    for account in page:
        account.display_name = found.get(account.key, "")
    return HotPage(accounts=page, more=len(top) > offset + size)


# ---- the RPC: request checks, page tokens, the response ------------------------------------------

@dataclass(frozen=True)
class Query:
    """A checked ListHotAccounts request: the window, whose links, and where the page starts."""

    start: datetime
    end: datetime
    rep_id: str
    offset: int
    size: int


def window_days(requested: int) -> int:
    if requested == 0:
        return DEFAULT_WINDOW_DAYS
    if not 1 <= requested <= MAX_WINDOW_DAYS:
        raise errors.InvalidArgument("window_days", f"must be between 1 and {MAX_WINDOW_DAYS}")
    return requested


def rep_scope(requested: str, principal: auth.Principal) -> str:
    """Whose links: reps only their own (PERMISSION_DENIED for another's); curators any rep, or all when empty."""
    rep_id = validation.identifier(requested, "rep_id", required=False)
    if principal.is_curator:
        return rep_id
    if rep_id and rep_id != principal.subject:
        raise errors.PermissionDenied("rep_id: reps see the hot accounts of their own links only")
    return principal.subject


def read_cursor(secret: str, token: str) -> tuple[int, int] | None:
    """(window end in ms, offset) from a page token; the window stays where the first page put it."""
    cursor = pagination.decode(secret, validation.page_token(token))
    if cursor is None:
        return None
    if not (isinstance(cursor, list) and len(cursor) == 2 and all(type(v) is int for v in cursor)
            and 0 < cursor[0] < 10**14 and 0 <= cursor[1] <= MAX_OFFSET):
        raise errors.InvalidArgument("page_token", "malformed page token")
    return cursor[0], cursor[1]


def parse_request(request: usage_pb2.ListHotAccountsRequest, principal: auth.Principal, secret: str,
                  now: datetime) -> Query:
    days = window_days(request.window_days)
    rep_id = rep_scope(request.rep_id, principal)
    size = pagination.clamp_page_size(request.page_size, default=20, maximum=100)
    cursor = read_cursor(secret, request.page_token)
    end, offset = (now, 0) if cursor is None else (datetime.fromtimestamp(cursor[0] / 1000, timezone.utc), cursor[1])
    return Query(start=end - timedelta(days=days), end=end, rep_id=rep_id, offset=offset, size=size)


def _ts_of_ms(value: float | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromMilliseconds(int(value))
    return ts


def _ts(when: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(when)
    return ts


def account_message(account: HotAccount) -> usage_pb2.HotAccount:
    return usage_pb2.HotAccount(
        account_id=account.key.value if account.key.kind == ACCOUNT else "",
        opportunity_id=account.key.value if account.key.kind == OPPORTUNITY else "",
        display_name=account.display_name, engaged_seconds=account.engaged_seconds, opens=account.opens,
        distinct_viewers=account.distinct_viewers, last_opened_at=_ts_of_ms(account.last_opened_ms),
        last_active_at=_ts_of_ms(account.last_active_ms), rank=account.rank, rep_ids=account.rep_ids,
        assets=[usage_pb2.HotAccountAsset(
            asset_id=a.asset_id, title=a.title, engaged_seconds=a.engaged_seconds, opens=a.opens,
            pages=[usage_pb2.PageTime(page=p, seconds=sec, views=n) for p, sec, n in a.pages])
            for a in account.assets])


def answer(es: Elasticsearch, names: Names, request: usage_pb2.ListHotAccountsRequest, principal: auth.Principal,
           secret: str, timeout_s: float) -> usage_pb2.ListHotAccountsResponse:
    """ListHotAccounts: check the request, rank, and page (the token keeps the first page's window end)."""
    query = parse_request(request, principal, secret, datetime.now(timezone.utc))
    page = list_hot_accounts(es, names, query.start, query.end, query.rep_id, query.offset, query.size, timeout_s)
    token = ""
    if page.more and query.offset + query.size <= MAX_OFFSET:
        token = pagination.encode(secret, [int(query.end.timestamp() * 1000), query.offset + query.size])
    return usage_pb2.ListHotAccountsResponse(
        accounts=[account_message(a) for a in page.accounts], next_page_token=token,
        window=common_pb2.TimeRange(start=_ts(query.start), end=_ts(query.end)))
