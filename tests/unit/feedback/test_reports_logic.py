"""Per-asset arithmetic of the reports, the scorecard, gap scoring, signals and the importer's rows."""

from datetime import datetime, timedelta, timezone

import pytest

from services.common import events
from services.common.consumer import InvalidEvent
from services.feedback import importer, reports, signals, stats


def test_win_rate_against_baseline():
    overall = reports.Counts(won=40, lost=60, open=10)
    row = reports.win_rate("a", reports.Counts(won=15, lost=5, open=2, won_amount=1500.0), overall, 10, 0.05)
    assert row.baseline.won == 25 and row.baseline.lost == 55 and row.baseline.open == 8
    assert row.win_rate == pytest.approx(0.75)
    assert row.baseline_win_rate == pytest.approx(25 / 80)
    assert row.lift == pytest.approx(0.75 - 25 / 80)
    assert row.lift_ratio == pytest.approx(0.75 / (25 / 80))
    assert (row.lower, row.upper) == stats.wilson_interval(15, 20)
    assert row.p_value == pytest.approx(stats.two_proportion_z_test(15, 20, 25, 80).p_value)
    assert row.ranked and row.significant


def test_minimum_sample_and_empty_baseline():
    small = reports.win_rate("a", reports.Counts(won=5, lost=0), reports.Counts(won=50, lost=50), 10, 0.05)
    assert not small.ranked and not small.significant
    everything = reports.win_rate("a", reports.Counts(won=20, lost=20), reports.Counts(won=20, lost=20), 10, 0.05)
    assert everything.baseline.closed == 0 and everything.lift == 0.0 and everything.lift_ratio == 0.0
    assert not everything.ranked
    nothing = reports.win_rate("a", reports.Counts(), reports.Counts(won=3, lost=3), 10, 0.05)
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
    row = reports.win_rate("a", reports.Counts(won=9, lost=3), reports.Counts(won=30, lost=30), 10, 0.05)
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
    row = reports.win_rate("asset-1", reports.Counts(won=9, lost=3, open=1), reports.Counts(won=30, lost=30), 10, 0.05)
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
