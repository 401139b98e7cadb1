"""docker-compose.yml and deploy/k8s cannot run here: keep them consistent with the code."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from services.common import config

ROOT = Path(__file__).resolve().parents[3]
KNOWN = {var for var, _, _ in config.reference()} | config.file_variables()  # *_FILE: the value read from a file
MODULES = {
    "content": "services.content", "usage": "services.usage", "feedback": "services.feedback",
    "usage-consumer": "services.usage.consumer", "usage-notifications": "services.usage.notifications",
    "feedback-consumer": "services.feedback.consumer",
    "content-signals": "services.content.signals_consumer", "portal": "services.portal",
}


def _variables(text: str) -> set[str]:
    return set(re.findall(r"\b(COLLATERAL_[A-Z0-9_]+)\b", text))


def test_compose_uses_only_known_variables():
    unknown = _variables((ROOT / "docker-compose.yml").read_text()) - KNOWN
    assert not unknown, f"docker-compose.yml sets variables the config module does not read: {unknown}"


def test_kubernetes_manifests_use_only_known_variables():
    text = "".join(p.read_text() for p in (ROOT / "deploy" / "k8s").rglob("*.yaml"))
    unknown = _variables(text) - KNOWN
    assert not unknown, f"deploy/k8s sets unknown variables: {unknown}"


def test_compose_runs_every_process_with_a_health_check():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name, module in MODULES.items():
        assert name in services, f"compose lacks {name}"
        command = " ".join(map(str, services[name].get("command", [])))
        assert module in command, f"compose {name} should run {module}, runs {command!r}"
        assert "healthcheck" in services[name], f"compose {name} has no health check"
    for infra in ("elasticsearch", "kafka", "minio", "prometheus", "grafana"):
        assert infra in services


def test_every_module_in_manifests_exists():
    import importlib.util

    for module in MODULES.values():
        assert importlib.util.find_spec(module) is not None, f"{module} is referenced by deploy files but missing"
