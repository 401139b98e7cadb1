"""Rollups: per (asset, close month) sums of the touches and credits, kept exact by recomputation.

ListAssetWinRates and GetAttribution without a segment filter and over whole UTC months
(or all time) aggregate these documents (about assets x months of them, tens of thousands)
instead of millions of touches and credits. Anything else (a segment filter, a range
that does not start and end on a UTC month boundary, rollups not built yet) keeps the
exact path over touches and credits (reports.py).

A rollup document, `_id` = "asset_id|month" (month "YYYY-MM" in UTC, or "none" when
the date is missing), holds for one asset:

- won, lost: touches of won / lost deals closed in the month; won_amount: the won ones'
  influenced revenue (`influenced_amount`);
- open: touches of open deals created in the month (an open deal counts in every range
  ending after its creation, as in Filters.clauses);
- the credit sums of its won deals closed in the month (credits.py): credited_deals, one
  field per model, sourced, sourced_revenue, influenced_revenue, and primary_deals /
  primary_amount (the deals whose primary credit is this asset's: won deals counted once).

Exact with many writers without scripts or increments: a rollup key spans deals of
several join partitions, so nobody adds deltas. The join stage sends every key whose
touches or credits it wrote (old and new key of a changed document, every key of a freshly
loaded opportunity) to the internal topic feedback.rollup.v1, to the partition of the key.
The rollup stage (one more loop of the feedback consumer) refreshes touches and credits and
recomputes each key of a batch from them with one aggregation per month, writing the
document with an external version from the key's newest offset (2 x offset + 2): a stale
writer after a rebalance (older offset) gets 409, and a replay recomputes the same value.
`rebuild` recomputes every key with version 2 x end offset + 1, the end offset of the key's
partition read before it reads the sources: every key changed later (a higher offset) wins
over it, and it wins over every older write, a deleted document's tombstone included.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

import orjson
from elasticsearch import Elasticsearch, NotFoundError
from kafka.structs import TopicPartition

from services.common import config, errors, es as es_util, kafka_io, metrics, topics
from services.common.consumer import InvalidEvent, Message, Parsed, WriteResult
from services.feedback import attribution, model, store
from services.feedback.writes import Writes

log = logging.getLogger(__name__)

NONE_MONTH = "none"  # the key of touches whose month date is missing (counted in all-time reports only)
CLOSED_STAGES = ("won", "lost")
CREDIT_FIELDS = (*attribution.MODELS, "sourced_revenue", "influenced_revenue")
COUNT_FIELDS = ("won", "lost", "open", "credited_deals", "sourced", "primary_deals")
ASSETS_PER_SEARCH = 2000
BULK_DOCS = 2000
BUNDLE_MAX_IDS = 5000
READY_META = "rollups_complete"


# ---- keys ----------------------------------------------------------------------------------------

def month_of(value: str | None) -> str:
    """"YYYY-MM" of a stored time in UTC, or NONE_MONTH when there is none."""
    if not value:
        return NONE_MONTH
    if value.endswith("Z"):  # UTC already (canonical times): no parse (it was a fifth of a reload's time)
        return value[:7]
    when = model.parse_iso(value).astimezone(timezone.utc)
    return f"{when.year:04d}-{when.month:02d}"


def rollup_id(asset_id: str, month: str) -> str:
    return f"{asset_id}|{month}"


def split_id(rid: str) -> tuple[str, str]:
    """(asset_id, month) of a rollup id; the month never holds '|', an asset id may."""
    asset_id, _, month = rid.rpartition("|")
    return asset_id, month


def touch_key(doc: Mapping[str, Any]) -> str | None:
    """The rollup a touch counts in: close month of a won/lost deal, creation month of an open one."""
    stage = doc.get("stage")
    if stage in CLOSED_STAGES:
        return rollup_id(doc["asset_id"], month_of(doc.get("closed_at")))
    if stage == "open":
        return rollup_id(doc["asset_id"], month_of(doc.get("created_at")))
    return None  # other stages count in no report


def credit_key(doc: Mapping[str, Any]) -> str:
    return rollup_id(doc["asset_id"], month_of(doc.get("closed_at")))


def month_bounds(month: str) -> tuple[datetime, datetime]:
    year, mon = int(month[:4]), int(month[5:7])
    start = datetime(year, mon, 1, tzinfo=timezone.utc)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=timezone.utc)
    return start, end


def is_month_start(when: datetime | None) -> bool:
    """None (unbounded) or exactly 00:00:00.000000 UTC on the first of a month."""
    if when is None:
        return True
    utc = when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return (utc.day, utc.hour, utc.minute, utc.second, utc.microsecond) == (1, 0, 0, 0, 0)


def covers(start: datetime | None, end: datetime | None, segment: Mapping[str, Sequence[str]]) -> bool:
    """Whether the rollups can answer a report filter exactly: no segment, whole UTC months."""
    return not any(values for values in segment.values()) and is_month_start(start) and is_month_start(end)


# ---- recompute from the sources ------------------------------------------------------------------

def _date_in(field_name: str, month: str) -> dict[str, Any]:
    if month == NONE_MONTH:
        return {"bool": {"must_not": [{"exists": {"field": field_name}}]}}
    start, end = month_bounds(month)
    return {"range": {field_name: {"gte": model.iso(start), "lt": model.iso(end)}}}


def touches_query(month: str, assets: Sequence[str]) -> dict[str, Any]:
    return {"bool": {"filter": [{"terms": {"asset_id": list(assets)}}], "minimum_should_match": 1, "should": [
        {"bool": {"filter": [{"terms": {"stage": list(CLOSED_STAGES)}}, _date_in("closed_at", month)]}},
        {"bool": {"filter": [{"term": {"stage": "open"}}, _date_in("created_at", month)]}},
    ]}}


def credits_query(month: str, assets: Sequence[str]) -> dict[str, Any]:
    return {"bool": {"filter": [{"terms": {"asset_id": list(assets)}}, _date_in("closed_at", month)]}}


def _searches(names: store.Names, month: str, assets: Sequence[str]) -> list[dict[str, Any]]:
    by_asset = {"terms": {"field": "asset_id", "size": len(assets)}}
    stages = {"terms": {"field": "stage", "size": 3}, "aggs": {"amount": {"sum": {"field": "influenced_amount"}}}}
    sums = {name: {"sum": {"field": name}} for name in (*CREDIT_FIELDS, "sourced")}
    primary = {"filter": {"term": {"deal_primary": True}}, "aggs": {"amount": {"sum": {"field": "amount"}}}}
    return [
        {"index": names.touches}, {"size": 0, "track_total_hits": False, "query": touches_query(month, assets),
                                   "aggs": {"a": {**by_asset, "aggs": {"s": stages}}}},
        {"index": names.credits}, {"size": 0, "track_total_hits": False, "query": credits_query(month, assets),
                                   "aggs": {"a": {**by_asset, "aggs": {**sums, "primary": primary}}}},
    ]


def empty_document(asset_id: str, month: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"asset_id": asset_id, "month": month, "won_amount": 0.0,
                           **{name: 0 for name in COUNT_FIELDS}, **{name: 0.0 for name in CREDIT_FIELDS}}
    if month != NONE_MONTH:
        doc["month_start"] = model.iso(month_bounds(month)[0])
    return doc


def recompute(es: Elasticsearch, names: store.Names, rollup_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """{rollup id: document} of these keys, aggregated from the touches and credits as searchable now."""
    by_month: dict[str, list[str]] = {}
    for rid in sorted(set(rollup_ids)):
        asset_id, month = split_id(rid)
        by_month.setdefault(month, []).append(asset_id)
    docs = {rollup_id(a, m): empty_document(a, m) for m, assets in by_month.items() for a in assets}
    chunks = [(m, assets[i:i + ASSETS_PER_SEARCH]) for m, assets in sorted(by_month.items())
              for i in range(0, len(assets), ASSETS_PER_SEARCH)]
    for i in range(0, len(chunks), 20):  # 40 searches per msearch
        part = chunks[i:i + 20]
        body = [orjson.dumps(line) for month, assets in part for line in _searches(names, month, assets)]
        responses = es.msearch(searches=body)["responses"]
        for j, (month, _) in enumerate(part):
            touches, credited = responses[2 * j], responses[2 * j + 1]
            for response in (touches, credited):
                if "error" in response:
                    raise RuntimeError(f"rollup aggregation failed: {str(response['error'])[:300]}")
            _add_touches(docs, month, touches["aggregations"]["a"]["buckets"])
            _add_credits(docs, month, credited["aggregations"]["a"]["buckets"])
    return docs


def _add_touches(docs: dict[str, dict[str, Any]], month: str, buckets: Iterable[Mapping[str, Any]]) -> None:
    for b in buckets:
        doc = docs[rollup_id(b["key"], month)]
        for s in b["s"]["buckets"]:
            doc[s["key"]] = s["doc_count"]
            if s["key"] == "won":
                doc["won_amount"] = float(s["amount"]["value"] or 0.0)


def _add_credits(docs: dict[str, dict[str, Any]], month: str, buckets: Iterable[Mapping[str, Any]]) -> None:
    for b in buckets:
        doc = docs[rollup_id(b["key"], month)]
        doc["credited_deals"] = b["doc_count"]
        doc.update({name: float(b[name]["value"] or 0.0) for name in CREDIT_FIELDS})
        doc["sourced"] = int(round(b["sourced"]["value"] or 0))
        doc["primary_deals"] = b["primary"]["doc_count"]
        doc["primary_amount"] = float(b["primary"]["amount"]["value"] or 0.0)


def write(es: Elasticsearch, names: store.Names, docs: Mapping[str, Mapping[str, Any]],
          versions: Mapping[str, int]) -> tuple[int, int]:
    """Index the documents with external versions; returns (written, stale: an equal or newer version is stored)."""
    written = stale = 0
    ids = sorted(docs)
    for i in range(0, len(ids), BULK_DOCS):
        writes = Writes()  # encoded with orjson: the client's encoder was a tenth of the consumer's time
        for rid in ids[i:i + BULK_DOCS]:
            writes.index(names.rollups, rid, docs[rid], version=versions[rid])
        outcome = writes.run(es)
        if outcome.rejected:
            raise RuntimeError(f"rollup writes rejected: {outcome.rejected[:3]}")
        written, stale = written + len(outcome.written), stale + len(outcome.conflicts)
    metrics.FEEDBACK_ROLLUPS_WRITTEN.inc(written)
    return written, stale


# ---- readiness -----------------------------------------------------------------------------------

def ready(es: Elasticsearch, names: store.Names, timeout_s: float | None = None) -> bool:
    """Whether every rollup key has been computed (set by `rebuild`, or on an empty deployment)."""
    client = es.options(request_timeout=timeout_s) if timeout_s else es
    try:
        mappings = client.indices.get_mapping(index=names.rollups)
    except NotFoundError:
        return False
    return bool(mappings) and all((m.get("mappings", {}).get("_meta") or {}).get(READY_META) is True
                                  for m in mappings.values())


def _set_ready(es: Elasticsearch, names: store.Names, value: bool) -> None:
    es.indices.put_mapping(index=names.rollups, meta={READY_META: value})


def mark_ready_if_empty(es: Elasticsearch, names: store.Names) -> bool:
    """A deployment without touches or credits has nothing to roll up: the rollups are complete
    and the join stage keeps them so. With data written before the rollups existed, they stay
    unused (reports take the exact path) until `python -m services.feedback.rollups --rebuild`."""
    if ready(es, names):
        return True
    if es.count(index=names.touches)["count"] or es.count(index=names.credits)["count"]:
        return False
    _set_ready(es, names, True)
    return True


# ---- versions ------------------------------------------------------------------------------------

def offset_version(offset: int) -> int:
    """The external version of a recompute for the key's message at `offset`: even numbers."""
    return 2 * offset + 2


def rebuild_version(end_offset: int) -> int:
    """The version of a rebuild that read `end_offset` (the partition's next offset) before the
    sources: above every message already in the partition (whose sources it saw), below every
    later one (whose source change it may have missed). Odd, so never equal to either."""
    return 2 * end_offset + 1


# ---- the dirty keys ------------------------------------------------------------------------------

def dirty_records(topic: str, partitions: int, rollup_ids: Iterable[str]) -> list[kafka_io.Record]:
    """Records carrying these keys to their partitions of `topic`: one JSON array per partition
    (split at BUNDLE_MAX_IDS), sent where Kafka's default partitioner puts the key itself."""
    per_partition: dict[int, list[str]] = {}
    for rid in sorted(set(rollup_ids)):
        per_partition.setdefault(kafka_io.partition_of(rid, partitions), []).append(rid)
    return [kafka_io.Record(topic, None, orjson.dumps(ids[i:i + BUNDLE_MAX_IDS]), (), partition)
            for partition, ids in sorted(per_partition.items()) for i in range(0, len(ids), BUNDLE_MAX_IDS)]


def parse_ids(value: bytes | None) -> list[str]:
    try:
        ids = orjson.loads(value or b"")
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent("bad_json", str(exc)[:200]) from None
    if not isinstance(ids, list) or not all(isinstance(i, str) and "|" in i for i in ids):
        raise InvalidEvent("schema", "rollup record is not a JSON array of 'asset|month' ids")
    return ids


@dataclass
class DirtyKeys:
    """The rollup keys of one join batch, sent after its touches and credits are written."""

    topic: str
    producer: kafka_io.Producer
    partitions: int = 0

    def send(self, rollup_ids: set[str]) -> None:
        if not rollup_ids:
            return
        if not self.partitions:
            self.partitions = self.producer.partition_count(self.topic)
        self.producer.send_and_wait(dirty_records(self.topic, self.partitions, rollup_ids))


class RollupProcessor:
    """Processor of the feedback consumer's rollup loop (group `<ns>.feedback-rollup`)."""

    name = "feedback-rollup"

    def __init__(self, settings: config.Settings, es: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = es or es_util.client(settings)
        self.names = store.Names.of(settings)
        self.topics = (topics.FEEDBACK_ROLLUP.name(settings),)
        self.dead_letter_topic = topics.DEALS_DLQ.name(settings)

    def parse(self, message: Message) -> list[str]:
        return parse_ids(message.value)

    def write(self, batch: Sequence[Parsed[list[str]]]) -> WriteResult:
        try:
            return self._write(batch)
        except errors.Unavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - outages retry with backoff, bugs crash loudly
            if es_util.is_unavailable(exc):
                raise errors.Unavailable(f"Elasticsearch unavailable: {exc}") from exc
            raise

    def _write(self, batch: Sequence[Parsed[list[str]]]) -> WriteResult:
        versions: dict[str, int] = {}
        for parsed in batch:
            for rid in parsed.event:
                versions[rid] = max(versions.get(rid, 0), offset_version(parsed.message.offset))
        if not versions:
            return WriteResult()
        # The join stage wrote the sources before sending the keys: make them searchable.
        self.es.indices.refresh(index=f"{self.names.touches},{self.names.credits}")
        written, stale = write(self.es, self.names, recompute(self.es, self.names, versions), versions)
        newest = max(p.message.timestamp_ms for p in batch) / 1000.0
        return WriteResult(written=written, stale=stale, newest_event_time_s=newest if newest > 0 else None)


# ---- rebuild -------------------------------------------------------------------------------------

def _end_offsets(settings: config.Settings, topic: str) -> dict[int, int]:
    consumer = kafka_io.new_consumer(settings)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not parts:
            raise errors.Unavailable(f"Kafka did not describe {topic}")
        return {tp.partition: offset for tp, offset in consumer.end_offsets(parts).items()}
    finally:
        consumer.close()


def source_keys(es: Elasticsearch, names: store.Names) -> set[str]:
    """Every rollup key of the stored touches and credits, and every stored rollup (to zero stale ones)."""
    keys: set[str] = set()
    month = {"calendar_interval": "month", "time_zone": "UTC", "format": "yyyy-MM", "missing_bucket": True}
    for bucket in es_util.composite_buckets(es, names.touches, {"match_all": {}}, [
            es_util.terms_source("asset_id", "asset"), es_util.terms_source("stage", "stage"),
            {"closed": {"date_histogram": {**month, "field": "closed_at"}}},
            {"created": {"date_histogram": {**month, "field": "created_at"}}}], page=10_000):
        k = bucket["key"]
        stage_month = k["created"] if k["stage"] == "open" else k["closed"] if k["stage"] in CLOSED_STAGES else False
        if stage_month is not False:
            keys.add(rollup_id(k["asset"], stage_month or NONE_MONTH))
    for bucket in es_util.composite_buckets(es, names.credits, {"match_all": {}}, [
            es_util.terms_source("asset_id", "asset"), {"closed": {"date_histogram": {**month, "field": "closed_at"}}}],
            page=10_000):
        keys.add(rollup_id(bucket["key"]["asset"], bucket["key"]["closed"] or NONE_MONTH))
    for hit in store.scan(es, names.rollups, {"match_all": {}}, sort=[{"asset_id": "asc"}, {"month": "asc"}],
                          size=10_000, source=["asset_id", "month"]):
        keys.add(rollup_id(hit["_source"]["asset_id"], hit["_source"]["month"]))
    return keys


def rebuild(settings: config.Settings, es: Elasticsearch, names: store.Names, progress: Any = None) -> int:
    """Recompute every rollup from the touches and credits; returns the keys written.

    Safe while consumers run: the reports take the exact path until it completes, and its
    versions (the rollup topic's end offsets read first) lose against every key changed
    after that and win against every older write.
    """
    topic = topics.FEEDBACK_ROLLUP.name(settings)
    kafka_io.ensure_topics(settings, [topic], partitions=topics.FEEDBACK_ROLLUP.partitions(settings))
    _set_ready(es, names, False)
    ends = _end_offsets(settings, topic)
    es.indices.refresh(index=f"{names.touches},{names.credits},{names.rollups}")
    keys = sorted(source_keys(es, names))
    written = 0
    for i in range(0, len(keys), 20_000):
        chunk = keys[i:i + 20_000]
        versions = {rid: rebuild_version(ends[kafka_io.partition_of(rid, len(ends))]) for rid in chunk}
        done, _ = write(es, names, recompute(es, names, chunk), versions)
        written += done
        if progress:
            progress(len(chunk))
    es.indices.refresh(index=names.rollups)
    _set_ready(es, names, True)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.feedback.rollups", description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", required=True,
                        help="recompute every rollup from the stored touches and credits")
    parser.parse_args(argv)
    from services.common import logs

    settings = config.load()
    logs.configure("feedback-rollups", settings.log_level, "text")
    es = es_util.client(settings)
    names = store.ensure(es, settings)
    print(f"{rebuild(settings, es, names)} rollup documents recomputed")


if __name__ == "__main__":
    main()
