"""The shared gRPC bootstrap, exercised over a real loopback channel.

A generic-handler service stands in for a Collateral service, so these tests need no
protos and no backends: auth, roles, error mapping, metrics and health transitions.
"""

from __future__ import annotations

import threading
import urllib.request

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from services.common import auth, config, errors, grpc_server, metrics
from tests.conftest import wait_serving

SERVICE = "collateral.test.EchoService"


class _Flags:
    def __init__(self) -> None:
        self.dependency_up = True


def _echo(request: bytes, context: grpc.ServicerContext) -> bytes:
    if request == b"bad":
        raise errors.InvalidArgument("text", "must not be 'bad'")
    if request == b"missing":
        raise errors.NotFound("no such thing")
    if request == b"boom":
        raise RuntimeError("a bug")
    if request == b"down":
        raise ConnectionError("elasticsearch refused the connection")
    return auth.current_principal().subject.encode() + b":" + request


def _spec(flags: _Flags) -> grpc_server.ServiceSpec:
    def register(server: grpc.Server) -> None:
        handler = grpc.method_handlers_generic_handler(SERVICE, {"Echo": grpc.unary_unary_rpc_method_handler(_echo)})
        server.add_generic_rpc_handlers((handler,))

    return grpc_server.ServiceSpec(
        name="echo",
        full_name=SERVICE,
        register=register,
        access={"Echo": frozenset({auth.Role.MARKETER, auth.Role.ADMIN})},
        default_port=0,
        default_metrics_port=0,
        probes={"dependency": lambda: flags.dependency_up},
    )


@pytest.fixture()
def echo():
    settings = config.load(health_check_interval_s=0.1, auth_secret="test-secret-of-at-least-32-bytes-long")
    flags = _Flags()
    running = grpc_server.start(_spec(flags), settings, port=0, metrics_port=0)
    channel = grpc_server.channel(running.address)
    call = channel.unary_unary(f"/{SERVICE}/Echo")
    yield settings, flags, running, call, channel
    channel.close()
    running.stop(grace=0.5)


def _metadata(settings: config.Settings, role: str) -> tuple[tuple[str, str], ...]:
    return auth.bearer_metadata(auth.mint(settings, "alice", role))


def test_authorised_call_sees_its_principal(echo):
    settings, _, _, call, _ = echo
    assert call(b"hi", metadata=_metadata(settings, "marketer"), timeout=5) == b"alice:hi"


@pytest.mark.parametrize(
    "metadata, code",
    [
        ((), grpc.StatusCode.UNAUTHENTICATED),
        ((("authorization", "Bearer not-a-jwt"),), grpc.StatusCode.UNAUTHENTICATED),
        ((("authorization", "Basic abc"),), grpc.StatusCode.UNAUTHENTICATED),
    ],
)
def test_missing_or_bad_token_is_unauthenticated(echo, metadata, code):
    _, _, _, call, _ = echo
    with pytest.raises(grpc.RpcError) as err:
        call(b"hi", metadata=metadata, timeout=5)
    assert err.value.code() == code


def test_token_signed_with_another_secret_is_rejected(echo):
    _, _, _, call, _ = echo
    forged = auth.mint(config.load(auth_secret="another-secret-of-at-least-32-bytes"), "mallory", "admin")
    with pytest.raises(grpc.RpcError) as err:
        call(b"hi", metadata=auth.bearer_metadata(forged), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_role_without_access_is_permission_denied(echo):
    settings, _, _, call, _ = echo
    with pytest.raises(grpc.RpcError) as err:
        call(b"hi", metadata=_metadata(settings, "rep"), timeout=5)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_domain_errors_map_to_status_codes_with_field_violations(echo):
    settings, _, _, call, _ = echo
    md = _metadata(settings, "admin")
    with pytest.raises(grpc.RpcError) as err:
        call(b"bad", metadata=md, timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert grpc_server.field_violations(err.value) == [("text", "text: must not be 'bad'")]
    with pytest.raises(grpc.RpcError) as err:
        call(b"missing", metadata=md, timeout=5)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as err:
        call(b"down", metadata=md, timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    with pytest.raises(grpc.RpcError) as err:
        call(b"boom", metadata=md, timeout=5)
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert "a bug" not in err.value.details()  # internals never leak to clients


def test_metrics_count_calls_by_method_and_code(echo):
    settings, _, _, call, _ = echo
    counter = metrics.GRPC_REQUESTS.labels("echo", "Echo", "PERMISSION_DENIED")
    before = counter._value.get()
    with pytest.raises(grpc.RpcError):
        call(b"hi", metadata=_metadata(settings, "rep"), timeout=5)
    assert counter._value.get() == before + 1
    from scripts.local_services import free_port

    port = free_port()
    metrics.serve(port)
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'collateral_grpc_requests_total{code="PERMISSION_DENIED",method="Echo",service="echo"}' in body
    assert "collateral_grpc_request_duration_seconds_bucket" in body


def test_health_follows_dependencies_and_is_open(echo):
    _, flags, running, _, channel = echo
    wait_serving(running.address, SERVICE, timeout_s=5)
    health = health_pb2_grpc.HealthStub(channel)
    flags.dependency_up = False
    stop = threading.Event()
    for _ in range(100):
        status = health.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=2).status
        if status == health_pb2.HealthCheckResponse.NOT_SERVING:
            break
        stop.wait(0.05)
    assert status == health_pb2.HealthCheckResponse.NOT_SERVING
    flags.dependency_up = True
    wait_serving(running.address, SERVICE, timeout_s=5)


def test_reflection_lists_the_service(echo):
    _, _, _, _, channel = echo
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health"} <= names


def test_graceful_stop_reports_not_serving(echo):
    _, _, running, _, channel = echo
    wait_serving(running.address, SERVICE, timeout_s=5)
    running.health.enter_graceful_shutdown()
    health = health_pb2_grpc.HealthStub(channel)
    assert health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2).status == (
        health_pb2.HealthCheckResponse.NOT_SERVING
    )
