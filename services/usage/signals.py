"""Per-asset usage signals for the content service's ranking (schemas/signal-event.v1.json).

`python -m services.usage.signals` publishes once; the usage consumer process publishes
every `COLLATERAL_USAGE_SIGNALS_INTERVAL_S`. The window is the last 30 UTC days
(today included). Counts come from the daily rollups (cheap: one document per asset and
day), distinct reps from the raw events (distinct counts do not add up across days).
Every published catalog asset gets a signal, also with zeros, so an asset whose usage
aged out of the window decays to 0 instead of keeping a stale score.

usage_score = views + 2*downloads + 3*shares + 5*customer_opens + 2*unique_reps (bots
excluded everywhere); the content service dampens it with log1p.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timezone
from typing import Any

from elasticsearch import Elasticsearch

from services.common import config, es as es_util, kafka_io, metrics, topics
from services.usage import model, store

log = logging.getLogger(__name__)

WINDOW_DAYS = 30
WEIGHTS = {"views_30d": 1.0, "downloads_30d": 2.0, "shares_30d": 3.0, "customer_opens_30d": 5.0, "unique_reps_30d": 2.0}


def usage_score(usage: dict[str, int]) -> float:
    return float(sum(weight * usage.get(name, 0) for name, weight in WEIGHTS.items()))


def compute(es: Elasticsearch, names: store.Names, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """asset_id -> the 30-day usage object of its signal."""
    start = model.window_start(WINDOW_DAYS, now)
    usage: dict[str, dict[str, int]] = {}

    def entry(asset_id: str) -> dict[str, int]:
        return usage.setdefault(asset_id, {k: 0 for k in WEIGHTS})

    sums = {"views": {"sum": {"field": "view"}}, "downloads": {"sum": {"field": "download"}},
            "shares": {"sum": {"field": "share"}}, "attaches": {"sum": {"field": "email_attach"}},
            "opens": {"sum": {"field": "customer_opens"}}}
    day_query = {"range": {"day": {"gte": start.date().isoformat(), "format": "strict_date"}}}
    for b in es_util.composite_buckets(es, names.rollups, day_query, [es_util.terms_source("asset_id")], sums):
        e = entry(b["key"]["k"])
        e["views_30d"] = int(b["views"]["value"])
        e["downloads_30d"] = int(b["downloads"]["value"])
        e["shares_30d"] = int(b["shares"]["value"] + b["attaches"]["value"])
        e["customer_opens_30d"] = int(b["opens"]["value"])
    raw_query = {"bool": {"filter": [{"range": {"occurred_at": {"gte": model.iso(start)}}},
                                     {"term": {"is_bot": False}}]}}
    reps = {"reps": {"cardinality": {"field": "rep_id", "precision_threshold": 3000}}}
    for b in es_util.composite_buckets(es, names.events, raw_query, [es_util.terms_source("asset_id")], reps):
        entry(b["key"]["k"])["unique_reps_30d"] = int(b["reps"]["value"])
    published = {"term": {"status": "published"}}
    for b in es_util.composite_buckets(es, names.catalog, published, [es_util.terms_source("asset_id")], {}):
        entry(b["key"]["k"])
    return usage


def signal_event(asset_id: str, usage: dict[str, int], computed_at: str) -> dict[str, Any]:
    digest = hashlib.sha256(f"{asset_id}\x00{computed_at}".encode()).hexdigest()[:32]
    body: dict[str, Any] = dict(usage)
    body["usage_score"] = usage_score(usage)
    return {
        "event_id": f"usage-signal-{digest}",
        "schema_version": 1,
        "occurred_at": computed_at,
        "received_at": computed_at,
        "asset_id": asset_id,
        "source": "usage",
        "computed_at": computed_at,
        "usage": body,
    }


class SignalPublisher:
    def __init__(self, settings: config.Settings, es: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = es or es_util.client(settings)
        self.names = store.Names.of(settings)
        self.topic = topics.SIGNALS.name(settings)
        self.producer = kafka_io.Producer(settings, client_id="usage-signals")

    def publish(self, now: datetime | None = None) -> int:
        """Compute and produce one signal per asset; returns how many were acknowledged."""
        now = now or datetime.now(timezone.utc)
        computed_at = model.iso(now)
        usage = compute(self.es, self.names, now)
        records = [
            kafka_io.Record(self.topic, asset_id, json.dumps(signal_event(asset_id, u, computed_at)).encode())
            for asset_id, u in sorted(usage.items())
        ]
        for i in range(0, len(records), 1000):
            self.producer.send_and_wait(records[i:i + 1000], timeout_s=30.0)
        metrics.USAGE_SIGNALS_PUBLISHED.inc(len(records))
        log.info("usage signals published", extra={"assets": len(records)})
        return len(records)

    def close(self) -> None:
        self.producer.close()


def main(argv: list[str] | None = None) -> None:
    from services.common import cli, logs

    cli.parse_no_arguments("python -m services.usage.signals", __doc__, argv)
    settings = config.load()
    logs.configure("usage-signals", settings.log_level, settings.log_format)
    topics.ensure_all(settings)
    publisher = SignalPublisher(settings)
    try:
        store.ensure(publisher.es, settings)
        print(f"published {publisher.publish()} usage signals to {publisher.topic}")
    finally:
        publisher.close()


if __name__ == "__main__":
    main()
