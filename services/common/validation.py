"""Checks every RPC applies to what a client sends, and the API's input limits in one place.

A request value that reaches Elasticsearch, Kafka or Python's datetime unchecked can fail
deep inside a dependency (a 32 KB term, a year-10000 timestamp, a 10,000-clause query),
and such a failure would surface as INTERNAL. Handlers convert and bound every input here
first, so anything a client can send is answered with INVALID_ARGUMENT naming the field
(`events[3].occurred_at`, `segment.industries[2]`) before any dependency sees it.

The limits are documented in docs/content.md, docs/usage.md and docs/feedback.md
("Input limits"); change them together.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Sequence, TypeVar

from google.protobuf import duration_pb2, timestamp_pb2

from services.common.errors import InvalidArgument

# ---- limits ---------------------------------------------------------------------------------

MAX_ID_CHARS = 128  # asset, rep, opportunity, account, share and request ids
MAX_LABEL_CHARS = 128  # one filter or segment value (industry, region, team, asset type, ...)
MAX_FILTER_VALUES = 100  # values of one repeated filter or segment field
MAX_PAGE_TOKEN_CHARS = 4096  # page tokens and upload ids (opaque, signed)
MAX_BATCH_IDS = 100  # asset ids of GetWinRates and GetAssetScorecards

# google.protobuf.Timestamp's valid range (its documented contract): 0001-01-01T00:00:00Z to
# 9999-12-31T23:59:59.999999999Z, nanos in [0, 1e9).
MIN_TIMESTAMP_SECONDS = -62_135_596_800
MAX_TIMESTAMP_SECONDS = 253_402_300_799
NANOS_PER_SECOND = 1_000_000_000
# google.protobuf.Duration's valid range: about ±10,000 years, nanos of the same sign as seconds.
MAX_DURATION_SECONDS = 315_576_000_000

T = TypeVar("T")


# ---- time -----------------------------------------------------------------------------------

def timestamp(ts: timestamp_pb2.Timestamp, field: str) -> datetime:
    """A request Timestamp as an aware UTC datetime; INVALID_ARGUMENT on `field` when out of range.

    Timestamp.ToDatetime() raises ValueError/OverflowError for seconds outside years
    0001..9999 or nanos outside [0, 1e9); a client can send either, so it is checked here.
    """
    if not MIN_TIMESTAMP_SECONDS <= ts.seconds <= MAX_TIMESTAMP_SECONDS:
        raise InvalidArgument(field, "must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z")
    if not 0 <= ts.nanos < NANOS_PER_SECOND:
        raise InvalidArgument(field, "nanos must be between 0 and 999999999")
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    return epoch + timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


def optional_timestamp(message: Any, name: str, field: str) -> datetime | None:
    """`message.name` converted with `timestamp`, or None when the field is unset."""
    if not message.HasField(name):
        return None
    return timestamp(getattr(message, name), field)


def duration(d: duration_pb2.Duration, field: str) -> timedelta:
    """A request Duration as a timedelta; INVALID_ARGUMENT on `field` when outside the type's contract."""
    if not -MAX_DURATION_SECONDS <= d.seconds <= MAX_DURATION_SECONDS:
        raise InvalidArgument(field, f"must be within ±{MAX_DURATION_SECONDS} seconds")
    if not -NANOS_PER_SECOND < d.nanos < NANOS_PER_SECOND or (d.seconds > 0 > d.nanos) or (d.seconds < 0 < d.nanos):
        raise InvalidArgument(field, "nanos must be below 1e9 in magnitude and have the sign of seconds")
    return timedelta(seconds=d.seconds, microseconds=int(d.nanos / 1000))


def shift(when: datetime, delta: timedelta, field: str) -> datetime:
    """`when + delta`, or INVALID_ARGUMENT on `field` when the result leaves years 1..9999."""
    try:
        return when + delta
    except OverflowError:
        raise InvalidArgument(field, "too close to the end of the supported time range") from None


# ---- strings and lists ----------------------------------------------------------------------

def text(value: str, field: str, max_chars: int, required: bool = False) -> str:
    """`value` stripped, bounded to `max_chars` characters; INVALID_ARGUMENT on `field` otherwise."""
    if len(value) > max_chars:
        raise InvalidArgument(field, f"at most {max_chars} characters")
    value = value.strip()
    if required and not value:
        raise InvalidArgument(field, "is required")
    return value


def identifier(value: str, field: str, required: bool = True) -> str:
    """An id (asset, rep, opportunity, account, share, request): stripped, at most MAX_ID_CHARS."""
    return text(value, field, MAX_ID_CHARS, required)


def bounded(values: Sequence[T], field: str, maximum: int) -> list[T]:
    """`values` as a list, at most `maximum` of them (checked before anything iterates them)."""
    if len(values) > maximum:
        raise InvalidArgument(field, f"at most {maximum} values")
    return list(values)


def labels(values: Sequence[str], field: str, maximum: int = MAX_FILTER_VALUES,
           max_chars: int = MAX_LABEL_CHARS) -> list[str]:
    """Filter values: at most `maximum`, each non-empty and at most `max_chars`; field paths name the value."""
    out: list[str] = []
    for i, raw in enumerate(bounded(values, field, maximum)):
        out.append(text(raw, f"{field}[{i}]", max_chars, required=True))
    return out


def page_token(value: str, field: str = "page_token") -> str:
    """A page token bounded before it is decoded."""
    if len(value) > MAX_PAGE_TOKEN_CHARS:
        raise InvalidArgument(field, "page token too long")
    return value


def finite(value: float, field: str) -> float:
    """A double that is a real number (NaN and infinities cannot be stored or compared)."""
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidArgument(field, "must be a finite number")
    return value
