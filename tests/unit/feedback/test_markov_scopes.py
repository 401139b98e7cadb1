"""Which precomputed Markov scope answers which report filters (and which get none)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.feedback import markov, model
from services.feedback.reports import Filters

AS_OF = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)


def stored() -> dict[str, dict]:
    return {s.key: {"scope": s.key, "start": model.iso(s.start) if s.start else None} for s in markov.scopes(AS_OF)}


def test_scopes_cover_all_time_the_portal_windows_and_thirteen_months():
    keys = [s.key for s in markov.scopes(AS_OF)]
    assert keys[:5] == ["all", "last-7d", "last-30d", "last-90d", "last-365d"]
    assert keys[5:] == [f"month-{m}" for m in ("2026-03", "2026-02", "2026-01", "2025-12", "2025-11", "2025-10",
                                               "2025-09", "2025-08", "2025-07", "2025-06", "2025-05", "2025-04",
                                               "2025-03")]
    feb = next(s for s in markov.scopes(AS_OF) if s.key == "month-2026-02")
    assert (feb.start, feb.end) == (datetime(2026, 2, 1, tzinfo=timezone.utc), datetime(2026, 3, 1, tzinfo=timezone.utc))
    assert feb.contains(datetime(2026, 2, 28, 23, tzinfo=timezone.utc)) and not feb.contains(feb.end)


def test_select_matches_trailing_windows_within_a_day():
    docs = stored()
    minutes_later = AS_OF + timedelta(minutes=20)
    assert markov.select(Filters(start=minutes_later - timedelta(days=90)), docs)["scope"] == "last-90d"
    assert markov.select(Filters(start=minutes_later - timedelta(days=365)), docs)["scope"] == "last-365d"
    assert markov.select(Filters(start=AS_OF - timedelta(days=92)), docs) is None  # no stored scope starts there


def test_select_all_and_calendar_months():
    docs = stored()
    assert markov.select(Filters(), docs)["scope"] == "all"
    month = Filters(start=datetime(2025, 7, 1, tzinfo=timezone.utc), end=datetime(2025, 8, 1, tzinfo=timezone.utc))
    assert markov.select(month, docs)["scope"] == "month-2025-07"
    two_months = Filters(start=month.start, end=datetime(2025, 9, 1, tzinfo=timezone.utc))
    assert markov.select(two_months, docs) is None
    assert markov.select(Filters(start=datetime(2020, 1, 1, tzinfo=timezone.utc),
                                 end=datetime(2020, 2, 1, tzinfo=timezone.utc)), docs) is None  # not computed


def test_a_segment_has_no_precomputed_scope():
    assert markov.candidate_keys(Filters(segment={"industry": ["retail"]})) == []
    assert markov.select(Filters(segment={"industry": ["retail"]}), stored()) is None
    assert markov.candidate_keys(Filters(segment={"industry": []})) == ["all"]
