"""docker-compose.yml runs in production mode with generated secrets (no Docker engine here:
the file is parsed and every process's environment loaded as the process would load it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from services.common import config, gen_secrets

ROOT = Path(__file__).resolve().parents[3]
PROCESSES = ("content", "usage", "usage-consumer", "usage-notifications", "feedback", "feedback-consumer",
             "content-signals", "portal")
SECRET_SETTINGS = ("COLLATERAL_AUTH_SECRET", "COLLATERAL_PORTAL_SECRET_KEY", "COLLATERAL_S3_SECRET_KEY",
                   "COLLATERAL_ES_PASSWORD")


def _compose(name: str = "docker-compose.yml") -> dict:
    return yaml.safe_load((ROOT / name).read_text())


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the `setup` service writes into the secrets volume, here in a temporary folder."""
    folder = tmp_path_factory.mktemp("secrets")
    gen_secrets.generate(folder)
    return folder


def _environment(service: dict, secrets: Path) -> dict[str, str]:
    """The service's COLLATERAL_* variables, ${VAR:-default} resolved to the default, /secrets mounted at `secrets`."""
    env = {}
    for key, value in (service.get("environment") or {}).items():
        value = str(value)
        if value.startswith("${") and ":-" in value:
            value = value.split(":-", 1)[1].rstrip("}")
        env[key] = value.replace("/secrets/", f"{secrets}/")
    return env


@pytest.mark.parametrize("name", PROCESSES)
def test_every_process_loads_a_production_configuration_without_problems(name: str, generated: Path):
    service = _compose()["services"][name]
    env = _environment(service, generated)
    assert env["COLLATERAL_PRODUCTION"] == "1"
    settings = config.load(env)  # raises InsecureProduction on any problem
    assert settings.production and config.production_problems(settings) == []
    assert settings.auth_secret == (generated / "auth_secret").read_text().strip()
    assert settings.grpc_tls_client_ca, "gRPC servers require client certificates (mutual TLS)"


@pytest.mark.parametrize("name", PROCESSES)
def test_no_secret_is_written_in_the_compose_file(name: str):
    env = _compose()["services"][name]["environment"]
    for variable in SECRET_SETTINGS:
        assert variable not in env, f"{name} sets {variable} inline"
    for variable in ("COLLATERAL_AUTH_SECRET_FILE", "COLLATERAL_PORTAL_SECRET_KEY_FILE"):
        assert str(env[variable]).startswith("/secrets/"), f"{name} reads {variable} from the generated volume"
    assert "secrets:/secrets:ro" in _compose()["services"][name]["volumes"]


def test_secrets_are_generated_by_a_one_shot_service_everything_waits_for():
    services = _compose()["services"]
    assert "services.common.gen_secrets" in " ".join(services["setup"]["command"])
    assert services["setup"]["restart"] == "no"
    for name in (*PROCESSES, "kafka", "elasticsearch", "minio", "grafana"):
        after = services[name]["depends_on"]
        waits = after.get("setup") or {}
        reaches_setup = waits.get("condition") == "service_completed_successfully"
        via_servers = name == "portal" and all(s in after for s in ("content", "usage", "feedback"))
        assert reaches_setup or via_servers, f"{name} may start before the secrets exist"


def test_generated_secrets_are_random_and_kept(tmp_path: Path):
    gen_secrets.generate(tmp_path)
    first = {name: (tmp_path / name).read_text() for name in gen_secrets.SECRETS}
    certificate = (tmp_path / "server.crt").read_text()
    gen_secrets.generate(tmp_path)  # a restart of the stack
    assert {name: (tmp_path / name).read_text() for name in gen_secrets.SECRETS} == first
    assert (tmp_path / "server.crt").read_text() == certificate
    assert len(set(first.values())) == len(first) and all(len(v.strip()) == 64 for v in first.values())


def test_grafana_has_no_anonymous_access_and_a_generated_admin_password():
    grafana = _compose()["services"]["grafana"]["environment"]
    assert grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert "GF_SECURITY_ADMIN_PASSWORD" not in grafana
    assert grafana["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/secrets/grafana_admin_password"


def test_infrastructure_is_encrypted():
    services = _compose()["services"]
    kafka = services["kafka"]["environment"]
    assert "PLAINTEXT" not in {p.split(":")[1] for p in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
                               if not p.startswith("CONTROLLER:")}
    assert services["elasticsearch"]["environment"]["xpack.security.http.ssl.enabled"] == "true"
    assert "--certs-dir /secrets/minio" in " ".join(services["minio"]["entrypoint"])


def test_development_override_is_plaintext_without_production_mode(generated: Path):
    base, dev = _compose()["services"], _compose("docker-compose.dev.yml")["services"]
    for name in PROCESSES:
        env = _environment({"environment": {**base[name]["environment"], **dev[name]["environment"]}}, generated)
        settings = config.load(env)
        assert not settings.production
        assert not settings.grpc_server_tls and not settings.grpc_client_tls
        assert settings.auth_secret == config.Settings.__dataclass_fields__["auth_secret"].default
