"""signals.v1 (schemas/signal-event.v1.json): per-asset ranking numbers from usage or feedback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from services.common.contracts import schema, times

SCHEMA = "signal-event.v1.json"
MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class Signal:
    """One source's numbers for one asset; `computed_at` (its version) aware UTC and canonical."""

    asset_id: str
    source: str  # usage | feedback
    computed_at: datetime
    computed_at_raw: str
    numbers: dict[str, Any]


def parse(raw: Mapping[str, Any], now: datetime | None = None) -> Signal:
    """A signal event; InvalidEvent(`schema` or `future_event_time`) naming the field otherwise."""
    schema.validate(SCHEMA, raw)
    computed_at = times.parse(raw["computed_at"], "computed_at")
    times.check(raw, ("occurred_at", "received_at"))
    times.check_not_future(computed_at, "computed_at", now)
    source = raw["source"]
    numbers = raw["usage"] if source == "usage" else raw["wins"]
    return Signal(raw["asset_id"], source, computed_at, times.format_iso(computed_at), dict(numbers))
