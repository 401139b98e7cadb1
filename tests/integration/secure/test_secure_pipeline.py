"""The services against the secured stack, end to end: health SERVING on every capability,
usage events through gRPC -> Kafka (SASL_SSL) -> the usage consumer process -> Elasticsearch
(HTTPS, authenticated) -> a report; an asset uploaded to S3 (HTTPS, credential chain), indexed,
found by search and downloaded. Then a wrong password: reported down, named in the log, no
crash and no plaintext fallback."""

from __future__ import annotations

import hashlib
import logging
import ssl
import subprocess
import sys
import urllib.request
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc

from collateral.v1 import content_pb2, content_pb2_grpc, usage_pb2, usage_pb2_grpc
from scripts.local_services import free_port
from services.common import config, es, grpc_server
from services.content.server import build_spec as content_spec
from services.usage import store as usage_store
from services.usage.server import build_spec as usage_spec
from tests.conftest import process_env, wait_serving, wait_until
from tests.integration.content.content_helpers import PDF, make_pdf
from tests.integration.secure.conftest import secured

pytestmark = [pytest.mark.integration, pytest.mark.secure]

ROOT = Path(__file__).resolve().parents[3]
USAGE = "collateral.v1.UsageService"
CONTENT = "collateral.v1.ContentService"


def serving_everywhere(address: str, names: list[str]) -> None:
    for name in names:
        wait_serving(address, name, timeout_s=90)


@pytest.fixture(scope="module")
def usage_address(secure_settings: config.Settings, start_service: Callable) -> str:
    running = start_service(usage_spec(secure_settings))
    serving_everywhere(running.address, ["", USAGE] + [f"{USAGE}/{c}" for c in ("ingest", "shares", "reports")])
    return running.address


@pytest.fixture(scope="module")
def content_address(secure_settings: config.Settings, start_service: Callable) -> str:
    running = start_service(content_spec(secure_settings))
    serving_everywhere(running.address, ["", CONTENT] + [f"{CONTENT}/{c}" for c in
                                                         ("search", "vocabularies", "catalog", "files")])
    return running.address


class Consumer:
    """The usage consumer as its own process (`python -m services.usage.consumer`)."""

    def __init__(self, settings: config.Settings, log_path: Path) -> None:
        self.log_path = log_path
        env = process_env(settings, COLLATERAL_METRICS_PORT=str(free_port()), COLLATERAL_USAGE_SIGNALS_INTERVAL_S="0",
                          COLLATERAL_LOG_FORMAT="text", PYTHONUNBUFFERED="1")
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "services.usage.consumer"], cwd=ROOT, env=env,
                                         stdout=log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture(scope="module")
def usage_consumer(secure_settings: config.Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Consumer]:
    consumer = Consumer(secure_settings, tmp_path_factory.mktemp("secure-usage") / "consumer.log")
    yield consumer
    consumer.stop()


def now() -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.now(timezone.utc))
    return stamp


def test_usage_events_flow_through_kafka_and_the_consumer_into_elasticsearch(
        secure_settings, usage_address, usage_consumer, call_as):
    asset, rep = f"a-{uuid.uuid4().hex[:10]}", f"rep-{uuid.uuid4().hex[:6]}"
    events = [usage_pb2.UsageEvent(type=usage_pb2.USAGE_EVENT_TYPE_DOWNLOAD, asset_id=asset, rep_id=rep,
                                   event_id=f"{asset}-{i}", occurred_at=now()) for i in range(3)]
    with grpc_server.channel(usage_address) as channel:
        stub = usage_pb2_grpc.UsageServiceStub(channel)
        stub.RecordEvents(usage_pb2.RecordEventsRequest(events=events), metadata=call_as("rep", rep))
        client, names = es.client(secure_settings), usage_store.Names.of(secure_settings)

        def stored() -> int:
            client.indices.refresh(index=names.events, ignore_unavailable=True)
            return client.count(index=names.events, query={"term": {"asset_id": asset}}, ignore_unavailable=True,
                                allow_no_indices=True)["count"]

        wait_until(lambda: stored() == 3, timeout_s=120, what="3 events in the usage index through the consumer")
        report = wait_until(lambda: (r := stub.GetAssetUsage(usage_pb2.GetAssetUsageRequest(asset_id=asset),
                                                              metadata=call_as("marketer"))).totals.total_events == 3
                            and r, what="the usage report of the asset")
    assert report.totals.unique_reps == 1
    assert usage_consumer.proc.poll() is None


def test_an_asset_is_uploaded_indexed_found_and_downloaded(secure_settings, content_address, call_as):
    word = "w" + uuid.uuid4().hex[:10]
    pdf = make_pdf(f"secured {word}")
    with grpc_server.channel(content_address) as channel:
        stub = content_pb2_grpc.ContentServiceStub(channel)
        marketer = call_as("marketer")
        asset = stub.CreateAsset(content_pb2.CreateAssetRequest(
            asset=content_pb2.Asset(title=f"Secured {word}", type=content_pb2.ASSET_TYPE_DECK),
            file_content=pdf, file_name="doc.pdf", content_type=PDF), metadata=marketer).asset
        stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=asset.asset_id), metadata=marketer)
        found = wait_until(lambda: [h.asset.asset_id for h in stub.SearchAssets(
            content_pb2.SearchAssetsRequest(query=word), metadata=call_as("rep")).hits], what="the asset by search")
        assert found == [asset.asset_id]
        url = stub.GetDownloadUrl(content_pb2.GetDownloadUrlRequest(asset_id=asset.asset_id),
                                  metadata=call_as("rep")).url
    assert url.startswith("https://")
    with urllib.request.urlopen(url, timeout=10, context=ssl.create_default_context(
            cafile=secure_settings.s3_ca_bundle)) as response:
        assert hashlib.sha256(response.read()).hexdigest() == hashlib.sha256(pdf).hexdigest()


def test_a_wrong_kafka_password_is_reported_down_and_named(secure_settings, secure_stack, start_service, call_as,
                                                           caplog):
    """The server answers NOT_SERVING and UNAVAILABLE (retry), and its log names what was tried."""
    wrong = secured(secure_settings, secure_stack, COLLATERAL_KAFKA_SASL_PASSWORD="not-the-password")
    caplog.set_level(logging.WARNING)
    running = start_service(usage_spec(wrong))
    try:
        _check_reported_down(running, caplog, call_as)
    finally:
        running.stop(grace=0.5)  # its Kafka clients retry a refused login until stopped
    assert not any("not-the-password" in r.getMessage() + str(r.__dict__) for r in caplog.records)


def _check_reported_down(running, caplog, call_as) -> None:
    with grpc_server.channel(running.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        wait_serving(running.address, f"{USAGE}/reports", timeout_s=90)  # Elasticsearch is fine
        wait_until(lambda: any("SASL SCRAM-SHA-512 as user 'collateral'" in r.getMessage() + str(r.__dict__)
                               for r in caplog.records), what="a log line naming the rejected SASL login")
        status = health.Check(health_pb2.HealthCheckRequest(service=f"{USAGE}/ingest"), timeout=5).status
        assert status == health_pb2.HealthCheckResponse.NOT_SERVING
        stub = usage_pb2_grpc.UsageServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.RecordEvents(usage_pb2.RecordEventsRequest(events=[usage_pb2.UsageEvent(
                type=usage_pb2.USAGE_EVENT_TYPE_VIEW, asset_id="a", rep_id="r", event_id=uuid.uuid4().hex,
                occurred_at=now())]), metadata=call_as("rep", "r"), timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_consumer_with_a_wrong_password_waits_and_says_why(secure_settings, secure_stack, tmp_path):
    """No exit and restart loop: the process keeps retrying, each attempt logged with the cause."""
    consumer = Consumer(secured(secure_settings, secure_stack, COLLATERAL_KAFKA_SASL_PASSWORD="not-the-password"),
                        tmp_path / "consumer.log")
    try:
        wait_until(lambda: "Kafka unavailable, retrying" in consumer.log(), timeout_s=180,
                   what="a logged retry of the consumer's Kafka connection")
        assert consumer.proc.poll() is None, consumer.log()[-2000:]
        assert "SASL SCRAM-SHA-512 as user 'collateral'" in consumer.log()
        assert "not-the-password" not in consumer.log()
    finally:
        consumer.stop()
