"""The join gives the same touches and reports whatever order usage and outcomes arrive in.

The same events (usage on opportunities and on accounts only, outcomes, duplicates,
replays, stale versions and corrections: won -> lost -> won with a new amount, and an
account change) are produced in several shuffled orders, each into its own namespace
(topics, consumer group, indices), through real Kafka and Elasticsearch, one message
at a time with tiny consumer batches so the interleavings really differ. The stored
touches and the reports must be identical across orders, and equal to the hand-derived
expectation. One more order runs with a join-state budget of 0, so that every batch drops
the opportunities it is not working on and reloads them from the stores on their next input:
eviction changes how much is read, never the result (nor do the chunks reloads are read in).
"""

from __future__ import annotations

import dataclasses
import random

import pytest
from prometheus_client import REGISTRY

from collateral.v1 import feedback_pb2, feedback_pb2_grpc
from services.common import es as es_util, grpc_server, topics
from services.feedback import join, join_stage, store
from services.feedback.server import build_spec
from tests.conftest import wait_serving
from tests.integration.feedback.conftest import RunningConsumer, produce

pytestmark = pytest.mark.integration


def deal(opp, account, stage, updated, created="2026-01-01T00:00:00Z", closed=None, amount=100.0, **extra):
    d = {"event_id": f"{opp}@{updated}", "schema_version": 1, "occurred_at": updated, "opportunity_id": opp,
         "account_id": account, "owner_rep_id": "rep-1", "stage": stage, "amount": amount, "currency": "USD",
         "created_at": created, "updated_at": updated, "industry": "healthcare", "region": "emea"}
    if closed:
        d["closed_at"] = closed
    d.update(extra)
    return d


def usage(event_id, asset, when, opp=None, account=None, type_="share", **extra):
    e = {"event_id": event_id, "schema_version": 1, "occurred_at": when, "type": type_, "asset_id": asset,
         "rep_id": "rep-1"}
    if opp:
        e["opportunity_id"] = opp
    if account:
        e["account_id"] = account
    e.update(extra)
    return e


DEALS = [
    # O1 (account A): won -> lost (correction) -> won again with a new amount; the v2 snapshot is replayed.
    deal("O1", "A", "won", "2026-01-21T00:00:00Z", closed="2026-01-21T00:00:00Z", amount=100),
    deal("O1", "A", "lost", "2026-01-22T00:00:00Z", closed="2026-01-21T00:00:00Z", amount=100, lost_reason="No ROI case study"),
    deal("O1", "A", "lost", "2026-01-22T00:00:00Z", closed="2026-01-21T00:00:00Z", amount=100, lost_reason="No ROI case study"),
    deal("O1", "A", "won", "2026-01-23T00:00:00Z", closed="2026-01-21T00:00:00Z", amount=150),
    # O2 (account A), created after O1 closed, still open.
    deal("O2", "A", "open", "2026-01-31T00:00:00Z", created="2026-01-31T00:00:00Z"),
    # O3: lost, then the CRM moves it from account B to account C.
    deal("O3", "B", "lost", "2026-01-11T00:00:00Z", closed="2026-01-11T00:00:00Z", amount=80),
    deal("O3", "C", "lost", "2026-01-12T00:00:00Z", closed="2026-01-11T00:00:00Z", amount=80),
    # O4: won, touched only through an account-only event.
    deal("O4", "D", "won", "2026-02-10T00:00:00Z", created="2026-02-01T00:00:00Z", closed="2026-02-10T00:00:00Z", amount=40),
]
USAGE = [
    usage("e1", "X", "2026-01-05T00:00:00Z", opp="O1"),
    usage("e1", "X", "2026-01-05T00:00:00Z", opp="O1"),  # duplicate
    usage("e2", "Y", "2026-01-10T00:00:00Z", account="A"),  # account only: O1, and sources O2 (lookback)
    usage("e3", "Y", "2026-02-04T00:00:00Z", account="A"),  # account only: O2 (O1 closed + 7d grace is over)
    usage("e4", "X", "2026-01-05T00:00:00Z", opp="O3", type_="view"),
    usage("e5", "Z", "2026-01-05T00:00:00Z", account="C"),  # joins O3 only after its account change
    usage("e6", "Z", "2026-01-06T00:00:00Z", account="B"),  # joins O3 only before its account change
    usage("e7", "X", "2026-02-20T00:00:00Z", opp="O1"),  # outside O1's window
    usage("e8", "W", "2026-01-05T00:00:00Z", opp="O9"),  # opportunity never reported
    usage("e9", "V", "2026-01-06T00:00:00Z", opp="O1", type_="customer_open", user_agent="curl/8.0"),  # bot
    usage("e10", "X", "2026-01-25T00:00:00Z", opp="O1", type_="download"),  # inside the grace period
    usage("e11", "Y", "2026-02-05T00:00:00Z", account="D"),  # account only: O4
    usage("e12", "X", "2026-02-09T00:00:00Z", account="D"),
    usage("e13", "X", "2026-02-08T00:00:00Z", opp="O4", type_="view"),
]
EXPECTED = {
    "X|O1": ("won", 150.0, 2, ["2026-01-05T00:00:00.000Z", "2026-01-25T00:00:00.000Z"]),
    "Y|O1": ("won", 150.0, 1, ["2026-01-10T00:00:00.000Z"]),
    # e2 (01-10) falls in O2's sourcing lookback (created 01-31), e3 (02-04) inside its window.
    "Y|O2": ("open", 100.0, 2, ["2026-01-10T00:00:00.000Z", "2026-02-04T00:00:00.000Z"]),
    "X|O3": ("lost", 80.0, 1, ["2026-01-05T00:00:00.000Z"]),
    "Z|O3": ("lost", 80.0, 1, ["2026-01-05T00:00:00.000Z"]),
    "Y|O4": ("won", 40.0, 1, ["2026-02-05T00:00:00.000Z"]),
    "X|O4": ("won", 40.0, 2, ["2026-02-08T00:00:00.000Z", "2026-02-09T00:00:00.000Z"]),
}


def run_order(base_settings, start_service, call_as, seed: int, cache_mb: int = 1024):
    settings = dataclasses.replace(base_settings, namespace=f"{base_settings.namespace}o{seed}",
                                   kafka_topic_partitions=1, consumer_batch_size=3, feedback_join_cache_mb=cache_mb)
    topics.ensure_all(settings)
    items = [(topics.DEALS, d["opportunity_id"], d) for d in DEALS] + [(topics.USAGE, u["asset_id"], u) for u in USAGE]
    rng = random.Random(seed)
    rng.shuffle(items)
    consumer = RunningConsumer(settings)
    try:
        from services.common import kafka_io

        producer = kafka_io.Producer(settings, client_id="order-test")
        try:
            for topic, key, value in items:
                produce(settings, topic, [(key, value)], producer=producer)
        finally:
            producer.close()
        consumer.wait_idle()
        held = REGISTRY.get_sample_value("collateral_feedback_join_cached_opportunities")
        assert held is not None and (held <= 1 if cache_mb == 0 else held >= 4), held
    finally:
        consumer.stop()
    es = es_util.client(settings)
    names = store.Names.of(settings)
    es.indices.refresh(index=names.touches)
    hits = es.search(index=names.touches, size=100, query={"match_all": {}})
    touches = {h["_id"]: h["_source"] for h in hits["hits"]["hits"]}
    # Recomputing everything from source (the rejoin command) changes nothing.
    join.Joiner(es, settings, names).recompute_all()
    es.indices.refresh(index=names.touches)
    again = es.search(index=names.touches, size=100, query={"match_all": {}})
    assert {h["_id"]: h["_source"] for h in again["hits"]["hits"]} == touches
    running = start_service(build_spec(settings))
    wait_serving(running.address, "collateral.v1.FeedbackService")
    with grpc_server.channel(running.address) as channel:
        stub = feedback_pb2_grpc.FeedbackServiceStub(channel)
        meta = call_as("marketer")
        rates = stub.ListAssetWinRates(feedback_pb2.ListAssetWinRatesRequest(page_size=100), metadata=meta)
        attribution = stub.GetAttribution(feedback_pb2.GetAttributionRequest(page_size=100), metadata=meta)
        gaps = stub.GetContentGaps(feedback_pb2.GetContentGapsRequest(), metadata=meta)
    running.stop(grace=0.5)
    es.indices.delete(index=f"{settings.namespace}-feedback-*")
    return touches, rates, attribution, gaps


def test_same_result_in_every_order(stack, start_service, call_as, monkeypatch):
    results = [run_order(stack, start_service, call_as, seed) for seed in (1, 2, 3)]
    # Reloads in chunks of one opportunity: the chunk boundaries change nothing either.
    monkeypatch.setattr(join_stage, "LOAD_CHUNK", 1)
    monkeypatch.setattr(join_stage, "EVENT_SCAN_OPPORTUNITIES", 1)
    results.append(run_order(stack, start_service, call_as, 4, cache_mb=0))
    touches, rates, attribution, gaps = results[0]
    got = {tid: (t["stage"], t["amount"], t["touch_count"], t["times"]) for tid, t in touches.items()}
    assert got == EXPECTED
    assert touches["Z|O3"]["account_id"] == "C"
    assert touches["X|O4"]["counts"] == {"share": 1, "view": 1}
    for other in results[1:]:
        assert other[0] == touches
        assert other[1] == rates
        assert other[2] == attribution
        assert other[3] == gaps
    # Reports over the final state: deals O1 won 150, O2 open, O3 lost 80, O4 won 40.
    by_asset = {r.asset_id: r for r in rates.rates}
    assert (by_asset["X"].won, by_asset["X"].lost, by_asset["X"].open) == (2, 1, 0)
    assert (by_asset["Y"].won, by_asset["Y"].lost, by_asset["Y"].open) == (2, 0, 1)
    assert by_asset["X"].influenced_revenue == pytest.approx(190.0)
    assert rates.overall.deals == 4 and rates.overall.won == 2
    assert attribution.won_deals == 2
    assert attribution.attributed_total == pytest.approx(190.0)
    credit = {a.asset_id: a for a in attribution.assets}
    # O1: X(01-05) Y(01-10) X(01-25); O4: Y(02-05) X(02-08) X(02-09)
    assert credit["X"].first_touch == pytest.approx(150.0)
    assert credit["Y"].first_touch == pytest.approx(40.0)
    assert credit["X"].last_touch == pytest.approx(190.0)
    assert credit["X"].linear == pytest.approx(150 * 2 / 3 + 40 * 2 / 3)
    assert credit["X"].u_shaped == pytest.approx(150 * 0.8 + 40 * 0.6)
    assert sum(a.w_shaped for a in attribution.assets) == pytest.approx(190.0)
    # The corrected O1 is won: its old lost reason is no longer a gap.
    assert [g.topic for g in gaps.gaps] == []
