"""Ingest through gRPC and straight to Kafka: validation, dedup, DLQ, bots, roles."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from kafka import KafkaConsumer

from collateral.v1 import usage_pb2
from services.common import grpc_server, topics
from tests.conftest import wait_consumed
from tests.integration.usage.conftest import count_events, produce_json, rollup_docs, wait_until

pytestmark = pytest.mark.integration

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
T = usage_pb2


def ts(when: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(when)
    return out


def ev(asset_id: str, rep_id: str, kind=T.USAGE_EVENT_TYPE_DOWNLOAD, **kw) -> usage_pb2.UsageEvent:
    return usage_pb2.UsageEvent(type=kind, asset_id=asset_id, rep_id=rep_id, **kw)


def test_recorded_events_count_once_despite_duplicates_and_replays(stub, consumer, usage_env, call_as, es, names, uid):
    rep = f"rep-{uid}"
    asset = f"a-{uid}"
    now = datetime.now(timezone.utc)
    events = [ev(asset, rep, event_id=f"{uid}-{i}", occurred_at=ts(now - timedelta(minutes=i)),
                 kind=T.USAGE_EVENT_TYPE_VIEW if i % 3 else T.USAGE_EVENT_TYPE_DOWNLOAD) for i in range(30)]
    response = stub.RecordEvents(usage_pb2.RecordEventsRequest(events=events), metadata=call_as("rep", rep))
    assert list(response.event_ids) == [f"{uid}-{i}" for i in range(30)]
    # The same events again (a client retry) and a batch with an in-batch duplicate.
    stub.RecordEvents(usage_pb2.RecordEventsRequest(events=events[:20]), metadata=call_as("rep", rep))
    stub.RecordEvents(usage_pb2.RecordEventsRequest(events=[events[5], events[5]]), metadata=call_as("rep", rep))
    wait_until(lambda: count_events(es, names, {"term": {"asset_id": asset}}) == 30, what="30 events")
    # Everything produced (retries included) is consumed and committed: no stray duplicate can still arrive.
    wait_consumed(usage_env, usage_env.group("usage-consumer"), [topics.USAGE.name(usage_env)])
    assert count_events(es, names, {"term": {"asset_id": asset}}) == 30
    downloads = sum(1 for i in range(30) if i % 3 == 0)

    def rollups_exact():
        docs = rollup_docs(es, names, [asset])
        return sum(d["download"] for d in docs) == downloads and sum(d["view"] for d in docs) == 30 - downloads \
            and sum(d["events_total"] for d in docs) == 30

    wait_until(rollups_exact, what="exact rollups")
    report = stub.GetAssetUsage(usage_pb2.GetAssetUsageRequest(asset_id=asset), metadata=call_as("marketer"))
    counts = {c.type: c.count for c in report.totals.counts}
    assert counts == {T.USAGE_EVENT_TYPE_VIEW: 30 - downloads, T.USAGE_EVENT_TYPE_DOWNLOAD: downloads}
    assert report.totals.unique_reps == 1 and report.totals.total_events == 30
    assert report.known_asset is False  # not in the catalog: kept and flagged
    assert count_events(es, names, {"bool": {"filter": [{"term": {"asset_id": asset}},
                                                        {"term": {"known_asset": False}}]}}) == 30


def test_validation_names_the_field_with_its_index(stub, call_as, uid):
    rep = f"rep-{uid}"
    bad = [ev("a", rep), ev("", rep), ev("a", rep)]
    with pytest.raises(grpc.RpcError) as err:
        stub.RecordEvents(usage_pb2.RecordEventsRequest(events=bad), metadata=call_as("rep", rep))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert grpc_server.field_violations(err.value)[0][0] == "events[1].asset_id"

    cases = [
        (ev("a", rep, occurred_at=ts(datetime.now(timezone.utc) + timedelta(hours=1))), "events[0].occurred_at"),
        (ev("a", rep, kind=T.USAGE_EVENT_TYPE_UNSPECIFIED), "events[0].type"),
        (ev("a", rep, event_id="has space"), "events[0].event_id"),
        (ev("a", rep, kind=T.USAGE_EVENT_TYPE_PAGE_VIEW), "events[0].page"),
    ]
    for event, field in cases:
        with pytest.raises(grpc.RpcError) as err:
            stub.RecordEvents(usage_pb2.RecordEventsRequest(events=[event]), metadata=call_as("service", "portal"))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
        assert grpc_server.field_violations(err.value)[0][0] == field

    with pytest.raises(grpc.RpcError) as err:
        stub.RecordEvents(usage_pb2.RecordEventsRequest(events=[ev("a", rep)] * 1001), metadata=call_as("rep", rep))
    assert grpc_server.field_violations(err.value)[0][0] == "events"
    with pytest.raises(grpc.RpcError) as err:
        stub.RecordEvents(usage_pb2.RecordEventsRequest(), metadata=call_as("rep", rep))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_roles(stub, call_as, uid):
    rep = f"rep-{uid}"
    with pytest.raises(grpc.RpcError) as err:
        stub.RecordEvents(usage_pb2.RecordEventsRequest(events=[ev("a", "someone-else")]), metadata=call_as("rep", rep))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:
        stub.RecordEvents(usage_pb2.RecordEventsRequest(events=[ev("a", rep, kind=T.USAGE_EVENT_TYPE_CUSTOMER_OPEN)]),
                          metadata=call_as("rep", rep))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:
        stub.RecordEvents(usage_pb2.RecordEventsRequest(events=[ev("a", rep)]))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # The portal (service role) and admins record for anyone.
    stub.RecordEvents(usage_pb2.RecordEventsRequest(events=[ev(f"a-{uid}", "anyone", kind=T.USAGE_EVENT_TYPE_CUSTOMER_OPEN,
                                                                user_agent=CHROME)]),
                      metadata=call_as("service", "portal"))
    stub.RecordEvents(usage_pb2.RecordEventsRequest(events=[ev(f"a-{uid}", "anyone")]), metadata=call_as("admin"))
    # Reports are for curators.
    for role in ("rep", "service"):
        with pytest.raises(grpc.RpcError) as err:
            stub.GetAssetUsage(usage_pb2.GetAssetUsageRequest(asset_id="a"), metadata=call_as(role))
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.RpcError) as err:
            stub.ListUnusedAssets(usage_pb2.ListUnusedAssetsRequest(), metadata=call_as(role))
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    stub.TopAssets(usage_pb2.TopAssetsRequest(), metadata=call_as("marketer"))
    stub.TopAssets(usage_pb2.TopAssetsRequest(), metadata=call_as("admin"))


def test_bot_opens_do_not_count_as_customer_opens(stub, consumer, call_as, es, names, uid):
    asset = f"a-{uid}"
    old = ts(datetime.now(timezone.utc) - timedelta(hours=1))
    opens = [
        ev(asset, "rep-x", kind=T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, user_agent=CHROME, occurred_at=old),
        ev(asset, "rep-x", kind=T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, user_agent=CHROME, occurred_at=old),
        ev(asset, "rep-x", kind=T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, user_agent="Mimecast-URL-Protect/1.0", occurred_at=old),
        ev(asset, "rep-x", kind=T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, user_agent="Slackbot-LinkExpanding 1.0", occurred_at=old),
        ev(asset, "rep-x", kind=T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, user_agent="curl/8.5.0", occurred_at=old),
        ev(asset, "rep-x", kind=T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, user_agent=CHROME, headers={"Sec-Purpose": "prefetch"},
           occurred_at=old),
        ev(asset, "rep-x", kind=T.USAGE_EVENT_TYPE_PAGE_VIEW, user_agent=CHROME, page=2, seconds=40.5, occurred_at=old),
        ev(asset, "rep-x", kind=T.USAGE_EVENT_TYPE_PAGE_VIEW, user_agent="HeadlessChrome/120", page=2, seconds=99,
           occurred_at=old),
    ]
    stub.RecordEvents(usage_pb2.RecordEventsRequest(events=opens), metadata=call_as("service", "portal"))
    wait_until(lambda: count_events(es, names, {"term": {"asset_id": asset}}) == len(opens))
    report = stub.GetAssetUsage(usage_pb2.GetAssetUsageRequest(asset_id=asset), metadata=call_as("marketer"))
    assert report.totals.customer_opens == 2
    assert report.totals.bot_events == 5
    assert [(p.page, p.seconds, p.views) for p in report.pages] == [(2, 40.5, 1)]
    wait_until(lambda: sum(d["customer_opens"] for d in rollup_docs(es, names, [asset])) == 2)
    assert sum(d["bot_events"] for d in rollup_docs(es, names, [asset])) == 5
    top = stub.TopAssets(usage_pb2.TopAssetsRequest(measure=T.USAGE_MEASURE_CUSTOMER_OPENS, limit=100),
                         metadata=call_as("marketer"))
    assert [a.value for a in top.assets if a.asset_id == asset] == [2.0]


def test_external_json_poison_messages_go_to_the_dlq_and_the_partition_keeps_flowing(
        usage_env, consumer, raw_producer, es, names, uid):
    topic = topics.USAGE.name(usage_env)
    asset = f"a-{uid}"  # one key: everything lands in one partition, in order
    now = datetime.now(timezone.utc)

    def good(i):
        return {"event_id": f"{uid}-ok-{i}", "schema_version": 1, "occurred_at": now.isoformat(), "type": "download",
                "asset_id": asset, "rep_id": "rep-kcat", "channel": "crm"}

    poison = {
        "bad_json": b"{not json",
        "schema": json.dumps({**good(100), "asset_id": 7}).encode(),
        "unknown_type": json.dumps({**good(101), "type": "teleport"}).encode(),
        "future_event_time": json.dumps({**good(102), "occurred_at": (now + timedelta(hours=2)).isoformat()}).encode(),
        "too_large": json.dumps({**good(103), "user_agent": "x" * 70_000}).encode(),
    }
    produce_json(raw_producer, topic, asset, good(0))
    for value in poison.values():
        produce_json(raw_producer, topic, asset, value)
        produce_json(raw_producer, topic, asset, good(len(value)))
    raw_producer.flush()
    expected = 1 + len({len(v) for v in poison.values()})
    wait_until(lambda: count_events(es, names, {"term": {"asset_id": asset}}) == expected, what="good events")
    wait_consumed(usage_env, usage_env.group("usage-consumer"), [topic])  # then no poison message was stored late
    assert count_events(es, names, {"term": {"asset_id": asset}}) == expected

    dlq = KafkaConsumer(topics.USAGE_DLQ.name(usage_env), bootstrap_servers=usage_env.kafka_bootstrap,
                        auto_offset_reset="earliest", consumer_timeout_ms=3000, group_id=None)
    try:
        found: dict[str, bytes] = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(found) < len(poison):
            for record in dlq:
                headers = dict(record.headers)
                if record.key == asset.encode():
                    found[headers["dlq.reason"].decode()] = record.value
    finally:
        dlq.close()
    assert found == poison  # each with its reason and the original bytes


def test_unknown_asset_becomes_known_when_the_catalog_arrives(usage_env, consumer, raw_producer, stub, call_as, uid):
    asset = f"a-{uid}"
    stub.RecordEvents(usage_pb2.RecordEventsRequest(events=[ev(asset, "rep-1")]), metadata=call_as("rep", "rep-1"))
    now = datetime.now(timezone.utc).isoformat()
    catalog = {"event_id": str(uuid.uuid4()), "schema_version": 1, "occurred_at": now, "received_at": now,
               "event_type": "published", "asset_id": asset, "title": "Known deck", "type": "deck",
               "status": "published", "owner": "mkt-1", "buying_stages": ["decision"], "industries": [],
               "regions": [], "products": [], "personas": [], "tags": [], "language": "en", "created_at": now,
               "published_at": now, "version": 2}
    produce_json(raw_producer, topics.CATALOG.name(usage_env), asset, catalog)
    produce_json(raw_producer, topics.CATALOG.name(usage_env), asset,
                 {**catalog, "event_id": str(uuid.uuid4()), "title": "Older", "version": 1})  # stale: ignored
    raw_producer.flush()

    def known():
        r = stub.GetAssetUsage(usage_pb2.GetAssetUsageRequest(asset_id=asset), metadata=call_as("marketer"))
        return r.known_asset and r.totals.total_events == 1

    wait_until(known)
    # The stale catalog update comes after the newer one: only once it is consumed does "Known deck" prove it ignored.
    wait_consumed(usage_env, usage_env.group("usage-consumer"), [topics.CATALOG.name(usage_env)])

    def top():
        response = stub.TopAssets(usage_pb2.TopAssetsRequest(measure=T.USAGE_MEASURE_DOWNLOADS,
                                                             buying_stages=[1, 3], asset_types=["deck"]),
                                  metadata=call_as("marketer"))
        return [(a.asset_id, a.title, a.value) for a in response.assets]

    assert wait_until(top) == [(asset, "Known deck", 1.0)]  # searchable after the index refresh (1 s)
