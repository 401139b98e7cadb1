"""The usage event's derived forms: the stored document, rollup keys, hashed addresses.

The contract itself (validation and normalisation, the same for gRPC RecordEvents and
JSON written straight to the topic) is services/common/contracts/usage_event.py;
`validate` here is its entry point for this service.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from services.common.contracts import jsonbytes, times, usage_event
from services.common.contracts.errors import InvalidEvent

SCHEMA = usage_event.SCHEMA
SCHEMA_VERSION = usage_event.SCHEMA_VERSION
MAX_EVENT_BYTES = usage_event.MAX_EVENT_BYTES
TYPES = usage_event.TYPES
REP_TYPES = frozenset({"view", "download", "share", "search_click", "email_attach", "present"})
CUSTOMER_TYPES = frozenset({"customer_open", "page_view", "customer_download"})
SHARE_TYPES = frozenset({"share", "email_attach"})  # the asset went to a customer
REP_OPEN_TYPES = frozenset({"view", "download", "search_click", "present"})  # a rep opened it

# Fields of the stored document the write decides (`with_verdict`).
_VERDICT_FIELDS = ("is_bot", "bot_reason", "known_asset")
# Fields copied as-is into the stored document.
_PLAIN_FIELDS = ("event_id", "type", "asset_id", "rep_id", "opportunity_id", "account_id", "share_id", "room_id",
                 "viewer_email", "channel", "page", "seconds", "user_agent", "team", "region")


EventError = InvalidEvent
"""The contract error; `field` names the offending field (for INVALID_ARGUMENT field paths)."""


def validate(event: Any, now: datetime | None = None) -> dict[str, Any]:
    """Check one event against the contract (contracts.usage_event); returns it with times normalised to UTC.

    Raises InvalidEvent with reason `unknown_type`, `schema` or `future_event_time` and the field.
    """
    return usage_event.parse(event, now)  # type: ignore[return-value]


iso = times.format_iso


def hash_ip(secret: str, ip: str) -> str:
    """Keyed hash of an IP: lets reports count distinct clients without storing addresses."""
    return hmac.new(secret.encode(), b"ip:" + ip.strip().encode(), hashlib.sha256).hexdigest()[:32]


def day_of(occurred_at: str) -> str:
    """UTC day of an event time: the rollup bucket, e.g. '2026-11-23'."""
    return occurred_at[:10]


def rollup_id(asset_id: str, day: str) -> str:
    """Deterministic id of the daily rollup of one asset: rewriting it replaces, never adds."""
    return f"{asset_id}|{day}"


def month_suffix(occurred_at: str) -> str:
    """Monthly raw-event index suffix, a pure function of the event (so a replay hits the same index)."""
    return occurred_at[:7].replace("-", ".")


def stored_document(event: Mapping[str, Any], *, received_at: str, is_bot: bool, bot_reason: str,
                    known_asset: bool, ip_secret: str) -> dict[str, Any]:
    """The raw event as indexed: no raw IP, no headers, server-side fields set."""
    return with_verdict(unclassified_document(event, received_at=received_at, ip_secret=ip_secret),
                        is_bot=is_bot, bot_reason=bot_reason, known_asset=known_asset)


def unclassified_document(event: Mapping[str, Any], *, received_at: str, ip_secret: str) -> dict[str, Any]:
    """The stored document without the fields the write decides (`with_verdict`): a function of
    the event alone, so the consumer builds and encodes it while it parses, before the write."""
    doc: dict[str, Any] = {k: event[k] for k in _PLAIN_FIELDS if k in event and event[k] not in (None, "")}
    doc["schema_version"] = SCHEMA_VERSION
    doc["occurred_at"] = event["occurred_at"]
    doc["received_at"] = event.get("received_at") or received_at
    if event.get("ip"):
        doc["ip_hash"] = hash_ip(ip_secret, str(event["ip"]))
    elif event.get("ip_hash"):
        doc["ip_hash"] = str(event["ip_hash"])
    return doc


def with_verdict(doc: dict[str, Any], *, is_bot: bool, bot_reason: str, known_asset: bool) -> dict[str, Any]:
    """`doc` (from `unclassified_document`) with the write's verdict; set again on a retried write."""
    doc["is_bot"] = is_bot
    if bot_reason:
        doc["bot_reason"] = bot_reason
    else:
        doc.pop("bot_reason", None)
    doc["known_asset"] = known_asset
    return doc


def encode_with_verdict(unclassified_json: bytes, doc: Mapping[str, Any]) -> bytes:
    """The JSON of `doc` (`with_verdict` applied) from the JSON of its unclassified form, with
    only the verdict's fields encoded on the write's path."""
    return jsonbytes.with_fields(unclassified_json, {k: doc[k] for k in _VERDICT_FIELDS if k in doc})


def window_start(days: int, now: datetime | None = None) -> datetime:
    """Start of a trailing window of whole UTC days ending today (today included)."""
    now = now or datetime.now(timezone.utc)
    today = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days - 1)
