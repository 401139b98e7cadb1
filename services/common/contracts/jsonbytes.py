"""Bytes to a plain JSON object: the first step of every JSON contract.

Every way the bytes can be unusable becomes an InvalidEvent with its own reason:
`empty` (no value, or zero bytes), `too_large`, `bad_encoding` (not UTF-8 - RFC 8259
section 8.1 - or a lone UTF-16 surrogate in a \\u escape), `too_deep` (nesting beyond
MAX_JSON_DEPTH), `bad_json` (not JSON, or not an object at the top), `bad_number`
(NaN, Infinity, a float that overflows, an integer outside 64 bits). What comes out
holds only finite floats, 64-bit integers and strings encodable as UTF-8, so no later
step (schema, Elasticsearch's serializer, version arithmetic) trips over a value.
A leading UTF-8 byte order mark is tolerated and ignored (RFC 8259 allows parsers to).

Decoding is on every consumer's hot path, so it runs through orjson (strict UTF-8, no
NaN, no lone surrogates, overflowing floats refused). Where orjson's answer could differ
from the rules above - it keeps integers up to 2**64 - 1 and turns longer ones into
floats, so a number of that size sends the document the careful way - and whenever
orjson refuses, the standard library parser with checking hooks decides and names the
reason.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Mapping

import orjson

from services.common.contracts.errors import InvalidEvent

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects an event may have; no contract needs more than 3."""

_UTF8_BOM = b"\xef\xbb\xbf"
_INT64 = (-(2**63), 2**63 - 1)
_TWO_63 = float(2**63)
# A JSON string (an unterminated one runs to the end, so the pattern never fails and never
# rescans: linear time whatever the input) and the characters that open or close nesting.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.?)*+(?:"|\Z)|[\[\]{}]', re.DOTALL)


def parse_json_object(message: Any, max_bytes: int) -> dict[str, Any]:
    """`message.value` (a Kafka message's bytes) as a JSON object; see the module docstring."""
    return loads_object(message.value, max_bytes)


def loads_object(value: bytes | None, max_bytes: int) -> dict[str, Any]:
    """Bytes as a JSON object, or InvalidEvent with the reason they are unusable."""
    if not value:
        raise InvalidEvent("empty", "message has no value (tombstone)" if value is None else "message value is empty")
    if len(value) > max_bytes:
        raise InvalidEvent("too_large", f"{len(value)} bytes, limit {max_bytes}")
    if b"\x00" in value[:4]:
        raise InvalidEvent("bad_encoding", "looks like UTF-16 or UTF-32 (NUL in the first bytes); send UTF-8")
    if value.startswith(_UTF8_BOM):
        value = value[len(_UTF8_BOM):]
    if value.count(b"[") + value.count(b"{") <= MAX_JSON_DEPTH:
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            pass  # the careful parser below names the reason
        else:
            if type(parsed) is dict and not _maybe_beyond_64_bits(parsed):
                return parsed
    return _careful(value)


def _maybe_beyond_64_bits(document: dict[str, Any]) -> bool:
    """True when orjson's numbers could hide an integer literal outside 64 bits.

    orjson keeps integers up to 2**64 - 1 and turns longer ones into floats, so an integer
    outside int64, or a float of that magnitude (which may have been such a literal), sends
    the bytes to the careful parser, which decides from the literal. A pass over the parsed
    values costs a fraction of scanning the bytes for long digit runs.
    """
    low, high = _INT64
    containers: list[Any] = [document]
    while containers:
        container = containers.pop()
        for item in container.values() if type(container) is dict else container:
            kind = type(item)
            if kind is int:
                if not low <= item <= high:
                    return True
            elif kind is float:
                if not -_TWO_63 < item < _TWO_63:
                    return True
            elif kind is dict or kind is list:
                containers.append(item)
    return False


def _careful(value: bytes) -> dict[str, Any]:
    """The standard library parser with hooks that check every number and the nesting."""
    text = _decode_utf8(value)
    _check_depth(text)
    try:
        parsed = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_int64)
    except RecursionError:  # unreachable after _check_depth, kept as a second line of defence
        raise InvalidEvent("too_deep", "nesting exceeds the parser's recursion limit") from None
    except ValueError as exc:
        raise InvalidEvent("bad_json", str(exc)[:200]) from None
    if not isinstance(parsed, dict):
        raise InvalidEvent("bad_json", f"expected a JSON object, got a JSON {_json_kind(parsed)}")
    if "\\u" in text:  # lone surrogates can only come from \\u escapes: the bytes were strict UTF-8
        _check_encodable(parsed)
    return parsed


def _decode_utf8(value: bytes) -> str:
    """Strict UTF-8 only; UTF-16 and UTF-32 (which json.loads would guess from bytes) are refused."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEvent("bad_encoding", f"not UTF-8: {exc.reason} at byte {exc.start}") from None


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH before the parser recurses into it.

    Brackets inside strings do not count. Events with few brackets (nearly all) skip the scan.
    """
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return
    depth = 0
    for token in _STRING_OR_BRACKET.finditer(text):
        char = token.group()[0]
        if char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise InvalidEvent("too_deep", f"nesting deeper than {MAX_JSON_DEPTH} at char {token.start()}")
        elif char in "]}":
            depth -= 1


def _reject_constant(name: str) -> Any:
    raise InvalidEvent("bad_number", f"{name} is not a JSON number")


def _finite_float(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise InvalidEvent("bad_number", f"{literal[:40]} overflows a double")
    return number


def _int64(literal: str) -> int:
    if len(literal) > 20:  # more digits than any 64-bit integer: refuse before converting
        raise InvalidEvent("bad_number", f"integer with {len(literal)} digits is outside 64 bits")
    number = int(literal)
    if not _INT64[0] <= number <= _INT64[1]:
        raise InvalidEvent("bad_number", f"{literal} is outside 64 bits")
    return number


def _check_encodable(value: Any) -> None:
    """Refuse strings (keys included) holding lone surrogates: they cannot be written as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise InvalidEvent("bad_encoding", f"lone surrogate {item[exc.start]!r} in a \\u escape") from None


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def dumps(document: Any) -> bytes:
    """Compact JSON bytes of a document this system built (str keys, finite numbers).

    Copied to their exact size: orjson (3.13) returns its bytes in the buffer it wrote them
    to, 4 KiB at least. A consumer keeps thousands of encodings for a batch (or a join state
    for far longer), and keeping orjson's own results cost 3.5 us each on the heap's growth
    against 0.75 us for the copy, besides some 15x the memory."""
    return memoryview(orjson.dumps(document)).tobytes()


def with_fields(encoded: bytes, fields: Mapping[str, Any]) -> bytes:
    """`encoded` (a non-empty JSON object from `dumps`) with `fields` added, as `dumps` of the
    merged object would give: for documents encoded ahead of the few fields decided later,
    without encoding every field again. `fields` must not repeat a key of `encoded`."""
    if not fields:
        return encoded
    return encoded[:-1] + b"," + orjson.dumps(fields)[1:]
