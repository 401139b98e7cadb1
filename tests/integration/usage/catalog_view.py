"""Put assets into the usage service's catalog view the way production does: a catalog
event on the catalog topic, indexed by the usage consumer."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from kafka import KafkaProducer

from services.common import config, topics
from services.usage import model, store
from tests.integration.usage.conftest import produce_json, wait_until


def catalog_event(asset_id: str, status: str = "published", version: int = 1, **fields: Any) -> dict[str, Any]:
    now = model.iso(datetime.now(timezone.utc))
    event = {"event_id": str(uuid.uuid4()), "schema_version": 1, "occurred_at": now, "received_at": now,
             "event_type": {"draft": "created", "retired": "retired"}.get(status, "published"),
             "asset_id": asset_id, "title": f"Asset {asset_id}", "type": "deck", "status": status,
             "owner": "marketer@example.com", "buying_stages": [], "industries": [], "regions": [],
             "products": [], "personas": [], "tags": [], "language": "en", "created_at": now,
             "version": version}
    event.update(fields)
    return event


def publish(settings: config.Settings, producer: KafkaProducer, es: Any, names: store.Names,
            assets: dict[str, str]) -> None:
    """Send one catalog event per {asset_id: status} and wait until the view holds them all."""
    for asset_id, status in assets.items():
        produce_json(producer, topics.CATALOG.name(settings), asset_id, catalog_event(asset_id, status))
    producer.flush()

    def indexed() -> bool:
        found = es.mget(index=names.catalog, ids=sorted(assets), source=["status"])["docs"]
        return all(d.get("found") and d["_source"]["status"] == assets[d["_id"]] for d in found)

    wait_until(indexed, what=f"catalog view holding {sorted(assets)}")
