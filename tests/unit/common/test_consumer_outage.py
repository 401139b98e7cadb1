"""The loop's outage bookkeeping: whatever a retry paused is resumed once the retried action went through.

While a write or a dead-letter send is retried the loop keeps polling (to stay in its group),
and a poll may hand over a message librdkafka had already fetched: the loop pauses every
partition and seeks back to it. A dead-letter send retried during a Kafka outage used to leave
those pauses in place, and the consumer stayed in its group reading nothing, for good.
The integration tests (tests/integration/usage/test_fault.py, the feedback scale-out test)
restart the real broker; this pins the bookkeeping itself, with a stand-in for librdkafka's
consumer, because which poll hands over a prefetched message is a matter of timing there.
"""

from __future__ import annotations

from typing import Any

import pytest

from services.common import config, errors
from services.common.consumer import ConsumerLoop, Message, Parsed, WriteResult

SETTINGS = config.load(namespace="outage", consumer_max_backoff_s=0.1)
TOPIC = SETTINGS.namespace + ".usage.v1"


class _Processor:
    name = "outage-test"
    topics = (TOPIC,)
    dead_letter_topic = TOPIC + ".dlq"

    def parse(self, message: Message) -> Any:
        return message.value

    def write(self, batch: list[Parsed[Any]]) -> WriteResult:
        return WriteResult(written=len(batch))


class _Record:
    """A fetched record as confluent_kafka's `consume` returns it."""

    def __init__(self, partition: int, offset: int) -> None:
        self._partition, self._offset = partition, offset

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return TOPIC

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset


class _Consumer:
    """librdkafka's consumer as the loop uses it while it waits: an assignment, records already
    fetched (handed out by `consume` unless their partition is paused), pauses and seeks."""

    def __init__(self, partitions: int, prefetched: list[_Record]) -> None:
        from services.common.kafka_io import RdTopicPartition
        self.assigned = [RdTopicPartition(TOPIC, p) for p in range(partitions)]
        self.prefetched = prefetched
        self.paused: set[int] = set()
        self.seeks: list[tuple[int, int]] = []

    def assignment(self) -> list[Any]:
        return list(self.assigned)

    def pause(self, partitions: list[Any]) -> None:
        self.paused |= {tp.partition for tp in partitions}

    def resume(self, partitions: list[Any]) -> None:
        self.paused -= {tp.partition for tp in partitions}

    def consume(self, limit: int, timeout: float) -> list[_Record]:
        handed = [r for r in self.prefetched if r.partition() not in self.paused][:limit]
        self.prefetched = [r for r in self.prefetched if r not in handed]
        return handed

    def seek(self, tp: Any) -> None:
        self.seeks.append((tp.partition, tp.offset))


def _fails_then_succeeds(failures: int, seen: list[set[int]], consumer: _Consumer):
    calls = 0

    def action() -> bool:
        nonlocal calls
        seen.append(set(consumer.paused))
        calls += 1
        if calls <= failures:
            raise errors.Unavailable("Kafka unavailable: all brokers down")
        return True
    return action


@pytest.mark.parametrize("pause", [False, True], ids=["dead letters (no pause asked)", "write (paused)"])
def test_a_retry_resumes_every_partition_it_paused(pause: bool) -> None:
    loop = ConsumerLoop(_Processor(), SETTINGS)  # type: ignore[arg-type]
    consumer = _Consumer(2, prefetched=[_Record(1, 7), _Record(1, 8)])
    loop._consumer = consumer  # type: ignore[assignment]
    seen: list[set[int]] = []

    assert loop._with_backoff(_fails_then_succeeds(2, seen, consumer), pause=pause) is True

    # Paused before the first wait (a write), or once a wait's poll got a prefetched record (dead
    # letters), which was put back...
    assert consumer.seeks == ([] if pause else [(1, 7)])
    assert seen[1:] == [{0, 1}, {0, 1}]
    # ...and once the action went through, every partition is read again.
    assert consumer.paused == set()
    assert loop._outage_paused is False


def test_a_retry_with_nothing_prefetched_pauses_nothing_unless_asked() -> None:
    loop = ConsumerLoop(_Processor(), SETTINGS)  # type: ignore[arg-type]
    consumer = _Consumer(2, prefetched=[])
    loop._consumer = consumer  # type: ignore[assignment]
    seen: list[set[int]] = []

    assert loop._with_backoff(_fails_then_succeeds(1, seen, consumer), pause=False) is True
    assert seen == [set(), set()] and consumer.paused == set() and consumer.seeks == []
