"""The portal's readiness (/readyz) asks the real gRPC health service of each backend.

The three backends are loopback gRPC servers started through the same bootstrap as the
services, with a dependency each can lose, so no stack is needed; the portal's account
and session stores are the unit-test stand-ins.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator

import grpc
import pytest

from services.common import auth, config, grpc_server
from services.portal.backends import Backends
from tests.conftest import wait_serving, wait_until

NAMES = {"content": "collateral.v1.ContentService", "usage": "collateral.v1.UsageService",
         "feedback": "collateral.v1.FeedbackService"}


class _Backend:
    """A stand-in service whose one dependency can go down."""

    def __init__(self, name: str, settings: config.Settings) -> None:
        self.up = threading.Event()
        self.up.set()
        spec = grpc_server.ServiceSpec(
            name=name, full_name=NAMES[name], register=lambda server: None,
            access={"Nothing": frozenset({auth.Role.ADMIN})}, default_port=0, default_metrics_port=0,
            probes={"store": self.up.is_set})
        self.running = grpc_server.start(spec, settings, port=0, metrics_port=0)


@pytest.fixture()
def servers() -> Iterator[dict[str, _Backend]]:
    settings = config.load(environ={}, health_check_interval_s=0.1, health_probe_timeout_s=0.5)
    started = {name: _Backend(name, settings) for name in NAMES}
    for backend in started.values():
        wait_serving(backend.running.address)
    yield started
    for backend in started.values():
        backend.running.stop(grace=0.1)


@pytest.fixture()
def backends(servers: dict[str, _Backend]) -> Iterator[Backends]:
    """Overrides the stand-in backends of the portal tests with real gRPC clients."""
    settings = config.load(environ={}, **{f"{n}_addr": b.running.address for n, b in servers.items()})
    real = Backends(settings)
    yield real
    real.close()


def _ready(client: Any) -> Callable[[], tuple[int, dict[str, Any]]]:
    return lambda: (lambda r: (r.status_code, r.get_json()))(client.get("/readyz"))


def test_readyz_is_200_when_every_backend_serves(client):
    code, body = wait_until(lambda: (lambda r: r if r[0] == 200 else None)(_ready(client)()), timeout_s=10,
                            what="/readyz 200")
    assert body == {"ready": True, "down": [],
                    "backends": {"content": "SERVING", "usage": "SERVING", "feedback": "SERVING"}}


def test_readyz_is_503_naming_a_backend_that_is_not_serving_or_gone(client, servers):
    servers["usage"].up.clear()  # answers, but NOT_SERVING
    servers["feedback"].running.stop(grace=0.1)  # gone
    code, body = wait_until(lambda: (lambda r: r if r[1].get("down") == ["feedback", "usage"] else None)(
        _ready(client)()), timeout_s=15, what="/readyz naming usage and feedback")
    assert code == 503 and body["ready"] is False
    assert body["backends"] == {"content": "SERVING", "usage": "NOT_SERVING", "feedback": "UNREACHABLE"}
    servers["usage"].up.set()
    wait_until(lambda: _ready(client)()[1]["down"] == ["feedback"], timeout_s=15, what="usage serving again")


def test_healthz_stays_the_liveness_check(client, servers):
    for backend in servers.values():
        backend.up.clear()
    wait_until(lambda: _ready(client)()[0] == 503, timeout_s=15, what="/readyz 503")
    response = client.get("/healthz")
    assert response.status_code == 200


def test_readiness_answers_are_cached_briefly():
    calls: list[str] = []

    class Counting:
        def health(self, service: str, timeout: float = 2.0) -> str:
            calls.append(service)
            return "SERVING"

    from services.portal.app import Readiness

    readiness = Readiness(Counting(), timeout_s=0.5, ttl_s=60)
    assert readiness.states() == {"content": "SERVING", "usage": "SERVING", "feedback": "SERVING"}
    readiness.states()
    assert sorted(calls) == ["content", "feedback", "usage"]  # the second answer came from the cache
