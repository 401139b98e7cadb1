"""Fixtures of the health tests: servers in their own namespace, a proxy that can hang,
and the local stack's own commands for stopping and starting real servers."""

from __future__ import annotations

import dataclasses
import socket
import threading
from typing import Callable, Iterator

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common import config, grpc_server
from tests.conftest import isolated, wait_serving, wait_until  # noqa: F401 - re-exported to the tests

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture(scope="session")
def health_env(stack: config.Settings) -> config.Settings:
    """The suite's servers under a namespace of their own, probed often with a short deadline."""
    return dataclasses.replace(isolated(stack, "hl"), health_check_interval_s=0.3, health_probe_timeout_s=1.0)


def fresh(settings: config.Settings, suffix: str) -> config.Settings:
    """Another namespace, so nothing (index, topic, bucket) exists yet."""
    return isolated(settings, suffix)


@pytest.fixture()
def serve() -> Iterator[Callable[[grpc_server.ServiceSpec, config.Settings], grpc_server.RunningServer]]:
    """serve(spec, settings) -> a running server on a free port, stopped after the test."""
    started: list[grpc_server.RunningServer] = []

    def start(spec: grpc_server.ServiceSpec, settings: config.Settings) -> grpc_server.RunningServer:
        running = grpc_server.start(spec, settings, port=0, metrics_port=0)
        started.append(running)
        return running

    yield start
    for running in reversed(started):
        running.stop(grace=0.5)


def status(address: str, name: str = "") -> int:
    with grpc_server.channel(address) as channel:
        request = health_pb2.HealthCheckRequest(service=name)
        return health_pb2_grpc.HealthStub(channel).Check(request, timeout=3).status


class HangingProxy:
    """A TCP proxy to a real server that can start hanging: it then accepts connections and
    reads requests but never answers, on new and already open connections alike (a
    dependency that is up on the network but stuck)."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._hung = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, name="hanging-proxy", daemon=True).start()

    def hang(self) -> None:
        self._hung.set()

    def resume(self) -> None:
        self._hung.clear()

    def close(self) -> None:
        self._hung.set()
        for sock in [self._listener, *self._sockets]:
            try:
                sock.close()
            except OSError:
                pass

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._sockets.append(client)
            if self._hung.is_set():
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self._sockets.append(upstream)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self._hung.is_set():  # while hung, bytes are read and dropped
                    sink.sendall(data)
        except OSError:
            pass

    @staticmethod
    def _swallow(client: socket.socket) -> None:
        try:
            while client.recv(65536):
                pass
        except OSError:
            pass


@pytest.fixture()
def hanging_proxy() -> Iterator[Callable[[str, int], HangingProxy]]:
    proxies: list[HangingProxy] = []

    def make(host: str, port: int) -> HangingProxy:
        proxies.append(HangingProxy(host, port))
        return proxies[-1]

    yield make
    for proxy in proxies:
        proxy.close()
