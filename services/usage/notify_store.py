"""Elasticsearch indices of customer-open notifications, owned by the usage service.

- `<ns>-usage-notify-settings`: one document per rep (`_id = rep_id`), their channels.
- `<ns>-usage-notifications`: one document per notification (`_id = notification_id`):
  what was opened, when, by whom; the portal list and its read flag.
- `<ns>-usage-notify-deliveries`: one document per notification and sent channel
  (`_id = <notification_id>.<channel>`) and one per daily digest (`_id = dig_...`), each
  with its state: pending (created with op_type=create BEFORE anything is sent), then
  sent, failed (refused for good) or cancelled (the open turned out to be a bot).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from elasticsearch import Elasticsearch

from services.common import config, es as es_util

_KW = {"type": "keyword", "ignore_above": 256}

SETTINGS_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "rep_id": _KW, "portal_enabled": {"type": "boolean"}, "email_enabled": {"type": "boolean"},
        "email": _KW, "email_delivery": {"type": "keyword"}, "webhook_enabled": {"type": "boolean"},
        "webhook_url": {"type": "keyword", "index": False, "doc_values": False},
        "webhook_format": {"type": "keyword"}, "webhook_delivery": {"type": "keyword"}, "updated_at": {"type": "date"},
    },
}

NOTIFICATION_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "notification_id": {"type": "keyword"}, "rep_id": _KW, "kind": {"type": "keyword"},
        "share_id": _KW, "room_id": _KW, "target_id": _KW, "asset_id": {"type": "keyword"}, "title": _KW,
        "opportunity_id": _KW, "account_id": _KW, "event_id": {"type": "keyword"},
        "opened_at": {"type": "date"}, "created_at": {"type": "date"},
        "portal": {"type": "boolean"}, "read": {"type": "boolean"}, "read_at": {"type": "date"},
        "cancelled": {"type": "boolean"},
    },
}

DELIVERY_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "delivery_id": {"type": "keyword"}, "notification_id": {"type": "keyword"}, "event_id": {"type": "keyword"},
        "rep_id": _KW, "channel": {"type": "keyword"}, "delivery": {"type": "keyword"}, "day": {"type": "keyword"},
        "state": {"type": "keyword"}, "to": {"type": "keyword", "index": False, "doc_values": False},
        "format": {"type": "keyword"}, "error": {"type": "keyword", "index": False, "doc_values": False},
        "digest_id": {"type": "keyword"}, "members": {"type": "keyword"}, "attempts": {"type": "integer"},
        "created_at": {"type": "date"}, "sent_at": {"type": "date"},
    },
}


@dataclass(frozen=True)
class Names:
    settings: str
    notifications: str
    deliveries: str

    @classmethod
    def of(cls, settings: config.Settings) -> "Names":
        return cls(settings=settings.index("usage-notify-settings"),
                   notifications=settings.index("usage-notifications"),
                   deliveries=settings.index("usage-notify-deliveries"))


def ensure(es: Elasticsearch, settings: config.Settings) -> Names:
    """Create the three indices behind their aliases (idempotent)."""
    names = Names.of(settings)
    es_util.ensure_alias(es, names.settings, es_util.index_body(settings, SETTINGS_MAPPINGS))
    es_util.ensure_alias(es, names.notifications, es_util.index_body(settings, NOTIFICATION_MAPPINGS))
    es_util.ensure_alias(es, names.deliveries, es_util.index_body(settings, DELIVERY_MAPPINGS))
    return names


def get_many(es: Elasticsearch, index: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """{id: source} of the documents that exist (a realtime multi-get through the alias's one index)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    response = es.mget(index=index, ids=wanted)
    return {d["_id"]: d["_source"] for d in response["docs"] if d.get("found")}


def create_all(es: Elasticsearch, index: str, docs: dict[str, dict[str, Any]],
               refresh: bool | str = False) -> tuple[list[str], int]:
    """op_type=create each document; (ids created now, how many were already there). A replay creates nothing."""
    if not docs:
        return [], 0
    ids = list(docs)
    ops = [{"action": {"create": {"_index": index, "_id": doc_id}}, "source": docs[doc_id]} for doc_id in ids]
    outcome = es_util.bulk(es, ops, refresh=refresh)
    if outcome.rejected:
        raise RuntimeError(f"notification documents rejected: {outcome.rejected[0][1]}")
    return [ids[i] for i in outcome.written], len(outcome.conflicts)


def update_all(es: Elasticsearch, index: str, changes: dict[str, dict[str, Any]], refresh: bool | str = False) -> int:
    """Partial updates (`doc`) of existing documents; returns how many were applied."""
    if not changes:
        return 0
    ops = [{"action": {"update": {"_index": index, "_id": doc_id}}, "source": {"doc": change}}
           for doc_id, change in changes.items()]
    outcome = es_util.bulk(es, ops, refresh=refresh)
    if outcome.rejected:
        raise RuntimeError(f"notification updates rejected: {outcome.rejected[0][1]}")
    return len(outcome.written)
