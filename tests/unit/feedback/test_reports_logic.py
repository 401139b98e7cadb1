"""Per-asset arithmetic of the reports, the scorecard, gap scoring, signals and the importer's rows."""

from datetime import datetime, timedelta, timezone

import pytest

from services.common import events
from services.common.consumer import InvalidEvent
from services.feedback import importer, reports, signals, stats


def test_win_rate_against_baseline():
    overall = reports.Counts(won=40, lost=60, open=10)
    row = reports.win_rate("a", reports.Counts(won=15, lost=5, open=2, won_amount=1500.0), overall, 10)
    assert row.baseline.won == 25 and row.baseline.lost == 55 and row.baseline.open == 8
    assert row.win_rate == pytest.approx(0.75)
    assert row.baseline_win_rate == pytest.approx(25 / 80)
    assert row.lift == pytest.approx(0.75 - 25 / 80)
    assert row.lift_ratio == pytest.approx(0.75 / (25 / 80))
    assert (row.lower, row.upper) == stats.wilson_interval(15, 20)
    assert row.p_value == pytest.approx(stats.two_proportion_z_test(15, 20, 25, 80).p_value)
    assert row.ranked and not row.significant and row.q_value == 1.0  # judged with the whole report
    reports.control_false_discoveries([row], 0.05)
    assert row.q_value == pytest.approx(row.p_value) and row.significant  # a family of one: q = p


def test_minimum_sample_and_empty_baseline():
    small = reports.win_rate("a", reports.Counts(won=5, lost=0), reports.Counts(won=50, lost=50), 10)
    assert not small.ranked and not small.significant
    everything = reports.win_rate("a", reports.Counts(won=20, lost=20), reports.Counts(won=20, lost=20), 10)
    assert everything.baseline.closed == 0 and everything.lift == 0.0 and everything.lift_ratio == 0.0
    assert not everything.ranked
    nothing = reports.win_rate("a", reports.Counts(), reports.Counts(won=3, lost=3), 10)
    assert nothing.win_rate == 0.0 and nothing.p_value == 1.0


def test_filter_clauses():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    f = reports.Filters(start=start, end=None, segment={"industry": ["Healthcare"], "region": []})
    clauses = f.clauses()
    assert clauses[0] == {"terms": {"industry": ["healthcare"]}}
    assert len(clauses) == 2
    assert reports.Filters().clauses() == []


def test_scorecard_components():
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    row = reports.win_rate("a", reports.Counts(won=9, lost=3), reports.Counts(won=30, lost=30), 10)
    card = reports.scorecard(100, row, [0, 0, 0, 0, 5], now - timedelta(days=180), now)
    assert card.usage == pytest.approx(1.0)
    assert card.win == pytest.approx(row.lower)
    assert card.rating == pytest.approx(((25 + 15) / 10 - 1) / 4)
    assert card.freshness == pytest.approx(0.5)
    assert card.score == pytest.approx(100 * (0.25 * 1 + 0.35 * row.lower + 0.25 * card.rating + 0.15 * 0.5))
    unknown = reports.scorecard(0, row, [0] * 5, None, now)
    assert unknown.usage == 0 and unknown.freshness == 0.5 and unknown.rating == pytest.approx(0.5)


def test_gap_score():
    gap = reports.Gap("x", searches=5, reps=2, requests=1, lost_deals=3)
    assert gap.score == pytest.approx(2 + 0.25 * 3 + 3 + 6)


def test_signal_events_follow_the_contract():
    row = reports.win_rate("asset-1", reports.Counts(won=9, lost=3, open=1), reports.Counts(won=30, lost=30), 10)
    batch = signals.signal_events([row], datetime(2026, 1, 1, tzinfo=timezone.utc))
    events.validate("signal-event.v1.json", batch[0])
    assert batch[0]["wins"]["deals_touched"] == 13 and batch[0]["wins"]["deals_closed"] == 12
    assert batch[0]["source"] == "feedback"


def test_importer_rows():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    row = {"opportunity_id": "o 1", "account_id": "a", "owner_rep_id": "r", "stage": "won", "amount": "1,200.50",
           "currency": "USD", "created_at": "2025-01-01T00:00:00Z", "closed_at": "2025-02-01T00:00:00Z",
           "updated_at": "2025-02-01T00:00:00Z", "lost_reason": "", "industry": ""}
    event = importer.row_to_event(row, now)
    assert event["amount"] == 1200.5 and event["event_id"] == "o_1@2025-02-01T00:00:00Z"
    assert "industry" not in event and event["occurred_at"] == "2025-02-01T00:00:00Z"
    with pytest.raises(InvalidEvent):
        importer.row_to_event(dict(row, amount="x"), now)
    with pytest.raises(InvalidEvent):
        importer.row_to_event(dict(row, stage="pending"), now)


# ---- false discovery rate ----------------------------------------------------------------------


def brute_force_q(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg by its definition, independently of stats.benjamini_hochberg:
    q_i = min over every p_j >= p_i of m * p_j / #{k : p_k <= p_j}, capped at 1."""
    m = len(p_values)
    return [min(1.0, min(m * pj / sum(1 for pk in p_values if pk <= pj) for pj in p_values if pj >= pi))
            for pi in p_values]


def step_up_rejections(p_values: list[float], alpha: float) -> set[int]:
    """The classic BH step-up decision: the largest k with p_(k) < k/m * alpha rejects p_(1..k)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    k = max((rank for rank, i in enumerate(order, start=1) if p_values[i] < rank / len(p_values) * alpha), default=0)
    return set(order[:k])


def random_report(seed: int, assets: int = 300) -> list[reports.WinRate]:
    """A report of many assets: most without an effect, a few favoured in won deals, some unranked."""
    import random

    rng = random.Random(seed)
    overall = reports.Counts(won=4000, lost=6000, open=500)
    rows = []
    for i in range(assets):
        closed = rng.choice([3, 8, 15, 40, 120, 400])
        rate = 0.4 + (0.15 if i % 25 == 0 else 0.0)
        won = sum(rng.random() < rate for _ in range(closed))
        rows.append(reports.win_rate(f"asset-{i:03d}", reports.Counts(won=won, lost=closed - won), overall, 10))
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_q_values_are_benjamini_hochberg_over_the_ranked_assets(seed):
    rows = random_report(seed)
    reports.control_false_discoveries(rows, 0.05)
    ranked = [r for r in rows if r.ranked]
    assert 0 < len(ranked) < len(rows)
    want = brute_force_q([r.p_value for r in ranked])
    assert [r.q_value for r in ranked] == pytest.approx(want, rel=1e-12)
    rejected = step_up_rejections([r.p_value for r in ranked], 0.05)
    assert {r.asset_id for i, r in enumerate(ranked) if i in rejected} == {r.asset_id for r in rows if r.significant}
    assert all(r.significant == (q < 0.05) for r, q in zip(ranked, want))
    assert any(r.significant for r in ranked) and any(r.p_value < 0.05 and not r.significant for r in ranked)
    for r in rows:
        if not r.ranked:
            assert r.q_value == 1.0 and not r.significant, r.asset_id


def test_p_below_005_is_not_significant_when_q_is_not():
    overall = reports.Counts(won=500, lost=500)
    lucky = reports.win_rate("lucky", reports.Counts(won=33, lost=17), overall, 10)
    alone = reports.win_rate("lucky", reports.Counts(won=33, lost=17), overall, 10)
    nulls = [reports.win_rate(f"null-{i}", reports.Counts(won=25, lost=25), overall, 10) for i in range(19)]
    reports.control_false_discoveries([lucky, *nulls], 0.05)
    assert lucky.ranked and 0.01 < lucky.p_value < 0.05
    assert lucky.q_value == pytest.approx(min(1.0, lucky.p_value * 20))  # the smallest of 20 p-values
    assert lucky.q_value >= 0.05 and not lucky.significant
    reports.control_false_discoveries([alone], 0.05)
    assert alone.significant  # the same counts tested alone would pass: the family decides


def test_unranked_assets_are_outside_the_family():
    overall = reports.Counts(won=500, lost=500)

    def strong(asset_id: str) -> reports.WinRate:
        return reports.win_rate(asset_id, reports.Counts(won=40, lost=10), overall, 10)

    def tiny(asset_id: str) -> reports.WinRate:  # p < 0.05, but only 9 closed deals
        return reports.win_rate(asset_id, reports.Counts(won=9, lost=0), overall, 10)

    few = [strong("a"), strong("b")]
    more = [strong("a"), strong("b"), *(tiny(f"t{i}") for i in range(30))]
    reports.control_false_discoveries(few, 0.05)
    reports.control_false_discoveries(more, 0.05)
    assert all(t.p_value < 0.05 and t.q_value == 1.0 and not t.significant for t in more[2:])
    assert [r.q_value for r in more[:2]] == [r.q_value for r in few]  # m counts ranked assets only


def test_signal_events_carry_the_q_value():
    overall = reports.Counts(won=500, lost=500)
    rows = [reports.win_rate("a", reports.Counts(won=40, lost=10), overall, 10),
            reports.win_rate("b", reports.Counts(won=25, lost=25), overall, 10)]
    reports.control_false_discoveries(rows, 0.05)
    batch = signals.signal_events(rows, datetime(2026, 1, 1, tzinfo=timezone.utc))
    for event, row in zip(batch, rows):
        events.validate("signal-event.v1.json", event)
        assert event["wins"]["q_value"] == pytest.approx(row.q_value, abs=1e-6)
        assert event["wins"]["significant"] == row.significant
    assert batch[0]["wins"]["significant"] and not batch[1]["wins"]["significant"]
