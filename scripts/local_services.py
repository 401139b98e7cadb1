"""Starts, stops and watches Collateral's own processes on this machine.

`./dev up` uses it after the local stack is up; the end-to-end tests use `Supervisor`
with their own namespace, ports and state folder. Each process runs detached with its
log in the state folder, and `start` returns only once every process answers its health
check (gRPC health for servers, /healthz for consumers and the portal).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common import grpc_channel

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Process:
    name: str
    module: str
    kind: str  # grpc | consumer | http
    port_env: str  # the variable holding the port its health check uses
    default_port: int


PROCESSES = (
    Process("content", "services.content", "grpc", "COLLATERAL_GRPC_PORT", 50051),
    Process("usage", "services.usage", "grpc", "COLLATERAL_GRPC_PORT", 50052),
    Process("feedback", "services.feedback", "grpc", "COLLATERAL_GRPC_PORT", 50053),
    Process("usage-consumer", "services.usage.consumer", "consumer", "COLLATERAL_METRICS_PORT", 9467),
    Process("feedback-consumer", "services.feedback.consumer", "consumer", "COLLATERAL_METRICS_PORT", 9468),
    Process("content-signals", "services.content.signals_consumer", "consumer", "COLLATERAL_METRICS_PORT", 9469),
    Process("usage-notifications", "services.usage.notifications", "consumer", "COLLATERAL_METRICS_PORT", 9471),
    Process("portal", "services.portal", "http", "COLLATERAL_PORTAL_PORT", 8080),
)
# Processes whose metrics listener is not their health port (consumers serve both on one port).
METRICS_PORTS = {"content": 9464, "usage": 9465, "feedback": 9466, "portal": 9470}


_handed_out: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's range for outgoing connections' local ports (Linux default when unreadable)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A port nothing listens on now, for a process started a few seconds later.

    Never from the kernel's ephemeral range: a port picked there (bind to 0) can become the
    local end of any outgoing connection (to Kafka, Elasticsearch...) before the process
    binds it, and then its bind fails with EADDRINUSE. Ports below that range are only ever
    taken by an explicit bind, and a port is handed out once per process.
    """
    low, high = _ephemeral_range()
    first, last = (20000, low - 1) if low > 21000 else (high + 1, 65535)
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randint(first, last)
        if port in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {first}-{last} after 200 tries")


class Supervisor:
    """Runs PROCESSES with `base_env`; `ports` overrides each process's health port."""

    def __init__(self, state_dir: Path, base_env: Mapping[str, str] | None = None,
                 ports: Mapping[str, int] | None = None, metrics_ports: Mapping[str, int] | None = None) -> None:
        self.state_dir = state_dir
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.ports = {p.name: p.default_port for p in PROCESSES} | dict(ports or {})
        self.metrics_ports = dict(METRICS_PORTS) | dict(metrics_ports or {})
        # Children started by this Supervisor: polled so an exited child is reaped (not a
        # zombie that still answers kill(pid, 0)) and waited for on stop.
        self._children: dict[str, subprocess.Popen] = {}
        (state_dir / "run").mkdir(parents=True, exist_ok=True)
        (state_dir / "logs").mkdir(parents=True, exist_ok=True)

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self.ports[name]}"

    def env(self) -> dict[str, str]:
        """The environment every process shares: where to find each other."""
        env = dict(self.base_env)
        env.update({
            "COLLATERAL_CONTENT_ADDR": self.address("content"),
            "COLLATERAL_USAGE_ADDR": self.address("usage"),
            "COLLATERAL_FEEDBACK_ADDR": self.address("feedback"),
            "COLLATERAL_PORTAL_PORT": str(self.ports["portal"]),
            "PYTHONUNBUFFERED": "1",
        })
        env.setdefault("COLLATERAL_PORTAL_PUBLIC_URL", f"http://127.0.0.1:{self.ports['portal']}")
        return env

    def _pidfile(self, name: str) -> Path:
        return self.state_dir / "run" / f"{name}.pid"

    def log_path(self, name: str) -> Path:
        return self.state_dir / "logs" / f"{name}.log"

    def pid(self, name: str) -> int | None:
        child = self._children.get(name)
        if child is not None and child.poll() is not None:
            return None
        try:
            pid = int(self._pidfile(name).read_text())
            os.kill(pid, 0)
            return pid
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None

    def start(self, names: list[str] | None = None, timeout_s: float = 90.0) -> None:
        chosen = [p for p in PROCESSES if names is None or p.name in names]
        for proc in chosen:
            if self.pid(proc.name):
                continue
            env = self.env()
            env[proc.port_env] = str(self.ports[proc.name])
            if proc.name in self.metrics_ports:
                env["COLLATERAL_METRICS_PORT"] = str(self.metrics_ports[proc.name])
            log = open(self.log_path(proc.name), "ab")
            with log:
                child = subprocess.Popen([sys.executable, "-m", proc.module], cwd=ROOT, env=env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
            self._children[proc.name] = child
            self._pidfile(proc.name).write_text(str(child.pid))
        for proc in chosen:
            self._wait_healthy(proc, timeout_s)

    def _healthy(self, proc: Process) -> bool:
        port = self.ports[proc.name]
        try:
            if proc.kind == "grpc":
                with grpc_channel.channel(f"127.0.0.1:{port}") as channel:
                    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
                    return reply.status == health_pb2.HealthCheckResponse.SERVING
            path = "/healthz"  # consumers: the loop makes progress; portal: the process serves
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                return response.status == 200
        except (grpc.RpcError, OSError):
            return False

    def _wait_healthy(self, proc: Process, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._healthy(proc):
                return
            if not self.pid(proc.name):
                break
            time.sleep(0.3)
        tail = self.log_path(proc.name).read_text(errors="replace").splitlines()[-30:]
        state = "exited" if not self.pid(proc.name) else f"not healthy after {timeout_s:.0f}s"
        raise RuntimeError(f"{proc.name} {state}; log {self.log_path(proc.name)}:\n" + "\n".join(tail))

    def stop(self, names: list[str] | None = None, timeout_s: float = 20.0) -> None:
        chosen = [p for p in reversed(PROCESSES) if names is None or p.name in names]
        for proc in chosen:
            pid = self.pid(proc.name)
            if pid:
                os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for proc in chosen:
            while self.pid(proc.name) and time.monotonic() < deadline:
                time.sleep(0.2)
            pid = self.pid(proc.name)
            if pid:
                os.killpg(pid, signal.SIGKILL)
            child = self._children.pop(proc.name, None)
            if child is not None:
                try:
                    child.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            self._pidfile(proc.name).unlink(missing_ok=True)

    def status(self) -> list[tuple[str, int | None, bool]]:
        return [(p.name, self.pid(p.name), self._healthy(p)) for p in PROCESSES]


def _default() -> Supervisor:
    state = Path(os.environ.get("COLLATERAL_STACK_DIR", Path.home() / ".local/state/collateral")) / "services"
    return Supervisor(state)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="scripts/local_services.py", description="Collateral's processes on this machine")
    parser.add_argument("command", choices=["start", "stop", "status", "logs", "urls"])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"processes to act on (default all): {', '.join(p.name for p in PROCESSES)}")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - {p.name for p in PROCESSES})
    if unknown:
        parser.error(f"unknown process {', '.join(unknown)}; choose from {', '.join(p.name for p in PROCESSES)}")
    sup = _default()
    names = args.names or None
    if args.command == "start":
        try:
            sup.start(names)
        except RuntimeError as exc:
            sys.exit(f"error: {exc}")
    elif args.command == "stop":
        sup.stop(names)
    elif args.command == "status":
        for name, pid, healthy in sup.status():
            print(f"{name:18} {'running' if pid else 'stopped':8} pid={pid or '-':<8} {'healthy' if healthy else ''}")
    elif args.command == "logs":
        for name in names or [p.name for p in PROCESSES]:
            print(f"==> {sup.log_path(name)}")
            print(sup.log_path(name).read_text(errors="replace")[-8000:] if sup.log_path(name).exists() else "")
    else:
        print(f"Portal:    http://127.0.0.1:{sup.ports['portal']}/   (metrics http://127.0.0.1:{sup.metrics_ports['portal']}/metrics)")
        for name in ("content", "usage", "feedback"):
            print(f"gRPC {name + ':':9} {sup.address(name)}   (grpcurl -plaintext {sup.address(name)} list)")
        print("Prometheus: http://127.0.0.1:9090/   Elasticsearch: http://127.0.0.1:9200/   S3: http://127.0.0.1:9000/")


if __name__ == "__main__":
    main()
