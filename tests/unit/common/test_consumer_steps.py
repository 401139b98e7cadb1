"""The consumer loop's steps, each on its own (filter, dead-letter policy, commit offsets, merging halves), and the process's collector."""

from __future__ import annotations

import dataclasses
import gc
from types import SimpleNamespace
from typing import Any, Sequence

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition as RdTopicPartition
from kafka.structs import TopicPartition

from services.common import config, consumer, errors, metrics
from services.common.consumer import (CommitStep, DeadLetterPolicy, FilterStep, InvalidEvent, Message, ParseStep,
                                      TooManyDeadLetters, WriteResult, batch_full, gathered, merged)


def msg(offset: int, partition: int = 0, topic: str = "t", value: bytes = b"{}", key: bytes | None = b"k") -> Message:
    return Message(topic, partition, offset, key, value, 0)


class RecordingProducer:
    """Stands in for services.common.kafka_io.Producer: keeps what it was asked to send."""

    def __init__(self, down: bool = False) -> None:
        self.sent: list[Any] = []
        self.down = down

    def send_and_wait(self, records: Sequence[Any]) -> None:
        if self.down:
            raise errors.Unavailable("kafka down")
        self.sent.extend(records)


def test_filter_step_drops_what_the_processor_does_not_keep_and_counts_it() -> None:
    batch = ParseStep("unit", lambda m: m.offset)([msg(i) for i in range(6)])
    kept = FilterStep(lambda event: event % 2 == 0)(batch)
    assert [p.event for p in kept.parsed] == [0, 2, 4] and kept.filtered == 3
    assert len(kept.messages) == 6  # every message is still committed with the batch


def test_no_filter_keeps_everything() -> None:
    batch = FilterStep(None)(ParseStep("unit", lambda m: m.offset)([msg(1), msg(2)]))
    assert (len(batch.parsed), batch.filtered) == (2, 0)


def test_dead_letters_carry_the_original_bytes_and_the_reason() -> None:
    producer = RecordingProducer()
    policy = DeadLetterPolicy("unit", "t.dlq", producer, max_consecutive=10)
    policy([(msg(7, partition=2, value=b"\xff", key=None), InvalidEvent.at("schema", "asset_id", "is required"))])
    (record,) = producer.sent
    assert (record.topic, record.key, record.value) == ("t.dlq", "", b"\xff")
    assert dict(record.headers) == {"dlq.reason": b"schema", "dlq.detail": b"asset_id: is required",
                                    "dlq.source": b"t/2/7", "dlq.consumer": b"unit"}


def test_a_run_of_dead_letters_stops_the_consumer_and_a_good_batch_resets_it() -> None:
    policy = DeadLetterPolicy("unit", "t.dlq", RecordingProducer(), max_consecutive=3)
    bad = [(msg(i), InvalidEvent("schema", "x")) for i in range(3)]
    policy(bad)
    policy([])  # a batch without dead letters
    policy(bad)
    with pytest.raises(TooManyDeadLetters):
        policy(bad[:1])


def test_an_unreachable_dead_letter_topic_is_an_outage_not_a_count() -> None:
    policy = DeadLetterPolicy("unit", "t.dlq", RecordingProducer(down=True), max_consecutive=0)
    with pytest.raises(errors.Unavailable):
        policy([(msg(1), InvalidEvent("schema", "x"))])
    assert policy.consecutive == 0


def test_commit_offsets_are_the_next_offset_per_owned_partition() -> None:
    messages = [msg(5, 0), msg(9, 0), msg(7, 0), msg(3, 1), msg(4, 2, topic="u")]
    owned = {TopicPartition("t", 0), TopicPartition("u", 2)}
    offsets = CommitStep.offsets(messages, owned)
    assert offsets == {TopicPartition("t", 0): 10, TopicPartition("u", 2): 5}


class FailingCommits:
    """A consumer whose commits fail as librdkafka's do: raised, or reported per partition."""

    def __init__(self, code: int, per_partition: bool = False) -> None:
        self.code = code
        self.per_partition = per_partition
        self.committed: list[RdTopicPartition] = []

    def assignment(self) -> list[RdTopicPartition]:
        return [RdTopicPartition("t", 0)]

    def commit(self, offsets: list[RdTopicPartition], asynchronous: bool) -> list[SimpleNamespace]:
        assert asynchronous is False  # the batch counts as committed only once Kafka said so
        self.committed = offsets
        if not self.per_partition:
            raise KafkaException(KafkaError(self.code))
        return [SimpleNamespace(topic="t", partition=0, offset=offsets[0].offset, error=KafkaError(self.code))]


@pytest.mark.parametrize("per_partition", [False, True])
@pytest.mark.parametrize("code", [KafkaError._TIMED_OUT, KafkaError._TRANSPORT, KafkaError.COORDINATOR_NOT_AVAILABLE])
def test_a_commit_kafka_cannot_take_is_reported_not_raised(code: int, per_partition: bool) -> None:
    """The batch is written; raising would stop the consumer for a replay the next commit avoids."""
    failures = metrics.CONSUMER_COMMIT_FAILURES.labels("unit-commit")
    before = failures._value.get()
    consumer = FailingCommits(code, per_partition)
    assert CommitStep("unit-commit")(consumer, [msg(3)]) is False
    assert failures._value.get() == before + 1
    assert [(tp.topic, tp.partition, tp.offset) for tp in consumer.committed] == [("t", 0, 4)]


@pytest.mark.parametrize("code", [KafkaError.REBALANCE_IN_PROGRESS, KafkaError.ILLEGAL_GENERATION,
                                  KafkaError.UNKNOWN_MEMBER_ID])
def test_a_commit_refused_after_a_rebalance_is_neither_raised_nor_a_failure(code: int) -> None:
    """The partitions' next owner reads the batch again; the commit failure alert is for outages."""
    failures = metrics.CONSUMER_COMMIT_FAILURES.labels("unit-refused")
    before = failures._value.get()
    assert CommitStep("unit-refused")(FailingCommits(code), [msg(3)]) is False
    assert failures._value.get() == before


def test_only_partitions_still_assigned_are_committed() -> None:
    consumer = FailingCommits(KafkaError._TIMED_OUT)
    assert CommitStep("unit-commit")(consumer, [msg(3, partition=1)]) is False
    assert consumer.committed == []  # partition 1 is not assigned: nothing sent


def test_halves_merge_into_one_result() -> None:
    first = WriteResult(written=2, duplicates=1, rejected=[(msg(1), InvalidEvent("x", "y"))], newest_event_time_s=5.0)
    second = WriteResult(written=3, stale=2, newest_event_time_s=None)
    both = merged(first, second)
    assert (both.written, both.duplicates, both.stale, len(both.rejected), both.newest_event_time_s) == (5, 1, 2, 1, 5.0)


def test_the_batch_step_gathers_polls_of_one_generation() -> None:
    parse = ParseStep("unit", lambda m: m.offset)
    first = FilterStep(lambda e: e != 1)(parse([msg(0), msg(1)], generation=3))
    second = parse([msg(2), msg(3, value=b"x")], generation=3)
    both = gathered(first, second)
    assert ([m.offset for m in both.messages], [p.event for p in both.parsed], both.filtered) == ([0, 1, 2, 3], [0, 2, 3], 1)


def test_a_gathered_batch_is_full_at_its_message_count_or_its_bytes() -> None:
    parse = ParseStep("unit", lambda m: m.offset)
    batch = parse([msg(0, value=b"x" * 600), msg(1, value=b"x" * 400)])
    assert (batch_full(batch, 3), batch_full(batch, 2), batch_full(batch, 3, 1000), batch_full(batch, 3, 1001)) == (
        False, True, True, False)


def test_a_batch_polled_before_a_rebalance_is_not_gathered() -> None:
    parse = ParseStep("unit", lambda m: m.offset)
    old, new = parse([msg(0)], generation=1), parse([msg(5)], generation=2)
    assert [m.offset for m in gathered(old, new).messages] == [5]


def test_a_rebalance_waits_for_the_write_in_flight_and_never_raises() -> None:
    """A rebalance callback must not raise; a failed write must not make it."""
    from concurrent.futures import Future

    from services.common.consumer import Batch, ConsumerLoop, _InFlight

    loop = object.__new__(ConsumerLoop)
    loop._generation = 4
    failed: Future[WriteResult] = Future()
    failed.set_exception(errors.Unavailable("store down"))
    loop._in_flight = _InFlight(failed, Batch([msg(1)], started=0.0))
    loop._on_revoked()
    assert (loop._in_flight, loop._generation) == (None, 5)
    loop._on_revoked()  # nothing in flight
    assert loop._generation == 6


# ---- the process ------------------------------------------------------------------------------

@pytest.fixture
def collector_restored():
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_the_collector_runs_once_per_threshold_allocations_and_skips_start_up_objects(collector_restored) -> None:
    middle, oldest = gc.get_threshold()[1:]
    consumer.tune_garbage_collector(50_000)
    assert gc.get_threshold() == (50_000, middle, oldest)
    assert gc.get_freeze_count() > 0


def test_threshold_zero_keeps_the_interpreters_collector(collector_restored) -> None:
    before = gc.get_threshold()
    consumer.tune_garbage_collector(0)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_every_consumer_process_tunes_the_collector_from_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    tuned: list[int] = []
    monkeypatch.setattr(consumer, "tune_garbage_collector", tuned.append)
    monkeypatch.setattr(consumer.health, "serve_http", lambda *args, **kwargs: None)
    monkeypatch.setattr(consumer, "stop_on_signals", lambda stop: None)
    settings = dataclasses.replace(config.load({}), consumer_gc_threshold=12_345)
    consumer.run_process("probe", consumer.LoopGroup([], settings), metrics_port=0)
    assert tuned == [12_345]
