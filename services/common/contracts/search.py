"""search.v1 (schemas/search-event.v1.json): one search served by the content service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from services.common.contracts import schema, times

SCHEMA = "search-event.v1.json"
MAX_BYTES = 128 * 1024
MAX_QUERY_CHARS = 512
MAX_SHOWN = 100
MAX_FILTER_VALUES = 20
ZERO_RESULT, POOR_RESULT = "zero", "poor"  # the kinds of content-gap search (Search.gap_kind)


@dataclass(frozen=True)
class Search:
    """A search as consumers keep it: the query trimmed and bounded, times canonical."""

    event_id: str
    rep_id: str
    occurred_at: str
    query: str  # as typed, at most MAX_QUERY_CHARS
    result_count: int
    shown_asset_ids: list[str]  # non-empty ids, at most MAX_SHOWN
    filters: dict[str, list[str]]

    @property
    def is_gap(self) -> bool:
        """A zero-result search for words (browsing by filters alone is not a gap)."""
        return self.result_count == 0 and bool(self.query.strip())

    def gap_kind(self, poor_result_max: int) -> str | None:
        """ZERO_RESULT, POOR_RESULT (1..poor_result_max results) or None, for a search for words.

        A rep who finds one or two assets for a query was barely served: the content is thin
        there, a weaker sign than finding nothing. Browsing by filters alone is never a gap.
        """
        if not self.query.strip():
            return None
        if self.result_count == 0:
            return ZERO_RESULT
        return POOR_RESULT if self.result_count <= max(0, poor_result_max) else None


def parse(raw: Mapping[str, Any], now: datetime | None = None, refuse_future: bool = True) -> Search:
    """A search event; InvalidEvent(`schema`, or `future_event_time` with `refuse_future`) naming the field.

    Search impressions (usage) refuse event times ahead of the clock; a content gap (feedback)
    is a gap whenever it was searched, so the router keeps those.
    """
    schema.validate(SCHEMA, raw)
    occurred, occurred_at = times.parse_to_canonical(raw["occurred_at"], "occurred_at")
    times.check(raw, ("received_at",))
    if refuse_future:
        times.check_not_future(occurred, "occurred_at", now)
    return Search(
        event_id=raw["event_id"], rep_id=raw["rep_id"], occurred_at=occurred_at,
        query=raw["query"][:MAX_QUERY_CHARS], result_count=raw["result_count"],
        shown_asset_ids=[a for a in raw["shown_asset_ids"] if isinstance(a, str) and a][:MAX_SHOWN],
        filters={k: [str(v) for v in values][:MAX_FILTER_VALUES] for k, values in raw["filters"].items()},
    )
