"""The contracts' time module and JSON step: strict RFC 3339, and a fast path that decides like the careful one."""

from __future__ import annotations

import json
import re
import tracemalloc
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from services.common.contracts import jsonbytes, times
from services.common.contracts.errors import InvalidEvent

# RFC 3339 section 5.6, with the section's note (a space may separate date and time) and
# fractions of at most nanoseconds: the grammar the contracts document.
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


@pytest.mark.parametrize("value,expected", [
    ("2026-11-23T12:00:00Z", datetime(2026, 11, 23, 12, tzinfo=timezone.utc)),
    ("2026-11-23t12:00:00z", datetime(2026, 11, 23, 12, tzinfo=timezone.utc)),
    ("2026-11-23 13:00:00+01:00", datetime(2026, 11, 23, 12, tzinfo=timezone.utc)),
    ("2026-11-23T12:00:00.123456789-00:30", datetime(2026, 11, 23, 12, 30, 0, 123456, tzinfo=timezone.utc)),
])
def test_rfc3339_times_parse_to_aware_utc(value: str, expected: datetime) -> None:
    parsed = times.parse(value, "occurred_at")
    assert parsed == expected and parsed.tzinfo == timezone.utc


@pytest.mark.parametrize("value", [
    "2026-11-23T12:00:00",  # no zone
    "2026-11-23",  # a date alone
    "20261123T120000Z",  # ISO 8601 basic form
    "2026-W48-1T12:00:00Z",  # week date
    "2026-11-23T12:00Z",  # no seconds
    "2026-11-23T12:00:00.1234567890Z",  # finer than nanoseconds
    "2026-11-23T12:00:00+0100",  # offset without colon
    "2026-02-30T12:00:00Z",  # no such day
    "2026-11-23T24:00:00Z",
    "2026-11-23T12:00:60Z",
    " 2026-11-23T12:00:00Z",
    "2026-11-23T12:00:00Z\n",
    "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
])
def test_anything_else_is_a_schema_error_naming_the_field(value: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        times.parse(value, "occurred_at")
    assert caught.value.reason == "schema" and caught.value.field == "occurred_at"


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(timezone.utc)),
       st.sampled_from(["Z", "z", "+00:00", "+05:30", "-11:00"]), st.sampled_from(["T", "t", " "]),
       st.integers(0, 9))
def test_every_rfc3339_spelling_round_trips(when: datetime, zone: str, sep: str, digits: int) -> None:
    offset = timedelta(0) if zone in ("Z", "z") else (1 if zone[0] == "+" else -1) * timedelta(
        hours=int(zone[1:3]), minutes=int(zone[4:6]))
    local = when.astimezone(timezone(offset))
    fraction = f".{local.microsecond:06d}000"[:digits + 1] if digits else ""
    text = (f"{local.year:04d}-{local.month:02d}-{local.day:02d}{sep}{local.hour:02d}:{local.minute:02d}:"
            f"{local.second:02d}{fraction}{zone}")
    assert RFC3339.fullmatch(text)
    parsed = times.parse(text, "t")
    unit = 10 ** (6 - min(digits, 6))  # fractions beyond microseconds are truncated
    assert parsed == when.replace(microsecond=when.microsecond // unit * unit)
    assert times.parse_stored(times.format_iso(parsed)) == parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789-:T tZz+.Wx", max_size=36))
def test_only_the_rfc3339_grammar_is_accepted(text: str) -> None:
    try:
        times.parse(text, "t")
        accepted = True
    except InvalidEvent:
        accepted = False
    if accepted:
        assert RFC3339.fullmatch(text)


def test_future_times_are_refused_beyond_the_skew() -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
    times.check_not_future(now + times.MAX_FUTURE_SKEW, "occurred_at", now)
    with pytest.raises(InvalidEvent) as caught:
        times.check_not_future(now + times.MAX_FUTURE_SKEW + timedelta(seconds=1), "occurred_at", now)
    assert caught.value.reason == "future_event_time" and caught.value.field == "occurred_at"


def test_the_stored_form_is_utc_milliseconds_with_z() -> None:
    when = datetime(2026, 11, 23, 13, 0, 0, 123999, tzinfo=timezone(timedelta(hours=1)))
    assert times.format_iso(when) == "2026-11-23T12:00:00.123Z"
    assert times.epoch_s("2026-11-23T12:00:00.123Z") == pytest.approx(when.timestamp() - 0.000999)


# ---- the JSON step: orjson's fast path must decide like the careful standard-library path ----

def outcome(decode, value: bytes) -> tuple[str, object]:
    try:
        return "ok", decode(value)
    except InvalidEvent as exc:
        return exc.reason, None


def careful(value: bytes) -> dict:
    if value.startswith(b"\xef\xbb\xbf"):
        value = value[3:]
    return jsonbytes._careful(value)


JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=10)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.text(max_size=8), JSON, max_size=5))
def test_fast_path_decides_like_the_careful_parser_on_documents(document: dict) -> None:
    value = json.dumps(document, allow_nan=True).encode()
    assert outcome(lambda v: jsonbytes.loads_object(v, 1 << 20), value) == outcome(careful, value)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=40) | st.sampled_from([b'{"a":NaN}', b'{"a":1e400}', b'{"a":9223372036854775808}',
                                                 b'{"a":-9223372036854775809}', b'{"a":"\\ud800"}', b"[1]",
                                                 b'{"a":18446744073709551616}', b"\xef\xbb\xbf{}", b'{"a":1}x']))
def test_fast_path_decides_like_the_careful_parser_on_any_bytes(value: bytes) -> None:
    if not value or b"\x00" in value[:4]:
        return  # refused before either parser runs
    assert outcome(lambda v: jsonbytes.loads_object(v, 1 << 20), value) == outcome(careful, value)


@given(st.integers(min_value=1, max_value=253402300799999))  # 1970 to the end of year 9999
def test_formatting_a_record_timestamp_matches_the_canonical_form(ms: int) -> None:
    exact = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=ms)  # no float on the way
    assert times.format_epoch_ms(ms) == times.format_iso(exact)


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(timezone.utc)),
       st.sampled_from(["Z", "z", "+00:00", "+05:30", "-08:00"]), st.integers(min_value=0, max_value=9))
@settings(max_examples=3000)
def test_the_canonical_text_is_what_formatting_the_parsed_time_gives(when: datetime, zone: str, digits: int) -> None:
    """The fast path (a canonical text kept as it is) never differs from parsing and formatting."""
    offset = {"Z": timedelta(0), "z": timedelta(0)}.get(zone)
    if offset is None:
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])) * (1 if zone[0] == "+" else -1)
    local = when + offset
    if not datetime(1, 1, 1) <= local.replace(tzinfo=None) <= datetime(9999, 12, 31):
        return
    fraction = f".{local.microsecond:06d}{'0' * 3}"[:digits + 1] if digits else ""
    value = local.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0") + fraction + zone
    parsed, canonical = times.parse_to_canonical(value, "t")
    assert parsed == times.parse(value, "t")
    assert canonical == times.format_iso(parsed)


def test_a_canonical_looking_text_of_an_impossible_date_is_still_refused() -> None:
    with pytest.raises(InvalidEvent, match="not a valid time"):
        times.parse_to_canonical("2026-02-30T10:00:00.000Z", "occurred_at")


_KEYS = st.text(max_size=6)
_BUILT = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False,
                      allow_infinity=False) | st.text(), lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)


@given(st.dictionaries(_KEYS, _BUILT, min_size=1, max_size=5), st.dictionaries(_KEYS, _BUILT, max_size=3))
def test_fields_added_to_an_encoded_object_encode_as_the_merged_object(first: dict, later: dict) -> None:
    later = {k: v for k, v in later.items() if k not in first}
    assert jsonbytes.with_fields(jsonbytes.dumps(first), later) == jsonbytes.dumps({**first, **later})


def test_kept_encodings_take_their_own_size_not_the_encoders_buffer() -> None:
    """A consumer keeps thousands of encodings per batch; orjson's own results hold 4 KiB each."""
    event = {"event_id": "e-1", "type": "download", "asset_id": "a-1"}
    tracemalloc.start()
    try:
        kept = [jsonbytes.dumps(event) for _ in range(1000)]
        used, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept[0] == json.dumps(event, separators=(",", ":")).encode()
    assert used / len(kept) < 4 * len(kept[0]), used / len(kept)
