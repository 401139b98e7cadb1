"""Consumer liveness follows the loop's progress: a write that never returns fails
/healthz; an idle loop, or one paused because a store is down, stays alive.

The loop runs in-process against the real Kafka with a processor whose write can be
made to block or to fail; /healthz is served exactly as `run_forever` serves it.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import urllib.error
import urllib.request
import uuid
from typing import Any, Iterator, Sequence

import pytest
from kafka import KafkaProducer

from scripts.local_services import free_port
from services.common import config, errors, kafka_io
from services.common.consumer import ConsumerLoop, Message, Parsed, WriteResult, serve_liveness
from tests.integration.health.conftest import wait_until

THRESHOLD_S = 1.0


class GatedProcessor:
    """Writes block while `gate` is closed, or fail with Unavailable while `down` is set."""

    name = "health-liveness"

    def __init__(self, topic: str, pipelined: bool) -> None:
        self.topics = [topic]
        self.dead_letter_topic = f"{topic}.dlq"
        self.pipelined = pipelined
        self.gate = threading.Event()
        self.gate.set()
        self.down = threading.Event()
        self.writes_started = 0
        self.written = 0

    def parse(self, message: Message) -> bytes:
        return message.value or b""

    def write(self, batch: Sequence[Parsed[bytes]]) -> WriteResult:
        self.writes_started += 1
        if self.down.is_set():
            raise errors.Unavailable("store is down")
        self.gate.wait()
        self.written += len(batch)
        return WriteResult(written=len(batch))


def liveness(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.fixture(params=[False, True], ids=["sequential", "pipelined"])
def running_loop(request, stack: config.Settings) -> Iterator[tuple[GatedProcessor, int, KafkaProducer]]:
    settings = dataclasses.replace(stack, consumer_liveness_timeout_s=THRESHOLD_S, consumer_max_backoff_s=2.0,
                                   metrics_host="127.0.0.1")
    topic = settings.topic(f"liveness.{uuid.uuid4().hex[:8]}")
    processor = GatedProcessor(topic, pipelined=request.param)
    kafka_io.ensure_topics(settings, [topic, processor.dead_letter_topic], partitions=1)
    loop = ConsumerLoop(processor, settings, group_id=f"{topic}.group")
    port = free_port()
    server = serve_liveness(loop, settings, port)
    thread = threading.Thread(target=loop.run, name="liveness-loop", daemon=True)
    thread.start()
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap.split(","), acks="all")
    yield processor, port, producer
    processor.down.clear()
    processor.gate.set()
    loop.stop()
    thread.join(60)
    producer.close()
    server.shutdown()
    server.server_close()


def test_a_blocked_write_fails_liveness_and_recovers(running_loop):
    processor, port, producer = running_loop
    wait_until(lambda: liveness(port)[0] == 200, timeout_s=30, what="an idle loop is alive")
    processor.gate.clear()
    producer.send(processor.topics[0], b"stuck").get(timeout=30)
    wait_until(lambda: processor.writes_started >= 1, timeout_s=60, what="the write to start")
    code, body = wait_until(lambda: (lambda r: r if r[0] == 503 else None)(liveness(port)), timeout_s=30,
                            what="/healthz 503 while the write is stuck")
    assert body["alive"] is False and body["seconds_since_heartbeat"] > THRESHOLD_S
    processor.gate.set()
    wait_until(lambda: liveness(port)[0] == 200 and processor.written >= 1, timeout_s=30,
               what="alive again once the write returned")


def test_a_loop_paused_for_an_outage_stays_alive(running_loop):
    processor, port, producer = running_loop
    processor.down.set()
    producer.send(processor.topics[0], b"waits").get(timeout=30)
    # Retries back off 0.5 + 1 + 2 s: by the fourth attempt the loop has been paused for
    # well over the threshold, polling all the while.
    wait_until(lambda: processor.writes_started >= 4, timeout_s=60, what="retries during the outage")
    code, body = liveness(port)
    assert code == 200, body
    processor.down.clear()
    wait_until(lambda: processor.written >= 1, timeout_s=30, what="the write after the outage")
