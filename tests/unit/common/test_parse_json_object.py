"""The shared parse step: every malformed message becomes an InvalidEvent with its reason.

A message that raises anything else while it is parsed would stop the consumer before it
commits, and it would stop again on the same offset after every restart.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from services.common import events
from services.common.consumer import (INTERNAL_PARSE_ERROR, MAX_JSON_DEPTH, InvalidEvent, Message, ParseStep,
                                      parse_json_object)
from services.feedback import model as feedback_model
from services.usage import model as usage_model

LIMIT = 64 * 1024


def message(value: bytes | None, topic: str = "t.usage.v1") -> Message:
    return Message(topic, 0, 7, b"k", value, 0)


def reason_of(value: bytes | None, limit: int = LIMIT) -> str:
    with pytest.raises(InvalidEvent) as caught:
        parse_json_object(message(value), limit)
    return caught.value.reason


REJECTED = [
    ("tombstone", None, "empty"),
    ("zero bytes", b"", "empty"),
    ("over the size limit", b'{"a":"' + b"x" * LIMIT + b'"}', "too_large"),
    ("5,000 nested objects", b'{"a":' * 5000, "too_deep"),
    ("5,000 nested arrays", b"[" * 5000, "too_deep"),
    ("nesting one past the limit", b'{"a":' + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"}", "too_deep"),
    ("invalid UTF-8", b'{"a":"\xff\xfe"}', "bad_encoding"),
    ("overlong UTF-8", b'{"a":"\xc0\xaf"}', "bad_encoding"),
    ("UTF-8 encoded surrogate", b'{"a":"\xed\xa0\x80"}', "bad_encoding"),
    ("UTF-16 with BOM", '{"a":1}'.encode("utf-16"), "bad_encoding"),
    ("UTF-16-LE", '{"a":1}'.encode("utf-16-le"), "bad_encoding"),
    ("UTF-16-BE", '{"a":1}'.encode("utf-16-be"), "bad_encoding"),
    ("UTF-32", '{"a":1}'.encode("utf-32"), "bad_encoding"),
    ("lone high surrogate escape", b'{"a":"\\ud800"}', "bad_encoding"),
    ("lone low surrogate escape in a key", b'{"\\udc00":1}', "bad_encoding"),
    ("lone surrogate deep in a list", b'{"a":[{"b":["ok","\\udfff"]}]}', "bad_encoding"),
    ("NaN", b'{"a":NaN}', "bad_number"),
    ("Infinity", b'{"a":Infinity}', "bad_number"),
    ("-Infinity", b'{"a":-Infinity}', "bad_number"),
    ("float overflowing a double", b'{"a":1e400}', "bad_number"),
    ("negative float overflow", b'{"a":-1.5e999}', "bad_number"),
    ("400-digit integer", b'{"a":1' + b"0" * 400 + b"}", "bad_number"),
    ("5,000-digit integer", b'{"a":1' + b"0" * 5000 + b"}", "bad_number"),
    ("2**63", b'{"a":9223372036854775808}', "bad_number"),
    ("-2**63 - 1", b'{"a":-9223372036854775809}', "bad_number"),
    ("not JSON", b"{not json", "bad_json"),
    ("truncated", b'{"a":', "bad_json"),
    ("raw NUL in a string", b'{"a":"x\x00y"}', "bad_json"),
    ("top-level array", b"[1,2]", "bad_json"),
    ("top-level string", b'"event"', "bad_json"),
    ("top-level number", b"42", "bad_json"),
    ("top-level null", b"null", "bad_json"),
    ("top-level true", b"true", "bad_json"),
    ("whitespace only", b"   \n", "bad_json"),
    ("trailing data", b'{"a":1} {"b":2}', "bad_json"),
    ("brackets in an unterminated string of escaped quotes", b'{"a":"' + b'\\"' * 20000 + b"[" * 70, "bad_json"),
]


@pytest.mark.parametrize("value, reason", [(v, r) for _, v, r in REJECTED], ids=[n for n, _, _ in REJECTED])
def test_malformed_messages_are_invalid_events_with_their_reason(value: bytes | None, reason: str) -> None:
    assert reason_of(value) == reason


ACCEPTED = [
    ("plain object", b'{"a":1,"b":"x"}', {"a": 1, "b": "x"}),
    ("UTF-8 BOM is ignored", b'\xef\xbb\xbf{"a":1}', {"a": 1}),
    ("brackets inside strings do not count", b'{"q":"' + b"[{" * 500 + b'"}', {"q": "[{" * 500}),
    ("escaped quote before brackets in a string", b'{"q":"\\"' + b"[" * 100 + b'"}', {"q": '"' + "[" * 100}),
    ("surrogate pair escape", b'{"a":"\\ud83d\\ude00"}', {"a": "\U0001F600"}),
    ("escaped backslash then u", b'{"a":"\\\\ud800"}', {"a": "\\ud800"}),
    ("escaped NUL", b'{"a":"x\\u0000y"}', {"a": "x\x00y"}),
    ("int64 bounds", b'{"a":9223372036854775807,"b":-9223372036854775808}', {"a": 2**63 - 1, "b": -(2**63)}),
    ("tiny float underflows to zero", b'{"a":1e-400}', {"a": 0.0}),
    ("largest double", b'{"a":1.7976931348623157e308}', {"a": 1.7976931348623157e308}),
]


@pytest.mark.parametrize("value, expected", [(v, e) for _, v, e in ACCEPTED], ids=[n for n, _, _ in ACCEPTED])
def test_valid_json_objects_parse(value: bytes, expected: dict) -> None:
    assert parse_json_object(message(value), LIMIT) == expected


def test_nesting_at_the_limit_parses() -> None:
    inner = MAX_JSON_DEPTH - 1  # the top-level object is one level
    parsed = parse_json_object(message(b'{"a":' + b"[" * inner + b"]" * inner + b"}"), LIMIT)
    depth, node = 0, parsed["a"]
    while isinstance(node, list):
        depth, node = depth + 1, (node[0] if node else None)
    assert depth == inner


def test_no_float_that_comes_out_is_nan_or_infinite() -> None:
    parsed = parse_json_object(message(b'{"a":[1.5,-0.0,1e308,2e-308]}'), LIMIT)
    assert all(math.isfinite(x) for x in parsed["a"])


# ---- the parse step of the loop: unforeseen exceptions become dead letters ----------------


@dataclass
class _Exploding:
    """A processor whose parse fails in ways nobody planned for."""

    name: str = "unit-consumer"
    topics: tuple[str, ...] = ("t",)
    dead_letter_topic: str = "t.dlq"

    def parse(self, message: Message) -> dict:
        if message.value == b"recursion":
            raise RecursionError("maximum recursion depth exceeded")
        if message.value == b"key":
            raise KeyError("asset_id")
        if message.value == b"invalid":
            raise InvalidEvent("schema", "asset_id: is required")
        return {"ok": message.value}

    def write(self, batch):  # pragma: no cover - never called here
        raise AssertionError


def test_parse_step_dead_letters_every_exception_and_keeps_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    step = ParseStep("unit-consumer", _Exploding().parse)
    values = [b"good-1", b"recursion", b"key", b"invalid", b"good-2"]
    messages = [Message("t", 0, i, None, v, 0) for i, v in enumerate(values)]
    with caplog.at_level(logging.WARNING, logger="services.common.consumer"):
        batch = step(messages)
    assert [p.event for p in batch.parsed] == [{"ok": b"good-1"}, {"ok": b"good-2"}]
    dead = [(m.offset, exc.reason, exc.detail.split(":")[0]) for m, exc in batch.dead]
    assert dead == [(1, INTERNAL_PARSE_ERROR, "RecursionError"), (2, INTERNAL_PARSE_ERROR, "KeyError"),
                    (3, "schema", "asset_id")]
    logged = [r for r in caplog.records if r.exc_info]
    assert [r.exc_info[0] for r in logged] == [RecursionError, KeyError]  # the traceback is kept for the fix


# ---- the validators behind the parse step ---------------------------------------------------


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00"])
def test_timestamps_leaving_the_datetime_range_in_utc_are_schema_errors(value: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        events.parse_time(value, "occurred_at")
    assert caught.value.reason == "schema" and caught.value.detail.startswith("occurred_at: ")


@pytest.mark.parametrize("value", [None, 7, ["2026-01-01T00:00:00Z"]])
def test_timestamps_of_the_wrong_type_are_schema_errors(value: object) -> None:
    with pytest.raises(InvalidEvent) as caught:
        events.parse_time(value, "computed_at")  # type: ignore[arg-type]
    assert caught.value.reason == "schema"


def _usage_event(**changes: object) -> dict:
    event = {"event_id": "e-1", "schema_version": 1, "occurred_at": "2026-01-01T00:00:00Z", "type": "page_view",
             "asset_id": "a-1", "rep_id": "r-1", "page": 1, "seconds": 3.0}
    event.update(changes)
    return event


@pytest.mark.parametrize("seconds", [math.nan, math.inf, -math.inf])
def test_usage_validation_refuses_non_finite_seconds(seconds: float) -> None:
    with pytest.raises(usage_model.EventError) as caught:
        usage_model.validate(_usage_event(seconds=seconds))
    assert (caught.value.reason, caught.value.field) == ("schema", "seconds")


def _deal(**changes: object) -> dict:
    deal = {"event_id": "d-1", "schema_version": 1, "occurred_at": "2026-01-02T00:00:00Z", "opportunity_id": "o-1",
            "account_id": "acc-1", "owner_rep_id": "r-1", "stage": "open", "amount": 10.0, "currency": "EUR",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z"}
    deal.update(changes)
    return deal


def test_deal_amount_must_be_finite() -> None:
    with pytest.raises(InvalidEvent) as caught:
        feedback_model.validate_deal(_deal(amount=math.nan))
    assert feedback_model.field_of(caught.value)[0] == "amount"


def test_deal_updated_before_1970_is_refused_because_it_is_the_version() -> None:
    with pytest.raises(InvalidEvent) as caught:
        feedback_model.validate_deal(_deal(created_at="0001-01-01T00:00:00Z", updated_at="0001-01-02T00:00:00Z",
                                           occurred_at="0001-01-02T00:00:00Z"))
    assert feedback_model.field_of(caught.value)[0] == "updated_at"
    assert feedback_model.validate_deal(_deal(), now=datetime(2026, 2, 1, tzinfo=timezone.utc))["version"] > 0
