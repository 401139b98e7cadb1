"""A running consumer sees partitions added to its topic within its metadata age, not the client's 5 minutes.

The shared loop's consumers refresh their cluster metadata every METADATA_MAX_AGE_MS (30 s);
the clients' default is 5 minutes. The same refresh is what ends the wait of a group that
was assigned before a just-created topic's metadata reached it. Against the real Kafka: a loop
consumes a one-partition topic, the topic gets a second partition, and a message produced
there must be consumed within the metadata age (plus a rebalance).
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Sequence

import pytest
from kafka.admin import NewPartitions

from services.common import kafka_io, topics
from services.common.consumer import METADATA_MAX_AGE_MS, ConsumerLoop, Message, Parsed, WriteResult
from tests.conftest import isolated, wait_until

pytestmark = pytest.mark.integration


class PartitionRecorder:
    """Records the partition of every message it writes."""

    name = "metadata-probe"

    def __init__(self, topic: str) -> None:
        self.topics = (topic,)
        self.dead_letter_topic = topic + ".dlq"
        self.partitions: set[int] = set()

    def parse(self, message: Message) -> int:
        return message.partition

    def write(self, batch: Sequence[Parsed[int]]) -> WriteResult:
        self.partitions.update(p.event for p in batch)
        return WriteResult(written=len(batch))


def _produce(settings, topic: str, partition: int) -> None:
    producer = kafka_io.Producer(settings, client_id="metadata-test")  # new: knows the topic's partitions now
    try:
        producer.send_and_wait([kafka_io.Record(topic, None, b"{}", (), partition)])
    finally:
        producer.close()


def test_a_partition_added_to_a_topic_is_consumed_within_the_metadata_age(settings):
    settings = dataclasses.replace(isolated(settings, "md"), kafka_topic_partitions=1)
    topic = topics.USAGE.name(settings)
    topics.ensure_all(settings)
    probe = PartitionRecorder(topic)
    loop = ConsumerLoop(probe, settings, group_id=f"{settings.namespace}.metadata")
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    try:
        _produce(settings, topic, 0)
        wait_until(lambda: 0 in probe.partitions, 60, what="the first partition's message")

        admin = kafka_io.admin_client(settings, client_id="metadata-test")
        try:
            admin.create_partitions({topic: NewPartitions(total_count=2)})
        finally:
            admin.close()
        _produce(settings, topic, 1)

        # Without the shorter age the consumer would not look for new partitions for 5 minutes.
        wait_until(lambda: 1 in probe.partitions, METADATA_MAX_AGE_MS / 1000 + 30, what="the added partition's message")
    finally:
        loop.stop()
        thread.join(30)
