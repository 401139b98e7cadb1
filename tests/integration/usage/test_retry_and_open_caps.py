"""Retryable errors when Kafka is unreachable, share links only for catalog assets, and
share-link open floods counted within the caps (portal and consumer)."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import usage_pb2, usage_pb2_grpc
from services.common import grpc_server
from services.portal.app import create_app
from services.usage import bots, model, shares
from services.usage import server as usage_server_module
from scripts.local_services import free_port
from tests.conftest import wait_serving
from tests.integration.usage import catalog_view
from tests.integration.usage.conftest import count_events, rollup_docs, wait_until

pytestmark = pytest.mark.integration

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
T = usage_pb2


def ts(when: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(when)
    return out


@pytest.fixture(scope="module")
def unreachable_kafka_stub(usage_env, start_service: Callable) -> Any:
    """A usage server whose Kafka bootstrap is a closed port (the shared broker keeps running)."""
    settings = dataclasses.replace(usage_env, kafka_bootstrap=f"127.0.0.1:{free_port()}")
    servicer = usage_server_module.UsageServicer(settings)
    spec = grpc_server.ServiceSpec(
        name="usage", full_name="collateral.v1.UsageService",
        register=lambda server: usage_pb2_grpc.add_UsageServiceServicer_to_server(servicer, server),
        access=usage_server_module.ACCESS, default_port=0, default_metrics_port=0)
    running = start_service(spec)
    wait_serving(running.address)
    channel = grpc_server.channel(running.address)
    yield usage_pb2_grpc.UsageServiceStub(channel)
    channel.close()


def test_record_events_answers_unavailable_before_the_deadline_when_kafka_is_unreachable(
        unreachable_kafka_stub, call_as, uid):
    event = T.UsageEvent(type=T.USAGE_EVENT_TYPE_DOWNLOAD, asset_id=f"a-{uid}", rep_id=f"rep-{uid}",
                         event_id=f"evt-{uid}")
    with pytest.raises(grpc.RpcError) as err:
        unreachable_kafka_stub.RecordEvents(T.RecordEventsRequest(events=[event]),
                                            metadata=call_as("service", "tracker"), timeout=10)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE, err.value.details()
    assert "same event_id" in err.value.details(), "the client is told that retrying is safe"


def test_create_share_link_answers_unavailable_and_keeps_no_link_when_kafka_is_unreachable(
        unreachable_kafka_stub, usage_env, raw_producer, es, names, consumer, call_as, uid):
    asset = f"a-{uid}"
    catalog_view.publish(usage_env, raw_producer, es, names, {asset: "published"})
    with pytest.raises(grpc.RpcError) as err:
        unreachable_kafka_stub.CreateShareLink(T.CreateShareLinkRequest(asset_id=asset, account_id="acct"),
                                               metadata=call_as("rep", f"rep-{uid}"), timeout=10)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE, err.value.details()
    es.indices.refresh(index=names.shares)
    assert es.count(index=names.shares, query={"term": {"asset_id": asset}})["count"] == 0


def test_share_links_only_for_published_assets_of_the_catalog(stub, consumer, usage_env, raw_producer, es, names,
                                                              call_as, uid):
    rep = call_as("rep", f"rep-{uid}")
    missing, draft, retired, live = (f"a-{uid}-{k}" for k in ("missing", "draft", "retired", "live"))
    catalog_view.publish(usage_env, raw_producer, es, names, {draft: "draft", retired: "retired", live: "published"})

    with pytest.raises(grpc.RpcError) as err:
        stub.CreateShareLink(T.CreateShareLinkRequest(asset_id=missing, account_id="acct"), metadata=rep)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    for asset in (draft, retired):
        with pytest.raises(grpc.RpcError) as err:
            stub.CreateShareLink(T.CreateShareLinkRequest(asset_id=asset, account_id="acct"), metadata=rep)
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    created = stub.CreateShareLink(T.CreateShareLinkRequest(asset_id=live, account_id="acct"), metadata=rep)
    assert created.share.asset_id == live

    # A marker event keyed like a share event of `missing` lands after any such event would
    # have (same partition): once it is stored, a share event would be stored too.
    stub.RecordEvents(T.RecordEventsRequest(events=[T.UsageEvent(
        type=T.USAGE_EVENT_TYPE_VIEW, asset_id=missing, rep_id=f"rep-{uid}", event_id=f"marker-{uid}")]), metadata=rep)
    wait_until(lambda: count_events(es, names, {"term": {"event_id": f"marker-{uid}"}}) == 1, what="marker stored")
    assert count_events(es, names, {"bool": {"filter": [{"terms": {"asset_id": [missing, draft, retired]}},
                                                        {"term": {"type": "share"}}]}}) == 0
    es.indices.refresh(index=names.shares)
    assert es.count(index=names.shares, query={"terms": {"asset_id": [missing, draft, retired]}})["count"] == 0


def _share_created_earlier(es, names, token: str, created: datetime) -> None:
    """Backdate a link, so its opens are not near-instant (which only scanners produce)."""
    es.update(index=names.shares, id=shares.token_hash(token), doc={"created_at": model.iso(created)},
              refresh="wait_for")


def _share_stats(stub, call_as, rep: str, share_id: str) -> Any:
    listed = stub.ListShareLinks(T.ListShareLinksRequest(page_size=100), metadata=call_as("rep", rep))
    return next(s for s in listed.shares if s.share_id == share_id).stats


def _opens(es, names, share_id: str, **extra: Any) -> int:
    filters = [{"term": {"share_id": share_id}}, {"term": {"type": "customer_open"}}]
    filters += [{"term": {k: v}} for k, v in extra.items()]
    return count_events(es, names, {"bool": {"filter": filters}})


def _asset_opens(stub, call_as, asset: str) -> int:
    return stub.GetAssetUsage(T.GetAssetUsageRequest(asset_id=asset), metadata=call_as("marketer")).totals.customer_opens


def test_open_beacons_with_fresh_visits_count_within_the_caps(stub, usage_server, consumer, usage_env, raw_producer,
                                                             es, names, call_as, uid):
    rep, asset = f"rep-{uid}", f"a-{uid}"
    catalog_view.publish(usage_env, raw_producer, es, names, {asset: "published"})
    created = stub.CreateShareLink(T.CreateShareLinkRequest(asset_id=asset, account_id="acct"),
                                   metadata=call_as("rep", rep))
    _share_created_earlier(es, names, created.token, datetime.now(timezone.utc) - timedelta(hours=1))
    portal = create_app(dataclasses.replace(usage_env, usage_addr=usage_server)).test_client()
    url = f"/s/{created.token}/beacon"
    headers = {"User-Agent": CHROME}
    client = {"REMOTE_ADDR": "198.51.100.20"}

    visits = [secrets.token_hex(16) for _ in range(200)]
    codes = [portal.post(url, json={"kind": "open", "visit": v}, headers=headers, environ_base=client).status_code
             for v in visits]
    per_client = usage_env.usage_share_opens_per_client_day
    assert codes[:per_client] == [204] * per_client and set(codes[per_client:]) == {429}
    for _ in range(5):  # the same visit again: still one open
        assert portal.post(url, json={"kind": "open", "visit": visits[0]}, headers=headers,
                           environ_base=client).status_code == 204

    share_id = created.share.share_id
    wait_until(lambda: _opens(es, names, share_id) == per_client, what="admitted opens stored")
    assert _share_stats(stub, call_as, rep, share_id).customer_opens == per_client
    assert _asset_opens(stub, call_as, asset) == per_client


def test_consumer_caps_opens_per_client_and_per_link_whatever_the_arrival_order(
        stub, consumer, usage_env, raw_producer, es, names, call_as, uid):
    """Opens recorded directly (several portal processes, each admitting its own share)."""
    rep, asset = f"rep-{uid}", f"a-{uid}"
    catalog_view.publish(usage_env, raw_producer, es, names, {asset: "published"})
    created = stub.CreateShareLink(T.CreateShareLinkRequest(asset_id=asset, account_id="acct"),
                                   metadata=call_as("rep", rep))
    share = created.share
    now = datetime.now(timezone.utc)
    base = (now - timedelta(hours=2)).replace(hour=0, minute=1, second=0, microsecond=0)  # one UTC day, in the past
    _share_created_earlier(es, names, created.token, base - timedelta(hours=1))
    portal = call_as("service", "portal")

    def open_event(n: str, at: datetime, ip: str) -> usage_pb2.UsageEvent:
        return T.UsageEvent(type=T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, asset_id=asset, rep_id=rep,
                            share_id=share.share_id, event_id=f"{share.share_id}-{n}-open", occurred_at=ts(at),
                            user_agent=CHROME, ip=ip)

    one_client = [open_event(f"one{i}", base + timedelta(seconds=60, milliseconds=i), "203.0.113.1") for i in range(30)]
    many = [open_event(f"many{i}", base + timedelta(seconds=120 + i), f"198.18.{i // 200}.{i % 200}")
            for i in range(120)]
    stub.RecordEvents(T.RecordEventsRequest(events=one_client + many), metadata=portal)
    wait_until(lambda: _opens(es, names, share.share_id) == 150, what="first opens stored")

    per_client = usage_env.usage_share_opens_per_client_day
    per_link = usage_env.usage_share_opens_per_link_day
    assert _opens(es, names, share.share_id, is_bot=False) == per_link
    assert _opens(es, names, share.share_id, bot_reason=bots.FLOOD_REASON) == 150 - per_link
    assert _opens(es, names, share.share_id, is_bot=False, ip_hash=_ip_hash(usage_env, "203.0.113.1")) == per_client

    # Late arrivals timed earlier than everything: they count, and push the latest counted out.
    early = [open_event(f"early{i}", base + timedelta(seconds=i), f"192.0.2.{i}") for i in range(5)]
    stub.RecordEvents(T.RecordEventsRequest(events=early), metadata=portal)
    wait_until(lambda: _opens(es, names, share.share_id) == 155, what="late opens stored")
    wait_until(lambda: _opens(es, names, share.share_id, is_bot=False) == per_link, what="pushed-out opens flagged")
    assert count_events(es, names, {"bool": {"filter": [{"terms": {"event_id": [e.event_id for e in early]}},
                                                        {"term": {"is_bot": False}}]}}) == 5
    assert _share_stats(stub, call_as, rep, share.share_id).customer_opens == per_link
    assert _asset_opens(stub, call_as, asset) == per_link
    wait_until(lambda: sum(d["customer_opens"] for d in rollup_docs(es, names, [asset])) == per_link,
               what="daily rollup within the cap")


def _ip_hash(settings, ip: str) -> str:
    return model.hash_ip(settings.auth_secret, ip)
