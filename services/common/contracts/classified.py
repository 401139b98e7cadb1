"""usage.classified.v1 (schemas/usage-classified.v1.json): a stored usage event with its bot verdict.

The usage service publishes it; the feedback join consumes it reduced to what the join
needs, with the verdict as given: the join never classifies on its own, so the usage and
win-rate reports agree on every open.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, TypedDict

from services.common.contracts import schema, times

SCHEMA = "usage-classified.v1.json"
MAX_BYTES = 64 * 1024
_OPTIONAL = ("opportunity_id", "account_id", "share_id", "channel")


class ClassifiedEvent(TypedDict, total=False):
    """The join's view of a classified event; occurred_at canonical, `occurred_s` its epoch seconds."""

    event_id: str
    type: str
    asset_id: str
    rep_id: str
    occurred_at: str
    opportunity_id: str
    account_id: str
    share_id: str
    channel: str
    is_bot: bool


def parse(raw: Mapping[str, Any], now: datetime | None = None) -> tuple[ClassifiedEvent, float]:
    """The join document of one classified event and its event time in epoch seconds."""
    schema.validate(SCHEMA, raw)
    occurred, occurred_at = times.parse_to_canonical(raw["occurred_at"], "occurred_at")
    times.check_not_future(occurred, "occurred_at", now)
    doc: ClassifiedEvent = {"event_id": raw["event_id"], "type": raw["type"], "asset_id": raw["asset_id"],
                            "rep_id": raw["rep_id"], "occurred_at": occurred_at}
    for name in _OPTIONAL:
        value = str(raw.get(name) or "").strip()
        if value:
            doc[name] = value  # type: ignore[literal-required]
    doc["is_bot"] = bool(raw["is_bot"])
    return doc, occurred.timestamp()
