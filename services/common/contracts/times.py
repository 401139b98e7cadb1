"""Time in every contract: strict RFC 3339 in, aware UTC datetimes and epoch seconds out.

Events carry RFC 3339 timestamps with a zone (`2026-11-23T12:00:00Z`,
`2026-11-23T13:00:00.5+01:00`); anything else (no zone, a date alone, ISO 8601's basic
form, a week date) is refused with reason `schema` naming the field, because a time
without a zone cannot be placed. Stored documents use one canonical form, UTC with
milliseconds and `Z` (`format_iso`), which sorts as text and which `parse_stored`
reads back without re-validating.
"""

from __future__ import annotations

import re
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from typing import Any

from services.common.contracts.errors import InvalidEvent, schema_error

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_FUTURE_SKEW = timedelta(minutes=10)
"""How far an event time may lie ahead of this process's clock (producers' clocks drift)."""

# RFC 3339 section 5.6 date-time: "T" or "t" (or, per its note, a space) between date and
# time, an optional fraction (at most nanoseconds), and a zone: "Z", "z" or +hh:mm / -hh:mm.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})")


def parse(value: Any, field: str) -> datetime:
    """An RFC 3339 timestamp with a zone as an aware UTC datetime; InvalidEvent(`schema`) on `field` otherwise.

    Fractions beyond microseconds are truncated (datetime's resolution).
    """
    if type(value) is not str or not _RFC3339.fullmatch(value):
        return _refuse(value, field)
    try:
        parsed = datetime.fromisoformat(value if value[10] == "T" and value[-1] != "z" else value.upper())
    except ValueError as exc:  # 2026-02-30, hour 25, second 60: the shape is right, the value is not
        raise schema_error(field, f"not a valid time ({exc}): {value[:40]!r}") from None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 or 9999-12-31T23:59:59-01:00 leave datetime's range in UTC
        raise schema_error(field, f"timestamp out of range in UTC: {value[:40]!r}") from None


# The canonical stored form (`format_iso`): what every producer of this system and most trackers send.
_CANONICAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def parse_to_canonical(value: Any, field: str) -> tuple[datetime, str]:
    """`parse`, and the time in the canonical form: `value` itself when it already is canonical.

    Formatting costs as much as parsing, on every event of every batch; a canonical text (a
    valid one: `parse` checked the date) formats back to itself.
    """
    when = parse(value, field)
    return when, value if _CANONICAL.fullmatch(value) else format_iso(when)


def _refuse(value: Any, field: str) -> datetime:
    if isinstance(value, str) and _looks_zoneless(value):
        raise schema_error(field, f"timestamp needs a zone offset or Z: {value[:40]!r}")
    raise schema_error(field, f"not an RFC 3339 timestamp with a zone: {str(value)[:40]!r}")


def _looks_zoneless(value: str) -> bool:
    try:
        return datetime.fromisoformat(value).tzinfo is None
    except ValueError:
        return False


def check(document: Any, fields: tuple[str, ...]) -> None:
    """Refuse any of `fields` present (and not null) in `document` that is not RFC 3339 with a zone."""
    for name in fields:
        value = document.get(name)
        if value is not None:
            parse(value, name)


def parse_stored(value: str) -> datetime:
    """A timestamp this system wrote itself (canonical, or any RFC 3339 with a zone) as aware UTC.

    For documents read back from our own stores and internal topics: no validation cost.
    """
    return datetime.fromisoformat(value).astimezone(UTC)


def epoch_s(value: str) -> float:
    """Seconds since 1970 of a stored timestamp."""
    return datetime.fromisoformat(value).timestamp()


def format_iso(when: datetime) -> str:
    """RFC 3339 UTC with milliseconds and Z, the one form every stored time uses."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_epoch(seconds: float) -> str:
    """`format_iso` of seconds since 1970."""
    return format_iso(datetime.fromtimestamp(seconds, UTC))


def format_epoch_ms(ms: int) -> str:
    """`format_iso` of milliseconds since 1970 (a Kafka record's timestamp; ms > 0).

    The consumers stamp every event written without `received_at` with it, and a batch's
    records share a handful of seconds: the formatted second is cached, the milliseconds
    appended (a tenth of `format_iso`'s cost per event).
    """
    seconds, millis = divmod(ms, 1000)
    return f"{_formatted_second(seconds)}.{millis:03d}Z"


@lru_cache(maxsize=1024)
def _formatted_second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def now_iso() -> str:
    """The current time in the canonical form."""
    return format_iso(datetime.now(UTC))


def from_epoch_ms(ms: int) -> datetime:
    """A Kafka record timestamp (milliseconds since 1970) as aware UTC."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def to_ms(when: datetime) -> int:
    """Milliseconds since 1970, rounded: versions of snapshots (deals' updated_at)."""
    return int(round(when.timestamp() * 1000))


def check_not_future(when: datetime, field: str, now: datetime | None = None) -> None:
    """Refuse an event time more than MAX_FUTURE_SKEW ahead (reason `future_event_time`)."""
    now = now or datetime.now(UTC)
    if when - now > MAX_FUTURE_SKEW:
        raise InvalidEvent.at("future_event_time", field, f"{format_iso(when)} is more than {MAX_FUTURE_SKEW} ahead")
