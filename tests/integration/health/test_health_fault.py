"""Health under real outages: Elasticsearch or Kafka stopped with `deploy/local/stack`.

- With Elasticsearch down, the usage server keeps ingesting (Kafka only) and stays
  SERVING; only its reports capability turns NOT_SERVING.
- A server started while a dependency is down starts (no crash loop), answers
  NOT_SERVING and UNAVAILABLE for what needs it, and sets the dependency up (indices,
  topics) once it is back.
"""

from __future__ import annotations

import uuid

import grpc
import pytest

from collateral.v1 import content_pb2, content_pb2_grpc, usage_pb2, usage_pb2_grpc
from services.common import auth, config, grpc_server
from services.content import server as content_server
from services.usage import server as usage_server
from tests.conftest import stop_or_start
from tests.integration.health.conftest import (NOT_SERVING, SERVING, fresh, status, wait_serving,
                                               wait_until)

pytestmark = pytest.mark.fault

REPORTS = "collateral.v1.UsageService/reports"
INGEST = "collateral.v1.UsageService/ingest"
# Interval 0.3 s and probe deadline 1 s: a truthful status follows an outage within a few
# rounds; this bound leaves room for a loaded machine.
FEW_ROUNDS_S = 15
BACK_UP_S = 180


def record_event(address: str, settings: config.Settings) -> usage_pb2.RecordEventsResponse:
    event = usage_pb2.UsageEvent(event_id=f"fault-{uuid.uuid4().hex}", type=usage_pb2.USAGE_EVENT_TYPE_DOWNLOAD,
                                 asset_id="asset-fault", rep_id="rep-fault")
    with grpc_server.channel(address) as channel:
        return usage_pb2_grpc.UsageServiceStub(channel).RecordEvents(
            usage_pb2.RecordEventsRequest(events=[event]),
            metadata=auth.bearer_metadata(auth.mint(settings, "rep-fault", "rep")), timeout=30)


def top_assets(address: str, settings: config.Settings) -> usage_pb2.TopAssetsResponse:
    with grpc_server.channel(address) as channel:
        return usage_pb2_grpc.UsageServiceStub(channel).TopAssets(
            usage_pb2.TopAssetsRequest(), metadata=auth.bearer_metadata(auth.mint(settings, "mia", "marketer")),
            timeout=30)


def search(address: str, settings: config.Settings) -> content_pb2.SearchAssetsResponse:
    with grpc_server.channel(address) as channel:
        return content_pb2_grpc.ContentServiceStub(channel).SearchAssets(
            content_pb2.SearchAssetsRequest(query="pricing"),
            metadata=auth.bearer_metadata(auth.mint(settings, "rep-fault", "rep")), timeout=30)


def code_of(call) -> grpc.StatusCode | None:
    try:
        call()
    except grpc.RpcError as err:
        return err.code()
    return grpc.StatusCode.OK


def test_elasticsearch_down_keeps_usage_ingest_serving(health_env, serve):
    running = serve(usage_server.build_spec(health_env), health_env)
    wait_serving(running.address, REPORTS)
    stop_or_start("stop", "elasticsearch")
    try:
        wait_until(lambda: status(running.address, REPORTS) == NOT_SERVING, timeout_s=FEW_ROUNDS_S,
                   what="reports NOT_SERVING with Elasticsearch stopped")
        assert status(running.address) == SERVING  # the readiness probe keeps this replica
        assert status(running.address, INGEST) == SERVING
        assert len(record_event(running.address, health_env).event_ids) == 1
        assert code_of(lambda: top_assets(running.address, health_env)) == grpc.StatusCode.UNAVAILABLE
    finally:
        stop_or_start("start", "elasticsearch")
    wait_serving(running.address, REPORTS, timeout_s=BACK_UP_S)
    top_assets(running.address, health_env)


def test_servers_started_while_elasticsearch_is_down_wait_for_it(health_env, serve):
    settings = fresh(health_env, "esboot")  # no index exists yet: set-up has to happen after the outage
    stop_or_start("stop", "elasticsearch")
    try:
        content = serve(content_server.build_spec(settings), settings)
        usage = serve(usage_server.build_spec(settings), settings)
        assert status(content.address) == NOT_SERVING
        assert code_of(lambda: search(content.address, settings)) == grpc.StatusCode.UNAVAILABLE
        wait_serving(usage.address, timeout_s=FEW_ROUNDS_S)  # ingest needs Kafka only
        assert status(usage.address, REPORTS) == NOT_SERVING
        assert code_of(lambda: top_assets(usage.address, settings)) == grpc.StatusCode.UNAVAILABLE
    finally:
        stop_or_start("start", "elasticsearch")
    wait_serving(content.address, timeout_s=BACK_UP_S)
    wait_serving(usage.address, REPORTS, timeout_s=BACK_UP_S)
    assert search(content.address, settings).total_size == 0  # the index was created, and is empty
    top_assets(usage.address, settings)


def test_a_server_started_while_kafka_is_down_waits_for_it(health_env, serve):
    settings = fresh(health_env, "kboot")  # no topic exists yet: set-up has to happen after the outage
    stop_or_start("stop", "kafka")
    try:
        usage = serve(usage_server.build_spec(settings), settings)
        assert status(usage.address) == NOT_SERVING
        assert code_of(lambda: record_event(usage.address, settings)) == grpc.StatusCode.UNAVAILABLE
    finally:
        stop_or_start("start", "kafka")
    wait_serving(usage.address, timeout_s=BACK_UP_S)
    assert len(record_event(usage.address, settings).event_ids) == 1
