"""The closed-loop reports: win rates with baselines, attribution, scorecards, content gaps.

Counting happens in Elasticsearch: per-asset won/lost/open counts and sums are terms
aggregations over `touches` per stage (composite pages past ASSET_BUCKETS assets),
and the baseline is a terms aggregation over `deals` with the same filters. Only the
per-asset arithmetic (Wilson interval, z-test, Benjamini-Hochberg, sorting) runs in Python, over one row
per asset. Attribution sums the credits materialised per (won deal, asset) (credits.py)
in one aggregation; only a non-default time-decay half-life streams the won deals'
touches sorted by opportunity with search_after in bounded pages, keeping only per-asset
sums in memory (O(assets), never O(deals)).

Without a segment filter and over whole UTC months (or all time), the touched counts and
the credited attribution aggregate the per (asset, month) rollups instead (rollups.py):
the same numbers from tens of thousands of documents instead of millions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from elasticsearch import Elasticsearch

from services.common import config, es as es_util
from services.feedback import attribution, credits, model, rollups, stats, store

COMPOSITE_PAGE = 1000
ATTRIBUTION_PAGE = 2000
ASSET_BUCKETS = 10_000  # assets one terms aggregation returns; beyond, reports page a composite aggregation
ROLLUP_ASSET_BUCKETS = 30_000  # assets a rollup report returns (two terms aggregations stay below search.max_buckets)
CREDIT_SUMS = (*attribution.MODELS, "sourced_revenue", "influenced_revenue", "sourced")
STREAMED_FIELDS = ("asset_id", "opportunity_id", "stage", "amount", "created_at", "closed_at", "times", "sourcing",
                   "influencing")
SEGMENT_FIELDS = {"industries": "industry", "regions": "region", "product_lines": "product_line",
                  "teams": "team", "deal_size_bands": "deal_size_band"}


@dataclass(frozen=True)
class Filters:
    """A report's deal filter: time range on close (open deals: created before the end) and segment."""

    start: datetime | None = None
    end: datetime | None = None
    segment: Mapping[str, Sequence[str]] = field(default_factory=dict)  # touch/deal field -> values

    def won_clauses(self) -> list[dict[str, Any]]:
        """clauses() for an index holding only won deals (the credits): a plain close-date range,
        which Elasticsearch evaluates faster than the open-or-closed disjunction."""
        out = self._segment_clauses()
        bounds = {**({"gte": model.iso(self.start)} if self.start else {}), **({"lt": model.iso(self.end)} if self.end else {})}
        return out + ([{"range": {"closed_at": bounds}}] if bounds else [])

    def _segment_clauses(self) -> list[dict[str, Any]]:
        return [{"terms": {name: sorted({v.strip().lower() for v in values})}}
                for name, values in sorted(self.segment.items()) if values]

    def clauses(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name, values in sorted(self.segment.items()):
            if values:
                out.append({"terms": {name: sorted({v.strip().lower() for v in values})}})
        if self.start is None and self.end is None:
            return out
        closed_range: dict[str, str] = {}
        if self.start is not None:
            closed_range["gte"] = model.iso(self.start)
        if self.end is not None:
            closed_range["lt"] = model.iso(self.end)
        open_clause: dict[str, Any] = {"bool": {"filter": [{"term": {"stage": "open"}}]}}
        if self.end is not None:
            open_clause["bool"]["filter"].append({"range": {"created_at": {"lt": model.iso(self.end)}}})
        out.append({"bool": {"should": [
            {"bool": {"filter": [{"terms": {"stage": ["won", "lost"]}}, {"range": {"closed_at": closed_range}}]}},
            open_clause,
        ], "minimum_should_match": 1}})
        return out


# ---- attribution -----------------------------------------------------------------------------

@dataclass
class AssetCredit:
    """One asset's attributed revenue per rule-based model, and the won deals it sourced and influenced."""

    revenue: dict[str, float] = field(default_factory=dict)  # model -> attributed revenue
    won_deals: int = 0  # won deals it touched (sourcing or influencing)
    sourced_deals: int = 0
    sourced_revenue: float = 0.0  # amounts of the won deals it touched before their creation
    influenced_revenue: float = 0.0  # amounts of the won deals it touched from creation to close + grace


@dataclass
class AttributionTable:
    assets: dict[str, AssetCredit] = field(default_factory=dict)
    won_deals: int = 0  # won deals with at least one touchpoint
    attributed_total: float = 0.0  # their amounts: what every model's column sums to


# ---- win rates -------------------------------------------------------------------------------

@dataclass
class Counts:
    won: int = 0
    lost: int = 0
    open: int = 0
    won_amount: float = 0.0

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def total(self) -> int:
        return self.won + self.lost + self.open


@dataclass
class WinRate:
    asset_id: str
    touched: Counts
    baseline: Counts  # comparable deals without the asset
    win_rate: float
    lower: float
    upper: float
    baseline_win_rate: float
    lift: float
    lift_ratio: float
    z: float
    p_value: float
    ranked: bool
    significant: bool = False  # set over the whole report by control_false_discoveries
    q_value: float = 1.0  # Benjamini-Hochberg adjusted p_value; 1 for unranked assets
    rep_odds_ratio: float = 1.0
    rep_p_value: float = 1.0


def win_rate(asset_id: str, touched: Counts, overall: Counts, min_closed: int) -> WinRate:
    """One asset's row: its touched deals against every comparable deal it did not touch.

    The row is not yet called significant or not: that depends on every other asset of the
    report (control_false_discoveries), never on this asset's p-value alone.
    """
    baseline = Counts(won=max(0, overall.won - touched.won), lost=max(0, overall.lost - touched.lost),
                      open=max(0, overall.open - touched.open))
    rate = touched.won / touched.closed if touched.closed else 0.0
    lower, upper = stats.wilson_interval(touched.won, touched.closed)
    base_rate = baseline.won / baseline.closed if baseline.closed else 0.0
    test = stats.two_proportion_z_test(touched.won, touched.closed, baseline.won, baseline.closed)
    ranked = touched.closed >= min_closed and baseline.closed >= min_closed
    return WinRate(
        asset_id=asset_id, touched=touched, baseline=baseline, win_rate=rate, lower=lower, upper=upper,
        baseline_win_rate=base_rate, lift=rate - base_rate if touched.closed and baseline.closed else 0.0,
        lift_ratio=rate / base_rate if base_rate > 0 and touched.closed else 0.0,
        z=test.z, p_value=test.p_value, ranked=ranked,
    )


def control_false_discoveries(rows: Sequence[WinRate], fdr_level: float) -> None:
    """Set q_value and significant on every row: Benjamini-Hochberg over the ranked rows.

    A report tests hundreds of assets at once; calling each one significant at p < 0.05
    would call about one in twenty assets without any real effect "tied to wins". The
    family is the ranked rows given, so callers pass every ranked asset of the report's
    filters whatever page or subset they show: an asset's q is then the same in every view.
    Unranked rows get q = 1 and are never significant.
    """
    family = [row for row in rows if row.ranked]
    for row in rows:
        row.q_value, row.significant = 1.0, False
    for row, q in zip(family, stats.benjamini_hochberg([row.p_value for row in family])):
        row.q_value, row.significant = q, q < fdr_level


def _stage_counts(buckets: Iterable[Mapping[str, Any]]) -> Counts:
    counts = Counts()
    for b in buckets:
        stage = b["key"]
        if stage == "won":
            counts.won = b["doc_count"]
            counts.won_amount = float(b["amount"]["value"] or 0.0)
        elif stage == "lost":
            counts.lost = b["doc_count"]
        elif stage == "open":
            counts.open = b["doc_count"]
    return counts


STAGE_AGG = {"terms": {"field": "stage", "size": 3}, "aggs": {"amount": {"sum": {"field": "amount"}}}}
# Touches split by stage, then by asset; the won ones also sum the influenced revenue
# (a won deal's amount on touches from its creation on).
STAGES_OF_TOUCHES = ("won", "lost", "open")



def stage_partition_aggs() -> dict[str, Any]:
    by_asset: dict[str, Any] = {"terms": {"field": "asset_id", "size": ASSET_BUCKETS}}
    won = {**by_asset, "aggs": {"amount": {"sum": {"field": "influenced_amount"}}}}
    return {stage: {"filter": {"term": {"stage": stage}}, "aggs": {"a": won if stage == "won" else by_asset}}
            for stage in STAGES_OF_TOUCHES}


# Per asset, for the composite pages past ASSET_BUCKETS assets (open = the rest).
TOUCHED_AGGS = {"won": {"filter": {"term": {"stage": "won"}}, "aggs": {"amount": {"sum": {"field": "influenced_amount"}}}},
                "lost": {"filter": {"term": {"stage": "lost"}}}}


class Reports:
    def __init__(self, es: Elasticsearch, settings: config.Settings, names: store.Names) -> None:
        self.es = es
        self.settings = settings
        self.names = names

    def _client(self, timeout_s: float | None) -> Elasticsearch:
        return self.es.options(request_timeout=timeout_s) if timeout_s else self.es

    def overall(self, filters: Filters, timeout_s: float | None = None) -> Counts:
        response = self._client(timeout_s).search(
            index=self.names.deals, size=0, query={"bool": {"filter": filters.clauses()}},
            aggs={"stages": STAGE_AGG}, track_total_hits=False,
        )
        return _stage_counts(response["aggregations"]["stages"]["buckets"])

    def touched_counts(self, filters: Filters, asset_ids: Sequence[str] | None = None,
                       timeout_s: float | None = None) -> dict[str, Counts]:
        """Per asset: touched deals by stage, and the influenced revenue of the won ones.

        One request: a filter aggregation per stage, each with a terms aggregation on
        asset_id, the won one also summing the influenced revenue. The stages partition the
        touches, so Elasticsearch reads each touch's asset once and the revenue only for
        won touches (summing a field over every touch would cost as much as the terms
        aggregation itself). Past ASSET_BUCKETS assets a composite aggregation pages them
        instead (it re-reads the matching touches once per page of 1000 assets).
        """
        if self.rollups_cover(filters, timeout_s):
            rolled_up = self._touched_counts_rolled_up(filters, asset_ids, timeout_s)
            if rolled_up is not None:
                return rolled_up
        clauses = filters.clauses()
        if asset_ids is not None:
            clauses.append({"terms": {"asset_id": list(asset_ids)}})
        query = {"bool": {"filter": clauses}}
        client = self._client(timeout_s)
        aggs = client.search(index=self.names.touches, size=0, track_total_hits=False, query=query,
                             aggs=stage_partition_aggs())["aggregations"]
        if any(aggs[stage]["a"]["sum_other_doc_count"] for stage in STAGES_OF_TOUCHES):
            return self._touched_counts_paged(client, query)
        out: dict[str, Counts] = {}
        for stage in STAGES_OF_TOUCHES:
            for b in aggs[stage]["a"]["buckets"]:
                counts = out.setdefault(b["key"], Counts())
                setattr(counts, stage, b["doc_count"])
                if stage == "won":
                    counts.won_amount = float(b["amount"]["value"] or 0.0)
        return out

    def rollups_cover(self, filters: Filters, timeout_s: float | None = None) -> bool:
        """Whether the per (asset, month) rollups answer `filters` exactly (rollups.py): no segment,
        a range of whole UTC months (or none), and every rollup computed."""
        return rollups.covers(filters.start, filters.end, filters.segment) and rollups.ready(
            self.es, self.names, timeout_s)

    def _rollup_search(self, query: Mapping[str, Any], aggs: Mapping[str, Any], timeout_s: float | None
                       ) -> dict[str, Any]:
        return self._client(timeout_s).search(index=self.names.rollups, size=0, track_total_hits=False,
                                              query=query, aggs=aggs)["aggregations"]

    def _touched_counts_rolled_up(self, filters: Filters, asset_ids: Sequence[str] | None,
                                  timeout_s: float | None) -> dict[str, Counts] | None:
        """touched_counts from the rollups: won/lost of the months in the range, open of the months
        before its end (an open deal counts from its creation on, as in Filters.clauses).
        None past ROLLUP_ASSET_BUCKETS assets (the exact path pages them)."""
        months: dict[str, str] = {}
        if filters.start is not None:
            months["gte"] = model.iso(filters.start)
        if filters.end is not None:
            months["lt"] = model.iso(filters.end)
        by_asset = {"terms": {"field": "asset_id", "size": ROLLUP_ASSET_BUCKETS}}
        closed = {"filter": {"range": {"month_start": months}} if months else {"match_all": {}},
                  "aggs": {"a": {**by_asset, "aggs": {name: {"sum": {"field": name}}
                                                      for name in ("won", "lost", "won_amount")}}}}
        opened = {"filter": {"range": {"month_start": {"lt": months["lt"]}}} if "lt" in months else {"match_all": {}},
                  "aggs": {"a": {**by_asset, "aggs": {"open": {"sum": {"field": "open"}}}}}}
        query = {"terms": {"asset_id": list(asset_ids)}} if asset_ids is not None else {"match_all": {}}
        aggs = self._rollup_search(query, {"closed": closed, "opened": opened}, timeout_s)
        if aggs["closed"]["a"]["sum_other_doc_count"] or aggs["opened"]["a"]["sum_other_doc_count"]:
            return None
        out: dict[str, Counts] = {}
        for b in aggs["closed"]["a"]["buckets"]:
            out[b["key"]] = Counts(won=int(b["won"]["value"] or 0), lost=int(b["lost"]["value"] or 0),
                                   won_amount=float(b["won_amount"]["value"] or 0.0))
        for b in aggs["opened"]["a"]["buckets"]:
            out.setdefault(b["key"], Counts()).open = int(b["open"]["value"] or 0)
        # Keys whose touches all went (a deal moved month or stage) stay as zero rollups.
        return {asset: counts for asset, counts in out.items() if counts.total}

    def _touched_counts_paged(self, client: Elasticsearch, query: Mapping[str, Any]) -> dict[str, Counts]:
        out: dict[str, Counts] = {}
        for b in es_util.composite_buckets(client, self.names.touches, query, [es_util.terms_source("asset_id", "key")],
                                           TOUCHED_AGGS, page=COMPOSITE_PAGE):
            won, lost = b["won"]["doc_count"], b["lost"]["doc_count"]
            out[b["key"]["key"]] = Counts(won=won, lost=lost, open=b["doc_count"] - won - lost,
                                          won_amount=float(b["won"]["amount"]["value"] or 0.0))
        return out

    def win_rates(self, filters: Filters, asset_ids: Sequence[str] | None = None,
                  timeout_s: float | None = None) -> tuple[Counts, list[WinRate]]:
        """Rows of `asset_ids` in that order (every touched asset when None), q-values over the report.

        The false-discovery family is every ranked asset under the filters even when a few
        assets are asked for, so GetWinRates and ListAssetWinRates give an asset the same q.
        Its counts come from the same single composite aggregation ListAssetWinRates pages.
        """
        overall = self.overall(filters, timeout_s)
        touched = self.touched_counts(filters, None, timeout_s)
        min_closed = self.settings.feedback_min_closed_deals
        family = [win_rate(a, counts, overall, min_closed) for a, counts in sorted(touched.items())]
        control_false_discoveries(family, self.settings.feedback_significance_level)
        if asset_ids is None:
            return overall, family
        by_asset = {row.asset_id: row for row in family}
        return overall, [by_asset[a] if a in by_asset else win_rate(a, Counts(), overall, min_closed)
                         for a in asset_ids]

    def rep_adjusted(self, filters: Filters, rows: list[WinRate], timeout_s: float | None = None) -> None:
        """Mantel-Haenszel across owner reps, for a few assets (GetWinRates)."""
        if not rows:
            return
        client = self._client(timeout_s)
        per_rep: dict[str, Counts] = {}
        by_rep_stage = [es_util.terms_source("owner_rep_id", "rep"), es_util.terms_source("stage", "stage")]
        for bucket in es_util.composite_buckets(client, self.names.deals, {"bool": {"filter": filters.clauses()}},
                                                by_rep_stage, page=COMPOSITE_PAGE):
            c = per_rep.setdefault(bucket["key"]["rep"], Counts())
            setattr(c, bucket["key"]["stage"], bucket["doc_count"])
        with_asset: dict[tuple[str, str], Counts] = {}
        clauses = filters.clauses() + [{"terms": {"asset_id": [r.asset_id for r in rows]}}]
        for bucket in es_util.composite_buckets(client, self.names.touches, {"bool": {"filter": clauses}},
                                                [es_util.terms_source("asset_id", "asset"), *by_rep_stage],
                                                page=COMPOSITE_PAGE):
            c = with_asset.setdefault((bucket["key"]["asset"], bucket["key"]["rep"]), Counts())
            setattr(c, bucket["key"]["stage"], bucket["doc_count"])
        for row in rows:
            strata = []
            for rep, total in per_rep.items():
                w = with_asset.get((row.asset_id, rep), Counts())
                strata.append((w.won, w.lost, total.won - w.won, total.lost - w.lost))
            ratio, p = stats.mantel_haenszel(strata)
            row.rep_odds_ratio = ratio if math.isfinite(ratio) else 0.0
            row.rep_p_value = p

    # ---- attribution ---------------------------------------------------------------------------
    def attribution(self, filters: Filters, half_life_days: float, timeout_s: float | None = None) -> AttributionTable:
        """Attributed revenue per asset and model for the filtered won deals.

        At the default half-life this is one aggregation over the materialised credits
        (credits.py); any other time-decay half-life re-credits the won deals' touches.
        """
        if half_life_days == credits.HALF_LIFE_DAYS:
            return self.attribution_credited(filters, timeout_s)
        return self.attribution_streamed(filters, half_life_days, timeout_s)

    def attribution_credited(self, filters: Filters, timeout_s: float | None = None) -> AttributionTable:
        """Sum the stored credits per asset: a terms aggregation (composite pages past ASSET_BUCKETS assets),
        over the rollups when they cover the filters."""
        if self.rollups_cover(filters, timeout_s):
            table = self._attribution_rolled_up(filters, timeout_s)
            if table is not None:
                return table
        query = {"bool": {"filter": filters.won_clauses()}}
        sums = {name: {"sum": {"field": name}} for name in CREDIT_SUMS}
        response = self._client(timeout_s).search(
            index=self.names.credits, size=0, track_total_hits=False, query=query,
            aggs={"assets": {"terms": {"field": "asset_id", "size": ASSET_BUCKETS}, "aggs": sums},
                  "deals": {"filter": {"term": {"deal_primary": True}}, "aggs": {"amount": {"sum": {"field": "amount"}}}}},
        )["aggregations"]
        table = AttributionTable(won_deals=response["deals"]["doc_count"],
                                 attributed_total=float(response["deals"]["amount"]["value"] or 0.0))
        buckets: Iterable[Mapping[str, Any]] = response["assets"]["buckets"]
        if response["assets"]["sum_other_doc_count"]:
            buckets = es_util.composite_buckets(self._client(timeout_s), self.names.credits, query,
                                                [es_util.terms_source("asset_id", "key")], sums, page=COMPOSITE_PAGE)
        for b in buckets:
            key = b["key"]["key"] if isinstance(b["key"], dict) else b["key"]
            table.assets[key] = AssetCredit(
                revenue={m: float(b[m]["value"] or 0.0) for m in attribution.MODELS},
                won_deals=b["doc_count"], sourced_deals=int(round(b["sourced"]["value"] or 0)),
                sourced_revenue=float(b["sourced_revenue"]["value"] or 0.0),
                influenced_revenue=float(b["influenced_revenue"]["value"] or 0.0))
        return table

    def _attribution_rolled_up(self, filters: Filters, timeout_s: float | None) -> AttributionTable | None:
        """attribution_credited from the rollups of the range's months; None past ROLLUP_ASSET_BUCKETS assets."""
        bounds = {**({"gte": model.iso(filters.start)} if filters.start else {}),
                  **({"lt": model.iso(filters.end)} if filters.end else {})}
        query = {"range": {"month_start": bounds}} if bounds else {"match_all": {}}
        sums = {name: {"sum": {"field": name}} for name in (*CREDIT_SUMS, "credited_deals")}
        aggs = self._rollup_search(query, {
            "assets": {"terms": {"field": "asset_id", "size": ROLLUP_ASSET_BUCKETS}, "aggs": sums},
            "deals": {"sum": {"field": "primary_deals"}}, "amount": {"sum": {"field": "primary_amount"}}}, timeout_s)
        if aggs["assets"]["sum_other_doc_count"]:
            return None
        table = AttributionTable(won_deals=int(aggs["deals"]["value"] or 0),
                                 attributed_total=float(aggs["amount"]["value"] or 0.0))
        for b in aggs["assets"]["buckets"]:
            deals = int(b["credited_deals"]["value"] or 0)
            if deals:  # zero rollups: every credit of the key went
                table.assets[b["key"]] = AssetCredit(
                    revenue={m: float(b[m]["value"] or 0.0) for m in attribution.MODELS}, won_deals=deals,
                    sourced_deals=int(round(b["sourced"]["value"] or 0)),
                    sourced_revenue=float(b["sourced_revenue"]["value"] or 0.0),
                    influenced_revenue=float(b["influenced_revenue"]["value"] or 0.0))
        return table

    def attribution_streamed(self, filters: Filters, half_life_days: float,
                             timeout_s: float | None = None) -> AttributionTable:
        """Re-credit every filtered won deal from its touches (a non-default time-decay half-life)."""
        acc = attribution.Accumulator(half_life_days)
        table = AttributionTable()
        for deal, touches in self.closed_deal_touches(filters, ("won",), timeout_s):
            points = credits.touchpoints(touches)
            if not points:
                continue
            amount = float(deal.get("amount") or 0.0)
            acc.add(points, amount, model.parse_iso(deal["created_at"]), model.parse_iso(deal["closed_at"]))
            for t in touches:
                row = table.assets.setdefault(t["asset_id"], AssetCredit())
                row.won_deals += 1
                if t.get("sourcing"):
                    row.sourced_deals += 1
                    row.sourced_revenue += amount
                if t.get("influencing", True):
                    row.influenced_revenue += amount
        for model_name, per_asset in acc.revenue.items():
            for asset, value in per_asset.items():
                table.assets.setdefault(asset, AssetCredit()).revenue[model_name] = value
        table.won_deals, table.attributed_total = acc.deals, acc.total_amount
        return table

    def sourced_and_influenced(self, asset_ids: Sequence[str], timeout_s: float | None = None
                               ) -> dict[str, tuple[float, float]]:
        """{asset: (sourced revenue, influenced revenue)} over every won deal, from the credits."""
        response = self._client(timeout_s).search(
            index=self.names.credits, size=0, track_total_hits=False, query={"terms": {"asset_id": list(asset_ids)}},
            aggs={"a": {"terms": {"field": "asset_id", "size": max(1, len(asset_ids))},
                        "aggs": {name: {"sum": {"field": name}} for name in ("sourced_revenue", "influenced_revenue")}}},
        )
        return {b["key"]: (float(b["sourced_revenue"]["value"] or 0.0), float(b["influenced_revenue"]["value"] or 0.0))
                for b in response["aggregations"]["a"]["buckets"]}

    def closed_deal_touches(self, filters: Filters, stages: Sequence[str], timeout_s: float | None = None
                            ) -> Iterable[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """(deal fields, its touches) of every filtered deal in `stages`, streamed by opportunity.

        Pages through the touches sorted by (opportunity, asset) with search_after (the
        index's own sort order), so memory stays one deal's touches.
        """
        clauses = filters.clauses() + [{"terms": {"stage": list(stages)}}]
        current: str | None = None
        group: list[dict[str, Any]] = []
        for hit in store.scan(self.es, self.names.touches, {"bool": {"filter": clauses}},
                              sort=[{"opportunity_id": "asc"}, {"asset_id": "asc"}], size=ATTRIBUTION_PAGE,
                              source=list(STREAMED_FIELDS), timeout_s=timeout_s):
            src = hit["_source"]
            if src["opportunity_id"] != current:
                if group:
                    yield group[0], group
                current, group = src["opportunity_id"], []
            group.append(src)
        if group:
            yield group[0], group

    # ---- catalog, usage, ratings -----------------------------------------------------------------
    def catalog(self, asset_ids: Sequence[str], timeout_s: float | None = None) -> dict[str, dict[str, Any]]:
        if not asset_ids:
            return {}
        docs = self._client(timeout_s).mget(index=self.names.catalog, ids=list(asset_ids))["docs"]
        return {d["_id"]: d["_source"] for d in docs if d.get("found")}

    def titles(self, asset_ids: Sequence[str], timeout_s: float | None = None) -> dict[str, str]:
        return {a: d.get("title", "") for a, d in self.catalog(asset_ids, timeout_s).items()}

    def usage_90d(self, asset_ids: Sequence[str], now: datetime, timeout_s: float | None = None) -> dict[str, tuple[int, int]]:
        since = model.iso(now.replace(microsecond=0) - _days(90))
        response = self._client(timeout_s).search(
            index=self.names.usage, size=0, track_total_hits=False,
            query={"bool": {"filter": [{"terms": {"asset_id": list(asset_ids)}}, {"range": {"occurred_at": {"gte": since}}}]}},
            aggs={"a": {"terms": {"field": "asset_id", "size": len(asset_ids)},
                        "aggs": {"reps": {"cardinality": {"field": "rep_id"}}}}},
        )
        return {b["key"]: (b["doc_count"], b["reps"]["value"]) for b in response["aggregations"]["a"]["buckets"]}

    def rating_summaries(self, asset_ids: Sequence[str], timeout_s: float | None = None) -> dict[str, list[int]]:
        """{asset: [count of 1s, ..., count of 5s]}."""
        response = self._client(timeout_s).search(
            index=self.names.ratings, size=0, track_total_hits=False,
            query={"terms": {"asset_id": list(asset_ids)}},
            aggs={"a": {"terms": {"field": "asset_id", "size": max(1, len(asset_ids))},
                        "aggs": {"r": {"terms": {"field": "rating", "size": 5}}}}},
        )
        out: dict[str, list[int]] = {}
        for b in response["aggregations"]["a"]["buckets"]:
            dist = [0] * 5
            for r in b["r"]["buckets"]:
                if 1 <= int(r["key"]) <= 5:
                    dist[int(r["key"]) - 1] = r["doc_count"]
            out[b["key"]] = dist
        return out


def _days(n: float):
    from datetime import timedelta

    return timedelta(days=n)


# ---- scorecard -----------------------------------------------------------------------------------

SCORE_WEIGHTS = {"usage": 0.25, "win": 0.35, "rating": 0.25, "freshness": 0.15}
USAGE_SATURATION = 100  # uses in 90 days that score 1.0
RATING_PRIOR_MEAN, RATING_PRIOR_WEIGHT = 3.0, 5
FRESHNESS_HALF_LIFE_DAYS = 180.0


@dataclass
class Scorecard:
    usage: float
    win: float
    rating: float
    freshness: float
    score: float
    average_rating: float
    age_days: float


def scorecard(uses_90d: int, row: WinRate, distribution: Sequence[int], updated_at: datetime | None,
              now: datetime) -> Scorecard:
    """Combine the four components into a 0-100 score (weights in SCORE_WEIGHTS)."""
    usage = min(1.0, math.log1p(uses_90d) / math.log1p(USAGE_SATURATION))
    win = row.lower if row.ranked else 0.0
    n = sum(distribution)
    total = sum((i + 1) * c for i, c in enumerate(distribution))
    average = total / n if n else 0.0
    shrunk = (total + RATING_PRIOR_MEAN * RATING_PRIOR_WEIGHT) / (n + RATING_PRIOR_WEIGHT)
    rating = (shrunk - 1) / 4
    if updated_at is None:
        age, freshness = 0.0, 0.5
    else:
        age = max(0.0, (now - updated_at).total_seconds() / 86400)
        freshness = 0.5 ** (age / FRESHNESS_HALF_LIFE_DAYS)
    score = 100 * (SCORE_WEIGHTS["usage"] * usage + SCORE_WEIGHTS["win"] * win
                   + SCORE_WEIGHTS["rating"] * rating + SCORE_WEIGHTS["freshness"] * freshness)
    return Scorecard(usage, win, rating, freshness, score, average, age)


# ---- content gaps -----------------------------------------------------------------------------------

GAP_WEIGHTS = {"searching_rep": 1.0, "extra_search": 0.25, "request": 3.0, "lost_deal": 2.0}


@dataclass
class Gap:
    topic: str
    example: str = ""
    searches: int = 0
    reps: int = 0
    requests: int = 0
    lost_deals: int = 0
    lost_revenue: float = 0.0

    @property
    def score(self) -> float:
        return (GAP_WEIGHTS["searching_rep"] * self.reps
                + GAP_WEIGHTS["extra_search"] * max(0, self.searches - self.reps)
                + GAP_WEIGHTS["request"] * self.requests
                + GAP_WEIGHTS["lost_deal"] * self.lost_deals)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
