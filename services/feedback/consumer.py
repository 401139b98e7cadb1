"""`python -m services.feedback.consumer`: the join of usage with deal outcomes, and gap inputs.

One consumer group (`<ns>.feedback-consumer`), one loop over four topics, so one batch
sees usage and outcomes together and the join is recomputed once per batch:

- deals.v1: deal outcomes (schemas/deal-outcome.v1.json), versioned upsert into `deals`;
- usage.v1: usage events stored raw in this service's `usage` index (bot customer
  events excluded): the join's other input (events naming an opportunity or an
  account) and the scorecard's usage counts;
- search.v1: zero-result searches into `search-misses` (content gaps);
- catalog.v1: this service's copy of the catalog (titles, freshness for the scorecard).

After the writes, every opportunity the batch names is recomputed (join.py). Invalid
messages go to deals.dlq.v1 with the reason. The process also publishes win-rate
signals every `COLLATERAL_FEEDBACK_SIGNALS_INTERVAL_S` seconds (signals.py).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Sequence

from elasticsearch import Elasticsearch

from services.common import cli, config, errors, es as es_util, events, periodic, topics
from services.common.consumer import InvalidEvent, Message, Parsed, WriteResult, parse_json_object, run_forever
from services.feedback import join, model, signals, store

log = logging.getLogger(__name__)

METRICS_PORT = 9468
MAX_CATALOG_BYTES = 256 * 1024
MAX_SEARCH_BYTES = 128 * 1024


@dataclass
class DealItem:
    doc: dict[str, Any]


@dataclass
class UsageItem:
    doc: dict[str, Any] | None  # None: a bot's customer event (never stored, never a touch)
    occurred_s: float


@dataclass
class MissItem:
    doc: dict[str, Any] | None  # None: the search found something


@dataclass
class CatalogItem:
    asset_id: str
    version: int
    doc: dict[str, Any]


_CATALOG_FIELDS = ("asset_id", "title", "type", "status", "created_at", "updated_at", "published_at", "expires_at",
                   "version")


class FeedbackProcessor:
    """Processor of the shared ConsumerLoop; dispatches by topic."""

    name = "feedback-consumer"

    def __init__(self, settings: config.Settings, es: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = es or es_util.client(settings)
        self.names = store.Names.of(settings)
        self.joiner = join.Joiner(self.es, settings, self.names)
        self.deals_topic = topics.DEALS.name(settings)
        self.usage_topic = topics.USAGE.name(settings)
        self.search_topic = topics.SEARCHES.name(settings)
        self.catalog_topic = topics.CATALOG.name(settings)
        self.topics = (self.deals_topic, self.usage_topic, self.search_topic, self.catalog_topic)
        self.dead_letter_topic = topics.DEALS_DLQ.name(settings)
        self._ensured = False

    # ---- parse ----------------------------------------------------------------------------
    def parse(self, message: Message) -> Any:
        if message.topic == self.deals_topic:
            raw = parse_json_object(message, model.MAX_DEAL_BYTES)
            doc = model.validate_deal(raw)
            doc.setdefault("received_at", model.iso(message.appended_at))
            return DealItem(doc)
        if message.topic == self.usage_topic:
            raw = parse_json_object(message, model.MAX_USAGE_BYTES)
            doc = model.validate_usage(raw)
            occurred = model.parse_iso(doc["occurred_at"]).timestamp()
            return UsageItem(None if doc["is_bot"] else doc, occurred)
        if message.topic == self.search_topic:
            return self._parse_search(message)
        if message.topic == self.catalog_topic:
            raw = parse_json_object(message, MAX_CATALOG_BYTES)
            events.validate("catalog-event.v1.json", raw)
            doc = {k: raw[k] for k in _CATALOG_FIELDS if raw.get(k) is not None}
            for name in ("created_at", "updated_at", "published_at", "expires_at"):
                if name in doc:
                    doc[name] = model.iso(events.parse_time(doc[name], name))
            return CatalogItem(raw["asset_id"], int(raw["version"]), doc)
        raise InvalidEvent("unknown_topic", message.topic)

    def _parse_search(self, message: Message) -> MissItem:
        raw = parse_json_object(message, MAX_SEARCH_BYTES)
        events.validate("search-event.v1.json", raw)
        if raw["result_count"] != 0 or not raw["query"].strip():
            return MissItem(None)  # found something, or browsing by filters only: not a gap
        occurred = events.parse_time(raw["occurred_at"], "occurred_at")
        query = raw["query"].strip()[:512]
        return MissItem({
            "event_id": raw["event_id"],
            "rep_id": raw["rep_id"],
            "query": query,
            "topic": model.normalize_topic(query) or query.lower(),
            "filters": {k: [str(v) for v in vals][:20] for k, vals in (raw.get("filters") or {}).items()
                        if isinstance(vals, list)},
            "occurred_at": model.iso(occurred),
        })

    # ---- write ----------------------------------------------------------------------------
    def write(self, batch: Sequence[Parsed[Any]]) -> WriteResult:
        try:
            return self._write(batch)
        except errors.Unavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - outages retry with backoff, bugs crash loudly
            down = join.unavailable(exc)
            if down is not None:
                raise down from exc
            raise

    def ensure(self) -> None:
        if not self._ensured:
            store.ensure(self.es, self.settings, self.names)
            self._ensured = True

    def _write(self, batch: Sequence[Parsed[Any]]) -> WriteResult:
        self.ensure()
        result = WriteResult()
        deals = [p for p in batch if isinstance(p.event, DealItem)]
        usage = [p for p in batch if isinstance(p.event, UsageItem) and p.event.doc is not None]
        misses = [p for p in batch if isinstance(p.event, MissItem) and p.event.doc is not None]
        catalog = [p for p in batch if isinstance(p.event, CatalogItem)]
        result.written += sum(1 for p in batch if isinstance(p.event, (UsageItem, MissItem)) and p.event.doc is None)

        self._bulk(result, misses, lambda p: {"action": {"create": {"_index": self.names.misses, "_id": p.event.doc["event_id"]}},
                                              "source": p.event.doc}, conflict="duplicates")
        self._bulk(result, catalog, lambda p: {"action": {"index": {"_index": self.names.catalog, "_id": p.event.asset_id,
                                                                    "version": p.event.version, "version_type": "external"}},
                                               "source": p.event.doc}, conflict="stale")
        unique = _unique(usage)
        usage_docs = [p.event.doc for p in unique]
        outcome = self.joiner.write_usage(usage_docs)
        self._account(result, outcome, unique, "duplicates", len(usage) - len(unique))
        deal_docs = [p.event.doc for p in deals]
        outcome = self.joiner.write_deals(deal_docs)
        self._account(result, outcome, deals, "stale", 0)

        # Recompute everything the batch names, whatever each write's outcome (replays too).
        self.joiner.refresh()  # make this batch's raw writes searchable before resolving accounts
        affected = self.joiner.affected(usage_docs, (d["opportunity_id"] for d in deal_docs))
        self.joiner.recompute(affected, refresh=False)
        times = [p.event.occurred_s for p in batch if isinstance(p.event, UsageItem)] + [model.parse_iso(p.event.doc["updated_at"]).timestamp() for p in deals]
        if times:
            result.newest_event_time_s = max(times)
        return result

    def _bulk(self, result: WriteResult, items: list[Parsed[Any]], op: Any, conflict: str) -> None:
        if items:
            self._account(result, es_util.bulk(self.es, [op(p) for p in items]), items, conflict, 0)

    @staticmethod
    def _account(result: WriteResult, outcome: es_util.BulkOutcome, items: list[Parsed[Any]], conflict: str,
                 extra_conflicts: int) -> None:
        result.written += len(outcome.written)
        conflicts = len(outcome.conflicts) + extra_conflicts
        if conflict == "duplicates":
            result.duplicates += conflicts
        else:
            result.stale += conflicts
        for position, reason in outcome.rejected:
            if position < len(items):
                result.rejected.append((items[position].message, InvalidEvent("store_rejected", reason[:500])))


def _unique(items: list[Parsed[Any]]) -> list[Parsed[Any]]:
    """First occurrence of each event id (a batch may carry the same event twice)."""
    seen: set[str] = set()
    out = []
    for p in items:
        if p.event.doc["event_id"] not in seen:
            seen.add(p.event.doc["event_id"])
            out.append(p)
    return out


def main(argv: list[str] | None = None) -> None:
    cli.parse_no_arguments("python -m services.feedback.consumer", __doc__, argv)
    settings = config.load()
    processor = FeedbackProcessor(settings)
    topics.ensure_all(settings)
    es_util.retry_until_available(processor.ensure)
    stop = threading.Event()
    periodic.start("feedback-signals", settings.feedback_signals_interval_s, lambda: signals.SignalPublisher(settings), stop)
    try:
        run_forever(processor, settings, settings.metrics_port or METRICS_PORT)
    finally:
        stop.set()


if __name__ == "__main__":
    main()
