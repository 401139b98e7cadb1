"""The one gRPC bootstrap every service starts through.

It gives each service, without the service writing any of it: the standard health
service with a status per capability (see `services.common.health`: parallel probes
with deadlines, dependency set-up that waits for a dependency down at boot, NOT_SERVING
for everything once shutdown begins), server reflection for grpcurl, bearer-token auth with per-method
roles, Prometheus metrics per method and status code, mapping of domain errors to
status codes with `google.rpc.BadRequest` details, the call deadline made available to
storage code, structured logs, and graceful shutdown on SIGTERM.
"""

from __future__ import annotations

import contextvars
import logging
import signal
import threading
import time
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import grpc
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from services.common import auth, config, errors, grpc_channel, health as health_mod, logs, metrics
from services.common import audit

log = logging.getLogger(__name__)

OPEN_SERVICES = frozenset({"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection"})

DependencyProbe = Callable[[], bool]
Capability = health_mod.Capability
# A dependency's set-up (indices, topics, bucket) may take this long in the first health
# round, so a server whose dependencies are up is fully ready when start() returns.
STARTUP_SET_UP_WAIT_S = 30.0


@dataclass
class ServiceSpec:
    """What a service hands to the bootstrap.

    `access` maps each method name of the service to the roles allowed to call it; a
    method missing from the map is refused (PERMISSION_DENIED), so a new RPC is closed
    until someone decides who may call it.

    Health: `probes` check each dependency; `set_up` creates what a dependency must hold
    (indices, topics, bucket) and is retried by the health loop until it succeeds, so
    the server starts even when the dependency is down; `capabilities` name groups of
    methods and the dependencies they need (health name `<full_name>/<capability>`), and
    `core` is the capability the server's overall status ("" and `full_name`) follows
    (empty: every dependency).
    """

    name: str  # short name, used for metrics and logs: "content"
    full_name: str  # proto service name: "collateral.v1.ContentService"
    register: Callable[[grpc.Server], None]
    access: Mapping[str, frozenset[auth.Role]]
    default_port: int
    default_metrics_port: int
    probes: Mapping[str, DependencyProbe] = field(default_factory=dict)
    on_shutdown: list[Callable[[], None]] = field(default_factory=list)
    set_up: Mapping[str, Callable[[], None]] = field(default_factory=dict)
    capabilities: Mapping[str, health_mod.Capability] = field(default_factory=dict)
    core: str = ""
    # Method name -> how its changes are recorded in the audit log (services.common.audit).
    audited: Mapping[str, audit.Audited] = field(default_factory=dict)


_call_context: contextvars.ContextVar[grpc.ServicerContext | None] = contextvars.ContextVar("grpc_ctx", default=None)


def remaining_timeout(default: float) -> float:
    """Seconds left before the current call's deadline (capped at `default`).

    Storage code passes this to Elasticsearch, S3 and Kafka so work for a caller who
    has given up stops instead of piling up.
    """
    ctx = _call_context.get()
    if ctx is None:
        return default
    left = ctx.time_remaining()
    if left is None:
        return default
    if left <= 0:
        raise errors.DeadlineExceeded("deadline exceeded before the call finished")
    return max(0.05, min(default, left))


def _status_for(exc: errors.ServiceError) -> status_pb2.Status:
    status = status_pb2.Status(code=exc.code.value[0], message=exc.message)
    if isinstance(exc, errors.InvalidArgument) and exc.field:
        detail = error_details_pb2.BadRequest(
            field_violations=[error_details_pb2.BadRequest.FieldViolation(field=exc.field, description=exc.message)]
        )
        status.details.add().Pack(detail)
    return status


def _unavailable_types() -> tuple[type[BaseException], ...]:
    """Dependency failures that mean 'retry later' rather than 'bug'."""
    import botocore.exceptions
    import elastic_transport
    import kafka.errors

    return (
        ConnectionError,
        TimeoutError,
        elastic_transport.ConnectionError,
        elastic_transport.ConnectionTimeout,
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectTimeoutError,
        kafka.errors.KafkaTimeoutError,
        kafka.errors.BrokerNotAvailableError,
    )


class _CallInterceptor(grpc.ServerInterceptor):
    """Authenticates, times and counts every call, and maps errors to status codes."""

    def __init__(self, spec: ServiceSpec, settings: config.Settings, service_health: health_mod.ServiceHealth,
                 audit_log: audit.AuditLog) -> None:
        self._spec = spec
        self._settings = settings
        self._health = service_health
        self._unavailable = _unavailable_types()
        self._auditor = audit.Auditor(audit_log, spec.name, spec.full_name, spec.audited,
                                      lambda exc: _code_of(exc, self._unavailable))

    def intercept_service(self, continuation: Callable, details: grpc.HandlerCallDetails) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        service_name, _, method = details.method.lstrip("/").rpartition("/")
        if service_name in OPEN_SERVICES:
            return handler
        metadata = dict(details.invocation_metadata or ())
        access = audit.ACCESS if service_name == audit.SERVICE_NAME else self._spec.access
        wrap = lambda fn, streaming: self._wrap(fn, method, metadata, streaming, access)  # noqa: E731
        decode = _tolerant(handler.request_deserializer)
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                wrap(_checked(handler.unary_unary, False), False), decode, handler.response_serializer
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                wrap(_checked(handler.unary_stream, False), True), decode, handler.response_serializer
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                wrap(_checked(handler.stream_unary, True), False), decode, handler.response_serializer
            )
        return grpc.stream_stream_rpc_method_handler(
            wrap(_checked(handler.stream_stream, True), True), decode, handler.response_serializer
        )

    def _authenticate(self, method: str, metadata: Mapping[str, str],
                      access: Mapping[str, frozenset[auth.Role]]) -> auth.Principal:
        header = metadata.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise errors.Unauthenticated("missing bearer token (metadata 'authorization: Bearer <token>')")
        try:
            principal = auth.verify(self._settings, token.strip())
        except auth.AuthError as exc:
            raise errors.Unauthenticated(str(exc)) from None
        allowed = access.get(method)
        if not allowed or principal.role not in allowed:
            raise errors.PermissionDenied(f"role {principal.role.value!r} may not call {method}")
        return principal

    def _require_set_up(self, method: str) -> None:
        """Fail fast while a dependency the method needs has not been set up (down since boot)."""
        missing = self._health.not_set_up(method)
        if missing:
            raise errors.Unavailable(f"{', '.join(missing)} not available yet; retry later")

    def _wrap(self, fn: Callable, method: str, metadata: Mapping[str, str], streaming: bool,
              access: Mapping[str, frozenset[auth.Role]]) -> Callable:
        service = self._spec.name

        def finish(context: grpc.ServicerContext, started: float, code: grpc.StatusCode) -> None:
            metrics.GRPC_DURATION.labels(service, method).observe(time.perf_counter() - started)
            metrics.GRPC_REQUESTS.labels(service, method, code.name).inc()

        def fail(context: grpc.ServicerContext, exc: BaseException) -> None:
            if isinstance(exc, errors.ServiceError):
                status = _status_for(exc)
            elif isinstance(exc, self._unavailable):
                status = status_pb2.Status(code=code_pb2.UNAVAILABLE, message=f"dependency unavailable: {exc}")
                log.warning("dependency unavailable", extra={"method": method, "error": str(exc)})
            else:
                status = status_pb2.Status(code=code_pb2.INTERNAL, message="internal error")
                log.exception("unhandled error", extra={"method": method})
            context.abort_with_status(rpc_status.to_status(status))  # raises

        def unary(request_or_iterator: Any, context: grpc.ServicerContext) -> Any:
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            metrics.GRPC_IN_FLIGHT.labels(service).inc()
            ctx_token = _call_context.set(context)
            principal_token = None
            try:
                principal_token = auth.set_principal(self._authenticate(method, metadata, access))
                self._require_set_up(method)
                response = self._auditor.call(method, fn, request_or_iterator, context, metadata)
                code = context.code() or grpc.StatusCode.OK
                return response
            except BaseException as exc:  # noqa: BLE001 - mapped to a status below
                if _is_abort(exc):
                    code = context.code() or grpc.StatusCode.UNKNOWN
                    raise
                code = _code_of(exc, self._unavailable)
                fail(context, exc)
            finally:
                if principal_token is not None:
                    auth.reset_principal(principal_token)
                _call_context.reset(ctx_token)
                metrics.GRPC_IN_FLIGHT.labels(service).dec()
                finish(context, started, code)

        def stream(request_or_iterator: Any, context: grpc.ServicerContext) -> Any:
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            metrics.GRPC_IN_FLIGHT.labels(service).inc()
            try:
                principal = self._authenticate(method, metadata, access)
                self._require_set_up(method)
                principal_token = auth.set_principal(principal)
                ctx_token = _call_context.set(context)
                try:
                    yield from fn(request_or_iterator, context)
                finally:
                    _call_context.reset(ctx_token)
                    auth.reset_principal(principal_token)
                code = context.code() or grpc.StatusCode.OK
            except BaseException as exc:  # noqa: BLE001
                if _is_abort(exc) or isinstance(exc, GeneratorExit):
                    code = context.code() or grpc.StatusCode.CANCELLED
                    raise
                code = _code_of(exc, self._unavailable)
                fail(context, exc)
            finally:
                metrics.GRPC_IN_FLIGHT.labels(service).dec()
                finish(context, started, code)

        return stream if streaming else unary


class _Undecodable:
    """Request bytes that are not a valid message: the call then fails INVALID_ARGUMENT.

    grpc itself answers INTERNAL when a deserializer raises; a client sending garbage is
    bad input, not a server fault, so the deserializer never raises and the handler
    wrapper reports it instead (after authentication, like any other bad input).
    """

    def __init__(self, error: str) -> None:
        self.error = error


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception as exc:  # noqa: BLE001 - DecodeError and whatever a custom deserializer raises
            return _Undecodable(str(exc))

    return decode


def _decoded(request: Any) -> Any:
    """The request; raises InvalidArgument when its bytes did not decode."""
    if isinstance(request, _Undecodable):
        raise errors.InvalidArgument("(request)", f"not a valid protobuf message: {request.error[:200]}")
    return request


def _checked(fn: Callable, client_streaming: bool) -> Callable:
    """`fn` receiving decoded requests (for client streams, each message as it is read)."""
    if client_streaming:
        return lambda requests, context: fn((_decoded(r) for r in requests), context)
    return lambda request, context: fn(_decoded(request), context)


def _is_abort(exc: BaseException) -> bool:
    # grpc raises a bare Exception from context.abort(); recognise it by its origin.
    return type(exc) is Exception and exc.args == ()


def _code_of(exc: BaseException, unavailable: tuple[type[BaseException], ...]) -> grpc.StatusCode:
    if isinstance(exc, errors.ServiceError):
        return exc.code
    if isinstance(exc, unavailable):
        return grpc.StatusCode.UNAVAILABLE
    return grpc.StatusCode.INTERNAL


class RunningServer:
    """A started server; `stop()` performs the same graceful shutdown as SIGTERM."""

    def __init__(self, spec: ServiceSpec, settings: config.Settings, server: grpc.Server, port: int,
                 health_servicer: health.HealthServicer, service_health: health_mod.ServiceHealth) -> None:
        self.spec = spec
        self.settings = settings
        self.server = server
        self.port = port
        self.address = f"{settings.grpc_host}:{port}"
        self.health = health_servicer
        self.service_health = service_health
        self._stopping = threading.Event()
        self._last: dict[str, bool] = {}
        # The first round may also set dependencies up; later rounds are probes only.
        first_wait = STARTUP_SET_UP_WAIT_S if service_health.set_up_pending else settings.health_probe_timeout_s
        self._check(max(first_wait, settings.health_probe_timeout_s))
        self._prober = threading.Thread(target=self._probe_loop, name=f"{spec.name}-health", daemon=True)
        self._prober.start()

    def _check(self, deadline_s: float) -> None:
        """One round of probes, published to the health service (unless shutdown began)."""
        statuses = self.service_health.check(deadline_s)
        if self._stopping.is_set():
            return
        for name, serving in statuses.items():
            status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
            self.health.set(name, status)
            if self._last.get(name) != serving:
                log.log(logging.INFO if serving else logging.WARNING, "health changed",
                        extra={"health_name": name or "(server)", "serving": serving,
                               "down": self.service_health.down_detail()})
        self._last = statuses

    def _probe_loop(self) -> None:
        while not self._stopping.wait(self.settings.health_check_interval_s):
            self._check(self.settings.health_probe_timeout_s)

    def stop(self, grace: float | None = None) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self.health.enter_graceful_shutdown()
        grace = self.settings.grpc_shutdown_grace_s if grace is None else grace
        log.info("shutting down", extra={"grace_s": grace})
        self.server.stop(grace).wait()
        for hook in self.spec.on_shutdown:
            try:
                hook()
            except Exception:  # noqa: BLE001 - shutdown continues with the next hook
                log.exception("shutdown hook failed")
        log.info("stopped")

    def wait(self) -> None:
        self.server.wait_for_termination()


def start(spec: ServiceSpec, settings: config.Settings, port: int | None = None,
          metrics_port: int | None = None) -> RunningServer:
    """Start serving `spec`; port 0 binds a free port (tests use it).

    Returns after the first health round: with every dependency up, the server is then
    set up and SERVING; a dependency that is down leaves it answering NOT_SERVING (and
    UNAVAILABLE for the methods needing it) until the health loop sees it come up.
    """
    config.refuse_insecure_production(settings)  # settings may not come from load(): check before binding
    credentials = grpc_channel.server_credentials(settings)
    service_health = health_mod.ServiceHealth(spec.name, spec.full_name, spec.probes, spec.set_up,
                                              spec.capabilities, spec.core)
    audit_log = audit.AuditLog(settings)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.grpc_workers, thread_name_prefix=spec.name),
        interceptors=[_CallInterceptor(spec, settings, service_health, audit_log)],
        options=[("grpc.max_receive_message_length", 64 * 1024 * 1024), ("grpc.so_reuseport", 0)],
    )
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    # Until the first probe round the service, and each capability, is not ready for traffic.
    for name in service_health.names:
        health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    spec.register(server)
    audit.add_to_server(server, settings, audit_log)  # every server reads the one audit log
    reflection.enable_server_reflection(
        (spec.full_name, audit.SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    wanted = (settings.grpc_port or spec.default_port) if port is None else port
    target = f"{settings.grpc_host}:{wanted}"
    bound = server.add_secure_port(target, credentials) if credentials else server.add_insecure_port(target)
    if bound == 0:
        raise OSError(f"{spec.name}: cannot bind gRPC port {settings.grpc_host}:{wanted}")
    server.start()
    mport = (settings.metrics_port or spec.default_metrics_port) if metrics_port is None else metrics_port
    if mport:
        metrics.serve(mport, settings.metrics_host)
    log.info("serving", extra={"service": spec.full_name, "port": bound, "metrics_port": mport,
                               "tls": ("mutual" if settings.grpc_tls_client_ca else "server") if credentials else "off"})
    return RunningServer(spec, settings, server, bound, health_servicer, service_health)


def run(spec: ServiceSpec, settings: config.Settings) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully (the process entry point)."""
    logs.configure(spec.name, settings.log_level, settings.log_format)
    running = start(spec, settings)
    done = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("signal received", extra={"signal": signal.Signals(signum).name})
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    done.wait()
    running.stop()


def channel(address: str, settings: config.Settings | None = None) -> grpc.Channel:
    """A client channel with the options and TLS every Collateral client uses (grpc_channel.channel)."""
    return grpc_channel.channel(address, settings)


def field_violations(err: grpc.RpcError) -> list[tuple[str, str]]:
    """(field, description) pairs from a failed call's BadRequest detail, for clients and tests."""
    status = rpc_status.from_call(err)
    out: list[tuple[str, str]] = []
    if status is None:
        return out
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            out += [(v.field, v.description) for v in bad.field_violations]
    return out

