"""deploy/k8s, built with kustomize and checked offline: every document against the Kubernetes 1.31
schemas (kubernetes-validate) or, for custom resources, against the operators' CRD schemas bundled in
deploy/k8s/schemas; then the rules a production deployment must keep (hardened pods, a PDB per
Deployment, no secret values, encrypted connections, network policies, monitoring).

Each rule is a function returning the problems it finds, so the tests below also show, on broken
copies of the real manifests, that the rule catches what it is for.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlparse

import jsonschema
import kubernetes_validate
import pytest
import yaml

from services.common import config, topics

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
PROMETHEUS = ROOT / "deploy" / "prometheus"
KUBERNETES_VERSION = "1.31"
BUILDS = ["base", *sorted(f"overlays/{p.name}" for p in (K8S / "overlays").iterdir() if p.is_dir())]
DEFAULT_OVERLAY = "overlays/eck-strimzi"
# Values a Secret (or an env var fed from one) holds; never a literal in the manifests.
SECRET_SETTINGS = {"COLLATERAL_AUTH_SECRET", "COLLATERAL_PORTAL_SECRET_KEY", "COLLATERAL_ES_PASSWORD",
                   "COLLATERAL_ES_API_KEY", "COLLATERAL_KAFKA_SASL_PASSWORD", "COLLATERAL_S3_SECRET_KEY"}
GRPC_PORTS = {50051, 50052, 50053}
INGRESS_PEER = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
Doc = dict[str, Any]


# ---- building ------------------------------------------------------------------------------------
def _kustomize_command() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


@lru_cache(maxsize=None)
def _build_text(name: str) -> str:
    command = _kustomize_command()
    if command is None:
        if os.environ.get("CI"):
            pytest.fail("neither kustomize nor kubectl is on PATH (.ci/run installs kustomize)")
        pytest.skip("kustomize not installed: go install sigs.k8s.io/kustomize/kustomize/v5@v5.7.1")
    result = subprocess.run([*command, str(K8S / name)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"kustomize build {name} failed:\n{result.stderr}"
    return result.stdout


def build(name: str) -> list[Doc]:
    """The documents of one kustomization, as `kubectl apply -k` would send them (fresh copies)."""
    return [doc for doc in yaml.safe_load_all(_build_text(name)) if doc]


def _of_kind(docs: Iterable[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def _name(doc: Doc) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


def _collateral(docs: Iterable[Doc]) -> list[Doc]:
    """Collateral's own Deployments (not the exporters the components add next to them)."""
    return [d for d in _of_kind(docs, "Deployment")
            if d["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == "collateral"]


# ---- schemas -------------------------------------------------------------------------------------
def _closed(schema: Any) -> Any:
    """A CRD schema that refuses unknown fields, as the API server's pruning would silently drop them.

    An object schema listing its properties and not marked x-kubernetes-preserve-unknown-fields gets
    additionalProperties: false, so a misspelt field fails here instead of vanishing in the cluster.
    """
    if isinstance(schema, list):
        return [_closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _closed(v) for k, v in schema.items()}
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


@lru_cache(maxsize=None)
def _crd_validator(group: str, kind: str, version: str) -> jsonschema.protocols.Validator | None:
    path = K8S / "schemas" / f"{group}_{kind.lower()}_{version}.json"
    if not path.exists():
        return None
    schema = _closed(json.loads(path.read_text(encoding="utf-8")))
    return jsonschema.Draft202012Validator(schema)


def schema_problems(docs: Iterable[Doc]) -> list[str]:
    """Documents that do not validate: built-in kinds against Kubernetes' schemas, custom ones against their CRD."""
    problems = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            continue
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{_name(doc)}: {'.'.join(map(str, exc.path))}: {exc.message}")
            continue
        except kubernetes_validate.SchemaNotFoundError:
            pass
        group, _, version = doc["apiVersion"].rpartition("/")
        validator = _crd_validator(group, doc["kind"], version)
        if validator is None:
            problems.append(f"{_name(doc)}: no schema for {doc['apiVersion']} {doc['kind']} in deploy/k8s/schemas "
                            "(python deploy/k8s/update_crd_schemas.py)")
            continue
        problems += [f"{_name(doc)}: {'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(doc)]
    return problems


# ---- rules ---------------------------------------------------------------------------------------
def hardening_problems(docs: Iterable[Doc]) -> list[str]:
    """Deployments whose pods could run as root, write their image, escalate or keep capabilities."""
    problems = []
    for deployment in _of_kind(docs, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        where = _name(deployment)
        pod_context = pod.get("securityContext") or {}
        if not pod_context.get("runAsNonRoot") or not pod_context.get("runAsUser"):
            problems.append(f"{where}: pod securityContext needs runAsNonRoot and a non-zero runAsUser")
        if (pod_context.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problems.append(f"{where}: pod securityContext needs seccompProfile RuntimeDefault")
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod["containers"]:
            context = container.get("securityContext") or {}
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}/{container['name']}: allowPrivilegeEscalation must be false")
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}/{container['name']}: readOnlyRootFilesystem must be true")
            if "ALL" not in (context.get("capabilities") or {}).get("drop", []):
                problems.append(f"{where}/{container['name']}: capabilities must drop ALL")
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            if "emptyDir" not in volumes.get(mounts.get("/tmp", ""), {}):
                problems.append(f"{where}/{container['name']}: /tmp must be a writable emptyDir")
            resources = container.get("resources") or {}
            if "memory" not in resources.get("limits", {}) or "cpu" not in resources.get("requests", {}):
                problems.append(f"{where}/{container['name']}: needs cpu requests and a memory limit")
    return problems


def _selects(selector: Doc, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels, matchExpressions In/NotIn/Exists) selects these labels."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _pod_labels(deployment: Doc) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"]["labels"]


def pdb_problems(docs: list[Doc]) -> list[str]:
    """Deployments that no PodDisruptionBudget protects."""
    budgets = _of_kind(docs, "PodDisruptionBudget")
    return [f"{_name(d)}: no PodDisruptionBudget selects its pods" for d in _of_kind(docs, "Deployment")
            if not any(_selects(b["spec"]["selector"], _pod_labels(d)) for b in budgets)]


def secret_value_problems(docs: Iterable[Doc]) -> list[str]:
    """Secrets with values in the manifests, and secret settings given as literals."""
    problems = []
    for doc in docs:
        if doc["kind"] == "Secret" and (doc.get("data") or doc.get("stringData")):
            problems.append(f"{_name(doc)}: holds values; secrets are created outside the manifests")
        if doc["kind"] == "ConfigMap":
            problems += [f"{_name(doc)}: {key} is a secret and has a literal value" for key, value in
                         doc.get("data", {}).items() if key in SECRET_SETTINGS and value]
        for container in _containers(doc):
            problems += [f"{_name(doc)}/{container['name']}: {env['name']} is a secret and has a literal value"
                         for env in container.get("env", []) if env["name"] in SECRET_SETTINGS and env.get("value")]
    return problems


def _containers(doc: Doc) -> list[Doc]:
    if doc["kind"] != "Deployment":
        return []
    return doc["spec"]["template"]["spec"]["containers"]


def process_environments(docs: list[Doc], files_root: Path | None = None) -> dict[str, dict[str, str]]:
    """Each Deployment's environment as the pod would get it.

    With files_root, a value naming a file under one of the container's volume mounts (a secret,
    a CA certificate, the gRPC key pair) is moved below files_root, where a file holding a random
    value stands for it: the config module reads or checks such files, and a path outside every
    mount stays missing.
    """
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in _of_kind(docs, "ConfigMap")}
    out = {}
    for deployment in _collateral(docs):
        for container in _containers(deployment):
            env: dict[str, str] = {}
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    env.update(config_maps[source["configMapRef"]["name"]])
                assert "secretRef" not in source, "secrets are mounted as files, never the environment"
            for item in container.get("env", []):
                env[item["name"]] = item["value"] if "value" in item else secrets.token_hex(32)
            if files_root is not None:
                env = _mounted_files(env, container, files_root)
            out[f"{deployment['metadata']['name']}/{container['name']}"] = env
    return out


def _mounted_files(env: dict[str, str], container: Doc, files_root: Path) -> dict[str, str]:
    mounts = [m["mountPath"].rstrip("/") + "/" for m in container.get("volumeMounts", [])]
    moved = dict(env)
    for key, value in env.items():
        if any(value.startswith(mount) for mount in mounts):
            stand_in = files_root / value.lstrip("/")
            stand_in.parent.mkdir(parents=True, exist_ok=True)
            stand_in.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
            moved[key] = str(stand_in)
    return moved


def plaintext_url_problems(environments: dict[str, dict[str, str]]) -> list[str]:
    """http:// URLs for Elasticsearch or S3 (and any other URL setting) in a process's environment."""
    return [f"{process}: {key}={value}" for process, env in environments.items() for key, value in env.items()
            if "http://" in value.lower()]


def production_problems(environments: dict[str, dict[str, str]]) -> list[str]:
    """What services/common/config.py's production mode would refuse for each process."""
    problems = []
    for process, env in environments.items():
        if env.get("COLLATERAL_PRODUCTION") != "1":
            problems.append(f"{process}: COLLATERAL_PRODUCTION is not 1")
        try:
            settings = config.load(env)
        except (SystemExit, ValueError) as exc:  # config.InsecureProduction, or settings refused at load
            problems.append(f"{process}: {exc}")
            continue
        problems += [f"{process}: {p}" for p in config.production_problems(settings)]
    return problems


def _allowed_ingress(docs: list[Doc], labels: dict[str, str], port: int) -> list[Doc] | None:
    """The peers NetworkPolicies let reach a pod's port; None when no policy isolates the pod (all may)."""
    policies = [p for p in _of_kind(docs, "NetworkPolicy")
                if "Ingress" in p["spec"].get("policyTypes", ["Ingress"]) and _selects(p["spec"]["podSelector"], labels)]
    if not policies:
        return None
    peers = []
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            ports = rule.get("ports")
            if ports is None or any(p.get("port") == port for p in ports):
                peers += rule.get("from") or [{}]  # no `from`: every source
    return peers


def network_policy_problems(docs: list[Doc]) -> list[str]:
    """Pods reachable beyond what they serve: the portal from the ingress controller, gRPC from its
    clients, metrics from Prometheus; and pods whose egress nothing restricts."""
    problems = []
    deny_all = [p for p in _of_kind(docs, "NetworkPolicy")
                if p["spec"]["podSelector"] == {} and p["spec"].get("policyTypes") == ["Ingress"]
                and not p["spec"].get("ingress")]
    if not deny_all:
        problems.append("no default-deny ingress NetworkPolicy for the namespace")
    monitoring = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    for deployment in _of_kind(docs, "Deployment"):
        labels = _pod_labels(deployment)
        for container in _containers(deployment):
            for port in container.get("ports", []):
                number, where = port["containerPort"], f"{_name(deployment)}:{port['containerPort']}"
                peers = _allowed_ingress(docs, labels, number)
                if peers is None or {} in peers:
                    problems.append(f"{where}: reachable from anywhere")
                    continue
                if port["name"] == "metrics" and monitoring not in peers:
                    problems.append(f"{where}: Prometheus (namespace monitoring) cannot scrape it")
                if number in GRPC_PORTS and peers != [{"podSelector": {"matchLabels": {"collateral.dev/grpc-client": "true"}}}]:
                    problems.append(f"{where}: gRPC reachable from {peers}, not only its clients")
                if deployment["metadata"]["name"] == "portal" and port["name"] == "http" and peers != [INGRESS_PEER]:
                    problems.append(f"{where}: the portal's public port is reachable from {peers}, "
                                    "not only the ingress controller")
        egress = [p for p in _of_kind(docs, "NetworkPolicy")
                  if "Egress" in p["spec"].get("policyTypes", []) and _selects(p["spec"]["podSelector"], labels)]
        if not egress:
            problems.append(f"{_name(deployment)}: no NetworkPolicy restricts its egress")
    return problems


def service_monitor_problems(docs: list[Doc]) -> list[str]:
    """Metrics ports (every Service's port named `metrics`) that no ServiceMonitor scrapes."""
    monitors = _of_kind(docs, "ServiceMonitor")
    problems = []
    for service in _of_kind(docs, "Service"):
        labels = service["metadata"].get("labels", {})
        wanted = [p["name"] for p in service["spec"]["ports"] if p["name"] == "metrics"]
        for port in wanted:
            if not any(_selects(m["spec"]["selector"], labels) and
                       any(e.get("port") == port and e.get("path", "/metrics") == "/metrics" for e in m["spec"]["endpoints"])
                       for m in monitors):
                problems.append(f"{_name(service)}: port {port} has no ServiceMonitor")
    return problems


# Exporter metric prefixes and the job their exporter has in deploy/prometheus/prometheus.yml.
EXPORTER_JOBS = {"elasticsearch_": "elasticsearch-exporter", "kafka_": "kafka-exporter"}


def _operator_pods(docs: list[Doc]) -> list[tuple[str, dict[str, str], list[Doc]]]:
    """Pods the operators create from the custom resources: Strimzi's Kafka Exporter (labels and
    port as Strimzi's KafkaExporter model sets them)."""
    pods = []
    for kafka in _of_kind(docs, "Kafka"):
        if "kafkaExporter" in kafka["spec"]:
            cluster = kafka["metadata"]["name"]
            labels = {"strimzi.io/cluster": cluster, "strimzi.io/kind": "Kafka",
                      "strimzi.io/name": f"{cluster}-kafka-exporter"}
            pods.append((f"Kafka/{cluster} kafkaExporter", labels, [{"name": "tcp-prometheus", "containerPort": 9404}]))
    return pods


def _pods(docs: list[Doc]) -> list[tuple[str, dict[str, str], list[Doc]]]:
    """(what runs it, pod labels, container ports) of every pod the manifests make run."""
    pods = [(_name(d), _pod_labels(d), [port for c in _containers(d) for port in c.get("ports", [])])
            for d in _of_kind(docs, "Deployment")]
    return pods + _operator_pods(docs)


def _serves(service: Doc, port: Doc, pods: list[tuple[str, dict[str, str], list[Doc]]]) -> bool:
    """Whether some pod selected by the Service listens on the port's target."""
    target = port.get("targetPort", port["port"])
    return any(_selects({"matchLabels": service["spec"].get("selector") or {}}, labels) and
               any(target in (p.get("name"), p["containerPort"]) for p in ports)
               for _, labels, ports in pods if service["spec"].get("selector"))


def _job(monitor: Doc, endpoint: Doc, service: Doc) -> str:
    """The `job` label the Prometheus Operator gives a ServiceMonitor endpoint's targets."""
    for relabeling in endpoint.get("relabelings", []):
        if relabeling.get("targetLabel") == "job" and relabeling.get("action", "replace") == "replace":
            return relabeling["replacement"]
    job_label = monitor["spec"].get("jobLabel")
    return service["metadata"].get("labels", {}).get(job_label) or service["metadata"]["name"]


def scrape_jobs(docs: list[Doc]) -> dict[str, list[str]]:
    """job -> the Service ports a ServiceMonitor scrapes under it, counting only ports some pod serves."""
    pods = _pods(docs)
    jobs: dict[str, list[str]] = {}
    for monitor in _of_kind(docs, "ServiceMonitor"):
        for service in _of_kind(docs, "Service"):
            if not _selects(monitor["spec"]["selector"], service["metadata"].get("labels", {})):
                continue
            for endpoint in monitor["spec"]["endpoints"]:
                for port in service["spec"]["ports"]:
                    if endpoint.get("port") == port["name"] and _serves(service, port, pods):
                        jobs.setdefault(_job(monitor, endpoint, service), []).append(f"{_name(service)}:{port['name']}")
    return jobs


def exporter_alert_problems(docs: list[Doc], rules: list[Doc], elsewhere: frozenset[str] = frozenset()) -> list[str]:
    """Alerts on exporter metrics (Elasticsearch, Kafka) whose job selectors match no scrape target.

    An alert reading `kafka_*` needs a target with job kafka-exporter; a `job=~"..."` matcher in its
    expression must match the job of some target (Prometheus anchors the regex), or one of `elsewhere`:
    jobs that only another deployment has (the local stack's `kafka`, the broker's own metrics, which
    an `or` branch of CollateralKafkaDown reads there).
    """
    jobs = scrape_jobs(docs)
    problems = []
    for rule in rules:
        expr = rule["expr"]
        exporters = {job for prefix, job in EXPORTER_JOBS.items() if re.search(rf"\b{prefix}[a-z0-9_]+", expr)}
        if not exporters:
            continue
        patterns = [(re.escape(job), set(jobs)) for job in sorted(exporters)]
        patterns += [(value if op == "=~" else re.escape(value), set(jobs) | elsewhere)
                     for op, value in re.findall(r'\bjob\s*(=~|=)\s*"([^"]*)"', expr)]
        for pattern, known in patterns:
            if not any(re.fullmatch(pattern, job) for job in known):
                problems.append(f"{rule['alert']}: no scrape target has a job matching {pattern!r} "
                                f"(jobs: {', '.join(sorted(jobs))})")
    return problems


def _static_jobs(config: str) -> set[str]:
    """Job names of one of deploy/prometheus's static scrape configs."""
    return {c["job_name"] for c in yaml.safe_load((PROMETHEUS / config).read_text(encoding="utf-8"))["scrape_configs"]}


def local_only_jobs() -> frozenset[str]:
    """Jobs the local stack's Prometheus scrapes and docker-compose.yml's does not (the broker's own metrics)."""
    return frozenset(_static_jobs("prometheus.yml") - _static_jobs("prometheus.compose.yml"))


def _alert_rules() -> list[Doc]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


# ---- tests: the real manifests -------------------------------------------------------------------
@pytest.mark.parametrize("name", BUILDS)
def test_every_document_validates_against_kubernetes_and_crd_schemas(name):
    assert schema_problems(build(name)) == []


@pytest.mark.parametrize("name", BUILDS)
def test_every_deployment_is_hardened_and_has_a_disruption_budget(name):
    docs = build(name)
    assert len(_collateral(docs)) == 8  # content, usage, feedback, 4 consumers, portal
    assert hardening_problems(docs) == []
    assert pdb_problems(docs) == []


@pytest.mark.parametrize("name", BUILDS)
def test_no_secret_value_is_in_the_manifests(name):
    docs = build(name)
    assert _of_kind(docs, "Secret") == []
    assert secret_value_problems(docs) == []


@pytest.mark.parametrize("name", BUILDS)
def test_every_process_passes_production_mode_over_encrypted_connections(name, tmp_path):
    environments = process_environments(build(name), tmp_path)
    assert len(environments) == 8
    assert plaintext_url_problems(environments) == []
    assert production_problems(environments) == []


@pytest.mark.parametrize("name", BUILDS)
def test_manifests_set_only_settings_the_config_module_reads(name):
    known = {var for var, _, _ in config.reference()} | config.file_variables()
    used = {key for env in process_environments(build(name)).values() for key in env}
    assert used - known == set()


@pytest.mark.parametrize("name", BUILDS)
def test_network_policies_allow_only_what_each_pod_serves(name):
    assert network_policy_problems(build(name)) == []


def test_ingress_serves_the_portal_and_share_links_over_tls():
    docs = build(DEFAULT_OVERLAY)
    (ingress,) = _of_kind(docs, "Ingress")
    (config_map,) = _of_kind(docs, "ConfigMap")
    public_url = urlparse(config_map["data"]["COLLATERAL_PORTAL_PUBLIC_URL"])
    (tls,) = ingress["spec"]["tls"]
    (rule,) = ingress["spec"]["rules"]
    assert public_url.scheme == "https" and rule["host"] == public_url.hostname
    assert tls["secretName"] and rule["host"] in tls["hosts"]
    paths = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert paths == {"/": "portal", "/s/": "portal"}
    assert "cert-manager.io/cluster-issuer" in ingress["metadata"]["annotations"]


def test_service_monitors_scrape_every_metrics_port():
    docs = build(DEFAULT_OVERLAY)
    assert service_monitor_problems(docs) == []
    jobs = scrape_jobs(docs)
    assert jobs["portal"] == ["Service/portal:metrics"]  # its metrics listener, not the public HTTP port


def test_every_exporter_alert_has_a_scrape_target_with_its_job():
    """CollateralElasticsearchDown, ...ClusterRed and CollateralKafkaDown read the exporters' metrics:
    the overlay runs both exporters, under the job names the alerts select."""
    rules = _alert_rules()
    on_exporters = {r["alert"] for r in rules if any(prefix in r["expr"] for prefix in EXPORTER_JOBS)}
    assert {"CollateralElasticsearchDown", "CollateralElasticsearchClusterRed", "CollateralKafkaDown"} <= on_exporters
    assert exporter_alert_problems(build(DEFAULT_OVERLAY), rules, local_only_jobs()) == []
    assert set(EXPORTER_JOBS.values()) <= _static_jobs("prometheus.compose.yml")


def test_the_local_kafka_job_is_only_accepted_where_it_is_scraped():
    """CollateralKafkaDown's `up{job=~"(.*/)?kafka"}` branch is for the local stack: the Kubernetes
    overlay has no such job, and the check accepts it only because prometheus.yml scrapes it."""
    rules = [r for r in _alert_rules() if r["alert"] == "CollateralKafkaDown"]
    assert local_only_jobs() == {"kafka"}
    problems = exporter_alert_problems(build(DEFAULT_OVERLAY), rules)
    assert problems == [f"CollateralKafkaDown: no scrape target has a job matching '(.*/)?kafka' (jobs: "
                        f"{', '.join(sorted(scrape_jobs(build(DEFAULT_OVERLAY))))})"]
    assert exporter_alert_problems(build(DEFAULT_OVERLAY), rules, frozenset({"kafka-broker"})) == problems


def _generator() -> Any:
    """deploy/k8s/gen_prometheusrule.py as a module (deploy/ is not a package)."""
    spec = importlib.util.spec_from_file_location("gen_prometheusrule", K8S / "gen_prometheusrule.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prometheus_rule_is_generated_from_the_alert_rules():
    gen = _generator()
    expected = gen.render(gen.ALERTS.read_text(encoding="utf-8"))
    assert gen.TARGET.read_text(encoding="utf-8") == expected, "run python deploy/k8s/gen_prometheusrule.py"
    (rule,) = _of_kind(build(DEFAULT_OVERLAY), "PrometheusRule")
    alerts = yaml.safe_load(gen.ALERTS.read_text(encoding="utf-8"))
    assert rule["spec"]["groups"] == alerts["groups"]


def test_kafka_topics_are_the_topics_the_services_use():
    docs = build(DEFAULT_OVERLAY)
    (config_map,) = _of_kind(docs, "ConfigMap")
    settings = config.load({"COLLATERAL_NAMESPACE": config_map["data"]["COLLATERAL_NAMESPACE"],
                            "COLLATERAL_KAFKA_TOPIC_PARTITIONS": config_map["data"]["COLLATERAL_KAFKA_TOPIC_PARTITIONS"]})
    declared = {t["spec"]["topicName"]: t["spec"]["partitions"] for t in _of_kind(docs, "KafkaTopic")}
    assert declared == {t.name(settings): t.partitions(settings) for t in topics.ALL}


def test_connections_name_what_the_operators_create():
    """The ECK and Strimzi resources are the ones whose Secrets and Services the processes use."""
    docs = build(DEFAULT_OVERLAY)
    (config_map,) = _of_kind(docs, "ConfigMap")
    data = config_map["data"]
    (elasticsearch,) = _of_kind(docs, "Elasticsearch")
    (kafka,) = _of_kind(docs, "Kafka")
    (user,) = _of_kind(docs, "KafkaUser")
    namespace = elasticsearch["metadata"]["namespace"]
    es, kf = elasticsearch["metadata"]["name"], kafka["metadata"]["name"]
    assert data["COLLATERAL_ES_URL"] == f"https://{es}-es-http.{namespace}.svc:9200"
    listener = next(l for l in kafka["spec"]["kafka"]["listeners"] if l["tls"])
    assert data["COLLATERAL_KAFKA_BOOTSTRAP"] == f"{kf}-kafka-bootstrap.{namespace}.svc:{listener['port']}"
    assert listener["authentication"]["type"] == "scram-sha-512" == data["COLLATERAL_KAFKA_SASL_MECHANISM"].lower()
    assert data["COLLATERAL_KAFKA_SASL_USERNAME"] == user["metadata"]["name"]
    certificates = {c["spec"]["secretName"] for c in _of_kind(docs, "Certificate")}
    for deployment in _collateral(docs):
        volumes = {v["name"]: v["secret"]["secretName"]
                   for v in deployment["spec"]["template"]["spec"]["volumes"] if "secret" in v}
        assert volumes == {"secrets": "collateral-secrets", "es-user": f"{es}-es-elastic-user",
                           "es-ca": f"{es}-es-http-certs-public", "kafka-user": user["metadata"]["name"],
                           "kafka-ca": f"{kf}-cluster-ca-cert", "grpc-tls": volumes["grpc-tls"]}
        assert volumes["grpc-tls"] in certificates


# ---- tests: each rule catches what it is for ----------------------------------------------------
def _deployment(docs: list[Doc], name: str) -> Doc:
    return next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)


def test_rules_catch_a_pod_without_security_context_or_budget():
    docs = build(DEFAULT_OVERLAY)
    content = _deployment(docs, "content")["spec"]["template"]["spec"]
    del content["securityContext"]
    content["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False
    assert len(hardening_problems(docs)) == 3
    docs = [d for d in docs if not (d["kind"] == "PodDisruptionBudget" and d["metadata"]["name"] == "portal")]
    assert pdb_problems(docs) == ["Deployment/portal: no PodDisruptionBudget selects its pods"]


def test_rules_catch_secret_values_and_plaintext_elasticsearch(tmp_path):
    docs = build(DEFAULT_OVERLAY)
    docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "collateral-secrets"},
                 "stringData": {"COLLATERAL_AUTH_SECRET": "replace-me"}})
    (config_map,) = _of_kind(docs, "ConfigMap")
    config_map["data"]["COLLATERAL_ES_URL"] = "http://collateral-es-http.collateral.svc:9200"
    assert secret_value_problems(docs) == ["Secret/collateral-secrets: holds values; secrets are created outside the manifests"]
    environments = process_environments(docs, tmp_path)
    assert len(plaintext_url_problems(environments)) == 8
    refused = production_problems(environments)
    assert len(refused) == 8 and all("COLLATERAL_ES_URL" in p for p in refused), refused


def test_rules_catch_schema_errors_in_built_in_and_custom_resources():
    docs = build(DEFAULT_OVERLAY)
    _deployment(docs, "usage")["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonroot"] = True
    (user,) = _of_kind(docs, "KafkaUser")
    user["spec"]["authentication"]["type"] = "scram-sha-256"
    (monitor, _) = _of_kind(docs, "ServiceMonitor")
    monitor["spec"]["endpoint"] = monitor["spec"].pop("endpoints")
    problems = schema_problems(docs)
    assert {p.split(":")[0] for p in problems} == {"Deployment/usage", "KafkaUser/collateral",
                                                   "ServiceMonitor/collateral"}, problems
    assert schema_problems([{"apiVersion": "example.com/v1", "kind": "Unknown", "metadata": {"name": "x"}}])


def test_rules_catch_open_ports_and_unscraped_metrics():
    docs = build(DEFAULT_OVERLAY)
    deny = next(d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "default-deny-ingress")
    docs.remove(deny)
    docs = [d for d in docs if not (d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "grpc-from-clients")]
    problems = network_policy_problems(docs)
    assert "no default-deny ingress NetworkPolicy for the namespace" in problems
    assert sum("gRPC reachable" in p for p in problems) == 3, problems
    (monitor,) = [d for d in docs if d["kind"] == "ServiceMonitor" and d["metadata"]["name"] == "collateral"]
    monitor["spec"]["selector"]["matchExpressions"] = [{"key": "app.kubernetes.io/name", "operator": "NotIn",
                                                        "values": ["portal"]}]
    assert service_monitor_problems(docs) == ["Service/portal: port metrics has no ServiceMonitor"]


def test_rules_catch_the_portal_metrics_on_its_public_port():
    docs = build(DEFAULT_OVERLAY)
    (policy,) = [d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "metrics-from-prometheus"]
    policy["spec"]["ingress"][0]["ports"].append({"protocol": "TCP", "port": 8080})
    problems = network_policy_problems(docs)
    assert len(problems) == 1 and "Deployment/portal:8080: the portal's public port is reachable" in problems[0], problems


def test_rules_catch_alerts_on_exporters_nobody_scrapes():
    rules = _alert_rules()
    docs = build(DEFAULT_OVERLAY)
    (kafka,) = _of_kind(docs, "Kafka")
    del kafka["spec"]["kafkaExporter"]
    problems = exporter_alert_problems(docs, rules, local_only_jobs())
    assert {p.split(":")[0] for p in problems} == {"CollateralKafkaDown"}, problems
    docs = [d for d in build(DEFAULT_OVERLAY) if _name(d) != "Deployment/elasticsearch-exporter"]
    problems = exporter_alert_problems(docs, rules, local_only_jobs())
    assert {p.split(":")[0] for p in problems} == {"CollateralElasticsearchDown", "CollateralElasticsearchClusterRed"}, problems
    docs = build(DEFAULT_OVERLAY)
    (exporters,) = [d for d in docs if d["kind"] == "ServiceMonitor" and d["metadata"]["name"] == "collateral-exporters"]
    del exporters["spec"]["jobLabel"]  # job = the Service's name: still the same
    assert exporter_alert_problems(docs, rules, local_only_jobs()) == []
    exporters["spec"]["endpoints"][0]["relabelings"] = [{"action": "replace", "targetLabel": "job", "replacement": "exporters"}]
    problems = exporter_alert_problems(docs, rules, local_only_jobs())
    # each alert's exporter job (3), and the job matchers of CollateralElasticsearchDown and CollateralKafkaDown
    assert len(problems) == 5, problems
    assert {p.split(":")[0] for p in problems} == {"CollateralElasticsearchDown", "CollateralElasticsearchClusterRed",
                                                   "CollateralKafkaDown"}


# ---- the gRPC readiness probe, run for real --------------------------------------------------------
def _tls_health_server(folder: Path, status: int) -> tuple[Any, int]:
    """A TLS gRPC server on 127.0.0.1 whose health service reports `status` for ContentService."""
    from concurrent import futures

    import grpc
    from grpc_health.v1 import health, health_pb2_grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    servicer.set("collateral.v1.ContentService", status)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    credentials = grpc.ssl_server_credentials([((folder / "server.key").read_bytes(), (folder / "server.crt").read_bytes())])
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    return server, port


@pytest.fixture(scope="module")
def content_certificates(tmp_path_factory) -> Path:
    """A CA and a server certificate for the host name `content` (gen_secrets, as without cert-manager)."""
    folder = tmp_path_factory.mktemp("grpc-tls")
    subprocess.run([sys.executable, "-m", "services.common.gen_secrets", str(folder), "--name", "content"],
                   check=True, capture_output=True, cwd=ROOT)
    return folder


@pytest.mark.parametrize("serving, exit_code", [(True, 0), (False, 1)])
def test_grpc_readiness_probe_checks_health_over_tls(content_certificates, serving, exit_code):
    """The content Deployment's exec probe, run as the kubelet would, against a TLS-only server
    whose certificate names `content` (as the cert-manager Certificate does)."""
    from grpc_health.v1 import health_pb2

    tmp_path = content_certificates
    status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
    server, port = _tls_health_server(tmp_path, status)
    try:
        container = _deployment(build("base"), "content")["spec"]["template"]["spec"]["containers"][0]
        command = [part.replace("127.0.0.1:50051", f"127.0.0.1:{port}") for part in container["readinessProbe"]["exec"]["command"]]
        assert command[0] == "python"
        env = dict(os.environ, COLLATERAL_GRPC_TLS_CA=str(tmp_path / "ca.crt"))
        probe = subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert probe.returncode == exit_code, probe.stderr
    finally:
        server.stop(None)
