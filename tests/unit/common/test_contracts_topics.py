"""Each topic's typed parser accepts exactly what its JSON Schema accepts, plus the documented time rules.

The schema decides the structure (jsonschema is the reference here, never on the hot path);
on top of it a parser refuses only what the contract documents: date-time fields that are
not RFC 3339 with a zone (`format` is an annotation in JSON Schema), times too far in the
future, and a deal closed before it was created.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from services.common.contracts import catalog, classified, deal, schema, search, signal, times, usage_event
from services.common.contracts.errors import InvalidEvent
from services.feedback.model import normalize_topic
from tests.unit.common.test_contracts_schema import mutated, reference, resolve

NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)

PARSERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    usage_event.SCHEMA: lambda d: usage_event.parse(d, NOW),
    classified.SCHEMA: lambda d: classified.parse(d, NOW),
    deal.SCHEMA: lambda d: deal.parse(d, normalize_topic, NOW),
    catalog.SCHEMA: catalog.parse,
    search.SCHEMA: lambda d: search.parse(d, NOW),
    signal.SCHEMA: lambda d: signal.parse(d, NOW),
}


def time_fields(name: str) -> list[str]:
    root = schema.load(name)
    return [k for k, v in root["properties"].items() if resolve(root, v).get("format") == "date-time"]


def rfc3339(value: Any) -> bool:
    try:
        times.parse(value, "t")
        return True
    except InvalidEvent:
        return False


# Numbers the contracts refuse when not finite: JSON cannot carry NaN or Infinity (the JSON step
# refuses them), but a protobuf double from an RPC can, and NaN passes every minimum/maximum.
FINITE_FIELDS = {deal.SCHEMA: ("amount",), usage_event.SCHEMA: ("seconds",)}


def expected_valid(name: str, document: dict[str, Any]) -> bool:
    """The contract's documented decision, from jsonschema plus the rules a schema cannot state."""
    if not reference(name).is_valid(document):
        return False
    for field in FINITE_FIELDS.get(name, ()):
        value = document.get(field)
        if type(value) is float and not math.isfinite(value):
            return False
    if name == usage_event.SCHEMA and document.get("type") not in usage_event.TYPES:
        return False
    for field in time_fields(name):
        if name == deal.SCHEMA and field == "closed_at" and document["stage"] == "open":
            continue  # documented as ignored for open deals
        value = document.get(field)
        if value is not None and not rfc3339(value):
            return False
    if name == deal.SCHEMA and document["stage"] != "open":
        return times.parse(document["closed_at"], "c") >= times.parse(document["created_at"], "c")
    return True


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_typed_parser_accepts_exactly_what_the_contract_accepts(name: str, data: st.DataObject) -> None:
    document = data.draw(mutated(name))
    try:
        PARSERS[name](document)
        accepted, error = True, None
    except InvalidEvent as exc:
        accepted, error = False, exc
    assert accepted == expected_valid(name, document), (document, error)
    if error is not None:
        assert error.reason in ("schema", "unknown_type") and error.field, error


def test_every_published_schema_has_a_typed_parser() -> None:
    assert sorted(PARSERS) == sorted(p.name for p in schema.SCHEMA_DIR.glob("*.json"))


def test_times_come_out_canonical_and_the_search_bounded() -> None:
    found = search.parse({"event_id": "s1", "schema_version": 1, "occurred_at": "2026-11-23T13:00:00+01:00",
                          "received_at": "2026-11-23T12:00:00Z", "search_id": "q", "rep_id": "r", "role": "rep",
                          "query": " roi ", "filters": {"industries": ["x"] * 30}, "sort": "newest", "result_count": 0,
                          "shown_asset_ids": ["a", "", "b"]}, NOW)
    assert (found.occurred_at, found.shown_asset_ids, len(found.filters["industries"]), found.is_gap) == (
        "2026-11-23T12:00:00.000Z", ["a", "b"], search.MAX_FILTER_VALUES, True)


def test_future_events_have_their_own_reason() -> None:
    with pytest.raises(InvalidEvent) as caught:
        usage_event.parse({"event_id": "e", "schema_version": 1, "occurred_at": "2027-01-01T00:00:00Z", "type": "view",
                           "asset_id": "a", "rep_id": "r"}, NOW)
    assert (caught.value.reason, caught.value.field) == ("future_event_time", "occurred_at")



VALID = {
    deal.SCHEMA: {"event_id": "d1", "schema_version": 1, "occurred_at": "2026-11-23T12:00:00Z",
                  "opportunity_id": "opp-1", "account_id": "acc-1", "owner_rep_id": "rep-1", "stage": "won",
                  "amount": 1200.0, "currency": "EUR", "created_at": "2026-11-01T12:00:00Z",
                  "closed_at": "2026-11-20T12:00:00Z", "updated_at": "2026-11-20T12:00:00Z"},
    usage_event.SCHEMA: {"event_id": "e1", "schema_version": 1, "occurred_at": "2026-11-23T12:00:00Z",
                         "type": "view", "asset_id": "asset-1", "rep_id": "rep-1", "seconds": 12.5},
}


@pytest.mark.parametrize("name, field", [(name, field) for name, fields in FINITE_FIELDS.items() for field in fields])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_refused_where_the_schema_lets_them_by(name: str, field: str, value: float) -> None:
    PARSERS[name](dict(VALID[name]))  # the document is valid as it is
    with pytest.raises(InvalidEvent) as refused:
        PARSERS[name]({**VALID[name], field: value})
    assert refused.value.field == field
