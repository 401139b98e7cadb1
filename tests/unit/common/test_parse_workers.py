"""The parse step in worker processes gives exactly the in-process step's outcomes, and survives its workers.

Real worker processes (multiprocessing "spawn"); the parsers are the usage consumer's own and,
for exceptions nobody anticipated, one defined here (a worker imports this module to build it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from services.common import config, metrics, topics
from services.common.consumer import INTERNAL_PARSE_ERROR, ConsumerLoop, Message, ParseStep, Parsed, WriteResult
from services.common.parse_workers import WorkerParseStep
from services.usage.consumer import UsageParser, UsageProcessor

SETTINGS = config.load(namespace="parseworkers")
USAGE = topics.USAGE.name(SETTINGS)
CATALOG = topics.CATALOG.name(SETTINGS)


def exploding_parser(settings: config.Settings) -> Callable[[Message], Any]:
    """A parser with a bug: any value starting with b"boom" raises something no contract names."""
    usage = UsageParser(settings)

    def parse(message: Message) -> Any:
        if (message.value or b"").startswith(b"boom"):
            raise ZeroDivisionError("a bug, not bad data")
        return usage(message)

    return parse


def unpicklable_parser(settings: config.Settings) -> Callable[[Message], Any]:
    """A parser whose event for b"lock" cannot cross back to the consumer (a lock does not pickle)."""
    usage = UsageParser(settings)

    def parse(message: Message) -> Any:
        return threading.Lock() if message.value == b"lock" else usage(message)

    return parse


def _event(i: int) -> dict[str, Any]:
    event = {"event_id": f"ev-{i}", "schema_version": 1, "occurred_at": "2026-11-20T10:00:00.000Z",
             "type": ("view", "download", "customer_open", "page_view")[i % 4], "asset_id": f"asset-{i % 7}",
             "rep_id": "rep-1", "account_id": "acct-1"}
    if i % 4 == 2:
        event["share_id"] = "share-1"
    if i % 4 == 3:
        event.update(page=2, seconds=4.5)
    return event


def messages() -> list[Message]:
    """Valid usage events with a catalogue of bad ones in between, and one catalog snapshot."""
    values: list[tuple[str, bytes | None]] = [
        (USAGE, json.dumps(_event(i)).encode()) for i in range(40)]
    bad = [b"{not json", None, b"", b"[1, 2]", json.dumps({**_event(90), "type": "teleport"}).encode(),
           json.dumps({**_event(91), "occurred_at": "2026-11-20 10:00"}).encode(), b"\xff\xfe{}", b"boom",
           json.dumps({**_event(92), "occurred_at": "2999-01-01T00:00:00Z"}).encode(), b"{" * 100 + b"}" * 100]
    for position, value in zip(range(3, 40, 4), bad):
        values.insert(position, (USAGE, value))
    values.append((CATALOG, json.dumps({
        "event_id": "cat-1", "schema_version": 1, "occurred_at": "2026-11-20T09:00:00Z",
        "received_at": "2026-11-20T09:00:00Z", "event_type": "published", "asset_id": "asset-1", "title": "Deck",
        "type": "deck", "status": "published", "owner": "marketing", "buying_stages": ["decision"],
        "industries": [], "regions": [], "products": [], "personas": [], "tags": [], "language": "en",
        "created_at": "2026-11-19T09:00:00Z", "version": 3}).encode()))
    return [Message(topic, 0, offset, b"k", value, 1_764_000_000_000 + offset)
            for offset, (topic, value) in enumerate(values)]


def outcome(batch: Any) -> tuple[list[tuple[int, Any]], list[tuple[int, str, str, str | None]], int]:
    return ([(p.message.offset, p.event) for p in batch.parsed],
            [(m.offset, e.reason, e.detail, e.field) for m, e in batch.dead], batch.generation)


@pytest.fixture
def step() -> Iterator[WorkerParseStep]:
    made = WorkerParseStep("test-parse", exploding_parser, SETTINGS, 2, fallback=ParseStep("test-parse", exploding_parser(SETTINGS)))
    made.start()
    yield made
    made.close()


def test_workers_give_the_in_process_outcomes_in_order(step: WorkerParseStep) -> None:
    batch = messages()
    expected = outcome(ParseStep("test-parse", exploding_parser(SETTINGS))(batch, generation=7))
    got = outcome(step(batch, generation=7))
    assert got == expected
    parsed, dead, _ = got
    assert len(parsed) == 41 and [reason for _, reason, _, _ in dead] == [
        "bad_json", "empty", "empty", "bad_json", "unknown_type", "schema", "bad_encoding", INTERNAL_PARSE_ERROR,
        "future_event_time", "too_deep"]
    assert ("ZeroDivisionError: a bug, not bad data") in dead[7][2]
    assert [m.offset for m in step(batch).messages] == list(range(len(batch)))  # the batch keeps every message


def test_a_killed_worker_costs_one_batch_parsed_in_the_consumer(step: WorkerParseStep) -> None:
    batch = messages()
    expected = outcome(step(batch))
    restarts = metrics.CONSUMER_PARSE_WORKER_RESTARTS.labels("test-parse")._value.get()
    assert step._pool is not None
    first_workers = set(step._pool._processes)  # type: ignore[attr-defined]
    for pid in first_workers:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)  # the pool notices its dead workers
    assert outcome(step(batch)) == expected  # parsed by the fallback
    assert metrics.CONSUMER_PARSE_WORKER_RESTARTS.labels("test-parse")._value.get() == restarts + 1
    assert outcome(step(batch)) == expected  # by new workers
    assert step._pool is not None and not first_workers & set(step._pool._processes)  # type: ignore[attr-defined]


def test_a_batch_the_workers_cannot_hand_back_is_parsed_in_the_consumer() -> None:
    batch = messages()
    batch.insert(5, batch[5]._replace(value=b"lock"))
    batch = [m._replace(offset=offset) for offset, m in enumerate(batch)]
    fallback = ParseStep("test-parse", unpicklable_parser(SETTINGS))
    step = WorkerParseStep("test-parse", unpicklable_parser, SETTINGS, 1, fallback=fallback)
    try:
        got = step(batch, generation=2)  # the worker's answer does not pickle: nothing escapes
        expected = fallback(batch, generation=2)
        assert [p.message.offset for p in got.parsed] == [p.message.offset for p in expected.parsed]
        assert [(m.offset, e.reason) for m, e in got.dead] == [(m.offset, e.reason) for m, e in expected.dead]
        locked = [p.event for p in got.parsed if p.message.offset == 5]
        assert got.generation == 2 and len(locked) == 1 and type(locked[0]) is type(threading.Lock())
        assert outcome(step(messages())) == outcome(fallback(messages()))  # the same workers go on
    finally:
        step.close()


def test_close_stops_the_workers(step: WorkerParseStep) -> None:
    step(messages())
    assert step._pool is not None
    workers = list(step._pool._processes.values())  # type: ignore[attr-defined]
    step.close()
    assert workers and not any(w.is_alive() for w in workers)


_ORPHAN_SCRIPT = """
import sys, time
from services.common import config
from services.common.consumer import ParseStep
from services.common.parse_workers import WorkerParseStep
from services.usage.consumer import UsageParser
settings = config.load(namespace="parseworkers")
step = WorkerParseStep("orphan", UsageParser, settings, 2, ParseStep("orphan", UsageParser(settings)))
step.start()
print(" ".join(str(pid) for pid in step._pool._processes), flush=True)
time.sleep(120)
"""


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_workers_end_with_a_killed_consumer() -> None:
    root = Path(__file__).resolve().parents[3]
    consumer = subprocess.Popen([sys.executable, "-c", _ORPHAN_SCRIPT], cwd=root, stdout=subprocess.PIPE,
                                env={**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'gen' / 'python'}"})
    try:
        assert consumer.stdout is not None
        workers = [int(pid) for pid in consumer.stdout.readline().split()]
        assert len(workers) == 2 and all(_running(pid) for pid in workers)
    finally:
        consumer.kill()  # SIGKILL: the pool is never shut down
        consumer.wait()
        if consumer.stdout is not None:
            consumer.stdout.close()
    deadline = time.monotonic() + 15
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in workers if _running(pid)], "parse workers outlived their consumer"


class _Recorder:
    name = "recorder"
    topics = (USAGE,)
    dead_letter_topic = "recorder.dlq"

    def parse(self, message: Message) -> Any:
        return message.value

    def write(self, batch: list[Parsed[Any]]) -> WriteResult:
        return WriteResult(written=len(batch))


def test_the_loop_parses_in_workers_only_when_asked_and_able() -> None:
    with_workers = config.load(namespace="parseworkers", consumer_parse_processes=2)
    assert isinstance(ConsumerLoop(UsageProcessor(with_workers), with_workers).parse_step, WorkerParseStep)
    assert type(ConsumerLoop(UsageProcessor(SETTINGS), SETTINGS).parse_step) is ParseStep
    # A processor without a parser factory parses in its own process whatever the setting.
    assert type(ConsumerLoop(_Recorder(), with_workers).parse_step) is ParseStep  # type: ignore[arg-type]
