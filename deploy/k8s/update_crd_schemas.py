"""Refresh deploy/k8s/schemas/: the OpenAPI schemas of the custom resources the manifests use.

The manifests' tests validate ServiceMonitor, PrometheusRule (Prometheus Operator), Elasticsearch
(ECK), Kafka, KafkaNodePool, KafkaTopic, KafkaUser (Strimzi) and Certificate, Issuer (cert-manager)
documents offline, so their schemas live in the repository. They come from the operators' own
CustomResourceDefinitions, taken from package registries:

  Prometheus Operator, ECK, cert-manager   their Go modules (example/ and config/ hold the CRD YAML),
                                           via `go mod download`
  Strimzi                                  the io.strimzi:api classes on Maven Central, turned into CRDs
                                           by Strimzi's own io.strimzi:crd-generator (as its build does)

Only `openAPIV3Schema` of each stored (current) version is kept, without descriptions, one JSON file per
group, kind and version. Run `python deploy/k8s/update_crd_schemas.py` (needs go, mvn, java) after
changing a version below.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Iterator

import yaml

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"

GO_MODULES = {
    # module@version: CRD files inside it
    "github.com/prometheus-operator/prometheus-operator@v0.85.0": [
        "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml",
        "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml",
    ],
    "github.com/elastic/cloud-on-k8s/v3@v3.5.0": [
        "config/crds/v1/resources/elasticsearch.k8s.elastic.co_elasticsearches.yaml",
    ],
    "github.com/cert-manager/cert-manager@v1.16.5": [
        "deploy/crds/crd-certificates.yaml",
        "deploy/crds/crd-issuers.yaml",
    ],
}
STRIMZI_VERSION = "0.45.0"
STRIMZI_KINDS = {
    "io.strimzi.api.kafka.model.kafka.Kafka": "kafka",
    "io.strimzi.api.kafka.model.nodepool.KafkaNodePool": "kafkanodepool",
    "io.strimzi.api.kafka.model.topic.KafkaTopic": "kafkatopic",
    "io.strimzi.api.kafka.model.user.KafkaUser": "kafkauser",
}


def schema_path(group: str, kind: str, version: str) -> Path:
    """Where the schema of one custom resource version lives (the tests look it up here)."""
    return SCHEMA_DIR / f"{group}_{kind.lower()}_{version}.json"


def _strip_descriptions(node: Any) -> Any:
    """The schema without `description` texts: they are most of the bytes and validate nothing."""
    if isinstance(node, dict):
        return {k: _strip_descriptions(v) for k, v in node.items()
                if not (k == "description" and isinstance(v, str))}
    if isinstance(node, list):
        return [_strip_descriptions(v) for v in node]
    return node


def crd_schemas(crd_file: Path) -> Iterator[tuple[str, str, str, dict]]:
    """(group, kind, version, openAPIV3Schema) of the stored version of the CRDs in a YAML file."""
    for doc in yaml.safe_load_all(crd_file.read_text(encoding="utf-8")):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc["spec"]
        for version in spec["versions"]:
            if version.get("storage") and "schema" in version:
                yield spec["group"], spec["names"]["kind"], version["name"], version["schema"]["openAPIV3Schema"]


def _go_crd_files(workdir: Path) -> Iterator[Path]:
    env_cache = workdir / "gomodcache"
    for module, files in GO_MODULES.items():
        out = subprocess.run(["go", "mod", "download", "-json", module], check=True, capture_output=True,
                             text=True, cwd=workdir, env=_go_env(env_cache)).stdout
        root = Path(json.loads(out)["Dir"])
        yield from (root / f for f in files)


def _go_env(cache: Path) -> dict[str, str]:
    import os

    return dict(os.environ, GOMODCACHE=str(cache), GOFLAGS="-mod=mod")


def _strimzi_crd_files(workdir: Path) -> Iterator[Path]:
    pom = workdir / "pom.xml"
    pom.write_text(f"""<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>crds</artifactId><version>1</version><dependencies>
  <dependency><groupId>io.strimzi</groupId><artifactId>api</artifactId><version>{STRIMZI_VERSION}</version></dependency>
  <dependency><groupId>io.strimzi</groupId><artifactId>crd-generator</artifactId><version>{STRIMZI_VERSION}</version></dependency>
  </dependencies></project>""", encoding="utf-8")
    subprocess.run(["mvn", "-q", "-B", "dependency:build-classpath", "-Dmdep.outputFile=cp.txt"],
                   check=True, cwd=workdir, capture_output=True)
    classpath = (workdir / "cp.txt").read_text(encoding="utf-8").strip()
    targets = {cls: workdir / f"{name}.yaml" for cls, name in STRIMZI_KINDS.items()}
    subprocess.run(["java", "-cp", classpath, "io.strimzi.crdgenerator.CrdGenerator", "--yaml",
                    "--crd-api-version", "v1", "--api-versions", "v1beta2", "--storage-version", "v1beta2",
                    *(f"{cls}={path}" for cls, path in targets.items())], check=True, capture_output=True)
    yield from targets.values()


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    SCHEMA_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for crd_file in [*_go_crd_files(workdir), *_strimzi_crd_files(workdir)]:
            for group, kind, version, schema in crd_schemas(crd_file):
                path = schema_path(group, kind, version)
                path.write_text(json.dumps(_strip_descriptions(schema), sort_keys=True, indent=1) + "\n",
                                encoding="utf-8")
                print(path.relative_to(SCHEMA_DIR.parent))


if __name__ == "__main__":
    main()
