"""Fixtures shared by every test suite.

Integration and end-to-end tests run against the real Kafka, Elasticsearch and S3 of
the local stack (`deploy/local/stack up`, which `./dev test` runs first). Every test
session gets its own namespace, so its topics, indices, bucket and consumer groups
never collide with another run's or with the demo data.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urlparse

import grpc
import pytest
from hypothesis import settings as hypothesis_settings

from services.common import auth, config, grpc_server
from services.common.grpc_server import RunningServer, ServiceSpec
from tests import namespaces


# With CI set, property-based tests run a fixed, seeded set of examples (derandomize): a CI
# result then depends on the code only, never on which examples a run happened to draw.
# Developers' runs keep exploring new examples (and hypothesis's example database keeps
# any failure found locally).
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def settings(request: pytest.FixtureRequest) -> Iterator[config.Settings]:
    """The session's settings under a namespace of its own, dropped (topics, indices, buckets) at the end."""
    namespace = namespaces.new_namespace()
    loaded = config.load(
        namespace=namespace,
        s3_bucket=f"{namespace}-files",
        health_check_interval_s=0.5,
        grpc_shutdown_grace_s=2.0,
        consumer_max_backoff_s=2.0,
        log_format="text",
    )
    if _uses_stack(request.session):
        namespaces.reap_stale(loaded)
    yield loaded
    if _uses_stack(request.session):
        namespaces.drop(loaded, [namespace])


def _uses_stack(session: pytest.Session) -> bool:
    """Whether this run reaches the servers at all; a unit-only run neither reaps nor drops."""
    return any("integration" in item.path.parts or "e2e" in item.path.parts for item in session.items)


def isolated(settings: config.Settings, suffix: str) -> config.Settings:
    """The same servers under a namespace of a suite's own.

    Suites that run consumers (usage, feedback, end to end) each get one, so one
    suite's consumer group never takes another suite's partitions or events.
    """
    namespace = f"{settings.namespace}{suffix}"
    return dataclasses.replace(settings, namespace=namespace, s3_bucket=f"{namespace}-files")


def process_env(settings: config.Settings, **extra: str) -> dict[str, str]:
    """The environment a subprocess (an importer, a consumer) needs to run with exactly `settings`."""
    env = dict(os.environ)
    env.update({config.env_name(f.name): str(getattr(settings, f.name)) for f in dataclasses.fields(settings)})
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def stack(settings: config.Settings) -> config.Settings:
    """Fail fast, naming the server, when the local stack is not running."""
    es = urlparse(settings.es_hosts[0])
    s3 = urlparse(settings.s3_endpoint)
    kafka_host, _, kafka_port = settings.kafka_bootstrap.split(",")[0].rpartition(":")
    missing = [
        name
        for name, host, port in (
            ("Kafka", kafka_host, int(kafka_port)),
            ("Elasticsearch", es.hostname or "127.0.0.1", es.port or 9200),
            ("S3", s3.hostname or "127.0.0.1", s3.port or 80),
        )
        if not _port_open(host, port)
    ]
    if missing:
        pytest.fail(f"{', '.join(missing)} not reachable: start the stack with `deploy/local/stack up` (or run `./dev test`)")
    return settings


def stop_or_start(command: str, server: str) -> None:
    """`deploy/local/stack stop|start SERVER` on the stack the suite runs against (its environment):
    the fault tests' real outages."""
    subprocess.run([str(Path(__file__).resolve().parents[1] / "deploy/local/stack"), command, server], check=True,
                   timeout=300, stdout=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def token(settings: config.Settings) -> Callable[..., str]:
    """token(role, sub=...) -> a signed bearer token for the test session's secret."""

    def mint(role: str, sub: str | None = None) -> str:
        return auth.mint(settings, sub or f"{role}-1", role)

    return mint


@pytest.fixture(scope="session")
def call_as(token: Callable[..., str]) -> Callable[..., tuple[tuple[str, str], ...]]:
    """call_as(role, sub=...) -> metadata for a gRPC call by that user."""

    def metadata(role: str, sub: str | None = None) -> tuple[tuple[str, str], ...]:
        return auth.bearer_metadata(token(role, sub))

    return metadata


@pytest.fixture(scope="session")
def start_service(settings: config.Settings) -> Iterator[Callable[..., RunningServer]]:
    """start_service(spec, server_settings=None) -> a running server on a free loopback port, stopped at
    session end. The server itself (TLS, audit log, timings) runs with `server_settings` when given,
    else the session's: a suite on other servers (the secured stack) passes the settings its spec has."""
    started: list[RunningServer] = []

    def start(spec: ServiceSpec, server_settings: config.Settings | None = None) -> RunningServer:
        running = grpc_server.start(spec, server_settings or settings, port=0, metrics_port=0)
        started.append(running)
        return running

    yield start
    for running in reversed(started):
        running.stop(grace=1.0)


@pytest.fixture(scope="session")
def mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real SMTP server process (aiosmtpd) for the session; messages land in a Maildir."""
    from tests.mailserver import MailServer

    server = MailServer(tmp_path_factory.mktemp("maildir") / "inbox").start()
    yield server
    server.stop()


def wait_serving(address: str, service: str = "", timeout_s: float = 30.0) -> None:
    """Block until the health service reports SERVING for `service`."""
    import time

    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout_s
    with grpc_server.channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                if stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2).status == 1:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise TimeoutError(f"{address} {service or '(server)'} not SERVING after {timeout_s}s")


class GiveUp(AssertionError):
    """Raised by a `wait_until` check when waiting longer cannot help (a consumer thread died):
    the wait fails at once with it instead of polling to its deadline, and every later wait
    on the same dead pipeline fails at once too instead of adding its own timeout."""


def wait_until(check: Callable[[], Any], timeout_s: float = 90.0, interval_s: float = 0.3, what: str = "") -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` and the last value.

    Consumers and index refreshes make results visible asynchronously; an exception from
    `check` (a page not rendered yet, a 404 before a refresh) counts as "not yet", except
    GiveUp, which fails the wait at once.
    """
    import time

    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except GiveUp:
            raise
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last = exc
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what or check}; last value {last!r}")


def consumer_lag(settings: config.Settings, group: str, topics: Iterable[str]) -> int:
    """Messages of `topics` that `group` has not committed yet (end offset minus committed, summed).

    Consumers commit only after their writes succeeded, so a lag of 0 means everything
    produced so far is in the stores: the point after which counting proves "nothing more".
    """
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

    bootstrap = settings.kafka_bootstrap.split(",")
    reader = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="tests-lag")
    try:
        partitions = [TopicPartition(topic, p) for topic in topics for p in sorted(reader.partitions_for_topic(topic) or ())]
        end = reader.end_offsets(partitions, timeout_ms=10_000)
        committed = admin.list_group_offsets({group: partitions}).get(group, {})
    finally:
        admin.close()
        reader.close()
    lag = 0
    for tp in partitions:
        done = committed.get(tp)
        lag += end[tp] - max(0, done.offset if done is not None else 0)
    return lag


def wait_consumed(settings: config.Settings, group: str, topics: Iterable[str], timeout_s: float = 90.0) -> None:
    """Block until `group` has committed every message produced so far to `topics`."""
    topics = list(topics)
    wait_until(lambda: consumer_lag(settings, group, topics) == 0, timeout_s=timeout_s, interval_s=0.5,
               what=f"consumer group {group} caught up on {', '.join(topics)}")


def metric_value(port: int, name: str, **labels: str) -> float | None:
    """A sample of a process's Prometheus /metrics on loopback; None when it is not exposed (yet)."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


def in_ci() -> bool:
    """CI sets CI to a non-empty value; there a missing server or browser is a failure, never a skip."""
    return bool(os.environ.get("CI"))


def skip_or_fail(reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where every test must run."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set: this must not be skipped)", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """With CI set, any skip (pytest.skip, skipif, importorskip) is reported as a failure.

    A green CI run must mean every test ran: a browser that failed to install or a
    module that is missing would otherwise turn into skips nobody reads.
    """
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, but CI is set and every test must run: {reason}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "secure: against the secured stack (deploy/local/stack up --secure)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by folder, so `-m "not e2e"` or `-m "not integration"` select suites."""
    for item in items:
        parts = item.path.parts
        if "integration" in parts:
            item.add_marker(pytest.mark.integration)
        if "secure" in parts:
            item.add_marker(pytest.mark.secure)
        elif "e2e" in parts:
            item.add_marker(pytest.mark.e2e)
