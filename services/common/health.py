"""Health that tells the truth: dependency probes, per-capability status, liveness.

gRPC servers
    Every dependency (Elasticsearch, Kafka, S3) has a probe. `ProbeRunner` runs them all
    at once, each with a hard deadline: a dependency that accepts connections and never
    answers counts as down after the deadline instead of freezing the health status, and
    a probe still stuck from an earlier round is not started again (no pile of threads).
    A dependency may also have a one-time set-up step (create its indices, topics or
    bucket); it runs inside the dependency's probe job until it succeeds once, so a
    server whose dependency is down at boot starts, answers NOT_SERVING, and sets the
    dependency up as soon as it comes back. A dependency is up when its set-up is done
    and its latest probe succeeded.

    A service names its capabilities (`Capability`: the methods and the dependencies they
    need). Each capability gets its own health name, `<full service name>/<capability>`;
    the service's own name and the server ("") follow the core capability, so a
    readiness probe removes a replica only when its core work cannot be done. Calls to a
    method whose dependencies are not set up yet fail fast with UNAVAILABLE.

Consumers
    `Heartbeat` is beaten by the consumer loop on every iteration (a poll returned, even
    empty, or a write finished); `serve_http` exposes /healthz next to /metrics, failing
    once the loop has gone longer than the threshold without a beat (a stuck write or a
    stuck loop), while a loop paused for an outage keeps beating.
"""

from __future__ import annotations

import json
import logging
import socketserver
import threading
import time
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app

from services.common import metrics

log = logging.getLogger(__name__)

Probe = Callable[[], bool]
SetUp = Callable[[], None]


@dataclass(frozen=True)
class Capability:
    """A part of a service's API and the dependencies its methods need to work."""

    needs: frozenset[str]
    methods: frozenset[str]

    @classmethod
    def of(cls, needs: Iterable[str], methods: Iterable[str]) -> "Capability":
        return cls(frozenset(needs), frozenset(methods))


def health_name(full_name: str, capability: str) -> str:
    """The gRPC health service name of a capability, e.g. collateral.v1.UsageService/ingest."""
    return f"{full_name}/{capability}"


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str


class ProbeRunner:
    """Runs probes in parallel, each with a hard deadline, at most one in flight per probe.

    Probes run on daemon threads, so a probe stuck on a socket never holds up a round, a
    shutdown or the process exit; while it stays stuck its dependency is reported down.
    """

    def __init__(self, probes: Mapping[str, Probe]) -> None:
        self._probes = dict(probes)
        self._in_flight: dict[str, tuple[Future[bool], float]] = {}

    def run(self, deadline_s: float) -> dict[str, ProbeResult]:
        """One round: start every probe not still running, wait up to `deadline_s` for them."""
        results: dict[str, ProbeResult] = {}
        launched: dict[str, Future[bool]] = {}
        now = time.monotonic()
        for name, probe in self._probes.items():
            previous = self._in_flight.get(name)
            if previous is not None and not previous[0].done():
                results[name] = ProbeResult(False, f"previous probe still unanswered after {now - previous[1]:.1f}s")
                continue
            launched[name] = _on_daemon_thread(f"probe-{name}", probe)
            self._in_flight[name] = (launched[name], now)
        if launched:
            wait(launched.values(), timeout=max(0.0, deadline_s))
        for name, future in launched.items():
            results[name] = _result_of(future, deadline_s)
        return {name: results[name] for name in self._probes}


def _on_daemon_thread(name: str, fn: Probe) -> "Future[bool]":
    future: Future[bool] = Future()

    def run() -> None:
        try:
            future.set_result(bool(fn()))
        except BaseException as exc:  # noqa: BLE001 - any failure of a probe means "down"
            future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


def _result_of(future: "Future[bool]", deadline_s: float) -> ProbeResult:
    if not future.done():
        return ProbeResult(False, f"no answer within {deadline_s:g}s")
    exc = future.exception()
    if exc is not None:
        return ProbeResult(False, f"{type(exc).__name__}: {str(exc)[:200]}")
    return ProbeResult(True, "ok") if future.result() else ProbeResult(False, "probe reported down")


class _Dependency:
    """One dependency's job for the runner: its set-up until that succeeds once, then its probe."""

    def __init__(self, name: str, probe: Probe, set_up: SetUp | None) -> None:
        self.name = name
        self._probe = probe
        self._set_up = set_up
        self._set_up_done = threading.Event()
        if set_up is None:
            self._set_up_done.set()

    @property
    def set_up(self) -> bool:
        return self._set_up_done.is_set()

    def __call__(self) -> bool:
        if not self._set_up_done.is_set():
            assert self._set_up is not None
            self._set_up()
            self._set_up_done.set()
            log.info("dependency set up", extra={"dependency": self.name})
        return self._probe()


class ServiceHealth:
    """The health of one service: its dependencies, their set-up, and its capabilities."""

    def __init__(self, service: str, full_name: str, probes: Mapping[str, Probe],
                 set_up: Mapping[str, SetUp] | None = None,
                 capabilities: Mapping[str, Capability] | None = None, core: str = "") -> None:
        set_up = dict(set_up or {})
        self.capabilities = dict(capabilities or {})
        _validate(probes, set_up, self.capabilities, core)
        self.service = service
        self.full_name = full_name
        self.core = core
        self._dependencies = {name: _Dependency(name, probe, set_up.get(name)) for name, probe in probes.items()}
        self._runner = ProbeRunner(self._dependencies)
        self._needs_by_method = {m: cap.needs for cap in self.capabilities.values() for m in cap.methods}
        self._last_results: dict[str, ProbeResult] = {}

    @property
    def names(self) -> list[str]:
        """Every health service name this service reports."""
        return ["", self.full_name] + [health_name(self.full_name, c) for c in self.capabilities]

    @property
    def set_up_pending(self) -> bool:
        return not all(d.set_up for d in self._dependencies.values())

    def check(self, deadline_s: float) -> dict[str, bool]:
        """Probe every dependency once; the SERVING state of every health name."""
        results = self._runner.run(deadline_s)
        up = {name: result.ok and self._dependencies[name].set_up for name, result in results.items()}
        for name, result in results.items():
            metrics.DEPENDENCY_UP.labels(self.service, name).set(1 if up[name] else 0)
            previous = self._last_results.get(name)
            if previous is None or previous.ok != result.ok:
                log.log(logging.INFO if result.ok else logging.WARNING, "dependency probed",
                        extra={"dependency": name, "up": up[name], "detail": result.detail})
        self._last_results = results
        statuses = self.statuses(up)
        for name, serving in statuses.items():
            metrics.HEALTH_SERVING.labels(self.service, name or "(server)").set(1 if serving else 0)
        return statuses

    def statuses(self, up: Mapping[str, bool]) -> dict[str, bool]:
        """Health name -> SERVING, from which dependencies are up (pure; the core rule lives here)."""
        by_capability = {c: all(up.get(d, False) for d in cap.needs) for c, cap in self.capabilities.items()}
        core = by_capability[self.core] if self.core else all(up.values())
        out = {"": core, self.full_name: core}
        out.update({health_name(self.full_name, c): serving for c, serving in by_capability.items()})
        return out

    def not_set_up(self, method: str) -> list[str]:
        """Dependencies `method` needs whose set-up has not completed yet (all, for an unlisted method)."""
        needs = self._needs_by_method.get(method, self._dependencies.keys())
        return sorted(d for d in needs if not self._dependencies[d].set_up)

    def down_detail(self) -> dict[str, str]:
        """Why each dependency is down, for logs."""
        return {n: r.detail for n, r in self._last_results.items() if not (r.ok and self._dependencies[n].set_up)}


def _validate(probes: Mapping[str, Probe], set_up: Mapping[str, SetUp],
              capabilities: Mapping[str, Capability], core: str) -> None:
    """A typo in a dependency or capability name would silently report SERVING: refuse it."""
    unknown = set(set_up) - set(probes)
    for cap in capabilities.values():
        unknown |= set(cap.needs) - set(probes)
    if unknown:
        raise ValueError(f"health: no probe for dependencies {sorted(unknown)}")
    if core and core not in capabilities:
        raise ValueError(f"health: core capability {core!r} is not declared")
    owners: dict[str, str] = {}
    for name, cap in capabilities.items():
        for method in cap.methods:
            if method in owners:
                raise ValueError(f"health: method {method} is in capabilities {owners[method]} and {name}")
            owners[method] = name


# ---- consumers -----------------------------------------------------------------------------

class Heartbeat:
    """When a consumer loop last made progress; liveness fails once that is too long ago."""

    def __init__(self, consumer: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._consumer = consumer
        self._clock = clock
        self._last = clock()

    def beat(self) -> None:
        self._last = self._clock()
        metrics.CONSUMER_HEARTBEAT.labels(self._consumer).set(time.time())

    def age_s(self) -> float:
        return max(0.0, self._clock() - self._last)

    def alive(self, threshold_s: float) -> bool:
        return self.age_s() <= threshold_s


Liveness = Callable[[], tuple[bool, dict[str, Any]]]


def heartbeat_liveness(heartbeat: Heartbeat, threshold_s: float) -> Liveness:
    def check() -> tuple[bool, dict[str, Any]]:
        age = heartbeat.age_s()
        return age <= threshold_s, {"alive": age <= threshold_s, "seconds_since_heartbeat": round(age, 3),
                                    "threshold_s": threshold_s}

    return check


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # probes every few seconds would flood the logs


def http_app(liveness: Liveness) -> Callable:
    """WSGI app: /healthz answers 200 or 503 with a JSON body; every other path is /metrics."""
    metrics_app = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/healthz":
            return metrics_app(environ, start_response)
        ok, detail = liveness()
        body = json.dumps(detail).encode()
        start_response("200 OK" if ok else "503 Service Unavailable",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                        ("Cache-Control", "no-store")])
        return [body]

    return app


def serve_http(port: int, host: str, liveness: Liveness) -> WSGIServer:
    """Serve /metrics and /healthz on `port` from a daemon thread (a consumer's only HTTP port)."""
    server = make_server(host, port, http_app(liveness), _ThreadingWSGIServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server
