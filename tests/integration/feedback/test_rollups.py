"""The reports served from the rollups equal the exact path through every correction.

Deals and usage go through Kafka and the real pipeline (router, join stage, rollup stage).
After each phase ListAssetWinRates' counts and GetAttribution computed from the rollups
must equal the same reports over the touches and credits (the exact path), for all time and
for ranges of whole months. The corrections turn a won deal lost, change an amount, move a
close date to another month (both ways), close an open deal, and re-send stale snapshots
and duplicate events; rollup keys are then sent again (a replay), a stale writer's older
version is refused, and a rebuild after losing the rollups gives the same reports.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta, timezone

import pytest

from services.common import es as es_util, kafka_io, topics
from services.feedback import reports, rollups, store
from tests.integration.feedback.conftest import RunningConsumer, produce
from tests.integration.feedback.test_attribution_credits import deal, event
from tests.integration.feedback.test_reports import iso

pytestmark = pytest.mark.integration

UTC = timezone.utc
T0 = datetime(2025, 6, 1, tzinfo=UTC)  # test_attribution_credits' day 0
FILTERS = [
    reports.Filters(),
    reports.Filters(start=datetime(2025, 6, 1, tzinfo=UTC), end=datetime(2025, 7, 1, tzinfo=UTC)),
    reports.Filters(start=datetime(2025, 7, 1, tzinfo=UTC), end=datetime(2025, 9, 1, tzinfo=UTC)),
    reports.Filters(end=datetime(2025, 8, 1, tzinfo=UTC)),
    reports.Filters(start=datetime(2025, 7, 1, tzinfo=UTC)),
    reports.Filters(start=datetime(2025, 5, 1, tzinfo=UTC), end=datetime(2025, 6, 1, tzinfo=UTC)),
]

DEALS = [
    deal("ru-1", "acct-a", "won", 0, 30, 10_000.0),  # closed at 2025-07-01T00:00Z exactly: July
    deal("ru-2", "acct-b", "won", 10, 50, 20_000.0),
    deal("ru-3", "acct-a", "lost", 5, 25, 7_000.0),
    deal("ru-4", "acct-b", "open", 40, None, 3_000.0),
    deal("ru-5", "acct-a", "won", -20, 3, 8_000.0),
]
EVENTS = [
    event(101, "deck", -25, account="acct-a"),
    event(102, "case-study", 2, opp="ru-1"),
    event(103, "battle-card", 12, account="acct-a"),
    event(104, "deck", 15, opp="ru-2"),
    event(105, "one-pager", 20, account="acct-b"),
    event(106, "case-study", 41, opp="ru-4"),
    event(107, "deck", 1, opp="ru-5"),
    event(108, "pricing", -21, opp="ru-5"),
]
CORRECTIONS = [
    deal("ru-1", "acct-a", "lost", 0, 30, 10_000.0, version=2),  # won -> lost
    deal("ru-2", "acct-b", "won", 10, 70, 25_000.0, version=2),  # amount, and closed in August instead of July
    deal("ru-4", "acct-b", "won", 40, 80, 3_000.0, version=2),  # open -> won in August
    {**deal("ru-5", "acct-a", "won", -20, -2, 8_000.0, version=2),  # closed in May instead of June,
     "updated_at": iso(T0 + timedelta(days=10)), "occurred_at": iso(T0 + timedelta(days=10))},  # corrected later
]
STALE = [deal("ru-1", "acct-a", "won", 0, 30, 99.0, version=0), deal("ru-2", "acct-b", "won", 10, 50, 1.0, version=1)]


def close(a: float, b: float) -> bool:
    """Sums of doubles added in another grouping agree to the last few bits."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def exact_reports(rep: reports.Reports) -> reports.Reports:
    """The same reports without the rollups: over the touches and credits."""
    exact = reports.Reports(rep.es, rep.settings, rep.names)
    exact.rollups_cover = lambda filters, timeout_s=None: False  # type: ignore[method-assign]
    return exact


def assert_rollups_equal_exact(rep: reports.Reports, exact: reports.Reports,
                               filters: list[reports.Filters] = FILTERS) -> None:
    assert rollups.ready(rep.es, rep.names)
    for f in filters:
        assert rep.rollups_cover(f), f
        got, want = rep.touched_counts(f), exact.touched_counts(f)
        assert sorted(got) == sorted(want), f
        for asset, counts in want.items():
            mine = got[asset]
            assert (mine.won, mine.lost, mine.open) == (counts.won, counts.lost, counts.open), (f, asset)
            assert close(mine.won_amount, counts.won_amount), (f, asset)
        table, truth = rep.attribution(f, 7.0), exact.attribution(f, 7.0)
        assert (table.won_deals, sorted(table.assets)) == (truth.won_deals, sorted(truth.assets)), f
        assert close(table.attributed_total, truth.attributed_total), f
        for asset, credit in truth.assets.items():
            mine = table.assets[asset]
            assert (mine.won_deals, mine.sourced_deals) == (credit.won_deals, credit.sourced_deals), (f, asset)
            assert close(mine.sourced_revenue, credit.sourced_revenue), (f, asset)
            assert close(mine.influenced_revenue, credit.influenced_revenue), (f, asset)
            assert sorted(mine.revenue) == sorted(credit.revenue)
            assert all(close(mine.revenue[m], credit.revenue[m]) for m in credit.revenue), (f, asset)


@pytest.fixture(scope="module")
def pipeline(stack):
    settings = dataclasses.replace(stack, namespace=f"{stack.namespace}ru", consumer_batch_size=3)
    topics.ensure_all(settings)
    consumer = RunningConsumer(settings)
    es = es_util.client(settings)
    names = store.Names.of(settings)
    rep = reports.Reports(es, settings, names)
    exact = exact_reports(rep)
    yield settings, consumer, rep, exact
    consumer.stop()
    es.indices.delete(index=f"{settings.namespace}-feedback-*")


def test_rollup_reports_equal_the_exact_path_through_corrections(pipeline):
    settings, consumer, rep, exact = pipeline
    produce(settings, topics.USAGE, [(e["asset_id"], e) for e in EVENTS * 2])  # every event twice
    produce(settings, topics.DEALS, [(d["opportunity_id"], d) for d in DEALS])
    consumer.wait_idle()
    assert_rollups_equal_exact(rep, exact)
    july = rep.touched_counts(FILTERS[2])
    assert july["case-study"].won == 1 and july["deck"].won == 2  # ru-1 (closed on July 1st) and ru-2

    produce(settings, topics.DEALS, [(d["opportunity_id"], d) for d in CORRECTIONS + STALE])
    consumer.wait_idle()
    assert_rollups_equal_exact(rep, exact)
    august = rep.attribution(FILTERS[2], 7.0)
    assert august.won_deals == 2 and august.attributed_total == 28_000.0  # ru-2 and ru-4 moved in, ru-1 lost
    may = rep.attribution(FILTERS[5], 7.0)
    assert may.won_deals == 1 and sorted(may.assets) == ["deck", "pricing"]  # ru-5 moved to May


def test_replayed_keys_and_stale_writers_change_nothing(pipeline):
    settings, consumer, rep, exact = pipeline
    es, names = rep.es, rep.names
    stored = {h["_id"]: h for h in es.search(index=names.rollups, size=1000, version=True)["hits"]["hits"]}
    assert stored
    # A replay: every key again (the rollup stage recomputes them, nothing is added twice).
    dirty = rollups.DirtyKeys(topics.FEEDBACK_ROLLUP.name(settings), kafka_io.Producer(settings, client_id="ru-test"))
    dirty.send(set(stored))
    consumer.wait_idle()
    assert_rollups_equal_exact(rep, exact)
    # A writer holding an older offset (a paused process after a rebalance) cannot overwrite.
    rid, hit = sorted(stored.items())[0]
    current = es.get(index=names.rollups, id=rid)
    assert current["_version"] > hit["_version"]  # the replay wrote newer versions
    asset_id, month = rollups.split_id(rid)
    written, stale = rollups.write(es, names, {rid: rollups.empty_document(asset_id, month)}, {rid: hit["_version"]})
    assert (written, stale) == (0, 1)
    assert es.get(index=names.rollups, id=rid)["_source"] == current["_source"]


def test_rebuild_restores_lost_rollups(pipeline):
    """Rollups lost (or never built for data written before them): the reports take the exact
    path until `rollups --rebuild` has recomputed every key."""
    settings, consumer, rep, exact = pipeline
    es, names = rep.es, rep.names
    nonzero = es.count(index=names.rollups, query={"bool": {"should": [
        {"range": {name: {"gt": 0}}} for name in ("won", "lost", "open", "credited_deals")]}})["count"]
    for index in es_util.concrete_indices(es, names.rollups):
        es.indices.delete(index=index)
    store.ensure(es, settings, names)
    assert not rollups.mark_ready_if_empty(es, names)  # touches exist: not complete until rebuilt
    assert not any(rep.rollups_cover(f) for f in FILTERS)
    assert rollups.rebuild(settings, es, names) == nonzero  # the keys that still have touches or credits
    assert_rollups_equal_exact(rep, exact)
