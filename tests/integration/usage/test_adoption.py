"""GetAdoptionOverview against a brute-force Python count over generated data.

A synthetic catalog (published assets, some published during or after the period, drafts,
retired) goes through the catalog topic and a synthetic usage history (rep and customer
events, link scanners, events before, between and after the periods, team and region
changes) through RecordEvents -> Kafka -> the real usage consumer, in a namespace of this
module's own so the overview (which covers the whole catalog) sees only this data.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from kafka import KafkaProducer

from collateral.v1 import common_pb2, usage_pb2, usage_pb2_grpc
from services.common import config, es as es_util, grpc_server, topics
from services.usage import store
from services.usage.server import build_spec
from tests.conftest import isolated, wait_serving, wait_until
from tests.integration.usage.catalog_view import catalog_event
from tests.integration.usage.conftest import ConsumerProcess, count_events, produce_json

pytestmark = pytest.mark.integration

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131 Safari/537.36"
SCANNER = "Mimecast-URL-Protect/1.0"
REP_TYPES = ("view", "download", "share", "search_click", "email_attach", "present")
CUSTOMER_TYPES = ("customer_open", "page_view", "customer_download")
USE_TYPES = frozenset(REP_TYPES) | {"customer_open", "customer_download"}
YEAR = timedelta(days=365)
WEEK = timedelta(days=7)


def ts(when: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(when)
    return out


# ---- servers in a namespace of this module's own -------------------------------------------------

@pytest.fixture(scope="module")
def adoption_env(stack: config.Settings) -> config.Settings:
    settings = isolated(stack, "ad")
    topics.ensure_all(settings)
    store.ensure(es_util.client(settings), settings)
    return settings


@pytest.fixture(scope="module")
def adoption_stub(adoption_env: config.Settings, start_service: Callable,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[usage_pb2_grpc.UsageServiceStub]:
    consumer = ConsumerProcess(adoption_env, Path(tmp_path_factory.mktemp("adoption")) / "consumer.log")
    consumer.start()
    running = start_service(build_spec(adoption_env))
    wait_serving(running.address)
    channel = grpc_server.channel(running.address)
    yield usage_pb2_grpc.UsageServiceStub(channel)
    channel.close()
    consumer.stop()


# ---- the data ------------------------------------------------------------------------------------

def _assets(rng: random.Random, uid: str, end: datetime) -> list[dict[str, Any]]:
    """Published long ago, published inside the window, published after the end, drafts, retired."""
    out = []
    for i in range(48):
        status = rng.choice(["published"] * 6 + ["draft", "retired"])
        published_at = end - timedelta(days=rng.choice([400, 200, 80, 40, 20, 10, 3]), hours=rng.randint(0, 23))
        if i % 12 == 0:
            published_at = end + timedelta(minutes=30)  # published after the period's end
        out.append({"asset_id": f"ad{uid}-{i:03d}", "status": status,
                    "published_at": None if i % 17 == 5 else published_at})
    return out


def _reps(uid: str) -> list[dict[str, Any]]:
    teams, regions = ["east", "west", "central"], ["emea", "amer"]
    reps = []
    for i in range(14):
        reps.append({"rep_id": f"rep-{uid}-{i:02d}",
                     "team": None if i % 5 == 4 else teams[i % 3],  # some never carry a team: the unknown bucket
                     "region": None if i % 4 == 3 else regions[i % 2]})
    return reps


def _events(rng: random.Random, assets: list[dict[str, Any]], reps: list[dict[str, Any]],
            end: datetime, now: datetime) -> list[dict[str, Any]]:
    """Events over 450 days before the end and up to now, with exact boundary cases."""
    events = []
    span_s = int((end - (end - timedelta(days=450))).total_seconds())
    active_reps = reps[:11]  # reps 11..13 only appear long ago (or never)
    for n in range(1400):
        asset = rng.choice(assets[:40])  # the last 8 assets are never used
        rep = rng.choice(active_reps)
        kind = rng.choice(REP_TYPES + CUSTOMER_TYPES + ("customer_open", "view"))
        # Half the events in the last 200 days (both periods of either test), the rest back to 450 days.
        offset = rng.choice([rng.randint(0, 200 * 86400), rng.randint(0, span_s)])
        when = end - timedelta(seconds=offset)
        events.append(_event(rng, asset, rep, kind, when))
    for rep in reps[11:13]:  # known only in the year before the previous period's end
        events.append(_event(rng, assets[1], rep, "view", end - timedelta(days=300)))
    for asset in assets[:6]:  # after the end: never counted
        events.append(_event(rng, asset, reps[0], "view", end + timedelta(seconds=rng.randint(0, 3000))))
    # A team change after the period's end must not move the rep.
    events.append({**_event(rng, assets[2], reps[1], "download", end + timedelta(minutes=10)), "team": "moved"})
    return [e for e in events if e["when"] < now]


def _event(rng: random.Random, asset: dict[str, Any], rep: dict[str, Any], kind: str, when: datetime) -> dict[str, Any]:
    bot = kind in CUSTOMER_TYPES and rng.random() < 0.25
    carries = rng.random() < 0.8
    return {"asset_id": asset["asset_id"], "type": kind, "when": when.replace(microsecond=0), "rep": rep["rep_id"],
            "team": rep["team"] if carries else None, "region": rep["region"] if carries else None,
            "ua": SCANNER if bot else CHROME, "bot": bot}


@pytest.fixture(scope="module")
def dataset(adoption_env, adoption_stub, call_as):
    rng = random.Random(20261130)
    uid = uuid.uuid4().hex[:6]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    end = now - timedelta(hours=2)
    assets, reps = _assets(rng, uid, end), _reps(uid)
    events = _events(rng, assets, reps, end, now)
    start = end - timedelta(days=31)
    # Exact boundaries: at the start (counts), at the end (does not), at the previous start (counts there).
    for when in (start, end - timedelta(seconds=1), start - timedelta(days=31)):
        events.append(_event(rng, assets[3], reps[2], "view", when))
    events.append(_event(rng, assets[4], reps[3], "customer_open", end))

    es = es_util.client(adoption_env)
    names = store.Names.of(adoption_env)
    producer = KafkaProducer(bootstrap_servers=adoption_env.kafka_bootstrap.split(","), acks="all")
    for a in assets:
        published = a["published_at"].isoformat() if a["published_at"] else None
        produce_json(producer, topics.CATALOG.name(adoption_env), a["asset_id"],
                     catalog_event(a["asset_id"], a["status"], published_at=published))
    producer.flush()
    producer.close()
    service = call_as("service", "portal")
    for i in range(0, len(events), 500):
        stub_events = [usage_pb2.UsageEvent(
            type=usage_pb2.UsageEventType.Value("USAGE_EVENT_TYPE_" + e["type"].upper()), asset_id=e["asset_id"],
            rep_id=e["rep"], occurred_at=ts(e["when"]), user_agent=e["ua"], team=e["team"] or "",
            region=e["region"] or "", account_id="acct-1", seconds=5.0 if e["type"] == "page_view" else 0.0,
            page=1 if e["type"] == "page_view" else 0)
            for e in events[i:i + 500]]
        adoption_stub.RecordEvents(usage_pb2.RecordEventsRequest(events=stub_events), metadata=service)
    prefix = {"prefix": {"asset_id": f"ad{uid}-"}}
    wait_until(lambda: count_events(es, names, prefix) == len(events), what="usage events stored", timeout_s=120)

    def catalog_indexed() -> bool:
        es.indices.refresh(index=names.catalog)
        return es.count(index=names.catalog, query=prefix)["count"] == len(assets)

    wait_until(catalog_indexed, what="catalog view")
    # The premise of the brute force: the consumer flags exactly the scanner events as bots.
    assert count_events(es, names, {"bool": {"filter": [prefix, {"term": {"is_bot": True}}]}}) == \
        sum(e["bot"] for e in events)
    es.close()
    return {"assets": assets, "events": events, "end": end}


# ---- brute force -----------------------------------------------------------------------------------

def brute_force(data: dict[str, Any], start: datetime, end: datetime, limit: int) -> dict[str, Any]:
    prev_start = start - (end - start)
    human = [e for e in data["events"] if not e["bot"]]

    def published(before: datetime) -> set[str]:
        return {a["asset_id"] for a in data["assets"]
                if a["status"] == "published" and (a["published_at"] is None or a["published_at"] < before)}

    def used(kinds, a: datetime, b: datetime) -> set[str]:
        return {e["asset_id"] for e in human if e["type"] in kinds and a <= e["when"] < b}

    def reps_in(a: datetime, b: datetime) -> set[str]:
        return {e["rep"] for e in human if e["type"] in REP_TYPES and a <= e["when"] < b}

    def figures(a: datetime, b: datetime) -> dict[str, int]:
        pub = published(b)
        return {"published": len(pub), "rep_used": len(pub & used(REP_TYPES, a, b)),
                "customer_used": len(pub & used(CUSTOMER_TYPES, a, b)),
                "active": len(reps_in(a, b)), "known": len(reps_in(b - YEAR, b))}

    weeks, cursor = [], start
    while cursor < end:
        w_end = min(cursor + WEEK, end)
        pub = published(w_end)
        weeks.append((cursor, len(pub), len(pub & used(REP_TYPES, cursor, w_end)),
                      len(pub & used(CUSTOMER_TYPES, cursor, w_end))))
        cursor = w_end

    since = min(start - YEAR, prev_start)
    rep_events = sorted((e for e in human if e["type"] in REP_TYPES and since <= e["when"] < end),
                        key=lambda e: e["when"])
    latest: dict[str, dict[str, str]] = {}
    for e in rep_events:
        for key in ("team", "region"):
            latest.setdefault(e["rep"], {"team": "", "region": ""})
            if e[key]:
                latest[e["rep"]][key] = e[key]

    def grouped(key: str) -> dict[str, tuple[int, int, int, int]]:
        groups: dict[str, list[int]] = {}
        windows = [(start, end), (end - YEAR, end), (prev_start, start), (start - YEAR, start)]
        for rep, attrs in latest.items():
            counts = groups.setdefault(attrs[key], [0, 0, 0, 0])
            for i, (a, b) in enumerate(windows):
                counts[i] += rep in reps_in(a, b)
        return {name: tuple(c) for name, c in groups.items()}

    current_uses = Counter(e["asset_id"] for e in human if e["type"] in USE_TYPES and start <= e["when"] < end)
    previous_uses = Counter(e["asset_id"] for e in human if e["type"] in USE_TYPES and prev_start <= e["when"] < start)
    changes = [(a, current_uses[a], previous_uses[a]) for a in published(end)
               if current_uses[a] != previous_uses[a]]
    risers = sorted((c for c in changes if c[1] > c[2]), key=lambda c: (-(c[1] - c[2]), c[0]))[:limit]
    fallers = sorted((c for c in changes if c[1] < c[2]), key=lambda c: (c[1] - c[2], c[0]))[:limit]
    return {"current": figures(start, end), "previous": figures(prev_start, start), "weeks": weeks,
            "teams": grouped("team"), "regions": grouped("region"), "risers": risers, "fallers": fallers}


def from_reply(reply: usage_pb2.GetAdoptionOverviewResponse) -> dict[str, Any]:
    def figures(f: usage_pb2.AdoptionFigures) -> dict[str, int]:
        return {"published": f.published_assets, "rep_used": f.rep_used_assets,
                "customer_used": f.customer_used_assets, "active": f.active_reps, "known": f.known_reps}

    def grouped(rows) -> dict[str, tuple[int, int, int, int]]:
        return {g.name: (g.active_reps, g.known_reps, g.previous_active_reps, g.previous_known_reps) for g in rows}

    return {"current": figures(reply.current), "previous": figures(reply.previous),
            "weeks": [(w.start.ToDatetime(tzinfo=timezone.utc), w.published_assets, w.rep_used_assets,
                       w.customer_used_assets) for w in reply.weeks],
            "teams": grouped(reply.teams), "regions": grouped(reply.regions),
            "risers": [(m.asset_id, m.uses, m.previous_uses) for m in reply.risers],
            "fallers": [(m.asset_id, m.uses, m.previous_uses) for m in reply.fallers]}


# ---- tests -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("days", [31, 100])
def test_every_figure_matches_a_brute_force_count(dataset, adoption_stub, call_as, days):
    end = dataset["end"]
    start = end - timedelta(days=days)
    reply = adoption_stub.GetAdoptionOverview(usage_pb2.GetAdoptionOverviewRequest(
        time_range=common_pb2.TimeRange(start=ts(start), end=ts(end)), movers_limit=5),
        metadata=call_as("marketer"))
    expected = brute_force(dataset, start, end, 5)
    got = from_reply(reply)
    for key in expected:
        assert got[key] == expected[key], key
    # The data exercises what the figures must tell apart.
    assert 0 < expected["current"]["customer_used"] < expected["current"]["published"]
    assert expected["current"]["published"] > expected["previous"]["published"]
    assert "" in expected["teams"] and "" in expected["regions"] and "moved" not in expected["teams"]
    assert expected["risers"] and expected["fallers"]
    assert reply.current.start.ToDatetime(tzinfo=timezone.utc) == start
    assert reply.previous.start.ToDatetime(tzinfo=timezone.utc) == start - timedelta(days=days)


def test_movers_carry_titles_and_percentages(dataset, adoption_stub, call_as):
    end = dataset["end"]
    reply = adoption_stub.GetAdoptionOverview(usage_pb2.GetAdoptionOverviewRequest(
        time_range=common_pb2.TimeRange(start=ts(end - timedelta(days=31)), end=ts(end)), movers_limit=2),
        metadata=call_as("admin"))
    assert len(reply.risers) <= 2 and len(reply.fallers) <= 2
    for m in list(reply.risers) + list(reply.fallers):
        assert m.title == f"Asset {m.asset_id}"
        assert m.change == m.uses - m.previous_uses
        if m.previous_uses:
            assert not m.new_in_period
            assert m.change_percent == pytest.approx(100.0 * m.change / m.previous_uses)
        else:
            assert m.new_in_period and m.change_percent == 0


@pytest.mark.parametrize("request_, field", [
    (usage_pb2.GetAdoptionOverviewRequest(movers_limit=-1), "movers_limit"),
    (usage_pb2.GetAdoptionOverviewRequest(movers_limit=51), "movers_limit"),
    (usage_pb2.GetAdoptionOverviewRequest(time_range=common_pb2.TimeRange(
        start=Timestamp(seconds=1_700_000_000), end=Timestamp(seconds=1_600_000_000))), "time_range.start"),
    (usage_pb2.GetAdoptionOverviewRequest(time_range=common_pb2.TimeRange(
        start=Timestamp(seconds=-62135596800), end=Timestamp(seconds=-62135596800 + 86400))), "time_range.start"),
])
def test_bad_requests_name_the_field(adoption_stub, call_as, request_, field):
    with pytest.raises(grpc.RpcError) as info:
        adoption_stub.GetAdoptionOverview(request_, metadata=call_as("marketer"))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert grpc_server.field_violations(info.value)[0][0] == field


def test_reps_may_not_read_the_overview(adoption_stub, call_as):
    with pytest.raises(grpc.RpcError) as info:
        adoption_stub.GetAdoptionOverview(usage_pb2.GetAdoptionOverviewRequest(), metadata=call_as("rep"))
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
