"""A dependency that accepts connections and never answers must turn the status
NOT_SERVING within a few probe deadlines, not after the clients' retries give up.

Elasticsearch is reached through a proxy that starts hanging mid-test; Kafka and S3 are
the real servers.
"""

from __future__ import annotations

import dataclasses
import uuid
from urllib.parse import urlparse


from collateral.v1 import usage_pb2, usage_pb2_grpc
from services.common import auth, config, grpc_server
from services.content import server as content_server
from services.usage import server as usage_server
from tests.integration.health.conftest import NOT_SERVING, SERVING, status, wait_serving, wait_until

# Probe deadline 1 s, interval 0.3 s: a truthful status changes within a few seconds. The
# clients' own retries (3 x 10 s for Elasticsearch) would take half a minute.
PROMPTLY_S = 15


def _through_proxy(settings: config.Settings, hanging_proxy) -> tuple[config.Settings, object]:
    es = urlparse(settings.es_hosts[0])
    proxy = hanging_proxy(es.hostname or "127.0.0.1", es.port or 9200)
    return dataclasses.replace(settings, es_url=f"http://127.0.0.1:{proxy.port}"), proxy


def test_hung_elasticsearch_turns_the_content_server_not_serving_promptly(health_env, serve, hanging_proxy):
    settings, proxy = _through_proxy(health_env, hanging_proxy)
    running = serve(content_server.build_spec(settings), settings)
    wait_serving(running.address)
    proxy.hang()
    wait_until(lambda: status(running.address) == NOT_SERVING, timeout_s=PROMPTLY_S,
               what="content NOT_SERVING while Elasticsearch hangs")
    proxy.resume()
    wait_serving(running.address, timeout_s=60)


def test_hung_elasticsearch_stops_usage_reports_but_not_ingest(health_env, serve, hanging_proxy):
    settings, proxy = _through_proxy(health_env, hanging_proxy)
    running = serve(usage_server.build_spec(settings), settings)
    wait_serving(running.address, "collateral.v1.UsageService/reports")
    proxy.hang()
    wait_until(lambda: status(running.address, "collateral.v1.UsageService/reports") == NOT_SERVING,
               timeout_s=PROMPTLY_S, what="usage reports NOT_SERVING while Elasticsearch hangs")
    assert status(running.address) == SERVING
    assert status(running.address, "collateral.v1.UsageService/ingest") == SERVING
    with grpc_server.channel(running.address) as channel:
        event = usage_pb2.UsageEvent(event_id=f"hung-{uuid.uuid4().hex}", type=usage_pb2.USAGE_EVENT_TYPE_VIEW,
                                     asset_id="asset-hung", rep_id="rep-hung")
        reply = usage_pb2_grpc.UsageServiceStub(channel).RecordEvents(
            usage_pb2.RecordEventsRequest(events=[event]),
            metadata=auth.bearer_metadata(auth.mint(settings, "rep-hung", "rep")), timeout=30)
    assert list(reply.event_ids) == [event.event_id]
    proxy.resume()
    wait_serving(running.address, "collateral.v1.UsageService/reports", timeout_s=60)
