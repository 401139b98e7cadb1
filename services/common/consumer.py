"""The Kafka consumer loop every stream processor runs, as small composable steps.

A processor supplies what is specific to its topics, and the loop does the rest:

    parse(message) -> event          raise InvalidEvent(reason, detail) for bad input
    keep(event) -> bool              optional: False drops a valid event (committed, not written)
    parser_factory(settings) -> parse  optional: builds `parse` in a parse worker process
    write(events)  -> WriteResult    raise errors.Unavailable when a store is down

Every batch takes the same path through the steps:

    poll -> ParseStep -> FilterStep -> WriteStep -> DeadLetterPolicy -> CommitStep

- ParseStep: poison never escapes it; an InvalidEvent is a dead letter with its reason, any
  other exception a dead letter as `internal_parse_error` (parsing is a pure function of the
  message: retrying cannot help, and letting it escape would stop the consumer on that offset
  forever). A processor with a `parser_factory` may parse in worker processes instead
  (`COLLATERAL_CONSUMER_PARSE_PROCESSES`, parse_workers.WorkerParseStep): same outcomes, same
  order, with the work off the loop's interpreter.
- FilterStep: the processor's `keep` drops valid events nobody needs to write (outcome `filtered`).
- WriteStep: a write that raises anything but an outage is split in halves until the failing
  messages stand alone; each is dead-lettered as `write_failed`, the rest are written (writes are
  idempotent). An outage (errors.Unavailable, or an exception `es.is_unavailable` recognises)
  pauses the partitions - the loop keeps polling so the consumer stays in its group and live -
  and the batch is retried with exponential backoff: good events are never dropped for it.
- DeadLetterPolicy: dead letters go to the processor's dead-letter topic with the reason, the
  detail, the source offset and the original bytes, retried with the same backoff (a record
  already fetched that a wait's poll hands over is put back and the partitions paused, until
  the dead letters went out); after
  `dlq_max_consecutive` dead letters in a row the loop stops (TooManyDeadLetters), because
  that is a bad deploy, not bad data.
- CommitStep: offsets are committed only after the write succeeded and the dead letters were
  acknowledged, in batch order, so a crash or rebalance mid-batch loses nothing (replays are
  absorbed by the writers' deterministic ids). A commit refused because of a rebalance is
  logged, not fatal: the batch is redelivered.

One code path runs every consumer, pipelined: batch N+1 is polled and parsed while batch N is
written on a writer thread (`pipelined = False` on a processor waits for each write before the
next poll, on the same path); a processor may let the next batch gather up to `max_batch_polls`
polls meanwhile (the batch step), and may cap it at `max_batch_bytes` of message values. Writes
stay sequential and in order. When partitions are revoked, the write in flight finishes before
the processor's `on_partitions_revoked` runs (no write overlaps the hand-over) and stays
uncommitted, a batch polled before the rebalance is dropped unwritten, and a batch whose write
is being retried after an outage is abandoned if a rebalance happens
between two retries (the retries poll to stay in the group): whoever owns those partitions
next reads them again, absorbed by the idempotent writes. That includes this consumer: the
assignors are eager, so a partition it keeps is assigned again from its committed offset.
SIGTERM finishes the batch in flight, commits, and leaves the group cleanly.

The group member is librdkafka's (confluent-kafka): it fetches and decodes records in its own
threads, in C, where kafka-python spent 12-15 us of the loop's interpreter per record
(bench/kafka_clients.py).
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Generic, Iterable, NamedTuple, Protocol, Sequence, TypeVar

from kafka.structs import TopicPartition

from services.common import config, errors, es as es_util, health, kafka_io, logs, metrics, periodic
from services.common.contracts import times
from services.common.contracts.errors import InvalidEvent
from services.common.contracts.jsonbytes import MAX_JSON_DEPTH, parse_json_object
from services.common.kafka_io import (Producer, RdConsumer, RdKafkaError, RdKafkaException, RdTopicPartition,
                                      Record)
from services.common.parse_workers import WorkerParseStep

__all__ = ["INTERNAL_PARSE_ERROR", "MAX_JSON_DEPTH", "METADATA_MAX_AGE_MS", "WRITE_FAILED", "CommitStep", "ConsumerLoop",
           "DeadLetterPolicy", "FilterStep", "gathered", "InvalidEvent", "LoopGroup", "Message", "ParseStep", "Parsed",
           "Processor", "TooManyDeadLetters", "WriteResult", "WriteStep", "parse_json_object", "run_forever",
           "run_process", "serve_liveness", "stop_on_signals", "tune_garbage_collector"]

log = logging.getLogger(__name__)

# How old the consumer's cluster metadata may get: how long a running consumer takes to see
# partitions added to its topics (30 s instead of the client's 5 min default).
METADATA_MAX_AGE_MS = 30_000

T = TypeVar("T")

INTERNAL_PARSE_ERROR = "internal_parse_error"
WRITE_FAILED = "write_failed"


class Message(NamedTuple):
    """One Kafka record as the steps see it; immutable. A tuple, not a frozen dataclass: one is
    built per record polled, and a tuple is built several times faster."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def appended_at(self) -> datetime:
        """When the broker appended the message: an event's received_at when its producer left it out."""
        if self.timestamp_ms > 0:
            return times.from_epoch_ms(self.timestamp_ms)
        return datetime.now(times.UTC)

    @property
    def appended_at_iso(self) -> str:
        """`appended_at` in the canonical stored form (cheap: called for every event)."""
        return times.format_epoch_ms(self.timestamp_ms) if self.timestamp_ms > 0 else times.now_iso()

    @property
    def source(self) -> str:
        """topic/partition/offset, as logs and the `dlq.source` header name a message."""
        return f"{self.topic}/{self.partition}/{self.offset}"


@dataclass
class Parsed(Generic[T]):
    message: Message
    event: T


@dataclass
class WriteResult:
    """What `write` did with a batch. Counts feed the metrics; rejects are dead-lettered."""

    written: int = 0
    duplicates: int = 0
    stale: int = 0
    rejected: list[tuple[Message, InvalidEvent]] = field(default_factory=list)
    newest_event_time_s: float | None = None


class Processor(Protocol[T]):
    name: str  # metric label and consumer-group suffix: "usage-consumer"
    topics: Sequence[str]
    dead_letter_topic: str

    def parse(self, message: Message) -> T: ...

    def write(self, batch: Sequence[Parsed[T]]) -> WriteResult: ...


class TooManyDeadLetters(RuntimeError):
    """Stops the consumer: every message failing means the code, not the data, is wrong."""


@dataclass
class Batch:
    """One polled batch on its way through the steps."""

    messages: list[Message]
    started: float
    generation: int = 0  # the loop's rebalance generation when it was polled
    parsed: list[Parsed[Any]] = field(default_factory=list)
    dead: list[tuple[Message, InvalidEvent]] = field(default_factory=list)
    filtered: int = 0


# ---- steps ------------------------------------------------------------------------------------

def gathered(earlier: Batch | None, later: Batch) -> Batch:
    """The batch step: a later poll's batch appended to the one waiting for the writer.

    A batch polled before a rebalance is dropped instead (its partitions may have moved).
    """
    if earlier is None or earlier.generation != later.generation:
        return later
    earlier.messages.extend(later.messages)
    earlier.parsed.extend(later.parsed)
    earlier.dead.extend(later.dead)
    earlier.filtered += later.filtered
    return earlier


def batch_full(batch: Batch, limit: int, byte_limit: int | None = None) -> bool:
    """Has the batch gathered while a write runs reached `limit` messages or `byte_limit` bytes of values?"""
    if len(batch.messages) >= limit:
        return True
    return byte_limit is not None and sum(len(m.value or b"") for m in batch.messages) >= byte_limit


class ParseStep:
    """Messages to parsed events and dead letters; no exception escapes it."""

    def __init__(self, name: str, parse: Callable[[Message], Any]) -> None:
        self.name = name
        self.parse = parse

    def __call__(self, messages: list[Message], generation: int = 0) -> Batch:
        batch = Batch(messages, started=time.perf_counter(), generation=generation)
        metrics.CONSUMER_MESSAGES.labels(self.name).inc(len(messages))
        parse, parsed, dead = self.parse, batch.parsed, batch.dead
        for message in messages:
            try:
                parsed.append(Parsed(message, parse(message)))
            except InvalidEvent as exc:
                dead.append((message, exc))
            except Exception as exc:  # noqa: BLE001 - one message must never stop the consumer
                dead.append((message, unforeseen(message, exc)))
        return batch


def unforeseen(message: Message, exc: Exception) -> InvalidEvent:
    """An exception the parse step did not anticipate, as a dead letter; the traceback is logged (a bug to fix)."""
    log.warning("unexpected error parsing a message; dead-lettering it", exc_info=exc,
                extra={"source": message.source, "error_type": type(exc).__name__})
    return InvalidEvent(INTERNAL_PARSE_ERROR, f"{type(exc).__name__}: {str(exc)[:300]}")


class FilterStep:
    """Drops valid events the processor does not need written; they are committed with the batch."""

    def __init__(self, keep: Callable[[Any], bool] | None) -> None:
        self.keep = keep

    def __call__(self, batch: Batch) -> Batch:
        if self.keep is not None and batch.parsed:
            kept = [p for p in batch.parsed if self.keep(p.event)]
            batch.filtered += len(batch.parsed) - len(kept)
            batch.parsed = kept
        return batch


class WriteStep:
    """The processor's write, with failing messages isolated by halving and outages raised as Unavailable."""

    def __init__(self, write: Callable[[Sequence[Parsed[Any]]], WriteResult]) -> None:
        self.write = write

    def __call__(self, parsed: list[Parsed[Any]]) -> WriteResult:
        """Write; if the write raises anything but an outage, find the messages that make it fail.

        A store that refuses a whole request because of one document (or a processor bug that
        one odd event triggers) would otherwise stop the consumer before its commit, and every
        restart would fail on the same batch. If every message fails, that is a bad deploy,
        and the consecutive dead-letter limit stops the consumer.
        """
        if not parsed:
            return WriteResult()
        try:
            return self.write(parsed)
        except errors.Unavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - isolated below; one message must never stop the consumer
            if es_util.is_unavailable(exc):
                raise errors.Unavailable(f"Elasticsearch unavailable: {exc}") from exc
            if len(parsed) == 1:
                message = parsed[0].message
                log.warning("write failed for one message; dead-lettering it", exc_info=exc,
                            extra={"source": message.source, "error_type": type(exc).__name__})
                return WriteResult(rejected=[(message, InvalidEvent(WRITE_FAILED, f"{type(exc).__name__}: {str(exc)[:300]}"))])
            middle = len(parsed) // 2
            return merged(self(parsed[:middle]), self(parsed[middle:]))


def merged(first: WriteResult, second: WriteResult) -> WriteResult:
    """Two halves' write results as one batch's."""
    newest = [t for t in (first.newest_event_time_s, second.newest_event_time_s) if t is not None]
    return WriteResult(written=first.written + second.written, duplicates=first.duplicates + second.duplicates,
                       stale=first.stale + second.stale, rejected=first.rejected + second.rejected,
                       newest_event_time_s=max(newest) if newest else None)


class DeadLetterPolicy:
    """Where dead letters go and when too many of them stop the consumer."""

    def __init__(self, name: str, topic: str, producer: Any, max_consecutive: int) -> None:
        self.name = name
        self.topic = topic
        self.producer = producer
        self.max_consecutive = max_consecutive
        self.consecutive = 0

    def records(self, dead: Iterable[tuple[Message, InvalidEvent]]) -> list[Record]:
        """Each dead letter as the original key and bytes with its reason in headers."""
        return [Record(self.topic, (message.key or b"").decode("utf-8", "replace"), message.value or b"", (
            ("dlq.reason", exc.reason.encode()),
            ("dlq.detail", exc.detail[:1000].encode()),
            ("dlq.source", message.source.encode()),
            ("dlq.consumer", self.name.encode()),
        )) for message, exc in dead]

    def __call__(self, dead: list[tuple[Message, InvalidEvent]]) -> None:
        """Send and wait (raises errors.Unavailable); TooManyDeadLetters after too many in a row."""
        if not dead:
            self.consecutive = 0
            return
        self.producer.send_and_wait(self.records(dead))
        for message, exc in dead:
            metrics.CONSUMER_DEAD_LETTERS.labels(self.name, exc.reason).inc()
            log.warning("dead-lettered", extra={"reason": exc.reason, "detail": exc.detail[:200], "source": message.source})
        metrics.CONSUMER_EVENTS.labels(self.name, "dead_lettered").inc(len(dead))
        self.consecutive += len(dead)
        if self.consecutive > self.max_consecutive:
            raise TooManyDeadLetters(f"{self.consecutive} consecutive dead letters; stopping (check the last deploy)")


# Commit errors meaning the group moved on: the batch is redelivered to its partitions' next owner.
_REFUSED_COMMIT = frozenset({RdKafkaError.REBALANCE_IN_PROGRESS, RdKafkaError.ILLEGAL_GENERATION,
                             RdKafkaError.UNKNOWN_MEMBER_ID, RdKafkaError._ASSIGNMENT_LOST, RdKafkaError._STATE,
                             RdKafkaError.FENCED_INSTANCE_ID})


def assigned_partitions(consumer: RdConsumer) -> set[TopicPartition]:
    """The consumer's current assignment, as (topic, partition) pairs."""
    return {TopicPartition(tp.topic, tp.partition) for tp in consumer.assignment()}


class CommitStep:
    """Commits the next offset of each partition a batch read, if this consumer still owns it."""

    def __init__(self, name: str) -> None:
        self.name = name

    @staticmethod
    def offsets(messages: Sequence[Message], assigned: set[TopicPartition]) -> dict[TopicPartition, int]:
        """The offset to commit (the next to read) of each assigned partition of `messages`."""
        nexts: dict[TopicPartition, int] = {}
        for m in messages:
            tp = TopicPartition(m.topic, m.partition)
            if m.offset + 1 > nexts.get(tp, 0):
                nexts[tp] = m.offset + 1
        return {tp: o for tp, o in nexts.items() if tp in assigned}

    def __call__(self, consumer: RdConsumer, messages: Sequence[Message]) -> bool:
        offsets = self.offsets(messages, assigned_partitions(consumer))
        if not offsets:
            return False
        try:
            answered = consumer.commit(
                offsets=[RdTopicPartition(tp.topic, tp.partition, o) for tp, o in offsets.items()], asynchronous=False)
            failed = [tp.error for tp in answered or () if tp.error is not None]
            if failed:
                raise RdKafkaException(failed[0])
        except RdKafkaException as exc:
            error = exc.args[0] if exc.args and isinstance(exc.args[0], RdKafkaError) else None
            if error is not None and error.code() in _REFUSED_COMMIT:
                # The group rebalanced while this batch was written: the new owner re-reads it and
                # the idempotent writes absorb the replay. Not a reason to crash the process.
                log.warning("offset commit refused after a rebalance; the batch will be redelivered",
                            extra={"error": str(exc)})
                return False
            # Kafka unreachable past the commit's timeout. The batch is written; the next commit
            # (a later position of the same partitions) covers it, and if none comes the next
            # owner re-reads it. Crashing here would only trade the same replay for a restart.
            metrics.CONSUMER_COMMIT_FAILURES.labels(self.name).inc()
            log.warning("offset commit failed (Kafka unavailable); a later commit covers the batch",
                        extra={"error": repr(exc)})
            return False
        metrics.CONSUMER_LAST_COMMIT.labels(self.name).set(time.time())
        return True


# ---- the loop ---------------------------------------------------------------------------------

class _Rebalance:
    """The group's rebalance callbacks; librdkafka calls them inside `consume`, on the loop's thread."""

    def __init__(self, loop: "ConsumerLoop") -> None:
        self._loop = loop

    def on_revoke(self, _consumer: RdConsumer, partitions: list[RdTopicPartition]) -> None:
        revoked = {TopicPartition(tp.topic, tp.partition) for tp in partitions}
        log.info("partitions revoked", extra={"partitions": sorted(f"{tp.topic}/{tp.partition}" for tp in revoked)})
        self._loop._on_revoked()
        # A processor holding per-partition state drops it here, before anyone else owns them.
        hand_over = getattr(self._loop.processor, "on_partitions_revoked", None)
        if hand_over is not None:
            hand_over(revoked)

    def on_assign(self, consumer: RdConsumer, partitions: list[RdTopicPartition]) -> None:
        """Take the partitions, paused if the loop is waiting out an outage, else resumed: librdkafka
        keeps a partition's pause across rebalances, so one paused earlier would otherwise never
        be read again once assigned back."""
        log.info("partitions assigned", extra={"partitions": sorted(f"{tp.topic}/{tp.partition}" for tp in partitions)})
        consumer.assign(partitions)
        if partitions:
            try:
                (consumer.pause if self._loop._outage_paused else consumer.resume)(partitions)
            except RdKafkaException:  # a callback must not raise; one leaking in an outage is paused by _idle
                log.warning("pausing or resuming assigned partitions failed", exc_info=True)


class _Abandoned(Exception):
    """A batch whose partitions were revoked while its write was being retried."""


@dataclass
class _InFlight:
    future: "Future[WriteResult]"
    batch: Batch


class ConsumerLoop:
    """Runs one processor in one consumer group until `stop()` (or SIGTERM)."""

    def __init__(self, processor: Processor[Any], settings: config.Settings, group_id: str | None = None) -> None:
        self.processor = processor
        self.settings = settings
        self.group_id = group_id or settings.group(processor.name)
        name = processor.name
        self.parse_step: ParseStep | WorkerParseStep = ParseStep(name, processor.parse)
        factory = getattr(processor, "parser_factory", None)
        if factory is not None and settings.consumer_parse_processes > 0:
            self.parse_step = WorkerParseStep(name, factory, settings, settings.consumer_parse_processes,
                                              fallback=self.parse_step)
        self.filter_step = FilterStep(getattr(processor, "keep", None))
        self.write_step = WriteStep(processor.write)
        self.dead_letters = DeadLetterPolicy(name, processor.dead_letter_topic,
                                             Producer(settings, client_id=f"{name}-dlq"), settings.dlq_max_consecutive)
        self.commit_step = CommitStep(name)
        self._stop = threading.Event()
        self._consumer: RdConsumer | None = None
        self._outage_paused = False  # partitions paused while a store is down (and those assigned meanwhile)
        self._in_flight: _InFlight | None = None
        self._generation = 0
        self._last_lag_update = 0.0
        # Beaten whenever the loop makes progress; liveness (/healthz) fails when it stops.
        self.heartbeat = health.Heartbeat(name)

    # ---- lifecycle ------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def pipelined(self) -> bool:
        """Poll and parse the next batch while the previous one is written (processors may opt out)."""
        return bool(getattr(self.processor, "pipelined", True))

    def _connect(self) -> RdConsumer | None:
        """The group's consumer, retried while Kafka cannot be reached (beating, so liveness holds); None if stopped."""
        return kafka_io.retry_until_available(self.settings, self._new_consumer, f"{self.processor.name} consumer",
                                              stop=self._stop, on_retry=self.heartbeat.beat)

    def _new_consumer(self) -> RdConsumer:
        consumer = kafka_io.loop_consumer(self.settings, self.group_id, self.processor.name,
                                          self.settings.consumer_session_timeout_s, METADATA_MAX_AGE_MS)
        listener = _Rebalance(self)
        consumer.subscribe(list(self.processor.topics), on_assign=listener.on_assign, on_revoke=listener.on_revoke)
        return consumer

    def run(self) -> None:
        """Consume until stopped; raises TooManyDeadLetters after a run of bad messages."""
        self._consumer = self._connect()
        if self._consumer is None:  # stopped while Kafka was unreachable
            return
        log.info("consuming", extra={"topics": list(self.processor.topics), "group": self.group_id})
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.processor.name}-write")
        try:
            if isinstance(self.parse_step, WorkerParseStep):
                self.parse_step.start()
            self._run(writer)
        finally:
            writer.shutdown(wait=True)
            if isinstance(self.parse_step, WorkerParseStep):
                self.parse_step.close()
            self._close()

    def _run(self, writer: ThreadPoolExecutor) -> None:
        """poll -> parse -> filter -> batch, overlapping the write of the previous batch; then dead letters and commit.

        While a write is in flight, what arrives is parsed and gathered into the next batch
        (up to `max_batch_polls` polls, the batch step): under a backlog, batches grow and the
        per-batch work of a writer (a refresh, rollup recomputes) is shared by more events;
        when traffic is light each poll is written on its own, as soon as the writer is free.
        """
        limit = self.settings.consumer_batch_size * max(1, int(getattr(self.processor, "max_batch_polls", 1)))
        byte_limit: int | None = getattr(self.processor, "max_batch_bytes", None)
        batch: Batch | None = None
        while not self._stop.is_set():
            messages = self._poll(timeout_ms=500 if self._in_flight is None else 0)
            if self._in_flight is None:  # a write in flight is progress only once it finishes
                self.heartbeat.beat()
            if messages:
                batch = gathered(batch, self.filter_step(self.parse_step(messages, self._generation)))
            if self._in_flight is not None:
                full = batch is not None and batch_full(batch, limit, byte_limit)
                if not full and not _done_within(self._in_flight.future, 0 if messages else 0.2):
                    continue  # poll again (gathering, and keeping the group membership) while the write runs
                if not self._finish_in_flight():
                    return
                self.heartbeat.beat()
            if batch is not None and batch.generation == self._generation:  # else polled before a rebalance: dropped
                self._in_flight = _InFlight(writer.submit(self.write_step, batch.parsed), batch)
                if not self.pipelined and not self._finish_in_flight():
                    return
            batch = None
            self._maybe_update_lag()
        if self._in_flight is not None:  # stopping: finish the batch in flight and commit it
            self._finish_in_flight()

    def _poll(self, timeout_ms: int) -> list[Message]:
        assert self._consumer is not None
        limit = self.settings.consumer_batch_size
        # What has arrived, at once: `consume` with a timeout waits for `limit` messages, not the first.
        polled = self._consumer.consume(limit, 0)
        if not polled and timeout_ms > 0 and (first := self._consumer.poll(timeout_ms / 1000)) is not None:
            polled = [first, *self._consumer.consume(limit - 1, 0)]
        messages = [Message(r.topic(), r.partition(), r.offset(), r.key(), r.value(), r.timestamp()[1],
                            tuple(r.headers() or ())) for r in polled if r.error() is None]
        if len(messages) < len(polled):
            for r in polled:
                if r.error() is not None:  # not a record: a fetch error librdkafka reports and retries
                    log.warning("Kafka fetch error", extra={"consumer": self.processor.name, "error": r.error().str()})
        return messages

    def _finish_in_flight(self) -> bool:
        """Wait for the write in flight (retrying an outage with backoff), then complete it; False if stopping.

        The retries poll (to stay in the group), so a rebalance can happen between two of
        them; the batch is then abandoned uncommitted, never written again: its partitions
        may belong to another process now, whose writes a late retry here would overwrite.
        """
        in_flight, self._in_flight = self._in_flight, None
        assert in_flight is not None
        try:
            result: WriteResult | None = in_flight.future.result()
        except errors.Unavailable:
            generation = self._generation
            try:
                result = self._with_backoff(lambda: self._rewrite(in_flight.batch, generation), pause=True)
            except _Abandoned:
                log.info("batch retried across a rebalance left uncommitted; its partitions' owner reads it again",
                         extra={"messages": len(in_flight.batch.messages)})
                return True
        if result is None:  # stopping while the store was down: leave offsets uncommitted
            return False
        return self._complete(in_flight.batch, result)

    def _rewrite(self, batch: Batch, generation: int) -> WriteResult:
        """Write `batch` again, unless the group rebalanced since it was polled (polls run on this thread only)."""
        if self._generation != generation:
            raise _Abandoned()
        return self.write_step(batch.parsed)

    def _on_revoked(self) -> None:
        """Rebalance: let the write in flight finish before anyone else owns its partitions.

        Runs inside librdkafka's rebalance, so the batch is only waited for, never committed
        here: it stays uncommitted and whoever owns its partitions next reads it again from the
        committed offset (idempotent writes absorb the replay). The processor's own hand-over
        runs after this.
        """
        self._generation += 1
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            try:
                in_flight.future.exception()  # waits; an outage or bug is the next owner's retry
            except BaseException:  # noqa: BLE001 - a rebalance callback must never raise
                log.warning("waiting for the write in flight at a rebalance failed", exc_info=True)
            log.info("batch in flight at a rebalance left uncommitted; it will be read again",
                     extra={"messages": len(in_flight.batch.messages)})

    def _complete(self, batch: Batch, result: WriteResult) -> bool:
        """Dead-letter, commit and count a written batch; False if stopping before the commit."""
        dead = batch.dead + result.rejected
        if self._with_backoff(lambda: self.dead_letters(dead) or True, pause=False) is None:
            return False  # stopping while Kafka was down: leave offsets uncommitted
        self._account(batch, result)
        return True

    def _account(self, batch: Batch, result: WriteResult) -> None:
        assert self._consumer is not None
        self.commit_step(self._consumer, batch.messages)
        name = self.processor.name
        metrics.CONSUMER_EVENTS.labels(name, "written").inc(result.written)
        metrics.CONSUMER_EVENTS.labels(name, "duplicate").inc(result.duplicates)
        metrics.CONSUMER_EVENTS.labels(name, "stale").inc(result.stale)
        metrics.CONSUMER_EVENTS.labels(name, "filtered").inc(batch.filtered)
        if result.newest_event_time_s is not None:
            metrics.CONSUMER_EVENT_TIME_LAG.labels(name).set(max(0.0, time.time() - result.newest_event_time_s))
        metrics.CONSUMER_BATCH_DURATION.labels(name).observe(time.perf_counter() - batch.started)

    # ---- outages --------------------------------------------------------------------------
    def _with_backoff(self, action: Callable[[], T], pause: bool) -> T | None:
        """`action()` retried while it raises errors.Unavailable; None if stopping first.

        With `pause`, the partitions are paused meanwhile (polling goes on, so the consumer
        stays in its group and live, but nothing new arrives). Without it they are paused all
        the same as soon as a wait's poll hands over a prefetched message (`_idle` puts it back):
        either way every partition is resumed once the action went through.
        """
        delay = 0.5
        try:
            while True:
                try:
                    return action()
                except errors.Unavailable as exc:
                    metrics.CONSUMER_RETRIES.labels(self.processor.name).inc()
                    log.warning("downstream unavailable, retrying", extra={"retry_in_s": delay, "error": str(exc)})
                    if pause and not self._outage_paused and self._consumer is not None:
                        self._pause_all()
                    if not self._idle(delay):
                        return None
                    delay = min(delay * 2, self.settings.consumer_max_backoff_s)
        finally:
            if self._outage_paused and self._consumer is not None:
                self._resume_all()

    def _idle(self, seconds: float) -> bool:
        """Wait while polling paused partitions (keeps group membership); False if stopping."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self._stop.is_set():
                return False
            if self._consumer is not None:
                # Paused partitions return nothing; the poll keeps max_poll_interval happy.
                leaked = [m for m in self._consumer.consume(self.settings.consumer_batch_size,
                                                             min(0.2, max(0.001, deadline - time.monotonic())))
                          if m.error() is None]
                self.heartbeat.beat()  # paused for an outage, not stuck
                if leaked:  # a newly assigned partition is not paused yet: pause it, read it again later
                    self._pause_all()
                    first: dict[tuple[str, int], int] = {}
                    for m in leaked:
                        first.setdefault((m.topic(), m.partition()), m.offset())
                    for (topic, partition), offset in first.items():
                        self._consumer.seek(RdTopicPartition(topic, partition, offset))
            else:
                time.sleep(0.1)
        return not self._stop.is_set()

    def _pause_all(self) -> None:
        """Pause every assigned partition, and those assigned later until `_resume_all` (fetching
        stops; the group membership stays)."""
        assert self._consumer is not None
        self._outage_paused = True
        metrics.CONSUMER_PAUSED.labels(self.processor.name).set(1)
        if assigned := self._consumer.assignment():
            self._consumer.pause(assigned)

    def _resume_all(self) -> None:
        assert self._consumer is not None
        self._outage_paused = False
        metrics.CONSUMER_PAUSED.labels(self.processor.name).set(0)
        if assigned := self._consumer.assignment():
            self._consumer.resume(assigned)

    # ---- upkeep ---------------------------------------------------------------------------
    def _close(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close()  # leaves the group; offsets are already committed (never auto-committed)
            except (RdKafkaException, RuntimeError):
                log.exception("error closing consumer")
            self._consumer = None
        self.dead_letters.producer.close()
        log.info("consumer closed", extra={"group": self.group_id})

    def _maybe_update_lag(self, every_s: float = 5.0) -> None:
        now = time.monotonic()
        if self._consumer is None or now - self._last_lag_update < every_s:
            return
        self._last_lag_update = now
        assigned = self._consumer.assignment()
        if not assigned:
            return
        try:
            for tp in self._consumer.committed(assigned, timeout=5):
                # The end offset of the partition's last fetch: asking the leader instead waits
                # behind the fetch in flight (half a second per partition, on the loop's thread).
                _, end = self._consumer.get_watermark_offsets(tp, cached=True)
                if end < 0:
                    continue  # not fetched yet
                metrics.CONSUMER_LAG.labels(self.processor.name, tp.topic, str(tp.partition)).set(
                    max(0, end - max(0, tp.offset))  # a negative offset: nothing committed yet
                )
        except RdKafkaException:
            log.debug("lag update failed", exc_info=True)


def _done_within(future: "Future[Any]", seconds: float) -> bool:
    try:
        future.exception(timeout=seconds)
    except FutureTimeout:
        return False
    return True


# ---- processes --------------------------------------------------------------------------------

class LoopGroup:
    """The consumer loops of one process, each in its own thread; one failing stops them all."""

    def __init__(self, loops: Sequence[ConsumerLoop], settings: config.Settings) -> None:
        self.loops = tuple(loops)
        self.settings = settings
        self.errors: list[BaseException] = []
        self._threads: list[threading.Thread] = []

    @property
    def groups(self) -> dict[str, tuple[str, ...]]:
        """{consumer group: its topics}, for lag and catch-up checks."""
        return {loop.group_id: tuple(loop.processor.topics) for loop in self.loops}

    def start(self) -> None:
        for loop in self.loops:
            thread = threading.Thread(target=self._run, args=(loop,), name=loop.processor.name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self, loop: ConsumerLoop) -> None:
        try:
            loop.run()
        except BaseException as exc:  # noqa: BLE001 - the other loops are stopped and the error surfaced
            log.exception("consumer loop failed", extra={"consumer": loop.processor.name})
            self.errors.append(exc)
            self.stop()

    def stop(self) -> None:
        for loop in self.loops:
            loop.stop()

    def join(self, timeout_s: float | None = None) -> None:
        for thread in self._threads:
            thread.join(timeout_s)

    def stopped_loops(self) -> list[str]:
        """Names of the started loops whose thread has ended (stopped, or failed: see `errors`)."""
        return [thread.name for thread in self._threads if not thread.is_alive()]

    def liveness(self) -> health.Liveness:
        """Alive while every loop beats; reports each."""
        checks = {loop.processor.name: health.heartbeat_liveness(loop.heartbeat, self.settings.consumer_liveness_timeout_s)
                  for loop in self.loops}

        def check() -> tuple[bool, dict[str, Any]]:
            results = {name: c() for name, c in checks.items()}
            if len(results) == 1:
                return next(iter(results.values()))
            return all(ok for ok, _ in results.values()), {name: detail for name, (_, detail) in results.items()}

        return check


PeriodicJob = tuple[str, float, Callable[[], periodic.Job]]


def run_process(name: str, group: LoopGroup, metrics_port: int, jobs: Sequence[PeriodicJob] = ()) -> None:
    """A consumer process's life: /metrics and /healthz, periodic jobs, SIGTERM handling, the loops.

    Call after logs are configured and the stores exist. `metrics_port` is the process's
    default; COLLATERAL_METRICS_PORT overrides it. Raises SystemExit when a loop failed.
    """
    settings = group.settings
    config.refuse_insecure_production(settings)  # before the port binds, whoever built the settings
    tune_garbage_collector(settings.consumer_gc_threshold)
    health.serve_http(settings.metrics_port or metrics_port, settings.metrics_host, group.liveness())
    stop = threading.Event()
    for job_name, interval_s, make_job in jobs:
        periodic.start(job_name, interval_s, make_job, stop)
    stop_on_signals(group.stop)
    group.start()
    try:
        group.join()
    finally:
        stop.set()
    if group.errors:
        raise SystemExit(f"{name} stopped: {group.errors[0]!r}")


def tune_garbage_collector(threshold: int) -> None:
    """Collect garbage for batches of thousands of events, not for a few objects at a time.

    CPython runs a youngest-generation pass every 700 net container allocations, and a batch
    allocates several per event (the parsed event, its stored document, its verdict record,
    the bulk response items): hundreds of passes per batch, every tenth promoting survivors,
    and full passes that traverse everything alive, the batch being written and the one being
    gathered included. With `threshold` allocations between passes that overhead stops being
    a share of each event's cost (a fifth of the usage consumer's CPU per event, bench/RESULTS.md).
    What is alive once the process has started (modules, clients, settings) is frozen: no pass
    traverses it again. The generations' ratios stay as they are, and the events of a batch
    hold no reference cycles, so memory does not grow. `threshold` 0 changes nothing.
    """
    if threshold <= 0:
        return
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(threshold, middle, oldest)


def serve_liveness(loop: ConsumerLoop, settings: config.Settings, port: int) -> "health.WSGIServer":
    """/metrics and /healthz on `port`; /healthz answers 503 once the loop has gone
    `consumer_liveness_timeout_s` without a heartbeat (a stuck write or a stuck loop)."""
    liveness = health.heartbeat_liveness(loop.heartbeat, settings.consumer_liveness_timeout_s)
    return health.serve_http(port, settings.metrics_host, liveness)


def run_forever(processor: Processor[Any], settings: config.Settings, metrics_port: int,
                jobs: Sequence[PeriodicJob] = ()) -> None:
    """Process entry point of a single-processor consumer: logs, then `run_process` with its one loop."""
    logs.configure(processor.name, settings.log_level, settings.log_format)
    run_process(processor.name, LoopGroup([ConsumerLoop(processor, settings)], settings), metrics_port, jobs)


def stop_on_signals(stop: Callable[[], None]) -> None:
    """SIGTERM and SIGINT call `stop`: the batch in flight finishes and is committed before the exit."""

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("signal received, finishing the batch", extra={"signal": signal.Signals(signum).name})
        stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
