"""Deal rooms against the real stack: create, resolve, expire, revoke, roles, and customer events
through Kafka and the usage consumer counted per asset (bots excluded)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import common_pb2, usage_pb2
from services.common import grpc_server
from services.usage import shares
from tests.integration.usage import catalog_view
from tests.integration.usage.conftest import count_events, wait_until

pytestmark = pytest.mark.integration

CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131 Safari/537.36"
T = usage_pb2


def ts(when: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(when)
    return out


@pytest.fixture
def publish(usage_env, raw_producer, es, names, consumer):
    """publish({asset: status}): put assets into the usage service's catalog view."""
    return lambda assets: catalog_view.publish(usage_env, raw_producer, es, names, assets)


def refusal(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code(), err.value.details() or ""


def test_room_lifecycle_and_roles(stub, call_as, es, names, uid, publish):
    rep, assets = f"rep-{uid}", [f"a-{uid}-2", f"a-{uid}-1"]
    publish({a: "published" for a in assets})
    created = stub.CreateRoom(T.CreateRoomRequest(title="Acme renewal", note="Dana, here is everything.",
                                                  asset_ids=assets, opportunity_id="opp-7", allow_download=True),
                              metadata=call_as("rep", rep))
    room = created.room
    assert len(created.token) >= 43 and created.url.endswith("/r/" + created.token)
    assert room.room_id.startswith("room_") and room.state == T.SHARE_LINK_STATE_ACTIVE
    assert list(room.asset_ids) == assets and room.rep_id == rep and room.opportunity_id == "opp-7"
    expires_in = room.expires_at.ToDatetime(tzinfo=timezone.utc) - datetime.now(timezone.utc)
    assert timedelta(days=29, hours=23) < expires_in <= timedelta(days=30)

    stored = es.get(index=names.rooms, id=shares.token_hash(created.token))["_source"]
    assert created.token not in str(stored) and stored["room_id"] == room.room_id

    portal = call_as("service", "portal")
    resolved = stub.ResolveRoom(T.ResolveRoomRequest(token=created.token), metadata=portal).room
    assert (resolved.room_id, resolved.title, resolved.note, list(resolved.asset_ids), resolved.allow_download) == \
        (room.room_id, "Acme renewal", "Dana, here is everything.", assets, True)
    # One share event per asset, each naming the room.
    for asset in assets:
        wait_until(lambda a=asset: count_events(es, names, {"bool": {"filter": [
            {"term": {"room_id": room.room_id}}, {"term": {"asset_id": a}}, {"term": {"type": "share"}}]}}) == 1,
            what=f"share event of {asset}")

    assert refusal(lambda: stub.ResolveRoom(T.ResolveRoomRequest(token=created.token + "x"), metadata=portal))[0] == \
        grpc.StatusCode.NOT_FOUND
    assert refusal(lambda: stub.ResolveRoom(T.ResolveRoomRequest(token=created.token),
                                            metadata=call_as("rep", rep)))[0] == grpc.StatusCode.PERMISSION_DENIED

    # Another rep (and a marketer) can neither read, revoke nor list the room; an admin can.
    other = call_as("rep", f"other-{uid}")
    for metadata in (other, call_as("marketer")):
        assert refusal(lambda: stub.RevokeRoom(T.RevokeRoomRequest(room_id=room.room_id), metadata=metadata))[0] == \
            grpc.StatusCode.PERMISSION_DENIED
        assert refusal(lambda: stub.GetRoomEngagement(T.GetRoomEngagementRequest(room_id=room.room_id),
                                                      metadata=metadata))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert room.room_id not in {r.room_id for r in stub.ListRooms(T.ListRoomsRequest(), metadata=other).rooms}
    assert refusal(lambda: stub.ListRooms(T.ListRoomsRequest(rep_id=rep), metadata=other))[0] == \
        grpc.StatusCode.PERMISSION_DENIED
    as_admin = stub.ListRooms(T.ListRoomsRequest(rep_id=rep), metadata=call_as("admin"))
    assert [r.room_id for r in as_admin.rooms] == [room.room_id]
    assert stub.GetRoomEngagement(T.GetRoomEngagementRequest(room_id=room.room_id),
                                  metadata=call_as("admin")).room.room_id == room.room_id

    revoked = stub.RevokeRoom(T.RevokeRoomRequest(room_id=room.room_id), metadata=call_as("rep", rep)).room
    assert revoked.state == T.SHARE_LINK_STATE_REVOKED and revoked.HasField("revoked_at")
    code, details = refusal(lambda: stub.ResolveRoom(T.ResolveRoomRequest(token=created.token), metadata=portal))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "revoked" in details
    assert room.room_id not in {r.room_id for r in stub.ListRooms(T.ListRoomsRequest(),
                                                                   metadata=call_as("rep", rep)).rooms}
    every = stub.ListRooms(T.ListRoomsRequest(include_inactive=True), metadata=call_as("rep", rep)).rooms
    assert [r.state for r in every if r.room_id == room.room_id] == [T.SHARE_LINK_STATE_REVOKED]
    assert refusal(lambda: stub.RevokeRoom(T.RevokeRoomRequest(room_id="room_nope"), metadata=call_as("admin")))[0] == \
        grpc.StatusCode.NOT_FOUND


def test_room_expires(stub, call_as, uid, publish):
    asset = f"a-{uid}"
    publish({asset: "published"})
    created = stub.CreateRoom(T.CreateRoomRequest(title="Short", asset_ids=[asset], expires_in=Duration(seconds=2)),
                              metadata=call_as("rep", f"rep-{uid}"))
    resolve = T.ResolveRoomRequest(token=created.token)
    stub.ResolveRoom(resolve, metadata=call_as("service", "p"))  # valid until its expiry

    def refused() -> tuple[grpc.StatusCode, str] | None:
        try:
            stub.ResolveRoom(resolve, metadata=call_as("service", "p"))
        except grpc.RpcError as exc:
            return exc.code(), exc.details()
        return None

    code, details = wait_until(refused, timeout_s=30, interval_s=0.2, what="the room to expire")
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "expired" in details


def test_rooms_refuse_what_a_share_link_refuses(stub, call_as, uid, publish):
    ok, draft, retired = f"a-{uid}-ok", f"a-{uid}-draft", f"a-{uid}-retired"
    publish({ok: "published", draft: "draft", retired: "retired"})
    rep = call_as("rep", f"rep-{uid}")
    for asset in (draft, retired):
        code, details = refusal(lambda: stub.CreateRoom(T.CreateRoomRequest(title="t", asset_ids=[ok, asset]),
                                                        metadata=rep))
        assert code == grpc.StatusCode.FAILED_PRECONDITION and asset in details
    code, details = refusal(lambda: stub.CreateRoom(T.CreateRoomRequest(title="t", asset_ids=[ok, f"nope-{uid}"]),
                                                    metadata=rep))
    assert code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateRoom(T.CreateRoomRequest(title="t", asset_ids=[ok, ok]), metadata=rep)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert grpc_server.field_violations(err.value)[0][0] == "asset_ids[1]"
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateRoom(T.CreateRoomRequest(title="t", asset_ids=[ok]), metadata=call_as("service", "p"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_customer_events_in_a_room_are_counted_per_asset(stub, call_as, es, names, uid, publish):
    rep, first, second = f"rep-{uid}", f"a-{uid}-1", f"a-{uid}-2"
    publish({first: "published", second: "published"})
    room = stub.CreateRoom(T.CreateRoomRequest(title="Two decks", asset_ids=[first, second], account_id="acct-9"),
                           metadata=call_as("rep", rep)).room
    created_at = room.created_at.ToDatetime(tzinfo=timezone.utc)
    opened = created_at + timedelta(minutes=2)

    def customer(kind, asset, when, ua=CHROME, **kw):
        return T.UsageEvent(type=kind, asset_id=asset, rep_id=rep, room_id=room.room_id, account_id="acct-9",
                            occurred_at=ts(when), user_agent=ua, channel="room", **kw)

    stub.RecordEvents(T.RecordEventsRequest(events=[
        customer(T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, first, created_at + timedelta(seconds=2)),  # scanner: 2 s after
        customer(T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, second, opened, ua="Slackbot-LinkExpanding 1.0"),
        customer(T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, first, opened),
        customer(T.USAGE_EVENT_TYPE_PAGE_VIEW, first, opened + timedelta(seconds=10), page=1, seconds=10),
        customer(T.USAGE_EVENT_TYPE_PAGE_VIEW, first, opened + timedelta(seconds=40), page=2, seconds=30),
        customer(T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, second, opened + timedelta(minutes=1)),
        customer(T.USAGE_EVENT_TYPE_PAGE_VIEW, second, opened + timedelta(minutes=1, seconds=5), page=1, seconds=5.5),
    ]), metadata=call_as("service", "portal"))
    wait_until(lambda: count_events(es, names, {"term": {"room_id": room.room_id}}) == 9, what="7 events + 2 shares")

    engagement = stub.GetRoomEngagement(T.GetRoomEngagementRequest(room_id=room.room_id),
                                        metadata=call_as("rep", rep))
    by_asset = {a.asset_id: a for a in engagement.assets}
    assert [a.asset_id for a in engagement.assets] == [first, second]
    assert (by_asset[first].customer_opens, by_asset[first].bot_opens, by_asset[first].seconds) == (1, 1, 40.0)
    assert [(p.page, p.seconds, p.views) for p in by_asset[first].pages] == [(1, 10.0, 1), (2, 30.0, 1)]
    assert (by_asset[second].customer_opens, by_asset[second].bot_opens, by_asset[second].seconds) == (1, 1, 5.5)
    assert by_asset[first].title == f"Asset {first}"
    assert by_asset[second].last_opened_at.ToDatetime(tzinfo=timezone.utc) == opened + timedelta(minutes=1)
    totals = engagement.room.stats
    assert (totals.customer_opens, totals.bot_opens, totals.seconds) == (2, 2, 45.5)

    # The fast open was judged against the room's creation time.
    reasons = es.search(index=names.events, size=10, query={"bool": {"filter": [
        {"term": {"room_id": room.room_id}}, {"term": {"is_bot": True}}]}})["hits"]["hits"]
    assert sorted(h["_source"]["bot_reason"] for h in reasons) == ["fast_open", "link_preview"]

    # The usage reports count the room's opens for each asset viewed (bots excluded).
    window = common_pb2.TimeRange(start=ts(created_at - timedelta(hours=1)), end=ts(created_at + timedelta(hours=1)))
    for asset, seconds in ((first, 40.0), (second, 5.5)):
        usage = stub.GetAssetUsage(T.GetAssetUsageRequest(asset_id=asset, time_range=window),
                                   metadata=call_as("marketer")).totals
        counts = {c.type: c.count for c in usage.counts}
        assert (usage.customer_opens, usage.bot_events, usage.seconds_read) == (1, 1, seconds)
        assert counts[T.USAGE_EVENT_TYPE_SHARE] == 1

    listed = stub.ListRooms(T.ListRoomsRequest(), metadata=call_as("rep", rep)).rooms
    assert [(r.stats.customer_opens, r.stats.bot_opens, r.stats.seconds) for r in listed] == [(2, 2, 45.5)]


def test_list_rooms_pages(stub, call_as, uid, publish):
    rep, asset = call_as("rep", f"rep-{uid}"), f"a-{uid}"
    publish({asset: "published"})
    made = [stub.CreateRoom(T.CreateRoomRequest(title=f"Room {i}", asset_ids=[asset]), metadata=rep).room.room_id
            for i in range(3)]
    page = stub.ListRooms(T.ListRoomsRequest(page_size=2), metadata=rep)
    assert len(page.rooms) == 2 and page.next_page_token
    rest = stub.ListRooms(T.ListRoomsRequest(page_size=2, page_token=page.next_page_token), metadata=rep)
    assert not rest.next_page_token
    assert sorted(r.room_id for r in [*page.rooms, *rest.rooms]) == sorted(made)
    with pytest.raises(grpc.RpcError) as err:
        stub.ListRooms(T.ListRoomsRequest(page_token="garbage"), metadata=rep)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
