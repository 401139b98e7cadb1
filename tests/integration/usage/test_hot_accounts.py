"""Hot accounts against a brute-force count of the same events.

Customer events of two reps' links go straight to the usage topic and through the real
usage consumer (bot verdicts included); the expectation is computed here from the list of
events alone, and ListHotAccounts must match it for each rep, for a curator, and for two
windows (an event older than the short window counts only in the long one).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import grpc
import pytest

from collateral.v1 import usage_pb2
from services.common import grpc_server, topics
from services.usage import model
from tests.integration.usage import catalog_view
from tests.integration.usage.conftest import count_events, produce_json, wait_until

pytestmark = pytest.mark.integration

CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131 Safari/537.36"
SCANNER = "Mozilla/5.0 Proofpoint"  # a link scanner: classified as a bot by the consumer


@dataclass
class Sent:
    """One produced event and whether it is a human customer event (what hot accounts count)."""

    event: dict[str, Any]
    human: bool


def event(uid: str, n: int, kind: str, rep: str, group: tuple[str, str], asset: str, when: datetime,
          ua: str = CHROME, **extra: Any) -> dict[str, Any]:
    out = {"event_id": f"hot-{uid}-{n}", "schema_version": 1, "type": kind, "asset_id": asset, "rep_id": rep,
           "occurred_at": model.iso(when), "share_id": f"shr-{uid}-{rep}-{group[1]}", "channel": "share_link",
           "user_agent": ua, **extra}
    out[group[0]] = group[1]
    if "room_id" in extra:  # a deal room's event names the room, not a share link
        del out["share_id"]
    if group[0] == "account_id":
        out["opportunity_id"] = f"opp-of-{group[1]}"  # an account's links usually name the deal too
    return out


def generate(uid: str, now: datetime) -> tuple[list[Sent], dict[str, Any]]:
    """Random visits of two reps' customers, a deal room visit, bots, an old visit and a rep's own event."""
    rng = random.Random(uid)
    rep_a, rep_b = f"rep-a-{uid}", f"rep-b-{uid}"
    shared_account = ("account_id", f"acct-{uid}-shared")
    groups = {rep_a: [("account_id", f"acct-{uid}-{i}") for i in range(3)] + [("opportunity_id", f"opp-{uid}-only"),
                                                                              shared_account],
              rep_b: [("account_id", f"acct-{uid}-b"), shared_account]}
    assets = [f"hot-{uid}-asset-{i}" for i in range(3)]
    sent: list[Sent] = []

    def add(kind: str, rep: str, group: tuple[str, str], asset: str, when: datetime, human: bool = True,
            **extra: Any) -> None:
        sent.append(Sent(event(uid, len(sent), kind, rep, group, asset, when, **extra), human))

    for rep in (rep_a, rep_b):  # both reps' customers read the shared account
        add("customer_open", rep, shared_account, assets[1], now - timedelta(days=1), ip_hash=f"client-{rep}")
        add("page_view", rep, shared_account, assets[1], now - timedelta(days=1), page=3, seconds=12.5)
    for _ in range(24):
        rep = rng.choice([rep_a, rep_a, rep_b])
        group, asset = rng.choice(groups[rep]), rng.choice(assets)
        when = now - timedelta(days=rng.uniform(0.1, 6.5))
        add("customer_open", rep, group, asset, when, ip_hash=f"client-{rng.randint(1, 3)}")
        for step in range(rng.randint(0, 4)):
            add("page_view", rep, group, asset, when + timedelta(seconds=30 * (step + 1)),
                page=rng.randint(1, 5), seconds=rng.randint(1, 240) / 2)
    # A deal room of rep A: its opens and reads count like a share link's.
    room = {"room_id": f"room-{uid}"}
    add("customer_open", rep_a, groups[rep_a][2], assets[2], now - timedelta(days=2), ip_hash="client-room", **room)
    add("page_view", rep_a, groups[rep_a][2], assets[2], now - timedelta(days=2), page=4, seconds=33.5, **room)
    # A link scanner opens one of rep A's links and "reads" a page for a long time: never counted.
    scanned = groups[rep_a][0]
    add("customer_open", rep_a, scanned, assets[0], now - timedelta(hours=2), human=False, ua=SCANNER)
    add("page_view", rep_a, scanned, assets[0], now - timedelta(hours=2), human=False, ua=SCANNER, page=1,
        seconds=5000.0)
    # An account only a bot opened is not hot at all.
    add("customer_open", rep_a, ("account_id", f"acct-{uid}-botonly"), assets[1], now - timedelta(hours=3),
        human=False, ua=SCANNER)
    # A visit ten days ago: outside a 7-day window, inside a 14-day one.
    old = ("account_id", f"acct-{uid}-old")
    add("customer_open", rep_a, old, assets[2], now - timedelta(days=10), ip_hash="client-9")
    add("page_view", rep_a, old, assets[2], now - timedelta(days=10), page=2, seconds=9000.0)
    # The rep's own use of an asset is not a customer reading it.
    add("view", rep_a, groups[rep_a][1], assets[1], now - timedelta(hours=1), human=False)
    return sent, {"uid": uid, "rep_a": rep_a, "rep_b": rep_b, "assets": assets}


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def expected(sent: list[Sent], start: datetime, reps: set[str]) -> list[dict[str, Any]]:
    """The ranking, counted event by event: what ListHotAccounts must answer."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for s in sent:
        e = s.event
        if not s.human or e["rep_id"] not in reps or ms(e["occurred_at"]) < start.timestamp() * 1000:
            continue
        key = ("account_id", e["account_id"]) if "account_id" in e else ("opportunity_id", e["opportunity_id"])
        row = rows.setdefault(key, {"key": key, "seconds": 0.0, "opens": 0, "viewers": set(), "last_open": None,
                                    "last_active": 0, "reps": set(),
                                    "assets": defaultdict(lambda: {"seconds": 0.0, "opens": 0,
                                                                   "pages": defaultdict(lambda: [0.0, 0])})})
        when = ms(e["occurred_at"])
        row["last_active"] = max(row["last_active"], when)
        row["reps"].add(e["rep_id"])
        asset = row["assets"][e["asset_id"]]
        if e["type"] == "customer_open":
            row["opens"] += 1
            asset["opens"] += 1
            row["viewers"].add(e["ip_hash"])
            row["last_open"] = max(row["last_open"] or 0, when)
        else:
            row["seconds"] += e["seconds"]
            asset["seconds"] += e["seconds"]
            page = asset["pages"][e["page"]]
            page[0] += e["seconds"]
            page[1] += 1
    out = []
    for row in rows.values():
        assets = sorted(row["assets"].items(), key=lambda kv: (-kv[1]["seconds"], -kv[1]["opens"], kv[0]))
        out.append({
            "key": row["key"], "seconds": row["seconds"], "opens": row["opens"], "viewers": len(row["viewers"]),
            "last_open": row["last_open"], "last_active": row["last_active"], "reps": sorted(row["reps"]),
            "assets": [(asset_id, a["seconds"], a["opens"],
                        sorted(((p, sec, n) for p, (sec, n) in a["pages"].items()), key=lambda t: (-t[1], t[0])))
                       for asset_id, a in assets]})
    return sorted(out, key=lambda r: (-r["seconds"], -r["opens"], -r["last_active"], r["key"]))


def observed(account: usage_pb2.HotAccount) -> dict[str, Any]:
    key = ("account_id", account.account_id) if account.account_id else ("opportunity_id", account.opportunity_id)
    return {
        "key": key, "seconds": account.engaged_seconds, "opens": account.opens, "viewers": account.distinct_viewers,
        "last_open": account.last_opened_at.ToMilliseconds() if account.HasField("last_opened_at") else None,
        "last_active": account.last_active_at.ToMilliseconds(), "reps": list(account.rep_ids),
        "assets": [(a.asset_id, a.engaged_seconds, a.opens, [(p.page, p.seconds, p.views) for p in a.pages])
                   for a in account.assets]}


def list_all(stub, metadata, **request: Any) -> list[usage_pb2.HotAccount]:
    """Every page of the listing, checking that ranks run on across pages."""
    accounts: list[usage_pb2.HotAccount] = []
    token = ""
    while True:
        reply = stub.ListHotAccounts(usage_pb2.ListHotAccountsRequest(page_size=2, page_token=token, **request),
                                     metadata=metadata)
        accounts.extend(reply.accounts)
        token = reply.next_page_token
        if not token:
            break
    assert [a.rank for a in accounts] == list(range(1, len(accounts) + 1))
    return accounts


@pytest.fixture(scope="module")
def produced(usage_env, raw_producer, es, names, consumer):
    uid = f"{random.getrandbits(40):010x}"
    now = datetime.now(timezone.utc)
    sent, ctx = generate(uid, now)
    catalog_view.publish(usage_env, raw_producer, es, names, {ctx["assets"][0]: "published"})
    topic = topics.USAGE.name(usage_env)
    for s in sent:
        produce_json(raw_producer, topic, s.event["asset_id"], s.event)
    raw_producer.flush()
    prefix = {"prefix": {"event_id": f"hot-{uid}-"}}
    wait_until(lambda: count_events(es, names, prefix) == len(sent), what="every event stored by the consumer")
    bots = count_events(es, names, {"bool": {"filter": [prefix, {"term": {"is_bot": True}}]}})
    assert bots == sum(1 for s in sent if s.event["user_agent"] == SCANNER)  # the stored verdicts are the scanner's
    return sent, ctx, now


@pytest.mark.parametrize("days", [7, 14])
def test_each_rep_sees_their_own_accounts_ranked_by_engaged_time(stub, call_as, produced, days):
    sent, ctx, now = produced
    start = now - timedelta(days=days)
    for rep in (ctx["rep_a"], ctx["rep_b"]):
        got = [observed(a) for a in list_all(stub, call_as("rep", rep), window_days=days)]
        assert got == expected(sent, start, {rep})
    rep_a_keys = {r["key"][1] for r in expected(sent, start, {ctx["rep_a"]})}
    assert (f"acct-{ctx['uid']}-old" in rep_a_keys) == (days == 14)
    assert not any(k.endswith("-botonly") for k in rep_a_keys)


def test_curators_pick_a_rep_or_see_every_rep(stub, call_as, produced):
    sent, ctx, now = produced
    start = now - timedelta(days=7)
    for role in ("marketer", "admin"):
        one = [observed(a) for a in list_all(stub, call_as(role), window_days=7, rep_id=ctx["rep_b"])]
        assert one == expected(sent, start, {ctx["rep_b"]})
    everyone = [observed(a) for a in list_all(stub, call_as("admin"), window_days=7)]
    ours = [row for row in everyone if row["key"][1].startswith((f"acct-{ctx['uid']}-", f"opp-{ctx['uid']}-"))]
    both = expected(sent, start, {ctx["rep_a"], ctx["rep_b"]})
    assert ours == both  # the shared account adds up both reps' customers, and lists both reps
    shared = next(row for row in ours if row["key"][1].endswith("-shared"))
    assert shared["reps"] == sorted([ctx["rep_a"], ctx["rep_b"]])


def test_reps_cannot_read_another_reps_accounts_and_bad_input_names_the_field(stub, call_as, produced):
    _, ctx, _ = produced
    with pytest.raises(grpc.RpcError) as err:
        stub.ListHotAccounts(usage_pb2.ListHotAccountsRequest(rep_id=ctx["rep_b"]),
                             metadata=call_as("rep", ctx["rep_a"]))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    own = stub.ListHotAccounts(usage_pb2.ListHotAccountsRequest(rep_id=ctx["rep_a"]),
                               metadata=call_as("rep", ctx["rep_a"]))
    assert own.accounts and all(list(a.rep_ids) == [ctx["rep_a"]] for a in own.accounts)
    for request, field in ((usage_pb2.ListHotAccountsRequest(window_days=91), "window_days"),
                           (usage_pb2.ListHotAccountsRequest(window_days=-1), "window_days"),
                           (usage_pb2.ListHotAccountsRequest(page_size=101), "page_size"),
                           (usage_pb2.ListHotAccountsRequest(page_token="not-a-token"), "page_token")):
        with pytest.raises(grpc.RpcError) as err:
            stub.ListHotAccounts(request, metadata=call_as("rep", ctx["rep_a"]))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert grpc_server.field_violations(err.value)[0][0] == field
    with pytest.raises(grpc.RpcError) as err:
        stub.ListHotAccounts(usage_pb2.ListHotAccountsRequest(), metadata=call_as("service", "portal"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_titles_come_from_the_catalog_view(stub, call_as, produced):
    _, ctx, _ = produced
    accounts = list_all(stub, call_as("rep", ctx["rep_a"]), window_days=7)
    titles = {a.asset_id: a.title for acc in accounts for a in acc.assets}
    assert titles[ctx["assets"][0]] == f"Asset {ctx['assets'][0]}"
    assert all(title == "" for asset_id, title in titles.items() if asset_id != ctx["assets"][0])
