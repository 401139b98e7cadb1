"""The join is exact with several consumer processes, one killed and one added mid-stream.

Three `python -m services.feedback.consumer` processes share the join; usage goes through
the real usage consumer (its bot verdicts reach the join through usage.classified.v1).
The inputs are shuffled, with duplicate events, duplicate and stale deal snapshots, and
corrections (won -> lost, an account change, a window change); half the events name only
an account. One process is SIGKILLed after the first third of the inputs and a fourth is
started after the second third. Once every stage has caught up, every stored touch must
equal a brute-force recomputation from the inputs (model.compute_touches over the final
deal snapshots and every distinct human event), without running rejoin, and the reports
served from the rollups (written by every process, each key by the owner of its partition)
must equal the exact path over the touches and credits. A second test instead stops and
starts the Kafka broker after the first third, with the same comparison.
"""

from __future__ import annotations

import dataclasses
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from scripts.local_services import free_port
from services.common import config, es as es_util, kafka_io, topics
from services.common.consumer import ConsumerLoop
from services.feedback import join, model, reports, store
from services.usage import bots
from services.usage.consumer import UsageProcessor
from tests.conftest import process_env, stop_or_start
from tests.integration.feedback.conftest import produce, wait_caught_up
from tests.integration.feedback.test_rollups import assert_rollups_equal_exact, exact_reports

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
N_DEALS, N_ACCOUNTS, N_EVENTS = 60, 12, 1500
SCANNER = "Mozilla/5.0 (compatible; Proofpoint URL Defense)"


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _snapshots(rng: random.Random) -> list[dict[str, Any]]:
    """1-3 snapshots per opportunity: corrections of stage, account and window, in version order."""
    out = []
    for i in range(N_DEALS):
        opp, account = f"so-{i}", f"sa-{rng.randrange(N_ACCOUNTS)}"
        created = T0 + timedelta(days=rng.uniform(0, 120))
        closed = created + timedelta(days=rng.uniform(5, 40))
        stage = rng.choice(["won", "lost", "open"])
        for version in range(rng.randint(1, 3)):
            updated = closed + timedelta(days=version + 1)
            if version:  # a correction
                change = rng.choice(["stage", "account", "window"])
                if change == "stage":
                    stage = {"won": "lost", "lost": "won", "open": "won"}[stage]
                elif change == "account":
                    account = f"sa-{rng.randrange(N_ACCOUNTS)}"
                else:
                    created -= timedelta(days=rng.uniform(1, 20))
                    closed += timedelta(days=rng.uniform(1, 20))
                    updated = max(updated, closed + timedelta(days=version + 1))
            snap = {"event_id": f"{opp}@{version}", "schema_version": 1, "occurred_at": _iso(updated),
                    "opportunity_id": opp, "account_id": account, "owner_rep_id": f"rep-{i % 5}", "stage": stage,
                    "amount": float(rng.randrange(1, 100) * 1000), "currency": "USD", "created_at": _iso(created),
                    "updated_at": _iso(updated), "industry": rng.choice(["retail", "health"])}
            if stage != "open":
                snap["closed_at"] = _iso(closed)
            out.append(snap)
    return out


def _events(rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for j in range(N_EVENTS):
        kind = rng.choice(["view", "download", "share", "present", "customer_open"])
        e = {"event_id": f"se-{j}", "schema_version": 1, "occurred_at": _iso(T0 + timedelta(hours=rng.uniform(-500, 4000))),
             "type": kind, "asset_id": f"sx-{rng.randrange(40)}", "rep_id": f"rep-{rng.randrange(5)}"}
        if rng.random() < 0.5:
            e["opportunity_id"] = f"so-{rng.randrange(N_DEALS + 5)}"  # a few never reported
        else:
            e["account_id"] = f"sa-{rng.randrange(N_ACCOUNTS)}"
        if kind == "customer_open":
            e["share_id"] = f"sh-{rng.randrange(30)}"
            e["user_agent"] = SCANNER if rng.random() < 0.3 else "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"
        out.append(e)
    return out


def brute_force(snapshots: list[dict[str, Any]], events: list[dict[str, Any]],
                settings: config.Settings) -> dict[str, dict[str, Any]]:
    """Every touch, computed directly from the inputs: the newest snapshot of each deal, each
    distinct event once, bots by the usage service's own classifier."""
    final: dict[str, dict[str, Any]] = {}
    for snap in snapshots:
        deal = model.validate_deal(snap)
        if deal["opportunity_id"] not in final or deal["version"] > final[deal["opportunity_id"]]["version"]:
            final[deal["opportunity_id"]] = deal
    docs = {}
    for e in events:
        verdict = bots.classify_event(e, None)
        classified = {k: v for k, v in e.items() if k not in ("user_agent",)}
        docs[e["event_id"]] = model.validate_classified(dict(classified, is_bot=verdict.is_bot))
    joiner = join.Joiner.__new__(join.Joiner)  # only its window/touch helpers, no stores
    joiner.grace = timedelta(days=settings.feedback_touch_grace_days)
    joiner.lookback = timedelta(days=settings.feedback_sourcing_lookback_days)
    expected: dict[str, dict[str, Any]] = {}
    for deal in final.values():
        expected.update(joiner.touches_of(deal, docs.values()))
    return expected


class FeedbackProcess:
    """`python -m services.feedback.consumer` in the test namespace."""

    def __init__(self, settings: config.Settings, log_path: Path) -> None:
        self.log_path = log_path
        env = process_env(settings, COLLATERAL_METRICS_PORT=str(free_port()), PYTHONUNBUFFERED="1")
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "services.feedback.consumer"], cwd=ROOT, env=env,
                                         stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def scale_settings(feedback_settings: config.Settings) -> Iterator[config.Settings]:
    # A namespace per test: topics, groups and indices of its own (a process caches which indices it created).
    settings = dataclasses.replace(
        feedback_settings, namespace=f"{feedback_settings.namespace}so{uuid.uuid4().hex[:6]}", kafka_topic_partitions=3,
        feedback_join_partitions=6, consumer_batch_size=40, feedback_consumer_batch_size=40,
        consumer_session_timeout_s=6.0, feedback_signals_interval_s=0.0, feedback_markov_interval_s=0.0,
        usage_signals_interval_s=0.0)
    topics.ensure_all(settings)
    yield settings
    es_util.client(settings).options(ignore_status=404).indices.delete(
        index=f"{settings.namespace}-feedback-*,{settings.namespace}-usage-*")


def test_three_processes_one_killed_one_added_match_brute_force(scale_settings, tmp_path):
    def between_thirds(step: int, processes: list[FeedbackProcess], usage_group: str) -> None:
        if step == 0:
            wait_caught_up(scale_settings, usage_group, (topics.USAGE.name(scale_settings),), 120)
            processes[0].kill()  # mid-stream: its partitions move to the others after the session timeout
        elif step == 1:
            processes.append(FeedbackProcess(scale_settings, tmp_path / "feedback-3.log"))

    run_join_and_compare(scale_settings, tmp_path, between_thirds)


@pytest.mark.fault
def test_kafka_restarted_mid_stream_join_matches_brute_force(scale_settings, tmp_path):
    """The broker stopped and started again while three processes join (router bundles, join
    stage writes, rollup keys and commits in flight): every stage rejoins its group, and what was
    produced or written but not committed is redone and absorbed by the idempotent writes."""
    def between_thirds(step: int, processes: list[FeedbackProcess], usage_group: str) -> None:
        if step == 0:
            stop_or_start("stop", "kafka")
            try:
                time.sleep(5)  # the outage, as long as a broker restart takes; the groups rebalance after it
            finally:
                stop_or_start("start", "kafka")

    run_join_and_compare(scale_settings, tmp_path, between_thirds)


def run_join_and_compare(settings: config.Settings, tmp_path: Path,
                         between_thirds: Callable[[int, list["FeedbackProcess"], str], None]) -> None:
    """Three consumer processes join the shuffled inputs, produced in thirds with `between_thirds`
    (the fault) after each; once every stage has caught up, the touches must equal the brute force
    and the rollup reports the exact path."""
    rng = random.Random(7)
    snapshots, events = _snapshots(rng), _events(rng)
    items = [(topics.DEALS, s["opportunity_id"], s) for s in snapshots]
    items += [(topics.DEALS, s["opportunity_id"], s) for s in rng.sample(snapshots, 20)]  # duplicate snapshots
    items += [(topics.USAGE, e["asset_id"], e) for e in events]
    items += [(topics.USAGE, e["asset_id"], e) for e in rng.sample(events, 200)]  # duplicate events
    rng.shuffle(items)  # stale snapshots arrive after newer ones

    usage_loop = ConsumerLoop(UsageProcessor(dataclasses.replace(settings, consumer_batch_size=200)), settings)
    usage_thread = threading.Thread(target=usage_loop.run, name="usage-consumer", daemon=True)
    usage_thread.start()
    processes = [FeedbackProcess(settings, tmp_path / f"feedback-{i}.log") for i in range(3)]
    producer = kafka_io.Producer(settings, client_id="scale-out-test")
    try:
        thirds = [items[i::3] for i in range(3)]
        for step, part in enumerate(thirds):
            for topic in (topics.DEALS, topics.USAGE):
                produce(settings, topic, [(k, v) for t, k, v in part if t is topic], producer=producer)
            between_thirds(step, processes, usage_loop.group_id)
        stages = [
            (usage_loop.group_id, (topics.USAGE.name(settings),)),
            (settings.group("feedback-router"), (topics.DEALS.name(settings), topics.USAGE_CLASSIFIED.name(settings))),
            (settings.group("feedback-join"), (topics.FEEDBACK_JOIN.name(settings),)),
            (settings.group("feedback-rollup"), (topics.FEEDBACK_ROLLUP.name(settings),)),
        ]
        for group, names in stages:
            wait_caught_up(settings, group, names, 240)
        for p in processes:
            if p.proc.returncode != -signal.SIGKILL:
                assert p.proc.poll() is None, p.log_path.read_text()[-3000:]
    finally:
        producer.close()
        for p in processes:
            p.stop()
        usage_loop.stop()
        usage_thread.join(30)

    es = es_util.client(settings)
    names = store.Names.of(settings)
    es.indices.refresh(index=names.touches)
    stored = {h["_id"]: h["_source"] for h in store.scan(es, names.touches, {"match_all": {}},
                                                         sort=[{"opportunity_id": "asc"}, {"asset_id": "asc"}])}
    expected = brute_force(snapshots, events, settings)
    assert len(expected) > 200  # the data set exercises the join
    assert sorted(stored) == sorted(expected)
    assert stored == expected
    # The rollups, written by every process for keys spanning their partitions, equal the exact path.
    es.indices.refresh(index=f"{names.credits},{names.rollups}")
    rep = reports.Reports(es, settings, names)
    months = [reports.Filters(), reports.Filters(start=T0, end=datetime(2026, 3, 1, tzinfo=timezone.utc)),
              reports.Filters(start=datetime(2026, 2, 1, tzinfo=timezone.utc))]
    assert rep.touched_counts(months[1]) and rep.attribution(months[0], 7.0).won_deals
    assert_rollups_equal_exact(rep, exact_reports(rep), months)
