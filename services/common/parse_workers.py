"""The parse step in worker processes, for consumers whose Python work outgrows one core.

A consumer process runs polling, parsing and the write's bookkeeping on one interpreter,
so under a backlog it is bound by one core (bench/RESULTS.md: the usage consumer spent
about 40% of its CPU parsing and validating). `WorkerParseStep` gives the same outcomes
as `consumer.ParseStep` - parsed events in order, `InvalidEvent` as dead letters, any other
exception as `internal_parse_error` - with the parsing done in `processes` worker processes
(the `multiprocessing` "spawn" start method: the consumer's client threads are never forked).
The loop's thread waits for them without holding the interpreter, so the writer thread runs
meanwhile. Parsing is a pure function of the message, which is what makes this safe: the
worker builds its parser from the settings alone (`parser_factory(settings)`).

A worker that dies (killed, out of memory) costs one batch parsed in the loop's own process,
and a new pool is started for the next one; any other failure of the hand-over (a parsed event
that cannot be sent back, say) also falls back to parsing that batch in the consumer, where
each message gets its own outcome. Either way nothing escapes the step.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, Callable

from services.common import config, logs, metrics
from services.common.contracts.errors import InvalidEvent

if TYPE_CHECKING:
    from services.common.consumer import Batch, Message

log = logging.getLogger(__name__)

ParserFactory = Callable[[config.Settings], Callable[["Message"], Any]]

_parse: Callable[["Message"], Any] | None = None  # the worker's parser, built once by _start_worker


def _start_worker(factory: ParserFactory, settings: config.Settings, name: str, consumer_pid: int) -> None:
    """Worker initializer: the parser, logs like the parent's, and the parent's garbage-collector tuning."""
    global _parse
    # The consumer stops its workers itself, after the batch in flight: a ^C in a terminal or a
    # SIGTERM sent to the whole process group must not kill them under it first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(consumer_pid,), name="parent-watch", daemon=True).start()
    logs.configure(name, settings.log_level, settings.log_format)
    _parse = factory(settings)
    from services.common.consumer import tune_garbage_collector
    tune_garbage_collector(settings.consumer_gc_threshold)


def _exit_with_parent(parent: int) -> None:
    """End the worker once its consumer is gone: a SIGKILLed consumer never shuts its pool down,
    and outside a container nothing else would stop the orphans. `parent` is the consumer's pid
    as the consumer saw it (a worker still starting up when the consumer died has already lost it)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def _parse_chunk(messages: list["Message"]) -> tuple[list[Any], dict[int, InvalidEvent]]:
    """Parse in a worker: the events (None where a message failed) and {position: its dead letter},
    each message's outcome decided as `consumer.ParseStep` decides it."""
    from services.common.consumer import unforeseen
    assert _parse is not None
    parse = _parse
    events: list[Any] = []
    failed: dict[int, InvalidEvent] = {}
    for position, message in enumerate(messages):
        try:
            events.append(parse(message))
        except InvalidEvent as exc:
            events.append(None)
            failed[position] = exc
        except Exception as exc:  # noqa: BLE001 - one message must never stop the consumer
            events.append(None)
            failed[position] = unforeseen(message, exc)
    return events, failed


class WorkerParseStep:
    """`ParseStep` with the parsing in worker processes; same outcomes, same order."""

    def __init__(self, name: str, parser_factory: ParserFactory, settings: config.Settings, processes: int,
                 fallback: Callable[[list["Message"], int], "Batch"]) -> None:
        self.name = name
        self.parser_factory = parser_factory
        self.settings = settings
        self.processes = max(1, processes)
        self.fallback = fallback  # the in-process ParseStep, for a batch whose worker died
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the workers now (they import the service's modules: a second or two), not on the first batch."""
        pool = self._get_pool()
        for future in [pool.submit(_parse_chunk, []) for _ in range(self.processes)]:
            future.result()
        log.info("parse workers started", extra={"consumer": self.name, "processes": self.processes})

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_worker,
                                             initargs=(self.parser_factory, self.settings, self.name, os.getpid()))
        return self._pool

    def __call__(self, messages: list["Message"], generation: int = 0) -> "Batch":
        from services.common.consumer import Batch, Parsed
        started = time.perf_counter()
        try:
            outcomes = self._in_workers(messages)
        except BrokenProcessPool:
            log.warning("a parse worker died; parsing this batch in the consumer and starting new workers",
                        extra={"consumer": self.name, "messages": len(messages)})
            metrics.CONSUMER_PARSE_WORKER_RESTARTS.labels(self.name).inc()
            self.close()
            return self.fallback(messages, generation)
        except Exception:  # noqa: BLE001 - the in-process step gives every message its own outcome
            log.warning("handing a batch to the parse workers failed; parsing it in the consumer", exc_info=True,
                        extra={"consumer": self.name, "messages": len(messages)})
            return self.fallback(messages, generation)
        batch = Batch(messages, started=started, generation=generation)
        metrics.CONSUMER_MESSAGES.labels(self.name).inc(len(messages))
        parsed, dead = batch.parsed, batch.dead
        start = 0
        for events, failed in outcomes:
            chunk = messages[start:start + len(events)]
            if not failed:
                parsed.extend(map(Parsed, chunk, events))
            else:
                for position, (message, event) in enumerate(zip(chunk, events)):
                    exc = failed.get(position)
                    if exc is None:
                        parsed.append(Parsed(message, event))
                    else:
                        dead.append((message, exc))
            start += len(events)
        return batch

    def _in_workers(self, messages: list["Message"]) -> list[tuple[list[Any], dict[int, InvalidEvent]]]:
        if not messages:
            return []
        pool = self._get_pool()
        size = -(-len(messages) // self.processes)
        futures = [pool.submit(_parse_chunk, messages[i:i + size]) for i in range(0, len(messages), size)]
        return [f.result() for f in futures]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
