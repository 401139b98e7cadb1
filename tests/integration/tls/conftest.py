"""Fixtures of the gRPC TLS tests: a private CA with server and client certificates, and
real content, usage and feedback servers listening with TLS (usage with mutual TLS, as
its own OS process configured only through COLLATERAL_* variables)."""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from scripts.local_services import free_port
from services.common import config, gen_secrets, grpc_channel, grpc_server
from services.content.server import build_spec as content_spec
from services.feedback.server import build_spec as feedback_spec
from tests.conftest import isolated, process_env, wait_until

ROOT = Path(__file__).resolve().parents[3]


@dataclasses.dataclass(frozen=True)
class Pki:
    folder: Path

    def __getattr__(self, name: str) -> str:  # pki.ca_crt -> ".../ca.crt"
        return str(self.folder / name.replace("_", "."))


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """CA, server certificate for localhost/127.0.0.1, client certificate (services.common.gen_secrets)."""
    folder = tmp_path_factory.mktemp("pki")
    gen_secrets.generate(folder, ["localhost"])
    return Pki(folder)


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A CA that signed nothing the servers present."""
    cert, _ = gen_secrets.make_ca(tmp_path_factory.mktemp("other-ca"), "Somebody else's CA")
    return str(cert)


@pytest.fixture(scope="session")
def tls_env(stack: config.Settings, pki: Pki) -> config.Settings:
    """The suite's namespace; servers present the server certificate, clients trust the CA."""
    return dataclasses.replace(isolated(stack, "tls"), grpc_tls_cert=pki.server_crt, grpc_tls_key=pki.server_key,
                               grpc_tls_ca=pki.ca_crt)


def client_settings(base: config.Settings, **tls: str | bool) -> config.Settings:
    """`base` as seen by a client: no client TLS settings except `tls`."""
    cleared = dict(grpc_tls=False, grpc_tls_ca="", grpc_tls_client_cert="", grpc_tls_client_key="")
    return dataclasses.replace(base, **{**cleared, **tls})


def health_status(address: str, settings: config.Settings, service: str = "") -> int:
    with grpc_channel.channel(address, settings) as channel:
        return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status


def is_serving(address: str, settings: config.Settings) -> bool:
    return health_status(address, settings) == health_pb2.HealthCheckResponse.SERVING


@pytest.fixture(scope="session")
def tls_servers(tls_env: config.Settings) -> Iterator[dict[str, str]]:
    """{service: address} of content and feedback, served in this process with server TLS."""
    started: dict[str, grpc_server.RunningServer] = {}
    try:
        for name, build in (("content", content_spec), ("feedback", feedback_spec)):
            running = started[name] = grpc_server.start(build(tls_env), tls_env, port=0, metrics_port=0)
            wait_until(lambda: is_serving(running.address, tls_env), 60, what=f"{name} SERVING over TLS")
        yield {name: running.address for name, running in started.items()}
    finally:
        for running in started.values():
            running.stop(grace=1.0)


@pytest.fixture(scope="session")
def mtls_usage(tls_env: config.Settings, pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The usage server as an OS process requiring client certificates (mutual TLS); its address."""
    port = free_port()
    env = process_env(tls_env, COLLATERAL_GRPC_PORT=str(port), COLLATERAL_METRICS_PORT=str(free_port()),
                      COLLATERAL_GRPC_TLS_CLIENT_CA=pki.ca_crt, COLLATERAL_USAGE_SIGNALS_INTERVAL_S="0",
                      PYTHONUNBUFFERED="1")
    log_path = tmp_path_factory.mktemp("usage-mtls") / "usage.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "services.usage"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    address = f"127.0.0.1:{port}"
    with_cert = client_settings(tls_env, grpc_tls_ca=pki.ca_crt, grpc_tls_client_cert=pki.client_crt,
                                grpc_tls_client_key=pki.client_key)
    try:
        def up() -> bool:
            assert proc.poll() is None, f"usage exited {proc.returncode}: {log_path.read_text()[-2000:]}"
            return is_serving(address, with_cert)

        wait_until(up, 90, what="usage SERVING over mutual TLS")
        yield address
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def rpc_error(call: Callable[[], object]) -> grpc.RpcError:
    """The error `call` fails with (the test fails when it succeeds)."""
    with pytest.raises(grpc.RpcError) as failed:
        call()
    return failed.value

