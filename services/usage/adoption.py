"""Catalog adoption at a glance: how much of the published catalog reps and customers use,
how many reps are active (per team and region), and which assets moved, each figure against
the previous period of equal length.

Definitions (docs/portal.md explains them to marketers):

- The catalog of a period is every asset of the service's catalog view (`usage-catalog`)
  whose current status is published and that was published before the period's end (an
  asset without `published_at` counts as always published). The view holds each asset's
  latest state only, so an asset retired or moved back to draft since counts in no period.
- Rep-used: at least one rep event (view, download, share, email attach, search click,
  present) in the period; customer-used: at least one customer open, page view or customer
  download. Bot-flagged events (link scanners, previews, floods) never count.
- Active reps: distinct reps with a rep event in the period; known reps: distinct reps with
  a rep event in the 365 days before the period's end. The usage events are the only
  record of every rep that works with the catalog (portal accounts miss reps who sign in
  through single sign-on before their first visit, and CRM integrations that record usage
  for reps with no portal account at all); a year covers a full sales cycle.
- A rep's team and region: the value on the rep's latest rep event carrying one before the
  period's end (events carry the rep's team and region when they are recorded). The same
  grouping applies to the previous period, so each group's delta compares the same people.
- Uses of an asset (movers): its rep events plus customer opens and customer downloads
  (page views count pages, not uses, and are left out).

Every count is exact: composite aggregations page through every asset and rep inside
Elasticsearch (cardinality aggregations would be approximate), and only one bucket per
asset or rep comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from elasticsearch import Elasticsearch
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import usage_pb2
from services.common import es as es_util, validation
from services.usage import model
from services.usage.store import Names

KNOWN_REP_DAYS = 365
WEEK = timedelta(days=7)
REP_TYPES = sorted(model.REP_TYPES)
CUSTOMER_TYPES = sorted(model.CUSTOMER_TYPES)
USE_TYPES = sorted(model.REP_TYPES | {"customer_open", "customer_download"})


# ---- period maths (pure) ---------------------------------------------------------------------

@dataclass(frozen=True)
class Periods:
    """The requested period [start, end) and the previous one [previous_start, start) of equal length."""

    start: datetime
    end: datetime
    previous_start: datetime

    @classmethod
    def of(cls, start: datetime, end: datetime, field: str = "time_range") -> "Periods":
        return cls(start, end, validation.shift(start, -(end - start), f"{field}.start"))

    def known_since(self, field: str = "time_range") -> datetime:
        """Earliest event time any figure reads: the previous period's known-rep year."""
        year_before_start = validation.shift(self.start, -timedelta(days=KNOWN_REP_DAYS), f"{field}.start")
        return min(year_before_start, self.previous_start)


def week_slices(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """7-day slices from `start`; the last one ends at `end` and may be shorter.

    Slicing from the period's start (not calendar weeks) keeps every slice inside the
    period, so a week's share never mixes in days the period does not cover.
    """
    out = []
    cursor = start
    while cursor < end:
        out.append((cursor, min(cursor + WEEK, end)))
        cursor += WEEK
    return out


def share(used: int, total: int) -> float:
    """used / total, 0 for an empty catalog (nothing to adopt)."""
    return used / total if total else 0.0


def change_percent(current: int, previous: int) -> float | None:
    """Relative change in percent; None when the previous value is 0 (undefined)."""
    if previous == 0:
        return None
    return (current - previous) / previous * 100.0


# ---- movers (pure) ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Mover:
    asset_id: str
    uses: int
    previous_uses: int

    @property
    def change(self) -> int:
        return self.uses - self.previous_uses


def rank_movers(uses: dict[str, tuple[int, int]], limit: int) -> tuple[list[Mover], list[Mover]]:
    """The `limit` assets whose uses rose most and fell most (by absolute change, ties by asset id)."""
    movers = [Mover(a, cur, prev) for a, (cur, prev) in uses.items() if cur != prev]
    risers = sorted((m for m in movers if m.change > 0), key=lambda m: (-m.change, m.asset_id))[:limit]
    fallers = sorted((m for m in movers if m.change < 0), key=lambda m: (m.change, m.asset_id))[:limit]
    return risers, fallers


# ---- reading Elasticsearch ---------------------------------------------------------------------

def _range(start: datetime, end: datetime) -> dict[str, Any]:
    return {"range": {"occurred_at": {"gte": model.iso(start), "lt": model.iso(end)}}}


def _ms(when: datetime) -> float:
    return when.timestamp() * 1000.0


def published_catalog(es: Elasticsearch, names: Names, end: datetime, timeout_s: float) -> dict[str, float | None]:
    """Published assets as of `end`: asset id -> published_at in epoch ms (None when unknown)."""
    query = {"bool": {"filter": [{"term": {"status": "published"}}], "must_not": [
        {"range": {"published_at": {"gte": model.iso(end)}}}]}}
    buckets = es_util.composite_buckets(es.options(request_timeout=timeout_s), names.catalog, query,
                                        [es_util.terms_source("asset_id")],
                                        {"published": {"min": {"field": "published_at"}}})
    return {b["key"]["k"]: b["published"]["value"] for b in buckets}


def published_before(catalog: dict[str, float | None], end: datetime) -> set[str]:
    """Assets of `catalog` published before `end`."""
    limit = _ms(end)
    return {a for a, published in catalog.items() if published is None or published < limit}


@dataclass
class AssetUse:
    """One asset's usage: which periods and weeks it was used in, and its uses per period."""

    rep_current: bool = False
    rep_previous: bool = False
    customer_current: bool = False
    customer_previous: bool = False
    uses: int = 0
    previous_uses: int = 0
    rep_weeks: set[int] = field(default_factory=set)
    customer_weeks: set[int] = field(default_factory=set)


def _week_ranges(weeks: list[tuple[datetime, datetime]]) -> list[dict[str, str]]:
    return [{"key": str(i), "from": model.iso(a), "to": model.iso(b)} for i, (a, b) in enumerate(weeks)]


def _asset_aggs(p: Periods, weeks: list[tuple[datetime, datetime]]) -> dict[str, Any]:
    current, previous = _range(p.start, p.end), _range(p.previous_start, p.start)
    rep, customer, use = ({"terms": {"type": t}} for t in (REP_TYPES, CUSTOMER_TYPES, USE_TYPES))
    ranges = {"date_range": {"field": "occurred_at", "ranges": _week_ranges(weeks), "keyed": True}}

    def both(kind: dict[str, Any], when: dict[str, Any]) -> dict[str, Any]:
        return {"filter": {"bool": {"filter": [kind, when]}}}

    return {
        "rep_current": both(rep, current), "rep_previous": both(rep, previous),
        "customer_current": both(customer, current), "customer_previous": both(customer, previous),
        "uses_current": both(use, current), "uses_previous": both(use, previous),
        "rep_weeks": {"filter": rep, "aggs": {"w": ranges}},
        "customer_weeks": {"filter": customer, "aggs": {"w": ranges}},
    }


def _used_weeks(bucket: dict[str, Any]) -> set[int]:
    return {int(key) for key, w in bucket["w"]["buckets"].items() if w["doc_count"] > 0}


def asset_usage(es: Elasticsearch, names: Names, p: Periods, weeks: list[tuple[datetime, datetime]],
                timeout_s: float) -> dict[str, AssetUse]:
    """Per asset with human usage in either period: use flags per period and week, uses per period."""
    query = {"bool": {"filter": [_range(p.previous_start, p.end), {"term": {"is_bot": False}},
                                 {"terms": {"type": sorted(set(REP_TYPES) | set(CUSTOMER_TYPES))}}]}}
    out: dict[str, AssetUse] = {}
    for b in es_util.composite_buckets(es.options(request_timeout=timeout_s), names.events, query,
                                       [es_util.terms_source("asset_id")], _asset_aggs(p, weeks)):
        out[b["key"]["k"]] = AssetUse(
            rep_current=b["rep_current"]["doc_count"] > 0, rep_previous=b["rep_previous"]["doc_count"] > 0,
            customer_current=b["customer_current"]["doc_count"] > 0,
            customer_previous=b["customer_previous"]["doc_count"] > 0,
            uses=b["uses_current"]["doc_count"], previous_uses=b["uses_previous"]["doc_count"],
            rep_weeks=_used_weeks(b["rep_weeks"]), customer_weeks=_used_weeks(b["customer_weeks"]))
    return out


@dataclass(frozen=True)
class RepActivity:
    """One rep: active and known in each period, and the team and region the rep is grouped under."""

    active: bool
    known: bool
    previous_active: bool
    previous_known: bool
    team: str
    region: str


def _latest(field_name: str) -> dict[str, Any]:
    """The value of `field_name` on the rep's latest event carrying one (the query ends at the period's end)."""
    return {"filter": {"exists": {"field": field_name}},
            "aggs": {"v": {"top_hits": {"size": 1, "sort": [{"occurred_at": "desc"}, {"event_id": "desc"}],
                                        "_source": [field_name]}}}}


def _latest_value(bucket: dict[str, Any], field_name: str) -> str:
    hits = bucket["v"]["hits"]["hits"]
    return str(hits[0]["_source"].get(field_name) or "") if hits else ""


def rep_activity(es: Elasticsearch, names: Names, p: Periods, timeout_s: float) -> list[RepActivity]:
    """Every rep with a rep event in the year before either period's end."""
    year = timedelta(days=KNOWN_REP_DAYS)
    query = {"bool": {"filter": [_range(p.known_since(), p.end), {"term": {"is_bot": False}},
                                 {"terms": {"type": REP_TYPES}}]}}
    aggs = {
        "active": {"filter": _range(p.start, p.end)},
        "previous_active": {"filter": _range(p.previous_start, p.start)},
        "known": {"filter": _range(p.end - year, p.end)},
        "previous_known": {"filter": _range(p.start - year, p.start)},
        "team": _latest("team"),
        "region": _latest("region"),
    }
    return [RepActivity(active=b["active"]["doc_count"] > 0, known=b["known"]["doc_count"] > 0,
                        previous_active=b["previous_active"]["doc_count"] > 0,
                        previous_known=b["previous_known"]["doc_count"] > 0,
                        team=_latest_value(b["team"], "team"), region=_latest_value(b["region"], "region"))
            for b in es_util.composite_buckets(es.options(request_timeout=timeout_s), names.events, query,
                                               [es_util.terms_source("rep_id")], aggs)]


def titles(es: Elasticsearch, names: Names, asset_ids: list[str], timeout_s: float) -> dict[str, str]:
    if not asset_ids:
        return {}
    docs = es.options(request_timeout=timeout_s).mget(index=names.catalog, ids=asset_ids, source=["title"])["docs"]
    return {d["_id"]: d["_source"].get("title", "") for d in docs if d.get("found")}


# ---- the answer ----------------------------------------------------------------------------------

def _ts(when: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(when.astimezone(timezone.utc).replace(tzinfo=None))
    return out


def group_reps(reps: Iterable[RepActivity], key: str) -> list[usage_pb2.RepGroup]:
    """Active and known reps per team or region (`key`), named groups first, the unknown bucket ("") last."""
    groups: dict[str, usage_pb2.RepGroup] = {}
    for rep in reps:
        name = getattr(rep, key)
        group = groups.setdefault(name, usage_pb2.RepGroup(name=name))
        group.active_reps += rep.active
        group.known_reps += rep.known
        group.previous_active_reps += rep.previous_active
        group.previous_known_reps += rep.previous_known
    return [groups[n] for n in sorted(groups, key=lambda n: (n == "", n))]


def _figures(start: datetime, end: datetime, published: set[str], usage: dict[str, AssetUse],
             current: bool, reps: list[RepActivity]) -> usage_pb2.AdoptionFigures:
    used = [usage[a] for a in published if a in usage]
    if current:
        rep_used, customer_used = sum(u.rep_current for u in used), sum(u.customer_current for u in used)
        active, known = sum(r.active for r in reps), sum(r.known for r in reps)
    else:
        rep_used, customer_used = sum(u.rep_previous for u in used), sum(u.customer_previous for u in used)
        active, known = sum(r.previous_active for r in reps), sum(r.previous_known for r in reps)
    return usage_pb2.AdoptionFigures(start=_ts(start), end=_ts(end), published_assets=len(published),
                                     rep_used_assets=rep_used, customer_used_assets=customer_used,
                                     active_reps=active, known_reps=known)


def _weeks(weeks: list[tuple[datetime, datetime]], catalog: dict[str, float | None],
           usage: dict[str, AssetUse]) -> list[usage_pb2.AdoptionWeek]:
    out = []
    for i, (start, end) in enumerate(weeks):
        published = published_before(catalog, end)
        used = [usage[a] for a in published if a in usage]
        out.append(usage_pb2.AdoptionWeek(
            start=_ts(start), end=_ts(end), published_assets=len(published),
            rep_used_assets=sum(i in u.rep_weeks for u in used),
            customer_used_assets=sum(i in u.customer_weeks for u in used)))
    return out


def _mover(m: Mover, names: dict[str, str]) -> usage_pb2.AssetMover:
    pct = change_percent(m.uses, m.previous_uses)
    return usage_pb2.AssetMover(asset_id=m.asset_id, title=names.get(m.asset_id, ""), uses=m.uses,
                                previous_uses=m.previous_uses, change=m.change, change_percent=pct or 0.0,
                                new_in_period=pct is None)


def overview(es: Elasticsearch, names: Names, start: datetime, end: datetime, movers_limit: int,
             timeout_s: float) -> usage_pb2.GetAdoptionOverviewResponse:
    """The whole overview for [start, end) and the previous period of equal length."""
    p = Periods.of(start, end)
    p.known_since()  # INVALID_ARGUMENT before any query when the year before leaves the calendar
    weeks = week_slices(start, end)
    catalog = published_catalog(es, names, end, timeout_s)
    usage = asset_usage(es, names, p, weeks, timeout_s)
    reps = rep_activity(es, names, p, timeout_s)
    published_now = published_before(catalog, end)
    risers, fallers = rank_movers({a: (usage[a].uses, usage[a].previous_uses) for a in published_now if a in usage},
                                  movers_limit)
    asset_titles = titles(es, names, sorted({m.asset_id for m in risers + fallers}), timeout_s)
    return usage_pb2.GetAdoptionOverviewResponse(
        current=_figures(start, end, published_now, usage, True, reps),
        previous=_figures(p.previous_start, start, published_before(catalog, start), usage, False, reps),
        weeks=_weeks(weeks, catalog, usage),
        teams=group_reps(reps, "team"), regions=group_reps(reps, "region"),
        risers=[_mover(m, asset_titles) for m in risers], fallers=[_mover(m, asset_titles) for m in fallers])
