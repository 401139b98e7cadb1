"""Materialised attribution: the credit every rule-based model gives each asset of a won deal.

GetAttribution over a year of a large CRM cannot re-credit millions of touchpoints per
request, so the credits are computed when a deal's touches change (the join calls
`rewrite` with every opportunity it recomputed) and stored one document per (won deal,
asset) with one field per model. A report is then a single terms aggregation summing
those fields, filtered by the deal fields each document carries, exactly like the
win-rate reports over touches.

Each credit document also marks whether the asset sourced the deal (a touchpoint in
the lookback before the opportunity was created) and influenced it (a touchpoint from
creation to close + grace), with the deal's amount in `sourced_revenue` /
`influenced_revenue` when it did, and one document per deal (its smallest asset id)
carries `deal_primary`, so won deals and their total are counted once.

The join stage keeps each opportunity's credit documents as last written in its
in-memory state and writes only the ones whose content changed (`stage_writes`), in the
same bulk as the touches; `rewrite` (rejoin) reads the stored ids from the index instead.

Time decay is credited at the default half-life (attribution.DEFAULT_HALF_LIFE_DAYS);
a report asking for another half-life streams the touches instead (reports.py).
Open and lost deals have no credits; a deal that turns lost, or an asset that no
longer touches a deal, loses its credit documents in the same rewrite.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from elasticsearch import Elasticsearch

from services.common import es as es_util, metrics
from services.feedback import attribution, model, store, writes as bulk_writes

DEAL_FIELDS = ("opportunity_id", "account_id", "owner_rep_id", "stage", "amount", "currency", "created_at",
               "closed_at", *model.SEGMENT_FIELDS)
HALF_LIFE_DAYS = attribution.DEFAULT_HALF_LIFE_DAYS

# {opportunity_id: (current deal or None when unknown, {touch_id: touch document})}
Changes = Mapping[str, tuple[Mapping[str, Any] | None, Mapping[str, Mapping[str, Any]]]]


def touchpoints(touches: Iterable[Mapping[str, Any]]) -> list[attribution.Touchpoint]:
    """Every counted touchpoint of a deal's touches, in the order the models use."""
    points = [attribution.Touchpoint(t["asset_id"], model.parse_iso(at)) for t in touches for at in t.get("times") or ()]
    return attribution.ordered(points)


def credit_documents(deal: Mapping[str, Any] | None,
                     touches: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """{credit id: document} for one opportunity: one per asset of a won deal, none otherwise."""
    if not deal or deal.get("stage") != "won" or not touches:
        return {}
    points = touchpoints(touches.values())
    if not points:
        return {}
    amount = float(deal.get("amount") or 0.0)
    per_model = attribution.credit(points, amount, model.parse_iso(deal["created_at"]),
                                   model.parse_iso(deal["closed_at"]), HALF_LIFE_DAYS)
    by_asset = {t["asset_id"]: t for t in touches.values()}
    deal_sourced = any(t.get("sourcing") for t in by_asset.values())
    primary = min(by_asset)
    docs: dict[str, dict[str, Any]] = {}
    for asset_id, touch in sorted(by_asset.items()):
        sourced, influenced = bool(touch.get("sourcing")), bool(touch.get("influencing"))
        doc: dict[str, Any] = {name: deal.get(name) for name in DEAL_FIELDS}
        doc.update(
            asset_id=asset_id,
            deal_version=deal.get("version"),
            half_life_days=HALF_LIFE_DAYS,
            sourced=sourced,
            influenced=influenced,
            sourced_revenue=amount if sourced else 0.0,
            influenced_revenue=amount if influenced else 0.0,
            deal_primary=asset_id == primary,
            deal_sourced=deal_sourced,
            **{m: per_model[m].get(asset_id, 0.0) for m in attribution.MODELS},
        )
        docs[model.touch_id(asset_id, deal["opportunity_id"])] = doc
    return docs


def rewrite(es: Elasticsearch, names: store.Names, changes: Changes) -> tuple[int, int]:
    """Replace the credit documents of these opportunities; returns (written, deleted).

    Reads the opportunities' stored credit ids from the credits index itself (not from
    the touches), so a crash between the touch and credit writes heals on the replay.
    """
    if not changes:
        return 0, 0
    existing: dict[str, set[str]] = {}
    for hit in store.scan(es, names.credits, {"terms": {"opportunity_id": sorted(changes)}},
                          sort=[{"opportunity_id": "asc"}, {"asset_id": "asc"}], source=["opportunity_id"]):
        existing.setdefault(hit["_source"]["opportunity_id"], set()).add(hit["_id"])
    ops: list[dict[str, Any]] = []
    deleted = 0
    for opp, (deal, touches) in sorted(changes.items()):
        new = credit_documents(deal, touches)
        ops.extend({"action": {"index": {"_index": names.credits, "_id": cid}}, "source": doc}
                   for cid, doc in sorted(new.items()))
        stale = sorted(existing.get(opp, set()) - set(new))
        ops.extend({"action": {"delete": {"_index": names.credits, "_id": cid}}, "source": None} for cid in stale)
        deleted += len(stale)
    if not ops:
        return 0, 0
    outcome = es_util.bulk(es, ops)
    # A delete can only be refused as not found (already gone): the wanted state.
    refused = [(i, reason) for i, reason in outcome.rejected if "delete" not in ops[i]["action"]]
    if refused:
        raise RuntimeError(f"credit writes rejected: {refused[:3]}")
    metrics.FEEDBACK_CREDITS_WRITTEN.inc(len(ops) - deleted)
    metrics.FEEDBACK_CREDITS_DELETED.inc(deleted)
    return len(ops) - deleted, deleted


def stored(es: Elasticsearch, names: store.Names,
           opportunity_ids: Iterable[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """{opportunity: {credit id: document}} as stored (the caller refreshes the index first)."""
    ids = sorted(set(opportunity_ids))
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for i in range(0, len(ids), 1000):
        for hit in store.scan(es, names.credits, {"terms": {"opportunity_id": ids[i:i + 1000]}},
                              sort=[{"opportunity_id": "asc"}, {"asset_id": "asc"}], size=5000):
            out.setdefault(hit["_source"]["opportunity_id"], {})[hit["_id"]] = hit["_source"]
    return out


def stage_writes(writes: bulk_writes.Writes, names: store.Names, new: Mapping[str, bytes],
                 old: Mapping[str, int]) -> tuple[int, int]:
    """Add to `writes` the credit documents of one opportunity (orjson-encoded) whose hash differs
    from `old` (the hashes of the ones last written) and the deletes of the ones no longer in
    `new`; returns (written, deleted).

    A won deal's position-based credits change for every asset when one touchpoint is added,
    but an asset whose credits did not change (first touch unchanged, an untouched deal
    re-read after a reload) is not rewritten.
    """
    written = deleted = 0
    for cid, doc in sorted(new.items()):
        if old.get(cid) != hash(doc):
            writes.index(names.credits, cid, doc)
            written += 1
    for cid in sorted(set(old) - set(new)):
        writes.delete(names.credits, cid)
        deleted += 1
    return written, deleted
