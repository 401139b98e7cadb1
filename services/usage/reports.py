"""Usage reports, computed by Elasticsearch aggregations over the raw events.

Reports read the raw events (deduplicated, bot-flagged) rather than the daily rollups,
so any time range is exact to the millisecond and any event-level segment (team,
region) can filter; the aggregations run inside Elasticsearch and only buckets come
back. Per-asset listings use composite aggregations, which page through any number of
assets exactly (a terms aggregation is approximate across shards and capped).
Asset-level segments (buying stage, asset type, industry, product) come from the
service's catalog view (`usage-catalog`).
"""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import Any, Iterator

from elasticsearch import Elasticsearch

from services.common import es as es_util
from services.usage import model
from services.usage.store import Names

MAX_TERMS = 50_000  # below index.max_terms_count (65536)

# Measure -> (event filter, value aggregation or None for doc_count)
MEASURES: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]] = {
    "views": ({"term": {"type": "view"}}, None),
    "downloads": ({"term": {"type": "download"}}, None),
    "shares": ({"terms": {"type": sorted(model.SHARE_TYPES)}}, None),
    "customer_opens": ({"term": {"type": "customer_open"}}, None),
    "presents": ({"term": {"type": "present"}}, None),
    "unique_reps": (None, {"cardinality": {"field": "rep_id", "precision_threshold": 3000}}),
    "unique_accounts": ({"exists": {"field": "account_id"}},
                        {"cardinality": {"field": "account_id", "precision_threshold": 3000}}),
    "seconds_read": ({"term": {"type": "page_view"}}, {"sum": {"field": "seconds"}}),
    "total_events": (None, None),
}

REASONS = ("NEVER_USED", "NEVER_SHOWN_IN_SEARCH", "SHOWN_NOT_OPENED", "DOWNLOADED_NOT_SHARED",
           "SHARED_NOT_OPENED_BY_CUSTOMER", "EXPIRED")
CUSTOMER_USE_TYPES = ("customer_open", "page_view", "customer_download", "present")


def time_filter(start: datetime, end: datetime) -> dict[str, Any]:
    return {"range": {"occurred_at": {"gte": model.iso(start), "lt": model.iso(end)}}}


def summary_aggs() -> dict[str, Any]:
    return {
        "human": {"filter": {"term": {"is_bot": False}}, "aggs": {
            "types": {"terms": {"field": "type", "size": len(model.TYPES) + 5}},
            "seconds": {"sum": {"field": "seconds"}},
            "reps": {"cardinality": {"field": "rep_id", "precision_threshold": 3000}},
            "accounts": {"cardinality": {"field": "account_id", "precision_threshold": 3000}},
        }},
        "bots": {"filter": {"term": {"is_bot": True}}},
    }


def read_summary(bucket: dict[str, Any]) -> dict[str, Any]:
    human = bucket["human"]
    counts = {b["key"]: b["doc_count"] for b in human["types"]["buckets"]}
    return {
        "counts": counts,
        "unique_reps": int(human["reps"]["value"]),
        "unique_accounts": int(human["accounts"]["value"]),
        "customer_opens": counts.get("customer_open", 0),
        "bot_events": bucket["bots"]["doc_count"],
        "seconds_read": float(human["seconds"]["value"] or 0.0),
        "total_events": human["doc_count"],
    }


def asset_usage(es: Elasticsearch, names: Names, asset_id: str, start: datetime, end: datetime, interval: str,
                timeout_s: float) -> dict[str, Any]:
    """Totals, a gap-free time series (day or week buckets) and time per page of one asset."""
    query = {"bool": {"filter": [{"term": {"asset_id": asset_id}}, time_filter(start, end)]}}
    end_ms = int(end.timestamp() * 1000) - 1
    response = es.options(request_timeout=timeout_s).search(
        index=names.events, size=0, query=query, ignore_unavailable=True, allow_no_indices=True,
        aggs={
            "all": {"filter": {"match_all": {}}, "aggs": summary_aggs()},
            "series": {
                "date_histogram": {"field": "occurred_at", "calendar_interval": interval, "min_doc_count": 0,
                                   "extended_bounds": {"min": int(start.timestamp() * 1000), "max": end_ms}},
                "aggs": summary_aggs(),
            },
            "pages": {"filter": {"bool": {"filter": [{"term": {"type": "page_view"}}, {"term": {"is_bot": False}}]}},
                      "aggs": {"by_page": {"terms": {"field": "page", "size": 1000, "order": {"_key": "asc"}},
                                           "aggs": {"seconds": {"sum": {"field": "seconds"}}}}}},
        },
    )
    aggs = response.get("aggregations")
    if not aggs:  # no index yet
        empty = {"counts": {}, "unique_reps": 0, "unique_accounts": 0, "customer_opens": 0, "bot_events": 0,
                 "seconds_read": 0.0, "total_events": 0}
        return {"totals": empty, "buckets": [], "pages": []}
    return {
        "totals": read_summary(aggs["all"]),
        "buckets": [(b["key"], read_summary(b)) for b in aggs["series"]["buckets"]],
        "pages": [(int(p["key"]), float(p["seconds"]["value"]), p["doc_count"])
                  for p in aggs["pages"]["by_page"]["buckets"]],
    }


def composite_buckets(es: Elasticsearch, index: str, query: dict[str, Any], field: str, aggs: dict[str, Any],
                      timeout_s: float) -> Iterator[dict[str, Any]]:
    """Buckets per value of `field` (key "k"), within the call's deadline."""
    return iter(es_util.composite_buckets(es.options(request_timeout=timeout_s), index, query,
                                          [es_util.terms_source(field)], aggs))


def matching_assets(es: Elasticsearch, names: Names, filters: list[dict[str, Any]], timeout_s: float) -> list[str]:
    """Asset ids of the catalog view matching asset-level filters."""
    query = {"bool": {"filter": filters}}
    return [b["key"]["k"] for b in composite_buckets(es, names.catalog, query, "asset_id", {}, timeout_s)]


def top_assets(es: Elasticsearch, names: Names, measure: str, start: datetime, end: datetime,
               event_filters: list[dict[str, Any]], asset_ids: list[str] | None, limit: int,
               timeout_s: float) -> list[tuple[str, float]]:
    """The `limit` best assets by `measure` (ties by asset id), from a composite aggregation."""
    measure_filter, value_agg = MEASURES[measure]
    filters = [time_filter(start, end), {"term": {"is_bot": False}}, *event_filters]
    if measure_filter:
        filters.append(measure_filter)
    aggs = {"v": value_agg} if value_agg else {}
    chunks: list[list[str] | None] = [None] if asset_ids is None else \
        [asset_ids[i:i + MAX_TERMS] for i in range(0, len(asset_ids), MAX_TERMS)]
    results: list[tuple[float, str]] = []
    for chunk in chunks:
        chunk_filters = filters + ([{"terms": {"asset_id": chunk}}] if chunk is not None else [])
        for b in composite_buckets(es, names.events, {"bool": {"filter": chunk_filters}}, "asset_id", aggs, timeout_s):
            value = float(b["v"]["value"] or 0.0) if value_agg else float(b["doc_count"])
            if value <= 0:
                continue
            results.append((value, b["key"]["k"]))
            if len(results) > 4 * limit + 1000:  # keep memory bounded for huge catalogs
                results = heapq.nsmallest(limit, results, key=lambda r: (-r[0], r[1]))
    ranked = heapq.nsmallest(limit, results, key=lambda r: (-r[0], r[1]))
    return [(asset_id, value) for value, asset_id in ranked]


def titles(es: Elasticsearch, names: Names, asset_ids: list[str], timeout_s: float) -> dict[str, dict[str, Any]]:
    if not asset_ids:
        return {}
    response = es.options(request_timeout=timeout_s).mget(index=names.catalog, ids=asset_ids)
    return {d["_id"]: d["_source"] for d in response["docs"] if d.get("found")}


def unused_reason(*, expired: bool, customer_uses: int, shares: int, rep_uses: int, impressions: int,
                  ever_used: bool) -> str | None:
    """The funnel stage where a published asset stalled in the window; None when it was used.

    Used = a customer-facing use in the window (a non-bot customer open, page view or
    download, or a rep presenting it). Otherwise the first match of: EXPIRED, shared but
    not opened, opened by reps but not shared, shown in search but not opened, never used
    at all, and finally neither used nor shown in the window (NEVER_SHOWN_IN_SEARCH).
    """
    if customer_uses > 0:
        return None
    if expired:
        return "EXPIRED"
    if shares > 0:
        return "SHARED_NOT_OPENED_BY_CUSTOMER"
    if rep_uses > 0:
        return "DOWNLOADED_NOT_SHARED"
    if impressions > 0:
        return "SHOWN_NOT_OPENED"
    if not ever_used:
        return "NEVER_USED"
    return "NEVER_SHOWN_IN_SEARCH"


def usage_of(es: Elasticsearch, names: Names, ids: list[str], start: datetime, end: datetime,
              timeout_s: float) -> tuple[dict[str, dict[str, int]], dict[str, float], dict[str, int]]:
    """Per asset of `ids`: window uses by kind, last non-bot use ever (epoch ms) and search impressions."""
    target = es.options(request_timeout=timeout_s)
    size = len(ids)
    response = target.search(
        index=names.events, size=0, ignore_unavailable=True, allow_no_indices=True,
        query={"bool": {"filter": [{"terms": {"asset_id": ids}}, {"term": {"is_bot": False}},
                                   {"range": {"occurred_at": {"lt": model.iso(end)}}}]}},
        aggs={
            "window": {"filter": time_filter(start, end), "aggs": {"a": {
                "terms": {"field": "asset_id", "size": size},
                "aggs": {
                    "customer": {"filter": {"terms": {"type": list(CUSTOMER_USE_TYPES)}}},
                    "shares": {"filter": {"terms": {"type": sorted(model.SHARE_TYPES)}}},
                    "rep": {"filter": {"terms": {"type": sorted(model.REP_OPEN_TYPES - {"present"})}}},
                }}}},
            "ever": {"terms": {"field": "asset_id", "size": size}, "aggs": {"last": {"max": {"field": "occurred_at"}}}},
        },
    )
    aggs = response.get("aggregations") or {}
    window: dict[str, dict[str, int]] = {}
    for b in aggs.get("window", {}).get("a", {}).get("buckets", []):
        window[b["key"]] = {"customer": b["customer"]["doc_count"], "shares": b["shares"]["doc_count"],
                            "rep": b["rep"]["doc_count"]}
    last = {b["key"]: b["last"]["value"] for b in aggs.get("ever", {}).get("buckets", [])}
    shown = target.search(
        index=names.searches, size=0, ignore_unavailable=True, allow_no_indices=True,
        query={"bool": {"filter": [{"terms": {"shown_asset_ids": ids}},
                                   {"range": {"occurred_at": {"gte": model.iso(start), "lt": model.iso(end)}}}]}},
        aggs={"a": {"terms": {"field": "shown_asset_ids", "size": size, "include": ids}}},
    )
    impressions = {b["key"]: b["doc_count"] for b in (shown.get("aggregations") or {}).get("a", {}).get("buckets", [])}
    return window, last, impressions
