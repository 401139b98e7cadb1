"""Join throughput: `python bench/feedback_join.py --deals 10000 --events 50000`.

Produces synthetic deal outcomes (deals.v1) and classified usage events (usage.classified.v1,
what the usage consumer publishes; half name an opportunity, the rest an account) to a fresh
bench namespace, then runs the real feedback consumer pipeline (router, join stage and rollup
stage) until every input and both internal topics (feedback.join.v1, feedback.rollup.v1) are
committed, and reports messages/s:

- `1 process`: the pipeline in this process (router, join stage and rollup stage threads);
- `3 processes`: three `python -m services.feedback.consumer` subprocesses, in a second
  namespace with the same inputs, measured from their start.

Baseline in the same run, per namespace: a bare kafka-python consumer reading the same input
topics (json.loads of each message, nothing else). Each result is printed as
`ratio to bare consumer X.XXX`.

Beside each ratio: the CPU of the consumer process(es) (in share of one core, and per input
message, as for the bare consumer) and the share of the whole machine's CPU that was busy
meanwhile.

Store ceiling, per namespace: every document the join left in Elasticsearch (raw events, deal
snapshots, touches, credits, rollups) bulk-indexed again, bare, the way the join writes them
(orjson-encoded NDJSON through `es.bulk`, 5,000 documents per request, same mappings and index
sorting, no reads, one index after the other), printed as `store ceiling: ratio to bare consumer
at most X.XXX`, and per index (`store ceiling by index`: what storing only that output would
allow). No join that stores these documents can beat that ratio on the same machine; it tells a
slow join from a slow store.

`--backfill` instead loads the inputs once and runs one in-process pipeline with a progress
bar over committed offsets vs end offsets of every stage, printing the consumer lag gauges
(collateral_consumer_lag_messages) and the process's resident memory as it goes. Run by hand; results go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from elasticsearch import helpers  # noqa: E402
from kafka import KafkaAdminClient, KafkaConsumer  # noqa: E402
from kafka.structs import TopicPartition  # noqa: E402
import orjson  # noqa: E402
from tqdm import tqdm  # noqa: E402

from services.common import config, es as es_util, kafka_io, metrics, topics  # noqa: E402
from services.feedback import model, store  # noqa: E402
from services.common.consumer import tune_garbage_collector  # noqa: E402
from services.feedback.consumer import Pipeline  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedback_winrate import T0, synth_deal  # noqa: E402
from machine import Window, children, memory_mb  # noqa: E402

INPUTS = (topics.DEALS, topics.USAGE_CLASSIFIED)
CEILING_BULK_DOCS = 5000


def produce(settings: config.Settings, n_deals: int, n_events: int, seed: int) -> int:
    """Deals, then classified events spread over them; returns the number of messages."""
    rng = random.Random(seed)
    producer = kafka_io.Producer(settings, client_id="bench-join")
    deals = []
    batch: list[kafka_io.Record] = []
    sent = 0
    bar = tqdm(total=n_deals + n_events, unit="msg", desc=f"produce {settings.namespace}", mininterval=2)

    def flush() -> None:
        nonlocal batch, sent
        producer.send_and_wait(batch, timeout_s=120)
        sent += len(batch)
        bar.update(len(batch))
        batch = []

    for i in range(n_deals):
        d = synth_deal(i, rng)
        contract = {k: v for k, v in d.items() if k not in ("version", "lost_topic") and v is not None}
        contract.update(event_id=f"d{i}", schema_version=1, occurred_at=d["updated_at"])
        deals.append(d)
        batch.append(kafka_io.Record(topics.DEALS.name(settings), d["opportunity_id"], json.dumps(contract).encode()))
        if len(batch) >= 5000:
            flush()
    for j in range(n_events):
        d = rng.choice(deals)
        when = model.parse_iso(d["created_at"]) + timedelta(days=rng.uniform(-5, 60))
        e = {"event_id": f"e{j}", "schema_version": 1, "occurred_at": model.iso(min(when, T0 + timedelta(days=800))),
             "type": rng.choice(["view", "download", "share"]), "asset_id": f"asset-{rng.randrange(2000):05d}",
             "rep_id": d["owner_rep_id"], "is_bot": False}
        if rng.random() < 0.5:
            e["opportunity_id"] = d["opportunity_id"]
        else:
            e["account_id"] = d["account_id"]
        key = e.get("opportunity_id") or e["account_id"]
        batch.append(kafka_io.Record(topics.USAGE_CLASSIFIED.name(settings), key, json.dumps(e).encode()))
        if len(batch) >= 5000:
            flush()
    if batch:
        flush()
    bar.close()
    producer.close()
    return sent


def bare_consume(settings: config.Settings, total: int) -> tuple[float, Window]:
    names = [t.name(settings) for t in INPUTS]
    consumer = KafkaConsumer(*names, bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, group_id=f"{settings.namespace}.bare", max_poll_records=500)
    cpu = Window([os.getpid()]).start()
    started = time.perf_counter()
    seen = 0
    while seen < total:
        for records in consumer.poll(timeout_ms=500).values():
            for r in records:
                json.loads(r.value)
            seen += len(records)
    elapsed = time.perf_counter() - started
    cpu.stop()
    consumer.close()
    return elapsed, cpu


class Progress:
    """Committed offsets vs end offsets of each stage, upstream first: router, join, rollup.

    The rollup stage counts: until it has committed, the reports that read rollups
    (ListAssetWinRates, GetAttribution over whole months) do not show the joined data yet.
    """

    STAGES = ("router", "join", "rollup")

    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings
        self.admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        self.probe = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
        self.stages = {"router": (settings.group("feedback-router"), [t.name(settings) for t in INPUTS]),
                       "join": (settings.group("feedback-join"), [topics.FEEDBACK_JOIN.name(settings)]),
                       "rollup": (settings.group("feedback-rollup"), [topics.FEEDBACK_ROLLUP.name(settings)])}
        self.done_s: dict[str, float] = {}  # stage -> seconds until it and every stage upstream had committed all

    def remaining(self) -> dict[str, int]:
        """Messages not yet committed per stage (a downstream stage's ends grow while upstream works)."""
        out: dict[str, int] = {}
        for stage, (group, names) in self.stages.items():
            parts = [TopicPartition(t, p) for t in names for p in self.probe.partitions_for_topic(t) or ()]
            ends = self.probe.end_offsets(parts)
            committed = self.admin.list_group_offsets(group)
            committed = committed.get(group, committed)
            out[stage] = sum(max(0, ends[tp] - (committed[tp].offset if tp in committed else 0)) for tp in parts)
        return out

    def wait_done(self, on_poll: Callable[[dict[str, int]], None] = lambda _: None) -> None:
        """Until every stage committed everything, noting when each stage (with those upstream) had."""
        started = time.perf_counter()
        self.done_s = {}
        while True:
            left = self.remaining()
            upstream = 0
            for stage in self.STAGES:
                upstream += left[stage]
                if upstream == 0 and stage not in self.done_s:
                    self.done_s[stage] = time.perf_counter() - started
            on_poll(left)
            if upstream == 0:
                return
            time.sleep(0.5)

    def timeline(self) -> str:
        return (f"inputs routed after {self.done_s['router']:.1f}s, join topic committed after "
                f"{self.done_s['join']:.1f}s, rollup topic committed after {self.done_s['rollup']:.1f}s")

    def close(self) -> None:
        self.admin.close()
        self.probe.close()


def run_in_process(settings: config.Settings) -> tuple[float, Window]:
    tune_garbage_collector(settings.consumer_gc_threshold)  # as `python -m services.feedback.consumer` does
    pipeline = Pipeline(settings)
    pipeline.ensure()
    progress = Progress(settings)
    cpu = Window([os.getpid()]).start()  # this process also polls the offsets, a small share
    started = time.perf_counter()
    pipeline.start()
    progress.wait_done(lambda _: _raise_if_failed(pipeline))
    elapsed = time.perf_counter() - started
    cpu.stop()
    print(f"[1 process] {progress.timeline()}", flush=True)
    pipeline.stop()
    pipeline.join(60)
    progress.close()
    return elapsed, cpu


def _raise_if_failed(pipeline: Pipeline) -> None:
    if pipeline.errors:
        raise SystemExit(f"pipeline failed: {pipeline.errors[0]!r}")


def run_processes(settings: config.Settings, count: int) -> tuple[float, Window]:
    env = dict(os.environ)
    env.update({config.env_name(f.name): str(getattr(settings, f.name)) for f in dataclasses.fields(settings)})
    progress = Progress(settings)
    logs = [open(f"/tmp/{settings.namespace}-feedback-{i}.log", "wb") for i in range(count)]
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "services.feedback.consumer"], cwd=ROOT, stdout=logs[i],
                              stderr=subprocess.STDOUT, env=dict(env, COLLATERAL_METRICS_PORT=str(19480 + i)))
             for i in range(count)]
    cpu = Window([pid for p in procs for pid in (p.pid, *children(p.pid))]).start()

    def check(_: dict[str, int]) -> None:
        dead = [p.args for p in procs if p.poll() is not None]
        if dead:
            raise SystemExit(f"a consumer process exited; see /tmp/{settings.namespace}-feedback-*.log")

    progress.wait_done(check)
    elapsed = time.perf_counter() - started
    cpu.stop()
    print(f"[{count} processes] {progress.timeline()}", flush=True)
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(60)
    for f in logs:
        f.close()
    progress.close()
    return elapsed, cpu


def cleanup(settings: config.Settings) -> None:
    es = es_util.client(settings)
    es.options(ignore_status=404).indices.delete(index=f"{settings.namespace}-feedback-*")


def touches(settings: config.Settings) -> int:
    es = es_util.client(settings)
    names = store.Names.of(settings)
    es.indices.refresh(index=names.touches)
    return es.count(index=names.touches)["count"]


def store_ceiling(settings: config.Settings) -> tuple[int, float, dict[str, tuple[int, float]]]:
    """(documents, seconds, {index kind: (documents, seconds)}) to bulk-index again every document
    the join stored, bare, into copies of its indices with the same mappings and index sorting.

    Encoded and sent as the join's own writes are (services/feedback/writes.py): with the
    client's default encoder (`helpers.bulk`) the Python side, not Elasticsearch, was the bound,
    and the ceiling read half of what Elasticsearch absorbs. Each index is written on its own,
    so the breakdown tells which outputs the machine's Elasticsearch spends its time on.
    """
    es = es_util.client(settings)
    prefix = f"{settings.namespace}-feedback-"
    es.indices.refresh(index=f"{prefix}*")
    indices = sorted(i for i in es.indices.get(index=f"{prefix}*") if not i.startswith(f"{prefix}ceiling-"))
    copies: dict[str, list[dict]] = {}  # read first, so only the writes are timed
    for index in indices:
        copy = f"{prefix}ceiling-{index[len(prefix):]}"
        mapping = es.indices.get_mapping(index=index)[index]["mappings"]
        sort = es.indices.get_settings(index=index)[index]["settings"]["index"].get("sort")
        es.options(ignore_status=404).indices.delete(index=copy)
        es.indices.create(index=copy, **es_util.index_body(settings, mapping, {"sort": sort} if sort else None))
        docs = [{"_id": hit["_id"], "_source": hit["_source"]}
                for hit in helpers.scan(es, index=index, query={"query": {"match_all": {}}}, size=5000)]
        if docs:
            copies[copy] = docs
    per_index: dict[str, tuple[int, float]] = {}
    for copy, docs in copies.items():
        started = time.perf_counter()
        for i in range(0, len(docs), CEILING_BULK_DOCS):
            es_util.bulk(es, [{"action": orjson.dumps({"create": {"_index": copy, "_id": d["_id"]}}),
                               "source": orjson.dumps(d["_source"])} for d in docs[i:i + CEILING_BULK_DOCS]])
        es.indices.refresh(index=copy)
        kind = copy[len(f"{prefix}ceiling-"):].rsplit("-", 1)[0]
        per_index[kind] = (len(docs), time.perf_counter() - started)
    return (sum(n for n, _ in per_index.values()), sum(s for _, s in per_index.values()), per_index)


def measure(settings: config.Settings, args: argparse.Namespace, label: str,
            runner: Callable[[], tuple[float, Window]]) -> None:
    topics.ensure_all(settings)
    started = time.perf_counter()
    total = produce(settings, args.deals, args.events, args.seed)
    print(f"[{label}] produced {total:,} messages in {time.perf_counter() - started:.0f}s", flush=True)
    base, bare_cpu = bare_consume(settings, total)
    print(f"[{label}] baseline bare kafka-python consumer: {total / base:,.0f} msg/s ({base:.1f}s; "
          f"{1e6 * bare_cpu.process_s / total:.0f} µs of CPU per message)", flush=True)
    elapsed, cpu = runner()
    print(f"[{label}] feedback consumer, {label} (route + join + rollups, until every stage committed): "
          f"{total / elapsed:,.0f} msg/s ({elapsed:.1f}s), {touches(settings):,} touches; "
          f"ratio to bare consumer {base / elapsed:.3f} (consumer CPU {100 * cpu.process_s / elapsed:.0f}% of one "
          f"core, {1e6 * cpu.process_s / total:.0f} µs per message; machine {100 * cpu.busy_share:.0f}% busy)",
          flush=True)
    documents, ceiling, per_index = store_ceiling(settings)
    print(f"[{label}] store ceiling: {documents:,} documents bulk-indexed bare in {ceiling:.1f}s "
          f"({documents / ceiling:,.0f} docs/s); ratio to bare consumer at most {base / ceiling:.3f}", flush=True)
    print(f"[{label}] store ceiling by index: " + ", ".join(
        f"{kind} {n:,} in {s:.2f}s (alone: ratio at most {base / s:.3f})" for kind, (n, s) in per_index.items()),
        flush=True)
    if not args.keep:
        cleanup(settings)


def backfill(settings: config.Settings, args: argparse.Namespace) -> None:
    topics.ensure_all(settings)
    started = time.perf_counter()
    total = produce(settings, args.deals, args.events, args.seed)
    print(f"[backfill] produced {total:,} messages in {time.perf_counter() - started:.0f}s", flush=True)
    pipeline = Pipeline(settings)
    pipeline.ensure()
    progress = Progress(settings)
    bar = tqdm(total=total, unit="msg", desc="backfill (routed)", mininterval=2)
    last_report = 0.0
    started = time.perf_counter()
    pipeline.start()

    def update(left: dict[str, int]) -> None:
        nonlocal last_report
        _raise_if_failed(pipeline)
        bar.n = min(total, max(0, total - left["router"]))
        bar.set_postfix(join_lag=left["join"], rollup_lag=left["rollup"])
        bar.refresh()
        if time.perf_counter() - last_report > 30:
            last_report = time.perf_counter()
            rss, peak = memory_mb(os.getpid())
            tqdm.write(f"lag gauges: {lag_gauges()}; memory {rss:,.0f} MiB resident (peak {peak:,.0f}); {join_state()}")

    progress.wait_done(update)
    elapsed = time.perf_counter() - started
    bar.close()
    pipeline.stop()
    pipeline.join(60)
    print(f"[backfill] {total:,} messages ({args.deals:,} deals, {args.events:,} events) in {elapsed:.0f}s: "
          f"{total / elapsed:,.0f} msg/s, {touches(settings):,} touches; final lag gauges: {lag_gauges()}; "
          f"peak memory {memory_mb(os.getpid())[1]:,.0f} MiB resident; {join_state()}", flush=True)
    if not args.keep:
        cleanup(settings)


def join_state() -> str:
    """The join state's gauges: opportunities held and their estimated size (COLLATERAL_FEEDBACK_JOIN_CACHE_MB)."""
    held = metrics.FEEDBACK_JOIN_CACHED.collect()[0].samples[0].value
    size = metrics.FEEDBACK_JOIN_CACHED_BYTES.collect()[0].samples[0].value
    return f"join state {held:,.0f} opportunities, {size / 2**20:,.0f} MiB estimated"


def lag_gauges() -> dict[str, float]:
    """collateral_consumer_lag_messages summed per consumer, as this process exports it."""
    out: dict[str, float] = {}
    for family in metrics.CONSUMER_LAG.collect():
        for sample in family.samples:
            out[sample.labels["consumer"]] = out.get(sample.labels["consumer"], 0.0) + sample.value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--namespace", default=f"perfjoin{int(time.time()) % 100000}")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--processes", type=int, default=3, help="consumer processes of the scale-out run (0: none)")
    parser.add_argument("--backfill", action="store_true", help="one in-process run with a progress bar and lag")
    parser.add_argument("--keep", action="store_true", help="keep the bench indices")
    args = parser.parse_args()
    base = config.load(namespace=args.namespace, es_request_timeout_s=120.0, log_format="text",
                       feedback_signals_interval_s=0.0, feedback_markov_interval_s=0.0)
    base = dataclasses.replace(base, consumer_batch_size=base.feedback_consumer_batch_size)
    if args.backfill:
        backfill(base, args)
        return
    measure(base, args, "1 process", lambda: run_in_process(base))
    if not args.processes:
        return
    multi = dataclasses.replace(base, namespace=f"{args.namespace}m")
    measure(multi, args, f"{args.processes} processes", lambda: run_processes(multi, args.processes))


if __name__ == "__main__":
    main()
