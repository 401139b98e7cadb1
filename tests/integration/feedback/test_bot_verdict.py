"""One bot verdict: the usage service classifies, the join consumes its verdict through a contract.

A link scanner opening a share seconds after the link was created (`fast_open`, which only
the usage service can tell: it knows when the share was created) counts neither in the
usage report nor as a deal touch. A stored open that a late, earlier open pushes out of its
link's caps (`beacon_flood`) is re-published with its new verdict and leaves the join too.
Everything runs through the real usage consumer, usage.classified.v1, the router and the
join stage.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from services.common import es as es_util, topics
from services.feedback import store
from services.usage import reports as usage_reports, store as usage_store
from tests.integration.feedback.conftest import RunningConsumer, produce

pytestmark = pytest.mark.integration

CREATED = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _share(es, names: usage_store.Names, share_id: str, asset: str, created: datetime) -> None:
    es.index(index=names.shares, id=share_id, refresh="wait_for", document={
        "share_id": share_id, "asset_id": asset, "rep_id": "rep-b", "account_id": "acct-b", "created_at": _iso(created),
        "expires_at": _iso(created + timedelta(days=30)), "allow_download": True})


def _open(event_id: str, asset: str, share_id: str, when: datetime, ip: str = "203.0.113.9") -> dict:
    return {"event_id": event_id, "schema_version": 1, "occurred_at": _iso(when), "type": "customer_open",
            "asset_id": asset, "rep_id": "rep-b", "opportunity_id": "opp-b", "share_id": share_id,
            "user_agent": BROWSER, "ip": ip}


DEAL = {"event_id": "opp-b@1", "schema_version": 1, "occurred_at": "2026-03-20T00:00:00Z", "opportunity_id": "opp-b",
        "account_id": "acct-b", "owner_rep_id": "rep-b", "stage": "won", "amount": 1000, "currency": "USD",
        "created_at": "2026-02-01T00:00:00Z", "closed_at": "2026-03-20T00:00:00Z", "updated_at": "2026-03-20T00:00:00Z"}


@pytest.fixture
def pipeline(feedback_settings):
    settings = dataclasses.replace(feedback_settings, namespace=f"{feedback_settings.namespace}bot",
                                   usage_share_opens_per_client_day=1, usage_bot_fast_open_s=10.0)
    topics.ensure_all(settings)
    es = es_util.client(settings)
    usage_names = usage_store.ensure(es, settings)
    running = RunningConsumer(settings)
    yield settings, es, usage_names, store.Names.of(settings), running
    running.stop()
    es.options(ignore_status=404).indices.delete(index=f"{settings.namespace}-feedback-*,{settings.namespace}-usage-*")


def test_fast_open_scanner_counts_nowhere_and_a_reflag_reaches_the_join(pipeline):
    settings, es, usage_names, names, running = pipeline
    _share(es, usage_names, "share-fast", "asset-fast", CREATED)
    _share(es, usage_names, "share-human", "asset-human", CREATED - timedelta(days=3))
    produce(settings, topics.DEALS, [("opp-b", DEAL)])
    produce(settings, topics.USAGE, [
        ("asset-fast", _open("scan-1", "asset-fast", "share-fast", CREATED + timedelta(seconds=3))),  # a scanner
        ("asset-human", _open("human-late", "asset-human", "share-human", CREATED + timedelta(hours=2))),
    ])
    running.wait_idle()
    stored = es.get(index=names.touches, id="asset-human|opp-b")["_source"]
    assert stored["times"] == ["2026-03-02T12:00:00.000Z"]
    assert not es.exists(index=names.touches, id="asset-fast|opp-b")  # the fast open is no touch...
    usage = usage_reports.asset_usage(es, usage_names, "asset-fast", CREATED - timedelta(days=1),
                                      CREATED + timedelta(days=1), "day", 10.0)
    assert (usage["totals"]["customer_opens"], usage["totals"]["bot_events"]) == (0, 1)  # ... and no customer open

    # A late open of the same client, earlier that day, takes the link's one open per client:
    # the stored 12:00 open is re-flagged beacon_flood, re-published, and leaves the join.
    produce(settings, topics.USAGE, [("asset-human", _open("human-early", "asset-human", "share-human",
                                                           CREATED + timedelta(minutes=30)))])
    running.wait_idle()
    assert not es.exists(index=names.usage, id="human-late")
    assert es.exists(index=names.usage, id="human-early")
    stored = es.get(index=names.touches, id="asset-human|opp-b")["_source"]
    assert stored["times"] == ["2026-03-02T10:30:00.000Z"]
