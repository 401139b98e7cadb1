"""The local stack's Kafka serves its own metrics, where deploy/prometheus/prometheus.yml scrapes them.

deploy/local/stack attaches the Prometheus JMX exporter javaagent to the broker; Prometheus scrapes it
as job `kafka`, the job CollateralKafkaDown reads locally. These checks keep the three in step: the
agent's port and rules file, the scrape target, and the rules themselves. The stack running the agent
for real is checked by `deploy/local/stack up` (its readiness probe reads the kafka_server_* families).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
STACK = ROOT / "deploy" / "local" / "stack"
RULES = ROOT / "deploy" / "local" / "kafka-jmx.yml"
PROMETHEUS = ROOT / "deploy" / "prometheus"


def load_stack() -> ModuleType:
    """deploy/local/stack as a module (a script without .py; importing it runs nothing)."""
    loader = importlib.machinery.SourceFileLoader("collateral_local_stack", str(STACK))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    for name in ("COLLATERAL_KAFKA_METRICS_PORT", "COLLATERAL_SKIP_EXPORTERS", "COLLATERAL_JMX_EXPORTER_VERSION",
                 "COLLATERAL_STACK_SECURE"):
        monkeypatch.delenv(name, raising=False)
    return load_stack()


def scrape_targets(job: str) -> list[str]:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
    return [target for c in config["scrape_configs"] if c["job_name"] == job
            for static in c["static_configs"] for target in static["targets"]]


def test_prometheus_scrapes_the_port_the_broker_serves_its_metrics_on(stack: ModuleType) -> None:
    kafka = stack.Kafka()
    [agent] = kafka.metrics.jvm_args()
    jar = Path(kafka.metrics.jar)
    assert agent == f"-javaagent:{jar}=127.0.0.1:{kafka.metrics.port}:{RULES}"
    assert jar.name == "jmx_prometheus_javaagent-1.0.1.jar" and jar.parent.parent == Path(stack.CACHE)
    assert kafka.metrics.port in kafka.ports()  # `up` refuses to start over another process on it
    assert scrape_targets("kafka") == [f"127.0.0.1:{kafka.metrics.port}"]
    assert scrape_targets("kafka-exporter") == []


def test_no_exporters_means_no_agent(stack: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLATERAL_SKIP_EXPORTERS", "1")
    kafka = stack.Kafka()
    assert kafka.metrics.jvm_args() == []
    assert kafka.ports() == [kafka.port, kafka.controller_port]


def test_the_stack_runs_no_separate_kafka_exporter(stack: ModuleType) -> None:
    assert [s.name for s in stack.servers()] == ["kafka", "elasticsearch", "s3", "prometheus",
                                                 "elasticsearch-exporter"]


def test_the_rules_export_the_broker_families_with_lowercase_names() -> None:
    config = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    assert config["lowercaseOutputName"] is True
    names = [rule["name"] for rule in config["rules"]]
    assert names and all(re.fullmatch(r"kafka_(server|controller|network)_[a-z_$0-9]+", name) for name in names), names
    for prefix in ("kafka_server_brokertopicmetrics_", "kafka_server_replicamanager_",
                   "kafka_controller_kafkacontroller_", "kafka_network_requestmetrics_"):
        assert any(name.startswith(prefix) for name in names), prefix
    for rule in config["rules"]:
        re.compile(rule["pattern"])
        assert rule["type"] in {"COUNTER", "GAUGE"}
        assert rule["name"].endswith("_total") == (rule["type"] == "COUNTER"), rule["name"]
