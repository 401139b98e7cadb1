"""The usage event contract: the same validation for gRPC ingest and for JSON on the topic."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given, settings, strategies as st

from services.common.contracts import jsonbytes
from services.usage import model, reports
from services.usage.consumer import classified_base, classified_event, verdict_fields

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def event(**overrides):
    base = {"event_id": "e-1", "schema_version": 1, "occurred_at": "2026-11-23T11:00:00Z", "type": "download",
            "asset_id": "a-1", "rep_id": "rep-1"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_valid_event_is_normalised():
    out = model.validate(event(occurred_at="2026-11-23T12:00:00+01:00", is_bot=True), NOW)
    assert out["occurred_at"] == "2026-11-23T11:00:00.000Z"
    assert "is_bot" not in out  # computed by the consumer, never trusted from producers


@pytest.mark.parametrize("field", ["event_id", "asset_id", "rep_id", "occurred_at", "type", "schema_version"])
def test_missing_required_field_is_named(field):
    with pytest.raises(model.EventError) as err:
        model.validate(event(**{field: None}), NOW)
    assert err.value.field == field


def test_unknown_type_has_its_own_reason():
    with pytest.raises(model.EventError) as err:
        model.validate(event(type="teleport"), NOW)
    assert err.value.reason == "unknown_type" and err.value.field == "type"


def test_wrong_types_and_sizes_are_named():
    with pytest.raises(model.EventError) as err:
        model.validate(event(asset_id=""), NOW)
    assert err.value.field == "asset_id"
    with pytest.raises(model.EventError) as err:
        model.validate(event(page="3", type="page_view", seconds=2), NOW)
    assert err.value.field == "page"
    with pytest.raises(model.EventError) as err:
        model.validate(event(rep_id="x" * 200), NOW)
    assert err.value.field == "rep_id"
    with pytest.raises(model.EventError) as err:
        model.validate(event(surprise=1), NOW)
    assert err.value.field == "surprise"


def test_page_view_needs_page_and_seconds():
    with pytest.raises(model.EventError) as err:
        model.validate(event(type="page_view", seconds=3.0), NOW)
    assert err.value.field == "page"
    assert model.validate(event(type="page_view", page=2, seconds=3.5), NOW)["page"] == 2


def test_times():
    with pytest.raises(model.EventError) as err:
        model.validate(event(occurred_at="2026-11-23 11:00"), NOW)
    assert err.value.field == "occurred_at"
    with pytest.raises(model.EventError) as err:
        model.validate(event(occurred_at="2026-11-23T11:00:00"), NOW)  # no zone
    assert err.value.field == "occurred_at"
    future = (NOW + timedelta(minutes=11)).isoformat()
    with pytest.raises(model.EventError) as err:
        model.validate(event(occurred_at=future), NOW)
    assert err.value.reason == "future_event_time"
    assert model.validate(event(occurred_at=(NOW + timedelta(minutes=9)).isoformat()), NOW)


def test_not_an_object():
    with pytest.raises(model.EventError):
        model.validate([1, 2], NOW)


def test_rollup_and_index_keys_are_pure_functions_of_the_event():
    assert model.day_of("2026-11-23T23:59:59.999Z") == "2026-11-23"
    assert model.rollup_id("a-1", "2026-11-23") == "a-1|2026-11-23"
    assert model.month_suffix("2026-01-31T23:59:59.999Z") == "2026.01"


def test_stored_document_hashes_ip_and_drops_headers():
    e = model.validate(event(type="customer_open", ip="10.1.2.3", headers={"purpose": "prefetch"},
                             user_agent="curl/8"), NOW)
    doc = model.stored_document(e, received_at="2026-11-23T12:00:00.000Z", is_bot=True, bot_reason="http_client",
                                known_asset=False, ip_secret="s" * 32)
    assert "ip" not in doc and "headers" not in doc
    assert doc["ip_hash"] == model.hash_ip("s" * 32, "10.1.2.3") and "10.1.2.3" not in doc["ip_hash"]
    assert doc["is_bot"] is True and doc["known_asset"] is False and doc["bot_reason"] == "http_client"


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)


@settings(max_examples=500)
@given(st.fixed_dictionaries({"type": st.sampled_from(model.TYPES), "asset_id": _TEXT, "rep_id": _TEXT},
                             optional={"account_id": _TEXT, "share_id": _TEXT, "ip": _TEXT, "user_agent": _TEXT,
                                       "page": st.integers(1, 500), "seconds": st.floats(0, 3600)}),
       st.booleans(), st.sampled_from(["", "http_client", "fast_open", 'a "quoted" \\ reason \u00e9']), st.booleans())
def test_the_verdict_spliced_into_the_encoded_document_is_the_stored_document(
        fields: dict, is_bot: bool, bot_reason: str, known_asset: bool) -> None:
    """The write appends the verdict to JSON encoded while parsing; it must decode to what
    stored_document builds, whatever the fields and the reason's characters."""
    e = event(**fields, occurred_at="2026-11-23T11:00:00.000Z")
    unclassified = model.unclassified_document(e, received_at="2026-11-23T12:00:00.000Z", ip_secret="s" * 32)
    encoded = orjson.dumps(unclassified)
    doc = model.with_verdict(unclassified, is_bot=is_bot, bot_reason=bot_reason, known_asset=known_asset)
    assert orjson.loads(model.encode_with_verdict(encoded, doc)) == model.stored_document(
        e, received_at="2026-11-23T12:00:00.000Z", is_bot=is_bot, bot_reason=bot_reason, known_asset=known_asset,
        ip_secret="s" * 32)


def test_a_verdict_set_again_replaces_the_earlier_one():
    doc = model.with_verdict({"event_id": "e-1"}, is_bot=True, bot_reason="fast_open", known_asset=False)
    assert model.with_verdict(doc, is_bot=False, bot_reason="", known_asset=True) == \
        {"event_id": "e-1", "is_bot": False, "known_asset": True}


def test_window_start_counts_today():
    assert model.window_start(30, NOW) == datetime(2026, 10, 25, tzinfo=timezone.utc)


@pytest.mark.parametrize("kwargs,expected", [
    ({"customer_uses": 1, "expired": True}, None),
    ({"expired": True, "shares": 3}, "EXPIRED"),
    ({"shares": 1, "rep_uses": 5, "impressions": 9}, "SHARED_NOT_OPENED_BY_CUSTOMER"),
    ({"rep_uses": 2, "impressions": 9}, "DOWNLOADED_NOT_SHARED"),
    ({"impressions": 4}, "SHOWN_NOT_OPENED"),
    ({}, "NEVER_USED"),
    ({"ever_used": True}, "NEVER_SHOWN_IN_SEARCH"),
])
def test_unused_reason_funnel(kwargs, expected):
    args = {"expired": False, "customer_uses": 0, "shares": 0, "rep_uses": 0, "impressions": 0, "ever_used": False}
    args.update(kwargs)
    assert reports.unused_reason(**args) == expected


def test_the_compiled_contract_check_decides_like_the_schema():
    """The hot path checks events without jsonschema; it must accept and refuse exactly what the schema does."""
    import random

    import jsonschema

    from services.common.contracts import schema

    rng = random.Random(7)
    validator = jsonschema.Draft202012Validator(schema.load(model.SCHEMA))
    values = [None, "", "x", "a b", "x" * 129, "x" * 2000, 0, 1, 1.0, -1, 2, 100001, 86401, 3.5, True, False, [], {},
              {"k": "v"}, {"k": 1}, {str(i): "v" for i in range(21)}, "2026-11-23T11:00:00Z"]
    fields = ["event_id", "schema_version", "occurred_at", "type", "asset_id", "rep_id", "page", "seconds",
              "headers", "is_bot", "channel", "user_agent", "team", "ip", "received_at", "unknown"]
    checked = accepted = 0
    for _ in range(20000):
        e = event(type=rng.choice(list(model.TYPES)))
        if e["type"] == "page_view":
            e.update(page=1, seconds=1.0)
        for field in rng.sample(fields, rng.randint(1, 3)):
            choice = rng.choice(values)
            if choice is None:
                e.pop(field, None)
            else:
                e[field] = choice
        checked += 1
        valid = validator.is_valid(e)
        assert (schema.violation(model.SCHEMA, e) is None) == valid, e
        accepted += valid
    assert accepted > 1000 and checked - accepted > 1000


@pytest.mark.parametrize("verdict", [{"is_bot": False}, {"is_bot": True, "bot_reason": "fast_open"},
                                     {"is_bot": True, "bot_reason": ""}])
def test_a_verdict_record_prepared_while_parsing_is_the_classified_event(verdict):
    stored = model.stored_document(event(account_id="acct", share_id="s-1", type="customer_open"),
                                   received_at="2026-11-23T12:00:00.000Z", is_bot=verdict["is_bot"],
                                   bot_reason=verdict.get("bot_reason", ""), known_asset=True, ip_secret="s" * 32)
    prepared = orjson.dumps(classified_base(model.unclassified_document(
        event(account_id="acct", share_id="s-1", type="customer_open"), received_at="2026-11-23T12:00:00.000Z",
        ip_secret="s" * 32)))
    assert orjson.loads(jsonbytes.with_fields(prepared, verdict_fields(stored))) == classified_event(stored)
