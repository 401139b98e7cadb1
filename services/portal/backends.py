"""gRPC clients of the content, usage and feedback services.

One channel per service for the whole process (HTTP/2 multiplexes the portal's
threads over it). Every call carries a bearer token minted for whoever the portal acts
for: the signed-in user, or the `service` role for a customer on a share link, and a
deadline, so a slow backend turns into a friendly 503 page instead of a hung thread.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

import flask
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common import audit, auth, config, grpc_server, metrics

SERVICES = {
    "content": ("content", "ContentService"),
    "usage": ("usage", "UsageService"),
    "feedback": ("feedback", "FeedbackService"),
}
# Services every gRPC server also serves (not backends of their own: readiness ignores them);
# the portal reaches them through the named backend.
SHARED = {"audit": ("audit", "AuditService")}
SERVED_BY = {"audit": "content"}
DEFAULT_TIMEOUT_S = 10.0


def proto(name: str) -> Any:
    """The generated module `collateral.v1.<name>_pb2`, or None while it does not exist."""
    try:
        return importlib.import_module(f"collateral.v1.{name}_pb2")
    except ImportError:
        return None


class BackendMissing(Exception):
    """The service's generated stubs are not available in this build."""


class Backends:
    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._channels: dict[str, grpc.Channel] = {}
        self._stubs: dict[str, Any] = {}

    def address(self, service: str) -> str:
        return getattr(self.settings, f"{SERVED_BY.get(service, service)}_addr")

    def channel(self, service: str) -> grpc.Channel:
        with self._lock:
            if service not in self._channels:
                self._channels[service] = grpc_server.channel(self.address(service), self.settings)
            return self._channels[service]

    def stub(self, service: str) -> Any:
        with self._lock:
            cached = self._stubs.get(service)
        if cached is not None:
            return cached
        module, stub_name = SERVICES.get(service) or SHARED[service]
        try:
            grpc_module = importlib.import_module(f"collateral.v1.{module}_pb2_grpc")
        except ImportError:
            raise BackendMissing(f"the {service} service API is not part of this build") from None
        stub = getattr(grpc_module, f"{stub_name}Stub")(self.channel(service))
        with self._lock:
            self._stubs[service] = stub
        return stub

    def call(self, service: str, method: str, request: Any, *, subject: str, role: str,
             timeout: float = DEFAULT_TIMEOUT_S) -> Any:
        """Call `service.method` as (subject, role); grpc.RpcError propagates to the caller."""
        token = auth.mint(self.settings, subject, role, ttl_s=300)
        fn = getattr(self.stub(service), method)
        try:
            return fn(request, metadata=_metadata(token), timeout=timeout)
        except grpc.RpcError as exc:
            metrics.PORTAL_BACKEND_ERRORS.labels(service, exc.code().name if exc.code() else "UNKNOWN").inc()
            raise

    def stream(self, service: str, method: str, requests: Any, *, subject: str, role: str,
               timeout: float = 120.0) -> Any:
        """A client-streaming call (file upload)."""
        token = auth.mint(self.settings, subject, role, ttl_s=600)
        fn = getattr(self.stub(service), method)
        try:
            return fn(requests, metadata=_metadata(token), timeout=timeout)
        except grpc.RpcError as exc:
            metrics.PORTAL_BACKEND_ERRORS.labels(service, exc.code().name if exc.code() else "UNKNOWN").inc()
            raise

    def health(self, service: str, timeout: float = 2.0) -> str:
        """SERVING, NOT_SERVING, UNREACHABLE ... of the service's gRPC health check."""
        try:
            reply = health_pb2_grpc.HealthStub(self.channel(service)).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout)
            return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        except grpc.RpcError as exc:
            code = exc.code()
            return "UNREACHABLE" if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED) \
                else (code.name if code else "UNKNOWN")

    def close(self) -> None:
        with self._lock:
            for ch in self._channels.values():
                ch.close()
            self._channels.clear()
            self._stubs.clear()


def _metadata(token: str) -> tuple[tuple[str, str], ...]:
    """Bearer token plus, inside a web request, the end user's address (audit.FORWARDED_FOR)
    as helpers.client_ip() decides it (X-Forwarded-For believed only from trusted proxies),
    so the audit log says where a change came from, not just "the portal"."""
    if not flask.has_request_context():
        return auth.bearer_metadata(token)
    from services.portal import helpers

    address = helpers.client_ip()
    return auth.bearer_metadata(token) + (((audit.FORWARDED_FOR, address),) if address else ())
