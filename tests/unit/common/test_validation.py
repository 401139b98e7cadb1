"""The shared request checks: Timestamp/Duration conversion and input bounds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from google.protobuf import duration_pb2, timestamp_pb2

from collateral.v1 import common_pb2
from services.common import validation
from services.common.errors import InvalidArgument

MIN_S, MAX_S = validation.MIN_TIMESTAMP_SECONDS, validation.MAX_TIMESTAMP_SECONDS


def ts(seconds: int, nanos: int = 0) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)


def violation(fn, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(InvalidArgument) as info:
        fn(*args, **kwargs)
    return info.value.field, info.value.message


# ---- Timestamp ------------------------------------------------------------------------------

@pytest.mark.parametrize("seconds,nanos", [
    (0, 0), (1_700_000_000, 123_456_789), (MIN_S, 0), (MAX_S, 999_999_999), (-1, 500_000_000),
])
def test_timestamp_in_range_converts_like_protobuf(seconds, nanos):
    value = ts(seconds, nanos)
    assert validation.timestamp(value, "t") == value.ToDatetime(tzinfo=timezone.utc)


@pytest.mark.parametrize("seconds,nanos", [
    (MIN_S - 1, 0), (MAX_S + 1, 0), (2**63 - 1, 0), (-(2**63), 0),
    (0, -1), (0, 1_000_000_000), (0, 2**31 - 1), (0, -(2**31)),
])
def test_timestamp_out_of_range_is_invalid_argument_on_the_field(seconds, nanos):
    value = ts(seconds, nanos)
    with pytest.raises((ValueError, OverflowError)):
        value.ToDatetime(tzinfo=timezone.utc)  # what the handlers called before: INTERNAL
    field, _ = violation(validation.timestamp, value, "events[3].occurred_at")
    assert field == "events[3].occurred_at"


def test_timestamp_result_is_aware_utc():
    assert validation.timestamp(ts(0), "t") == datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert validation.timestamp(ts(0), "t").tzinfo is not None


def test_optional_timestamp_is_none_when_unset_and_checked_when_set():
    time_range = common_pb2.TimeRange()
    assert validation.optional_timestamp(time_range, "start", "time_range.start") is None
    time_range.end.CopyFrom(ts(MAX_S + 1))
    assert violation(validation.optional_timestamp, time_range, "end", "time_range.end")[0] == "time_range.end"


def test_shift_past_year_9999_is_invalid_argument():
    end_of_time = validation.timestamp(ts(MAX_S), "t")
    assert violation(validation.shift, end_of_time, timedelta(days=1), "window.end")[0] == "window.end"
    start_of_time = validation.timestamp(ts(MIN_S), "t")
    assert violation(validation.shift, start_of_time, -timedelta(days=30), "window.end")[0] == "window.end"
    assert validation.shift(start_of_time, timedelta(days=1), "x") == start_of_time + timedelta(days=1)


# ---- Duration -------------------------------------------------------------------------------

@pytest.mark.parametrize("seconds,nanos,expected", [
    (0, 0, timedelta(0)), (90, 500_000_000, timedelta(seconds=90.5)), (-90, -500_000_000, timedelta(seconds=-90.5)),
    (validation.MAX_DURATION_SECONDS, 0, timedelta(seconds=validation.MAX_DURATION_SECONDS)),
])
def test_duration_in_range(seconds, nanos, expected):
    assert validation.duration(duration_pb2.Duration(seconds=seconds, nanos=nanos), "d") == expected


@pytest.mark.parametrize("seconds,nanos", [
    (validation.MAX_DURATION_SECONDS + 1, 0), (-(2**63), 0), (0, 1_000_000_000), (1, -1), (-1, 1),
])
def test_duration_out_of_range_is_invalid_argument(seconds, nanos):
    assert violation(validation.duration, duration_pb2.Duration(seconds=seconds, nanos=nanos), "ttl")[0] == "ttl"


# ---- strings and lists ----------------------------------------------------------------------

def test_text_is_stripped_and_bounded_before_stripping():
    assert validation.text("  emea ", "f", 10) == "emea"
    assert violation(validation.text, "x" * 11, "f", 10)[0] == "f"
    assert violation(validation.text, " " * 64 * 1024, "f", 10)[0] == "f"  # no 64 KB of spaces either
    assert violation(validation.text, "   ", "f", 10, required=True) == ("f", "f: is required")


def test_identifier_limit():
    assert validation.identifier("a" * validation.MAX_ID_CHARS, "asset_id") == "a" * validation.MAX_ID_CHARS
    assert violation(validation.identifier, "a" * (validation.MAX_ID_CHARS + 1), "asset_id")[0] == "asset_id"
    assert violation(validation.identifier, "", "asset_id") == ("asset_id", "asset_id: is required")
    assert validation.identifier("", "owner", required=False) == ""


def test_labels_name_the_offending_value_and_bound_the_count():
    assert validation.labels([" a ", "b"], "segment.regions") == ["a", "b"]
    assert violation(validation.labels, ["a", "x" * 32 * 1024], "segment.regions")[0] == "segment.regions[1]"
    assert violation(validation.labels, ["a", ""], "segment.teams")[0] == "segment.teams[1]"
    too_many = ["a"] * (validation.MAX_FILTER_VALUES + 1)
    assert violation(validation.labels, too_many, "segment.teams")[0] == "segment.teams"


def test_bounded_and_page_token_and_finite():
    assert validation.bounded([1, 2], "f", 2) == [1, 2]
    assert violation(validation.bounded, [1, 2, 3], "reasons", 2)[0] == "reasons"
    assert violation(validation.page_token, "t" * (validation.MAX_PAGE_TOKEN_CHARS + 1))[0] == "page_token"
    assert validation.finite(1.5, "amount") == 1.5
    for bad in (float("nan"), float("inf"), float("-inf")):
        assert violation(validation.finite, bad, "outcomes[0].amount")[0] == "outcomes[0].amount"
