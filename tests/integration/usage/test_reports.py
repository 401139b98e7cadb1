"""Reports against a brute-force Python count over generated data."""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import common_pb2, usage_pb2
from services.common import topics
from tests.integration.usage.conftest import count_events, produce_json, wait_until

pytestmark = pytest.mark.integration

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131 Safari/537.36"
T = usage_pb2
TYPES = {"view": T.USAGE_EVENT_TYPE_VIEW, "download": T.USAGE_EVENT_TYPE_DOWNLOAD, "share": T.USAGE_EVENT_TYPE_SHARE,
         "customer_open": T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, "present": T.USAGE_EVENT_TYPE_PRESENT,
         "email_attach": T.USAGE_EVENT_TYPE_EMAIL_ATTACH, "search_click": T.USAGE_EVENT_TYPE_SEARCH_CLICK}


def ts(when: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(when)
    return out


@pytest.fixture(scope="module")
def dataset(usage_env, consumer, stub, call_as, raw_producer, es, names):
    """~60 assets with random funnels in and before a 30-day window; returns the raw data."""
    rng = random.Random(20261123)
    uid = uuid.uuid4().hex[:8]
    now = datetime.now(timezone.utc)
    owner = f"mkt-{uid}"
    assets = []
    for i in range(60):
        status = rng.choice(["published"] * 8 + ["draft", "retired"])
        expired = status == "published" and rng.random() < 0.1
        asset = {
            "asset_id": f"u{uid}-{i:03d}", "status": status, "type": rng.choice(["deck", "case_study", "one_pager"]),
            "buying_stages": rng.sample(["awareness", "consideration", "decision"], 1),
            "expires_at": (now - timedelta(days=1)).isoformat() if expired else None,
            "published_at": (now - timedelta(days=rng.randint(1, 300))).isoformat(),
        }
        assets.append(asset)
        iso = now.isoformat()
        produce_json(raw_producer, topics.CATALOG.name(usage_env), asset["asset_id"], {
            "event_id": str(uuid.uuid4()), "schema_version": 1, "occurred_at": iso, "received_at": iso,
            "event_type": "updated", "asset_id": asset["asset_id"], "title": f"Asset {i}", "type": asset["type"],
            "status": status, "owner": owner, "buying_stages": asset["buying_stages"], "industries": [],
            "regions": [], "products": [], "personas": [], "tags": [], "language": "en",
            "created_at": (now - timedelta(days=400)).isoformat(), "published_at": asset["published_at"],
            "expires_at": asset["expires_at"], "version": 3})
    events, searches = [], []
    for asset in assets:
        profile = rng.choice(["none", "shown", "rep", "shared", "opened", "bot_only", "old", "presented"])
        def add(kind, days_ago, ua=CHROME, team="east"):
            events.append({"asset_id": asset["asset_id"], "type": kind, "when": now - timedelta(days=days_ago),
                           "ua": ua, "rep": f"rep-{rng.randint(1, 5)}", "team": team,
                           "bot": kind == "customer_open" and ua != CHROME})
        if profile in ("shown", "rep", "shared", "opened") or rng.random() < 0.3:
            searches.append({"ids": [asset["asset_id"]], "when": now - timedelta(days=rng.randint(0, 29))})
        if rng.random() < 0.2:
            searches.append({"ids": [asset["asset_id"]], "when": now - timedelta(days=45)})  # before the window
        if profile in ("rep", "shared", "opened"):
            for _ in range(rng.randint(1, 3)):
                add(rng.choice(["view", "download", "search_click"]), rng.uniform(0, 29), team=rng.choice(["east", "west"]))
        if profile in ("shared", "opened", "bot_only"):
            add(rng.choice(["share", "email_attach"]), rng.uniform(1, 29))
        if profile == "opened":
            add("customer_open", rng.uniform(0, 1))
        if profile == "bot_only":
            add("customer_open", rng.uniform(0, 1), ua="Mimecast-URL-Protect/1.0")
        if profile == "presented":
            add("present", rng.uniform(0, 29))
        if profile == "old":
            add("download", 40)
            add("customer_open", 50)
    portal = call_as("service", "portal")
    batch = [usage_pb2.UsageEvent(type=TYPES[e["type"]], asset_id=e["asset_id"], rep_id=e["rep"],
                                  occurred_at=ts(e["when"]), user_agent=e["ua"], team=e["team"], account_id="acct-1")
             for e in events]
    stub.RecordEvents(usage_pb2.RecordEventsRequest(events=batch), metadata=portal)
    for s in searches:
        iso = s["when"].isoformat()
        produce_json(raw_producer, topics.SEARCHES.name(usage_env), "rep-1", {
            "event_id": str(uuid.uuid4()), "schema_version": 1, "occurred_at": iso, "received_at": iso,
            "search_id": str(uuid.uuid4()), "rep_id": "rep-1", "role": "rep", "query": "deck", "filters": {},
            "sort": "relevance", "result_count": len(s["ids"]), "shown_asset_ids": s["ids"]})
    raw_producer.flush()
    prefix = {"prefix": {"asset_id": f"u{uid}-"}}
    wait_until(lambda: count_events(es, names, prefix) == len(events), what="usage events")

    def searchable():
        es.indices.refresh(index=f"{names.searches},{names.catalog}")
        return (es.count(index=names.searches, query={"prefix": {"shown_asset_ids": f"u{uid}-"}})["count"] == len(searches)
                and es.count(index=names.catalog, query={"term": {"owner": owner}})["count"] == len(assets))

    wait_until(searchable, what="searches and catalog")
    return {"now": now, "owner": owner, "assets": assets, "events": events, "searches": searches, "uid": uid}


def brute_force_unused(data, start, end):
    out = {}
    for asset in data["assets"]:
        if asset["status"] != "published":
            continue
        aid = asset["asset_id"]
        mine = [e for e in data["events"] if e["asset_id"] == aid and not e["bot"]]
        inside = [e for e in mine if start <= e["when"] < end]
        kinds = Counter(e["type"] for e in inside)
        shown = sum(1 for s in data["searches"] if aid in s["ids"] and start <= s["when"] < end)
        if kinds["customer_open"] or kinds["present"]:
            continue
        if asset["expires_at"]:
            out[aid] = "EXPIRED"
        elif kinds["share"] or kinds["email_attach"]:
            out[aid] = "SHARED_NOT_OPENED_BY_CUSTOMER"
        elif kinds["view"] or kinds["download"] or kinds["search_click"]:
            out[aid] = "DOWNLOADED_NOT_SHARED"
        elif shown:
            out[aid] = "SHOWN_NOT_OPENED"
        elif not [e for e in mine if e["when"] < end]:
            out[aid] = "NEVER_USED"
        else:
            out[aid] = "NEVER_SHOWN_IN_SEARCH"
    return out


def list_all(stub, call_as, request):
    seen, token = [], ""
    for _ in range(100):
        request.page_token = token
        page = stub.ListUnusedAssets(request, metadata=call_as("marketer"))
        seen += list(page.assets)
        token = page.next_page_token
        if not token:
            return seen
    raise AssertionError("pagination does not end")


def test_unused_report_agrees_with_brute_force(dataset, stub, call_as):
    now = dataset["now"] + timedelta(seconds=1)
    start = now - timedelta(days=30)
    expected = brute_force_unused(dataset, start, now)
    assert len(set(expected.values())) >= 5, "the generated data should exercise most reasons"
    window = common_pb2.TimeRange(start=ts(start), end=ts(now))
    rows = list_all(stub, call_as, usage_pb2.ListUnusedAssetsRequest(window=window, owner=dataset["owner"], page_size=7))
    got = {r.asset_id: usage_pb2.UnusedReason.Name(r.reason).removeprefix("UNUSED_REASON_") for r in rows}
    assert got == expected
    assert [r.asset_id for r in rows] == sorted(got)  # stable order, no duplicates across pages
    assert all(r.owner == dataset["owner"] and r.title.startswith("Asset ") for r in rows)
    # A reason filter returns exactly that subset.
    only = list_all(stub, call_as, usage_pb2.ListUnusedAssetsRequest(
        window=window, owner=dataset["owner"], reasons=[T.UNUSED_REASON_SHOWN_NOT_OPENED, T.UNUSED_REASON_NEVER_USED]))
    assert {r.asset_id for r in only} == {a for a, r in expected.items() if r in ("SHOWN_NOT_OPENED", "NEVER_USED")}


def test_top_assets_agree_with_brute_force(dataset, stub, call_as):
    now = dataset["now"] + timedelta(seconds=1)
    start = now - timedelta(days=30)
    window = common_pb2.TimeRange(start=ts(start), end=ts(now))
    prefix = f"u{dataset['uid']}-"
    inside = [e for e in dataset["events"] if start <= e["when"] < now and not e["bot"]]

    def expect(keep, value):
        per = defaultdict(list)
        for e in inside:
            if keep(e):
                per[e["asset_id"]].append(e)
        ranked = sorted(((a, value(es)) for a, es in per.items()), key=lambda r: (-r[1], r[0]))
        return [(a, float(v)) for a, v in ranked if v > 0]

    def top(**kw):
        r = stub.TopAssets(usage_pb2.TopAssetsRequest(time_range=window, limit=100, **kw), metadata=call_as("marketer"))
        return [(a.asset_id, a.value) for a in r.assets if a.asset_id.startswith(prefix)]

    assert top(measure=T.USAGE_MEASURE_DOWNLOADS) == expect(lambda e: e["type"] == "download", len)
    assert top(measure=T.USAGE_MEASURE_UNIQUE_REPS) == expect(lambda e: True, lambda es: len({e["rep"] for e in es}))
    assert top(measure=T.USAGE_MEASURE_VIEWS, segment=common_pb2.SegmentFilter(teams=["west"])) == \
        expect(lambda e: e["type"] == "view" and e["team"] == "west", len)
    decision = {a["asset_id"] for a in dataset["assets"] if "decision" in a["buying_stages"]}
    assert top(measure=T.USAGE_MEASURE_TOTAL_EVENTS, buying_stages=[common_pb2.BUYING_STAGE_DECISION]) == \
        expect(lambda e: e["asset_id"] in decision, len)
    decks = {a["asset_id"] for a in dataset["assets"] if a["type"] == "deck"}
    assert top(measure=T.USAGE_MEASURE_SHARES, asset_types=["deck"]) == \
        expect(lambda e: e["asset_id"] in decks and e["type"] in ("share", "email_attach"), len)


def test_asset_usage_series(dataset, stub, call_as):
    counts = Counter(e["asset_id"] for e in dataset["events"])
    asset = max(counts, key=lambda a: (counts[a], a))
    now = dataset["now"] + timedelta(seconds=1)
    start = now - timedelta(days=60)
    window = common_pb2.TimeRange(start=ts(start), end=ts(now))
    mine = [e for e in dataset["events"] if e["asset_id"] == asset and start <= e["when"] < now]
    for interval in (T.USAGE_INTERVAL_DAY, T.USAGE_INTERVAL_WEEK):
        r = stub.GetAssetUsage(usage_pb2.GetAssetUsageRequest(asset_id=asset, time_range=window, interval=interval),
                               metadata=call_as("marketer"))
        human = [e for e in mine if not e["bot"]]
        assert r.totals.total_events == len(human)
        assert r.totals.bot_events == len(mine) - len(human)
        assert sum(b.summary.total_events for b in r.buckets) == len(human)
        assert r.totals.unique_reps == len({e["rep"] for e in human})
        assert r.known_asset
        if interval == T.USAGE_INTERVAL_DAY:
            assert 60 <= len(r.buckets) <= 62  # gap-free series over the range
            per_day = Counter(e["when"].date() for e in human)
            got = {b.start.ToDatetime(tzinfo=timezone.utc).date(): b.summary.total_events for b in r.buckets
                   if b.summary.total_events}
            assert got == dict(per_day)
        else:
            assert all(b.start.ToDatetime().weekday() == 0 for b in r.buckets)  # ISO weeks start on Monday
