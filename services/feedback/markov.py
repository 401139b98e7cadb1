"""The data-driven (Markov removal-effect) attribution, computed in the background per scope.

The chain learns from every closed deal's ordered touchpoints, so unlike the rule-based
credits it cannot be summed from per-deal documents: a year of a 100k-deal CRM takes a
minute or more to stream and solve. The feedback consumer process therefore recomputes
it every COLLATERAL_FEEDBACK_MARKOV_INTERVAL_S for a fixed set of scopes (one pass over
the closed deals' touches feeds every scope's chain) and stores each result with its
as-of time; `python -m services.feedback.markov` does one run by hand. GetAttribution
serves the stored result whose scope matches the request (`select`), and nothing (no
`markov_as_of`) when none does, rather than compute for minutes inside a request.

Scopes (no segment filter): `all` (no time range); `last-7d`, `last-30d`, `last-90d`,
`last-365d` (deals closed since as-of minus N days: the portal's windows); `month-YYYY-MM`
for the as-of month and the 12 calendar months before it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

from elasticsearch import Elasticsearch

from services.common import cli, config, es as es_util, logs, metrics
from services.feedback import attribution, credits, model, reports, store

log = logging.getLogger(__name__)

TRAILING_DAYS = (7, 30, 90, 365)
MONTHS = 12
TRAILING_MATCH = timedelta(days=1)  # a trailing request's start may differ this much from the stored scope's


@dataclass(frozen=True)
class Scope:
    key: str
    start: datetime | None
    end: datetime | None

    def contains(self, closed_at: datetime) -> bool:
        return (self.start is None or closed_at >= self.start) and (self.end is None or closed_at < self.end)

    def filters(self) -> reports.Filters:
        return reports.Filters(self.start, self.end)


def _month_start(when: datetime, back: int = 0) -> datetime:
    index = when.year * 12 + when.month - 1 - back
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=timezone.utc)


def month_key(start: datetime) -> str:
    return f"month-{start:%Y-%m}"


def scopes(as_of: datetime) -> list[Scope]:
    """Every scope one run computes, as of `as_of`."""
    out = [Scope("all", None, None)]
    out += [Scope(f"last-{days}d", as_of - timedelta(days=days), None) for days in TRAILING_DAYS]
    for back in range(MONTHS + 1):
        start = _month_start(as_of, back)
        out.append(Scope(month_key(start), start, _month_start(as_of, back - 1)))
    return out


def candidate_keys(filters: reports.Filters) -> list[str]:
    """Ids of the stored results that could answer `filters` (select picks among them)."""
    if any(filters.segment.values()):
        return []
    if filters.start is None and filters.end is None:
        return ["all"]
    if filters.start is not None and filters.end is None:
        return [f"last-{days}d" for days in TRAILING_DAYS]
    if filters.start is not None and filters.start == _month_start(filters.start) and filters.end == _month_start(
            filters.start, -1):
        return [month_key(filters.start)]
    return []


def select(filters: reports.Filters, stored: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The stored result answering `filters`, or None when no precomputed scope matches.

    A trailing window (start, no end) matches the stored `last-Nd` whose start is
    within TRAILING_MATCH of it: the portal's "last 90 days" asked a few minutes after
    the job ran is the same scope, with the as-of time telling the difference.
    """
    best: tuple[float, Mapping[str, Any]] | None = None
    for key in candidate_keys(filters):
        doc = stored.get(key)
        if doc is None:
            continue
        if not key.startswith("last-"):
            return doc
        gap = abs((model.parse_iso(doc["start"]) - filters.start).total_seconds())  # type: ignore[operator]
        if gap <= TRAILING_MATCH.total_seconds() and (best is None or gap < best[0]):
            best = (gap, doc)
    return best[1] if best else None


class _ScopeChain:
    """One scope's chain and the won revenue it shares out."""

    def __init__(self, scope: Scope, states: set[str]) -> None:
        self.scope = scope
        self.chain = attribution.MarkovPaths(states)
        self.won_deals = 0
        self.won_total = 0.0

    def add(self, path: list[str], deal: Mapping[str, Any]) -> None:
        won = deal["stage"] == "won"
        self.chain.add(path, won)
        if won:
            self.won_deals += 1
            self.won_total += float(deal.get("amount") or 0.0)

    def document(self, as_of: datetime) -> dict[str, Any]:
        revenue = self.chain.credit(self.won_total)
        return {
            "scope": self.scope.key, "as_of": model.iso(as_of),
            "start": model.iso(self.scope.start) if self.scope.start else None,
            "end": model.iso(self.scope.end) if self.scope.end else None,
            "paths": sum(self.chain.transitions.get(attribution.START, {}).values()),
            "won_deals": self.won_deals, "attributed_total": self.won_total,
            "modelled_assets": len(self.chain.states or ()),
            "credits": {asset: value for asset, value in sorted(revenue.items())},
        }


def top_assets(es: Elasticsearch, names: store.Names, all_scopes: Iterable[Scope]) -> dict[str, set[str]]:
    """Per scope, the assets touching the most closed deals: the chain's own states (one request)."""
    buckets = {s.key: {"bool": {"filter": s.filters().clauses() + [{"terms": {"stage": ["won", "lost"]}}]}}
               for s in all_scopes}
    response = es.search(index=names.touches, size=0, track_total_hits=False, aggs={"scopes": {
        "filters": {"filters": buckets},
        "aggs": {"a": {"terms": {"field": "asset_id", "size": attribution.MARKOV_MAX_STATES,
                                 "order": [{"_count": "desc"}, {"_key": "asc"}]}}}}})
    return {key: {b["key"] for b in agg["a"]["buckets"]}
            for key, agg in response["aggregations"]["scopes"]["buckets"].items()}


def compute(es: Elasticsearch, settings: config.Settings, names: store.Names, as_of: datetime) -> list[dict[str, Any]]:
    """One pass over every closed deal's touches feeding every scope's chain; one document per scope."""
    all_scopes = scopes(as_of)
    states = top_assets(es, names, all_scopes)
    chains = [_ScopeChain(s, states.get(s.key, set())) for s in all_scopes]
    rep = reports.Reports(es, settings, names)
    for deal, touches in rep.closed_deal_touches(reports.Filters(), ("won", "lost")):
        points = credits.touchpoints(touches)
        if not points or not deal.get("closed_at"):
            continue
        closed = model.parse_iso(deal["closed_at"])
        path = [p.asset_id for p in points]
        for scoped in chains:
            if scoped.scope.contains(closed):
                scoped.add(path, deal)
    return [scoped.document(as_of) for scoped in chains]


class MarkovJob:
    """The periodic job of the consumer process (services.common.periodic.Job)."""

    def __init__(self, settings: config.Settings, es: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = es or es_util.client(settings)
        self.names = store.Names.of(settings)

    def publish(self, as_of: datetime | None = None) -> int:
        """Recompute and store every scope; returns how many were written."""
        as_of = as_of or datetime.now(timezone.utc)
        started = time.monotonic()
        docs = compute(self.es, self.settings, self.names, as_of)
        ops = [{"action": {"index": {"_index": self.names.markov, "_id": d["scope"]}}, "source": d} for d in docs]
        outcome = es_util.bulk(self.es, ops, refresh="wait_for")
        if outcome.rejected:
            raise RuntimeError(f"markov writes rejected: {outcome.rejected[:3]}")
        metrics.FEEDBACK_MARKOV_COMPUTED.set(as_of.timestamp())
        metrics.FEEDBACK_MARKOV_DURATION.set(time.monotonic() - started)
        log.info("markov attribution recomputed", extra={"scopes": len(docs), "as_of": model.iso(as_of)})
        return len(docs)

    def close(self) -> None:
        self.es.close()


def stored(es: Elasticsearch, names: store.Names, keys: list[str], timeout_s: float | None = None
           ) -> dict[str, dict[str, Any]]:
    """The stored results among `keys` (missing ones absent)."""
    if not keys:
        return {}
    client = es.options(request_timeout=timeout_s) if timeout_s else es
    docs = client.mget(index=names.markov, ids=keys)["docs"]
    return {d["_id"]: d["_source"] for d in docs if d.get("found")}


def main(argv: list[str] | None = None) -> None:
    cli.parse_no_arguments("python -m services.feedback.markov", __doc__, argv)
    settings = config.load()
    logs.configure("feedback-markov", settings.log_level, "text")
    es = es_util.client(settings)
    store.ensure(es, settings)
    written = MarkovJob(settings, es).publish()
    print(f"{written} Markov attribution scopes recomputed")


if __name__ == "__main__":
    main()
