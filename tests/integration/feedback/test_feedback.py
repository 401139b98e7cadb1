"""Rep feedback (ratings, content requests), content gaps, scorecards and win-rate signals."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from kafka import KafkaConsumer

from collateral.v1 import common_pb2, feedback_pb2
from services.common import events, grpc_server, topics
from services.feedback import signals
from tests.integration.feedback.conftest import produce

pytestmark = pytest.mark.integration


def iso(d: datetime) -> str:
    return d.isoformat(timespec="seconds").replace("+00:00", "Z")


NOW = datetime.now(timezone.utc)


def test_rating_replaces_and_lists(feedback, call_as):
    asset = f"asset-{uuid.uuid4().hex[:6]}"
    feedback.SubmitRating(feedback_pb2.SubmitRatingRequest(asset_id=asset, rating=2, comment="too long"),
                          metadata=call_as("rep", "alice"))
    stored = feedback.SubmitRating(feedback_pb2.SubmitRatingRequest(asset_id=asset, rating=5, comment="won us the deal",
                                                                    opportunity_id="opp-1"),
                                   metadata=call_as("rep", "alice"))
    assert stored.rating.rep_id == "alice" and stored.rating.rating == 5
    feedback.SubmitRating(feedback_pb2.SubmitRatingRequest(asset_id=asset, rating=3), metadata=call_as("rep", "bob"))
    listed = feedback.ListFeedback(feedback_pb2.ListFeedbackRequest(asset_id=asset), metadata=call_as("marketer"))
    assert sorted((r.rep_id, r.rating) for r in listed.ratings) == [("alice", 5), ("bob", 3)]
    assert listed.summary.count == 2 and listed.summary.average == pytest.approx(4.0)
    assert list(listed.summary.distribution) == [0, 0, 1, 0, 1]
    commented = feedback.ListFeedback(feedback_pb2.ListFeedbackRequest(asset_id=asset, with_comment_only=True),
                                      metadata=call_as("admin"))
    assert [r.comment for r in commented.ratings] == ["won us the deal"]
    page = feedback.ListFeedback(feedback_pb2.ListFeedbackRequest(asset_id=asset, page_size=1), metadata=call_as("marketer"))
    rest = feedback.ListFeedback(feedback_pb2.ListFeedbackRequest(asset_id=asset, page_size=1, page_token=page.next_page_token),
                                 metadata=call_as("marketer"))
    assert len(page.ratings) == len(rest.ratings) == 1 and page.ratings[0].rep_id != rest.ratings[0].rep_id
    assert not rest.next_page_token


@pytest.mark.parametrize(
    "request_kwargs,field",
    [
        ({"asset_id": "", "rating": 3}, "asset_id"),
        ({"asset_id": "a", "rating": 0}, "rating"),
        ({"asset_id": "a", "rating": 6}, "rating"),
        ({"asset_id": "a", "rating": 4, "comment": "x" * 2001}, "comment"),
    ],
)
def test_bad_ratings(feedback, call_as, request_kwargs, field):
    with pytest.raises(grpc.RpcError) as err:
        feedback.SubmitRating(feedback_pb2.SubmitRatingRequest(**request_kwargs), metadata=call_as("rep"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in grpc_server.field_violations(err.value)] == [field]


def test_content_requests(feedback, call_as):
    made = feedback.SubmitContentRequest(feedback_pb2.SubmitContentRequestRequest(
        description="ROI calculator for Healthcare CFOs", buying_stage=common_pb2.BUYING_STAGE_DECISION, persona="CFO",
        request_id="req-fixed-1"), metadata=call_as("rep", "carol"))
    again = feedback.SubmitContentRequest(feedback_pb2.SubmitContentRequestRequest(
        description="ROI calculator for Healthcare CFOs", request_id="req-fixed-1"), metadata=call_as("rep", "carol"))
    assert made.request == again.request  # a retry returns the stored request
    assert made.request.topic == "calculator cfos healthcare roi"
    mine = feedback.ListContentRequests(feedback_pb2.ListContentRequestsRequest(), metadata=call_as("rep", "carol"))
    assert [r.request_id for r in mine.requests] == ["req-fixed-1"]
    assert feedback.ListContentRequests(feedback_pb2.ListContentRequestsRequest(), metadata=call_as("rep", "dave")).requests == []
    with pytest.raises(grpc.RpcError) as err:
        feedback.SubmitContentRequest(feedback_pb2.SubmitContentRequestRequest(description=" "), metadata=call_as("rep"))
    assert [f for f, _ in grpc_server.field_violations(err.value)] == ["description"]


def test_content_gaps_combine_searches_requests_and_lost_reasons(feedback, call_as, feedback_settings, feedback_consumer):
    def search(rep, query, count):
        return {"event_id": f"s-{uuid.uuid4().hex}", "schema_version": 1, "occurred_at": iso(NOW), "received_at": iso(NOW),
                "search_id": uuid.uuid4().hex, "rep_id": rep, "role": "rep", "query": query, "filters": {},
                "sort": "relevance", "result_count": count, "shown_asset_ids": []}

    produce(feedback_settings, topics.SEARCHES, [
        ("r1", search("r1", "SOC 2 report", 0)), ("r2", search("r2", "soc 2 report?", 0)), ("r2", search("r2", "SOC2", 0)),
        ("r1", search("r1", "soc 2 report", 0)), ("r3", search("r3", "pricing deck", 4)),
        ("r4", search("r4", "kubernetes battle card", 0)),
    ])
    feedback.SubmitContentRequest(feedback_pb2.SubmitContentRequestRequest(description="Kubernetes battle card"),
                                  metadata=call_as("rep", "r5"))
    lost = {"event_id": f"gap-{uuid.uuid4().hex[:6]}", "schema_version": 1, "occurred_at": iso(NOW - timedelta(hours=1)),
            "opportunity_id": f"gap-opp-{uuid.uuid4().hex[:6]}", "account_id": "gap-acct", "owner_rep_id": "r1",
            "stage": "lost", "amount": 5000, "currency": "USD", "created_at": iso(NOW - timedelta(days=20)),
            "closed_at": iso(NOW - timedelta(hours=2)), "updated_at": iso(NOW - timedelta(hours=1)),
            "lost_reason": "No SOC 2 report"}
    produce(feedback_settings, topics.DEALS, [(lost["opportunity_id"], lost)])
    feedback_consumer.wait_idle()
    gaps = feedback.GetContentGaps(feedback_pb2.GetContentGapsRequest(limit=10), metadata=call_as("marketer"))
    by_topic = {g.topic: g for g in gaps.gaps}
    soc = by_topic["report soc"]  # digits and "no" are dropped
    assert (soc.zero_result_searches, soc.searching_reps, soc.lost_deals, soc.lost_revenue) == (3, 2, 1, 5000.0)
    assert soc.score == pytest.approx(2 * 1.0 + 1 * 0.25 + 1 * 2.0)
    k8s = by_topic["battle card kubernetes"]
    assert (k8s.zero_result_searches, k8s.requests) == (1, 1) and k8s.score == pytest.approx(4.0)
    assert "deck pricing" not in by_topic  # found something: not a gap
    scores = [g.score for g in gaps.gaps]
    assert scores == sorted(scores, reverse=True)


def test_scorecard_and_signals(feedback, call_as, feedback_settings, feedback_consumer):
    asset = f"sc-{uuid.uuid4().hex[:6]}"
    catalog = {"event_id": f"c-{asset}", "schema_version": 1, "occurred_at": iso(NOW), "received_at": iso(NOW),
               "event_type": "published", "asset_id": asset, "title": "Healthcare ROI deck", "type": "deck",
               "status": "published", "owner": "m1", "buying_stages": ["decision"], "industries": [], "regions": [],
               "products": [], "personas": [], "tags": [], "language": "en", "created_at": iso(NOW - timedelta(days=90)),
               "updated_at": iso(NOW - timedelta(days=180)), "version": 3}
    produce(feedback_settings, topics.CATALOG, [(asset, catalog)])
    deals, uses = [], []
    for i in range(12):
        opp = f"{asset}-opp-{i}"
        deals.append((opp, {"event_id": f"{opp}-1", "schema_version": 1, "occurred_at": iso(NOW - timedelta(days=1)),
                            "opportunity_id": opp, "account_id": f"{asset}-acct-{i}", "owner_rep_id": "r1",
                            "stage": "won" if i < 9 else "lost", "amount": 100, "currency": "USD",
                            "created_at": iso(NOW - timedelta(days=30)), "closed_at": iso(NOW - timedelta(days=2)),
                            "updated_at": iso(NOW - timedelta(days=1))}))
        uses.append((asset, {"event_id": f"{opp}-u", "schema_version": 1, "occurred_at": iso(NOW - timedelta(days=10)),
                             "type": "share", "asset_id": asset, "rep_id": f"r{i % 3}", "opportunity_id": opp}))
    produce(feedback_settings, topics.DEALS, deals)
    produce(feedback_settings, topics.USAGE, uses)
    feedback.SubmitRating(feedback_pb2.SubmitRatingRequest(asset_id=asset, rating=5), metadata=call_as("rep", "r1"))
    feedback_consumer.wait_idle()
    card = feedback.GetAssetScorecards(feedback_pb2.GetAssetScorecardsRequest(asset_ids=[asset]),
                                       metadata=call_as("marketer")).scorecards[0]
    assert card.title == "Healthcare ROI deck" and card.status == "published"
    assert (card.uses_90d, card.reps_90d, card.ratings) == (12, 3, 1)
    assert card.win_rate.won == 9 and card.win_rate.closed == 12
    assert card.age_days == pytest.approx(180, abs=0.1)
    assert card.freshness_score == pytest.approx(0.5, abs=0.01)
    assert card.rating_score == pytest.approx(((5 + 15) / 6 - 1) / 4)
    assert 0 < card.score <= 100

    publisher = signals.SignalPublisher(feedback_settings)
    try:
        assert publisher.publish() >= 1
    finally:
        publisher.close()
    consumer = KafkaConsumer(topics.SIGNALS.name(feedback_settings), bootstrap_servers=feedback_settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=2000)
    try:
        found = [json.loads(r.value) for r in consumer if r.key == asset.encode()]
    finally:
        consumer.close()
    assert found, "no signal for the asset"
    signal = found[-1]
    events.validate("signal-event.v1.json", signal)
    assert signal["source"] == "feedback"
    assert signal["wins"]["deals_closed"] == 12 and signal["wins"]["won"] == 9
    assert signal["wins"]["win_rate_lower"] == pytest.approx(card.win_rate.win_rate_lower, abs=1e-6)
