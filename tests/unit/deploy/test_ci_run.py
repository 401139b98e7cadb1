"""What .ci/run says about the local stack's exporters is what deploy/local/stack does.

The stack runs no Kafka exporter (the broker serves its own metrics through the JMX exporter
javaagent: tests/unit/deploy/test_local_kafka_metrics.py), so CI installs none.
"""

from __future__ import annotations

from pathlib import Path

CI_RUN = Path(__file__).resolve().parents[3] / ".ci" / "run"


def test_ci_run_describes_how_the_local_stack_reads_kafka_metrics() -> None:
    comments = [line for line in CI_RUN.read_text(encoding="utf-8").splitlines() if line.lstrip().startswith("#")]
    kafka = [line for line in comments if "Kafka exporter" in line]
    assert kafka, "no comment in .ci/run says where the local stack's Kafka metrics come from"
    assert not [line for line in kafka if "go-install" in line or "go install" in line], kafka
    assert any("JMX exporter javaagent" in line for line in kafka), kafka
