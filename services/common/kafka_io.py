"""Kafka producers and topic administration shared by every service.

Producers use `acks=all` with idempotence (kafka-python 3.x defaults, set explicitly
here so nobody weakens them by accident), and `send_and_wait` returns only once the
broker has acknowledged every record: an ingest RPC that returns OK has been stored.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Iterable, Sequence

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from services.common import config, errors, metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    """One message to produce: `key` keeps an entity's events in one partition."""

    topic: str
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


class Producer:
    """A thread-safe producer that waits for acknowledgements."""

    def __init__(self, settings: config.Settings, client_id: str) -> None:
        self._settings = settings
        self._client_id = client_id
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def _get(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                try:
                    self._producer = KafkaProducer(
                        bootstrap_servers=self._settings.kafka_bootstrap.split(","),
                        client_id=self._client_id,
                        acks="all",
                        enable_idempotence=True,
                        linger_ms=5,
                        max_request_size=2 * 1024 * 1024,
                        request_timeout_ms=15000,
                        retry_backoff_ms=200,
                    )
                except KafkaError as exc:
                    raise errors.Unavailable(f"Kafka unavailable: {exc}") from None
            return self._producer

    def send_and_wait(self, records: Sequence[Record], timeout_s: float = 15.0) -> None:
        """Produce `records` and block until all are acknowledged, or raise Unavailable."""
        if not records:
            return
        producer = self._get()
        started = time.perf_counter()
        try:
            pending = [
                (r.topic, producer.send(r.topic, key=r.key.encode(), value=r.value, headers=list(r.headers)))
                for r in records
            ]
            deadline = time.monotonic() + timeout_s
            for topic, future in pending:
                future.get(timeout=max(0.1, deadline - time.monotonic()))
                metrics.EVENTS_PRODUCED.labels(topic).inc()
        except KafkaError as exc:
            metrics.DEPENDENCY_ERRORS.labels("kafka", "produce").inc()
            raise errors.Unavailable(f"Kafka did not acknowledge the events: {exc}") from None
        finally:
            metrics.DEPENDENCY_DURATION.labels("kafka", "produce").observe(time.perf_counter() - started)

    def connected(self) -> bool:
        """Health probe. kafka-python 3 closes its bootstrap connection once it has
        metadata, so `bootstrap_connected()` is usually False on a healthy producer; fall
        back to reaching a bootstrap broker over TCP."""
        try:
            if self._get().bootstrap_connected():
                return True
        except errors.Unavailable:
            return False
        return brokers_reachable(self._settings)

    def close(self, timeout_s: float = 10.0) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.flush(timeout=timeout_s)
                self._producer.close(timeout=timeout_s)
                self._producer = None


def brokers_reachable(settings: config.Settings, timeout_s: float = 2.0) -> bool:
    """True when at least one bootstrap broker accepts a TCP connection."""
    import socket

    for server in settings.kafka_bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port or 9092)), timeout=timeout_s):
                return True
        except (OSError, ValueError):
            continue
    return False


def ensure_topics(settings: config.Settings, names: Iterable[str], partitions: int | None = None) -> None:
    """Create the topics that do not exist yet (idempotent, safe to run at every start)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","), client_id="collateral-admin")
    try:
        existing = set(admin.list_topics())
        missing = [n for n in names if n not in existing]
        if not missing:
            return
        new = [
            NewTopic(n, partitions or settings.kafka_topic_partitions, settings.kafka_replication_factor)
            for n in missing
        ]
        try:
            admin.create_topics(new)
        except TopicAlreadyExistsError:
            pass  # another replica created it between our list and create
        log.info("topics created", extra={"topics": missing})
    finally:
        admin.close()
    _wait_for_metadata(settings, missing)


def _wait_for_metadata(settings: config.Settings, names: list[str], timeout_s: float = 30.0) -> None:
    """Block until the brokers report leaders for new topics, so the first produce doesn't race."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap.split(","))
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(consumer.partitions_for_topic(n) for n in names):
                return
            time.sleep(0.2)
        raise errors.Unavailable(f"topics {names} have no partition leaders after {timeout_s}s")
    finally:
        consumer.close()
