"""The join stage writes a touch or credit document only when its content changed.

Driven through the join stage's write step against the real Elasticsearch (as test_replay.py):
every document's `_version` counts the writes it received. A resent deal snapshot (stale, it
reloads the opportunity), a new owner of the opportunity (nothing in memory: it reads what is
stored) and an event outside the window change no document, so none is rewritten; events that
change one asset's touch rewrite that touch once per batch and the won deal's credits once.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from services.common.consumer import Message, Parsed
from services.feedback import model
from services.feedback.join_stage import DealRecord, EventRecord, JoinProcessor
from services.feedback.routing import RouterProcessor

pytestmark = pytest.mark.integration

MESSAGE = Message("t", 0, 0, None, None, 0)
OPP, ACCOUNT = "writes-opp", "writes-acct"
CREATED = datetime(2026, 1, 1, tzinfo=timezone.utc)  # closed a month later


def _deal() -> dict:
    return model.validate_deal({
        "event_id": "w-1", "schema_version": 1, "occurred_at": "2026-02-01T00:00:00Z", "opportunity_id": OPP,
        "account_id": ACCOUNT, "owner_rep_id": "r", "stage": "won", "amount": 1000, "currency": "USD",
        "created_at": "2026-01-01T00:00:00Z", "closed_at": "2026-02-01T00:00:00Z", "updated_at": "2026-02-01T00:00:00Z"})


def _event(event_id: str, asset: str, day: int) -> dict:
    return model.validate_classified({"event_id": event_id, "schema_version": 1, "type": "view", "asset_id": asset,
                                      "occurred_at": model.iso(CREATED + timedelta(days=day)),
                                      "rep_id": "r", "opportunity_id": OPP, "is_bot": False})


def _versions(router: RouterProcessor) -> dict[str, int]:
    """{index kind and id: _version} of the opportunity's touches and credits."""
    es, names = router.es, router.names
    es.indices.refresh(index=f"{names.touches},{names.credits}")
    out = {}
    for kind, index in (("touch", names.touches), ("credit", names.credits)):
        hits = es.search(index=index, query={"term": {"opportunity_id": OPP}}, version=True, size=100)["hits"]["hits"]
        out.update({f"{kind} {h['_id']}": h["_version"] for h in hits})
    return out


def _write(stage: JoinProcessor, *records: Any) -> None:
    stage.write([Parsed(MESSAGE, r) for r in records])


def test_documents_are_written_only_when_they_change(feedback_settings):
    router = RouterProcessor(feedback_settings)
    router.ensure()
    stage = JoinProcessor(feedback_settings, router.es)
    first = [_event("w-e1", "asset-a", 5), _event("w-e2", "asset-b", 10)]
    router.joiner.write_usage(first)  # stored by the router before it forwards
    router.es.indices.refresh(index=router.names.usage)
    _write(stage, DealRecord(_deal()), *(EventRecord(e, OPP) for e in first))
    written = _versions(router)
    assert sorted(written) == ["credit asset-a|writes-opp", "credit asset-b|writes-opp",
                               "touch asset-a|writes-opp", "touch asset-b|writes-opp"]

    _write(stage, DealRecord(_deal()))  # the same snapshot again: stale, reloads, nothing changed
    assert _versions(router) == written
    _write(JoinProcessor(feedback_settings, router.es), DealRecord(_deal()))  # a new owner, state from the stores
    assert _versions(router) == written
    late = _event("w-e3", "asset-a", 60)  # after close + grace: no touchpoint
    router.joiner.write_usage([late])
    _write(stage, EventRecord(late, OPP))
    assert _versions(router) == written

    more = [_event("w-e4", "asset-a", 12), _event("w-e5", "asset-a", 14)]
    router.joiner.write_usage(more)
    _write(stage, *(EventRecord(e, OPP) for e in more))  # two touchpoints of asset-a in one batch
    after = _versions(router)
    assert after["touch asset-a|writes-opp"] == written["touch asset-a|writes-opp"] + 1
    assert after["touch asset-b|writes-opp"] == written["touch asset-b|writes-opp"]
    # Linear, time decay, U- and W-shaped credits of both assets change with a third touchpoint.
    assert after["credit asset-a|writes-opp"] == written["credit asset-a|writes-opp"] + 1
    assert after["credit asset-b|writes-opp"] == written["credit asset-b|writes-opp"] + 1
    touch = router.es.get(index=router.names.touches, id="asset-a|writes-opp")["_source"]
    assert touch["touch_count"] == 3
