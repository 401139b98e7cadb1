"""Content gaps as topics: searches (Kafka), requests (gRPC) and lost deals (Kafka) grouped, drilled into,
given a status, and measured before and after an answering asset; zero- and poor-result searches apart."""

from __future__ import annotations

import random
import string
import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import common_pb2, feedback_pb2
from services.common import grpc_server, topics
from services.feedback import stemming
from tests.integration.feedback.conftest import produce

pytestmark = pytest.mark.integration

NOW = datetime.now(timezone.utc).replace(microsecond=0)
PUBLISHED = NOW - timedelta(days=21)


def unique_words() -> str:
    """Three random words that keep a test's topics its own: other tests in this namespace search for
    "pricing deck" or "case study" too, and clustering joins phrasings that share half their terms."""
    rng = random.Random(uuid.uuid4().int)
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=8)) for _ in range(3))


def iso(d: datetime) -> str:
    return d.isoformat(timespec="seconds").replace("+00:00", "Z")


def ts(d: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(d)
    return out


def window() -> common_pb2.TimeRange:
    """Ends after the call: requests are stamped when submitted, which in a long run can be well after NOW
    (NOW is taken when the module is collected)."""
    return common_pb2.TimeRange(start=ts(NOW - timedelta(days=120)),
                                end=ts(datetime.now(timezone.utc) + timedelta(minutes=5)))


def search(rep: str, query: str, when: datetime, results: int = 0) -> tuple[str, dict]:
    return rep, {"event_id": f"s-{uuid.uuid4().hex}", "schema_version": 1, "occurred_at": iso(when),
                 "received_at": iso(when), "search_id": uuid.uuid4().hex, "rep_id": rep, "role": "rep",
                 "query": query, "filters": {}, "sort": "relevance", "result_count": results, "shown_asset_ids": []}


def lost_deal(word: str) -> dict:
    opp = f"gt-opp-{uuid.uuid4().hex[:8]}"
    return {"event_id": f"e-{opp}", "schema_version": 1, "occurred_at": iso(NOW - timedelta(days=3)),
            "opportunity_id": opp, "opportunity_name": "Acme renewal", "account_id": "gt-acct", "account_name": "Acme",
            "owner_rep_id": "r1", "stage": "lost", "amount": 12000, "currency": "USD",
            "created_at": iso(NOW - timedelta(days=60)), "closed_at": iso(NOW - timedelta(days=4)),
            "updated_at": iso(NOW - timedelta(days=3)), "lost_reason": f"No pricing deck for {word}"}


def catalog_event(asset_id: str) -> dict:
    return {"event_id": f"c-{asset_id}", "schema_version": 1, "occurred_at": iso(PUBLISHED), "received_at": iso(PUBLISHED),
            "event_type": "published", "asset_id": asset_id, "title": "Retail pricing deck", "type": "deck",
            "status": "published", "owner": "m1", "buying_stages": [], "industries": [], "regions": [], "products": [],
            "personas": [], "tags": [], "language": "en", "created_at": iso(PUBLISHED - timedelta(days=5)),
            "updated_at": iso(PUBLISHED), "published_at": iso(PUBLISHED), "version": 2}


@pytest.fixture(scope="module")
def seeded(feedback, call_as, feedback_settings, feedback_consumer):
    """One pricing-deck topic in several phrasings (a word of its own keeps it apart from other tests' gaps)."""
    word = unique_words()
    produce(feedback_settings, topics.SEARCHES, [
        search("r1", f"Pricing deck {word}", PUBLISHED - timedelta(days=30)),
        search("r2", f"price decks {word}", PUBLISHED - timedelta(days=20)),
        search("r1", f"Pricing-Deck for {word}", PUBLISHED - timedelta(days=2)),
        search("r3", f"pricing deck {word}", PUBLISHED + timedelta(days=10)),
        search("r4", f"pricing deck {word}", NOW - timedelta(days=1), results=3),  # found enough: no gap
        search("r6", f"pricing deck {word}", NOW - timedelta(days=2), results=1),  # poor-result: evidence, not weekly
        search("r2", f"security whitepaper {word}", NOW - timedelta(days=5)),
    ])
    feedback.SubmitContentRequest(feedback_pb2.SubmitContentRequestRequest(
        description=f"A pricing deck for {word} retail", persona="CFO", buying_stage=common_pb2.BUYING_STAGE_DECISION),
        metadata=call_as("rep", "r5"))
    deal = lost_deal(word)
    produce(feedback_settings, topics.DEALS, [(deal["opportunity_id"], deal)])
    feedback_consumer.wait_idle()
    return word, deal


def gaps_with(feedback, call_as, word: str) -> list[feedback_pb2.ContentGap]:
    gaps = feedback.GetContentGaps(feedback_pb2.GetContentGapsRequest(time_range=window(), limit=200),
                                   metadata=call_as("marketer")).gaps
    return [g for g in gaps if word in g.name]


def pricing_topic(feedback, call_as, word: str) -> feedback_pb2.ContentGap:
    [topic] = [g for g in gaps_with(feedback, call_as, word) if "pric" in g.name]
    return topic


def test_phrasings_group_into_one_topic_with_totals(feedback, call_as, seeded):
    word, _ = seeded
    mine = gaps_with(feedback, call_as, word)
    assert len(mine) == 2  # the pricing decks, and the unrelated whitepaper
    pricing = pricing_topic(feedback, call_as, word)
    assert pricing.name == f"pricing deck {word}"  # the most frequent phrasing
    assert (pricing.zero_result_searches, pricing.searching_reps, pricing.requests, pricing.lost_deals,
            pricing.lost_revenue, pricing.poor_result_searches) == (4, 3, 1, 1, 12000.0, 1)
    assert pricing.phrasings >= 5 and pricing.status == feedback_pb2.GAP_STATUS_NEW
    assert pricing.topic_id.startswith("gt-") and not pricing.HasField("answer")
    assert sum(w.count for w in pricing.weekly) == 4  # zero-result searches only
    [other] = [g for g in mine if g.topic_id != pricing.topic_id]
    assert (other.name, other.zero_result_searches, other.requests) == (f"security whitepaper {word}", 1, 0)


def test_drill_down_shows_the_evidence(feedback, call_as, seeded):
    word, deal = seeded
    topic_id = pricing_topic(feedback, call_as, word).topic_id
    got = feedback.GetGapTopic(feedback_pb2.GetGapTopicRequest(topic_id=topic_id, time_range=window()),
                               metadata=call_as("marketer"))
    assert got.topic.topic_id == topic_id and got.topic.zero_result_searches == 4
    assert sorted((s.rep_id, s.result_count) for s in got.searches) == [
        ("r1", 0), ("r1", 0), ("r2", 0), ("r3", 0), ("r6", 1)]
    assert {s.query for s in got.searches} == {f"Pricing deck {word}", f"price decks {word}",
                                               f"Pricing-Deck for {word}", f"pricing deck {word}"}
    [request] = got.requests
    assert (request.rep_id, request.persona, request.buying_stage) == ("r5", "cfo", common_pb2.BUYING_STAGE_DECISION)
    [lost] = got.lost_deals
    assert (lost.opportunity_id, lost.opportunity_name, lost.amount, lost.lost_reason) == (
        deal["opportunity_id"], "Acme renewal", 12000.0, f"No pricing deck for {word}")
    assert f"price decks {word}" in got.phrasings


def test_status_planned_then_answered_with_before_and_after(feedback, call_as, seeded, feedback_settings,
                                                            feedback_consumer):
    word, _ = seeded
    topic_id = pricing_topic(feedback, call_as, word).topic_id
    marketer = call_as("marketer", "mia")
    planned = feedback.SetGapStatus(feedback_pb2.SetGapStatusRequest(
        topic_id=topic_id, status=feedback_pb2.GAP_STATUS_PLANNED, time_range=window()), metadata=marketer)
    assert planned.topic.status == feedback_pb2.GAP_STATUS_PLANNED
    assert pricing_topic(feedback, call_as, word).status == feedback_pb2.GAP_STATUS_PLANNED

    asset_id = f"gt-asset-{uuid.uuid4().hex[:8]}"
    with pytest.raises(grpc.RpcError) as err:  # not in the catalog (yet)
        feedback.SetGapStatus(feedback_pb2.SetGapStatusRequest(
            topic_id=topic_id, status=feedback_pb2.GAP_STATUS_ANSWERED, asset_id=asset_id, time_range=window()),
            metadata=marketer)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    produce(feedback_settings, topics.CATALOG, [(asset_id, catalog_event(asset_id))])
    feedback_consumer.wait_idle()
    answered = feedback.SetGapStatus(feedback_pb2.SetGapStatusRequest(
        topic_id=topic_id, status=feedback_pb2.GAP_STATUS_ANSWERED, asset_id=asset_id, time_range=window()),
        metadata=marketer).topic
    assert answered.status == feedback_pb2.GAP_STATUS_ANSWERED
    answer = answered.answer
    assert (answer.asset_id, answer.asset_title, answer.published_at.ToDatetime(timezone.utc)) == (
        asset_id, "Retail pricing deck", PUBLISHED)
    assert (answer.searches_before, answer.searches_after) == (3, 1)  # the poor-result search after is not counted
    assert answer.before_per_week == pytest.approx(3 / 8)
    assert answer.after_per_week == pytest.approx(1 * 7 / 21, rel=0.01)
    weeks = {(w.week_start.ToDatetime(timezone.utc) - PUBLISHED).days // 7: w.count for w in answer.weeks}
    assert min(weeks) == -8 and max(weeks) >= 2  # 8 weeks before publication, and the 3 weeks since
    assert {n: c for n, c in weeks.items() if c} == {-5: 1, -3: 1, -1: 1, 1: 1}
    listed = pricing_topic(feedback, call_as, word)
    assert listed.status == feedback_pb2.GAP_STATUS_ANSWERED and listed.answer.searches_after == 1


def test_searches_with_0_1_2_and_5_results_count_as_zero_poor_poor_and_none(feedback, call_as, feedback_settings,
                                                                            feedback_consumer):
    """With COLLATERAL_FEEDBACK_POOR_RESULT_MAX at its default (2), through Kafka and the router."""
    assert feedback_settings.feedback_poor_result_max == 2
    word = unique_words()
    produce(feedback_settings, topics.SEARCHES, [
        search("p0", f"battle card {word}", NOW - timedelta(days=4), results=0),
        search("p1", f"battle card {word}", NOW - timedelta(days=3), results=1),
        search("p2", f"battle cards {word}", NOW - timedelta(days=2), results=2),
        search("p5", f"battle card {word}", NOW - timedelta(days=1), results=5),
        search("p1", f"roi calculator {word}", NOW - timedelta(days=1), results=1),
        search("p1", "", NOW - timedelta(days=1), results=1),  # browsing by filters: never a gap
    ])
    feedback_consumer.wait_idle()
    by_name = {g.name: g for g in gaps_with(feedback, call_as, word)}
    assert set(by_name) == {f"battle card {word}", f"roi calculator {word}"}
    cards = by_name[f"battle card {word}"]
    assert (cards.zero_result_searches, cards.poor_result_searches, cards.searching_reps) == (1, 2, 1)
    assert sum(w.count for w in cards.weekly) == 1
    calculator = by_name[f"roi calculator {word}"]  # poor-result searches alone make a topic, ranked low
    assert (calculator.zero_result_searches, calculator.poor_result_searches, calculator.searching_reps) == (0, 1, 0)
    assert 0 < calculator.score < 1.0 <= cards.score
    got = feedback.GetGapTopic(feedback_pb2.GetGapTopicRequest(topic_id=cards.topic_id, time_range=window()),
                               metadata=call_as("marketer"))
    assert sorted((s.rep_id, s.result_count) for s in got.searches) == [("p0", 0), ("p1", 1), ("p2", 2)]


def test_misses_stored_without_a_result_count_are_zero_result(feedback, call_as, feedback_es, feedback_names,
                                                               feedback_consumer):
    """Misses stored before result counts were kept have none: they still count as zero-result searches."""
    feedback_consumer.wait_idle()  # the router has created the index
    word = unique_words()
    feedback_es.index(index=feedback_names.misses, id=f"old-{word}", refresh=True, document={
        "event_id": f"old-{word}", "rep_id": "old-rep", "query": f"case study {word}", "topic": f"case study {word}",
        "filters": {}, "occurred_at": iso(NOW - timedelta(days=2))})
    [old] = gaps_with(feedback, call_as, word)
    assert (old.zero_result_searches, old.poor_result_searches, old.searching_reps) == (1, 0, 1)
    assert sum(w.count for w in old.weekly) == 1


@pytest.mark.parametrize("kwargs, code, field", [
    ({"topic_id": "", "status": feedback_pb2.GAP_STATUS_PLANNED}, grpc.StatusCode.INVALID_ARGUMENT, "topic_id"),
    ({"topic_id": "gt-0", "status": feedback_pb2.GAP_STATUS_UNSPECIFIED}, grpc.StatusCode.INVALID_ARGUMENT, "status"),
    ({"topic_id": "gt-0", "status": feedback_pb2.GAP_STATUS_ANSWERED}, grpc.StatusCode.INVALID_ARGUMENT, "asset_id"),
    ({"topic_id": "gt-0", "status": feedback_pb2.GAP_STATUS_PLANNED, "asset_id": "a1"},
     grpc.StatusCode.INVALID_ARGUMENT, "asset_id"),
    ({"topic_id": "gt-0000000000000000", "status": feedback_pb2.GAP_STATUS_PLANNED}, grpc.StatusCode.NOT_FOUND, None),
])
def test_bad_status_changes_are_refused(feedback, call_as, kwargs, code, field):
    with pytest.raises(grpc.RpcError) as err:
        feedback.SetGapStatus(feedback_pb2.SetGapStatusRequest(**kwargs), metadata=call_as("marketer"))
    assert err.value.code() == code
    if field:
        assert [f for f, _ in grpc_server.field_violations(err.value)] == [field]


def test_reps_may_not_set_a_status(feedback, call_as):
    with pytest.raises(grpc.RpcError) as err:
        feedback.SetGapStatus(feedback_pb2.SetGapStatusRequest(topic_id="gt-0", status=feedback_pb2.GAP_STATUS_PLANNED),
                              metadata=call_as("rep"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_the_real_server_stems_or_the_fallback_does_the_same(feedback_es):
    """Elasticsearch's porter_stem where the server has it (analysis-common), else the built-in stemmer."""
    stemmer = stemming.Stemmer(feedback_es)
    words = ["pricing", "decks", "generalizations", "hopping", "soc"]
    assert stemmer.stems(words) == {w: stemming.porter_stem(w) for w in words}
    assert stemmer.source in ("elasticsearch", "builtin")
