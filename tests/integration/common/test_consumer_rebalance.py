"""A batch being retried after an outage is never written once its partitions have moved.

The shared loop retries a batch whose write failed with `errors.Unavailable`, polling between
retries to stay in its group, so a rebalance can happen between two retries. After it, the
batch's partitions may belong to another process: a late retry would write over that
process's newer writes (a touch computed by the join from an older state, for instance).
Two real consumers of one group on a two-partition topic in the real Kafka: the first one's
store is "down" until its partitions are revoked; the second one joins meanwhile. Every
write the first one makes after the revocation must hold only messages it polled after
that revocation, and every message must still be written and committed by someone.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, Sequence

import pytest
from kafka.structs import TopicPartition

from services.common import errors, kafka_io, topics
from services.common.consumer import ConsumerLoop, Message, Parsed, WriteResult
from tests.conftest import isolated, wait_until
from tests.integration.feedback.conftest import wait_caught_up

pytestmark = pytest.mark.integration

MESSAGES = 40


class RevocationProbe:
    """Records what it writes, tagged with the number of revocations seen when each message was parsed."""

    name = "rebalance-probe"

    def __init__(self, topic: str, down_until_revoked: bool) -> None:
        self.topics = (topic,)
        self.dead_letter_topic = topic + ".dlq"
        self.down = down_until_revoked
        self.revocations = 0
        self.failed = threading.Event()
        self.writes: list[list[tuple[int, int, int]]] = []  # per write: (partition, offset, revocations at parse)
        self.late: list[tuple[int, int, int]] = []  # messages written after a revocation but parsed before it

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if revoked:  # the first join revokes nothing
            self.revocations += 1
            self.down = False

    def parse(self, message: Message) -> int:
        return self.revocations

    def write(self, batch: Sequence[Parsed[int]]) -> WriteResult:
        if self.down:
            self.failed.set()
            raise errors.Unavailable("store down (test)")
        written = [(p.message.partition, p.message.offset, p.event) for p in batch]
        self.late += [w for w in written if w[2] != self.revocations]
        self.writes.append(written)
        return WriteResult(written=len(batch))


def test_a_batch_retried_across_a_rebalance_is_abandoned_not_written(settings):
    settings = dataclasses.replace(isolated(settings, "rb"), kafka_topic_partitions=2, consumer_session_timeout_s=6.0,
                                   consumer_batch_size=MESSAGES)
    topic = topics.USAGE.name(settings)
    topics.ensure_all(settings)
    producer = kafka_io.Producer(settings, client_id="rebalance-test")
    try:
        producer.send_and_wait([kafka_io.Record(topic, None, b"{}", (), i % 2) for i in range(MESSAGES)])
    finally:
        producer.close()

    first, second = RevocationProbe(topic, down_until_revoked=True), RevocationProbe(topic, down_until_revoked=False)
    loops = [ConsumerLoop(first, settings, group_id=f"{settings.namespace}.rebalance"),
             ConsumerLoop(second, settings, group_id=f"{settings.namespace}.rebalance")]
    threads = [threading.Thread(target=loop.run, daemon=True) for loop in loops]
    threads[0].start()
    try:
        assert first.failed.wait(60), "the first consumer never polled its batch"
        threads[1].start()  # joins the group while the first one retries its write
        wait_until(lambda: first.revocations >= 1, 60, what="the rebalance to revoke the first consumer's partitions")
        wait_caught_up(settings, f"{settings.namespace}.rebalance", (topic,), 120)
    finally:
        for loop in loops:
            loop.stop()
        for thread in threads:
            thread.join(30)

    assert first.late == [], "a batch polled before the rebalance was written after it"
    written = {(p, o) for probe in (first, second) for w in probe.writes for p, o, _ in w}
    assert written == {(i % 2, i // 2) for i in range(MESSAGES)}
