"""Usage signals for ranking: 30-day aggregates per asset on the signals topic."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from kafka import KafkaConsumer

from collateral.v1 import usage_pb2
from services.common import events, topics
from services.usage import signals
from tests.conftest import process_env
from tests.integration.usage.conftest import ROOT, count_events, rollup_docs, wait_until

pytestmark = pytest.mark.integration
T = usage_pb2
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131 Safari/537.36"


def ts(when: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(when)
    return out


def test_signals_one_shot_publishes_schema_valid_30_day_aggregates(usage_env, consumer, stub, call_as, es, names, uid):
    asset = f"s-{uid}"
    now = datetime.now(timezone.utc)
    evs = [usage_pb2.UsageEvent(type=kind, asset_id=asset, rep_id=rep, occurred_at=ts(now - timedelta(days=days)),
                                user_agent=CHROME)
           for kind, rep, days in [
               (T.USAGE_EVENT_TYPE_VIEW, "r1", 1), (T.USAGE_EVENT_TYPE_VIEW, "r2", 2),
               (T.USAGE_EVENT_TYPE_DOWNLOAD, "r1", 3), (T.USAGE_EVENT_TYPE_SHARE, "r3", 4),
               (T.USAGE_EVENT_TYPE_EMAIL_ATTACH, "r3", 4), (T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, "r3", 0),
               (T.USAGE_EVENT_TYPE_DOWNLOAD, "r9", 45),  # outside the window
           ]]
    evs.append(usage_pb2.UsageEvent(type=T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, asset_id=asset, rep_id="r3",
                                    user_agent="curl/8.0"))  # a bot: not counted
    stub.RecordEvents(usage_pb2.RecordEventsRequest(events=evs), metadata=call_as("service", "portal"))
    wait_until(lambda: count_events(es, names, {"term": {"asset_id": asset}}) == len(evs))
    wait_until(lambda: sum(d["events_total"] for d in rollup_docs(es, names, [asset])) == len(evs))
    started = time.time()
    env = process_env(usage_env, COLLATERAL_LOG_FORMAT="text")
    out = subprocess.run([sys.executable, "-m", "services.usage.signals"], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=120)
    match = re.fullmatch(r"published (\d+) usage signals to (\S+)", out.stdout.strip().splitlines()[-1])
    assert match and int(match.group(1)) >= 1, out.stdout

    consumer_ = KafkaConsumer(topics.SIGNALS.name(usage_env), bootstrap_servers=usage_env.kafka_bootstrap,
                              auto_offset_reset="earliest", consumer_timeout_ms=3000, group_id=None)
    try:
        found = [json.loads(r.value) for r in consumer_ if r.key == asset.encode() and r.timestamp >= started * 1000 - 5000]
    finally:
        consumer_.close()
    assert found, "no signal for the asset"
    signal = found[-1]
    events.validate("signal-event.v1.json", signal)
    assert signal["source"] == "usage" and signal["asset_id"] == asset
    usage = signal["usage"]
    assert {k: usage[k] for k in ("views_30d", "downloads_30d", "shares_30d", "customer_opens_30d", "unique_reps_30d")} \
        == {"views_30d": 2, "downloads_30d": 1, "shares_30d": 2, "customer_opens_30d": 1, "unique_reps_30d": 3}
    assert usage["usage_score"] == signals.usage_score(usage) > 0


def test_consumer_publishes_signals_periodically(usage_env, consumer, stub, call_as, es, names, uid):
    import dataclasses
    import threading

    from services.common import periodic

    asset = f"p-{uid}"
    stub.RecordEvents(usage_pb2.RecordEventsRequest(events=[
        usage_pb2.UsageEvent(type=T.USAGE_EVENT_TYPE_DOWNLOAD, asset_id=asset, rep_id="r1")]),
        metadata=call_as("rep", "r1"))
    wait_until(lambda: sum(d["events_total"] for d in rollup_docs(es, names, [asset])) == 1)
    started_ms = time.time() * 1000
    stop = threading.Event()
    fast = dataclasses.replace(usage_env, usage_signals_interval_s=0.5)
    thread = periodic.start("usage-signals", fast.usage_signals_interval_s, lambda: signals.SignalPublisher(fast), stop)
    assert thread is not None
    reader = KafkaConsumer(topics.SIGNALS.name(usage_env), bootstrap_servers=usage_env.kafka_bootstrap,
                           auto_offset_reset="earliest", consumer_timeout_ms=1000, group_id=None)
    try:
        def published():
            # One poll, not iteration: rounds every 0.5 s never leave the iterator a quiet second to stop on.
            batches = reader.poll(timeout_ms=1000).values()
            return [json.loads(r.value) for batch in batches for r in batch
                    if r.key == asset.encode() and r.timestamp >= started_ms]

        seen: list = []
        wait_until(lambda: seen.extend(published()) or len({s["computed_at"] for s in seen}) >= 2, timeout_s=60,
                   what="two periodic signal rounds")
    finally:
        stop.set()
        thread.join(15)
        reader.close()
    assert not thread.is_alive()
    assert all(s["usage"]["downloads_30d"] == 1 for s in seen)
