"""The dependency-down alerts fire in a real Prometheus when a real Elasticsearch or Kafka stops.

The test runs a stack of its own (`deploy/local/stack` with its own state dir and ports):
Elasticsearch, its exporter, Kafka (serving its own metrics through the JMX exporter javaagent)
and Prometheus. That Prometheus loads the repository's alerts.yml through a test-only config
that scrapes and evaluates every second, so only the alert's own `for:` sets the pace.
Stopping these servers disturbs no other test; the shared stack is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from scripts.local_services import free_port
from tests.conftest import skip_or_fail, wait_until

pytestmark = pytest.mark.fault

ROOT = Path(__file__).resolve().parents[3]
STACK = ROOT / "deploy" / "local" / "stack"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
ALERT = "CollateralElasticsearchDown"
KAFKA_ALERT = "CollateralKafkaDown"
PORT_SETTINGS = ("COLLATERAL_ES_PORT", "COLLATERAL_ES_TRANSPORT_PORT", "COLLATERAL_ES_EXPORTER_PORT",
                 "COLLATERAL_PROMETHEUS_PORT", "COLLATERAL_KAFKA_PORT", "COLLATERAL_KAFKA_CONTROLLER_PORT",
                 "COLLATERAL_KAFKA_METRICS_PORT", "COLLATERAL_S3_PORT")
SERVERS = "kafka,elasticsearch,elasticsearch-exporter,prometheus"
# The alert's `for: 1m`, plus the exporter noticing (its 3 s timeout) and Elasticsearch's own stop.
FIRES_WITHIN_S = 240


def prometheus_config(exporter_port: str, prometheus_port: str, kafka_metrics_port: str) -> str:
    """A Prometheus config for this stack only: the repository's rules, evaluated every second."""
    return f"""
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - {ALERTS}
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:{prometheus_port}"]
  - job_name: elasticsearch-exporter
    static_configs:
      - targets: ["127.0.0.1:{exporter_port}"]
  - job_name: kafka
    static_configs:
      - targets: ["127.0.0.1:{kafka_metrics_port}"]
"""


def free_ports(count: int) -> list[str]:
    """Ports nothing listens on now: a fixed choice could be any other stack's on a shared machine."""
    return [str(free_port()) for _ in range(count)]


class OwnStack:
    """`deploy/local/stack` commands against the test's own state dir and ports."""

    def __init__(self, state_dir: str) -> None:
        ports = dict(zip(PORT_SETTINGS, free_ports(len(PORT_SETTINGS))))
        config = os.path.join(state_dir, "prometheus-test.yml")
        with open(config, "w") as f:
            f.write(prometheus_config(ports["COLLATERAL_ES_EXPORTER_PORT"], ports["COLLATERAL_PROMETHEUS_PORT"],
                                      ports["COLLATERAL_KAFKA_METRICS_PORT"]))
        self.env = {**os.environ, **ports, "COLLATERAL_STACK_DIR": os.path.join(state_dir, "stack"),
                    "COLLATERAL_PROMETHEUS_CONFIG": config}
        self.env.pop("COLLATERAL_STACK_SECURE", None)
        self.env.pop("COLLATERAL_SKIP_EXPORTERS", None)
        self.prometheus = f"http://127.0.0.1:{ports['COLLATERAL_PROMETHEUS_PORT']}"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(STACK), *args], env=self.env, capture_output=True, text=True, timeout=600)

    def running(self) -> set[str]:
        """Names of the servers `stack status` reports running."""
        out = self.run("status", *SERVERS.split(",")).stdout
        return {line.split()[0] for line in out.splitlines()[1:] if len(line.split()) > 1 and line.split()[1] == "running"}

    def api(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.prometheus}{path}", timeout=5) as response:
            return json.load(response)["data"]

    def alerts(self, name: str, state: str | None = None) -> list[dict[str, Any]]:
        """The alerts named `name` the Prometheus holds (pending or firing), optionally in one state."""
        return [a for a in self.api("/api/v1/alerts")["alerts"]
                if a["labels"].get("alertname") == name and (state is None or a["state"] == state)]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return self.api("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))["result"]


@pytest.fixture(scope="module")
def own_stack() -> Iterator[OwnStack]:
    """Elasticsearch, its exporter, Kafka and Prometheus of the test's own; stopped and deleted afterwards.

    The state dir is not under pytest's tmp dir (mode 0700): Elasticsearch runs as its own user
    when the tests run as root, and must reach its data."""
    if not shutil.which("prometheus") or not shutil.which("prometheus-elasticsearch-exporter"):
        skip_or_fail("prometheus or prometheus-elasticsearch-exporter is not installed (apt-get install them)")
    state_dir = tempfile.mkdtemp(prefix="collateral-monitoring-")
    stack = OwnStack(state_dir)
    try:
        up = stack.run("up", "--only", SERVERS)
        assert up.returncode == 0, f"stack up failed:\n{up.stdout}\n{up.stderr}"
        assert stack.running() == set(SERVERS.split(",")), f"not all of {SERVERS} are running:\n{up.stdout}{up.stderr}"
        yield stack
    finally:
        stack.run("down", "--purge")
        shutil.rmtree(state_dir, ignore_errors=True)


def test_elasticsearch_down_fires_its_alert(own_stack: OwnStack) -> None:
    wait_until(lambda: own_stack.query("elasticsearch_cluster_health_up == 1"), timeout_s=120,
               what="Prometheus scraping the exporter, which reads a healthy Elasticsearch")
    # An alert left pending from the seconds before the exporter first read the cluster clears at
    # the next rule evaluation: the test starts from no alert at all.
    wait_until(lambda: own_stack.alerts(ALERT) == [], timeout_s=60, what=f"no {ALERT} with Elasticsearch healthy")

    stopped = own_stack.run("stop", "elasticsearch")
    assert stopped.returncode == 0, stopped.stderr
    try:
        firing = wait_until(lambda: own_stack.alerts(ALERT, "firing"), timeout_s=FIRES_WITHIN_S,
                            what=f"{ALERT} firing with Elasticsearch stopped")
        assert [a["labels"]["job"] for a in firing] == ["elasticsearch-exporter"]
        assert firing[0]["labels"]["severity"] == "critical"
        assert firing[0]["annotations"]["runbook_url"] == f"docs/runbooks.md#{ALERT.lower()}"
    finally:
        started = own_stack.run("start", "elasticsearch")
        assert started.returncode == 0, f"{started.stdout}\n{started.stderr}"

    wait_until(lambda: own_stack.alerts(ALERT) == [], timeout_s=120, what=f"{ALERT} resolved with Elasticsearch back")


def test_kafka_down_fires_its_alert(own_stack: OwnStack) -> None:
    """Locally the broker serves its own metrics (job kafka): a stopped broker is a failed scrape."""
    wait_until(lambda: own_stack.query('kafka_server_replicamanager_partitioncount{job="kafka"}'), timeout_s=120,
               what="Prometheus scraping the broker's own metrics")
    wait_until(lambda: own_stack.alerts(KAFKA_ALERT) == [], timeout_s=60, what=f"no {KAFKA_ALERT} with Kafka healthy")

    stopped = own_stack.run("stop", "kafka")
    assert stopped.returncode == 0, stopped.stderr
    try:
        firing = wait_until(lambda: own_stack.alerts(KAFKA_ALERT, "firing"), timeout_s=FIRES_WITHIN_S,
                            what=f"{KAFKA_ALERT} firing with Kafka stopped")
        assert [a["labels"]["job"] for a in firing] == ["kafka"]
        assert firing[0]["labels"]["severity"] == "critical"
        assert firing[0]["annotations"]["runbook_url"] == f"docs/runbooks.md#{KAFKA_ALERT.lower()}"
    finally:
        started = own_stack.run("start", "kafka")
        assert started.returncode == 0, f"{started.stdout}\n{started.stderr}"

    wait_until(lambda: own_stack.alerts(KAFKA_ALERT) == [], timeout_s=120, what=f"{KAFKA_ALERT} resolved with Kafka back")
