"""The usage service's Elasticsearch indices: names, mappings, creation.

Raw events live in one index per calendar month of *event time*
(`<ns>-usage-events-2026.11`), all behind the read alias `<ns>-usage-events` that an
index template attaches automatically. The month is a pure function of the event
(`occurred_at`), so a duplicate or a replay always lands in the same index as the
original and `op_type=create` on `_id = event_id` rejects it: deduplication holds
across the whole history, which a rollover-by-size write alias would break (a replay
after a rollover would be created again in the new index). Monthly indices keep
retention cheap (drop a month) and let range queries skip whole indices; a month of
events is small enough for one shard at the volumes a sales team produces (millions).

State indices (rollups, catalog view, share links, search impressions) are single
indices behind an alias (`es.ensure_alias`), so a mapping change is a client-side
reindex plus an alias swap.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from services.common import config, es as es_util
from services.usage import model

log = logging.getLogger(__name__)

_KW = {"type": "keyword", "ignore_above": 256}

EVENT_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "event_id": {"type": "keyword"},
        "schema_version": {"type": "integer"},
        "occurred_at": {"type": "date"},
        "received_at": {"type": "date"},
        "type": {"type": "keyword"},
        "asset_id": {"type": "keyword"},
        "rep_id": _KW,
        "opportunity_id": _KW,
        "account_id": _KW,
        "share_id": _KW,
        "room_id": _KW,
        "viewer_email": _KW,
        "channel": _KW,
        "page": {"type": "integer"},
        "seconds": {"type": "double"},
        "user_agent": {"type": "keyword", "ignore_above": 1024},
        "ip_hash": {"type": "keyword"},
        "is_bot": {"type": "boolean"},
        "bot_reason": {"type": "keyword"},
        "known_asset": {"type": "boolean"},
        "team": _KW,
        "region": _KW,
    },
}

ROLLUP_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "asset_id": {"type": "keyword"},
        "day": {"type": "date", "format": "strict_date"},
        **{t: {"type": "long"} for t in model.TYPES},
        "customer_opens": {"type": "long"},
        "bot_events": {"type": "long"},
        "events_total": {"type": "long"},
        "events_human": {"type": "long"},
        "seconds_read": {"type": "double"},
        "unique_reps": {"type": "long"},
        "unique_accounts": {"type": "long"},
        "computed_at": {"type": "date"},
    },
}

CATALOG_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "asset_id": {"type": "keyword"},
        "title": {"type": "keyword", "ignore_above": 512},
        "type": {"type": "keyword"},
        "status": {"type": "keyword"},
        "owner": _KW,
        "buying_stages": {"type": "keyword"},
        "industries": _KW,
        "regions": _KW,
        "products": _KW,
        "personas": _KW,
        "tags": _KW,
        "language": {"type": "keyword"},
        "created_at": {"type": "date"},
        "updated_at": {"type": "date"},
        "published_at": {"type": "date"},
        "expires_at": {"type": "date"},
        "version": {"type": "long"},
        "event_type": {"type": "keyword"},
    },
}

SEARCH_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "event_id": {"type": "keyword"},
        "occurred_at": {"type": "date"},
        "rep_id": _KW,
        "query": {"type": "keyword", "ignore_above": 512},
        "result_count": {"type": "integer"},
        "shown_asset_ids": {"type": "keyword"},
    },
}

SHARE_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "share_id": {"type": "keyword"},
        "asset_id": {"type": "keyword"},
        "rep_id": _KW,
        "opportunity_id": _KW,
        "account_id": _KW,
        "recipient_note": {"type": "keyword", "index": False, "doc_values": False},
        "allow_download": {"type": "boolean"},
        "channel": _KW,
        "created_at": {"type": "date"},
        "expires_at": {"type": "date"},
        "revoked_at": {"type": "date"},
        "revoked_by": _KW,
    },
}

ROOM_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "room_id": {"type": "keyword"},
        "title": {"type": "keyword", "index": False, "doc_values": False},
        "note": {"type": "keyword", "index": False, "doc_values": False},
        "asset_ids": {"type": "keyword"},
        "rep_id": _KW,
        "opportunity_id": _KW,
        "account_id": _KW,
        "allow_download": {"type": "boolean"},
        "created_at": {"type": "date"},
        "expires_at": {"type": "date"},
        "revoked_at": {"type": "date"},
        "revoked_by": _KW,
    },
}


@dataclass(frozen=True)
class Names:
    """Every index name of one deployment (namespace)."""

    events: str  # read alias over the monthly indices
    rollups: str
    catalog: str
    searches: str
    shares: str
    rooms: str

    @classmethod
    def of(cls, settings: config.Settings) -> "Names":
        return cls(
            events=settings.index("usage-events"),
            rollups=settings.index("usage-rollups"),
            catalog=settings.index("usage-catalog"),
            searches=settings.index("usage-searches"),
            shares=settings.index("usage-shares"),
            rooms=settings.index("usage-rooms"),
        )

    def events_index(self, occurred_at: str) -> str:
        """Concrete monthly index of one event."""
        return f"{self.events}-{model.month_suffix(occurred_at)}"


def ensure(es: Elasticsearch, settings: config.Settings) -> Names:
    """Create the template, the current month's index and the state indices (idempotent)."""
    names = Names.of(settings)
    body = es_util.index_body(settings, EVENT_MAPPINGS, {"refresh_interval": "1s"})
    es.indices.put_index_template(
        name=names.events,
        index_patterns=[f"{names.events}-*"],
        priority=200,
        template={"settings": body["settings"], "mappings": body["mappings"], "aliases": {names.events: {}}},
    )
    ensure_event_indices(es, [names.events_index(model.iso(datetime.now(timezone.utc)))])
    es_util.ensure_alias(es, names.rollups, es_util.index_body(settings, ROLLUP_MAPPINGS))
    es_util.ensure_alias(es, names.catalog, es_util.index_body(settings, CATALOG_MAPPINGS))
    es_util.ensure_alias(es, names.searches, es_util.index_body(settings, SEARCH_MAPPINGS))
    es_util.ensure_alias(es, names.shares, es_util.index_body(settings, SHARE_MAPPINGS))
    es_util.ensure_alias(es, names.rooms, es_util.index_body(settings, ROOM_MAPPINGS))
    # Fields added to the event mapping after a month's index was created (room_id) reach it here.
    es.indices.put_mapping(index=names.events, properties={
        name: EVENT_MAPPINGS["properties"][name] for name in ("room_id", "viewer_email")})
    return names


_known_indices: set[str] = set()


def ensure_event_indices(es: Elasticsearch, indices: list[str]) -> None:
    """Create monthly indices explicitly (the template gives mappings and alias).

    Bulk writes would auto-create them too, but creating first keeps the alias usable
    for a new month before its first event and survives `action.auto_create_index: false`.
    """
    for index in indices:
        if index in _known_indices:
            continue
        try:
            es.indices.create(index=index)
        except ApiError as exc:
            if exc.meta.status != 400 or "resource_already_exists" not in str(exc):
                raise
        _known_indices.add(index)
