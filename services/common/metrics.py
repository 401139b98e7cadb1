"""Every Prometheus metric Collateral exports, declared once.

Conventions: one `collateral_` prefix, base units (`_seconds`, `_bytes`), `_total`
counters, no ids as label values (label sets stay bounded), and the status code kept
off the latency histogram so its cardinality stays small.
"""

from __future__ import annotations

import threading

from prometheus_client import Counter, Gauge, Histogram, start_http_server

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# ---- gRPC servers -----------------------------------------------------------------
GRPC_REQUESTS = Counter(
    "collateral_grpc_requests", "gRPC calls handled, by final status code.", ["service", "method", "code"]
)
GRPC_DURATION = Histogram(
    "collateral_grpc_request_duration_seconds", "gRPC call latency.", ["service", "method"], buckets=_LATENCY_BUCKETS
)
GRPC_IN_FLIGHT = Gauge("collateral_grpc_requests_in_flight", "gRPC calls being handled.", ["service"])
DEPENDENCY_UP = Gauge(
    "collateral_dependency_up", "1 when the last health probe of a dependency succeeded.", ["service", "dependency"]
)

# ---- calls to Elasticsearch, S3, Kafka ----------------------------------------------
DEPENDENCY_DURATION = Histogram(
    "collateral_dependency_request_duration_seconds",
    "Latency of calls to Elasticsearch, S3 and Kafka.",
    ["dependency", "operation"],
    buckets=_LATENCY_BUCKETS,
)
DEPENDENCY_ERRORS = Counter(
    "collateral_dependency_errors", "Failed calls to Elasticsearch, S3 and Kafka.", ["dependency", "operation"]
)
EVENTS_PRODUCED = Counter("collateral_events_produced", "Events acknowledged by Kafka.", ["topic"])

# ---- stream consumers --------------------------------------------------------------
CONSUMER_MESSAGES = Counter("collateral_consumer_messages", "Messages polled from Kafka.", ["consumer"])
CONSUMER_EVENTS = Counter(
    "collateral_consumer_events",
    "Consumed events by outcome: written, duplicate, stale, dead_lettered.",
    ["consumer", "outcome"],
)
CONSUMER_DEAD_LETTERS = Counter(
    "collateral_consumer_dead_letters", "Messages sent to a dead-letter topic, by reason.", ["consumer", "reason"]
)
CONSUMER_BATCH_DURATION = Histogram(
    "collateral_consumer_batch_duration_seconds",
    "Time to process and commit one batch.",
    ["consumer"],
    buckets=_LATENCY_BUCKETS,
)
CONSUMER_LAG = Gauge(
    "collateral_consumer_lag_messages", "End offset minus committed offset.", ["consumer", "topic", "partition"]
)
CONSUMER_EVENT_TIME_LAG = Gauge(
    "collateral_consumer_event_time_lag_seconds", "Now minus the newest processed event time.", ["consumer"]
)
CONSUMER_LAST_COMMIT = Gauge(
    "collateral_consumer_last_commit_timestamp_seconds", "Unix time of the last offset commit.", ["consumer"]
)
CONSUMER_RETRIES = Counter(
    "collateral_consumer_downstream_retries", "Batches retried because a downstream store was unavailable.", ["consumer"]
)
CONSUMER_PAUSED = Gauge("collateral_consumer_paused", "1 while consumption is paused for backoff.", ["consumer"])

_started: set[int] = set()
_lock = threading.Lock()


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Expose /metrics on `port` once per process (a second call for the same port is a no-op)."""
    with _lock:
        if port in _started:
            return
        start_http_server(port, addr=host)
        _started.add(port)
