"""Usage pipeline benchmark (run by hand against the local stack).

    .venv/bin/python bench/usage_pipeline.py [--events 20000] [--probes 60] [--load-rate 300]
                                             [--consumers 1] [--parse-processes N]

(`--probes 0` skips the freshness probes.)

Measures, in one run and on the same documents:
1. bare Kafka: a plain kafka-python consumer reading (and JSON-decoding) N usage events;
2. bare Elasticsearch: bulk-creating the same N documents with the Python client (500 per request);
3. the pipeline: `python -m services.usage.consumer` as its own process, from the first
   produce until all N events are visible to a search (validation, bot classification, catalog
   lookup, raw writes, refresh, rollup recompute and write, offset commits included);
   printed as a ratio to the slower bare rate; then the drain of a backlog of N events by
   `--consumers` processes (parsing in `--parse-processes` workers each), with their CPU and
   the share of the whole machine's CPU that was busy meanwhile;
4. freshness: with background load, single probe events are produced and a report query
   (the GetAssetUsage aggregation) is polled until each is visible; p50/p99 produced->visible.

Everything runs in a fresh namespace (`bench<random>`), deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "gen" / "python"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from elasticsearch import helpers  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer  # noqa: E402

from services.common import config, es as es_util, topics  # noqa: E402
from services.usage import model, reports, store  # noqa: E402
from machine import children, cpu_seconds, elasticsearch_pid, machine_busy  # noqa: E402

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131 Safari/537.36"
TYPES = ("view", "download", "share", "customer_open", "page_view", "search_click")


def make_events(n: int, tag: str) -> list[dict]:
    now = datetime.now(timezone.utc)
    out = []
    for i in range(n):
        kind = TYPES[i % len(TYPES)]
        e = {"event_id": f"{tag}-{i}", "schema_version": 1,
             "occurred_at": model.iso(now - timedelta(seconds=i % 86400)), "type": kind,
             "asset_id": f"{tag}-a{i % 500}", "rep_id": f"rep-{i % 200}", "account_id": f"acct-{i % 300}",
             "channel": "portal", "team": ("east", "west")[i % 2], "region": "emea", "user_agent": CHROME}
        if kind == "page_view":
            e.update(page=1 + i % 12, seconds=float(i % 90))
        out.append(e)
    return out


def produce(producer: KafkaProducer, topic: str, events: list[dict]) -> None:
    for e in events:
        producer.send(topic, key=e["asset_id"].encode(), value=json.dumps(e).encode())
    producer.flush()


def bare_kafka(settings: config.Settings, topic: str, n: int) -> float:
    consumer = KafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest",
                             group_id=f"{settings.namespace}.bare", enable_auto_commit=False, max_poll_records=500)
    seen = 0
    started = time.perf_counter()
    while seen < n:
        for records in consumer.poll(timeout_ms=500).values():
            for r in records:
                json.loads(r.value)
                seen += 1
    elapsed = time.perf_counter() - started
    consumer.close()
    return n / elapsed


def bare_es(settings: config.Settings, es, events: list[dict]) -> float:
    index = settings.index("bench-bare")
    es.indices.create(index=index, **es_util.index_body(settings, store.EVENT_MAPPINGS))
    docs = [model.stored_document(e, received_at=e["occurred_at"], is_bot=False, bot_reason="", known_asset=True,
                                  ip_secret="x" * 32) for e in events]
    started = time.perf_counter()
    helpers.bulk(es, ({"_op_type": "create", "_index": index, "_id": d["event_id"], "_source": d} for d in docs),
                 chunk_size=500, refresh=False)
    es.indices.refresh(index=index)
    elapsed = time.perf_counter() - started
    assert es.count(index=index)["count"] == len(docs)
    return len(docs) / elapsed


def count(es, names: store.Names, prefix: str) -> int:
    """Events of this run a search sees now. No refresh is forced: the consumer refreshes after
    each batch (its rollups read the batch back), and a probe that refreshed every 100 ms made
    Elasticsearch refresh and merge some 200 extra segments during a 200,000-event drain."""
    return es.count(index=names.events, query={"prefix": {"event_id": prefix}})["count"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--probes", type=int, default=60)
    parser.add_argument("--load-rate", type=float, default=300.0, help="background events/s during the freshness probes")
    parser.add_argument("--consumers", type=int, default=1,
                        help="consumer processes draining the backlog (one group; partitions are spread over them)")
    parser.add_argument("--parse-processes", type=int, default=None,
                        help="COLLATERAL_USAGE_CONSUMER_PARSE_PROCESSES of the consumers (default: the environment's)")
    args = parser.parse_args()

    namespace = f"bench{uuid.uuid4().hex[:6]}"
    settings = config.load(namespace=namespace)
    es = es_util.client(settings)
    names = store.Names.of(settings)
    topics.ensure_all(settings)
    store.ensure(es, settings)
    usage_topic = topics.USAGE.name(settings)
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=5,
                             batch_size=256 * 1024)
    log = open(ROOT / "bench" / f".{namespace}-consumer.log", "wb")
    env = dict(os.environ, COLLATERAL_NAMESPACE=namespace, COLLATERAL_METRICS_PORT="19467",
               COLLATERAL_USAGE_SIGNALS_INTERVAL_S="0", COLLATERAL_LOG_LEVEL="WARNING")
    if args.parse_processes is not None:
        env["COLLATERAL_USAGE_CONSUMER_PARSE_PROCESSES"] = str(args.parse_processes)
    proc = None
    try:
        print(f"namespace {namespace}, {args.events} events")
        # Bare Kafka rate, on a copy of the events in a side topic (same partitions, same sizes).
        side = settings.topic("bench.bare.v1")
        from services.common import kafka_io
        kafka_io.ensure_topics(settings, [side])
        bare_events = make_events(args.events, "bare")
        produce(producer, side, bare_events)
        kafka_rate = bare_kafka(settings, side, args.events)
        print(f"bare kafka-python consumer: {kafka_rate:8.0f} events/s")
        es_pid = elasticsearch_pid()  # its CPU is printed beside the bare bulk's and the drain's
        es_cpu_before = cpu_seconds(es_pid) if es_pid else 0.0
        es_rate = bare_es(settings, es, bare_events)
        bare_es_cpu = f"; Elasticsearch CPU {cpu_seconds(es_pid) - es_cpu_before:.1f} s" if es_pid else ""
        print(f"bare Elasticsearch bulk:    {es_rate:8.0f} events/s{bare_es_cpu}")

        proc = subprocess.Popen([sys.executable, "-m", "services.usage.consumer"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        warm = make_events(10, "warm")
        produce(producer, usage_topic, warm)
        deadline = time.monotonic() + 120
        while count(es, names, "warm-") < len(warm):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("consumer did not start; see " + log.name)
            time.sleep(0.2)

        events = make_events(args.events, "pipe")
        started = time.perf_counter()
        produce(producer, usage_topic, events)
        produced = time.perf_counter() - started
        while count(es, names, "pipe-") < len(events):
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        pipe_rate = len(events) / elapsed
        slower = min(kafka_rate, es_rate)
        print(f"pipeline produced->queryable: {pipe_rate:8.0f} events/s ({elapsed:.1f} s; producing took {produced:.1f} s)")
        print(f"ratio pipeline / bare kafka: {pipe_rate / kafka_rate:.2f}; / bare ES: {pipe_rate / es_rate:.2f}; "
              f"/ slower bare: {pipe_rate / slower:.2f}")

        # Backlog drain: the consumer catches up on N events produced while it was stopped (the same
        # situation as the bare consumer, which also reads a pre-produced topic).
        proc.terminate()
        proc.wait(60)
        backlog = make_events(args.events, "drain")
        produce(producer, usage_topic, backlog)
        drainers = [subprocess.Popen([sys.executable, "-m", "services.usage.consumer"], cwd=ROOT,
                                     env=dict(env, COLLATERAL_METRICS_PORT=str(19467 + i)),
                                     stdout=log, stderr=subprocess.STDOUT) for i in range(args.consumers)]
        proc = drainers[0]
        try:
            while (first := count(es, names, "drain-")) == 0:
                time.sleep(0.05)
            started = time.perf_counter()
            processes = [[p.pid, *children(p.pid)] for p in drainers]
            cpu_before = [[cpu_seconds(pid) for pid in group] for group in processes]
            machine_before = machine_busy()
            es_cpu_before = cpu_seconds(es_pid) if es_pid else 0.0
            while count(es, names, "drain-") < len(backlog):
                time.sleep(0.1)
            drain_s = time.perf_counter() - started
            drain_rate = (len(backlog) - first) / drain_s
            machine_after = machine_busy()
            drain_es_cpu = cpu_seconds(es_pid) - es_cpu_before if es_pid else 0.0
            cpu = [[cpu_seconds(pid) - before for pid, before in zip(group, befores)]
                   for group, befores in zip(processes, cpu_before)]
        finally:
            for extra in drainers[1:]:
                extra.terminate()
                extra.wait(60)
        shares = ", ".join(f"{100 * c[0] / drain_s:.0f}%" + (f" + workers {100 * sum(c[1:]) / drain_s:.0f}%" if c[1:] else "")
                           for c in cpu)
        busy = (machine_after[0] - machine_before[0]) / (machine_after[1] - machine_before[1])
        per_event_us = 1e6 * sum(sum(c) for c in cpu) / max(1, len(backlog) - first)
        print(f"pipeline backlog drain:       {drain_rate:8.0f} events/s; ratio to slower bare: {drain_rate / slower:.2f} "
              f"({args.consumers} consumer process{'es' if args.consumers > 1 else ''}, CPU {shares} of one core, {per_event_us:.0f} µs per event; "
              f"machine {100 * busy:.0f}% busy" + (f"; Elasticsearch CPU {drain_es_cpu:.1f} s)" if es_pid else ")"))

        if args.probes <= 0:
            return  # freshness skipped (--probes 0): backlog figures only
        # Freshness under background load.
        stop = threading.Event()

        def background() -> None:
            i = 0
            while not stop.is_set():
                batch = make_events(int(args.load_rate / 10), f"load{i}")
                for e in batch:
                    producer.send(usage_topic, key=e["asset_id"].encode(), value=json.dumps(e).encode())
                i += 1
                time.sleep(0.1)

        loader = threading.Thread(target=background, daemon=True)
        loader.start()
        latencies = []
        now = datetime.now(timezone.utc)
        for p in range(args.probes):
            asset = f"probe-{namespace}-{p}"
            event = {"event_id": f"probe-{p}", "schema_version": 1, "occurred_at": model.iso(datetime.now(timezone.utc)),
                     "type": "download", "asset_id": asset, "rep_id": "rep-probe"}
            sent = time.perf_counter()
            producer.send(usage_topic, key=asset.encode(), value=json.dumps(event).encode())
            producer.flush()
            while True:
                r = reports.asset_usage(es, names, asset, now - timedelta(hours=1), now + timedelta(hours=1), "day", 10)
                if r["totals"]["total_events"] >= 1:
                    break
                time.sleep(0.02)
            latencies.append(time.perf_counter() - sent)
        stop.set()
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(round(0.99 * (len(latencies) - 1))))]
        print(f"freshness produced->visible in a report ({len(latencies)} probes, {args.load_rate:.0f} ev/s load): "
              f"p50 {statistics.median(latencies):.2f} s, p99 {p99:.2f} s, max {latencies[-1]:.2f} s")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        producer.close()
        log.close()
        os.unlink(log.name)
        for pattern in (f"{namespace}-*",):
            es.indices.delete(index=pattern, ignore_unavailable=True, allow_no_indices=True, expand_wildcards="all")
        es.options(ignore_status=404).indices.delete_index_template(name=names.events)
        from kafka import KafkaAdminClient
        admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        try:
            admin.delete_topics([t for t in admin.list_topics() if t.startswith(namespace + ".")])
        finally:
            admin.close()


if __name__ == "__main__":
    main()
