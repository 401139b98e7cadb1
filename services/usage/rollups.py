"""Daily per-asset rollups, recomputed from the raw events (never incremented).

After each batch the consumer recomputes every (asset, day) the batch touched with one
aggregation over the raw events and writes the result with a plain index to the
deterministic id `asset_id|day`. Because the rollup is a function of the raw events,
which are deduplicated by `_id = event_id`, it is exact whatever happens: duplicates,
replays after a crash (the replayed batch recomputes the same pairs, even though its
raw writes were all 409s), out-of-order and late events. No scripts, no counters.

Concurrent writers (two consumers during a rebalance, or producers that did not key by
asset) are made safe by `version = number of raw events in the pair` with
`version_type=external_gte`: raw events only ever grow, so an older recomputation has
a smaller count and is rejected (409) instead of overwriting a newer one.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any, Iterable

from elasticsearch import Elasticsearch

from services.common import es as es_util, metrics
from services.usage import model
from services.usage.store import Names

_MAX_DAYS_PER_QUERY = 50
_MAX_ASSETS_PER_CLAUSE = 1000


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def pair_aggregations() -> dict[str, Any]:
    """Sub-aggregations giving every rollup field of one (asset, day) bucket."""
    return {
        "human": {
            "filter": {"term": {"is_bot": False}},
            "aggs": {
                "types": {"terms": {"field": "type", "size": len(model.TYPES) + 5}},
                "seconds": {"sum": {"field": "seconds"}},
                "reps": {"cardinality": {"field": "rep_id", "precision_threshold": 3000}},
                "accounts": {"cardinality": {"field": "account_id", "precision_threshold": 3000}},
            },
        },
        "bots": {"filter": {"term": {"is_bot": True}}},
    }


def document(asset_id: str, day: str, bucket: dict[str, Any], computed_at: str) -> dict[str, Any]:
    human = bucket["human"]
    counts = {b["key"]: b["doc_count"] for b in human["types"]["buckets"]}
    doc: dict[str, Any] = {"asset_id": asset_id, "day": day}
    for kind in model.TYPES:
        doc[kind] = counts.get(kind, 0)
    doc["customer_opens"] = counts.get("customer_open", 0)
    doc["bot_events"] = bucket["bots"]["doc_count"]
    doc["events_total"] = bucket["doc_count"]
    doc["events_human"] = human["doc_count"]
    doc["seconds_read"] = float(human["seconds"]["value"] or 0.0)
    doc["unique_reps"] = int(human["reps"]["value"])
    doc["unique_accounts"] = int(human["accounts"]["value"])
    doc["computed_at"] = computed_at
    return doc


def _query(by_day: dict[str, list[str]]) -> dict[str, Any]:
    clauses = []
    for day, assets in by_day.items():
        for i in range(0, len(assets), _MAX_ASSETS_PER_CLAUSE):
            clauses.append({"bool": {"filter": [
                {"terms": {"asset_id": assets[i:i + _MAX_ASSETS_PER_CLAUSE]}},
                {"range": {"occurred_at": {"gte": day, "lt": _next_day(day), "format": "strict_date"}}},
            ]}})
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def compute(es: Elasticsearch, names: Names, pairs: Iterable[tuple[str, str]], computed_at: str,
            timeout_s: float | None = None) -> list[dict[str, Any]]:
    """Rollup documents of `pairs` ((asset_id, 'YYYY-MM-DD')) from the raw events.

    Only the monthly indices of the pairs' days are searched (a day's events all live in
    its month's index)."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for asset_id, day in pairs:
        wanted[day].add(asset_id)
    days = sorted(wanted)
    docs: list[dict[str, Any]] = []
    target = es.options(request_timeout=timeout_s) if timeout_s else es
    for i in range(0, len(days), _MAX_DAYS_PER_QUERY):
        chunk = {d: sorted(wanted[d]) for d in days[i:i + _MAX_DAYS_PER_QUERY]}
        after: dict[str, Any] | None = None
        while True:
            composite: dict[str, Any] = {
                "size": 1000,
                "sources": [
                    {"asset": {"terms": {"field": "asset_id"}}},
                    {"day": {"date_histogram": {"field": "occurred_at", "calendar_interval": "1d",
                                                "format": "yyyy-MM-dd"}}},
                ],
            }
            if after:
                composite["after"] = after
            indices = sorted({names.events_index(day) for day in chunk})
            response = target.search(
                index=",".join(indices), size=0, query=_query(chunk), ignore_unavailable=True, allow_no_indices=True,
                aggs={"pairs": {"composite": composite, "aggs": pair_aggregations()}},
            )
            agg = response.get("aggregations", {}).get("pairs")
            if not agg:
                break
            for bucket in agg["buckets"]:
                asset_id, day = bucket["key"]["asset"], bucket["key"]["day"]
                if asset_id in chunk.get(day, ()):
                    docs.append(document(asset_id, day, bucket, computed_at))
            after = agg.get("after_key")
            if not after or len(agg["buckets"]) < composite["size"]:
                break
    return docs


def write(es: Elasticsearch, names: Names, docs: list[dict[str, Any]], timeout_s: float | None = None) -> int:
    """Write rollups by deterministic id; a 409 means a newer recomputation is already stored."""
    operations = [
        {
            "action": {"index": {"_index": names.rollups, "_id": model.rollup_id(d["asset_id"], d["day"]),
                                 "version": d["events_total"], "version_type": "external_gte"}},
            "source": d,
        }
        for d in docs
    ]
    outcome = es_util.bulk(es, operations, timeout_s=timeout_s)
    if outcome.rejected:
        raise RuntimeError(f"rollup write rejected: {outcome.rejected[0][1]}")
    metrics.USAGE_ROLLUPS_WRITTEN.inc(len(outcome.written))
    return len(outcome.written)
