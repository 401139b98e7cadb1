"""A marketer opens the content gaps, drills into a topic grouped from differently worded searches,
a request and a lost deal (plus a search that found only two assets), marks it planned, then answered by
an asset, and sees before/after counts of the searches that found nothing."""

from __future__ import annotations

import json
import random
import string
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import feedback_pb2, feedback_pb2_grpc
from services.common import kafka_io, topics
from tests.e2e.conftest import screenshot, sign_in, wait_until

pytestmark = pytest.mark.e2e

NOW = datetime.now(timezone.utc)


def iso(d: datetime) -> str:
    return d.isoformat(timespec="seconds").replace("+00:00", "Z")


def ts(d: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(d)
    return out


def earlier_searches(settings, word: str) -> None:
    """Zero-result searches of past weeks, one poor-result and one that found enough, as the content service writes them."""
    phrasings = [(f"Pricing deck {word}", 40, "rep-a", 0), (f"price decks {word}", 33, "rep-b", 0),
                 (f"pricing-deck for {word}", 26, "rep-a", 0), (f"pricing deck {word}", 19, "rep-c", 0),
                 (f"Pricing deck {word}", 12, "rep-b", 0), (f"onboarding checklist {word}", 10, "rep-c", 0),
                 (f"pricing deck {word}", 15, "rep-d", 2), (f"pricing deck {word}", 14, "rep-e", 5)]
    records = []
    for query, days_ago, rep, results in phrasings:
        when = iso(NOW - timedelta(days=days_ago))
        event = {"event_id": f"e2e-s-{uuid.uuid4().hex}", "schema_version": 1, "occurred_at": when,
                 "received_at": when, "search_id": uuid.uuid4().hex, "rep_id": rep, "role": "rep", "query": query,
                 "filters": {}, "sort": "relevance", "result_count": results, "shown_asset_ids": []}
        records.append(kafka_io.Record(topics.SEARCHES.name(settings), rep, json.dumps(event).encode()))
    producer = kafka_io.Producer(settings, client_id="e2e-gaps")
    try:
        producer.send_and_wait(records)
    finally:
        producer.close()


def lost_deal(word: str) -> feedback_pb2.DealOutcome:
    return feedback_pb2.DealOutcome(
        opportunity_id=f"e2e-gap-{uuid.uuid4().hex[:8]}", opportunity_name="Northwind expansion",
        account_id="acct-northwind", account_name="Northwind", owner_rep_id="rep-a", stage=feedback_pb2.DEAL_STAGE_LOST,
        amount=48000.0, currency="USD", created_at=ts(NOW - timedelta(days=50)), closed_at=ts(NOW - timedelta(days=6)),
        updated_at=ts(NOW - timedelta(days=6)), lost_reason=f"No pricing deck for {word}")


def test_marketer_drills_into_a_gap_topic_and_answers_it(system, accounts, catalog, new_page):
    word = "".join(random.Random(uuid.uuid4().int).choices(string.ascii_lowercase, k=8))
    earlier_searches(system.settings, word)
    with system.channel("feedback") as channel:
        feedback = feedback_pb2_grpc.FeedbackServiceStub(channel)
        feedback.SubmitContentRequest(feedback_pb2.SubmitContentRequestRequest(
            description=f"A pricing deck for {word} retail buyers", persona="cfo"),
            metadata=system.metadata(accounts["rep"][0], "rep"), timeout=30)
        feedback.RecordDealOutcomes(feedback_pb2.RecordDealOutcomesRequest(outcomes=[lost_deal(word)]),
                                    metadata=system.metadata("crm", "service"), timeout=30)

    rep = new_page()
    sign_in(rep, accounts["rep"][0])
    rep.goto(f"/search?q=pricing+decks+{word}")  # a live zero-result search joins the topic

    marketer = new_page()
    sign_in(marketer, accounts["marketer"][0])
    row = marketer.locator("#gaps-table tr", has_text=f"pricing deck {word}")

    def listed() -> bool:
        marketer.goto("/reports/gaps?days=90")
        return row.count() == 1 and "6 " in row.locator("td[data-label='Zero-result searches']").inner_text() + " "

    wait_until(listed, what="the grouped topic with all six searches", timeout_s=90, interval_s=2)
    assert row.locator("td[data-label='Requests']").inner_text() == "1"
    assert row.locator("td[data-label='Lost deals']").inner_text() == "1"
    assert row.locator("td[data-label='Poor-result searches']").inner_text() == "1"  # 2 results; 5 is no gap
    assert row.locator(".badge").inner_text() == "New"
    assert marketer.locator("#gaps-table tr", has_text=f"onboarding checklist {word}").count() == 1  # apart
    chart = marketer.locator("#gaps-chart")
    assert chart.locator("svg[role=img]").first.get_attribute("aria-label").startswith("Zero-result searches per week")
    assert chart.locator("table th", has_text=f"pricing deck {word}").count() == 1  # the numbers as a table
    screenshot(marketer, "gaps-topics")

    row.locator("a").first.click()
    assert marketer.locator("h1").inner_text() == f"Content gap: pricing deck {word}"
    assert marketer.locator("#gap-searches tbody tr").count() == 7
    poor = marketer.locator("#gap-searches tbody tr.gap-search-poor")
    assert poor.count() == 1 and poor.locator("td[data-label='Results']").inner_text() == "2"
    assert "Poor-result searches\n1" in marketer.locator("#gap-stats").inner_text()
    assert marketer.locator("#gap-requests tbody tr", has_text="retail buyers").count() == 1
    assert marketer.locator("#gap-lost tbody tr", has_text="Northwind expansion").count() == 1
    assert "Lost revenue\n48,000" in marketer.locator("#gap-stats").inner_text()
    screenshot(marketer, "gap-topic")

    marketer.check("input[name=status][value=planned]")
    marketer.click("#gap-status-form button[type=submit]")
    assert "Status saved" in marketer.locator(".flash").inner_text()
    assert marketer.locator("#gap-status").inner_text() == "Planned"

    marketer.check("input[name=status][value=answered]")
    marketer.fill("#gap-status-form input[name=asset_id]", catalog["deck"])
    marketer.click("#gap-status-form button[type=submit]")
    assert "Status saved" in marketer.locator(".flash").inner_text()
    assert marketer.locator("#gap-status").inner_text() == "Answered"
    answer = marketer.locator("#gap-answer").inner_text()
    assert "Platform Overview Deck" in answer and "in the 8 weeks before (5)" in answer, answer  # zero-result only
    assert marketer.locator("#gap-effect tbody tr", has_text="before").count() == 8
    screenshot(marketer, "gap-topic-answered")

    phone = new_page(width=390, height=844, mobile=True)
    sign_in(phone, accounts["marketer"][0])
    phone.goto("/reports/gaps?days=90")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "no horizontal scroll"
    assert phone.locator("#gaps-chart svg.chart-narrow, #gaps-chart .chart-narrow").first.is_visible()
    screenshot(phone, "gaps-topics-phone")
    phone.locator("#gaps-table tr", has_text=f"pricing deck {word}").locator("a").first.click()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "no horizontal scroll"
    screenshot(phone, "gap-topic-phone")
    marketer.goto("/reports/gaps?days=90")
    assert row.locator(".badge").inner_text() == "Answered"
