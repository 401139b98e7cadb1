"""GetAttribution served from the materialised credits follows every correction of the inputs.

Deals and usage go through Kafka and the real join pipeline into Elasticsearch; after each
phase the attribution (every rule-based model, sourced and influenced revenue) and the
scorecards' sourced / influenced revenue must equal a brute-force computation from the
inputs. The second phase turns a won deal lost (its credits must disappear) and moves a
won deal to another account (its credits must follow the new account's usage).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from collateral.v1 import feedback_pb2, feedback_pb2_grpc
from services.common import es as es_util, grpc_server, topics
from services.feedback import attribution, store
from services.feedback.server import build_spec
from tests.conftest import wait_serving
from tests.integration.feedback.conftest import RunningConsumer, produce
from tests.integration.feedback.test_reports import (all_pages, assert_rule_based, brute_force_attribution,
                                                     brute_force_touches, iso)

pytestmark = pytest.mark.integration

T0 = datetime(2025, 6, 1, tzinfo=timezone.utc)


def deal(opp, account, stage, created_days, closed_days, amount, version=1):
    updated = T0 + timedelta(days=closed_days if closed_days is not None else created_days, hours=version)
    d = {"event_id": f"{opp}@{version}", "schema_version": 1, "occurred_at": iso(updated), "opportunity_id": opp,
         "account_id": account, "owner_rep_id": "rep-1", "stage": stage, "amount": amount, "currency": "USD",
         "created_at": iso(T0 + timedelta(days=created_days)), "updated_at": iso(updated), "industry": "retail"}
    if closed_days is not None:
        d["closed_at"] = iso(T0 + timedelta(days=closed_days))
    return d


def event(n, asset, days, opp=None, account=None, type_="view"):
    e = {"event_id": f"cr-ev-{n}", "schema_version": 1, "occurred_at": iso(T0 + timedelta(days=days)), "type": type_,
         "asset_id": asset, "rep_id": "rep-1"}
    if opp:
        e["opportunity_id"] = opp
    if account:
        e["account_id"] = account
    return e


DEALS = [
    deal("cr-1", "acct-a", "won", 0, 30, 10_000.0),
    deal("cr-2", "acct-b", "won", 10, 50, 20_000.0),
    deal("cr-3", "acct-a", "won", 40, 70, 5_000.0),
    deal("cr-4", "acct-a", "lost", 5, 25, 7_000.0),
]
EVENTS = [
    event(1, "deck", -20, account="acct-a"),  # sources cr-1 and cr-4 (and cr-3, 60 days before it)
    event(2, "case-study", 2, opp="cr-1"),
    event(3, "battle-card", 12, account="acct-a"),
    event(4, "deck", 28, opp="cr-1", type_="share"),
    event(5, "one-pager", -5, account="acct-b"),  # sources cr-2
    event(6, "case-study", 20, account="acct-b"),
    event(7, "pricing", 45, opp="cr-3"),
    event(8, "roi-calculator", 35, account="acct-a"),  # sources cr-3, after cr-1 closed + grace
    event(9, "one-pager", 48, account="acct-b", type_="download"),
]


@pytest.fixture(scope="module")
def pipeline(stack, start_service, call_as):
    settings = dataclasses.replace(stack, namespace=f"{stack.namespace}cr", consumer_batch_size=3)
    topics.ensure_all(settings)
    consumer = RunningConsumer(settings)
    running = start_service(build_spec(settings))
    wait_serving(running.address, "collateral.v1.FeedbackService")
    channel = grpc_server.channel(running.address)
    yield settings, consumer, feedback_pb2_grpc.FeedbackServiceStub(channel), call_as("marketer")
    channel.close()
    running.stop(grace=0.5)
    consumer.stop()
    es_util.client(settings).indices.delete(index=f"{settings.namespace}-feedback-*")


def check(stub, meta, deals):
    touches = brute_force_touches(deals, EVENTS)
    acc, _, sourced, influenced = brute_force_attribution(deals, touches, attribution.DEFAULT_HALF_LIFE_DAYS)
    got, rows = all_pages(stub, feedback_pb2.GetAttributionRequest(page_size=3), meta)
    assert_rule_based(got, rows, acc, sourced, influenced)
    assets = sorted({e["asset_id"] for e in EVENTS})
    cards = stub.GetAssetScorecards(feedback_pb2.GetAssetScorecardsRequest(asset_ids=assets), metadata=meta).scorecards
    for card in cards:
        assert card.sourced_revenue == pytest.approx(sum(sourced.get(card.asset_id, []))), card.asset_id
        assert card.influenced_revenue == pytest.approx(sum(influenced.get(card.asset_id, []))), card.asset_id
    return rows


def credited_opportunities(settings) -> set[str]:
    es = es_util.client(settings)
    names = store.Names.of(settings)
    es.indices.refresh(index=names.credits)
    hits = es.search(index=names.credits, size=100, query={"match_all": {}})["hits"]["hits"]
    return {h["_source"]["opportunity_id"] for h in hits}


def test_credits_follow_corrections(pipeline):
    settings, consumer, stub, meta = pipeline
    produce(settings, topics.USAGE, [(e["asset_id"], e) for e in EVENTS])
    produce(settings, topics.DEALS, [(d["opportunity_id"], d) for d in DEALS])
    consumer.wait_idle()
    rows = check(stub, meta, DEALS)
    by_asset = {r.asset_id: r for r in rows}
    # deck sourced cr-1 (20 days before it) and cr-3 (60 days before it); it influenced cr-1 only.
    assert (by_asset["deck"].sourced_revenue, by_asset["deck"].influenced_revenue) == (15_000.0, 10_000.0)
    assert credited_opportunities(settings) == {"cr-1", "cr-2", "cr-3"}

    # cr-1 turns lost; cr-2 moves to account a (older snapshots arriving later change nothing).
    corrected = [deal("cr-1", "acct-a", "lost", 0, 30, 10_000.0, version=2),
                 deal("cr-2", "acct-a", "won", 10, 50, 20_000.0, version=2)]
    stale = [deal("cr-1", "acct-a", "won", 0, 30, 99.0, version=0)]
    produce(settings, topics.DEALS, [(d["opportunity_id"], d) for d in corrected + stale])
    consumer.wait_idle()
    final = [corrected[0], corrected[1], DEALS[2], DEALS[3]]
    rows = check(stub, meta, final)
    assert credited_opportunities(settings) == {"cr-2", "cr-3"}
    assert "one-pager" not in {r.asset_id for r in rows}  # account b's usage no longer touches cr-2
