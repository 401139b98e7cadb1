"""usage.v1 (schemas/usage-event.v1.json): one usage of one asset, from any producer.

One parser for every source (gRPC RecordEvents, JSON written straight to the topic by a
tracker or kcat), so both paths accept and reject exactly the same events. Errors name
the offending field (`headers.from`), so RecordEvents can answer `events[3].headers.from`
and the consumer dead-letters with a precise reason: `unknown_type`, `schema` or
`future_event_time`.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, TypedDict

from services.common.contracts import schema, times
from services.common.contracts.errors import InvalidEvent, schema_error

SCHEMA = "usage-event.v1.json"
SCHEMA_VERSION = 1
MAX_EVENT_BYTES = 64 * 1024
TYPES = ("view", "download", "share", "customer_open", "page_view",
         "search_click", "email_attach", "present", "customer_download")
_TYPES = frozenset(TYPES)


class UsageEvent(TypedDict, total=False):
    """A valid usage event; times in the canonical UTC form; `is_bot` never kept (the consumer decides)."""

    event_id: str
    schema_version: int
    occurred_at: str
    received_at: str
    type: str
    asset_id: str
    rep_id: str
    opportunity_id: str
    account_id: str
    share_id: str
    room_id: str
    viewer_email: str
    channel: str
    page: int
    seconds: float
    user_agent: str
    ip: str
    ip_hash: str
    headers: dict[str, str]
    team: str
    region: str


def parse(raw: Any, now: datetime | None = None) -> UsageEvent:
    """Check one event against the contract; returns a copy with its times in the canonical form."""
    if type(raw) is not dict:
        raise InvalidEvent.at("bad_json", "(root)", "expected a JSON object")
    kind = raw.get("type")
    if type(kind) is str and kind not in _TYPES:
        raise InvalidEvent.at("unknown_type", "type", f"unknown event type {kind[:40]!r}; expected one of {', '.join(TYPES)}")
    schema.validate(SCHEMA, raw)
    seconds = raw.get("seconds")
    if type(seconds) is float and not math.isfinite(seconds):
        # NaN passes minimum/maximum (every comparison with NaN is false). JSON from Kafka cannot
        # carry it (the JSON step refuses), but a protobuf double from RecordEvents can.
        raise schema_error("seconds", f"must be a finite number, got {seconds!r}")
    event: UsageEvent = dict(raw)  # type: ignore[assignment]
    occurred, event["occurred_at"] = times.parse_to_canonical(raw["occurred_at"], "occurred_at")
    times.check_not_future(occurred, "occurred_at", now)
    if "received_at" in raw:
        event["received_at"] = times.parse_to_canonical(raw["received_at"], "received_at")[1]
    event.pop("is_bot", None)  # type: ignore[misc]
    return event
