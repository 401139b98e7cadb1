"""Failed broker connections: they close their sockets (kafka-python 3.0 leaks them otherwise) and
are logged once, not at every attempt."""

from __future__ import annotations

import gc
import logging
import os
import socket

from kafka import KafkaConsumer

from services.common import config, kafka_io  # kafka_io also installs kafka-python's socket fix on import
from services.common.kafka_io import RdProducer


def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def open_sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count


def test_refused_connection_attempts_leave_no_socket_open() -> None:
    before = open_sockets()
    consumer = KafkaConsumer(bootstrap_servers=f"127.0.0.1:{closed_port()}", reconnect_backoff_ms=10,
                             reconnect_backoff_max_ms=20, api_version=(3, 0))
    for _ in range(10):
        consumer.poll(timeout_ms=100)  # each poll retries the refused connection
    during = open_sockets()
    consumer.close()
    gc.collect()
    # The client's own wake-up socket pair is all it may hold while polling, and nothing after close().
    assert during - before <= 2
    assert open_sockets() <= before


def test_librdkafka_logs_an_unreachable_broker_once_not_every_attempt(caplog) -> None:
    """librdkafka logs each refused connection at error level (several a second in an outage);
    those lines are dropped, and the failure is logged once through the client's error callback."""
    settings = config.load(kafka_bootstrap=f"127.0.0.1:{closed_port()}")
    options = kafka_io.producer_config(settings, "probe", on_error=lambda err: kafka_io._log_connect_failure(
        settings, f"probe: {err.str()}"))
    options.update({"reconnect.backoff.ms": 10, "reconnect.backoff.max.ms": 20})
    with caplog.at_level(logging.DEBUG, logger="services.common.kafka_io"):
        producer = RdProducer(options)
        producer.poll(1.5)  # dozens of refused attempts
        producer.flush(0)
    refused = [r.getMessage() for r in caplog.records if "Connection refused" in r.getMessage()]
    assert refused and all(m.startswith("Kafka connection failed: probe:") for m in refused), refused
    assert len(refused) <= 3, refused  # once per distinct reason ("1/1 brokers are down", the refusal, ...)
