"""Batches replayed after a crash between a stage's raw writes and its next step still join.

The router stores an event and dies before forwarding it; the join stage stores a deal and
dies before writing its touches (both simulated by writing the raw inputs directly). The
redelivered batches answer 409 on every raw write (duplicate / stale) but must still
forward the event and recompute the opportunity.
"""

from __future__ import annotations

import dataclasses

import pytest

from services.common import errors, topics
from services.common.consumer import Message, Parsed
from services.feedback import model
from services.feedback.join_stage import DealRecord, JoinProcessor
from services.feedback.routing import RouterProcessor, UsageItem

pytestmark = pytest.mark.integration

MESSAGE = Message("t", 0, 0, None, None, 0)


def _deal() -> dict:
    return model.validate_deal({
        "event_id": "rp-1", "schema_version": 1, "occurred_at": "2026-02-01T00:00:00Z", "opportunity_id": "replay-opp",
        "account_id": "replay-acct", "owner_rep_id": "r", "stage": "won", "amount": 5, "currency": "USD",
        "created_at": "2026-01-01T00:00:00Z", "closed_at": "2026-02-01T00:00:00Z", "updated_at": "2026-02-01T00:00:00Z"})


def _event(event_id: str, **extra: object) -> dict:
    return model.validate_classified({"event_id": event_id, "schema_version": 1, "occurred_at": "2026-01-10T00:00:00Z",
                                      "type": "download", "asset_id": "replay-asset", "rep_id": "r",
                                      "account_id": "replay-acct", "is_bot": False, **extra})


def test_replayed_batches_recompute(feedback_settings):
    topics.ensure_all(feedback_settings)
    router = RouterProcessor(feedback_settings)
    router.ensure()
    stage = JoinProcessor(feedback_settings, router.es)
    deal, usage = _deal(), _event("replay-ev")
    stage.joiner.write_deals([deal])  # ... the join stage dies here
    router.joiner.write_usage([usage])  # ... and the router dies here
    routed = router.write([Parsed(MESSAGE, UsageItem(usage, 0.0))])
    assert (routed.written, routed.duplicates) == (0, 1)
    result = stage.write([Parsed(MESSAGE, DealRecord(deal))])
    assert (result.written, result.stale) == (0, 1)
    router.es.indices.refresh(index=router.names.touches)
    touch = router.es.get(index=router.names.touches, id="replay-asset|replay-opp")["_source"]
    assert touch["stage"] == "won" and touch["counts"] == {"download": 1}


def test_elasticsearch_down_is_unavailable_not_a_crash(feedback_settings):
    """The shared loop pauses and retries on errors.Unavailable; anything else would kill the consumer."""
    down = dataclasses.replace(feedback_settings, es_url="http://127.0.0.1:9", es_request_timeout_s=1.0)
    router = RouterProcessor(down)
    with pytest.raises(errors.Unavailable):
        router.write([Parsed(MESSAGE, UsageItem(_event("down-ev", opportunity_id="o"), 0.0))])
    stage = JoinProcessor(down)
    with pytest.raises(errors.Unavailable):
        stage.write([Parsed(MESSAGE, DealRecord(_deal()))])
