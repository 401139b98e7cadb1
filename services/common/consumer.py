"""The Kafka consumer loop every stream processor runs (usage, feedback).

A processor supplies two small steps, and the loop does the rest:

    parse(message) -> event          raise InvalidEvent(reason, detail) for bad input
    write(events)  -> WriteResult    raise errors.Unavailable when a store is down

Guarantees (at-least-once delivery made exactly-once in effect by idempotent writes):
- offsets are committed only after `write` succeeded and dead letters were acknowledged,
  so a crash or rebalance mid-batch loses nothing; replays are absorbed by the writer's
  deterministic ids;
- bad input never blocks a partition: it goes to the dead-letter topic with its reason
  and the original bytes, and the loop moves on; but after `dlq_max_consecutive` dead
  letters in a row the loop stops, because that is a bad deploy, not bad data;
- a downstream outage pauses the partitions (the loop keeps polling so the consumer
  stays in its group) and retries the same batch with exponential backoff: good events
  are never dropped or dead-lettered for it;
- SIGTERM finishes the batch, commits, and leaves the group cleanly;
- a processor may set `pipelined = True` to have the next batch polled and parsed while the
  previous one is written (commits stay after their write, in order);
- an offset commit refused because of a rebalance is logged, not fatal (the batch is
  redelivered and absorbed by the idempotent writes); dead-lettering retries with backoff.
"""

from __future__ import annotations

import json
import logging
import math
import re
import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Generic, Protocol, Sequence, TypeVar

from kafka import KafkaConsumer
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import (CommitFailedError, IllegalGenerationError, KafkaError, RebalanceInProgressError,
                          UnknownMemberIdError)
from kafka.structs import OffsetAndMetadata, TopicPartition

from services.common import config, errors, health, logs, metrics
from services.common.kafka_io import Producer, Record

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Message:
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
            return datetime.fromtimestamp(self.timestamp_ms / 1000, timezone.utc)
        return datetime.now(timezone.utc)


class InvalidEvent(Exception):
    """A message that can never be processed: it is dead-lettered, not retried.

    `reason` is a short machine-readable code (empty, too_large, bad_encoding, too_deep,
    bad_json, bad_number, schema, unknown_type, future_event_time, ...) used as a metric
    label and the `dlq.reason` header; `detail` is for humans. A parse step that fails in
    a way nobody foresaw is dead-lettered as INTERNAL_PARSE_ERROR rather than stopping the
    consumer (see ConsumerLoop._parse_batch).
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


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


@dataclass
class _Batch:
    """One polled batch on its way through parse -> write -> dead-letter -> commit."""

    messages: list[Message]
    started: float
    parsed: list[Parsed[Any]] = field(default_factory=list)
    dead: list[tuple[Message, InvalidEvent]] = field(default_factory=list)


class TooManyDeadLetters(RuntimeError):
    """Stops the consumer: every message failing means the code, not the data, is wrong."""


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, loop: "ConsumerLoop") -> None:
        self._loop = loop

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Everything processed has been committed already (batches are committed before
        # the next poll); an uncommitted held batch will be redelivered to the new owner.
        log.info("partitions revoked", extra={"partitions": sorted(f"{tp.topic}/{tp.partition}" for tp in revoked)})
        # A processor holding per-partition state drops it here, before anyone else owns them.
        hand_over = getattr(self._loop.processor, "on_partitions_revoked", None)
        if hand_over is not None:
            hand_over(revoked)

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("partitions assigned", extra={"partitions": sorted(f"{tp.topic}/{tp.partition}" for tp in assigned)})


class ConsumerLoop:
    """Runs one processor in one consumer group until `stop()` (or SIGTERM)."""

    def __init__(self, processor: Processor[Any], settings: config.Settings, group_id: str | None = None) -> None:
        self.processor = processor
        self.settings = settings
        self.group_id = group_id or settings.group(processor.name)
        self._stop = threading.Event()
        self._dlq = Producer(settings, client_id=f"{processor.name}-dlq")
        self._consecutive_dead_letters = 0
        self._last_lag_update = 0.0
        self._consumer: KafkaConsumer | None = None
        # Beaten whenever the loop makes progress; liveness (/healthz) fails when it stops.
        self.heartbeat = health.Heartbeat(processor.name)

    # ---- lifecycle ------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _connect(self) -> KafkaConsumer:
        consumer = KafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap.split(","),
            group_id=self.group_id,
            client_id=f"{self.processor.name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.settings.consumer_batch_size,
            max_poll_interval_ms=300_000,
            session_timeout_ms=int(self.settings.consumer_session_timeout_s * 1000),
            heartbeat_interval_ms=min(3_000, int(self.settings.consumer_session_timeout_s * 1000) // 3),
            fetch_max_wait_ms=200,
        )
        consumer.subscribe(list(self.processor.topics), listener=_Rebalance(self))
        return consumer

    def run(self) -> None:
        """Consume until stopped; raises TooManyDeadLetters after a run of bad messages."""
        self._consumer = self._connect()
        log.info("consuming", extra={"topics": list(self.processor.topics), "group": self.group_id})
        try:
            if getattr(self.processor, "pipelined", False):
                self._run_pipelined()
                return
            while not self._stop.is_set():
                messages = self._poll(timeout_ms=500)
                self.heartbeat.beat()
                if messages:
                    self._process(messages)
                self._maybe_update_lag()
        finally:
            self._close()

    def _poll(self, timeout_ms: int) -> list[Message]:
        assert self._consumer is not None
        polled = self._consumer.poll(timeout_ms=timeout_ms, max_records=self.settings.consumer_batch_size)
        return [
            Message(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp,
                    tuple((k, v) for k, v in (r.headers or [])))
            for records in polled.values()
            for r in records
        ]

    def _run_pipelined(self) -> None:
        """Like run(), but batch N+1 is polled and parsed while batch N is written.

        Opt-in (`processor.pipelined = True`) for processors whose writes are idempotent and
        order-independent across batches. Offsets are still committed strictly after their
        batch's write succeeded, in batch order; a write that fails with Unavailable is
        retried synchronously with the usual pause and backoff.
        """
        assert self._consumer is not None
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.processor.name}-write")
        pending: tuple[Future[WriteResult], _Batch] | None = None
        try:
            while not self._stop.is_set():
                messages = self._poll(timeout_ms=500 if pending is None else 0)
                if pending is None:  # a write in flight is progress only once it finishes
                    self.heartbeat.beat()
                batch = self._parse_batch(messages) if messages else None
                if pending is not None:
                    if batch is None:
                        # Nothing new arrived: wait for the write a moment, then poll again.
                        try:
                            pending[0].exception(timeout=0.2)
                        except FutureTimeout:
                            continue
                    if not self._finish_pending(*pending):
                        pending = None
                        break
                    pending = None
                    self.heartbeat.beat()
                if batch is not None:
                    if batch.parsed:
                        pending = (executor.submit(self.processor.write, batch.parsed), batch)
                    elif not self._complete(batch, WriteResult()):
                        break
                self._maybe_update_lag()
            if pending is not None:  # stopping: finish the batch in flight and commit it
                self._finish_pending(*pending)
        finally:
            executor.shutdown(wait=True)

    def _finish_pending(self, future: "Future[WriteResult]", batch: "_Batch") -> bool:
        try:
            result: WriteResult | None = future.result()
        except Exception:  # noqa: BLE001 - an outage is retried, anything else isolated (_write_isolating)
            result = self._write_with_backoff(batch.parsed)
        if result is None:
            return False
        return self._complete(batch, result)

    def _close(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close(autocommit=False)  # leaves the group; offsets are already committed
            except KafkaError:
                log.exception("error closing consumer")
            self._consumer = None
        self._dlq.close()
        log.info("consumer closed", extra={"group": self.group_id})

    # ---- one batch ---------------------------------------------------------------------
    def _process(self, messages: list[Message]) -> None:
        batch = self._parse_batch(messages)
        result = self._write_with_backoff(batch.parsed)
        if result is None:  # stopping while the store was down: leave offsets uncommitted
            return
        self._complete(batch, result)

    def _parse_batch(self, messages: list[Message]) -> "_Batch":
        batch = _Batch(messages, started=time.perf_counter())
        metrics.CONSUMER_MESSAGES.labels(self.processor.name).inc(len(messages))
        for message in messages:
            try:
                batch.parsed.append(Parsed(message, self.processor.parse(message)))
            except InvalidEvent as exc:
                batch.dead.append((message, exc))
            except Exception as exc:  # noqa: BLE001 - one message must never stop the consumer
                batch.dead.append((message, self._unforeseen(message, exc)))
        return batch

    def _unforeseen(self, message: Message, exc: Exception) -> InvalidEvent:
        """An exception the parse step did not anticipate, as a dead letter.

        Parsing is a pure function of the message, so retrying cannot help; letting the
        exception escape would stop the consumer before the commit, and every restart would
        die again on the same offset. The traceback is logged because this is a bug to fix.
        """
        source = f"{message.topic}/{message.partition}/{message.offset}"
        log.warning("unexpected error parsing a message; dead-lettering it", exc_info=exc,
                    extra={"source": source, "error_type": type(exc).__name__})
        return InvalidEvent(INTERNAL_PARSE_ERROR, f"{type(exc).__name__}: {str(exc)[:300]}")

    def _complete(self, batch: "_Batch", result: WriteResult) -> bool:
        """Dead-letter, commit and count a written batch; False if stopping before the commit."""
        name = self.processor.name
        dead = batch.dead + result.rejected
        if not self._dead_letter_with_backoff(dead):  # stopping while Kafka was down: leave offsets uncommitted
            return False
        self._commit(batch.messages)
        metrics.CONSUMER_EVENTS.labels(name, "written").inc(result.written)
        metrics.CONSUMER_EVENTS.labels(name, "duplicate").inc(result.duplicates)
        metrics.CONSUMER_EVENTS.labels(name, "stale").inc(result.stale)
        if result.newest_event_time_s is not None:
            metrics.CONSUMER_EVENT_TIME_LAG.labels(name).set(max(0.0, time.time() - result.newest_event_time_s))
        metrics.CONSUMER_BATCH_DURATION.labels(name).observe(time.perf_counter() - batch.started)
        return True

    def _write_with_backoff(self, parsed: list[Parsed[Any]]) -> WriteResult | None:
        if not parsed:
            return WriteResult()
        delay = 0.5
        paused = False
        try:
            while True:
                try:
                    return self._write_isolating(parsed)
                except errors.Unavailable as exc:
                    metrics.CONSUMER_RETRIES.labels(self.processor.name).inc()
                    log.warning("downstream unavailable, pausing", extra={"retry_in_s": delay, "error": str(exc)})
                    if not paused and self._consumer is not None:
                        self._consumer.pause(*self._consumer.assignment())
                        metrics.CONSUMER_PAUSED.labels(self.processor.name).set(1)
                        paused = True
                    if not self._idle(delay):
                        return None
                    delay = min(delay * 2, self.settings.consumer_max_backoff_s)
        finally:
            if paused and self._consumer is not None:
                self._consumer.resume(*self._consumer.paused())
                metrics.CONSUMER_PAUSED.labels(self.processor.name).set(0)

    def _write_isolating(self, parsed: list[Parsed[Any]]) -> WriteResult:
        """Write; if the write raises anything but Unavailable, find the messages that make it fail.

        A store that refuses a whole request because of one document (or a processor bug
        that one odd event triggers) would otherwise stop the consumer before its commit,
        and every restart would fail on the same batch. The batch is split in halves
        until the failing messages stand alone; each is dead-lettered as `write_failed`
        and the rest are written. Writes are idempotent, so writing a half again is
        harmless. An outage (Unavailable) is not isolated: it propagates to the backoff.
        If every message fails, that is a bad deploy, and the consecutive dead-letter
        limit stops the consumer.
        """
        try:
            return self.processor.write(parsed)
        except errors.Unavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - isolated below; one message must never stop the consumer
            if len(parsed) == 1:
                message = parsed[0].message
                log.warning("write failed for one message; dead-lettering it", exc_info=exc,
                            extra={"source": f"{message.topic}/{message.partition}/{message.offset}",
                                   "error_type": type(exc).__name__})
                return WriteResult(rejected=[(message, InvalidEvent(WRITE_FAILED, f"{type(exc).__name__}: {str(exc)[:300]}"))])
            middle = len(parsed) // 2
            return _merged(self._write_isolating(parsed[:middle]), self._write_isolating(parsed[middle:]))

    def _idle(self, seconds: float) -> bool:
        """Wait while polling paused partitions (keeps group membership); False if stopping."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self._stop.is_set():
                return False
            if self._consumer is not None:
                # Paused partitions return nothing; the poll keeps max_poll_interval happy.
                leaked = self._consumer.poll(timeout_ms=min(200, int((deadline - time.monotonic()) * 1000) + 1))
                self.heartbeat.beat()  # paused for an outage, not stuck
                if any(leaked.values()):  # a newly assigned partition is not paused yet
                    self._consumer.pause(*self._consumer.assignment())
                    for tp in leaked:
                        self._consumer.seek(tp, leaked[tp][0].offset)
            else:
                time.sleep(0.1)
        return not self._stop.is_set()

    def _dead_letter_with_backoff(self, dead: list[tuple[Message, InvalidEvent]]) -> bool:
        """Dead-letter with the same pause-and-retry as writes, so a Kafka hiccup is not a crash."""
        delay = 0.5
        while True:
            try:
                self._dead_letter(dead)
                return True
            except errors.Unavailable as exc:
                metrics.CONSUMER_RETRIES.labels(self.processor.name).inc()
                log.warning("dead-letter topic unavailable, retrying", extra={"retry_in_s": delay, "error": str(exc)})
                if not self._idle(delay):
                    return False
                delay = min(delay * 2, self.settings.consumer_max_backoff_s)

    def _dead_letter(self, dead: list[tuple[Message, InvalidEvent]]) -> None:
        if not dead:
            self._consecutive_dead_letters = 0
            return
        records = []
        for message, exc in dead:
            headers = (
                ("dlq.reason", exc.reason.encode()),
                ("dlq.detail", exc.detail[:1000].encode()),
                ("dlq.source", f"{message.topic}/{message.partition}/{message.offset}".encode()),
                ("dlq.consumer", self.processor.name.encode()),
            )
            key = (message.key or b"").decode("utf-8", "replace")
            records.append(Record(self.processor.dead_letter_topic, key, message.value or b"", headers))
            metrics.CONSUMER_DEAD_LETTERS.labels(self.processor.name, exc.reason).inc()
            log.warning("dead-lettered", extra={"reason": exc.reason, "detail": exc.detail[:200],
                                                "source": f"{message.topic}/{message.partition}/{message.offset}"})
        self._dlq.send_and_wait(records)
        metrics.CONSUMER_EVENTS.labels(self.processor.name, "dead_lettered").inc(len(dead))
        self._consecutive_dead_letters += len(dead)
        if self._consecutive_dead_letters > self.settings.dlq_max_consecutive:
            raise TooManyDeadLetters(
                f"{self._consecutive_dead_letters} consecutive dead letters; stopping (check the last deploy)"
            )

    def _commit(self, messages: Sequence[Message]) -> None:
        assert self._consumer is not None
        assigned = self._consumer.assignment()
        nexts: dict[TopicPartition, int] = {}
        for m in messages:
            tp = TopicPartition(m.topic, m.partition)
            nexts[tp] = max(nexts.get(tp, 0), m.offset + 1)
        offsets = {tp: OffsetAndMetadata(o, "", -1) for tp, o in nexts.items() if tp in assigned}
        if offsets:
            try:
                self._consumer.commit(offsets)
            except (CommitFailedError, RebalanceInProgressError, IllegalGenerationError, UnknownMemberIdError) as exc:
                # The group rebalanced while this batch was written: the new owner re-reads it and
                # the idempotent writes absorb the replay. Not a reason to crash the process.
                log.warning("offset commit refused after a rebalance; the batch will be redelivered",
                            extra={"error": str(exc)})
                return
            metrics.CONSUMER_LAST_COMMIT.labels(self.processor.name).set(time.time())

    def _maybe_update_lag(self, every_s: float = 5.0) -> None:
        now = time.monotonic()
        if self._consumer is None or now - self._last_lag_update < every_s:
            return
        self._last_lag_update = now
        assigned = list(self._consumer.assignment())
        if not assigned:
            return
        try:
            ends = self._consumer.end_offsets(assigned)
            for tp in assigned:
                committed = self._consumer.committed(tp) or 0
                metrics.CONSUMER_LAG.labels(self.processor.name, tp.topic, str(tp.partition)).set(
                    max(0, ends.get(tp, 0) - committed)
                )
        except KafkaError:
            log.debug("lag update failed", exc_info=True)


MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects an event may have; no contract needs more than 3."""

INTERNAL_PARSE_ERROR = "internal_parse_error"
WRITE_FAILED = "write_failed"


def _merged(first: WriteResult, second: WriteResult) -> WriteResult:
    """Two halves' write results as one batch's."""
    times = [t for t in (first.newest_event_time_s, second.newest_event_time_s) if t is not None]
    return WriteResult(written=first.written + second.written, duplicates=first.duplicates + second.duplicates,
                       stale=first.stale + second.stale, rejected=first.rejected + second.rejected,
                       newest_event_time_s=max(times) if times else None)
_UTF8_BOM = b"\xef\xbb\xbf"
_INT64 = (-(2**63), 2**63 - 1)
# A JSON string (an unterminated one runs to the end, so the pattern never fails and never
# rescans: linear time whatever the input) and the characters that open or close nesting.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.?)*+(?:"|\Z)|[\[\]{}]', re.DOTALL)


def parse_json_object(message: Message, max_bytes: int) -> dict[str, Any]:
    """The shared first step of every JSON event processor: bytes to a plain JSON object.

    Every way the bytes can be unusable becomes an InvalidEvent with its own reason:
    `empty` (no value, or zero bytes), `too_large`, `bad_encoding` (not UTF-8 - RFC 8259
    section 8.1 - or a lone UTF-16 surrogate in a \\u escape), `too_deep` (nesting beyond
    MAX_JSON_DEPTH), `bad_json` (not JSON, or not an object at the top), `bad_number`
    (NaN, Infinity, a float that overflows, an integer outside 64 bits). What comes out
    holds only finite floats, 64-bit integers and strings encodable as UTF-8, so no later
    step (schema, Elasticsearch's serializer, version arithmetic) trips over a value.
    A leading UTF-8 byte order mark is tolerated and ignored (RFC 8259 allows parsers to).
    """
    value = message.value
    if not value:
        raise InvalidEvent("empty", "message has no value (tombstone)" if value is None else "message value is empty")
    if len(value) > max_bytes:
        raise InvalidEvent("too_large", f"{len(value)} bytes, limit {max_bytes}")
    text = _decode_utf8(value)
    _check_depth(text)
    try:
        parsed = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_int64)
    except RecursionError:  # unreachable after _check_depth, kept as a second line of defence
        raise InvalidEvent("too_deep", "nesting exceeds the parser's recursion limit") from None
    except ValueError as exc:
        raise InvalidEvent("bad_json", str(exc)[:200]) from None
    if not isinstance(parsed, dict):
        raise InvalidEvent("bad_json", f"expected a JSON object, got a JSON {_json_kind(parsed)}")
    if "\\u" in text:  # lone surrogates can only come from \\u escapes: the bytes were strict UTF-8
        _check_encodable(parsed)
    return parsed


def _decode_utf8(value: bytes) -> str:
    """Strict UTF-8 only; UTF-16 and UTF-32 (which json.loads would guess from bytes) are refused."""
    if b"\x00" in value[:4]:
        raise InvalidEvent("bad_encoding", "looks like UTF-16 or UTF-32 (NUL in the first bytes); send UTF-8")
    if value.startswith(_UTF8_BOM):
        value = value[len(_UTF8_BOM):]
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEvent("bad_encoding", f"not UTF-8: {exc.reason} at byte {exc.start}") from None


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH before the parser recurses into it.

    Brackets inside strings do not count. Events with few brackets (nearly all) skip the scan.
    """
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return
    depth = 0
    for token in _STRING_OR_BRACKET.finditer(text):
        char = token.group()[0]
        if char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise InvalidEvent("too_deep", f"nesting deeper than {MAX_JSON_DEPTH} at char {token.start()}")
        elif char in "]}":
            depth -= 1


def _reject_constant(name: str) -> Any:
    raise InvalidEvent("bad_number", f"{name} is not a JSON number")


def _finite_float(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise InvalidEvent("bad_number", f"{literal[:40]} overflows a double")
    return number


def _int64(literal: str) -> int:
    if len(literal) > 20:  # more digits than any 64-bit integer: refuse before converting
        raise InvalidEvent("bad_number", f"integer with {len(literal)} digits is outside 64 bits")
    number = int(literal)
    if not _INT64[0] <= number <= _INT64[1]:
        raise InvalidEvent("bad_number", f"{literal} is outside 64 bits")
    return number


def _check_encodable(value: Any) -> None:
    """Refuse strings (keys included) holding lone surrogates: they cannot be written as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise InvalidEvent("bad_encoding", f"lone surrogate {item[exc.start]!r} in a \\u escape") from None


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def serve_liveness(loop: ConsumerLoop, settings: config.Settings, port: int) -> "health.WSGIServer":
    """/metrics and /healthz on `port`; /healthz answers 503 once the loop has gone
    `consumer_liveness_timeout_s` without a heartbeat (a stuck write or a stuck loop)."""
    liveness = health.heartbeat_liveness(loop.heartbeat, settings.consumer_liveness_timeout_s)
    return health.serve_http(port, settings.metrics_host, liveness)


def run_forever(processor: Processor[Any], settings: config.Settings, metrics_port: int) -> None:
    """Process entry point: logs, /metrics and /healthz, SIGTERM handling, then the loop.

    `metrics_port` is the process's default; COLLATERAL_METRICS_PORT overrides it.
    """
    logs.configure(processor.name, settings.log_level, settings.log_format)
    loop = ConsumerLoop(processor, settings)
    serve_liveness(loop, settings, settings.metrics_port or metrics_port)
    stop_on_signals(loop.stop)
    loop.run()


def stop_on_signals(stop: Callable[[], None]) -> None:
    """SIGTERM and SIGINT call `stop`: the batch in flight finishes and is committed before the exit."""

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("signal received, finishing the batch", extra={"signal": signal.Signals(signum).name})
        stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
