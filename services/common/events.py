"""Short names for the contract helpers that services outside the stream consumers use.

The contracts themselves live in services/common/contracts (one module per topic, the
compiled JSON Schemas, the one error type, the one time module); this module keeps the
names the gRPC servers, importers and signal publishers call, plus `validator`: the
jsonschema validator of a schema, for tools that list every violation of a document at
once (the CSV importer) rather than the first one on the hot path.
"""

from __future__ import annotations

import functools
import math
from datetime import datetime
from typing import Any, Iterable, Mapping

import jsonschema

from services.common.contracts import schema, times
from services.common.contracts.errors import schema_error

SCHEMA_DIR = schema.SCHEMA_DIR
MAX_FUTURE_SKEW = times.MAX_FUTURE_SKEW
validate = schema.validate
utc_now_iso = times.now_iso


@functools.lru_cache(maxsize=None)
def validator(schema_name: str) -> jsonschema.protocols.Validator:
    """jsonschema's validator of schemas/<schema_name> (every violation at once; slow: not per message)."""
    document = schema.load(schema_name)
    cls = jsonschema.validators.validator_for(document)
    cls.check_schema(document)
    return cls(document, format_checker=cls.FORMAT_CHECKER)


def parse_time(value: Any, field: str) -> datetime:
    """An RFC 3339 timestamp with a zone, as an aware UTC datetime (contracts.times.parse)."""
    return times.parse(value, field)


def check_not_future(when: datetime, field: str, now: datetime | None = None) -> None:
    times.check_not_future(when, field, now)


def check_finite(event: Mapping[str, Any], fields: Iterable[str]) -> None:
    """Raise InvalidEvent('schema') for a NaN or infinite number in `fields`.

    JSON from Kafka cannot carry them (the JSON step refuses), but dicts built from
    protobuf doubles can, and JSON Schema's minimum/maximum let NaN through.
    """
    for name in fields:
        value = event.get(name)
        if isinstance(value, float) and not math.isfinite(value):
            raise schema_error(name, f"must be a finite number, got {value!r}")
