"""Health that tells the truth: the parallel probe runner, capabilities, set-up, liveness.

Pure logic runs directly; the server-level behaviour goes through a real loopback gRPC
server with a stand-in service, so no backends are needed.
"""

from __future__ import annotations

import json
import threading
from typing import Callable, Iterator

import grpc
import pytest
from google.protobuf.wrappers_pb2 import StringValue
from grpc_health.v1 import health_pb2, health_pb2_grpc
from werkzeug.test import Client

from services.common import auth, config, grpc_server, health
from tests.conftest import wait_serving, wait_until

SERVICE = "collateral.test.LedgerService"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


# ---- the probe runner ----------------------------------------------------------------------

def test_probes_run_in_parallel():
    # Each probe waits for the other: only a runner that starts both at once sees them succeed.
    both = threading.Barrier(2, timeout=10)
    runner = health.ProbeRunner({"a": lambda: both.wait() >= 0, "b": lambda: both.wait() >= 0})
    results = runner.run(deadline_s=20)
    assert results == {"a": health.ProbeResult(True, "ok"), "b": health.ProbeResult(True, "ok")}


def test_a_hung_probe_is_down_at_its_deadline_and_never_started_twice():
    release = threading.Event()
    starts: list[int] = []

    def hangs() -> bool:
        starts.append(1)
        return release.wait(60)

    runner = health.ProbeRunner({"hung": hangs, "fine": lambda: True})
    try:
        first = runner.run(deadline_s=0.2)
        assert not first["hung"].ok and "no answer" in first["hung"].detail
        assert first["fine"].ok  # one hung dependency does not hold the others' answers
        second = runner.run(deadline_s=0.2)
        assert not second["hung"].ok and "still unanswered" in second["hung"].detail
        assert len(starts) == 1  # no pile of stuck threads
    finally:
        release.set()
    wait_until(lambda: runner.run(deadline_s=5)["hung"].ok, timeout_s=10, what="the released probe answering")
    assert len(starts) == 2


def test_a_probe_that_raises_or_says_no_is_down_with_the_reason():
    def refuses() -> bool:
        raise ConnectionError("connection refused")

    results = health.ProbeRunner({"refuses": refuses, "no": lambda: False}).run(deadline_s=5)
    assert results["refuses"] == health.ProbeResult(False, "ConnectionError: connection refused")
    assert results["no"] == health.ProbeResult(False, "probe reported down")


# ---- capabilities ----------------------------------------------------------------------------

CAPABILITIES = {
    "ingest": health.Capability.of({"kafka"}, {"Record"}),
    "reports": health.Capability.of({"elasticsearch"}, {"Report"}),
}


def _service_health(core: str = "ingest", **kwargs) -> health.ServiceHealth:
    return health.ServiceHealth("ledger", SERVICE, {"kafka": lambda: True, "elasticsearch": lambda: True},
                                capabilities=CAPABILITIES, core=core, **kwargs)


def test_server_and_service_status_follow_the_core_capability_only():
    statuses = _service_health().statuses({"kafka": True, "elasticsearch": False})
    assert statuses == {"": True, SERVICE: True, f"{SERVICE}/ingest": True, f"{SERVICE}/reports": False}
    statuses = _service_health().statuses({"kafka": False, "elasticsearch": True})
    assert statuses == {"": False, SERVICE: False, f"{SERVICE}/ingest": False, f"{SERVICE}/reports": True}


def test_without_a_core_capability_every_dependency_counts():
    statuses = _service_health(core="").statuses({"kafka": True, "elasticsearch": False})
    assert statuses[""] is False and statuses[SERVICE] is False


@pytest.mark.parametrize("kwargs, error", [
    ({"capabilities": {"x": health.Capability.of({"elasticsarch"}, {"M"})}}, "elasticsarch"),
    ({"set_up": {"s3": lambda: None}}, "s3"),
    ({"capabilities": CAPABILITIES, "core": "search"}, "search"),
    ({"capabilities": {"a": health.Capability.of({"kafka"}, {"M"}), "b": health.Capability.of({"kafka"}, {"M"})}}, "M"),
])
def test_misspelt_health_declarations_are_refused(kwargs, error):
    with pytest.raises(ValueError, match=error):
        health.ServiceHealth("ledger", SERVICE, {"kafka": lambda: True}, **kwargs)


def test_set_up_is_retried_in_the_probe_job_until_it_succeeds():
    attempts: list[int] = []
    ready = threading.Event()

    def create_indices() -> None:
        attempts.append(1)
        if not ready.is_set():
            raise ConnectionError("elasticsearch is down")

    service = _service_health(set_up={"elasticsearch": create_indices})
    assert service.not_set_up("Report") == ["elasticsearch"] and service.not_set_up("Record") == []
    assert service.check(deadline_s=5)[f"{SERVICE}/reports"] is False
    assert service.down_detail() == {"elasticsearch": "ConnectionError: elasticsearch is down"}
    ready.set()
    assert service.check(deadline_s=5)[f"{SERVICE}/reports"] is True
    assert service.not_set_up("Report") == []
    service.check(deadline_s=5)
    assert len(attempts) == 2  # done once it succeeded


def test_an_unlisted_method_waits_for_every_set_up():
    service = _service_health(set_up={"elasticsearch": lambda: None})
    assert service.not_set_up("SomethingNew") == ["elasticsearch"]


# ---- through a real server -------------------------------------------------------------------

class _Deps:
    def __init__(self) -> None:
        self.kafka_hangs = threading.Event()
        self.released = threading.Event()
        self.es_can_set_up = threading.Event()

    def kafka(self) -> bool:
        if self.kafka_hangs.is_set():
            self.released.wait(120)  # accepts the connection, never answers
        return True

    def set_up_es(self) -> None:
        if not self.es_can_set_up.is_set():
            raise ConnectionError("elasticsearch refused the connection")


def _spec(deps: _Deps) -> grpc_server.ServiceSpec:
    def register(server: grpc.Server) -> None:
        def answer(request: StringValue, context: grpc.ServicerContext) -> StringValue:
            return StringValue(value=f"ok:{request.value}")

        handlers = {name: grpc.unary_unary_rpc_method_handler(answer, StringValue.FromString, StringValue.SerializeToString)
                    for name in ("Record", "Report")}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))

    return grpc_server.ServiceSpec(
        name="ledger", full_name=SERVICE, register=register,
        access={"Record": frozenset({auth.Role.ADMIN}), "Report": frozenset({auth.Role.ADMIN})},
        default_port=0, default_metrics_port=0,
        probes={"kafka": deps.kafka, "elasticsearch": lambda: True},
        set_up={"elasticsearch": deps.set_up_es},
        capabilities=CAPABILITIES, core="ingest",
    )


@pytest.fixture()
def ledger() -> Iterator[tuple[_Deps, grpc_server.RunningServer, grpc.Channel, config.Settings]]:
    settings = config.load(environ={}, health_check_interval_s=0.1, health_probe_timeout_s=0.3,
                           auth_secret="test-secret-of-at-least-32-bytes-long")
    deps = _Deps()
    running = grpc_server.start(_spec(deps), settings, port=0, metrics_port=0)
    channel = grpc_server.channel(running.address)
    yield deps, running, channel, settings
    deps.released.set()
    channel.close()
    running.stop(grace=0.5)


def _status(channel: grpc.Channel, name: str) -> int:
    return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=name), timeout=2).status


def _call(channel: grpc.Channel, settings: config.Settings, method: str) -> Callable[[str], str]:
    metadata = auth.bearer_metadata(auth.mint(settings, "ops", "admin"))
    stub = channel.unary_unary(f"/{SERVICE}/{method}", StringValue.SerializeToString, StringValue.FromString)
    return lambda text: stub(StringValue(value=text), metadata=metadata, timeout=5).value


def test_a_dependency_down_at_boot_starts_the_server_and_is_set_up_when_it_returns(ledger):
    deps, running, channel, settings = ledger
    wait_serving(running.address)  # the core (ingest, Kafka) serves although Elasticsearch is down
    assert _status(channel, f"{SERVICE}/reports") == NOT_SERVING
    with pytest.raises(grpc.RpcError) as err:
        _call(channel, settings, "Report")("x")
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE and "elasticsearch" in err.value.details()
    assert _call(channel, settings, "Record")("x") == "ok:x"
    deps.es_can_set_up.set()
    wait_serving(running.address, f"{SERVICE}/reports", timeout_s=10)
    assert _call(channel, settings, "Report")("y") == "ok:y"


def test_a_hung_dependency_turns_the_status_not_serving_promptly(ledger):
    deps, running, channel, _ = ledger
    wait_serving(running.address)
    deps.kafka_hangs.set()
    # Bounded by a few probe deadlines and intervals; an unbounded probe would keep SERVING.
    wait_until(lambda: _status(channel, "") == NOT_SERVING, timeout_s=10, what="NOT_SERVING while Kafka hangs")
    assert _status(channel, f"{SERVICE}/ingest") == NOT_SERVING
    deps.released.set()
    wait_serving(running.address, timeout_s=10)


# ---- consumer liveness -------------------------------------------------------------------------

class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_heartbeat_liveness_fails_after_the_threshold_without_a_beat():
    clock = _Clock()
    beat = health.Heartbeat("ledger-consumer", clock=clock)
    check = health.heartbeat_liveness(beat, threshold_s=30)
    clock.now += 29
    assert check()[0] is True
    clock.now += 2
    alive, detail = check()
    assert alive is False and detail["seconds_since_heartbeat"] == 31
    beat.beat()
    assert check()[0] is True


def test_liveness_endpoint_answers_503_with_reasons_and_keeps_metrics():
    answer = {"alive": True}
    app = health.http_app(lambda: (answer["alive"], {"alive": answer["alive"]}))
    client = Client(app)
    assert client.get("/healthz").status_code == 200
    answer["alive"] = False
    response = client.get("/healthz")
    assert response.status_code == 503 and json.loads(response.data) == {"alive": False}
    metrics_page = client.get("/metrics")
    assert metrics_page.status_code == 200 and b"collateral_consumer_heartbeat_timestamp_seconds" in metrics_page.data
