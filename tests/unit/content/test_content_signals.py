"""Parsing and ordering of ranking signals."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from services.common import config
from services.common.consumer import InvalidEvent, Message
from services.content.signals_consumer import Signal, SignalsProcessor, is_newer, newest_per_key, signal_fields


class _NoStore:
    alias = "x"


def processor() -> SignalsProcessor:
    return SignalsProcessor(config.load(namespace="unit"), store=_NoStore())  # type: ignore[arg-type]


def message(obj) -> Message:
    return Message("t", 0, 0, b"a1", json.dumps(obj).encode(), 0)


def event(**kw):
    base = {"event_id": "e1", "schema_version": 1, "occurred_at": "2026-01-01T00:00:00Z", "asset_id": "a1",
            "source": "feedback", "computed_at": "2026-01-01T00:00:00Z",
            "wins": {"deals_touched": 10, "deals_closed": 8, "won": 5, "win_rate": 0.62, "win_rate_lower": 0.3,
                     "lift": 0.1, "significant": False}}
    base.update(kw)
    return base


def test_parse_valid_feedback_signal():
    s = processor().parse(message(event()))
    assert s.source == "feedback" and s.numbers["win_rate_lower"] == 0.3
    assert signal_fields(s)["deals_closed"] == 8


@pytest.mark.parametrize("bad", [
    dict(source="crm"),
    dict(source="usage"),  # usage object missing
    dict(wins={"deals_closed": 1, "win_rate_lower": 1.5}),
    dict(computed_at="yesterday"),
    dict(computed_at=(datetime.now(timezone.utc) + timedelta(days=2)).isoformat()),
])
def test_invalid_signals_are_dead_lettered(bad):
    with pytest.raises(InvalidEvent):
        processor().parse(message(event(**bad)))


def test_newest_wins_per_asset_and_source():
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    old = Signal("a1", "usage", t0, "2026-01-01T00:00:00.000Z", {"usage_score": 1})
    new = Signal("a1", "usage", t0 + timedelta(hours=1), "2026-01-01T01:00:00.000Z", {"usage_score": 2})
    other = Signal("a1", "feedback", t0, "2026-01-01T00:00:00.000Z", {"deals_closed": 1, "win_rate_lower": 0.1})
    latest = newest_per_key([new, old, other])
    assert latest[("a1", "usage")] is new and len(latest) == 2
    assert is_newer(new, {"usage_computed_at": "2026-01-01T00:00:00.000Z"})
    assert not is_newer(old, {"usage_computed_at": "2026-01-01T00:00:00.000Z"})
    assert is_newer(old, {"feedback_computed_at": "2030-01-01T00:00:00Z"})
