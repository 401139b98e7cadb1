"""The demo loader (`python -m scripts.demo_data`) against the real services and stack.

It runs twice in a namespace of its own with every service and consumer it feeds; after
each run the pipeline is drained (consumer lag 0, stage by stage), so the second
snapshot proves that reloading changes nothing. The reports then show the story the
demo tells: zero-result searches as content gaps, impressions in the unused report and
an asset significantly tied to wins.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from elasticsearch import Elasticsearch
from elasticsearch.helpers import scan

from collateral.v1 import common_pb2, feedback_pb2, feedback_pb2_grpc, usage_pb2, usage_pb2_grpc
from scripts.local_services import PROCESSES, Supervisor, free_port
from services.common import audit, auth, config, es as es_util, grpc_server, topics
from services.common.contracts import times
from services.content import store as content_store
from services.feedback import store as feedback_store
from services.usage import store as usage_store
from tests.conftest import isolated, wait_consumed

ROOT = Path(__file__).resolve().parents[2]
# Small enough to load in about a minute, large enough for the winners to reach significance.
SIZES = ["--assets", "45", "--deals", "300", "--events", "1500", "--searches", "400"]
NEEDED = ("content", "usage", "feedback", "usage-consumer", "feedback-consumer")
YEAR_AND_A_BIT = timedelta(days=380)  # the reports accept windows up to 400 days


@pytest.fixture(scope="module")
def system(stack: config.Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[config.Settings, Supervisor]]:
    """The services and consumers the loader feeds, in this module's namespace."""
    settings = isolated(stack, "demo")
    env = dict(os.environ)
    env.update({"COLLATERAL_NAMESPACE": settings.namespace, "COLLATERAL_S3_BUCKET": settings.s3_bucket,
                "COLLATERAL_HEALTH_CHECK_INTERVAL_S": "0.5", "COLLATERAL_CONSUMER_MAX_BACKOFF_S": "2",
                "COLLATERAL_LOG_FORMAT": "text", "COLLATERAL_AUTH_SECRET": settings.auth_secret})
    ports = {p.name: free_port() for p in PROCESSES}
    metrics_ports = {name: free_port() for name in ("content", "usage", "feedback", "portal")}
    sup = Supervisor(tmp_path_factory.mktemp("demo-system"), base_env=env, ports=ports, metrics_ports=metrics_ports)
    try:
        sup.start(list(NEEDED), timeout_s=120)
        yield settings, sup
    finally:
        sup.stop()


def load_demo(system: tuple[config.Settings, Supervisor]) -> None:
    settings, sup = system
    proc = subprocess.run([sys.executable, "-m", "scripts.demo_data", *SIZES], cwd=ROOT, env=sup.env(),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    drain(settings)


def drain(settings: config.Settings) -> None:
    """Wait until every stage has committed everything produced so far, upstream first."""
    for group, stage_topics in (
        ("usage-consumer", [topics.USAGE, topics.CATALOG, topics.SEARCHES]),
        ("feedback-router", [topics.DEALS, topics.USAGE_CLASSIFIED, topics.SEARCHES, topics.CATALOG]),
        ("feedback-join", [topics.FEEDBACK_JOIN]),
        ("feedback-rollup", [topics.FEEDBACK_ROLLUP]),
    ):
        wait_consumed(settings, settings.group(group), [t.name(settings) for t in stage_topics], timeout_s=180)


def _scan(es: Elasticsearch, index: str, fields: list[str]) -> list[dict[str, Any]]:
    es.indices.refresh(index=index, ignore_unavailable=True)
    return [hit["_source"] for hit in scan(es, index=index, query={"query": {"match_all": {}}}, _source=fields)]


def snapshot(settings: config.Settings, es: Elasticsearch) -> dict[str, Any]:
    """What the demo wrote, store by store: ids with their versions, and counts."""
    usage_names, feedback_names = usage_store.Names.of(settings), feedback_store.Names.of(settings)
    assets = _scan(es, content_store.Store(settings).alias, ["asset_id", "version", "created_at", "published_at", "status"])
    deals = _scan(es, feedback_names.deals, ["opportunity_id", "version", "stage"])

    def count(index: str) -> int:
        es.indices.refresh(index=index, ignore_unavailable=True)
        return es.count(index=index, ignore_unavailable=True)["count"]

    return {
        "assets": sorted((a["asset_id"], a["version"], a["created_at"], a.get("published_at"), a["status"])
                         for a in assets),
        "usage catalog": count(usage_names.catalog),
        "usage events": count(usage_names.events),
        "searches": count(usage_names.searches),
        "deals": sorted((d["opportunity_id"], d["version"], d["stage"]) for d in deals),
        "touches": count(feedback_names.touches),
        "feedback usage": count(feedback_names.usage),
        "search misses": count(feedback_names.misses),
        "content requests": count(feedback_names.requests),
        "history audit entries": history_audit_entries(settings, es),
    }


def history_audit_entries(settings: config.Settings, es: Elasticsearch) -> int:
    """Final audit entries of the loader setting assets' historical times (one per asset, on the first load only)."""
    index = audit.AuditLog(settings, es).alias
    es.indices.refresh(index=index)
    return es.count(index=index, query={"bool": {"filter": [
        {"term": {"action": "content/demo_data.SetHistory"}}, {"term": {"phase": audit.FINAL}},
        {"term": {"outcome": audit.OK}}]}})["count"]


@pytest.fixture(scope="module")
def loaded(system: tuple[config.Settings, Supervisor]) -> dict[str, Any]:
    """Snapshots after the first and after the second load."""
    settings, _ = system
    es = es_util.client(settings)
    try:
        load_demo(system)
        first = snapshot(settings, es)
        load_demo(system)
        second = snapshot(settings, es)
    finally:
        es.close()
    return {"first": first, "second": second}


def test_loading_twice_changes_nothing(loaded):
    first, second = loaded["first"], loaded["second"]
    assert second == first
    assert len(first["assets"]) == 45 == first["history audit entries"] and len(first["deals"]) == 300
    assert first["usage events"] >= 1500 and first["searches"] == 400
    assert all(value for value in first.values()), first  # every store got something


def test_no_usage_before_its_asset_was_published_or_after_it_was_retired(system, loaded):
    settings, _ = system
    es = es_util.client(settings)
    try:
        assets = {a["asset_id"]: a for a in _scan(es, content_store.Store(settings).alias,
                                                   ["asset_id", "created_at", "published_at", "status", "updated_at"])}
        events = _scan(es, usage_store.Names.of(settings).events, ["event_id", "asset_id", "occurred_at"])
    finally:
        es.close()
    assert events
    for event in events:
        asset = assets[event["asset_id"]]
        occurred = times.parse_stored(event["occurred_at"])
        assert asset["published_at"], event
        assert occurred >= times.parse_stored(asset["published_at"]) >= times.parse_stored(asset["created_at"]), event
        if asset["status"] == "retired":  # a retired asset's last change is its retirement
            assert occurred < times.parse_stored(asset["updated_at"]), event
    created = [times.parse_stored(a["created_at"]) for a in assets.values()]
    assert max(created) - min(created) > timedelta(days=300)  # the catalog grew over the year


def _channel_md(system: tuple[config.Settings, Supervisor], name: str) -> tuple[Any, tuple[tuple[str, str], ...]]:
    settings, sup = system
    channel = grpc_server.channel(sup.address(name), settings)
    return channel, auth.bearer_metadata(auth.mint(settings, "marketer@demo.local", "marketer"))


def _year() -> common_pb2.TimeRange:
    """The demo's whole history."""
    window = common_pb2.TimeRange()
    window.start.FromDatetime(datetime.now(timezone.utc) - YEAR_AND_A_BIT)
    return window


def test_zero_result_searches_requests_and_lost_reasons_show_as_content_gaps(system, loaded):
    channel, md = _channel_md(system, "feedback")
    with channel:
        gaps = feedback_pb2_grpc.FeedbackServiceStub(channel).GetContentGaps(
            feedback_pb2.GetContentGapsRequest(time_range=_year(), limit=50), metadata=md, timeout=30).gaps
    by_topic = {g.topic: g for g in gaps}
    hipaa = by_topic["baa hipaa template"]  # searched, asked for and named in lost deals
    assert hipaa.zero_result_searches > 0 and hipaa.searching_reps > 1 and hipaa.requests == 2 and hipaa.lost_deals > 0
    assert sum(g.zero_result_searches + g.poor_result_searches for g in gaps) == loaded["first"]["search misses"]


def test_an_asset_is_significantly_tied_to_wins(system, loaded):
    channel, md = _channel_md(system, "feedback")
    with channel:
        rates = feedback_pb2_grpc.FeedbackServiceStub(channel).ListAssetWinRates(
            feedback_pb2.ListAssetWinRatesRequest(time_range=_year(), significant_positive_only=True, page_size=100),
            metadata=md, timeout=30).rates
    winners = {r.asset_id for r in rates}
    assert winners & {"demo-asset-005", "demo-asset-012", "demo-asset-021"}, winners


def test_the_unused_report_shows_search_impressions(system, loaded):
    channel, md = _channel_md(system, "usage")
    with channel:
        rows = usage_pb2_grpc.UsageServiceStub(channel).ListUnusedAssets(
            usage_pb2.ListUnusedAssetsRequest(window=_year(), page_size=500), metadata=md, timeout=30).assets
    assert rows
    assert any(row.impressions > 0 for row in rows)
