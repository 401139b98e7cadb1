"""`python -m services.usage.consumer`: usage events from Kafka into Elasticsearch.

One consumer group (`<ns>.usage-consumer`) reads three topics, so one process keeps
everything it needs consistent; run more processes to scale out (partitions are
spread over them; events are keyed by asset, so one asset's rollups have one writer):

- usage.v1: validated, bot-classified, customer opens beyond their share link's daily
  caps flagged `beacon_flood` (see bots.py), stored raw (`_id = event_id`,
  `op_type=create`: a duplicate is a 409, counted as skipped), then the touched
  (asset, day) rollups are recomputed from the raw events (see rollups.py); every stored
  event is then published with its verdict to usage.classified.v1 (the one bot verdict
  the feedback join consumes, schemas/usage-classified.v1.json; see docs/usage.md);
- catalog.v1: the service's own view of the catalog (`usage-catalog`, external version
  = asset version, so replays and reordering never regress it); it tells which asset ids
  exist (events for unknown ids are kept and flagged) and feeds the unused report;
- search.v1: search events stored raw (`_id = event_id`), giving per-asset search
  impressions for the unused report.

Parsing (UsageParser: validation, and each event's stored document, bulk line and verdict
record encoded ahead of the write) depends on the message and the settings only, so it may run
in worker processes (COLLATERAL_USAGE_CONSUMER_PARSE_PROCESSES). The shared ConsumerLoop
commits offsets only after these writes succeeded, dead-letters
invalid messages to usage.dlq.v1 with the reason, and pauses with backoff while
Elasticsearch is down. The process also publishes usage ranking signals every
`COLLATERAL_USAGE_SIGNALS_INTERVAL_S` seconds (see signals.py).
"""

from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, Sequence

from elasticsearch import Elasticsearch

from services.common import cli, config, es as es_util, kafka_io, logs, metrics, topics
from services.common.consumer import (ConsumerLoop, InvalidEvent, LoopGroup, Message, Parsed, WriteResult,
                                      run_process)
from services.common.contracts import catalog, jsonbytes, search, times, usage_event
from services.common.kafka_io import Producer, Record
from services.usage import bots, model, rollups, signals, store

log = logging.getLogger(__name__)

METRICS_PORT = 9467
MAX_CATALOG_BYTES = catalog.MAX_BYTES
MAX_SEARCH_BYTES = search.MAX_BYTES


class UsageItem(NamedTuple):
    """A valid usage event as the write needs it, prepared while parsing (the write only adds
    what Elasticsearch tells: the catalog, the share link's age, the open caps): the few fields
    the write decides with, the stored document's JSON without the verdict, its bulk action line
    and its verdict record's key and JSON without the verdict. Small on purpose: parse workers
    send thousands per batch, and pickling the whole event and document cost 17 us a message
    on the two sides together; a tuple also crosses at half a dataclass's cost."""

    facts: dict[str, Any]  # WRITE_FACTS of the stored document; the write adds the verdict
    request_is_bot: bool  # the verdict on the request itself (bots.classify_event_request)
    request_reason: str
    source: bytes
    action: bytes
    verdict_key: str  # its usage.classified.v1 record's key, and the record without the verdict
    verdict_base: bytes


# What the write reads of a stored document: the catalog lookup, the share link's age, the open
# caps (bots.open_cap_key, bots.opens_over_cap), the rollup pairs and a replay's stored version.
WRITE_FACTS = ("event_id", "type", "asset_id", "occurred_at", "share_id", "room_id", "ip_hash")


@dataclass
class CatalogItem:
    asset_id: str
    version: int
    doc: dict[str, Any]


@dataclass
class SearchItem:
    event_id: str
    doc: dict[str, Any]


class UsageParser:
    """The parse step of the usage consumer: a function of the message and the settings alone,
    so it also runs in parse worker processes (COLLATERAL_USAGE_CONSUMER_PARSE_PROCESSES)."""

    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings
        self.names = store.Names.of(settings)
        self.catalog_topic = topics.CATALOG.name(settings)
        self.search_topic = topics.SEARCHES.name(settings)

    def __call__(self, message: Message) -> UsageItem | CatalogItem | SearchItem:
        if message.topic == self.catalog_topic:
            snapshot = catalog.parse(jsonbytes.parse_json_object(message, catalog.MAX_BYTES))
            return CatalogItem(snapshot.asset_id, snapshot.version, snapshot.doc)
        if message.topic == self.search_topic:
            return _search_item(search.parse(jsonbytes.parse_json_object(message, search.MAX_BYTES)))
        return self._parse_usage(message)

    def _parse_usage(self, message: Message) -> UsageItem:
        event = usage_event.parse(jsonbytes.parse_json_object(message, usage_event.MAX_EVENT_BYTES))
        if "received_at" not in event:
            # Written straight to the topic: the broker's append time is when we received it.
            event["received_at"] = message.appended_at_iso
        doc = model.unclassified_document(event, received_at=event["received_at"], ip_secret=self.settings.auth_secret)
        # Encoded with orjson here, off the write's path (on the polling thread while the previous
        # batch is written, or in a parse worker): the client would encode these lines with the
        # standard library on the write's path. Validated events hold no NaN or bytes.
        action = jsonbytes.dumps({"create": {"_index": self.names.events_index(doc["occurred_at"]), "_id": doc["event_id"]}})
        base = classified_base(doc)
        request = bots.classify_event_request(event)
        return UsageItem({k: doc[k] for k in WRITE_FACTS if k in doc}, request.is_bot, request.reason,
                         jsonbytes.dumps(doc), action, classified_key(base), jsonbytes.dumps(base))


class UsageProcessor:
    """Processor of the shared ConsumerLoop for the usage, catalog and search topics."""

    parser_factory = UsageParser  # parse workers build the parse step from the settings

    name = "usage-consumer"
    pipelined = True  # writes are idempotent and order-independent: overlap polling with writing
    # Under a backlog a batch gathers up to 4 polls while the previous one is written: the refresh
    # and the rollup recompute (which reads every event of each touched asset and day) are per batch.
    max_batch_polls = 4

    def __init__(self, settings: config.Settings, es: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = es or es_util.client(settings)
        self.names = store.Names.of(settings)
        self.usage_topic = topics.USAGE.name(settings)
        self.catalog_topic = topics.CATALOG.name(settings)
        self.search_topic = topics.SEARCHES.name(settings)
        self.topics = (self.usage_topic, self.catalog_topic, self.search_topic)
        self.dead_letter_topic = topics.USAGE_DLQ.name(settings)
        self._ensured = False
        self.pipelined = settings.usage_consumer_pipelined  # the loop overlaps polling with writing unless off
        self.classified_topic = topics.USAGE_CLASSIFIED.name(settings)
        self._classified = Producer(settings, client_id="usage-classified")
        self._publisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="usage-classified")
        self.parse = UsageParser(settings)

    # ---- write (an Elasticsearch outage raised here is recognised by the loop's write step) ----
    def write(self, batch: Sequence[Parsed[Any]]) -> WriteResult:
        if not self._ensured:
            store.ensure(self.es, self.settings)
            self._ensured = True
        result = WriteResult()
        snapshots = [p for p in batch if isinstance(p.event, CatalogItem)]
        searches = [p for p in batch if isinstance(p.event, SearchItem)]
        usage = [p for p in batch if isinstance(p.event, UsageItem)]
        if snapshots:
            self._write_catalog(snapshots, result)
        if searches:
            self._write_searches(searches, result)
        if usage:
            self._write_usage(usage, result)
        return result

    def _write_catalog(self, items: list[Parsed[CatalogItem]], result: WriteResult) -> None:
        ops = [{"action": {"index": {"_index": self.names.catalog, "_id": p.event.asset_id,
                                     "version": p.event.version, "version_type": "external"}},
                "source": p.event.doc} for p in items]
        outcome = es_util.bulk(self.es, ops)
        result.written += len(outcome.written)
        result.stale += len(outcome.conflicts)
        result.rejected += [(items[i].message, InvalidEvent("rejected_by_store", reason)) for i, reason in outcome.rejected]

    def _write_searches(self, items: list[Parsed[SearchItem]], result: WriteResult) -> None:
        ops = [{"action": {"create": {"_index": self.names.searches, "_id": p.event.event_id}}, "source": p.event.doc}
               for p in items]
        outcome = es_util.bulk(self.es, ops)
        result.written += len(outcome.written)
        result.duplicates += len(outcome.conflicts)
        result.rejected += [(items[i].message, InvalidEvent("rejected_by_store", reason)) for i, reason in outcome.rejected]

    def _known_assets(self, asset_ids: set[str]) -> set[str]:
        if not asset_ids:
            return set()
        response = self.es.mget(index=self.names.catalog, ids=sorted(asset_ids), source=False)
        return {d["_id"] for d in response["docs"] if d.get("found")}

    def _share_times(self, share_ids: set[str], index: str | None = None, field: str = "share_id") -> dict[str, datetime]:
        """Creation time of each share link (or, with the rooms index and `room_id`, each deal room)."""
        if not share_ids:
            return {}
        ordered, found = sorted(share_ids), {}
        for i in range(0, len(ordered), 5000):  # a search returns at most 10,000 hits
            chunk = ordered[i:i + 5000]
            response = self.es.search(index=index or self.names.shares, size=len(chunk), query={"terms": {field: chunk}},
                                      source=[field, "created_at"], ignore_unavailable=True)
            found.update({h["_source"][field]: times.parse_stored(h["_source"]["created_at"])
                          for h in response["hits"]["hits"]})
        return found

    def _link_times(self, evs: list[dict[str, Any]]) -> dict[str, datetime]:
        """Creation time of the share link or deal room of each customer event, by share_id or room_id."""
        customer = [e for e in evs if e["type"] in bots.CUSTOMER_TYPES]
        found = self._share_times({e["share_id"] for e in customer if e.get("share_id")})
        found.update(self._share_times({e["room_id"] for e in customer if e.get("room_id") and not e.get("share_id")},
                                       self.names.rooms, "room_id"))
        return found

    def _apply_open_caps(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Flag the batch's customer opens beyond their share link's daily caps (bots.py).

        The cap rule runs over the opens counted so far for the links and days the batch
        touches plus the batch's own human opens; by the rule's monotonicity that equals
        running it over the whole history. Returns the stored opens that the batch
        pushed out of the caps (earlier-timed late arrivals), to be flagged as well.
        """
        candidates = [d for d in docs if not d["is_bot"] and bots.open_cap_key(d) is not None]
        if not candidates:
            return []
        stored = self._counted_opens({bots.open_cap_key(d) for d in candidates})
        over = bots.opens_over_cap([*stored, *candidates], self._open_caps())
        for d in candidates:
            if d["event_id"] in over:
                d["is_bot"], d["bot_reason"] = True, bots.FLOOD_REASON
        return [s for s in stored if s["event_id"] in over]

    def _open_caps(self) -> bots.OpenCaps:
        return bots.OpenCaps(per_client=self.settings.usage_share_opens_per_client_day,
                             per_link=self.settings.usage_share_opens_per_link_day)

    def _counted_opens(self, keys: set[tuple[tuple[str, ...], str]]) -> list[dict[str, Any]]:
        """Stored customer opens that count (not bots) for these (link, day) keys (bots.cap_link).

        At most `per_link` per key by the cap rule, so the read stays small whatever
        the flood; earlier batches' writes are searchable (refreshed after each batch).
        """
        per_query = max(1, 10_000 // max(1, self.settings.usage_share_opens_per_link_day))
        ordered = sorted(keys)
        out: list[dict[str, Any]] = []
        for i in range(0, len(ordered), per_query):
            chunk = ordered[i:i + per_query]
            days = sorted({day for _, day in chunk})
            links = sorted({link for link, _ in chunk})
            response = self.es.search(
                index=self.names.events, size=10_000, ignore_unavailable=True, allow_no_indices=True,
                source=list(WRITE_FACTS),
                query={"bool": {"filter": [
                    {"term": {"type": "customer_open"}}, {"term": {"is_bot": False}},
                    {"bool": {"minimum_should_match": 1, "should": _link_clauses(links)}},
                    {"range": {"occurred_at": {"gte": days[0], "lt": _next_day(days[-1]),
                                               "format": "strict_date"}}}]}})
            wanted = set(chunk)
            for hit in response["hits"]["hits"]:
                doc = dict(hit["_source"], _index=hit["_index"])
                if bots.open_cap_key(doc) in wanted:
                    out.append(doc)
        return out

    def _flag_pushed_out(self, stored: list[dict[str, Any]]) -> None:
        """Mark stored opens that a batch pushed out of the caps as beacon_flood (partial update)."""
        if not stored:
            return
        ops = [{"action": {"update": {"_index": d["_index"], "_id": d["event_id"]}},
                "source": {"doc": {"is_bot": True, "bot_reason": bots.FLOOD_REASON}}} for d in stored]
        outcome = es_util.bulk(self.es, ops)
        if outcome.rejected:
            raise RuntimeError(f"open cap updates rejected: {outcome.rejected[0][1]}")
        metrics.USAGE_BOT_EVENTS.labels(bots.FLOOD_REASON).inc(len(outcome.written))

    def _write_usage(self, items: list[Parsed[UsageItem]], result: WriteResult) -> None:
        docs = [p.event.facts for p in items]
        known = self._known_assets({d["asset_id"] for d in docs})
        shared_at = self._link_times(docs)
        fast_open_s = self.settings.usage_bot_fast_open_s
        for p, d in zip(items, docs):  # the verdict, set again from the request's on a retried write
            is_bot, reason = p.event.request_is_bot, p.event.request_reason
            link = d.get("share_id") or d.get("room_id")
            if not is_bot and link in shared_at and d["type"] in bots.CUSTOMER_TYPES:
                since = (times.parse_stored(d["occurred_at"]) - shared_at[link]).total_seconds()
                verdict = bots.timed(bots.HUMAN, since, fast_open_s)
                is_bot, reason = verdict.is_bot, verdict.reason
            model.with_verdict(d, is_bot=is_bot, bot_reason=reason, known_asset=d["asset_id"] in known)
        pushed_out = self._apply_open_caps(docs)
        indices = sorted({self.names.events_index(d["occurred_at"]) for d in docs})
        store.ensure_event_indices(self.es, indices)
        ops = [{"action": p.event.action, "source": model.encode_with_verdict(p.event.source, d)}
               for p, d in zip(items, docs)]
        outcome = es_util.bulk(self.es, ops)  # type: ignore[arg-type]  # NDJSON lines as bytes pass through as-is
        self._flag_pushed_out(pushed_out)
        # Verdicts are produced while Elasticsearch refreshes and recomputes the rollups; the
        # write (hence the commit) still waits for Kafka's acknowledgement below.
        published = self._publisher.submit(self._publish_verdicts, items, docs, outcome, pushed_out)
        try:
            self._count_and_roll_up(items, docs, outcome, pushed_out, indices, result)
        finally:
            published.result()

    def _count_and_roll_up(self, items: list[Parsed[UsageItem]], docs: list[dict[str, Any]],
                           outcome: es_util.BulkOutcome, pushed_out: list[dict[str, Any]], indices: list[str],
                           result: WriteResult) -> None:
        result.written += len(outcome.written)
        result.duplicates += len(outcome.conflicts)
        rejected = {i for i, _ in outcome.rejected}
        result.rejected += [(items[i].message, InvalidEvent("rejected_by_store", reason)) for i, reason in outcome.rejected]
        for i in outcome.written:
            if docs[i]["is_bot"]:
                metrics.USAGE_BOT_EVENTS.labels(docs[i]["bot_reason"]).inc()
            if not docs[i]["known_asset"]:
                metrics.USAGE_UNKNOWN_ASSET_EVENTS.inc()
        # Recompute every pair the batch touched, duplicates included: a replay after a crash
        # between the raw write and the rollup write must still fix the rollup.
        pairs = {(d["asset_id"], model.day_of(d["occurred_at"])) for i, d in enumerate(docs) if i not in rejected}
        pairs |= {(d["asset_id"], model.day_of(d["occurred_at"])) for d in pushed_out}
        if pairs:
            self.es.indices.refresh(index=",".join(indices), ignore_unavailable=True)
            rollup_docs = rollups.compute(self.es, self.names, pairs, times.now_iso())
            rollups.write(self.es, self.names, rollup_docs)
        result.newest_event_time_s = times.epoch_s(max(d["occurred_at"] for d in docs)) if docs else None

    def _publish_verdicts(self, items: list[Parsed[UsageItem]], docs: list[dict[str, Any]],
                          outcome: es_util.BulkOutcome, pushed_out: list[dict[str, Any]]) -> None:
        """Publish every stored event of the batch with its verdict, before the offsets are committed.

        New events go out as classified here; a duplicate (409: stored earlier, perhaps
        re-flagged since, perhaps never published because the process died before this
        step) goes out as it is stored, and so do stored opens this batch pushed out of
        their caps (now beacon_flood). So the topic always carries the stored verdict,
        which only ever turns an event into a bot: the newest verdict is the truth.
        """
        topic = self.classified_topic
        records = [Record(topic, items[i].event.verdict_key,
                          jsonbytes.with_fields(items[i].event.verdict_base, verdict_fields(docs[i])))
                   for i in outcome.written]
        replayed = self._stored([docs[i] for i in outcome.conflicts])
        reflagged = self._stored(pushed_out)
        records += [self._verdict_record(d) for d in (*replayed, *reflagged)]
        self._classified.send_and_wait(records, timeout_s=max(30.0, self.settings.kafka_produce_timeout_s))
        for cause, count in (("stored", len(outcome.written)), ("replayed", len(replayed)), ("reflagged", len(reflagged))):
            metrics.USAGE_CLASSIFIED_PUBLISHED.labels(cause).inc(count)

    def _stored(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The stored versions of these events (realtime GET: this batch's own updates included)."""
        if not docs:
            return []
        wanted = [{"_index": d.get("_index") or self.names.events_index(d["occurred_at"]), "_id": d["event_id"]}
                  for d in docs]
        found = self.es.mget(docs=wanted)["docs"]
        return [d["_source"] for d in found if d.get("found")]

    def _verdict_record(self, doc: dict[str, Any]) -> Record:
        event = classified_event(doc)
        return Record(self.classified_topic, classified_key(event), jsonbytes.dumps(event))


CLASSIFIED_FIELDS = ("event_id", "occurred_at", "type", "asset_id", "rep_id", "opportunity_id", "account_id",
                     "share_id", "room_id", "channel")


def classified_event(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored usage event as the usage.classified.v1 contract: join fields plus the verdict."""
    return {**classified_base(stored), **verdict_fields(stored)}


def classified_base(stored: dict[str, Any]) -> dict[str, Any]:
    """The join fields of `classified_event`: what does not depend on the verdict (encoded while parsing)."""
    event: dict[str, Any] = {k: v for k in CLASSIFIED_FIELDS if (v := stored.get(k)) is not None and v != ""}
    event["schema_version"] = 1
    return event


def verdict_fields(stored: dict[str, Any]) -> dict[str, Any]:
    """The verdict of `classified_event`: `is_bot`, and a bot's `bot_reason`."""
    if stored.get("is_bot"):
        return {"bot_reason": stored["bot_reason"], "is_bot": True} if stored.get("bot_reason") else {"is_bot": True}
    return {"is_bot": False}


def classified_key(event: dict[str, Any]) -> str:
    """The same key for every verdict of one event, so they stay in publication order."""
    return str(event.get("opportunity_id") or event.get("account_id") or event["asset_id"])


def _link_clauses(links: list[tuple[str, ...]]) -> list[dict[str, Any]]:
    """Query clauses matching the opens of these cap links (bots.cap_link): share ids, or one asset of a room."""
    shares = [link[1] for link in links if link[0] == "share"]
    clauses: list[dict[str, Any]] = [{"terms": {"share_id": shares}}] if shares else []
    for link in links:
        if link[0] == "room":
            clauses.append({"bool": {"filter": [{"term": {"room_id": link[1]}}, {"term": {"asset_id": link[2]}}]}})
    return clauses


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _search_item(found: search.Search) -> SearchItem:
    return SearchItem(found.event_id, {"event_id": found.event_id, "occurred_at": found.occurred_at,
                                       "rep_id": found.rep_id, "query": found.query,
                                       "result_count": found.result_count, "shown_asset_ids": found.shown_asset_ids})


def main(argv: list[str] | None = None) -> None:
    cli.parse_no_arguments("python -m services.usage.consumer", __doc__, argv)
    settings = config.load()
    settings = dataclasses.replace(settings, consumer_batch_size=settings.usage_consumer_batch_size,
                                   consumer_parse_processes=settings.usage_consumer_parse_processes)
    logs.configure(UsageProcessor.name, settings.log_level, settings.log_format)
    processor = UsageProcessor(settings)
    kafka_io.retry_until_available(settings, lambda: topics.ensure_all(settings), "topics")  # waits, never crash-loops
    es_util.retry_until_available(lambda: store.ensure(processor.es, settings))
    processor._ensured = True
    run_process(processor.name, LoopGroup([ConsumerLoop(processor, settings)], settings), METRICS_PORT, [
        ("usage-signals", settings.usage_signals_interval_s, lambda: signals.SignalPublisher(settings))])


if __name__ == "__main__":
    main()
