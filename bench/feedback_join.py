"""Join throughput: `python bench/feedback_join.py --deals 20000 --events 100000`.

Produces synthetic deal outcomes and usage events (half naming an opportunity, the rest
an account) to a fresh bench namespace, then runs the real feedback consumer loop
(in-process) until it has committed everything, and reports messages/s. Baseline in the
same run: a bare kafka-python consumer reading the same messages without processing.
Run by hand; results go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kafka import KafkaAdminClient, KafkaConsumer  # noqa: E402
from kafka.structs import TopicPartition  # noqa: E402

from services.common import config, es as es_util, kafka_io, topics  # noqa: E402
from services.common.consumer import ConsumerLoop  # noqa: E402
from services.feedback import model  # noqa: E402
from services.feedback.consumer import FeedbackProcessor  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedback_winrate import T0, synth_deal  # noqa: E402


def produce(settings, n_deals: int, n_events: int, seed: int) -> int:
    rng = random.Random(seed)
    producer = kafka_io.Producer(settings, client_id="bench-join")
    deals = []
    batch: list[kafka_io.Record] = []
    sent = 0

    def flush() -> None:
        nonlocal batch, sent
        producer.send_and_wait(batch, timeout_s=120)
        sent += len(batch)
        batch = []

    for i in range(n_deals):
        d = synth_deal(i, rng)
        contract = {k: v for k, v in d.items() if k not in ("version", "lost_topic") and v is not None}
        contract.update(event_id=f"d{i}", schema_version=1, occurred_at=d["updated_at"])
        deals.append(d)
        batch.append(kafka_io.Record(topics.DEALS.name(settings), d["opportunity_id"], json.dumps(contract).encode()))
        if len(batch) >= 1000:
            flush()
    for j in range(n_events):
        d = rng.choice(deals)
        when = model.parse_iso(d["created_at"]) + timedelta(days=rng.uniform(-5, 60))
        e = {"event_id": f"e{j}", "schema_version": 1, "occurred_at": model.iso(min(when, T0 + timedelta(days=800))),
             "type": rng.choice(["view", "download", "share"]), "asset_id": f"asset-{rng.randrange(2000):05d}",
             "rep_id": d["owner_rep_id"]}
        if rng.random() < 0.5:
            e["opportunity_id"] = d["opportunity_id"]
        else:
            e["account_id"] = d["account_id"]
        batch.append(kafka_io.Record(topics.USAGE.name(settings), e["asset_id"], json.dumps(e).encode()))
        if len(batch) >= 1000:
            flush()
    if batch:
        flush()
    producer.close()
    return sent


def bare_consume(settings, names: list[str], total: int) -> float:
    consumer = KafkaConsumer(*names, bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, group_id=f"{settings.namespace}.bare", max_poll_records=500)
    started = time.perf_counter()
    seen = 0
    while seen < total:
        for records in consumer.poll(timeout_ms=500).values():
            for r in records:
                json.loads(r.value)
            seen += sum(1 for _ in records)
    elapsed = time.perf_counter() - started
    consumer.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--namespace", default=f"perfjoin{int(time.time()) % 100000}")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    settings = config.load(namespace=args.namespace, es_request_timeout_s=120.0, log_format="text")
    topics.ensure_all(settings)
    started = time.perf_counter()
    total = produce(settings, args.deals, args.events, args.seed)
    print(f"produced {total:,} messages in {time.perf_counter() - started:.0f}s", flush=True)
    names = [topics.DEALS.name(settings), topics.USAGE.name(settings)]
    base = bare_consume(settings, names, total)
    print(f"baseline bare kafka-python consumer: {total / base:,.0f} msg/s ({base:.1f}s)", flush=True)

    processor = FeedbackProcessor(settings)
    processor.ensure()
    loop = ConsumerLoop(processor, settings)
    thread = threading.Thread(target=loop.run, daemon=True)
    started = time.perf_counter()
    thread.start()
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    probe = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    parts = [TopicPartition(t, p) for t in names for p in probe.partitions_for_topic(t)]
    ends = probe.end_offsets(parts)
    while True:
        committed = admin.list_group_offsets(loop.group_id)
        committed = committed.get(loop.group_id, committed)
        if all(ends[tp] == 0 or (tp in committed and committed[tp].offset >= ends[tp]) for tp in parts):
            break
        time.sleep(0.5)
    elapsed = time.perf_counter() - started
    loop.stop()
    thread.join(30)
    es = processor.es
    es.indices.refresh(index=processor.names.touches)
    touches = es.count(index=processor.names.touches)["count"]
    print(f"feedback consumer (store raw + recompute join): {total / elapsed:,.0f} msg/s ({elapsed:.1f}s), "
          f"{touches:,} touches; ratio to bare consumer {base / elapsed:.3f}")
    for alias in (processor.names.deals, processor.names.usage, processor.names.touches):
        for index in es_util.concrete_indices(es, alias):
            es.indices.delete(index=index)


if __name__ == "__main__":
    main()
