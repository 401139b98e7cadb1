"""Validation shared by every JSON event contract (usage events, deal outcomes, ...).

Each contract is a JSON Schema under `schemas/` (the public integration surface); on
top of the schema, checks a schema cannot express live here: timestamps parse as RFC
3339 with a zone, and event time is not implausibly far in the future.
"""

from __future__ import annotations

import functools
import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

import jsonschema

from services.common.consumer import InvalidEvent

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
MAX_FUTURE_SKEW = timedelta(minutes=10)


@functools.lru_cache(maxsize=None)
def validator(schema_name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMA_DIR / schema_name).read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate(schema_name: str, event: dict[str, Any]) -> None:
    """Raise InvalidEvent('schema', 'field: problem') naming the first offending field."""
    error = jsonschema.exceptions.best_match(validator(schema_name).iter_errors(event))
    if error is not None:
        path = ".".join(str(p) for p in error.absolute_path) or "(root)"
        raise InvalidEvent("schema", f"{path}: {error.message[:300]}")


def parse_time(value: str, field: str) -> datetime:
    """An RFC 3339 timestamp with a zone, as an aware UTC datetime."""
    if not isinstance(value, str):
        raise InvalidEvent("schema", f"{field}: not an RFC 3339 timestamp: {str(value)[:40]!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidEvent("schema", f"{field}: not an RFC 3339 timestamp: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise InvalidEvent("schema", f"{field}: timestamp needs a zone offset or Z: {value[:40]!r}")
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 or 9999-12-31T23:59:59-01:00 leave datetime's range in UTC
        raise InvalidEvent("schema", f"{field}: timestamp out of range in UTC: {value[:40]!r}") from None


def check_finite(event: Mapping[str, Any], fields: Iterable[str]) -> None:
    """Raise InvalidEvent('schema') for a NaN or infinite number in `fields`.

    JSON from Kafka cannot carry them (parse_json_object refuses), but dicts built from
    protobuf doubles can, and JSON Schema's minimum/maximum let NaN through (every
    comparison with NaN is false).
    """
    for name in fields:
        value = event.get(name)
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidEvent("schema", f"{name}: must be a finite number, got {value!r}")


def check_not_future(when: datetime, field: str, now: datetime | None = None) -> None:
    now = now or datetime.now(timezone.utc)
    if when - now > MAX_FUTURE_SKEW:
        raise InvalidEvent("future_event_time", f"{field} {when.isoformat()} is more than {MAX_FUTURE_SKEW} ahead")


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
