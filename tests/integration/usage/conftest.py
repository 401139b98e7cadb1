"""Fixtures of the usage integration tests: the gRPC server in-process, the consumer as
a real subprocess (`python -m services.usage.consumer`) that tests may kill and restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from kafka import KafkaProducer

from collateral.v1 import usage_pb2_grpc
from services.common import config, es as es_util, grpc_server, topics
from services.usage import store
from services.usage.server import build_spec
from scripts.local_services import free_port
from tests.conftest import isolated, wait_serving, wait_until  # noqa: F401 - re-exported to the tests

ROOT = Path(__file__).resolve().parents[3]


class ConsumerProcess:
    """The usage consumer as its own OS process, in the test namespace."""

    def __init__(self, settings: config.Settings, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.metrics_port = free_port()

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "COLLATERAL_NAMESPACE": self.settings.namespace,
            "COLLATERAL_METRICS_PORT": str(self.metrics_port),
            "COLLATERAL_CONSUMER_MAX_BACKOFF_S": "2",
            "COLLATERAL_USAGE_SIGNALS_INTERVAL_S": "0",
            "COLLATERAL_LOG_FORMAT": "text",
            "COLLATERAL_USAGE_CONSUMER_BATCH_SIZE": "300",
            "COLLATERAL_CONSUMER_SESSION_TIMEOUT_S": "6",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(extra)
        return env

    def start(self, **extra: str) -> None:
        assert self.proc is None or self.proc.poll() is not None
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen([sys.executable, "-m", "services.usage.consumer"], cwd=ROOT,
                                         env=self.env(**extra), stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture(scope="session")
def usage_env(stack: config.Settings) -> config.Settings:
    settings = isolated(stack, "u")
    topics.ensure_all(settings)
    store.ensure(es_util.client(settings), settings)
    return settings


@pytest.fixture(scope="session")
def consumer(usage_env: config.Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsumerProcess]:
    proc = ConsumerProcess(usage_env, tmp_path_factory.mktemp("usage") / "consumer.log")
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def usage_server(usage_env: config.Settings, start_service: Callable) -> str:
    running = start_service(build_spec(usage_env))
    wait_serving(running.address)
    return running.address


@pytest.fixture(scope="session")
def stub(usage_server: str) -> Iterator[usage_pb2_grpc.UsageServiceStub]:
    channel = grpc_server.channel(usage_server)
    yield usage_pb2_grpc.UsageServiceStub(channel)
    channel.close()


@pytest.fixture(scope="session")
def es(usage_env: config.Settings):
    client = es_util.client(usage_env)
    yield client
    client.close()


@pytest.fixture(scope="session")
def names(usage_env: config.Settings) -> store.Names:
    return store.Names.of(usage_env)


@pytest.fixture(scope="session")
def raw_producer(usage_env: config.Settings) -> Iterator[KafkaProducer]:
    """A plain producer, as an external tracker or kcat would write to the topics."""
    producer = KafkaProducer(bootstrap_servers=usage_env.kafka_bootstrap.split(","), acks="all", linger_ms=5)
    yield producer
    producer.close()


@pytest.fixture
def uid() -> str:
    return uuid.uuid4().hex[:10]


def produce_json(producer: KafkaProducer, topic: str, key: str, value: Any) -> None:
    data = value if isinstance(value, bytes) else json.dumps(value).encode()
    producer.send(topic, key=key.encode(), value=data)


def count_events(es, names: store.Names, query: dict[str, Any]) -> int:
    es.indices.refresh(index=names.events, ignore_unavailable=True)
    return es.count(index=names.events, query=query, ignore_unavailable=True, allow_no_indices=True)["count"]


def rollup_docs(es, names: store.Names, asset_ids: list[str]) -> list[dict[str, Any]]:
    es.indices.refresh(index=names.rollups)
    response = es.search(index=names.rollups, size=1000, query={"terms": {"asset_id": asset_ids}})
    return [h["_source"] for h in response["hits"]["hits"]]
