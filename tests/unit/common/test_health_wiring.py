"""Health wiring that cannot run here: every RPC has a capability, and the deploy files
probe the endpoints that tell the truth (readiness vs liveness)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from services.content import server as content_server
from services.feedback import server as feedback_server
from services.usage import server as usage_server

ROOT = Path(__file__).resolve().parents[3]
SERVERS = {"content": content_server, "usage": usage_server, "feedback": feedback_server}


@pytest.mark.parametrize("name", SERVERS)
def test_every_method_belongs_to_a_capability(name):
    module = SERVERS[name]
    listed = {m for capability in module.CAPABILITIES.values() for m in capability.methods}
    assert listed == set(module.ACCESS), f"{name}: methods without a capability or capabilities naming unknown methods"


def _containers(path: Path) -> dict[str, dict]:
    out = {}
    for doc in yaml.safe_load_all(path.read_text()):
        if doc and doc.get("kind") == "Deployment":
            for container in doc["spec"]["template"]["spec"]["containers"]:
                out[container["name"]] = container
    return out


@pytest.mark.parametrize("name, full_name", [("content", "collateral.v1.ContentService"),
                                             ("usage", "collateral.v1.UsageService"),
                                             ("feedback", "collateral.v1.FeedbackService")])
def test_grpc_readiness_follows_the_core_and_liveness_never_depends_on_dependencies(name, full_name):
    container = _containers(ROOT / "deploy" / "k8s" / "base" / f"{name}.yaml")[name]
    # An exec probe: the servers speak TLS only in production, which the kubelet's gRPC probe cannot.
    assert f"service='{full_name}'" in " ".join(container["readinessProbe"]["exec"]["command"])
    assert "grpc" not in container["livenessProbe"]


def test_consumer_liveness_is_progress_not_a_metrics_page():
    containers = _containers(ROOT / "deploy" / "k8s" / "base" / "consumers.yaml")
    assert set(containers) == {"usage-consumer", "usage-notifications", "feedback-consumer", "content-signals"}
    for name, container in containers.items():
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name


def test_portal_is_ready_through_its_backends_and_live_through_itself():
    portal = _containers(ROOT / "deploy" / "k8s" / "base" / "portal.yaml")["portal"]
    assert portal["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert portal["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_compose_health_checks_use_the_same_endpoints():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for consumer in ("usage-consumer", "usage-notifications", "feedback-consumer", "content-signals"):
        assert "/healthz" in " ".join(services[consumer]["healthcheck"]["test"]), consumer
    assert "/readyz" in " ".join(services["portal"]["healthcheck"]["test"])
