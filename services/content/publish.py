"""Events the content service produces: catalog changes and searches.

Catalog events are sent after the index write succeeded and the RPC waits for the
broker's acknowledgement, so an OK response means other services will hear of the
change. Search events are analytics: they are sent from a background thread so a slow
or absent broker never slows or fails a rep's search (a failure is logged and counted).
"""

from __future__ import annotations

import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping, Sequence

from services.common import config, kafka_io, metrics, topics
from services.content import model

log = logging.getLogger(__name__)


def catalog_event(event_type: str, doc: Mapping[str, Any], actor: str) -> dict[str, Any]:
    now = model.now_iso()
    return {
        "event_id": uuid.uuid4().hex,
        "schema_version": 1,
        "occurred_at": now,
        "received_at": now,
        "event_type": event_type,
        "actor": actor,
        **model.snapshot(doc),
    }


def search_event(search_id: str, rep_id: str, role: str, query: str, filters: Mapping[str, Sequence[str]],
                 sort: str, result_count: int, shown: Sequence[str]) -> dict[str, Any]:
    now = model.now_iso()
    return {
        "event_id": search_id,
        "schema_version": 1,
        "occurred_at": now,
        "received_at": now,
        "search_id": search_id,
        "rep_id": rep_id,
        "role": role,
        "query": query,
        "filters": {k: list(v) for k, v in filters.items() if v},
        "sort": sort,
        "result_count": result_count,
        "shown_asset_ids": list(shown),
    }


class Publisher:
    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings
        self.catalog_topic = topics.CATALOG.name(settings)
        self.search_topic = topics.SEARCHES.name(settings)
        self._producer = kafka_io.Producer(settings, client_id="content")
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-events")

    def catalog(self, event_type: str, doc: Mapping[str, Any], actor: str) -> None:
        self.catalog_many([(event_type, doc)], actor)

    def catalog_many(self, changes: Sequence[tuple[str, Mapping[str, Any]]], actor: str) -> None:
        """One catalog event per (event_type, doc), produced together and acknowledged together.

        A bulk import sends its batch's events in one round trip instead of one per asset.
        """
        self._producer.send_and_wait([self._catalog_record(event_type, doc, actor) for event_type, doc in changes])

    def _catalog_record(self, event_type: str, doc: Mapping[str, Any], actor: str) -> kafka_io.Record:
        event = catalog_event(event_type, doc, actor)
        return kafka_io.Record(self.catalog_topic, doc["asset_id"], json.dumps(event).encode(),
                               (("event_type", event_type.encode()), ("schema_version", b"1")))

    def search(self, event: dict[str, Any]) -> None:
        self._background.submit(self._send_search, event)

    def _send_search(self, event: dict[str, Any]) -> None:
        try:
            self._producer.send_and_wait([kafka_io.Record(
                self.search_topic, event["rep_id"], json.dumps(event).encode(), (("schema_version", b"1"),))])
        except Exception:  # noqa: BLE001 - analytics must not break search
            metrics.DEPENDENCY_ERRORS.labels("kafka", "search_event").inc()
            log.warning("search event not published", exc_info=True)

    def connected(self) -> bool:
        return self._producer.connected()

    def close(self) -> None:
        self._background.shutdown(wait=True)
        self._producer.close()
