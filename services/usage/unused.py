"""The unused-collateral report: which published assets nobody used, why, and what to act on first.

Every published asset matching the asset-level filters (owner, type) is evaluated for the
window (reasons in `reports.unused_reason`, usage and impressions from `reports._usage_of`),
then the age band and reason filters apply, the rows are sorted and one page is cut out.
Evaluating the whole filtered catalog on every call is what makes three things exact at
once: the per-reason counts (the summary a marketer filters by), any sort order over
computed figures (impressions, last use, age), and page boundaries that never skip or
repeat a row. The catalog view is read 500 assets per search, so memory is bounded by the
number of published assets of the filter, not by their documents.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterator

from elasticsearch import Elasticsearch
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import usage_pb2
from services.common import errors, pagination, validation
from services.common.contracts import times
from services.usage import reports
from services.usage.store import Names

SCAN_SIZE = 500
MAX_AGE_DAYS = 100_000
NEVER = float("-inf")  # last use of a never-used asset: older than any real one


@dataclass(frozen=True)
class UnusedFilters:
    """What a caller asked for, validated."""

    reasons: frozenset[str]
    owner: str
    asset_types: tuple[str, ...]
    min_age_days: int
    max_age_days: int
    sort: int
    descending: bool

    def fingerprint(self, start: datetime, end: datetime) -> str:
        """Ties a page token to the query it came from: a token replayed on other filters is refused."""
        body = json.dumps([sorted(self.reasons), self.owner, list(self.asset_types), self.min_age_days,
                           self.max_age_days, self.sort, self.descending, start.isoformat(), end.isoformat()])
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def in_age_band(self, age_days: int) -> bool:
        if self.min_age_days and age_days < self.min_age_days:
            return False
        return not (self.max_age_days and age_days > self.max_age_days)


@dataclass(frozen=True)
class UnusedRow:
    """One evaluated asset: the catalog document plus its figures for the window."""

    asset: dict[str, Any]
    reason: str
    age_days: int
    impressions: int
    rep_uses: int
    shares: int
    last_used_ms: float | None

    @property
    def asset_id(self) -> str:
        return str(self.asset["asset_id"])


SORT_KEYS: dict[int, Callable[[UnusedRow], Any]] = {
    usage_pb2.UNUSED_SORT_UNSPECIFIED: lambda r: r.asset_id,
    usage_pb2.UNUSED_SORT_AGE: lambda r: r.age_days,
    usage_pb2.UNUSED_SORT_OWNER: lambda r: str(r.asset.get("owner") or "").lower(),
    usage_pb2.UNUSED_SORT_TYPE: lambda r: str(r.asset.get("type") or ""),
    usage_pb2.UNUSED_SORT_LAST_USED: lambda r: NEVER if r.last_used_ms is None else r.last_used_ms,
    usage_pb2.UNUSED_SORT_IMPRESSIONS: lambda r: r.impressions,
}


def parse_filters(request: usage_pb2.ListUnusedAssetsRequest) -> UnusedFilters:
    """The request's filters, or INVALID_ARGUMENT naming the offending field."""
    reasons = set()
    for i, value in enumerate(validation.bounded(request.reasons, "reasons", validation.MAX_FILTER_VALUES)):
        if not value or value not in usage_pb2.UnusedReason.values():
            raise errors.InvalidArgument(f"reasons[{i}]", "unknown reason")
        reasons.add(usage_pb2.UnusedReason.Name(value).removeprefix("UNUSED_REASON_"))
    for name in ("min_age_days", "max_age_days"):
        if not 0 <= getattr(request, name) <= MAX_AGE_DAYS:
            raise errors.InvalidArgument(name, f"must be between 0 and {MAX_AGE_DAYS}")
    if request.max_age_days and request.min_age_days > request.max_age_days:
        raise errors.InvalidArgument("max_age_days", "must not be below min_age_days")
    if request.sort not in SORT_KEYS:
        raise errors.InvalidArgument("sort", "unknown sort")
    types = tuple(t.lower().removeprefix("asset_type_") for t in validation.labels(request.asset_types, "asset_types"))
    return UnusedFilters(frozenset(reasons), validation.identifier(request.owner, "owner", required=False), types,
                         request.min_age_days, request.max_age_days, request.sort, request.descending)


def age_days(asset: dict[str, Any], now: datetime) -> int:
    """Whole days since first publication, or since creation for an asset never published."""
    since = asset.get("published_at") or asset.get("created_at")
    return max(0, (now - times.parse_stored(since)).days) if since else 0


def _published_assets(es: Elasticsearch, names: Names, filters: UnusedFilters,
                      timeout_s: float) -> Iterator[list[dict[str, Any]]]:
    """Published assets of the catalog view matching owner and type, SCAN_SIZE at a time."""
    query: list[dict[str, Any]] = [{"term": {"status": "published"}}]
    if filters.owner:
        query.append({"term": {"owner": filters.owner}})
    if filters.asset_types:
        query.append({"terms": {"type": list(filters.asset_types)}})
    target = es.options(request_timeout=timeout_s)
    after: list[Any] | None = None
    while True:
        kwargs: dict[str, Any] = {"search_after": after} if after else {}
        response = target.search(index=names.catalog, size=SCAN_SIZE, query={"bool": {"filter": query}},
                                  sort=[{"asset_id": "asc"}], ignore_unavailable=True, **kwargs)
        hits = response["hits"]["hits"]
        if not hits:
            return
        yield [h["_source"] for h in hits]
        if len(hits) < SCAN_SIZE:
            return
        after = hits[-1]["sort"]


def evaluate(es: Elasticsearch, names: Names, start: datetime, end: datetime, filters: UnusedFilters,
             now: datetime, timeout_s: float) -> list[UnusedRow]:
    """Every unused asset matching the asset-level filters (owner, type, age band), any reason."""
    rows: list[UnusedRow] = []
    for assets in _published_assets(es, names, filters, timeout_s):
        window, last, impressions = reports.usage_of(es, names, [a["asset_id"] for a in assets], start, end,
                                                      timeout_s)
        for asset in assets:
            row = _row(asset, window, last, impressions, now)
            if row is not None and filters.in_age_band(row.age_days):
                rows.append(row)
    return rows


def _row(asset: dict[str, Any], window: dict[str, dict[str, int]], last: dict[str, float],
         impressions: dict[str, int], now: datetime) -> UnusedRow | None:
    asset_id = asset["asset_id"]
    use = window.get(asset_id, {"customer": 0, "shares": 0, "rep": 0})
    expires = asset.get("expires_at")
    reason = reports.unused_reason(
        expired=bool(expires) and times.parse_stored(expires) <= now, customer_uses=use["customer"],
        shares=use["shares"], rep_uses=use["rep"], impressions=impressions.get(asset_id, 0),
        ever_used=asset_id in last)
    if reason is None:
        return None
    return UnusedRow(asset, reason, age_days(asset, now), impressions.get(asset_id, 0), use["rep"], use["shares"],
                     last.get(asset_id))


def reason_counts(rows: list[UnusedRow]) -> dict[str, int]:
    """Rows per reason, in the order of `reports.REASONS` (reasons without rows left out)."""
    counts = {reason: 0 for reason in reports.REASONS}
    for row in rows:
        counts[row.reason] += 1
    return {reason: n for reason, n in counts.items() if n}


def ordered(rows: list[UnusedRow], sort: int, descending: bool) -> list[UnusedRow]:
    """Rows by the sort key, ties always by asset id ascending (Python's sort is stable, reversed too)."""
    by_id = sorted(rows, key=lambda r: r.asset_id)
    if sort == usage_pb2.UNUSED_SORT_UNSPECIFIED:
        return by_id[::-1] if descending else by_id
    key = SORT_KEYS[sort]
    if not descending:
        return sorted(by_id, key=key)
    # reverse=True keeps equal keys in their input order, so ties stay by ascending id.
    return sorted(by_id, key=key, reverse=True)


def _offset(secret: str, token: str, fingerprint: str) -> int:
    cursor = pagination.decode(secret, validation.page_token(token))
    if cursor is None:
        return 0
    if not isinstance(cursor, dict) or cursor.get("f") != fingerprint or not isinstance(cursor.get("o"), int) \
            or cursor["o"] < 0:
        raise errors.InvalidArgument("page_token", "page token of other filters, sort or window")
    return int(cursor["o"])


def _token(secret: str, offset: int, fingerprint: str) -> str:
    return pagination.encode(secret, {"o": offset, "f": fingerprint})


def answer(es: Elasticsearch, names: Names, request: usage_pb2.ListUnusedAssetsRequest, start: datetime,
           end: datetime, now: datetime, secret: str, timeout_s: float) -> usage_pb2.ListUnusedAssetsResponse:
    """ListUnusedAssets: the summary by reason, then one page of the filtered, sorted rows."""
    filters = parse_filters(request)
    size = pagination.clamp_page_size(request.page_size, default=50, maximum=500)
    fingerprint = filters.fingerprint(start, end)
    offset = _offset(secret, request.page_token, fingerprint)
    rows = evaluate(es, names, start, end, filters, now, timeout_s)
    counts = reason_counts(rows)
    chosen = [r for r in rows if not filters.reasons or r.reason in filters.reasons]
    page = ordered(chosen, filters.sort, filters.descending)[offset:offset + size]
    response = usage_pb2.ListUnusedAssetsResponse(
        assets=[to_proto(r) for r in page], total_size=len(chosen),
        reason_counts=[usage_pb2.UnusedReasonCount(reason=usage_pb2.UnusedReason.Value(f"UNUSED_REASON_{reason}"),
                                                   count=n) for reason, n in counts.items()])
    if offset + size < len(chosen):
        response.next_page_token = _token(secret, offset + size, fingerprint)
    if offset > 0:
        response.previous_page_token = _token(secret, max(0, offset - size), fingerprint)
    return response


def _timestamp(when: datetime | None) -> Timestamp | None:
    if when is None:
        return None
    out = Timestamp()
    out.FromDatetime(when)
    return out


def to_proto(row: UnusedRow) -> usage_pb2.UnusedAsset:
    a = row.asset
    out = usage_pb2.UnusedAsset(
        asset_id=row.asset_id, title=a.get("title", ""), owner=a.get("owner", ""), type=a.get("type", ""),
        reason=usage_pb2.UnusedReason.Value(f"UNUSED_REASON_{row.reason}"), age_days=row.age_days,
        impressions=row.impressions, rep_uses=row.rep_uses, shares=row.shares)
    for name, value in (("published_at", a.get("published_at")), ("expires_at", a.get("expires_at"))):
        if value:
            getattr(out, name).CopyFrom(_timestamp(times.parse_stored(value)))
    if row.last_used_ms is not None:
        out.last_used_at.FromMilliseconds(int(row.last_used_ms))
    return out
