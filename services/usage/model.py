"""The usage event contract: validation, normalisation and the derived keys.

One function validates an event whatever its source (gRPC RecordEvents, or JSON
written straight to the topic by a tracker or kcat), so both paths accept and reject
exactly the same events. Errors name the offending field, so RecordEvents can report
`events[3].asset_id` and the consumer can dead-letter with a precise reason.
"""

from __future__ import annotations

import hashlib
import math
import re
import hmac
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

import jsonschema

from services.common import events
from services.common.consumer import InvalidEvent

SCHEMA = "usage-event.v1.json"
SCHEMA_VERSION = 1
MAX_EVENT_BYTES = 64 * 1024

TYPES = (
    "view", "download", "share", "customer_open", "page_view",
    "search_click", "email_attach", "present", "customer_download",
)
REP_TYPES = frozenset({"view", "download", "share", "search_click", "email_attach", "present"})
CUSTOMER_TYPES = frozenset({"customer_open", "page_view", "customer_download"})
SHARE_TYPES = frozenset({"share", "email_attach"})  # the asset went to a customer
REP_OPEN_TYPES = frozenset({"view", "download", "search_click", "present"})  # a rep opened it

# Fields copied as-is into the stored document.
_PLAIN_FIELDS = ("event_id", "type", "asset_id", "rep_id", "opportunity_id", "account_id", "share_id",
                 "channel", "page", "seconds", "user_agent", "team", "region")


class EventError(InvalidEvent):
    """An InvalidEvent that knows which field is wrong (for INVALID_ARGUMENT field paths)."""

    def __init__(self, reason: str, field: str, message: str) -> None:
        super().__init__(reason, f"{field}: {message}")
        self.field = field
        self.message = message


def _schema_error(event: Mapping[str, Any]) -> EventError | None:
    validator = events.validator(SCHEMA)
    error = jsonschema.exceptions.best_match(validator.iter_errors(event))
    if error is None:
        return None
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        # "'asset_id' is a required property": name the missing field itself.
        match = re.match(r"'([^']+)' is a required property", error.message)
        path.append(match.group(1) if match else "(root)")
        return EventError("schema", ".".join(path), "is required")
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(validator.schema["properties"]))
        return EventError("schema", ".".join(path + extra[:1]) or "(root)", "unknown field")
    return EventError("schema", ".".join(path) or "(root)", error.message[:300])


_EVENT_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]+$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
_REQUIRED = ("event_id", "schema_version", "occurred_at", "type", "asset_id", "rep_id")
_OPTIONAL_STRINGS = {"opportunity_id": 128, "account_id": 128, "share_id": 128, "channel": 64, "user_agent": 1024,
                     "ip": 64, "ip_hash": 128, "team": 128, "region": 128, "received_at": 40}
_ALLOWED = frozenset(_REQUIRED) | frozenset(_OPTIONAL_STRINGS) | {"page", "seconds", "headers", "is_bot"}


def _plainly_valid(e: dict[str, Any]) -> bool:
    """A fast check that accepts only events the JSON Schema accepts (it may say False for valid
    ones; the schema then decides). Keeps validation cheap on the consumer's hot path."""
    if not _ALLOWED.issuperset(e):
        return False
    event_id, asset_id, rep_id, occurred = e.get("event_id"), e.get("asset_id"), e.get("rep_id"), e.get("occurred_at")
    if not (type(event_id) is str and 0 < len(event_id) <= 128 and _EVENT_ID.match(event_id)):
        return False
    if not (type(asset_id) is str and 0 < len(asset_id) <= 128 and type(rep_id) is str and 0 < len(rep_id) <= 128):
        return False
    if not (type(occurred) is str and len(occurred) <= 40) or type(e.get("schema_version")) is not int \
            or e["schema_version"] != 1 or e.get("type") not in TYPES:
        return False
    for name, limit in _OPTIONAL_STRINGS.items():
        value = e.get(name)
        if value is not None and not (type(value) is str and len(value) <= limit):
            return False
    page, seconds = e.get("page"), e.get("seconds")
    if e["type"] == "page_view" and (page is None or seconds is None):
        return False
    if page is not None and not (type(page) is int and 1 <= page <= 100000):
        return False
    if seconds is not None and not (type(seconds) in (int, float) and 0 <= seconds <= 86400):
        return False
    if "is_bot" in e and type(e["is_bot"]) is not bool:
        return False
    headers = e.get("headers")
    if headers is not None and not (type(headers) is dict and len(headers) <= 20 and
                                    all(type(v) is str and len(v) <= 512 for v in headers.values())):
        return False
    return True


def validate(event: Any, now: datetime | None = None) -> dict[str, Any]:
    """Check one event against the contract; returns it with times normalised to UTC.

    Raises EventError with reason `unknown_type`, `schema` or `future_event_time`.
    """
    if not isinstance(event, dict):
        raise EventError("bad_json", "(root)", "expected a JSON object")
    kind = event.get("type")
    if isinstance(kind, str) and kind not in TYPES:
        raise EventError("unknown_type", "type", f"unknown event type {kind[:40]!r}; expected one of {', '.join(TYPES)}")
    if not _plainly_valid(event):
        error = _schema_error(event)
        if error is not None:
            raise error
        _check_finite_seconds(event)
    out = dict(event)
    occurred = _time(event["occurred_at"], "occurred_at")
    now = now or datetime.now(timezone.utc)
    if occurred - now > events.MAX_FUTURE_SKEW:
        raise EventError("future_event_time", "occurred_at",
                         f"{iso(occurred)} is more than {events.MAX_FUTURE_SKEW} in the future")
    out["occurred_at"] = iso(occurred)
    if "received_at" in event:
        out["received_at"] = iso(_time(event["received_at"], "received_at"))
    out.pop("is_bot", None)  # always computed by the consumer
    return out


def _check_finite_seconds(event: Mapping[str, Any]) -> None:
    """NaN passes the schema's minimum/maximum (every comparison with NaN is false); refuse it here.

    JSON from Kafka cannot carry NaN or infinities (the consumer's parser refuses them), but
    a protobuf double from RecordEvents can.
    """
    seconds = event.get("seconds")
    if isinstance(seconds, float) and not math.isfinite(seconds):
        raise EventError("schema", "seconds", f"must be a finite number, got {seconds!r}")


def _time(value: str, field: str) -> datetime:
    if not _RFC3339.match(value):
        raise EventError("schema", field, f"not an RFC 3339 timestamp with a zone: {value[:40]!r}")
    try:
        return events.parse_time(value, field)
    except InvalidEvent as exc:
        raise EventError("schema", field, exc.detail.split(": ", 1)[-1]) from None


def iso(when: datetime) -> str:
    """RFC 3339 UTC with milliseconds and Z, the one format every stored time uses."""
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
    doc: dict[str, Any] = {k: event[k] for k in _PLAIN_FIELDS if k in event and event[k] not in (None, "")}
    doc["schema_version"] = SCHEMA_VERSION
    doc["occurred_at"] = event["occurred_at"]
    doc["received_at"] = event.get("received_at") or received_at
    doc["is_bot"] = is_bot
    if bot_reason:
        doc["bot_reason"] = bot_reason
    doc["known_asset"] = known_asset
    if event.get("ip"):
        doc["ip_hash"] = hash_ip(ip_secret, str(event["ip"]))
    elif event.get("ip_hash"):
        doc["ip_hash"] = str(event["ip_hash"])
    return doc


def window_start(days: int, now: datetime | None = None) -> datetime:
    """Start of a trailing window of whole UTC days ending today (today included)."""
    now = now or datetime.now(timezone.utc)
    today = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days - 1)
