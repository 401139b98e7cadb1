"""Kafka producers and topic administration shared by every service.

The producer (librdkafka, see `Producer`) is idempotent with `acks=all`, set explicitly
here so nobody weakens it by accident, and `send_and_wait` returns only once the broker
has acknowledged every record: an ingest RPC that returns OK has been stored. The consumer
loops' group members are librdkafka's too (`consumer_config`); `new_consumer` (lag reads,
tests) and the admin client are kafka-python's.

Waiting for Kafka is bounded by `produce_budget`: `COLLATERAL_KAFKA_PRODUCE_TIMEOUT_S`
(or what the caller asks for) and, inside a gRPC call, at most half of the call's
remaining deadline. Connecting, waiting for topic metadata and waiting for
acknowledgements all count against it. An RPC whose events Kafka did not acknowledge
in time therefore answers UNAVAILABLE while the client still listens, instead of the
client running into DEADLINE_EXCEEDED without knowing whether to retry. Records already
handed to the client library may still be written after that answer, which is why
ingest events carry ids that make a retry idempotent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence, TypeVar

# librdkafka's client types; the consumer loop (services.common.consumer) uses them from here.
from confluent_kafka import Consumer as RdConsumer, KafkaError as RdKafkaError  # noqa: F401 - re-exported
from confluent_kafka import KafkaException as RdKafkaException, Producer as RdProducer
from confluent_kafka import TopicPartition as RdTopicPartition  # noqa: F401 - re-exported
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.net.compat import KafkaNetClient
from kafka.partitioner.default import murmur2

from services.common import config, errors, grpc_server, metrics

log = logging.getLogger(__name__)
T = TypeVar("T")

def _close_sockets_of_failed_connects() -> None:
    """Close the socket of every failed broker connection attempt.

    kafka-python 3.0's `KafkaNetSocket.sock_connect` raises on a refused or timed-out
    connection without closing the socket it was given, so every reconnect attempt
    during a Kafka outage leaks a file descriptor until the garbage collector finds it.
    Wrapping the method once, here, fixes it for every client the services create.
    """
    from kafka.net.inet import KafkaNetSocket

    original = KafkaNetSocket.sock_connect
    if getattr(original, "closes_socket_on_failure", False):
        return

    async def sock_connect(self: Any, net: Any, sock: Any, sockaddr: Any, timeout_at: float | None = None) -> Any:
        try:
            return await original(self, net, sock, sockaddr, timeout_at=timeout_at)
        except BaseException:
            sock.close()
            raise

    sock_connect.closes_socket_on_failure = True  # type: ignore[attr-defined]
    KafkaNetSocket.sock_connect = sock_connect  # type: ignore[method-assign]


_close_sockets_of_failed_connects()


def _close_sockets_of_failed_handshakes() -> None:
    """Close the socket of every TLS connection whose handshake fails.

    kafka-python 3.0 builds the TLS transport, then awaits its handshake; when that fails
    (an untrusted broker certificate, a broker refusing the client certificate) the error
    is re-raised before anyone owns the transport, and its socket stays open until garbage
    collection: a descriptor leaked per attempt while a deployment retries with a wrong CA.
    """
    from kafka.net.transport import KafkaSSLTransport, KafkaTCPTransport

    def closing_on_failure(original: Callable[..., Any]) -> Callable[..., Any]:
        async def handshake(self: Any) -> Any:
            try:
                return await original(self)
            except BaseException:
                self._closed = True
                self._close()  # unregisters and closes the socket; idempotent
                raise

        handshake.closes_socket_on_failure = True  # type: ignore[attr-defined]
        return handshake

    for transport in (KafkaTCPTransport, KafkaSSLTransport):
        original = transport.__dict__["handshake"]
        if not getattr(original, "closes_socket_on_failure", False):
            transport.handshake = closing_on_failure(original)  # type: ignore[method-assign]


_close_sockets_of_failed_handshakes()

def security_options(settings: config.Settings) -> dict[str, Any]:
    """The security options of every Kafka client (producer, consumer, admin), from COLLATERAL_KAFKA_*.

    The one place they are derived: `producer`, `new_consumer` and `admin_client` (the only
    constructors the services use) all pass them, so a SASL_SSL or mutual-TLS deployment
    configures every client the same way. Combinations are validated in config.
    """
    options: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if settings.kafka_uses_sasl:
        options.update(sasl_mechanism=settings.kafka_sasl_mechanism_in_use,
                       sasl_plain_username=settings.kafka_sasl_username,
                       sasl_plain_password=settings.kafka_sasl_password)
    if settings.kafka_is_encrypted:
        options["ssl_check_hostname"] = settings.kafka_ssl_check_hostname
        for option, value in (("ssl_cafile", settings.kafka_ssl_cafile), ("ssl_certfile", settings.kafka_ssl_certfile),
                              ("ssl_keyfile", settings.kafka_ssl_keyfile)):
            if value:
                options[option] = value
    return options


def new_consumer(settings: config.Settings, *topic_names: str, **options: Any) -> KafkaConsumer:
    """A KafkaConsumer of `settings`' cluster with its security options; `options` add the rest.

    A consumer whose bootstrap fails (Kafka down, credentials rejected) has already started
    its network thread and sockets; they are released here, since callers retry.
    """
    clients: list[KafkaNetClient] = []

    def network_client(**configs: object) -> KafkaNetClient:
        clients.append(KafkaNetClient(**configs))
        return clients[-1]

    try:
        return KafkaConsumer(*topic_names, bootstrap_servers=settings.kafka_bootstrap.split(","),
                             kafka_client=network_client, **options, **security_options(settings))
    except Exception:
        for client in clients:
            for release in (client.close, getattr(getattr(client, "_net", None), "stop", None)):
                try:
                    if release is not None:
                        release()
                except Exception:  # noqa: BLE001 - best effort on a client that never started
                    log.debug("releasing a failed Kafka consumer", exc_info=True)
        raise


def connect_failure(settings: config.Settings, exc: BaseException | str) -> str:
    """Why a client could not reach Kafka, naming the security configuration in use (never a secret).

    A broker that rejects SASL credentials or a TLS handshake just closes the connection, and
    the client library then only reports "unable to bootstrap"; saying which protocol,
    mechanism, user, CA and certificate were tried makes the log line point at the cause.
    """
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return f"Kafka at {settings.kafka_bootstrap} did not answer: {exc}"
    used = [f"protocol {protocol}"]
    if settings.kafka_uses_sasl:
        used.append(f"SASL {settings.kafka_sasl_mechanism_in_use} as user {settings.kafka_sasl_username!r}")
    if settings.kafka_is_encrypted:
        used.append(f"CA {settings.kafka_ssl_cafile or '(system CAs)'}")
        if settings.kafka_ssl_certfile:
            used.append(f"client certificate {settings.kafka_ssl_certfile}")
    return (f"Kafka at {settings.kafka_bootstrap} did not complete the connection with {', '.join(used)}: "
            f"check the credentials, the CA bundle and the client certificate if brokers are up ({exc})")


_REPEAT_CONNECT_FAILURE_LOG_S = 60.0
_last_connect_failure: dict[str, tuple[str, float]] = {}
_connect_failure_lock = threading.Lock()


def _log_connect_failure(settings: config.Settings, message: str) -> None:
    """Log why Kafka could not be reached: at once when the reason is new, then at most once a minute.

    Health probes and producers retry every few seconds; the cause (a rejected password, an
    untrusted certificate) must be in the log without repeating it on every attempt.
    """
    now = time.monotonic()
    with _connect_failure_lock:
        last = _last_connect_failure.get(settings.kafka_bootstrap)
        if last is not None and last[0] == message and now - last[1] < _REPEAT_CONNECT_FAILURE_LOG_S:
            return
        _last_connect_failure[settings.kafka_bootstrap] = (message, now)
    log.warning("Kafka connection failed: %s", message, extra={"error": message})


def retry_until_available(settings: config.Settings, step: Callable[[], T], what: str,
                          stop: threading.Event | None = None, on_retry: Callable[[], None] | None = None) -> T | None:
    """Run `step` (a consumer's start-up: its topics, its client), retrying while Kafka cannot be reached.

    A consumer whose Kafka is down, or rejects its credentials, waits here logging why at
    every attempt (with backoff up to consumer_max_backoff_s) rather than exiting and being
    restarted in a loop. Returns None when `stop` is set first.
    """
    delay = 0.5
    while True:
        try:
            return step()
        except (KafkaError, errors.Unavailable) as exc:
            reason = str(exc) if isinstance(exc, errors.Unavailable) else connect_failure(settings, exc)
            log.warning("Kafka unavailable, retrying %s in %.1fs: %s", what, delay, reason,
                        extra={"step": what, "retry_in_s": delay, "error": reason})
        if on_retry is not None:
            on_retry()
        if stop is not None and stop.wait(delay):
            return None
        if stop is None:
            time.sleep(delay)
        delay = min(max(delay * 2, 0.5), max(0.5, settings.consumer_max_backoff_s))


PROBE_TIMEOUT_S = 2.0  # health probes connect within this
DEADLINE_SHARE = 0.5  # of a gRPC call's remaining deadline that waiting for Kafka may use
BATCH_BYTES = 1024 * 1024  # per-partition producer batch; below message.max.bytes (2 MiB)


def produce_budget(timeout_s: float) -> float:
    """`timeout_s`, capped inside a gRPC call at half of the call's remaining deadline.

    The other half is left for the answer to reach the client, so it sees UNAVAILABLE
    (retry) rather than DEADLINE_EXCEEDED (outcome unknown). Outside a call, or for a
    call without a deadline, `timeout_s` applies unchanged.
    """
    remaining = grpc_server.remaining_timeout(float("inf"))
    return max(0.05, min(timeout_s, DEADLINE_SHARE * remaining))


@dataclass(frozen=True)
class Record:
    """One message to produce: `key` keeps an entity's events in one partition.

    `partition` sends it to that partition instead of the key's (a record that bundles
    several keys which all hash to it, see `partition_of`).
    """

    topic: str
    key: str | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    partition: int | None = None


def partition_of(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as the Java client) gives `key`."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


class Producer:
    """A thread-safe producer that waits for acknowledgements, within a bounded time.

    Built on librdkafka (confluent-kafka), not kafka-python: the consumers publish a record
    per event they store (usage.classified.v1), and kafka-python spent 60-80 µs of Python per
    record on it, the largest single cost of the usage consumer; librdkafka queues a record in
    about 3 µs and batches, compresses and retries in its own threads. The admin client stays
    on kafka-python. Partitioning is murmur2 like the Java client and
    `partition_of`, so keyed records land where the co-partitioned joins expect them.
    """

    def __init__(self, settings: config.Settings, client_id: str) -> None:
        self._settings = settings
        self._client_id = client_id
        self._producer: RdProducer | None = None
        self._lock = threading.Lock()
        self._last_error = ""  # librdkafka reports connection failures here, not to the caller

    def _get(self, budget_s: float) -> RdProducer:
        """The shared client, connecting first if needed, within `budget_s` seconds.

        Connecting (a metadata round trip) blocks; a call that cannot even get the lock in
        time, because another call is connecting to an unreachable cluster, gives up too.
        """
        if not self._lock.acquire(timeout=budget_s):
            raise errors.Unavailable(f"Kafka unavailable: not connected within {budget_s:.1f}s")
        try:
            if self._producer is None:
                self._producer = self._connect(budget_s)
            return self._producer
        finally:
            self._lock.release()

    def _connect(self, budget_s: float) -> RdProducer:
        """A client that has completed one metadata request (so credentials and TLS are known good).

        Brokers that refuse connections outright are detected first with a plain TCP connect,
        which answers at once; a failed client is closed, since calls retry while Kafka is down.
        """
        if not brokers_reachable(self._settings, min(PROBE_TIMEOUT_S, budget_s)):
            metrics.DEPENDENCY_ERRORS.labels("kafka", "connect").inc()
            raise errors.Unavailable(f"Kafka unavailable: no broker of {self._settings.kafka_bootstrap} "
                                     "accepts connections")
        self._last_error = ""
        producer = RdProducer(producer_config(self._settings, self._client_id, self._on_error))
        try:
            producer.list_topics(timeout=max(0.05, budget_s))
        except RdKafkaException as exc:
            producer.poll(0)  # serves the client-level errors queued meanwhile (the real reason)
            producer.close()
            metrics.DEPENDENCY_ERRORS.labels("kafka", "connect").inc()
            reason = connect_failure(self._settings, self._last_error or exc)
            _log_connect_failure(self._settings, reason)
            raise errors.Unavailable(f"Kafka unavailable: {reason}") from None
        return producer

    def _on_error(self, error: Any) -> None:
        """librdkafka's client-level errors (a refused handshake, all brokers down): kept for the reason."""
        self._last_error = error.str()  # a confluent_kafka.KafkaError

    def send_and_wait(self, records: Sequence[Record], timeout_s: float | None = None) -> None:
        """Produce `records` and block until all are acknowledged, or raise Unavailable.

        `timeout_s` defaults to COLLATERAL_KAFKA_PRODUCE_TIMEOUT_S; inside a gRPC call it
        is capped at half the call's remaining deadline (see `produce_budget`).
        """
        if not records:
            return
        budget = produce_budget(self._settings.kafka_produce_timeout_s if timeout_s is None else timeout_s)
        deadline = time.monotonic() + budget
        started = time.perf_counter()
        try:
            producer = self._get(budget)
            deliveries = _Deliveries(len(records))
            for r in records:
                self._produce(producer, r, deliveries.report, deadline)
            while not deliveries.done.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _NotAcknowledged(f"{deliveries.pending} of {len(records)} records not acknowledged")
                producer.poll(min(left, 0.05))  # serves delivery reports, whichever call they belong to
            if deliveries.failure is not None:
                raise _NotAcknowledged(deliveries.failure)
            for topic, count in Counter(r.topic for r in records).items():
                metrics.EVENTS_PRODUCED.labels(topic).inc(count)
            self._last_error = ""  # an error reported before this success no longer explains anything
        except (_NotAcknowledged, RdKafkaException) as exc:
            metrics.DEPENDENCY_ERRORS.labels("kafka", "produce").inc()
            cause = f"{exc}; {self._last_error}" if self._last_error else str(exc)
            raise errors.Unavailable(
                f"Kafka did not acknowledge the records within {budget:.1f}s ({cause}); "
                "some may still be written later") from None
        finally:
            metrics.DEPENDENCY_DURATION.labels("kafka", "produce").observe(time.perf_counter() - started)

    @staticmethod
    def _produce(producer: RdProducer, record: Record, on_delivery: Callable[[Any, Any], None],
                 deadline: float) -> None:
        """Queue one record, waiting (serving delivery reports) while the local queue is full."""
        options: dict[str, Any] = {"key": record.key, "value": record.value, "on_delivery": on_delivery}
        if record.headers:
            options["headers"] = list(record.headers)
        if record.partition is not None:
            options["partition"] = record.partition
        while True:
            try:
                producer.produce(record.topic, **options)
                return
            except BufferError:
                if time.monotonic() >= deadline:
                    raise _NotAcknowledged("the local produce queue stayed full") from None
                producer.poll(0.05)

    def partition_count(self, topic: str, timeout_s: float | None = None) -> int:
        """How many partitions `topic` has (from the cluster's metadata), or raise Unavailable."""
        budget = produce_budget(self._settings.kafka_produce_timeout_s if timeout_s is None else timeout_s)
        try:
            described = self._get(budget).list_topics(topic, timeout=budget).topics.get(topic)
        except RdKafkaException as exc:
            metrics.DEPENDENCY_ERRORS.labels("kafka", "metadata").inc()
            raise errors.Unavailable(f"Kafka did not describe {topic} ({exc})") from None
        if described is None or described.error is not None or not described.partitions:
            metrics.DEPENDENCY_ERRORS.labels("kafka", "metadata").inc()
            raise errors.Unavailable(f"Kafka did not describe {topic} "
                                     f"({described.error if described is not None else 'no such topic'})")
        return len(described.partitions)

    def connected(self) -> bool:
        """Health probe: a client exists (it completed a metadata request) and a broker accepts connections."""
        try:
            self._get(PROBE_TIMEOUT_S)
        except errors.Unavailable:
            return False
        return brokers_reachable(self._settings)

    def close(self, timeout_s: float = 10.0) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.flush(timeout_s)
                self._producer.close()
                self._producer = None


class _NotAcknowledged(Exception):
    """Records not acknowledged in time, or refused by the broker."""


class _Deliveries:
    """Delivery reports of one `send_and_wait` call; reports may be served by any thread's poll."""

    def __init__(self, expected: int) -> None:
        self.pending = expected
        self.failure: str | None = None
        self.done = threading.Event()
        self._lock = threading.Lock()

    def report(self, error: Any, message: Any) -> None:
        with self._lock:
            if error is not None and self.failure is None:
                self.failure = f"{message.topic()}: {error.str()}"
            self.pending -= 1
            if self.pending == 0:
                self.done.set()


# security_options' names (kafka-python's) as librdkafka spells them.
_LIBRDKAFKA_NAMES = {"security_protocol": "security.protocol", "sasl_mechanism": "sasl.mechanisms",
                     "sasl_plain_username": "sasl.username", "sasl_plain_password": "sasl.password",
                     "ssl_cafile": "ssl.ca.location", "ssl_certfile": "ssl.certificate.location",
                     "ssl_keyfile": "ssl.key.location"}


def producer_config(settings: config.Settings, client_id: str,
                    on_error: Callable[[Any], None] | None = None) -> dict[str, Any]:
    """librdkafka's configuration of the producer; its security part is `security_options`, renamed."""
    options = _librdkafka_client(settings, client_id, on_error)
    options.update({
        "enable.idempotence": True,  # acks=all, ordered retries without duplicates
        "partitioner": "murmur2_random",  # the Java client's (and partition_of's) partitions for keys
        "linger.ms": 5,
        "batch.size": BATCH_BYTES,
        "message.max.bytes": 2 * 1024 * 1024,
        "queue.buffering.max.messages": 1_000_000,
        # A record still unacknowledged after this fails; callers have given up long before.
        "message.timeout.ms": int(max(60.0, 4 * settings.kafka_produce_timeout_s) * 1000),
    })
    return options


class _WithoutConnectFailures(logging.Filter):
    """librdkafka logs every failed connection attempt (facility FAIL) at error level, several a
    second through an outage; `error_cb` reports the same failures, logged once per reason a minute
    (`_log_connect_failure`). Its other error-level lines pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.args, tuple) and record.args[:1] == ("FAIL",))


_librdkafka_log = logging.getLogger(f"{__name__}.librdkafka")
_librdkafka_log.addFilter(_WithoutConnectFailures())


def _librdkafka_client(settings: config.Settings, client_id: str,
                       on_error: Callable[[Any], None] | None) -> dict[str, Any]:
    """What every librdkafka client of the services is configured with: where, who, logging, and
    `security_options` under librdkafka's names."""
    options: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap,
        "client.id": client_id,
        "socket.connection.setup.timeout.ms": 10_000,
        "logger": _librdkafka_log,
        "log_level": 3,  # errors only; connection failures are reported through on_error
    }
    if on_error is not None:
        options["error_cb"] = on_error
    for name, value in security_options(settings).items():
        if name == "ssl_check_hostname":
            options["ssl.endpoint.identification.algorithm"] = "https" if value else "none"
        else:
            options[_LIBRDKAFKA_NAMES[name]] = value
    return options


def loop_consumer(settings: config.Settings, group_id: str, client_id: str, session_timeout_s: float,
                  metadata_max_age_ms: int) -> RdConsumer:
    """A consumer loop's group member (librdkafka): `consumer_config`, not subscribed yet.

    librdkafka reconnects by itself; its client-level errors (all brokers down, a refused
    handshake) are logged like a failed connection: at once when new, then once a minute.
    """
    def on_error(error: Any) -> None:
        _log_connect_failure(settings, f"{client_id}: {error.str()}")

    return RdConsumer(consumer_config(settings, group_id, client_id, session_timeout_s, metadata_max_age_ms, on_error))


def consumer_config(settings: config.Settings, group_id: str, client_id: str, session_timeout_s: float,
                    metadata_max_age_ms: int, on_error: Callable[[Any], None] | None = None) -> dict[str, Any]:
    """librdkafka's configuration of a consumer loop's group member (offsets committed by the loop only).

    The assignors are eager ("range,roundrobin", also kafka-python's, so members of both
    clients can share a group during an upgrade): every rebalance revokes every partition and
    assigns each from its committed offset, so a batch left uncommitted at a rebalance is read
    again by whoever owns its partition next, this consumer included.
    """
    options = _librdkafka_client(settings, client_id, on_error)
    options.update({
        "group.id": group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "partition.assignment.strategy": "range,roundrobin",
        "session.timeout.ms": int(session_timeout_s * 1000),
        "heartbeat.interval.ms": min(3_000, int(session_timeout_s * 1000) // 3),
        "max.poll.interval.ms": 300_000,
        "fetch.wait.max.ms": 200,
        # Bounds what librdkafka prefetches ahead of the loop (its one consumer queue; default 64 MiB).
        "queued.max.messages.kbytes": 16 * 1024,
        "topic.metadata.refresh.interval.ms": metadata_max_age_ms,
    })
    return options


class TopicsProbe:
    """Health probe: a real metadata request for the topics a service produces to.

    Up only when a broker answers within `timeout_s` and every topic exists with a
    leader for each partition: what a produce needs. A TCP connect alone says nothing
    about a broker that accepts and never answers. The admin client is kept between
    probes and rebuilt after a failure; the caller runs one probe at a time.
    """

    def __init__(self, settings: config.Settings, topic_names: Sequence[str], timeout_s: float) -> None:
        self._settings = settings
        self._topics = list(topic_names)
        self._timeout_ms = max(100, int(timeout_s * 1000))
        self._admin: KafkaAdminClient | None = None

    def __call__(self) -> bool:
        try:
            if self._admin is None:
                self._admin = admin_client(self._settings, "collateral-health", self._timeout_ms)
            described = self._admin.describe_topics(self._topics)
        except Exception:
            self.close()
            raise
        return _all_led(described, self._topics)

    def close(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            try:
                admin.close()
            except Exception:  # noqa: BLE001 - closing a broken client
                log.debug("closing the health admin client failed", exc_info=True)


def admin_client(settings: config.Settings, client_id: str, timeout_ms: int | None = None) -> KafkaAdminClient:
    """A KafkaAdminClient that leaves nothing behind when Kafka is down.

    kafka-python starts a network thread and opens sockets before it bootstraps in the
    constructor, and keeps both when the bootstrap fails; retried every health round
    while Kafka is down, that would leak a thread each time. So: no attempt while no
    broker accepts a connection, and a failed bootstrap stops what it started.
    """
    connect_s = timeout_ms / 1000 if timeout_ms else 2.0
    if not brokers_reachable(settings, connect_s):
        raise errors.Unavailable(f"no Kafka broker at {settings.kafka_bootstrap} accepts connections")
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap.split(","), "client_id": client_id,
                               **security_options(settings)}
    if timeout_ms:
        options.update(request_timeout_ms=timeout_ms, bootstrap_timeout_ms=timeout_ms)
    admin = KafkaAdminClient.__new__(KafkaAdminClient)
    try:
        admin.__init__(**options)
    except KafkaError as exc:
        _release_unstarted(admin)
        reason = connect_failure(settings, exc)
        _log_connect_failure(settings, reason)
        raise errors.Unavailable(reason) from None
    except Exception:
        _release_unstarted(admin)
        raise
    return admin


def _release_unstarted(admin: KafkaAdminClient) -> None:
    """Close the connections and stop the network thread of an admin client whose bootstrap failed."""
    client, network = getattr(admin, "_client", None), getattr(admin, "_net", None)
    for release in (client.close if client else None, network.stop if network else None):
        try:
            if release is not None:
                release()
        except Exception:  # noqa: BLE001 - best effort on a client that never started
            log.debug("releasing a failed Kafka admin client", exc_info=True)


def _all_led(described: Sequence[dict], wanted: Sequence[str]) -> bool:
    """Every wanted topic is known (error code 0) and each of its partitions has a leader."""
    by_name = {t.get("name"): t for t in described}
    for name in wanted:
        topic = by_name.get(name)
        if topic is None or topic.get("error_code") or not topic.get("partitions"):
            return False
        if any(p.get("error_code") or p.get("leader_id", -1) < 0 for p in topic["partitions"]):
            return False
    return True


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
    admin = admin_client(settings, "collateral-admin")
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
    consumer = new_consumer(settings)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(consumer.partitions_for_topic(n) for n in names):
                return
            time.sleep(0.2)
        raise errors.Unavailable(f"topics {names} have no partition leaders after {timeout_s}s")
    finally:
        consumer.close()
