"""The feedback service's Elasticsearch indices (each behind an alias) and their mappings.

- deals:            one document per opportunity (_id = opportunity_id), written with
                    version = updated_at in ms, version_type=external (older = 409 = stale);
- usage:            raw usage events (_id = event_id, op_type=create) — the join's input;
- touches:          asset x opportunity (_id = "asset_id|opportunity_id"), recomputed from
                    the two above; carries the deal's stage, amount and segment so reports
                    aggregate over one index;
- ratings:          one per rep per asset (_id = "asset_id|rep_id"; re-rating replaces);
- content-requests: explicit requests for missing content;
- search-misses:    zero- and poor-result searches from the content service's search events;
- catalog:          this service's copy of the catalog (external version = asset version);
- credits:          attributed revenue per (won deal, asset) under every rule-based model
                    (_id = "asset_id|opportunity_id"), rewritten with the deal's touches, so
                    GetAttribution is one aggregation;
- rollups:          per (asset, close month) sums of the touches and credits (_id =
                    "asset_id|YYYY-MM"), recomputed from them by the rollup stage (rollups.py);
- gap-status:       a marketer's status per content-gap topic (_id = topic id; gap_topics.py);
- markov:           the Markov removal-effect attribution per precomputed scope (_id = scope),
                    written by the background job with its as-of time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch

from services.common import config, es as es_util

KW = {"type": "keyword"}
DATE = {"type": "date"}
SEGMENT = {name: KW for name in ("industry", "region", "product_line", "deal_size_band", "team")}
NAME = {"type": "text", "copy_to": "names", "fields": {"raw": {"type": "keyword", "ignore_above": 256}}}

DEALS = {
    "dynamic": "strict",
    "properties": {
        "event_id": KW, "opportunity_id": KW, "account_id": KW, "owner_rep_id": KW, "stage": KW,
        "amount": {"type": "double"}, "currency": KW, "created_at": DATE, "closed_at": DATE, "updated_at": DATE,
        "received_at": DATE, "version": {"type": "long"},
        "lost_reason": {"type": "text", "fields": {"raw": {"type": "keyword", "ignore_above": 500}}},
        "lost_topic": KW,
        **SEGMENT,
        # CRM display names: `.raw` for exact sorting, and both copied into `names`, which
        # the opportunity pickers search word by word (opportunities.py).
        "opportunity_name": NAME, "account_name": NAME, "names": {"type": "text"},
    },
}
USAGE = {
    "dynamic": "strict",
    "properties": {
        "event_id": KW, "type": KW, "asset_id": KW, "rep_id": KW, "occurred_at": DATE, "opportunity_id": KW,
        "account_id": KW, "share_id": KW, "channel": KW, "is_bot": {"type": "boolean"},
    },
}
TOUCHES = {
    "dynamic": "strict",
    "properties": {
        "asset_id": KW, "opportunity_id": KW, "account_id": KW, "owner_rep_id": KW, "stage": KW,
        "amount": {"type": "double"}, "currency": KW, "created_at": DATE, "closed_at": DATE,
        "deal_version": {"type": "long"}, "first_touch_at": DATE, "last_touch_at": DATE,
        "touch_count": {"type": "integer"},
        "sourcing": {"type": "boolean"}, "sourcing_count": {"type": "integer"}, "influencing": {"type": "boolean"},
        "influenced_amount": {"type": "double"},
        "counts": {"type": "object", "dynamic": True},
        "times": {"type": "date", "index": False, "doc_values": False},
        **SEGMENT,
    },
}
DOUBLE = {"type": "double"}
CREDITS = {
    "dynamic": "strict",
    "properties": {
        "asset_id": KW, "opportunity_id": KW, "account_id": KW, "owner_rep_id": KW, "stage": KW, "amount": DOUBLE,
        "currency": KW, "created_at": DATE, "closed_at": DATE, "deal_version": {"type": "long"},
        "first_touch": DOUBLE, "last_touch": DOUBLE, "linear": DOUBLE, "time_decay": DOUBLE, "u_shaped": DOUBLE,
        "w_shaped": DOUBLE, "half_life_days": DOUBLE,
        "sourced": {"type": "boolean"}, "influenced": {"type": "boolean"},
        "sourced_revenue": DOUBLE, "influenced_revenue": DOUBLE,
        "deal_primary": {"type": "boolean"}, "deal_sourced": {"type": "boolean"},
        **SEGMENT,
    },
}
LONG = {"type": "long"}
ROLLUPS = {
    "dynamic": "strict",
    "properties": {
        "asset_id": KW, "month": KW, "month_start": DATE,
        "won": LONG, "lost": LONG, "open": LONG, "won_amount": DOUBLE,
        "credited_deals": LONG, "first_touch": DOUBLE, "last_touch": DOUBLE, "linear": DOUBLE, "time_decay": DOUBLE,
        "u_shaped": DOUBLE, "w_shaped": DOUBLE, "sourced": LONG, "sourced_revenue": DOUBLE,
        "influenced_revenue": DOUBLE, "primary_deals": LONG, "primary_amount": DOUBLE,
    },
}
MARKOV = {
    "dynamic": "strict",
    "properties": {
        "scope": KW, "as_of": DATE, "start": DATE, "end": DATE, "paths": {"type": "long"},
        "won_deals": {"type": "long"}, "attributed_total": DOUBLE, "modelled_assets": {"type": "integer"},
        "credits": {"type": "object", "enabled": False},
    },
}
RATINGS = {
    "dynamic": "strict",
    "properties": {
        "asset_id": KW, "rep_id": KW, "rating": {"type": "integer"}, "comment": {"type": "text"},
        "opportunity_id": KW, "rated_at": DATE,
    },
}
REQUESTS = {
    "dynamic": "strict",
    "properties": {
        "request_id": KW, "rep_id": KW, "description": {"type": "text"}, "topic": KW, "buying_stage": KW,
        "persona": KW, "product": KW, "lost_opportunity_id": KW, "created_at": DATE,
    },
}
MISSES = {
    "dynamic": "strict",
    "properties": {
        "event_id": KW, "rep_id": KW, "query": {"type": "text", "fields": {"raw": {"type": "keyword", "ignore_above": 512}}},
        "topic": KW, "filters": {"type": "flattened"}, "occurred_at": DATE,
        "result_count": {"type": "integer"},  # 1..COLLATERAL_FEEDBACK_POOR_RESULT_MAX: poor-result; 0 or absent: zero-result
    },
}
# A marketer's status of a content-gap topic (_id = topic_id; gap_topics.py).
GAP_STATUS = {
    "dynamic": "strict",
    "properties": {
        "topic_id": KW, "name": {"type": "keyword", "ignore_above": 512}, "term_keys": KW, "status": KW,
        "asset_id": KW, "asset_title": {"type": "keyword", "ignore_above": 512}, "published_at": DATE,
        "updated_by": KW, "updated_at": DATE,
    },
}
CATALOG = {
    "dynamic": False,
    "properties": {
        "asset_id": KW, "title": {"type": "text", "fields": {"raw": {"type": "keyword", "ignore_above": 300}}},
        "type": KW, "status": KW, "created_at": DATE, "updated_at": DATE, "published_at": DATE, "expires_at": DATE,
        "version": {"type": "long"},
    },
}


@dataclass(frozen=True)
class Names:
    deals: str
    usage: str
    touches: str
    ratings: str
    requests: str
    misses: str
    catalog: str
    credits: str
    markov: str
    rollups: str
    gap_status: str

    @classmethod
    def of(cls, settings: config.Settings, prefix: str = "feedback") -> "Names":
        return cls(
            deals=settings.index(f"{prefix}-deals"),
            usage=settings.index(f"{prefix}-usage"),
            touches=settings.index(f"{prefix}-touches"),
            ratings=settings.index(f"{prefix}-ratings"),
            requests=settings.index(f"{prefix}-content-requests"),
            misses=settings.index(f"{prefix}-search-misses"),
            catalog=settings.index(f"{prefix}-catalog"),
            credits=settings.index(f"{prefix}-credits"),
            markov=settings.index(f"{prefix}-markov"),
            rollups=settings.index(f"{prefix}-rollups"),
            gap_status=settings.index(f"{prefix}-gap-status"),
        )


def ensure(es: Elasticsearch, settings: config.Settings, names: Names | None = None) -> Names:
    names = names or Names.of(settings)
    for alias, mapping in (
        (names.deals, DEALS), (names.usage, USAGE), (names.touches, TOUCHES), (names.ratings, RATINGS),
        (names.requests, REQUESTS), (names.misses, MISSES), (names.catalog, CATALOG),
        (names.credits, CREDITS), (names.markov, MARKOV), (names.rollups, ROLLUPS), (names.gap_status, GAP_STATUS),
    ):
        extra = TOUCHES_INDEX_SORT if alias == names.touches else None
        es_util.ensure_alias(es, alias, es_util.index_body(settings, mapping, extra))
        # Fields added since an index was created (mappings only grow) are added in place.
        es.indices.put_mapping(index=alias, properties=mapping["properties"])
    return names


# Touches are stored sorted by (opportunity, asset): attribution pages through them in
# exactly that order with search_after, which index sorting turns from a sort of every
# matching touch per page into an early-terminating read.
TOUCHES_INDEX_SORT = {"sort.field": ["opportunity_id", "asset_id"], "sort.order": ["asc", "asc"]}


def scan(es: Elasticsearch, index: str, query: dict[str, Any], sort: list[Any], size: int = 1000,
         source: Any = True, timeout_s: float | None = None):
    """Yield every hit of `query` in `sort` order, page by page with search_after (bounded memory).

    `sort` must be a total order on unique fields (not `_doc`, whose values repeat across
    shards), or pages would skip or repeat hits.
    """
    after = None
    client = es.options(request_timeout=timeout_s) if timeout_s else es
    while True:
        kwargs: dict[str, Any] = {"index": index, "query": query, "sort": sort, "size": size, "_source": source,
                                  "track_total_hits": False}
        if after is not None:
            kwargs["search_after"] = after
        hits = client.search(**kwargs)["hits"]["hits"]
        yield from hits
        if len(hits) < size:
            return
        after = hits[-1]["sort"]
