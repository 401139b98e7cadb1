"""Alerts, dashboards and their documentation cover what Collateral exports.

- every metric family a process exports (services/common/metrics.py's and those of
  prometheus_client's default collectors) is in an alert, on a dashboard panel, or in
  deploy/prometheus/UNMONITORED.yml with a reason; the table in docs/operations.md is current;
- every alert has severity, summary, description, a runbook entry and a promtool case in
  which it fires; promtool accepts the rules and their tests;
- the dashboard is well-formed Grafana JSON and its ratio panels show 0, not "No data", on a
  healthy or idle system (evaluated by promtool, the real PromQL engine).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import GaugeMetricFamily

from scripts import monitoring_inventory as inventory
from tests.conftest import skip_or_fail

ROOT = inventory.ROOT
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = inventory.DASHBOARDS / "collateral-overview.json"
RUNBOOKS = ROOT / "docs" / "runbooks.md"
METRIC_CLASSES = {"Counter", "Gauge", "Histogram", "Summary", "Info", "Enum"}


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def promtool() -> str:
    path = shutil.which("promtool")
    if not path:
        skip_or_fail("promtool is not installed (apt-get install prometheus)")
    return str(path)


# ---- metric families ----------------------------------------------------------------------------


def test_every_metric_family_is_watched_or_excused() -> None:
    assert inventory.problems(inventory.families(), inventory.alerts() + inventory.panels(), inventory.unmonitored()) == []


def test_families_are_declared_only_in_metrics_py() -> None:
    """The inventory reads metrics.py; a metric constructed anywhere else would escape it."""
    offenders = []
    for path in (ROOT / "services").rglob("*.py"):
        if path.name == "metrics.py" and path.parent.name == "common":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("prometheus_client"):
                offenders += [f"{path.relative_to(ROOT)} imports {a.name}" for a in node.names if a.name in METRIC_CLASSES]
    assert offenders == []


def test_the_default_collectors_families_are_inventoried() -> None:
    """/metrics is the default registry: its process, GC and platform collectors export beside metrics.py."""
    names = {f.name for f in inventory.families()}
    assert {"process_cpu_seconds", "process_open_fds", "process_max_fds", "process_resident_memory_bytes",
            "python_gc_objects_collected", "python_info"} <= names
    assert not [f.name for f in inventory.collected() if f.name.startswith("collateral_")]
    samples = {s.name for m in REGISTRY.collect() for s in m.samples if not s.name.endswith("_created")}
    assert samples - {name for f in inventory.families() for name in f.exported} == set()


def test_a_collector_added_to_the_registry_is_inventoried() -> None:
    class Threads:
        def collect(self) -> Any:
            yield GaugeMetricFamily("process_threads", "Threads of the process.", value=3)

    registry = CollectorRegistry()
    registry.register(Threads())
    assert inventory.collected(registry) == [inventory.Family("process_threads", "gauge", "Threads of the process.")]


def test_exported_names_follow_the_type() -> None:
    by_name = {f.name: f for f in inventory.families()}
    assert by_name["collateral_grpc_requests"].exported == ("collateral_grpc_requests_total",)
    assert by_name["collateral_portal_request_duration_seconds"].exported == (
        "collateral_portal_request_duration_seconds_bucket", "collateral_portal_request_duration_seconds_sum",
        "collateral_portal_request_duration_seconds_count")
    assert by_name["collateral_consumer_paused"].exported == ("collateral_consumer_paused",)
    assert by_name["process_cpu_seconds"].exported == ("process_cpu_seconds_total",)


def test_a_name_only_matches_whole_series_names() -> None:
    requests = inventory.Family("collateral_grpc_requests", "counter", "")
    in_flight = inventory.Watcher("panel", "d / in flight", ("sum(collateral_grpc_requests_in_flight)",))
    rate = inventory.Watcher("alert", "A", ("rate(collateral_grpc_requests_total{code!=\"OK\"}[5m])",))
    longer = inventory.Watcher("alert", "B", ("collateral_grpc_requests_total_extra",))
    assert inventory.uses(rate, requests)
    assert not inventory.uses(in_flight, requests)
    assert not inventory.uses(longer, requests)


def test_the_check_reports_unwatched_families_and_wrong_excuses() -> None:
    watched = inventory.Family("collateral_a", "gauge", "")
    unwatched = inventory.Family("collateral_b", "counter", "")
    excused = inventory.Family("collateral_c", "gauge", "")
    watchers = [inventory.Watcher("alert", "AlertA", ("collateral_a > 1",))]
    allowed = {"collateral_c": "debug only", "collateral_a": "stale excuse", "collateral_gone": "x", }
    found = inventory.problems([watched, unwatched, excused], watchers, {**allowed, "collateral_d": ""})
    assert found == [
        "collateral_b is in no alert, no dashboard panel and not in UNMONITORED.yml",
        "UNMONITORED.yml lists collateral_gone, which no process exports",
        "UNMONITORED.yml lists collateral_d, which no process exports",
        "UNMONITORED.yml lists collateral_d without a reason",
        "UNMONITORED.yml lists collateral_a, but it is watched by AlertA",
    ]


def test_operations_doc_lists_every_family_with_its_panel_or_alert() -> None:
    doc = (ROOT / "docs" / "operations.md").read_text()
    start, end = doc.index(inventory.TABLE_START), doc.index(inventory.TABLE_END)
    written = doc[start + len(inventory.TABLE_START):end].strip()
    assert written == inventory.current_table(), (
        "the table in docs/operations.md is stale: run .venv/bin/python -m scripts.monitoring_inventory --write")
    for family in inventory.families():
        assert f"| `{family.name}` (" in written


# ---- alerts -------------------------------------------------------------------------------------


def runbook_anchors() -> set[str]:
    """GitHub's anchors of the level-2 headings of docs/runbooks.md."""
    headings = re.findall(r"^## (.+)$", RUNBOOKS.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_every_alert_has_severity_summary_description_and_runbook() -> None:
    anchors = runbook_anchors()
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"].strip() and rule["annotations"]["description"].strip(), rule["alert"]
        url = rule["annotations"]["runbook_url"]
        assert url == f"docs/runbooks.md#{rule['alert'].lower()}", rule["alert"]
        assert url.split("#")[1] in anchors, f"docs/runbooks.md has no entry for {rule['alert']}"


def test_every_runbook_entry_belongs_to_an_alert() -> None:
    assert runbook_anchors() == {rule["alert"].lower() for rule in alert_rules()}


def test_every_alert_has_a_promtool_case_in_which_it_fires() -> None:
    cases = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
    firing = {case["alertname"] for test in cases for case in test.get("alert_rule_test", []) if case.get("exp_alerts")}
    quiet = {case["alertname"] for test in cases for case in test.get("alert_rule_test", []) if not case.get("exp_alerts")}
    names = {rule["alert"] for rule in alert_rules()}
    assert names - firing == set(), "alerts without a promtool case that fires them"
    assert names - quiet == set(), "alerts without a promtool case where they stay quiet"


def test_promtool_accepts_the_rules_and_their_tests() -> None:
    tool = promtool()
    for args in (["check", "rules", "alerts.yml"], ["check", "config", "prometheus.yml"],
                 ["check", "config", "prometheus.compose.yml"], ["test", "rules", "alerts_test.yml"]):
        done = subprocess.run([tool, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}{done.stderr}"


def test_the_exporters_are_scraped_and_alerted_on() -> None:
    """Locally Kafka serves its own metrics (job kafka, the JMX exporter javaagent); compose runs a Kafka exporter."""
    for config, kafka_job in (("prometheus.yml", "kafka"), ("prometheus.compose.yml", "kafka-exporter")):
        jobs = {job["job_name"] for job in yaml.safe_load((PROMETHEUS / config).read_text())["scrape_configs"]}
        assert {"elasticsearch-exporter", kafka_job} <= jobs, config
    exprs = " ".join(rule["expr"] for rule in alert_rules())
    assert "elasticsearch_cluster_health_up" in exprs and "kafka_brokers" in exprs
    [kafka_down] = [rule["expr"] for rule in alert_rules() if rule["alert"] == "CollateralKafkaDown"]
    assert 'up{job=~"(.*/)?kafka"}) == 0' in kafka_down


# ---- dashboards ---------------------------------------------------------------------------------


def dashboard_panels() -> list[dict[str, Any]]:
    return list(inventory._panels(json.loads(DASHBOARD.read_text())["panels"]))


def test_dashboard_is_well_formed_grafana_json() -> None:
    panels = dashboard_panels()
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    for panel in panels:
        pos = panel["gridPos"]
        assert 0 <= pos["x"] and pos["x"] + pos["w"] <= 24 and pos["h"] > 0, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}, panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)) and all(t["expr"].strip() for t in panel["targets"]), panel["title"]
    cells = [(p["gridPos"]["x"] + dx, p["gridPos"]["y"] + dy) for p in panels
             for dx in range(p["gridPos"]["w"]) for dy in range(p["gridPos"]["h"])]
    assert len(cells) == len(set(cells)), "panels overlap"


RATIO_PANELS = {
    "Server error ratio": ("collateral_grpc_requests_total",
                           '{service="content", method="GetAsset", code="OK"}', '{service="content"}'),
    "Zero-result search ratio": ("collateral_content_searches_total", '{result="found"}', "{}"),
    "Portal 5xx ratio": ("collateral_portal_requests_total", '{route="/", method="GET", status="200"}', "{}"),
}


def panel_expr(title: str) -> str:
    """The panel's query as Prometheus would receive it from Grafana (template variables filled in)."""
    [panel] = [p for p in dashboard_panels() if p.get("title") == title]
    return panel["targets"][0]["expr"].replace("$__rate_interval", "2m").replace("$service", ".*")


@pytest.mark.parametrize("title", sorted(RATIO_PANELS))
def test_ratio_panels_show_zero_on_a_healthy_or_idle_system(title: str, tmp_path: Path) -> None:
    series, healthy_labels, expected_labels = RATIO_PANELS[title]
    expr = panel_expr(title)
    tests = {"evaluation_interval": "1m", "rule_files": [], "tests": [
        {"interval": "1m", "input_series": [{"series": series + healthy_labels, "values": "0+60x20"}],
         "promql_expr_test": [{"expr": expr, "eval_time": "10m", "exp_samples": [{"labels": expected_labels, "value": 0}]}]},
        {"interval": "1m", "input_series": [{"series": 'up{job="content"}', "values": "1x20"}],
         "promql_expr_test": [{"expr": expr, "eval_time": "10m", "exp_samples": [{"labels": "{}", "value": 0}]}]},
    ]}
    path = tmp_path / "panel_test.yml"
    path.write_text(yaml.safe_dump(tests))
    done = subprocess.run([promtool(), "test", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{title} does not show 0:\n{done.stdout}{done.stderr}"


# Prometheus and the exporters export process_* as well: these panels must show Collateral's processes only.
PROCESS_SERIES = {"process_cpu_seconds_total": "0+30x20", "process_resident_memory_bytes": "200000000x20",
                  "process_open_fds": "50x20", "process_max_fds": "1000x20"}
PROCESS_TARGETS = {
    '{job="content", instance="127.0.0.1:9464", app="collateral"}': '{job="content", instance="127.0.0.1:9464"}',
    '{job="kubernetes-pods", instance="10.0.0.7:9467", app_kubernetes_io_part_of="collateral"}':
        '{job="kubernetes-pods", instance="10.0.0.7:9467"}',
    '{job="prometheus", instance="127.0.0.1:9090"}': None,
    '{job="elasticsearch-exporter", instance="127.0.0.1:9114"}': None,
}
PROCESS_PANELS = {
    ("Process CPU and resident memory by job/instance", "A"): 0.5,
    ("Process CPU and resident memory by job/instance", "B"): 200000000,
    ("Open file descriptors (share of limit)", "A"): 0.05,
}


@pytest.mark.parametrize(("title", "ref"), sorted(PROCESS_PANELS))
def test_process_panels_show_each_collateral_process_and_nothing_else(title: str, ref: str, tmp_path: Path) -> None:
    [panel] = [p for p in dashboard_panels() if p.get("title") == title]
    [expr] = [t["expr"].replace("$__rate_interval", "2m") for t in panel["targets"] if t["refId"] == ref]
    series = [{"series": name + labels, "values": values} for name, values in PROCESS_SERIES.items()
              for labels in PROCESS_TARGETS]
    expected = [{"labels": shown, "value": PROCESS_PANELS[title, ref]} for shown in PROCESS_TARGETS.values() if shown]
    tests = {"evaluation_interval": "1m", "rule_files": [], "tests": [
        {"interval": "1m", "input_series": series,
         "promql_expr_test": [{"expr": expr, "eval_time": "10m", "exp_samples": expected}]}]}
    path = tmp_path / "panel_test.yml"
    path.write_text(yaml.safe_dump(tests))
    done = subprocess.run([promtool(), "test", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{title} ({ref}):\n{done.stdout}{done.stderr}"
