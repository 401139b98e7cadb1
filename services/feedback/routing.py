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
- search.v1: zero-result and poor-result searches into `search-misses` (content gaps);
- catalog.v1: this service's copy of the catalog (titles, freshness for the scorecard).

Storing before looking up is what makes account-only events exact against deals arriving
at the same moment: the join stage writes a deal, refreshes, then reads the account's
events; the router writes an event, refreshes, then reads the account's deals; at least
one of the two sees the other. Forwarding happens before the offsets are committed, so
nothing is lost; duplicates are absorbed by the join (events by id, deals by version).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Sequence

from elasticsearch import Elasticsearch

from services.common import config, errors, es as es_util, kafka_io, metrics, topics
from services.common.consumer import InvalidEvent, Message, Parsed, WriteResult
from services.common.contracts import catalog, classified, deal, jsonbytes, search
from services.feedback import join, join_stage, model, store
from services.feedback.join_stage import DEAL, EVENT
from services.feedback.writes import Writes

log = logging.getLogger(__name__)

MAX_CATALOG_BYTES = catalog.MAX_BYTES
MAX_SEARCH_BYTES = search.MAX_BYTES
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


def _miss(found: search.Search, poor_result_max: int) -> MissItem:
    """A zero- or poor-result search for words is a content gap, kept with its result count; others are not (None).

    The search event says how many assets matched but not whether the rep used one, so the
    count is all a poor-result search carries.
    """
    if found.gap_kind(poor_result_max) is None:
        return MissItem(None)
    query = found.query.strip()
    return MissItem({"event_id": found.event_id, "rep_id": found.rep_id, "query": query,
                     "topic": model.normalize_topic(query) or query.lower(), "filters": found.filters,
                     "occurred_at": found.occurred_at, "result_count": found.result_count})


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
        self._join_partitions = 0  # of feedback.join.v1, read from Kafka once (fixed while consumers run)

    # ---- parse ----------------------------------------------------------------------------
    def parse(self, message: Message) -> Any:
        if message.topic == self.deals_topic:
            doc = model.validate_deal(jsonbytes.parse_json_object(message, deal.MAX_BYTES))
            doc.setdefault("received_at", message.appended_at_iso)
            return DealItem(doc)
        if message.topic == self.usage_topic:
            event, occurred_s = classified.parse(jsonbytes.parse_json_object(message, classified.MAX_BYTES))
            return UsageItem(event, occurred_s)  # type: ignore[arg-type]
        if message.topic == self.search_topic:
            return _miss(search.parse(jsonbytes.parse_json_object(message, search.MAX_BYTES), refuse_future=False),
                         self.settings.feedback_poor_result_max)
        if message.topic == self.catalog_topic:
            snapshot = catalog.parse(jsonbytes.parse_json_object(message, catalog.MAX_BYTES))
            return CatalogItem(snapshot.asset_id, snapshot.version, snapshot.projected(_CATALOG_FIELDS))
        raise InvalidEvent("unknown_topic", message.topic)

    @staticmethod
    def keep(item: Any) -> bool:
        """The loop's filter step: a search that is not a content gap needs no write (committed, counted `filtered`)."""
        return not (isinstance(item, MissItem) and item.doc is None)

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
        routed: list[tuple[bytes, str, dict[str, Any]]] = [(DEAL, p.event.doc["opportunity_id"], p.event.doc) for p in deals]
        result.written += len(deals)
        if usage:
            routed += self._store_and_route(usage, result)
        self._forward(routed)
        metrics.FEEDBACK_ROUTED.labels("deal").inc(len(deals))
        metrics.FEEDBACK_ROUTED.labels("event").inc(len(routed) - len(deals))
        times = [p.event.occurred_s for p in usage] + [model.parse_iso(p.event.doc["updated_at"]).timestamp() for p in deals]
        if times:
            result.newest_event_time_s = max(times)
        return result

    def _forward(self, routed: list[tuple[bytes, str, dict[str, Any]]]) -> None:
        """Produce the batch's join inputs, bundled per partition of the join topic, and wait for Kafka."""
        if not routed:
            return
        if not self._join_partitions:
            self._join_partitions = self.producer.partition_count(self.join_topic)
        records = join_stage.bundle(self.join_topic, self._join_partitions, routed)
        self.producer.send_and_wait(records, timeout_s=max(30.0, self.settings.kafka_produce_timeout_s))

    def _store_and_route(self, usage: list[Parsed[UsageItem]], result: WriteResult) -> list[tuple[bytes, str, dict[str, Any]]]:
        """Store each event's newest verdict, refresh, then one join input per opportunity it may touch."""
        latest: dict[str, Parsed[UsageItem]] = {}
        for p in usage:  # in partition order: the last verdict of an event in the batch is its newest
            latest[p.event.doc["event_id"]] = p
        unique = list(latest.values())
        writes = Writes()
        for p in unique:
            _store(writes, self.names.usage, p.event.doc)
        outcome = writes.run(self.es)
        # Deleting an event never stored (a bot from the start) answers 404: the wanted state.
        outcome.rejected = writes.refused(outcome)
        self._account(result, outcome, unique, "duplicates", len(usage) - len(unique))
        refused = {unique[i].event.doc["event_id"] for i, _ in outcome.rejected}
        unique = [p for p in unique if p.event.doc["event_id"] not in refused]  # dead-lettered, never joined
        self.es.indices.refresh(index=self.names.usage)
        account_only = [p.event.doc for p in unique if not p.event.doc.get("opportunity_id") and p.event.doc.get("account_id")]
        deals_of = self._deals_of_accounts({d["account_id"] for d in account_only})
        routed: list[tuple[bytes, str, dict[str, Any]]] = []
        windows = {d["opportunity_id"]: self.joiner.window(d) for deals in deals_of.values() for d in deals}
        for p in unique:
            doc = p.event.doc
            if doc.get("opportunity_id"):
                routed.append((EVENT, doc["opportunity_id"], doc))
            elif doc.get("account_id"):
                at = model.parse_iso(doc["occurred_at"])
                for deal in deals_of.get(doc["account_id"], ()):
                    if doc["is_bot"] or model.in_window(at, windows[deal["opportunity_id"]]):
                        routed.append((EVENT, deal["opportunity_id"], doc))
        return routed

    def _deals_of_accounts(self, accounts: set[str]) -> dict[str, list[dict[str, Any]]]:
        """Every stored deal of these accounts (refreshed by the join stage after each deal write)."""
        found: dict[str, list[dict[str, Any]]] = {}
        ordered = sorted(accounts)
        for i in range(0, len(ordered), 1000):
            query = {"terms": {"account_id": ordered[i:i + 1000]}}
            for hit in store.scan(self.es, self.names.deals, query, sort=[{"opportunity_id": "asc"}], size=5000,
                                  source=list(_WINDOW_FIELDS)):
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


# What routing needs of a stored deal: its account and its window (model.window).
_WINDOW_FIELDS = ("opportunity_id", "account_id", "stage", "created_at", "closed_at")


def _store(writes: Writes, index: str, doc: dict[str, Any]) -> None:
    """A human verdict is stored once (create: a 409 keeps what is there); a bot verdict removes the event."""
    if doc["is_bot"]:
        writes.delete(index, doc["event_id"])
    else:
        writes.create(index, doc["event_id"], doc)
