"""The join of usage with deal outcomes, recomputed from source after every batch.

Inputs are stored idempotently first (raw usage by event_id with op_type=create, deals
by external version = updated_at), then every opportunity the batch could have changed
is recomputed from scratch: its current deal, plus every stored usage event naming it,
or naming only its account, inside its window (model.compute_touches). Touches are
written with plain index operations to deterministic ids and touches that no longer hold
are deleted. Because the recomputation reads only stored state, the result does not
depend on arrival order, duplicates or replays, and both sides trigger it: a usage event
revisits the deals it names (directly, or all of its account's deals), a deal revisits
itself (so a changed account or window drops the old touches and picks up the new).

A replayed batch (crash after the raw writes, before the touches) recomputes again even
though its raw writes now answer 409, since every opportunity named by the batch is
recomputed whatever its write outcome.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Iterable, Sequence

from elasticsearch import Elasticsearch

from services.common import config, errors, es as es_util, metrics
from services.feedback import credits, model, store
from services.feedback.writes import Writes

log = logging.getLogger(__name__)

CHUNK = 200  # opportunities recomputed per round of queries


class Joiner:
    def __init__(self, es: Elasticsearch, settings: config.Settings, names: store.Names) -> None:
        self.es = es
        self.settings = settings
        self.names = names
        self.grace = timedelta(days=settings.feedback_touch_grace_days)
        self.lookback = timedelta(days=settings.feedback_sourcing_lookback_days)

    # ---- the join's semantics, in one place (model.window / model.compute_touches) ------------
    def window(self, deal: dict[str, Any]) -> model.Window:
        return model.window(deal, self.grace, self.lookback)

    def touches_of(self, deal: dict[str, Any], events: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return model.compute_touches(deal, events, self.grace, self.lookback)

    # ---- raw inputs --------------------------------------------------------------------
    def write_usage(self, docs: Sequence[dict[str, Any]]) -> es_util.BulkOutcome:
        ops = [{"action": {"create": {"_index": self.names.usage, "_id": d["event_id"]}}, "source": d} for d in docs]
        return es_util.bulk(self.es, ops)

    def write_deals(self, docs: Sequence[dict[str, Any]]) -> es_util.BulkOutcome:
        writes = Writes()  # validated snapshots: finite numbers and string keys, as Writes requires
        for d in docs:
            writes.index(self.names.deals, d["opportunity_id"], d, version=d["version"])
        return writes.run(self.es)

    # ---- what a batch affects ---------------------------------------------------------------
    def opportunities_of_accounts(self, accounts: dict[str, tuple[str, str]]) -> set[str]:
        """Opportunities of these accounts whose window may contain an event of the batch.

        `accounts` maps account -> (earliest, latest) event time of the batch; a deal created
        more than the sourcing lookback after the latest event, or closed (plus grace) before
        the earliest, cannot be touched by them, so it is not recomputed (this keeps
        long-lived accounts cheap).
        """
        found: set[str] = set()
        items = sorted(accounts.items())
        for i in range(0, len(items), 200):
            should = []
            for account, (earliest, latest) in items[i:i + 200]:
                should.append({"bool": {"filter": [
                    {"term": {"account_id": account}},
                    {"range": {"created_at": {"lte": model.iso(model.parse_iso(latest) + self.lookback)}}},
                    {"bool": {"should": [
                        {"bool": {"must_not": [{"exists": {"field": "closed_at"}}]}},
                        {"range": {"closed_at": {"gte": model.iso(model.parse_iso(earliest) - self.grace)}}},
                    ], "minimum_should_match": 1}},
                ]}})
            query = {"bool": {"should": should, "minimum_should_match": 1}}
            for hit in store.scan(self.es, self.names.deals, query, sort=[{"opportunity_id": "asc"}], source=False):
                found.add(hit["_id"])
        return found

    def affected(self, usage: Iterable[dict[str, Any]], deal_ids: Iterable[str]) -> set[str]:
        opps = set(deal_ids)
        accounts: dict[str, tuple[str, str]] = {}
        for ev in usage:
            if ev.get("opportunity_id"):
                opps.add(ev["opportunity_id"])
            elif ev.get("account_id"):
                at = ev["occurred_at"]
                lo, hi = accounts.get(ev["account_id"], (at, at))
                accounts[ev["account_id"]] = (min(lo, at), max(hi, at))
        if accounts:
            opps |= self.opportunities_of_accounts(accounts)
        return opps

    # ---- recomputation ----------------------------------------------------------------------
    def refresh(self) -> None:
        self.es.indices.refresh(index=",".join((self.names.usage, self.names.deals, self.names.touches,
                                                 self.names.credits)))

    def recompute(self, opportunity_ids: Iterable[str], refresh: bool = True) -> tuple[int, int]:
        """Recompute the touches of these opportunities; returns (touches written, deleted)."""
        ids = sorted(set(opportunity_ids))
        if not ids:
            return 0, 0
        if refresh:
            self.refresh()
        written = deleted = 0
        for i in range(0, len(ids), CHUNK):
            w, d = self._recompute_chunk(ids[i:i + CHUNK])
            written += w
            deleted += d
        metrics.FEEDBACK_TOUCHES_WRITTEN.inc(written)
        metrics.FEEDBACK_TOUCHES_DELETED.inc(deleted)
        return written, deleted

    def _recompute_chunk(self, ids: list[str]) -> tuple[int, int]:
        found = self.es.mget(index=self.names.deals, ids=ids)["docs"]
        deals = {d["_id"]: d["_source"] for d in found if d.get("found")}
        existing: dict[str, set[str]] = {}
        for hit in store.scan(self.es, self.names.touches, {"terms": {"opportunity_id": ids}},
                              sort=[{"opportunity_id": "asc"}, {"asset_id": "asc"}], source=["opportunity_id"]):
            existing.setdefault(hit["_source"]["opportunity_id"], set()).add(hit["_id"])
        candidates = self._candidate_events(list(deals.values()))
        ops: list[dict[str, Any]] = []
        recomputed: credits.Changes = {}
        for opp in ids:
            deal = deals.get(opp)
            new = model.compute_touches(deal, candidates, self.grace, self.lookback) if deal else {}
            recomputed[opp] = (deal, new)
            for tid, doc in sorted(new.items()):
                ops.append({"action": {"index": {"_index": self.names.touches, "_id": tid}}, "source": doc})
            stale = sorted(existing.get(opp, set()) - set(new))
            for tid in stale:
                ops.append({"action": {"delete": {"_index": self.names.touches, "_id": tid}}, "source": None})
        outcome = es_util.bulk(self.es, ops)
        if outcome.rejected:
            # A deterministic document that Elasticsearch refuses is a bug, not bad input.
            raise RuntimeError(f"touch writes rejected: {outcome.rejected[:3]}")
        credits.rewrite(self.es, self.names, recomputed)  # attribution credits follow the new touches
        deletes = sum(1 for op in ops if "delete" in op["action"])
        return len(ops) - deletes, deletes

    def _candidate_events(self, deals: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Stored events that may belong to any of `deals` (compute_touches filters exactly)."""
        if not deals:
            return []
        opps = sorted({d["opportunity_id"] for d in deals})
        accounts = sorted({d["account_id"] for d in deals})
        earliest = model.iso(min(model.window(d, self.grace, self.lookback).start for d in deals))
        query = {
            "bool": {
                "filter": [{"range": {"occurred_at": {"gte": earliest}}}, {"term": {"is_bot": False}}],
                "should": [
                    {"terms": {"opportunity_id": opps}},
                    {"bool": {"filter": [{"terms": {"account_id": accounts}}],
                              "must_not": [{"exists": {"field": "opportunity_id"}}]}},
                ],
                "minimum_should_match": 1,
            }
        }
        return [hit["_source"] for hit in store.scan(self.es, self.names.usage, query, sort=[{"event_id": "asc"}])]

    def recompute_all(self, progress: Any = None) -> tuple[int, int]:
        """Recompute every opportunity's touches (after a grace change, or to repair)."""
        self.refresh()
        batch: list[str] = []
        total_w = total_d = 0
        for hit in store.scan(self.es, self.names.deals, {"match_all": {}}, sort=[{"opportunity_id": "asc"}],
                              source=False):
            batch.append(hit["_id"])
            if len(batch) >= CHUNK:
                w, d = self.recompute(batch, refresh=False)
                total_w, total_d = total_w + w, total_d + d
                if progress:
                    progress(len(batch))
                batch = []
        w, d = self.recompute(batch, refresh=False)
        if progress and batch:
            progress(len(batch))
        return total_w + w, total_d + d


def unavailable(exc: BaseException) -> errors.Unavailable | None:
    return errors.Unavailable(f"Elasticsearch unavailable: {exc}") if es_util.is_unavailable(exc) else None
