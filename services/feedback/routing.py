"""The router: the join's inputs re-keyed by opportunity, plus the content-gap inputs.

Group `<ns>.feedback-router` reads four topics:

- deals.v1: validated deal snapshots, forwarded to feedback.join.v1 with key = opportunity_id
  (the CRM's own keys and partitioner are not trusted to match the join topic's);
- usage.classified.v1: the usage service's stored events with its bot verdict. Each is
  stored raw in this service's `usage` index first (a human verdict by `create`, a bot
  verdict by deleting the event: the newest verdict wins, and the usage service only ever
  turns events into bots), the index refreshed, and then forwarded: an event naming an
  opportunity once, keyed by it; an account-only event once per opportunity of the
  account whose window can hold it (a bot verdict: to every opportunity of the account);
- search.v1: zero-result searches into `search-misses` (content gaps);
- catalog.v1: this service's copy of the catalog (titles, freshness for the scorecard).

Storing before looking up is what makes account-only events exact against deals arriving
at the same moment: the join stage writes a deal, refreshes, then reads the account's
events; the router writes an event, refreshes, then reads the account's deals; at least
one of the two sees the other. Forwarding happens before the offsets are committed, so
nothing is lost; duplicates are absorbed by the join (events by id, deals by version).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Sequence

from elasticsearch import Elasticsearch

from services.common import config, errors, es as es_util, events, kafka_io, metrics, topics
from services.common.consumer import InvalidEvent, Message, Parsed, WriteResult, parse_json_object
from services.feedback import join, model, store
from services.feedback.join_stage import DEAL, EVENT, KIND_HEADER

log = logging.getLogger(__name__)

MAX_CATALOG_BYTES = 256 * 1024
MAX_SEARCH_BYTES = 128 * 1024
_CATALOG_FIELDS = ("asset_id", "title", "type", "status", "created_at", "updated_at", "published_at", "expires_at",
                   "version")


@dataclass
class DealItem:
    doc: dict[str, Any]


@dataclass
class UsageItem:
    doc: dict[str, Any]  # the join's view of a classified event, is_bot included
    occurred_s: float


@dataclass
class MissItem:
    doc: dict[str, Any] | None  # None: the search found something


@dataclass
class CatalogItem:
    asset_id: str
    version: int
    doc: dict[str, Any]


class RouterProcessor:
    """Processor of the shared ConsumerLoop; dispatches by topic."""

    name = "feedback-router"

    def __init__(self, settings: config.Settings, es: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = es or es_util.client(settings)
        self.names = store.Names.of(settings)
        self.joiner = join.Joiner(self.es, settings, self.names)
        self.deals_topic = topics.DEALS.name(settings)
        self.usage_topic = topics.USAGE_CLASSIFIED.name(settings)
        self.search_topic = topics.SEARCHES.name(settings)
        self.catalog_topic = topics.CATALOG.name(settings)
        self.join_topic = topics.FEEDBACK_JOIN.name(settings)
        self.topics = (self.deals_topic, self.usage_topic, self.search_topic, self.catalog_topic)
        self.dead_letter_topic = topics.DEALS_DLQ.name(settings)
        self.producer = kafka_io.Producer(settings, client_id="feedback-router")
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
            doc = model.validate_classified(raw)
            return UsageItem(doc, model.parse_iso(doc["occurred_at"]).timestamp())
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
        usage = [p for p in batch if isinstance(p.event, UsageItem)]
        misses = [p for p in batch if isinstance(p.event, MissItem) and p.event.doc is not None]
        catalog = [p for p in batch if isinstance(p.event, CatalogItem)]
        result.written += sum(1 for p in batch if isinstance(p.event, MissItem) and p.event.doc is None)
        self._bulk(result, misses, lambda p: {"action": {"create": {"_index": self.names.misses, "_id": p.event.doc["event_id"]}},
                                              "source": p.event.doc}, conflict="duplicates")
        self._bulk(result, catalog, lambda p: {"action": {"index": {"_index": self.names.catalog, "_id": p.event.asset_id,
                                                                    "version": p.event.version, "version_type": "external"}},
                                               "source": p.event.doc}, conflict="stale")
        records = [_record(self.join_topic, p.event.doc["opportunity_id"], DEAL, p.event.doc) for p in deals]
        result.written += len(deals)
        if usage:
            records += self._store_and_route(usage, result)
        self.producer.send_and_wait(records, timeout_s=max(30.0, self.settings.kafka_produce_timeout_s))
        metrics.FEEDBACK_ROUTED.labels("deal").inc(len(deals))
        metrics.FEEDBACK_ROUTED.labels("event").inc(len(records) - len(deals))
        times = [p.event.occurred_s for p in usage] + [model.parse_iso(p.event.doc["updated_at"]).timestamp() for p in deals]
        if times:
            result.newest_event_time_s = max(times)
        return result

    def _store_and_route(self, usage: list[Parsed[UsageItem]], result: WriteResult) -> list[kafka_io.Record]:
        """Store each event's newest verdict, refresh, then one record per opportunity it may touch."""
        latest: dict[str, Parsed[UsageItem]] = {}
        for p in usage:  # in partition order: the last verdict of an event in the batch is its newest
            latest[p.event.doc["event_id"]] = p
        unique = list(latest.values())
        ops = [_store_op(self.names.usage, p.event.doc) for p in unique]
        outcome = es_util.bulk(self.es, ops)
        # Deleting an event never stored (a bot from the start) answers 404: the wanted state.
        outcome.rejected = [(i, reason) for i, reason in outcome.rejected if "delete" not in ops[i]["action"]]
        self._account(result, outcome, unique, "duplicates", len(usage) - len(unique))
        refused = {unique[i].event.doc["event_id"] for i, _ in outcome.rejected}
        unique = [p for p in unique if p.event.doc["event_id"] not in refused]  # dead-lettered, never joined
        self.es.indices.refresh(index=self.names.usage)
        account_only = [p.event.doc for p in unique if not p.event.doc.get("opportunity_id") and p.event.doc.get("account_id")]
        deals_of = self._deals_of_accounts({d["account_id"] for d in account_only})
        records = []
        for p in unique:
            doc = p.event.doc
            if doc.get("opportunity_id"):
                records.append(_record(self.join_topic, doc["opportunity_id"], EVENT, doc))
            elif doc.get("account_id"):
                at = model.parse_iso(doc["occurred_at"])
                for deal in deals_of.get(doc["account_id"], ()):
                    if doc["is_bot"] or model.in_window(at, self.joiner.window(deal)):
                        records.append(_record(self.join_topic, deal["opportunity_id"], EVENT, doc))
        return records

    def _deals_of_accounts(self, accounts: set[str]) -> dict[str, list[dict[str, Any]]]:
        """Every stored deal of these accounts (refreshed by the join stage after each deal write)."""
        found: dict[str, list[dict[str, Any]]] = {}
        ordered = sorted(accounts)
        for i in range(0, len(ordered), 1000):
            query = {"terms": {"account_id": ordered[i:i + 1000]}}
            for hit in store.scan(self.es, self.names.deals, query, sort=[{"opportunity_id": "asc"}], size=5000):
                found.setdefault(hit["_source"]["account_id"], []).append(hit["_source"])
        return found

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


def _store_op(index: str, doc: dict[str, Any]) -> dict[str, Any]:
    """A human verdict is stored once (create: a 409 keeps what is there); a bot verdict removes the event."""
    if doc["is_bot"]:
        return {"action": {"delete": {"_index": index, "_id": doc["event_id"]}}, "source": None}
    return {"action": {"create": {"_index": index, "_id": doc["event_id"]}}, "source": doc}


def _record(topic: str, key: str, kind: bytes, doc: dict[str, Any]) -> kafka_io.Record:
    return kafka_io.Record(topic, key, json.dumps(doc, separators=(",", ":")).encode(), ((KIND_HEADER, kind),))
