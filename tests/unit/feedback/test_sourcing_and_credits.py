"""Sourcing touches (the lookback before creation) and the materialised credits, against brute force.

The brute-force side re-implements the documented rules directly (window, sourcing, every
position model's role rule, time decay) without calling the code under test.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from services.feedback import attribution, credits, model

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
GRACE = timedelta(days=7)
LOOKBACK = timedelta(days=90)


def iso(when: datetime) -> str:
    return model.iso(when)


def deal(opp="O1", account="A", stage="won", created=T0, closed=T0 + timedelta(days=30), amount=1000.0):
    return {"opportunity_id": opp, "account_id": account, "owner_rep_id": "r1", "stage": stage, "amount": amount,
            "currency": "USD", "created_at": iso(created), "closed_at": iso(closed) if stage != "open" else None,
            "version": 1, "industry": "retail", "region": "emea", "product_line": None, "deal_size_band": None,
            "team": None}


def ev(event_id, asset, when, opp=None, account=None, type_="view"):
    e = {"event_id": event_id, "asset_id": asset, "occurred_at": iso(when), "type": type_, "rep_id": "r"}
    if opp:
        e["opportunity_id"] = opp
    if account:
        e["account_id"] = account
    return e


# ---- the window and the sourcing flag -------------------------------------------------------

def test_window_starts_a_lookback_before_creation():
    win = model.window(deal(), GRACE, LOOKBACK)
    assert win.start == T0 - LOOKBACK and win.created == T0 and win.end == T0 + timedelta(days=37)
    assert model.window(deal(stage="open"), GRACE, LOOKBACK).end is None


def test_window_edges():
    d = deal()
    events = [
        ev("1", "A", T0 - LOOKBACK - timedelta(seconds=1), account="A"),  # before the lookback: out
        ev("2", "B", T0 - LOOKBACK, account="A"),  # lookback start exactly: sourcing
        ev("3", "C", T0 - timedelta(seconds=1), opp="O1"),  # names the opportunity before creation: sourcing
        ev("4", "D", T0, account="A"),  # exactly at creation: influencing, not sourcing
        ev("5", "D", T0 - timedelta(days=1), account="A"),  # the same asset also before creation
        ev("6", "E", T0 + timedelta(days=37), account="A"),  # close + grace exactly: influencing
        ev("7", "F", T0 + timedelta(days=37, seconds=1), account="A"),  # after the grace: out
    ]
    touches = model.compute_touches(d, events, GRACE, LOOKBACK)
    assert set(touches) == {"B|O1", "C|O1", "D|O1", "E|O1"}
    flags = {t["asset_id"]: (t["sourcing"], t["sourcing_count"], t["influencing"], t["touch_count"])
             for t in touches.values()}
    assert flags == {"B": (True, 1, False, 1), "C": (True, 1, False, 1), "D": (True, 1, True, 2),
                     "E": (False, 0, True, 1)}
    assert touches["B|O1"]["influenced_amount"] == 0.0 and touches["D|O1"]["influenced_amount"] == 1000.0


def brute_force_touches(d, events):
    """{asset: (touchpoint times, sourcing count)} by the documented rules."""
    created = model.parse_iso(d["created_at"])
    start = created - LOOKBACK
    end = model.parse_iso(d["closed_at"]) + GRACE if d["closed_at"] else None
    out: dict[str, list] = {}
    for e in {e["event_id"]: e for e in events}.values():
        named = e["opportunity_id"] == d["opportunity_id"] if e.get("opportunity_id") else e.get("account_id") == d["account_id"]
        at = model.parse_iso(e["occurred_at"])
        if named and at >= start and (end is None or at <= end):
            out.setdefault(e["asset_id"], []).append(at)
    return {a: (sorted(ts), sum(1 for t in ts if t < created)) for a, ts in out.items()}


@pytest.mark.parametrize("seed", range(8))
def test_sourcing_touches_match_brute_force(seed):
    rng = random.Random(seed)
    for i in range(40):
        created = T0 + timedelta(days=rng.uniform(0, 100))
        stage = rng.choice(["won", "lost", "open"])
        d = deal(opp=f"O{i}", account=f"A{rng.randrange(3)}", stage=stage, created=created,
                 closed=created + timedelta(days=rng.uniform(0, 60)))
        events = []
        for j in range(rng.randrange(0, 25)):
            at = created + timedelta(days=rng.uniform(-130, 80))
            kind = rng.random()
            events.append(ev(f"e{i}-{j}", f"asset-{rng.randrange(6)}", at,
                             opp=f"O{rng.choice([i, i + 1])}" if kind < 0.4 else None,
                             account=f"A{rng.randrange(3)}" if kind >= 0.3 else None))
        events += rng.sample(events, len(events) // 3)  # duplicates
        rng.shuffle(events)
        got = model.compute_touches(d, events, GRACE, LOOKBACK)
        want = brute_force_touches(d, events)
        assert {t["asset_id"] for t in got.values()} == set(want)
        for t in got.values():
            times, sourcing = want[t["asset_id"]]
            assert t["times"] == [iso(x) for x in times]
            assert (t["sourcing_count"], t["sourcing"], t["influencing"]) == (sourcing, sourcing > 0, sourcing < len(times))


# ---- W-shaped: three distinct moments -------------------------------------------------------------

def w_credit(times_by_asset, created, closed=T0 + timedelta(days=30)):
    points = [attribution.Touchpoint(a, t) for a, ts in times_by_asset.items() for t in ts]
    return attribution.credit(points, 1.0, created, closed)["w_shaped"]


def test_w_shaped_first_creation_and_last_are_three_moments_with_a_lookback():
    # A sourced the deal 30 days before creation, B came a day before creation (nearest it),
    # C in the middle, D last: 30 / 30 / 10 / 30.
    got = w_credit({"A": [T0 - timedelta(days=30)], "B": [T0 - timedelta(days=1)], "C": [T0 + timedelta(days=5)],
                    "D": [T0 + timedelta(days=20)]}, T0)
    assert got == pytest.approx({"A": 0.3, "B": 0.3, "C": 0.1, "D": 0.3})


@pytest.mark.parametrize("times,expected", [
    ({"A": [T0 + timedelta(days=3)]}, {"A": 1.0}),  # one touch holds all three roles
    # two touches, the first nearest creation: it holds first + creation (0.6 vs 0.3, normalised)
    ({"A": [T0 - timedelta(days=2)], "B": [T0 + timedelta(days=20)]}, {"A": 2 / 3, "B": 1 / 3}),
    # a touch exactly at creation, one before, one after: each holds one role
    ({"A": [T0 - timedelta(days=9)], "B": [T0], "C": [T0 + timedelta(days=9)]}, {"A": 1 / 3, "B": 1 / 3, "C": 1 / 3}),
    # no touch before creation: the first touch is also the one nearest creation (60 / 10 / 30)
    ({"A": [T0 + timedelta(days=1)], "B": [T0 + timedelta(days=5)], "C": [T0 + timedelta(days=9)]},
     {"A": 0.6, "B": 0.1, "C": 0.3}),
])
def test_w_shaped_edge_cases(times, expected):
    assert w_credit(times, T0) == pytest.approx(expected)


# ---- credits against brute force -------------------------------------------------------------------

def brute_force_weights(n: int, created_pos: int, ages_days: list[float]) -> dict[str, list[float]]:
    """Every rule-based model's weights, straight from docs/feedback.md's definitions."""
    def roles(shares: dict[int, float], rest: float) -> list[float]:
        w = [shares.get(i, 0.0) for i in range(n)]
        others = [i for i in range(n) if i not in shares]
        for i in others:
            w[i] += rest / len(others)
        return [x / sum(w) for x in w]

    u: dict[int, float] = {}
    for pos in (0, n - 1):
        u[pos] = u.get(pos, 0.0) + 0.4
    w: dict[int, float] = {}
    for pos in (0, created_pos, n - 1):
        w[pos] = w.get(pos, 0.0) + 0.3
    decay = [2 ** (-max(0.0, a) / attribution.DEFAULT_HALF_LIFE_DAYS) for a in ages_days]
    return {"first_touch": [1.0] + [0.0] * (n - 1), "last_touch": [0.0] * (n - 1) + [1.0], "linear": [1 / n] * n,
            "time_decay": [x / sum(decay) for x in decay], "u_shaped": roles(u, 0.2), "w_shaped": roles(w, 0.1)}


@pytest.mark.parametrize("seed", range(6))
def test_credit_documents_match_brute_force(seed):
    rng = random.Random(100 + seed)
    for i in range(30):
        created = T0 + timedelta(days=rng.uniform(0, 50))
        closed = created + timedelta(days=rng.uniform(1, 40))
        d = deal(opp=f"O{i}", created=created, closed=closed, amount=float(rng.randrange(1, 90) * 1000))
        events = [ev(f"e{i}-{j}", f"asset-{rng.randrange(5)}", created + timedelta(hours=rng.randrange(-2000, 1000)),
                     account="A") for j in range(rng.randrange(1, 12))]
        touches = model.compute_touches(d, events, GRACE, LOOKBACK)
        docs = credits.credit_documents(d, touches)
        if not touches:
            assert docs == {}
            continue
        points = sorted((model.parse_iso(t), a["asset_id"]) for a in touches.values() for t in a["times"])
        gaps = [abs((at - created).total_seconds()) for at, _ in points]
        created_pos = gaps.index(min(gaps))
        ages = [(closed - at).total_seconds() / 86400 for at, _ in points]
        weights = brute_force_weights(len(points), created_pos, ages)
        assert set(docs) == set(touches)
        for m in attribution.MODELS:
            want: dict[str, float] = {}
            for (_, asset), wt in zip(points, weights[m]):
                want[asset] = want.get(asset, 0.0) + wt * d["amount"]
            assert {doc["asset_id"]: doc[m] for doc in docs.values()} == pytest.approx(want), m
            assert sum(doc[m] for doc in docs.values()) == pytest.approx(d["amount"])
        sourced_assets = {a for at, a in points if at < created}
        influencing_assets = {a for at, a in points if at >= created}
        for doc in docs.values():
            assert doc["sourced"] == (doc["asset_id"] in sourced_assets)
            assert doc["influenced"] == (doc["asset_id"] in influencing_assets)
            assert doc["sourced_revenue"] == (d["amount"] if doc["sourced"] else 0.0)
            assert doc["influenced_revenue"] == (d["amount"] if doc["influenced"] else 0.0)
            assert doc["deal_sourced"] == bool(sourced_assets)
        assert sum(doc["deal_primary"] for doc in docs.values()) == 1


def test_no_credits_for_open_lost_or_untouched_deals():
    touches = model.compute_touches(deal(), [ev("1", "X", T0 + timedelta(days=1), account="A")], GRACE, LOOKBACK)
    assert credits.credit_documents(deal(), touches)
    assert credits.credit_documents(deal(stage="lost"), touches) == {}
    assert credits.credit_documents(deal(stage="open"), touches) == {}
    assert credits.credit_documents(None, touches) == {}
    assert credits.credit_documents(deal(), {}) == {}
