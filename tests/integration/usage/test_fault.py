"""Crash and outage tests: nothing lost, nothing counted twice.

Modelled on Kafka's own produce/consume/validate system tests: produce numbered events,
inject the fault, then check Elasticsearch holds exactly the numbered set and the
rollups agree with it.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from services.common import topics
from services.usage import model
from tests.conftest import metric_value, stop_or_start, wait_consumed
from tests.integration.usage.conftest import count_events, produce_json, rollup_docs, wait_until

pytestmark = pytest.mark.integration


def numbered_events(uid: str, n: int, assets: int = 8) -> list[dict]:
    now = datetime.now(timezone.utc)
    return [{"event_id": f"{uid}-{i:06d}", "schema_version": 1,
             "occurred_at": (now - timedelta(hours=(i % 3) * 20)).isoformat(),  # spans two or three days
             "type": ("view", "download", "share")[i % 3], "asset_id": f"k{uid}-{i % assets}", "rep_id": f"rep-{i % 7}"}
            for i in range(n)]


def assert_exact(es, names, uid: str, events: list[dict]) -> None:
    prefix = {"prefix": {"asset_id": f"k{uid}-"}}
    assert count_events(es, names, prefix) == len(events)
    hits = es.search(index=names.events, size=len(events) + 10, query=prefix, source=False)["hits"]["hits"]
    ids = [h["_id"] for h in hits]
    assert sorted(ids) == sorted(e["event_id"] for e in events)  # every numbered event, each exactly once
    expected = Counter((e["asset_id"], model.day_of(model.validate(e)["occurred_at"])) for e in events)
    by_type = Counter((e["asset_id"], model.day_of(model.validate(e)["occurred_at"]), e["type"]) for e in events)

    def rollups_exact() -> bool:
        docs = rollup_docs(es, names, sorted({e["asset_id"] for e in events}))
        got = {(d["asset_id"], d["day"]): d for d in docs}
        return set(got) == set(expected) and all(
            got[k]["events_total"] == n and all(got[k][t] == by_type[(k[0], k[1], t)] for t in ("view", "download", "share"))
            for k, n in expected.items())

    wait_until(rollups_exact, timeout_s=30, what="exact rollups")


def test_consumer_killed_mid_batch_loses_nothing_and_counts_nothing_twice(usage_env, consumer, raw_producer, es, names):
    uid = uuid.uuid4().hex[:8]
    events = numbered_events(uid, 4000)
    topic = topics.USAGE.name(usage_env)
    for e in events[:3000]:
        produce_json(raw_producer, topic, e["asset_id"], e)
    raw_producer.flush()
    prefix = {"prefix": {"asset_id": f"k{uid}-"}}
    wait_until(lambda: count_events(es, names, prefix) > 0, interval_s=0.05, what="the first events")
    consumer.kill()  # SIGKILL: no chance to commit or finish the batch
    for e in events[3000:]:
        produce_json(raw_producer, topic, e["asset_id"], e)
    for e in events[100:200]:  # and a replay of some, as a producer retry would do
        produce_json(raw_producer, topic, e["asset_id"], e)
    raw_producer.flush()
    consumer.start()
    group = usage_env.group("usage-consumer")
    wait_until(lambda: count_events(es, names, prefix) >= len(events), timeout_s=120, what="all events")
    wait_consumed(usage_env, group, [topic], timeout_s=120)  # the replayed copies too: nothing left to arrive
    assert_exact(es, names, uid, events)
    # A clean shutdown (SIGTERM) finishes the batch, commits and exits 0; a restart re-reads nothing twice.
    assert consumer.stop() == 0
    consumer.start()
    marker = numbered_events(f"m{uid}", 1)[0]  # asset "km<uid>-0": outside the numbered events' prefix
    produce_json(raw_producer, topic, marker["asset_id"], marker)
    raw_producer.flush()
    wait_until(lambda: count_events(es, names, {"term": {"asset_id": marker["asset_id"]}}) == 1, timeout_s=120,
               what="the marker read by the restarted consumer")
    wait_consumed(usage_env, group, [topic])
    polled = metric_value(consumer.metrics_port, "collateral_consumer_messages_total", consumer="usage-consumer")
    assert polled == 1, f"the restarted consumer read {polled} messages; only the marker was new"
    assert_exact(es, names, uid, events)


@pytest.mark.fault
def test_elasticsearch_outage_pauses_and_loses_nothing(usage_env, consumer, raw_producer, es, names):
    uid = uuid.uuid4().hex[:8]
    events = numbered_events(uid, 600)
    topic = topics.USAGE.name(usage_env)
    retries_before = metric_value(consumer.metrics_port, "collateral_consumer_downstream_retries_total",
                                  consumer="usage-consumer") or 0
    stop_or_start("stop", "elasticsearch")
    try:
        for e in events:
            produce_json(raw_producer, topic, e["asset_id"], e)
        raw_producer.flush()
        # The consumer polls, fails to write, and backs off (retrying the batch) instead of exiting.
        wait_until(lambda: (metric_value(consumer.metrics_port, "collateral_consumer_downstream_retries_total",
                                         consumer="usage-consumer") or 0) > retries_before,
                   timeout_s=120, what="the consumer retrying while Elasticsearch is down")
        assert consumer.alive()
    finally:
        stop_or_start("start", "elasticsearch")
    prefix = {"prefix": {"asset_id": f"k{uid}-"}}
    wait_until(lambda: es.cluster.health(wait_for_status="yellow", timeout="30s") and True, timeout_s=120)
    wait_until(lambda: count_events(es, names, prefix) >= len(events), timeout_s=120, what="all events after the outage")
    assert_exact(es, names, uid, events)  # none dead-lettered or dropped, none twice


@pytest.mark.fault
def test_kafka_restart_mid_stream_loses_nothing_and_counts_nothing_twice(usage_env, consumer, raw_producer, es, names):
    """The broker stopped while the consumer is reading a backlog (a batch in flight, its verdicts
    unacknowledged, its commit refused) and started again: the consumer stays up, rejoins its group
    and resumes from the committed offsets; what was written but not committed is read again and
    absorbed by the idempotent writes."""
    uid = uuid.uuid4().hex[:8]
    events = numbered_events(uid, 9000)  # the ids check reads them in one page (at most 10,000)
    topic = topics.USAGE.name(usage_env)
    for e in events[:8000]:  # a backlog: the broker stops while the consumer works through it
        produce_json(raw_producer, topic, e["asset_id"], e)
    raw_producer.flush()
    prefix = {"prefix": {"asset_id": f"k{uid}-"}}
    wait_until(lambda: count_events(es, names, prefix) > 0, interval_s=0.05, what="the first events")
    stop_or_start("stop", "kafka")
    try:
        time.sleep(5)  # the outage: the consumer's fetches, produces and commits all fail meanwhile
        assert consumer.alive(), "the consumer exited while Kafka was down"
    finally:
        stop_or_start("start", "kafka")
    for e in events[8000:]:
        produce_json(raw_producer, topic, e["asset_id"], e)
    for e in events[500:600]:  # a producer's retries after the outage
        produce_json(raw_producer, topic, e["asset_id"], e)
    raw_producer.flush()
    wait_until(lambda: count_events(es, names, prefix) >= len(events), timeout_s=180, what="all events after the restart")
    wait_consumed(usage_env, usage_env.group("usage-consumer"), [topic], timeout_s=180)
    assert_exact(es, names, uid, events)
    assert consumer.alive()

