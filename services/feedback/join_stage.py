"""The join stage: one writer per opportunity, state in memory, only changed touches written.

It consumes `feedback.join.v1`, where the router (routing.py) has re-keyed every join
input by opportunity_id: deal snapshots, usage events naming an opportunity, and one
copy of each account-only event per opportunity of the account whose window can hold it.
One partition is read by one process at a time and records of a partition are handled
in order, so each opportunity's deal and touches have exactly one writer, whatever the
number of processes.

Per opportunity the stage keeps (bounded, least recently used) its current deal, the
stored events that can belong to it, and its touches as last written. State is loaded
from Elasticsearch on first use and again whenever a deal snapshot arrives (the deal is
written first, then the index refreshed, then the events read: the router stores an
account-only event before looking up the account's deals, so one of the two always sees
the other). Event records update the state in place (a bot verdict removes the event).
Touches are recomputed with `model.compute_touches` and only the ones that changed are
written; the ones that no longer hold are deleted. The state is dropped whenever
partitions are revoked, so a partition that comes back is reloaded from the stores.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, NamedTuple, Sequence

import orjson
from elasticsearch import Elasticsearch
from kafka.structs import TopicPartition

from services.common import config, errors, es as es_util, kafka_io, metrics, topics
from services.common.contracts import jsonbytes
from services.common.consumer import InvalidEvent, Message, Parsed, WriteResult
from services.feedback import credits, join, model, rollups, store
from services.feedback.writes import OverlappedWrites

log = logging.getLogger(__name__)

KIND_HEADER = "kind"
DEAL = b"deal"
EVENT = b"event"
BUNDLE = b"bundle"
BUNDLE_MAX_BYTES = 512 * 1024  # below the broker's default message.max.bytes (1 MiB)
WRITE_CHUNK = 2000  # touch and credit writes per bulk request sent while the rest of a batch is computed
# A join batch gathers bundles while the previous one is written, up to this many bytes (some 40,000
# inputs): a batch's inputs and the states of every opportunity they touch are held at once, so a
# backlog must not become one batch of all of it.
MAX_BATCH_BYTES = 16 * 1024 * 1024
EVENT_SCAN_OPPORTUNITIES = 250  # opportunities whose stored events one query reads when they are (re)loaded
LOAD_CHUNK = 2000  # opportunities (re)loaded together: their deals, stored events, touches and credits


@dataclass
class DealRecord:
    doc: dict[str, Any]


@dataclass
class EventRecord:
    doc: dict[str, Any]  # a classified usage event; is_bot true removes it from the join
    opportunity_id: str  # the opportunity it was routed to (an account-only event goes to several)


@dataclass
class Bundle:
    """The join inputs of one Kafka record (kind `bundle`), in the router's order."""

    records: list[DealRecord | EventRecord]


# ---- the join topic's records ----------------------------------------------------------------
#
# The router bundles a batch's join inputs per partition of feedback.join.v1: one record per
# partition (split at BUNDLE_MAX_BYTES) holding a JSON array of {"kind", "for", "doc"} in the
# router's order, sent to the partition Kafka's default partitioner gives each item's
# opportunity id (all of them the same). Every input of an opportunity therefore still reaches
# the one partition, in order, that a record keyed by the opportunity would, while the
# per-record cost of producing and consuming (a large share of both stages' CPU when each
# input was its own record) is paid once per bundle. Records of kind `deal` or `event`, one
# input keyed by its opportunity, are still read.

def bundle(topic: str, partitions: int, items: Iterable[tuple[bytes, str, Mapping[str, Any]]]) -> list[kafka_io.Record]:
    """Records carrying `items` ((kind, opportunity id, document), in order) to `topic`.

    Each item is appended to its partition's array as soon as it is encoded, so a router batch
    never holds its encoded items one by one (each orjson result sits in a buffer of 4 KiB or more).
    """
    per_partition: dict[int, list[bytearray]] = {}  # each partition's arrays, still open: "[item,item"
    for kind, opportunity_id, doc in items:
        item = orjson.dumps({"kind": kind.decode(), "for": opportunity_id, "doc": doc})
        arrays = per_partition.setdefault(_partition_of(opportunity_id, partitions), [bytearray(b"[")])
        array = arrays[-1]
        if len(array) > 1 and len(array) + 1 + len(item) + 1 > BUNDLE_MAX_BYTES:
            array = bytearray(b"[")
            arrays.append(array)
        if len(array) > 1:
            array += b","
        array += item
    return [kafka_io.Record(topic, None, bytes(array + b"]"), ((KIND_HEADER, BUNDLE),), partition)
            for partition, arrays in sorted(per_partition.items()) for array in arrays]


@functools.lru_cache(maxsize=1 << 18)
def _partition_of(opportunity_id: str, partitions: int) -> int:
    """kafka_io.partition_of, remembered: murmur2 in pure Python costs more than the lookup."""
    return kafka_io.partition_of(opportunity_id, partitions)


def _bundled(value: Any) -> Bundle:
    if not isinstance(value, list):
        raise InvalidEvent("schema", "join bundle is not a JSON array")
    return Bundle([_input(item.get("kind", "").encode(), item.get("for"), item.get("doc"))
                   if isinstance(item, dict) else _input(b"", None, None) for item in value])


def _input(kind: bytes, opportunity_id: Any, doc: Any) -> DealRecord | EventRecord:
    if not isinstance(doc, dict) or kind == DEAL and not doc.get("opportunity_id"):
        raise InvalidEvent("schema", "join record without an object or opportunity_id")
    if kind == DEAL:
        return DealRecord(doc)
    if kind == EVENT and isinstance(opportunity_id, str) and opportunity_id:
        return EventRecord(doc, opportunity_id)
    raise InvalidEvent("schema", f"join record of unknown kind {kind!r} or without an opportunity")


# What a state holds per entry (tests/unit/feedback/test_join_stage.py checks the estimate against
# tracemalloc): an event's encoding beyond its bytes (the bytes object's header, its id string,
# its dict slot); a touch or credit as written (its id string, dict slot and Written).
EVENT_OVERHEAD_BYTES = 200
WRITTEN_BYTES = 330
STATE_OVERHEAD_BYTES = 2500  # the state itself, its dicts and its deal


class Written(NamedTuple):
    """A touch or credit document as last written, reduced to what the join needs of it: whether
    a recomputed one differs (the hash of its encoding: keyed SipHash, 64 bits) and the rollup it
    counted in (the key to send when it changes or goes)."""

    digest: int
    rollup: str | None

    @classmethod
    def of(cls, encoded: bytes, rollup: str | None) -> "Written":
        return cls(hash(encoded), sys.intern(rollup) if rollup is not None else None)


@dataclass
class OpportunityState:
    """What the join knows about one opportunity: exactly the stored inputs it depends on.

    Events are grouped by asset: a touch is a function of the deal and its own asset's
    events only (`model.compute_touches` is separable by asset; tests/unit/feedback/
    test_join_stage.py checks it), so only the assets whose events changed are recomputed.

    Compact, because a backfill of 100,000 opportunities held as Python dicts took 8.3 GB:
    events are held JSON-encoded (decoded only when their asset is recomputed), touches and
    credits only as `Written` (a won deal's credits are computed from its touches recomputed
    from the events, which equal the ones written).
    """

    deal: dict[str, Any] | None
    events: dict[str, dict[str, bytes]] = field(default_factory=dict)  # asset -> event_id -> event (humans)
    touches: dict[str, Written] = field(default_factory=dict)  # touch id -> document as stored
    credits: dict[str, Written] = field(default_factory=dict)  # credit id -> document as stored
    dirty: set[str] | None = None  # assets whose events changed since the last recompute; None: all
    size: int = 0  # estimated bytes, as JoinState last accounted them
    batch: int = 0  # the JoinState batch that last used it

    def add(self, event: Mapping[str, Any]) -> None:
        self.events.setdefault(event["asset_id"], {})[event["event_id"]] = jsonbytes.dumps(event)
        self._touched(event["asset_id"])

    def remove(self, event: Mapping[str, Any]) -> None:
        if self.events.get(event["asset_id"], {}).pop(event["event_id"], None) is not None:
            self._touched(event["asset_id"])

    def events_of(self, assets: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
        """The decoded events of these assets (every asset when None)."""
        chosen = self.events.values() if assets is None else (self.events.get(a, {}) for a in assets)
        return (orjson.loads(encoded) for per_asset in chosen for encoded in per_asset.values())

    def estimated_bytes(self) -> int:
        """Memory this state holds, estimated from what it holds (within a few tens of percent)."""
        size = STATE_OVERHEAD_BYTES + (len(self.touches) + len(self.credits)) * WRITTEN_BYTES
        for per_asset in self.events.values():
            size += sum(map(len, per_asset.values())) + len(per_asset) * EVENT_OVERHEAD_BYTES
        return size

    def _touched(self, asset_id: str) -> None:
        if self.dirty is not None:
            self.dirty.add(asset_id)


class JoinState:
    """Opportunity states of the owned partitions, least recently used evicted beyond a memory budget.

    Eviction is always safe: an evicted opportunity is reloaded from Elasticsearch, which
    holds every input the state was built from. A state used by the current batch (since
    `begin_batch`) is never evicted: a batch whose opportunities outgrow the budget holds them
    all until it ends (then `trim`), instead of reloading them one by one as it goes.
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = max(1, budget_bytes)
        self.bytes = 0
        self._batch = 0
        self._items: OrderedDict[str, OpportunityState] = OrderedDict()

    def begin_batch(self) -> None:
        self._batch += 1

    def get(self, opportunity_id: str) -> OpportunityState | None:
        state = self._items.get(opportunity_id)
        if state is not None:
            self._items.move_to_end(opportunity_id)
            state.batch = self._batch
        return state

    def put(self, opportunity_id: str, state: OpportunityState) -> None:
        previous = self._items.pop(opportunity_id, None)
        if previous is not None:
            self.bytes -= previous.size
        state.size = state.estimated_bytes()
        state.batch = self._batch
        self.bytes += state.size
        self._items[opportunity_id] = state
        self.trim()

    def resize(self, state: OpportunityState) -> None:
        """Account for a held state's changed contents."""
        size = state.estimated_bytes()
        self.bytes += size - state.size
        state.size = size

    def trim(self) -> None:
        """Evict the least recently used beyond the budget, down to the ones the current batch uses.

        Used states are the most recently used ones (`get` and `put` move them to the end), so
        eviction stops at the first of them.
        """
        while self.bytes > self.budget_bytes and self._items:
            oldest = next(iter(self._items.values()))
            if oldest.batch == self._batch:
                break
            self._items.popitem(last=False)
            self.bytes -= oldest.size
        self._report()

    def end_batch(self) -> None:
        """The batch is done: nothing is in use any more, shrink to the budget."""
        self._batch += 1
        self.trim()

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0
        self._report()

    def _report(self) -> None:
        metrics.FEEDBACK_JOIN_CACHED.set(len(self._items))
        metrics.FEEDBACK_JOIN_CACHED_BYTES.set(self.bytes)

    def __len__(self) -> int:
        return len(self._items)


def apply_event(state: OpportunityState, event: Mapping[str, Any]) -> None:
    """The newest verdict of an event wins: a human event joins, a bot verdict removes it."""
    if event.get("is_bot"):
        state.remove(event)
    else:
        state.add(event)


class JoinProcessor:
    """Processor of the shared ConsumerLoop for feedback.join.v1 (group `<ns>.feedback-join`)."""

    name = "feedback-join"
    max_batch_bytes = MAX_BATCH_BYTES

    def __init__(self, settings: config.Settings, es: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = es or es_util.client(settings)
        self.names = store.Names.of(settings)
        self.joiner = join.Joiner(self.es, settings, self.names)
        self.topics = (topics.FEEDBACK_JOIN.name(settings),)
        self.dead_letter_topic = topics.DEALS_DLQ.name(settings)
        self.state = JoinState(settings.feedback_join_cache_mb * 1024 * 1024)
        self.dirty_keys = rollups.DirtyKeys(topics.FEEDBACK_ROLLUP.name(settings),
                                            kafka_io.Producer(settings, client_id="feedback-join"))
        # One thread: a batch's bulk requests go out one at a time, in order, while it computes the rest.
        self._bulk_sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feedback-join-bulk")

    # ---- rebalance ------------------------------------------------------------------------
    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Forget everything: a partition may come back after another process changed it."""
        self.state.clear()

    # ---- parse ------------------------------------------------------------------------------
    def parse(self, message: Message) -> Bundle | DealRecord | EventRecord:
        kind = dict(message.headers).get(KIND_HEADER)
        try:
            value = orjson.loads(message.value or b"")
        except orjson.JSONDecodeError as exc:
            raise InvalidEvent("bad_json", str(exc)[:200]) from None
        if kind == BUNDLE:
            return _bundled(value)
        key = message.key.decode("utf-8", "replace") if message.key else None
        return _input(kind or b"", key, value)

    # ---- write ------------------------------------------------------------------------------
    def write(self, batch: Sequence[Parsed[Any]]) -> WriteResult:
        try:
            return self._write_or_unavailable(batch)
        except BaseException:
            # The state may be ahead of the stores now; the retried batch reloads it from them.
            self.state.clear()
            raise

    def _write_or_unavailable(self, batch: Sequence[Parsed[Any]]) -> WriteResult:
        try:
            return self._write_batch(batch)
        except errors.Unavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - outages retry with backoff, bugs crash loudly
            down = join.unavailable(exc)
            if down is not None:
                raise down from exc
            raise

    def _write_batch(self, batch: Sequence[Parsed[Any]]) -> WriteResult:
        result = WriteResult()
        records = [r for p in batch for r in (p.event.records if isinstance(p.event, Bundle) else (p.event,))]
        deals = _newest_deals(r.doc for r in records if isinstance(r, DealRecord))
        events: dict[str, list[dict[str, Any]]] = {}
        for r in records:
            if isinstance(r, EventRecord):
                events.setdefault(r.opportunity_id, []).append(r.doc)
        stored_now: dict[str, dict[str, Any]] = {}  # deals this batch wrote: the stored version is this one
        if deals:
            newest = list(deals.values())
            outcome = self.joiner.write_deals(newest)
            result.written += len(outcome.written)
            result.stale += len(outcome.conflicts)
            stored_now = {newest[i]["opportunity_id"]: newest[i] for i in outcome.written}
            # Make the deals visible to the router's account lookups before reading events.
            self.es.indices.refresh(index=self.names.deals)
        result.written += sum(len(v) for v in events.values())
        self.state.begin_batch()  # from here on, the batch's opportunities stay in memory until it ends
        reload = set(deals) | {opp for opp in events if self.state.get(opp) is None}
        loaded = self._load(reload, cause_of=lambda opp: "deal" if opp in deals else "miss", stored_now=stored_now)
        for opp, evs in events.items():
            if opp in reload:
                continue  # reloaded: the stores hold these events already (the router refreshes before forwarding)
            state = self.state.get(opp)
            assert state is not None  # used by this batch: never evicted before it ends
            for ev in evs:
                apply_event(state, ev)
        self._recompute(set(events) | reload, fresh=set(loaded))
        # Stored times are canonical (model.iso: UTC, milliseconds, Z): their string order is time order.
        times = [e["occurred_at"] for evs in events.values() for e in evs] + [d["updated_at"] for d in deals.values()]
        if times:
            result.newest_event_time_s = model.parse_iso(max(times)).timestamp()
        return result

    # ---- state ------------------------------------------------------------------------------
    def _load(self, opportunity_ids: set[str], cause_of: Any,
              stored_now: Mapping[str, dict[str, Any]] | None = None) -> list[str]:
        """(Re)load these opportunities' state from Elasticsearch; returns their ids.

        Deals come from `stored_now` (the ones this batch just wrote: what is stored is them)
        or from their index (a stale snapshot of the batch lost to a newer stored one). Touches
        and credits come from the cached state when there is one (this process wrote them);
        otherwise from their indices after a refresh (a previous owner may have written them
        just before it stopped).
        """
        ids = sorted(opportunity_ids)
        for i in range(0, len(ids), LOAD_CHUNK):  # what a load reads back is held one chunk at a time
            self._load_chunk(ids[i:i + LOAD_CHUNK], cause_of, stored_now or {})
        return ids

    def _load_chunk(self, ids: list[str], cause_of: Any, stored_now: Mapping[str, dict[str, Any]]) -> None:
        deals = {opp: stored_now[opp] for opp in ids if opp in stored_now}
        unknown = [opp for opp in ids if opp not in stored_now]
        if unknown:
            found = self.es.mget(index=self.names.deals, ids=unknown)["docs"]
            deals.update({d["_id"]: d["_source"] for d in found if d.get("found")})
        named: dict[str, list[dict[str, Any]]] = {}
        by_account: dict[str, list[dict[str, Any]]] = {}
        occurred: dict[str, Any] = {}  # event id -> time, of the account-only events, parsed once
        for ev in self._stored_events(ids, deals):
            if ev.get("opportunity_id"):
                named.setdefault(ev["opportunity_id"], []).append(ev)
            else:
                by_account.setdefault(ev["account_id"], []).append(ev)
                occurred[ev["event_id"]] = model.parse_iso(ev["occurred_at"])
        uncached = [opp for opp in ids if self.state.get(opp) is None]
        stored_touches, stored_credits = self._stored_outputs(uncached)
        causes: dict[str, int] = {}
        for opp in ids:
            deal = deals.get(opp)
            previous = self.state.get(opp)
            if previous is not None:
                state = OpportunityState(deal, touches=previous.touches, credits=previous.credits)
            else:
                state = OpportunityState(deal, touches=stored_touches.get(opp, {}), credits=stored_credits.get(opp, {}))
            for ev in named.get(opp, ()):
                state.add(ev)
            if deal is not None:
                win = self.joiner.window(deal)
                for ev in by_account.get(deal["account_id"], ()):
                    if model.in_window(occurred[ev["event_id"]], win):
                        state.add(ev)
            self.state.put(opp, state)
            causes[cause_of(opp)] = causes.get(cause_of(opp), 0) + 1
        for cause, count in causes.items():
            metrics.FEEDBACK_JOIN_RELOADS.labels(cause).inc(count)

    def _stored_events(self, opportunity_ids: list[str], deals: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """Stored events naming these opportunities, and account-only events of their deals' accounts
        from the earliest window start on (the exact window is applied per deal).

        Read EVENT_SCAN_OPPORTUNITIES opportunities at a time: a page of search_after re-runs the
        query and sorts every match, so one query for thousands of opportunities (hundreds of
        thousands of events, a page of 5,000 at a time) cost quadratically more than small ones.
        """
        seen: set[str] = set()  # an account's events come once per chunk holding one of its deals
        found: list[dict[str, Any]] = []
        for i in range(0, len(opportunity_ids), EVENT_SCAN_OPPORTUNITIES):
            chunk = opportunity_ids[i:i + EVENT_SCAN_OPPORTUNITIES]
            chunk_deals = [deals[opp] for opp in chunk if opp in deals]
            should: list[dict[str, Any]] = [{"terms": {"opportunity_id": chunk}}]
            if chunk_deals:
                earliest = model.iso(min(self.joiner.window(d).start for d in chunk_deals))
                should.append({"bool": {"filter": [{"terms": {"account_id": sorted({d["account_id"] for d in chunk_deals})}},
                                                   {"range": {"occurred_at": {"gte": earliest}}}],
                                        "must_not": [{"exists": {"field": "opportunity_id"}}]}})
            query = {"bool": {"filter": [{"term": {"is_bot": False}}], "should": should, "minimum_should_match": 1}}
            for hit in store.scan(self.es, self.names.usage, query, sort=[{"event_id": "asc"}], size=5000):
                if hit["_source"]["event_id"] not in seen:
                    seen.add(hit["_source"]["event_id"])
                    found.append(hit["_source"])
        return found

    def _stored_outputs(self, opportunity_ids: list[str]) -> tuple[dict[str, dict[str, Written]],
                                                                   dict[str, dict[str, Written]]]:
        """The stored touches and credits of opportunities this process holds no state for, after
        a refresh: a previous owner may have written them just before it stopped.

        Digests are of the stored documents encoded as the join encodes them (`_source` keeps
        the written key order), so an unchanged document compares equal and is not rewritten.
        """
        if not opportunity_ids:
            return {}, {}
        self.es.indices.refresh(index=f"{self.names.touches},{self.names.credits}")
        touches: dict[str, dict[str, Written]] = {}
        for i in range(0, len(opportunity_ids), 1000):
            for hit in store.scan(self.es, self.names.touches, {"terms": {"opportunity_id": opportunity_ids[i:i + 1000]}},
                                  sort=[{"opportunity_id": "asc"}, {"asset_id": "asc"}], size=5000):
                doc = hit["_source"]
                touches.setdefault(doc["opportunity_id"], {})[hit["_id"]] = Written.of(orjson.dumps(doc),
                                                                                      rollups.touch_key(doc))
        stored_credits = {opp: {cid: Written.of(orjson.dumps(doc), rollups.credit_key(doc)) for cid, doc in docs.items()}
                          for opp, docs in credits.stored(self.es, self.names, opportunity_ids).items()}
        return touches, stored_credits

    # ---- touches ----------------------------------------------------------------------------
    def _touches(self, opportunity_id: str, state: OpportunityState) -> tuple[dict[str, dict[str, Any]], set[str] | None]:
        """(the recomputed touches, the ids recomputed; None: every touch was).

        Only the assets whose events changed are recomputed; the other touches stand as held.
        """
        if state.deal is None:
            recomputed: dict[str, dict[str, Any]] = {}
            candidates: set[str] | None = None
        elif state.dirty is None:
            recomputed = self.joiner.touches_of(state.deal, state.events_of())
            candidates = None
        else:
            candidates = {model.touch_id(asset, opportunity_id) for asset in state.dirty}
            recomputed = self.joiner.touches_of(state.deal, state.events_of(state.dirty))
        state.dirty = set()
        return recomputed, candidates

    def _recompute(self, opportunity_ids: Iterable[str], fresh: set[str]) -> None:
        """Recompute touches and credits; write what changed, delete what no longer holds.

        The batch's changed touch and credit documents, each written once however many of its
        inputs changed it, go out in bulk requests of WRITE_CHUNK while the rest is computed
        (OverlappedWrites), all completed before the rollup keys are sent. Credits follow every
        won opportunity whose touches changed and every freshly loaded one (its deal changed,
        or a previous owner may have died between its touch and credit writes); they are
        computed once per opportunity and batch and compared with the documents as last
        written (kept in the state), so an unchanged credit is not rewritten. Other deals have
        no credits, and a deal's stage changes only with a snapshot, which reloads it.
        """
        writes = OverlappedWrites(self.es, self._bulk_sender, WRITE_CHUNK)
        try:
            self._stage_changes(opportunity_ids, fresh, writes)
        except BaseException:
            writes.abandon()  # what was sent finishes before the batch is retried
            raise

    def _stage_changes(self, opportunity_ids: Iterable[str], fresh: set[str], writes: OverlappedWrites) -> None:
        touches_written = touches_deleted = credits_written = credits_deleted = 0
        dirty: set[str] = set()  # rollup keys of every touch and credit written or deleted (old and new month)
        for opp in sorted(opportunity_ids):
            state = self.state.get(opp)
            assert state is not None  # loaded or used by this batch: never evicted before it ends
            old = state.touches
            recomputed, candidates = self._touches(opp, state)
            encoded = {tid: orjson.dumps(doc) for tid, doc in recomputed.items()}
            written_now = {tid: Written.of(body, rollups.touch_key(recomputed[tid])) for tid, body in encoded.items()}
            new = written_now if candidates is None else {
                **{tid: w for tid, w in old.items() if tid not in candidates}, **written_now}
            changed = False
            if opp in fresh:
                # Loaded from the stores: a previous attempt may have written them without
                # sending their keys (crash, produce failure), so every key is sent again.
                dirty.update(w.rollup for w in (*old.values(), *new.values(), *state.credits.values()))
            for tid, body in encoded.items():
                previous = old.get(tid)
                if previous is None or previous.digest != written_now[tid].digest:
                    writes.index(self.names.touches, tid, body)
                    touches_written += 1
                    changed = True
                    dirty.add(written_now[tid].rollup)
                    if previous is not None:
                        dirty.add(previous.rollup)
            for tid in (old.keys() if candidates is None else candidates & old.keys()) - new.keys():
                writes.delete(self.names.touches, tid)
                touches_deleted += 1
                changed = True
                dirty.add(old[tid].rollup)
            if opp in fresh or (changed and (state.deal or {}).get("stage") == "won"):
                # Every touch of the deal: the ones not recomputed now equal their recomputation
                # (their assets' events and the deal did not change since).
                touches = recomputed if candidates is None else self.joiner.touches_of(state.deal, state.events_of())
                credit_docs = credits.credit_documents(state.deal, touches)
                bodies = {cid: orjson.dumps(doc) for cid, doc in credit_docs.items()}
                new_credits = {cid: Written.of(body, rollups.credit_key(credit_docs[cid])) for cid, body in bodies.items()}
                written, deleted = credits.stage_writes(writes, self.names, bodies,
                                                        {cid: w.digest for cid, w in state.credits.items()})
                credits_written, credits_deleted = credits_written + written, credits_deleted + deleted
                dirty.update(w.rollup for cid, w in (*state.credits.items(), *new_credits.items())
                             if state.credits.get(cid) != new_credits.get(cid))
                state.credits = new_credits
            state.touches = new
            self.state.resize(state)
        self.state.end_batch()
        outcome = writes.run(self.es)
        refused = writes.refused(outcome)
        if refused:
            # A deterministic document that Elasticsearch refuses is a bug, not bad input.
            raise RuntimeError(f"touch or credit writes rejected: {refused[:3]}")
        # After the writes, before the batch is committed: a failure here retries the batch,
        # which reloads its opportunities (fresh) and so sends all their keys again.
        dirty.discard(None)  # type: ignore[arg-type] - touches of stages no report counts
        self.dirty_keys.send(dirty)
        metrics.FEEDBACK_TOUCHES_WRITTEN.inc(touches_written)
        metrics.FEEDBACK_TOUCHES_DELETED.inc(touches_deleted)
        metrics.FEEDBACK_CREDITS_WRITTEN.inc(credits_written)
        metrics.FEEDBACK_CREDITS_DELETED.inc(credits_deleted)


def _newest_deals(docs: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The newest snapshot per opportunity of a batch (older ones would be 409 anyway)."""
    newest: dict[str, dict[str, Any]] = {}
    for doc in docs:
        current = newest.get(doc["opportunity_id"])
        if current is None or doc["version"] > current["version"]:
            newest[doc["opportunity_id"]] = doc
    return newest
