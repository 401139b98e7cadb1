"""A batch replayed after a crash between the raw writes and the touch recomputation still joins.

The first "delivery" stores the raw inputs and dies before recomputing (simulated by
writing them with the joiner directly); the redelivered batch answers 409 on every raw
write (duplicate / stale) but must still recompute the opportunities it names.
"""

from __future__ import annotations

import pytest

from services.common.consumer import Message, Parsed
from services.feedback import model
from services.feedback.consumer import DealItem, FeedbackProcessor, UsageItem

pytestmark = pytest.mark.integration


def test_replayed_batch_recomputes(feedback_settings, feedback_consumer):
    processor = FeedbackProcessor(feedback_settings)
    processor.ensure()
    deal = model.validate_deal({
        "event_id": "rp-1", "schema_version": 1, "occurred_at": "2026-02-01T00:00:00Z", "opportunity_id": "replay-opp",
        "account_id": "replay-acct", "owner_rep_id": "r", "stage": "won", "amount": 5, "currency": "USD",
        "created_at": "2026-01-01T00:00:00Z", "closed_at": "2026-02-01T00:00:00Z", "updated_at": "2026-02-01T00:00:00Z"})
    usage = model.validate_usage({"event_id": "replay-ev", "schema_version": 1, "occurred_at": "2026-01-10T00:00:00Z",
                                  "type": "download", "asset_id": "replay-asset", "rep_id": "r", "account_id": "replay-acct"})
    processor.joiner.write_deals([deal])
    processor.joiner.write_usage([usage])  # ... and the process dies here
    msg = Message("t", 0, 0, None, None, 0)
    result = processor.write([Parsed(msg, DealItem(deal)), Parsed(msg, UsageItem(usage, 0.0))])
    assert (result.written, result.duplicates, result.stale) == (0, 1, 1)
    processor.es.indices.refresh(index=processor.names.touches)
    touch = processor.es.get(index=processor.names.touches, id="replay-asset|replay-opp")["_source"]
    assert touch["stage"] == "won" and touch["counts"] == {"download": 1}


def test_elasticsearch_down_is_unavailable_not_a_crash(feedback_settings):
    """The shared loop pauses and retries on errors.Unavailable; anything else would kill the consumer."""
    import dataclasses

    from services.common import errors

    down = dataclasses.replace(feedback_settings, es_url="http://127.0.0.1:9", es_request_timeout_s=1.0)
    processor = FeedbackProcessor(down)
    usage = model.validate_usage({"event_id": "down-ev", "schema_version": 1, "occurred_at": "2026-01-10T00:00:00Z",
                                  "type": "view", "asset_id": "a", "rep_id": "r", "opportunity_id": "o"})
    with pytest.raises(errors.Unavailable):
        processor.write([Parsed(Message("t", 0, 0, None, None, 0), UsageItem(usage, 0.0))])
