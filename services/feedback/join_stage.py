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

import json
import logging
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from elasticsearch import Elasticsearch
from kafka.structs import TopicPartition

from services.common import config, errors, es as es_util, metrics, topics
from services.common.consumer import InvalidEvent, Message, Parsed, WriteResult
from services.feedback import credits, join, model, store

log = logging.getLogger(__name__)

KIND_HEADER = "kind"
DEAL = b"deal"
EVENT = b"event"


@dataclass
class DealRecord:
    doc: dict[str, Any]


@dataclass
class EventRecord:
    doc: dict[str, Any]  # a classified usage event; is_bot true removes it from the join


@dataclass
class OpportunityState:
    """What the join knows about one opportunity: exactly the stored inputs it depends on.

    Events are grouped by asset: a touch is a function of the deal and its own asset's
    events only (`model.compute_touches` is separable by asset; tests/unit/feedback/
    test_join_stage.py checks it), so only the assets whose events changed are recomputed.
    """

    deal: dict[str, Any] | None
    events: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # asset -> event_id -> event (humans)
    touches: dict[str, dict[str, Any]] = field(default_factory=dict)  # touch id -> document as stored
    dirty: set[str] | None = None  # assets whose events changed since the last recompute; None: all

    def add(self, event: Mapping[str, Any]) -> None:
        self.events.setdefault(event["asset_id"], {})[event["event_id"]] = dict(event)
        self._touched(event["asset_id"])

    def remove(self, event: Mapping[str, Any]) -> None:
        if self.events.get(event["asset_id"], {}).pop(event["event_id"], None) is not None:
            self._touched(event["asset_id"])

    def _touched(self, asset_id: str) -> None:
        if self.dirty is not None:
            self.dirty.add(asset_id)


class JoinState:
    """Opportunity states of the owned partitions, least recently used evicted beyond `capacity`.

    Eviction is always safe: an evicted opportunity is reloaded from Elasticsearch, which
    holds every input the state was built from.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._items: OrderedDict[str, OpportunityState] = OrderedDict()

    def get(self, opportunity_id: str) -> OpportunityState | None:
        state = self._items.get(opportunity_id)
        if state is not None:
            self._items.move_to_end(opportunity_id)
        return state

    def put(self, opportunity_id: str, state: OpportunityState) -> None:
        self._items[opportunity_id] = state
        self._items.move_to_end(opportunity_id)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        metrics.FEEDBACK_JOIN_CACHED.set(len(self._items))

    def clear(self) -> None:
        self._items.clear()
        metrics.FEEDBACK_JOIN_CACHED.set(0)

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

    def __init__(self, settings: config.Settings, es: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = es or es_util.client(settings)
        self.names = store.Names.of(settings)
        self.joiner = join.Joiner(self.es, settings, self.names)
        self.topics = (topics.FEEDBACK_JOIN.name(settings),)
        self.dead_letter_topic = topics.DEALS_DLQ.name(settings)
        self.state = JoinState(settings.feedback_join_cache_opportunities)
        self._credit_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feedback-join-credits")

    # ---- rebalance ------------------------------------------------------------------------
    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Forget everything: a partition may come back after another process changed it."""
        self.state.clear()

    # ---- parse ------------------------------------------------------------------------------
    def parse(self, message: Message) -> DealRecord | EventRecord:
        kind = dict(message.headers).get(KIND_HEADER)
        try:
            doc = json.loads(message.value or b"")
        except ValueError as exc:
            raise InvalidEvent("bad_json", str(exc)[:200]) from None
        if not isinstance(doc, dict) or not doc.get("opportunity_id") and kind == DEAL:
            raise InvalidEvent("schema", "join record without an object or opportunity_id")
        if kind == DEAL:
            return DealRecord(doc)
        if kind == EVENT and message.key:
            return EventRecord(dict(doc, _for=message.key.decode()))
        raise InvalidEvent("schema", f"join record of unknown kind {kind!r}")

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
        deals = _newest_deals(p.event.doc for p in batch if isinstance(p.event, DealRecord))
        events: dict[str, list[dict[str, Any]]] = {}
        for p in batch:
            if isinstance(p.event, EventRecord):
                doc = dict(p.event.doc)
                events.setdefault(doc.pop("_for"), []).append(doc)
        if deals:
            outcome = self.joiner.write_deals(list(deals.values()))
            result.written += len(outcome.written)
            result.stale += len(outcome.conflicts)
            # Make the deals visible to the router's account lookups before reading events.
            self.es.indices.refresh(index=self.names.deals)
        result.written += sum(len(v) for v in events.values())
        reload = set(deals) | {opp for opp in events if self.state.get(opp) is None}
        loaded = self._load(reload, cause_of=lambda opp: "deal" if opp in deals else "miss")
        for opp, evs in events.items():
            state = self.state.get(opp) if opp not in reload else None
            if state is None:
                # Reloaded: the stores already hold these events (the router refreshes after
                # storing, before forwarding), or evicted by a tiny cache meanwhile: reload it.
                if opp not in reload:
                    loaded += self._load({opp}, cause_of=lambda _: "miss")
                continue
            for ev in evs:
                apply_event(state, ev)
        self._recompute(set(events) | reload, fresh=set(loaded))
        times = [model.parse_iso(e["occurred_at"]).timestamp() for evs in events.values() for e in evs]
        times += [model.parse_iso(d["updated_at"]).timestamp() for d in deals.values()]
        if times:
            result.newest_event_time_s = max(times)
        return result

    # ---- state ------------------------------------------------------------------------------
    def _load(self, opportunity_ids: set[str], cause_of: Any) -> list[str]:
        """(Re)load these opportunities' state from Elasticsearch; returns their ids.

        Touches come from the cached state when there is one (this process wrote them);
        otherwise from the touches index after a refresh (a previous owner may have written
        them just before it stopped).
        """
        ids = sorted(opportunity_ids)
        if not ids:
            return []
        found = self.es.mget(index=self.names.deals, ids=ids)["docs"]
        deals = {d["_id"]: d["_source"] for d in found if d.get("found")}
        named: dict[str, list[dict[str, Any]]] = {}
        by_account: dict[str, list[dict[str, Any]]] = {}
        for ev in self._stored_events(ids, list(deals.values())):
            if ev.get("opportunity_id"):
                named.setdefault(ev["opportunity_id"], []).append(ev)
            else:
                by_account.setdefault(ev["account_id"], []).append(ev)
        uncached = [opp for opp in ids if self.state.get(opp) is None]
        stored_touches = self._stored_touches(uncached)
        for opp in ids:
            deal = deals.get(opp)
            previous = self.state.get(opp)
            state = OpportunityState(deal, touches=previous.touches if previous else stored_touches.get(opp, {}))
            for ev in named.get(opp, ()):
                state.add(ev)
            if deal is not None:
                win = self.joiner.window(deal)
                for ev in by_account.get(deal["account_id"], ()):
                    if model.in_window(model.parse_iso(ev["occurred_at"]), win):
                        state.add(ev)
            self.state.put(opp, state)
            metrics.FEEDBACK_JOIN_RELOADS.labels(cause_of(opp)).inc()
        return ids

    def _stored_events(self, opportunity_ids: list[str], deals: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Stored events naming these opportunities, and account-only events of their deals' accounts
        from the earliest window start on (the exact window is applied per deal)."""
        should: list[dict[str, Any]] = [{"terms": {"opportunity_id": opportunity_ids}}]
        if deals:
            earliest = model.iso(min(self.joiner.window(d).start for d in deals))
            should.append({"bool": {"filter": [{"terms": {"account_id": sorted({d["account_id"] for d in deals})}},
                                               {"range": {"occurred_at": {"gte": earliest}}}],
                                    "must_not": [{"exists": {"field": "opportunity_id"}}]}})
        query = {"bool": {"filter": [{"term": {"is_bot": False}}], "should": should, "minimum_should_match": 1}}
        return [h["_source"] for h in store.scan(self.es, self.names.usage, query, sort=[{"event_id": "asc"}],
                                                 size=5000)]

    def _stored_touches(self, opportunity_ids: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
        if not opportunity_ids:
            return {}
        self.es.indices.refresh(index=self.names.touches)
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for hit in store.scan(self.es, self.names.touches, {"terms": {"opportunity_id": opportunity_ids}},
                              sort=[{"opportunity_id": "asc"}, {"asset_id": "asc"}], size=5000):
            out.setdefault(hit["_source"]["opportunity_id"], {})[hit["_id"]] = hit["_source"]
        return out

    # ---- touches ----------------------------------------------------------------------------
    def _touches(self, opportunity_id: str, state: OpportunityState) -> dict[str, dict[str, Any]]:
        """The opportunity's touches: the unchanged ones as they are, the changed assets' recomputed."""
        if state.deal is None:
            new: dict[str, dict[str, Any]] = {}
        elif state.dirty is None:
            new = self.joiner.touches_of(state.deal, (e for evs in state.events.values() for e in evs.values()))
        else:
            stale = {model.touch_id(asset, opportunity_id) for asset in state.dirty}
            new = {tid: doc for tid, doc in state.touches.items() if tid not in stale}
            new.update(self.joiner.touches_of(
                state.deal, (e for asset in state.dirty for e in state.events.get(asset, {}).values())))
        state.dirty = set()
        return new

    def _recompute(self, opportunity_ids: Iterable[str], fresh: set[str]) -> None:
        """Recompute touches; write the changed ones, delete the ones that no longer hold.

        Credits follow every won opportunity whose touches changed and every freshly loaded
        one (its deal changed, or a previous owner may have died between its touch and
        credit writes); other deals have no credits, and a deal's stage changes only with a
        snapshot, which reloads it. The credit writes run beside the touch writes (two bulk
        requests in flight keep both of Elasticsearch's write threads busy).
        """
        ops: list[dict[str, Any]] = []
        changed: dict[str, tuple[dict[str, Any] | None, dict[str, dict[str, Any]]]] = {}
        written = deleted = 0
        for opp in sorted(opportunity_ids):
            state = self.state.get(opp)
            if state is None:  # evicted within this batch by a very small cache: reload it alone
                self._load({opp}, cause_of=lambda _: "miss")
                state = self.state.get(opp)
                assert state is not None
            new = self._touches(opp, state)
            for tid, doc in sorted(new.items()):
                if state.touches.get(tid) != doc:
                    ops.append({"action": {"index": {"_index": self.names.touches, "_id": tid}}, "source": doc})
                    written += 1
            for tid in sorted(set(state.touches) - set(new)):
                ops.append({"action": {"delete": {"_index": self.names.touches, "_id": tid}}, "source": None})
                deleted += 1
            if opp in fresh or (new != state.touches and (state.deal or {}).get("stage") == "won"):
                changed[opp] = (state.deal, new)
            state.touches = new
        credit_writes = self._credit_writer.submit(credits.rewrite, self.es, self.names, changed)
        try:
            outcome = es_util.bulk(self.es, ops)
        finally:
            credit_writes.result()  # attribution credits follow the new touches; raises what it raised
        refused = [(i, reason) for i, reason in outcome.rejected if "delete" not in ops[i]["action"]]
        if refused:
            # A deterministic document that Elasticsearch refuses is a bug, not bad input.
            raise RuntimeError(f"touch writes rejected: {refused[:3]}")
        metrics.FEEDBACK_TOUCHES_WRITTEN.inc(written)
        metrics.FEEDBACK_TOUCHES_DELETED.inc(deleted)


def _newest_deals(docs: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The newest snapshot per opportunity of a batch (older ones would be 409 anyway)."""
    newest: dict[str, dict[str, Any]] = {}
    for doc in docs:
        current = newest.get(doc["opportunity_id"])
        if current is None or doc["version"] > current["version"]:
            newest[doc["opportunity_id"]] = doc
    return newest
