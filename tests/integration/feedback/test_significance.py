"""Significance in the win-rate reports is controlled for false discoveries, checked end to end.

Generated deals and rep usage go through Kafka and the real consumer into Elasticsearch;
`q_value` and `significant` from GetWinRates, ListAssetWinRates and GetAssetScorecards must
equal a brute-force Benjamini-Hochberg computation over the ranked assets of the same
filters, computed here from the generated data. Every usage event names its opportunity and
falls inside the deal's window, so which deals an asset touched is plain from the data.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import common_pb2, feedback_pb2, feedback_pb2_grpc
from services.common import grpc_server, kafka_io, topics
from services.feedback import stats
from services.feedback.server import build_spec
from tests.conftest import wait_serving
from tests.integration.feedback.conftest import RunningConsumer, produce

pytestmark = pytest.mark.integration

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
INDUSTRIES = ["healthcare", "retail", "finance"]
ASSETS = [f"fdr-asset-{i:02d}" for i in range(40)]
FAVOURED = ASSETS[:4]  # used more in won deals: a real effect
COMMON, RARE = ASSETS[:36], ASSETS[36:]  # rare assets touch too few deals to be ranked
FDR_LEVEL = 0.05
MIN_CLOSED = 10
START, END = datetime(2025, 2, 1, tzinfo=timezone.utc), datetime(2025, 12, 1, tzinfo=timezone.utc)
SEGMENT = {"healthcare", "retail"}


def iso(d: datetime) -> str:
    return d.isoformat().replace("+00:00", "Z")


def generate(seed: int, n_deals: int = 1500) -> tuple[list[dict], list[dict]]:
    """Deals and rep usage events; each event names its opportunity and lies inside the deal's window."""
    rng = random.Random(seed)
    deals, events = [], []
    for i in range(n_deals):
        opp = f"fdr-opp-{i:05d}"
        created = T0 + timedelta(days=rng.uniform(0, 320))
        stage = rng.choices(["won", "lost", "open"], [0.4, 0.45, 0.15])[0]
        closed = created + timedelta(days=rng.uniform(5, 60)) if stage != "open" else None
        updated = (closed or created) + timedelta(hours=1)
        deal = {"event_id": f"{opp}-v1", "schema_version": 1, "occurred_at": iso(updated), "opportunity_id": opp,
                "account_id": f"fdr-acct-{i:05d}", "owner_rep_id": f"rep-{rng.randrange(12)}", "stage": stage,
                "amount": float(rng.randrange(1, 50) * 1000), "currency": "USD", "created_at": iso(created),
                "updated_at": iso(updated), "industry": rng.choice(INDUSTRIES)}
        if closed:
            deal["closed_at"] = iso(closed)
        deals.append(deal)
        span = (closed or created + timedelta(days=30)) - created
        used = set(rng.sample(COMMON, rng.randint(1, 6)))
        if rng.random() < 0.02:
            used.add(rng.choice(RARE))
        if stage == "won" and rng.random() < 0.5:
            used.add(rng.choice(FAVOURED))
        for asset in sorted(used):
            for _ in range(rng.randint(1, 2)):
                events.append({"event_id": f"fdr-ev-{len(events):06d}", "schema_version": 1,
                               "occurred_at": iso(created + span * rng.uniform(0.01, 0.99)),
                               "type": rng.choice(["view", "download", "share"]), "asset_id": asset,
                               "rep_id": deal["owner_rep_id"], "opportunity_id": opp})
    return deals, events


def parse(v: str) -> datetime:
    return datetime.fromisoformat(v.replace("Z", "+00:00"))


def in_report(deal: dict, start: datetime | None, end: datetime | None, industries: set[str] | None) -> bool:
    if industries is not None and deal["industry"] not in industries:
        return False
    if deal["stage"] == "open":
        return end is None or parse(deal["created_at"]) < end
    return (start is None or start <= parse(deal["closed_at"])) and (end is None or parse(deal["closed_at"]) < end)


def brute_force_bh(p_values: dict[str, float]) -> dict[str, float]:
    """q_i = min over every p_j >= p_i of m * p_j / #{k : p_k <= p_j}, capped at 1 (the definition)."""
    m = len(p_values)
    ps = list(p_values.values())
    return {a: min(1.0, min(m * pj / sum(1 for pk in ps if pk <= pj) for pj in ps if pj >= pi))
            for a, pi in p_values.items()}


def brute_force_report(deals: list[dict], events: list[dict], start: datetime | None = None,
                       end: datetime | None = None, industries: set[str] | None = None) -> dict[str, dict]:
    """{asset: {p, q, ranked, lift, significant}} for one report's filters, from the raw data."""
    chosen = {d["opportunity_id"]: d for d in deals if in_report(d, start, end, industries)}
    touched: dict[str, set[str]] = {}
    for e in events:
        if e["opportunity_id"] in chosen:
            touched.setdefault(e["asset_id"], set()).add(e["opportunity_id"])
    all_won = sum(d["stage"] == "won" for d in chosen.values())
    all_closed = sum(d["stage"] != "open" for d in chosen.values())
    out = {}
    for asset, opps in touched.items():
        won = sum(chosen[o]["stage"] == "won" for o in opps)
        closed = sum(chosen[o]["stage"] != "open" for o in opps)
        base_won, base_closed = all_won - won, all_closed - closed
        out[asset] = {"p": stats.two_proportion_z_test(won, closed, base_won, base_closed).p_value,
                      "ranked": closed >= MIN_CLOSED and base_closed >= MIN_CLOSED,
                      "lift": won / closed - base_won / base_closed if closed and base_closed else 0.0}
    q = brute_force_bh({a: row["p"] for a, row in out.items() if row["ranked"]})
    for asset, row in out.items():
        row["q"] = q.get(asset, 1.0)
        row["significant"] = row["ranked"] and row["q"] < FDR_LEVEL
    return out


SEED = 7  # its report holds two chance findings (p < 0.05, q >= 0.05) and an unranked asset at p < 0.01


def ts(d: datetime) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(d)
    return t


@pytest.fixture(scope="module")
def dataset(stack, start_service, call_as):
    settings = dataclasses.replace(stack, namespace=f"{stack.namespace}fdr", consumer_batch_size=500,
                                   feedback_min_closed_deals=MIN_CLOSED, feedback_significance_level=FDR_LEVEL)
    topics.ensure_all(settings)
    deals, events = generate(SEED)
    consumer = RunningConsumer(settings)
    try:
        try:
            producer = kafka_io.Producer(settings, client_id="fdr-test")
            try:
                produce(settings, topics.DEALS, [(d["opportunity_id"], d) for d in deals], producer=producer)
                produce(settings, topics.USAGE, [(e["asset_id"], e) for e in events], producer=producer)
            finally:
                producer.close()
            consumer.wait_idle(timeout_s=300)
        finally:
            consumer.stop()
        running = start_service(build_spec(settings))
        wait_serving(running.address, "collateral.v1.FeedbackService")
        with grpc_server.channel(running.address) as channel:
            yield deals, events, feedback_pb2_grpc.FeedbackServiceStub(channel), call_as("marketer")
        running.stop(grace=0.5)
    finally:  # leave the shared cluster as we found it, also when setting up failed
        for indices in (f"{settings.namespace}-feedback-*", f"{settings.namespace}-usage-*"):
            consumer.processor.es.options(ignore_status=404).indices.delete(index=indices)


def list_all(stub, meta, request: feedback_pb2.ListAssetWinRatesRequest) -> list[feedback_pb2.AssetWinRate]:
    rows = []
    while True:
        page = stub.ListAssetWinRates(request, metadata=meta)
        rows += page.rates
        if not page.next_page_token:
            return rows
        request.page_token = page.next_page_token


def test_q_values_and_significance_match_brute_force(dataset):
    deals, events, stub, meta = dataset
    want = brute_force_report(deals, events, START, END, SEGMENT)
    # The data set holds what the correction is about: chance findings at p < 0.05 that q rejects.
    chance = {a for a, r in want.items() if r["ranked"] and r["p"] < FDR_LEVEL and not r["significant"]}
    assert chance and any(r["significant"] for r in want.values())
    time_range = common_pb2.TimeRange(start=ts(START), end=ts(END))
    segment = common_pb2.SegmentFilter(industries=sorted(SEGMENT))

    listed = list_all(stub, meta, feedback_pb2.ListAssetWinRatesRequest(time_range=time_range, segment=segment,
                                                                         page_size=7))
    assert {r.asset_id for r in listed} == set(want)
    for r in listed:
        w = want[r.asset_id]
        assert r.ranked == w["ranked"] and r.p_value == pytest.approx(w["p"]), r.asset_id
        assert r.q_value == pytest.approx(w["q"], rel=1e-9), r.asset_id
        assert r.significant == w["significant"], r.asset_id
    assert all(not r.significant for r in listed if r.asset_id in chance)

    tied = stub.ListAssetWinRates(feedback_pb2.ListAssetWinRatesRequest(
        time_range=time_range, segment=segment, significant_positive_only=True, page_size=100), metadata=meta)
    assert {r.asset_id for r in tied.rates} == {a for a, r in want.items() if r["significant"] and r["lift"] > 0}
    assert tied.overall.significance_level == pytest.approx(FDR_LEVEL)

    # A few assets, a subset, one unranked and one never touched: each keeps its q from the whole report.
    unranked = sorted((a for a, r in want.items() if not r["ranked"]), key=lambda a: want[a]["p"])
    assert unranked and want[unranked[0]]["p"] < FDR_LEVEL  # small p, too few deals: never significant
    subset = [*sorted(chance)[:2], FAVOURED[0], *unranked[:1], "fdr-no-such-asset"]
    single = stub.GetWinRates(feedback_pb2.GetWinRatesRequest(asset_ids=subset, time_range=time_range,
                                                              segment=segment), metadata=meta)
    by_asset = {r.asset_id: r for r in listed}
    assert [r.asset_id for r in single.rates] == subset
    for r in single.rates:
        if r.asset_id == "fdr-no-such-asset":
            assert r.q_value == 1.0 and not r.significant and not r.ranked
            continue
        assert r.q_value == pytest.approx(by_asset[r.asset_id].q_value, rel=1e-12), r.asset_id
        assert r.q_value == pytest.approx(want[r.asset_id]["q"], rel=1e-9), r.asset_id
        assert r.significant == want[r.asset_id]["significant"], r.asset_id


def test_the_family_follows_the_filters(dataset):
    """Over all deals the family is different, and the scorecards use that one."""
    deals, events, stub, meta = dataset
    want = brute_force_report(deals, events)
    listed = list_all(stub, meta, feedback_pb2.ListAssetWinRatesRequest(page_size=100))
    assert {r.asset_id: (pytest.approx(r.q_value, rel=1e-9), r.significant) for r in listed} == {
        a: (w["q"], w["significant"]) for a, w in want.items()}
    cards = stub.GetAssetScorecards(feedback_pb2.GetAssetScorecardsRequest(asset_ids=ASSETS[:6]), metadata=meta)
    for card in cards.scorecards:
        assert card.win_rate.q_value == pytest.approx(want[card.asset_id]["q"], rel=1e-9), card.asset_id
        assert card.win_rate.significant == want[card.asset_id]["significant"], card.asset_id
