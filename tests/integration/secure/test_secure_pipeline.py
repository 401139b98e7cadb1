"""The services against the secured stack, end to end, every process with the secured settings
(gRPC on TLS, feedback with mutual TLS; the consumers each on another Kafka mechanism and, some,
the Elasticsearch API key): health SERVING on every capability; usage events through gRPC ->
Kafka (SASL_SSL) -> the usage consumer process -> Elasticsearch (HTTPS, authenticated) -> a
report; an asset uploaded to S3 (HTTPS, credential chain), indexed, found by search and
downloaded. The closed loop: the asset shared on an opportunity and opened by the customer, the
deal won through RecordDealOutcomes, the feedback consumer process joining both into the win-rate
reports, the notifications process telling the rep, the win-rate and usage signals reaching the
catalog through the content signals consumer, every change audited in the secured Elasticsearch.
Then a wrong password: reported down, named in the log, no crash and no plaintext fallback."""

from __future__ import annotations

import hashlib
import logging
import ssl
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import ModuleType
from typing import Callable, Iterator

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc

from collateral.v1 import (audit_pb2, audit_pb2_grpc, content_pb2, content_pb2_grpc, feedback_pb2, feedback_pb2_grpc,
                           usage_pb2, usage_pb2_grpc)
from services.common import config, es, grpc_server
from services.content import server as content_server
from services.feedback import server as feedback_server
from services.usage import server as usage_server, store as usage_store
from tests.conftest import wait_until
from tests.integration.content.content_helpers import PDF, make_pdf
from tests.integration.secure.conftest import Process, secured, wait_serving

pytestmark = [pytest.mark.integration, pytest.mark.secure]

USAGE = "collateral.v1.UsageService"
CONTENT = "collateral.v1.ContentService"
FEEDBACK = "collateral.v1.FeedbackService"
BROWSER = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131 "
           "Safari/537.36")


def serve(start_service: Callable, server: ModuleType, settings: config.Settings, full_name: str) -> str:
    """The server built from `settings` and run with them (TLS, audit log); its address once it and
    every capability are SERVING."""
    running = start_service(server.build_spec(settings), settings)
    wait_serving(running.address, settings, ["", full_name] + [f"{full_name}/{c}" for c in server.CAPABILITIES])
    return running.address


@pytest.fixture(scope="module")
def usage_address(secure_settings: config.Settings, start_service: Callable) -> str:
    return serve(start_service, usage_server, secure_settings, USAGE)


@pytest.fixture(scope="module")
def content_address(secure_settings: config.Settings, start_service: Callable) -> str:
    return serve(start_service, content_server, secure_settings, CONTENT)


@pytest.fixture(scope="module")
def feedback_settings(secure_settings: config.Settings, secure_stack: dict) -> config.Settings:
    """Mutual TLS: the feedback server requires a client certificate of the stack's CA, its clients present one."""
    return secured(secure_settings, secure_stack, "grpc_mutual_tls")


@pytest.fixture(scope="module")
def feedback_address(feedback_settings: config.Settings, start_service: Callable) -> str:
    return serve(start_service, feedback_server, feedback_settings, FEEDBACK)


@pytest.fixture(scope="module")
def usage_consumer(secure_settings: config.Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """`python -m services.usage.consumer`; it also publishes usage signals every 2 s."""
    log_path = tmp_path_factory.mktemp("secure-usage") / "consumer.log"
    consumer = Process("services.usage.consumer", secure_settings, log_path, COLLATERAL_USAGE_SIGNALS_INTERVAL_S="2")
    yield consumer
    consumer.stop()


@pytest.fixture(scope="module")
def downstream(secure_settings: config.Settings, secure_stack: dict, usage_consumer: Process,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Process]]:
    """The processes after the usage consumer, each reaching Kafka and Elasticsearch another way:
    the feedback consumer (router, join and rollup stages; win-rate signals every 2 s), the
    notifications process and the content signals consumer."""
    folder = tmp_path_factory.mktemp("secure-downstream")
    started: dict[str, Process] = {}
    try:
        for module, ways_in, extra in (
                ("services.feedback.consumer", ("es_api_key", "kafka_scram_sha_256"),
                 {"COLLATERAL_FEEDBACK_SIGNALS_INTERVAL_S": "2", "COLLATERAL_FEEDBACK_MARKOV_INTERVAL_S": "0"}),
                ("services.usage.notifications", ("es_api_key", "kafka_client_certificate"),
                 {"COLLATERAL_USAGE_NOTIFY_DIGEST_INTERVAL_S": "0"}),
                ("services.content.signals_consumer", ("kafka_plain",), {})):
            started[module] = Process(module, secured(secure_settings, secure_stack, *ways_in),
                                      folder / f"{module.split('.', 1)[1].replace('.', '-')}.log", **extra)
        for process in started.values():
            process.wait_healthy()
        yield started
    finally:
        for process in started.values():
            process.stop()


def now(delta: timedelta = timedelta()) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.now(timezone.utc) + delta)
    return stamp


def test_usage_events_flow_through_kafka_and_the_consumer_into_elasticsearch(
        secure_settings, usage_address, usage_consumer, call_as):
    asset, rep = f"a-{uuid.uuid4().hex[:10]}", f"rep-{uuid.uuid4().hex[:6]}"
    events = [usage_pb2.UsageEvent(type=usage_pb2.USAGE_EVENT_TYPE_DOWNLOAD, asset_id=asset, rep_id=rep,
                                   event_id=f"{asset}-{i}", occurred_at=now()) for i in range(3)]
    with grpc_server.channel(usage_address, secure_settings) as channel:
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
    with grpc_server.channel(content_address, secure_settings) as channel:
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


@dataclass(frozen=True)
class Loop:
    """What the closed loop did: an asset published, shared on an opportunity, opened by the customer,
    the deal won."""
    asset: content_pb2.Asset
    rep: str
    opportunity: str
    link: usage_pb2.ShareLink


@pytest.fixture(scope="module")
def closed_loop(secure_settings, feedback_settings, content_address, usage_address, feedback_address, usage_consumer,
                downstream, call_as) -> Loop:
    run = uuid.uuid4().hex[:8]
    rep, opportunity, account = f"rep-{run}", f"opp-{run}", f"acct-{run}"
    with grpc_server.channel(content_address, secure_settings) as channel:
        content = content_pb2_grpc.ContentServiceStub(channel)
        asset = content.CreateAsset(content_pb2.CreateAssetRequest(
            asset=content_pb2.Asset(title=f"Closed loop {run}", type=content_pb2.ASSET_TYPE_DECK),
            file_content=make_pdf(f"closed loop {run}"), file_name="loop.pdf", content_type=PDF),
            metadata=call_as("marketer")).asset
        content.PublishAsset(content_pb2.PublishAssetRequest(asset_id=asset.asset_id), metadata=call_as("marketer"))
    with grpc_server.channel(usage_address, secure_settings) as channel:
        usage = usage_pb2_grpc.UsageServiceStub(channel)
        # Shareable once the usage consumer has the published asset in its catalog view (catalog.v1).
        link = wait_until(lambda: usage.CreateShareLink(usage_pb2.CreateShareLinkRequest(
            asset_id=asset.asset_id, opportunity_id=opportunity, account_id=account), metadata=call_as("rep", rep),
            timeout=10).share, timeout_s=120, what="a share link of the published asset")
        usage.RecordEvents(usage_pb2.RecordEventsRequest(events=[
            usage_pb2.UsageEvent(type=usage_pb2.USAGE_EVENT_TYPE_SHARE, event_id=f"touch-{run}",
                                 asset_id=asset.asset_id, rep_id=rep, opportunity_id=opportunity, account_id=account,
                                 channel="email", occurred_at=now(-timedelta(days=3)))]), metadata=call_as("rep", rep))
        opened = Timestamp()  # a minute after the link was made: an instant open is a mail scanner's
        opened.FromDatetime(link.created_at.ToDatetime(tzinfo=timezone.utc) + timedelta(minutes=1))
        usage.RecordEvents(usage_pb2.RecordEventsRequest(events=[usage_pb2.UsageEvent(
            type=usage_pb2.USAGE_EVENT_TYPE_CUSTOMER_OPEN, event_id=f"open-{run}", asset_id=asset.asset_id, rep_id=rep,
            share_id=link.share_id, occurred_at=opened, user_agent=BROWSER, ip="203.0.113.7")]),
            metadata=call_as("service", "portal"))
    with grpc_server.channel(feedback_address, feedback_settings) as channel:
        feedback_pb2_grpc.FeedbackServiceStub(channel).RecordDealOutcomes(feedback_pb2.RecordDealOutcomesRequest(
            outcomes=[feedback_pb2.DealOutcome(
                opportunity_id=opportunity, account_id=account, owner_rep_id=rep, stage=feedback_pb2.DEAL_STAGE_WON,
                amount=42_000, currency="USD", created_at=now(-timedelta(days=20)), closed_at=now(-timedelta(days=1)),
                updated_at=now(-timedelta(hours=1)))]), metadata=call_as("service", "crm"), timeout=30)
    return Loop(asset, rep, opportunity, link)


def test_the_won_deal_and_the_usage_join_into_the_win_rates(closed_loop, feedback_settings, feedback_address, call_as):
    """deals.v1 and usage.classified.v1 through the feedback consumer's router, join and rollup stages."""
    asset = closed_loop.asset.asset_id
    with grpc_server.channel(feedback_address, feedback_settings) as channel:
        stub = feedback_pb2_grpc.FeedbackServiceStub(channel)

        def rate() -> feedback_pb2.AssetWinRate | None:
            [row] = stub.GetWinRates(feedback_pb2.GetWinRatesRequest(asset_ids=[asset]),
                                     metadata=call_as("marketer"), timeout=10).rates
            return row if row.won == 1 and row.title else None

        row = wait_until(rate, timeout_s=180, what="the won deal touched by the asset in GetWinRates")
        assert (row.deals_touched, row.won, row.lost, row.win_rate) == (1, 1, 0, 1.0)
        assert row.title == closed_loop.asset.title  # catalog.v1 reached the feedback consumer too
        listed = stub.ListAssetWinRates(feedback_pb2.ListAssetWinRatesRequest(
            order_by=feedback_pb2.WIN_RATE_ORDER_DEALS_TOUCHED, page_size=100), metadata=call_as("marketer"),
            timeout=10)
        assert [(r.won, r.influenced_revenue) for r in listed.rates if r.asset_id == asset] == [(1, 42_000)]


def test_the_customer_open_notifies_the_rep(closed_loop, secure_settings, usage_address, call_as):
    """usage.classified.v1 through the notifications process into the rep's portal notifications."""
    with grpc_server.channel(usage_address, secure_settings) as channel:
        stub = usage_pb2_grpc.UsageServiceStub(channel)
        [notification] = wait_until(
            lambda: stub.ListNotifications(usage_pb2.ListNotificationsRequest(page_size=10),
                                           metadata=call_as("rep", closed_loop.rep)).notifications,
            timeout_s=180, what="the rep's notification of the customer open")
    assert notification.kind == usage_pb2.NOTIFICATION_KIND_FIRST_OPEN
    assert (notification.share_id, notification.asset_id, notification.opportunity_id) == (
        closed_loop.link.share_id, closed_loop.asset.asset_id, closed_loop.opportunity)


def test_win_rate_and_usage_signals_reach_the_catalog(closed_loop, secure_settings, content_address, call_as):
    """signals.v1 from the feedback and usage consumers through the content signals consumer onto the asset."""
    with grpc_server.channel(content_address, secure_settings) as channel:
        stub = content_pb2_grpc.ContentServiceStub(channel)

        def signals() -> content_pb2.AssetSignals | None:
            found = stub.GetAsset(content_pb2.GetAssetRequest(asset_id=closed_loop.asset.asset_id),
                                  metadata=call_as("rep"), timeout=10).asset.signals
            return found if found.deals_closed == 1 and found.usage_score > 0 else None

        found = wait_until(signals, timeout_s=180, what="win-rate and usage signals on the asset")
    assert found.win_rate == 1.0 and 0 < found.win_rate_lower < 1


def test_every_change_is_audited_in_the_secured_elasticsearch(closed_loop, settings, secure_settings, content_address,
                                                               call_as):
    """The servers write their audit log with their own settings: the secured cluster, never the session's."""
    asset = closed_loop.asset.asset_id
    with grpc_server.channel(content_address, secure_settings) as channel:
        records = audit_pb2_grpc.AuditServiceStub(channel).ListAuditRecords(audit_pb2.ListAuditRecordsRequest(
            target_id=asset), metadata=call_as("admin"), timeout=10).records
    assert {r.action for r in records} >= {f"{CONTENT}/CreateAsset", f"{CONTENT}/PublishAsset"}
    secured_es, plaintext_es = es.client(secure_settings), es.client(settings)
    try:
        query = {"term": {"target_id": asset}}
        assert secured_es.count(index=secure_settings.index("audit"), query=query)["count"] >= 2
        assert plaintext_es.count(index=f"{settings.namespace}*", query=query, ignore_unavailable=True,
                                  allow_no_indices=True)["count"] == 0
    finally:
        secured_es.close()
        plaintext_es.close()


def test_feedback_refuses_a_client_without_a_certificate(secure_settings, feedback_address, call_as):
    with grpc_server.channel(feedback_address, secure_settings) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            feedback_pb2_grpc.FeedbackServiceStub(channel).GetWinRates(
                feedback_pb2.GetWinRatesRequest(asset_ids=["a"]), metadata=call_as("marketer"), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_wrong_kafka_password_is_reported_down_and_named(secure_settings, secure_stack, start_service, call_as,
                                                           caplog):
    """The server answers NOT_SERVING and UNAVAILABLE (retry), and its log names what was tried."""
    wrong = secured(secure_settings, secure_stack, COLLATERAL_KAFKA_SASL_PASSWORD="not-the-password")
    caplog.set_level(logging.WARNING)
    running = start_service(usage_server.build_spec(wrong), wrong)
    try:
        _check_reported_down(running, wrong, caplog, call_as)
    finally:
        running.stop(grace=0.5)  # its Kafka clients retry a refused login until stopped
    assert not any("not-the-password" in r.getMessage() + str(r.__dict__) for r in caplog.records)


def _check_reported_down(running, settings, caplog, call_as) -> None:
    with grpc_server.channel(running.address, settings) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        wait_serving(running.address, settings, [f"{USAGE}/reports"])  # Elasticsearch is fine
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
    consumer = Process("services.usage.consumer",
                       secured(secure_settings, secure_stack, COLLATERAL_KAFKA_SASL_PASSWORD="not-the-password"),
                       tmp_path / "consumer.log", COLLATERAL_USAGE_SIGNALS_INTERVAL_S="0")
    try:
        wait_until(lambda: "Kafka unavailable, retrying" in consumer.log(), timeout_s=180,
                   what="a logged retry of the consumer's Kafka connection")
        assert consumer.proc.poll() is None, consumer.log()[-2000:]
        assert "SASL SCRAM-SHA-512 as user 'collateral'" in consumer.log()
        assert "not-the-password" not in consumer.log()
    finally:
        consumer.stop()
