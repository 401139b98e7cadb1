"""Fixtures of the secured-connection tests: settings that reach the secured stack.

`deploy/local/stack up --secure` (which `./dev test` runs) starts a Kafka broker with SASL_SSL
and mutual-TLS listeners, an Elasticsearch with security on (HTTPS, a file-realm user and an API
key) and an S3Proxy with an HTTPS endpoint, and writes what clients need to `<its state
dir>/secure.json`, gRPC TLS for the services' own servers included. S3 is reached through the
standard AWS credential chain: no static keys in the settings, the keys in the AWS_* environment
variables.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator, Mapping
from urllib.parse import urlparse

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from scripts.local_services import free_port
from services.common import config, grpc_server
from tests import namespaces
from tests.conftest import isolated, process_env, skip_or_fail
from tests.processes import stop_process

ROOT = Path(__file__).resolve().parents[3]

SECURE_FILE = Path(os.environ.get("COLLATERAL_SECURE_STACK_DIR")
                   or Path.home() / ".local" / "state" / "collateral-secure") / "secure.json"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def secure_stack() -> dict[str, Any]:
    """{"settings": {...}, "variants": {...}} as the secured stack wrote them; fails in CI when it is not up."""
    if not SECURE_FILE.exists():
        skip_or_fail(f"{SECURE_FILE} does not exist: start the secured stack with `deploy/local/stack up --secure`")
    described = json.loads(SECURE_FILE.read_text())
    kafka_host, _, kafka_port = described["settings"]["COLLATERAL_KAFKA_BOOTSTRAP"].rpartition(":")
    es, s3 = (urlparse(described["settings"][f"COLLATERAL_{name}"]) for name in ("ES_URL", "S3_ENDPOINT"))
    for name, host, port in (("Kafka", kafka_host, int(kafka_port)), ("Elasticsearch", es.hostname, es.port),
                             ("S3", s3.hostname, s3.port)):
        if not _reachable(host or "127.0.0.1", port or 443):
            skip_or_fail(f"secured {name} at {host}:{port} is not reachable: `deploy/local/stack up --secure`")
    return described


AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@pytest.fixture(scope="session")
def chain_credentials(secure_stack: dict[str, Any]) -> Iterator[None]:
    """The S3 keys in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (the first link of the credential chain)."""
    saved = {k: os.environ.get(k) for k in AWS_VARIABLES}
    os.environ.update({k: secure_stack["settings"][k] for k in AWS_VARIABLES})
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def secured(base: config.Settings, described: Mapping[str, Any], *variants: str, **overrides: str) -> config.Settings:
    """`base` (namespace, test timings) pointed at the secured stack (S3 through the credential chain).

    `variants` name other ways in that the stack wrote (kafka_plain, kafka_client_certificate, ...);
    `overrides` are COLLATERAL_* values applied last (a wrong password, another CA).
    """
    environ = process_env(base)
    environ.update({k: v for k, v in described["settings"].items() if k.startswith("COLLATERAL_")})
    for variant in variants:
        if variant not in described["variants"]:
            skip_or_fail(f"the secured stack wrote no {variant!r} way in (it has {sorted(described['variants'])}); "
                         "`deploy/local/stack up --secure` says why")
        environ.update(described["variants"][variant])
    environ.update(overrides)
    return config.load(environ=environ)


@pytest.fixture(scope="session")
def secure_settings(settings: config.Settings, secure_stack: dict[str, Any],
                    chain_credentials: None) -> Iterator[config.Settings]:
    """The session's settings under a namespace of their own, on the secured servers; dropped at the end."""
    loaded = secured(isolated(settings, "sec"), secure_stack)
    assert loaded.kafka_is_encrypted and loaded.es_is_encrypted and loaded.s3_is_encrypted
    assert loaded.s3_uses_credential_chain and loaded.s3_ca_bundle
    assert loaded.grpc_server_tls and loaded.grpc_client_tls and loaded.grpc_tls_ca
    yield loaded
    namespaces.drop(loaded, [loaded.namespace])


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A CA that signed none of the servers' certificates: trusting only it must refuse them."""
    folder = tmp_path_factory.mktemp("other-ca")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Other CA",
                    "-keyout", str(folder / "ca.key"), "-out", str(folder / "ca.crt")],
                   check=True, capture_output=True)
    return str(folder / "ca.crt")


def wait_serving(address: str, settings: config.Settings, names: list[str], timeout_s: float = 90.0) -> None:
    """Block until the health service answers SERVING for each of `names`, over the channel `settings` make."""
    deadline = time.monotonic() + timeout_s
    with grpc_server.channel(address, settings) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for name in names:
            last: object = None
            while True:
                try:
                    last = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=2).status
                    if last == health_pb2.HealthCheckResponse.SERVING:
                        break
                except grpc.RpcError as exc:
                    last = exc.code()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{address} {name or '(server)'} not SERVING after {timeout_s}s (last: {last})")
                time.sleep(0.2)


class Process:
    """`python -m <module>` with exactly `settings` (COLLATERAL_* and the AWS chain in its environment),
    its output in `log_path`; consumers answer /healthz on their metrics port."""

    def __init__(self, module: str, settings: config.Settings, log_path: Path, **extra: str) -> None:
        self.module = module
        self.log_path = log_path
        self.metrics_port = free_port()
        env = process_env(settings, COLLATERAL_METRICS_PORT=str(self.metrics_port), COLLATERAL_LOG_FORMAT="text",
                          PYTHONUNBUFFERED="1", **extra)
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", module], cwd=ROOT, env=env, stdout=log,
                                         stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def healthy(self) -> bool:
        assert self.proc.poll() is None, f"{self.module} exited {self.proc.returncode}: {self.log()[-3000:]}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def wait_healthy(self, timeout_s: float = 120.0) -> "Process":
        deadline = time.monotonic() + timeout_s
        while not self.healthy():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.module} not healthy after {timeout_s}s: {self.log()[-3000:]}")
            time.sleep(0.3)
        return self

    def stop(self) -> None:
        stop_process(self.proc, 30)
