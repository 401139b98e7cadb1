"""Failed broker connections close their sockets (kafka-python 3.0 leaks them otherwise)."""

from __future__ import annotations

import gc
import os
import socket

from kafka import KafkaConsumer

from services.common import kafka_io  # noqa: F401 - installs the fix on import


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
