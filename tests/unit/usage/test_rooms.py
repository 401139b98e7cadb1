"""Deal rooms: request validation, the room's share events, ownership, and the bot caps of room opens."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from google.protobuf.duration_pb2 import Duration

from collateral.v1 import usage_pb2
from services.common import auth, errors
from services.common.contracts import usage_event
from services.common.contracts.errors import InvalidEvent
from services.usage import bots, model, rooms

NOW = datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc)
PUBLISHED = {"status": "published"}


def request(**kw) -> usage_pb2.CreateRoomRequest:
    kw.setdefault("title", "Acme renewal")
    kw.setdefault("asset_ids", ["a-1", "a-2"])
    return usage_pb2.CreateRoomRequest(**kw)


def refused_field(req: usage_pb2.CreateRoomRequest) -> str:
    with pytest.raises(errors.InvalidArgument) as err:
        rooms.validate_create(req, NOW, 30)
    return err.value.field


def test_a_valid_request_keeps_the_reps_order_and_defaults_the_expiry():
    spec = rooms.validate_create(request(asset_ids=["z-9", "a-1", "m-5"], note=" Hi Dana ", opportunity_id="opp-1"),
                                 NOW, 30)
    assert spec.asset_ids == ["z-9", "a-1", "m-5"]
    assert spec.note == "Hi Dana" and spec.opportunity_id == "opp-1" and spec.account_id == ""
    assert spec.expires_at == NOW + timedelta(days=30)


def test_expires_in_sets_the_expiry():
    spec = rooms.validate_create(request(expires_in=Duration(seconds=3600)), NOW, 30)
    assert spec.expires_at == NOW + timedelta(hours=1)
    assert rooms.validate_create(request(expires_in=Duration(seconds=365 * 86400)), NOW, 30).expires_at == \
        NOW + timedelta(days=365)


@pytest.mark.parametrize("req, field", [
    (request(title=""), "title"),
    (request(title="   "), "title"),
    (request(title="t" * 201), "title"),
    (request(note="n" * 2001), "note"),
    (request(asset_ids=[]), "asset_ids"),
    (request(asset_ids=[f"a-{i}" for i in range(51)]), "asset_ids"),
    (request(asset_ids=["a-1", ""]), "asset_ids[1]"),
    (request(asset_ids=["a-1", "x" * 129]), "asset_ids[1]"),
    (request(asset_ids=["a-1", "a-2", "a-1"]), "asset_ids[2]"),
    (request(opportunity_id="o" * 129), "opportunity_id"),
    (request(account_id="c" * 129), "account_id"),
    (request(expires_in=Duration(seconds=0)), "expires_in"),
    (request(expires_in=Duration(seconds=-60)), "expires_in"),
    (request(expires_in=Duration(seconds=365 * 86400 + 1)), "expires_in"),
    (request(expires_in=Duration(seconds=1, nanos=-5)), "expires_in"),
])
def test_invalid_requests_name_the_field(req, field):
    assert refused_field(req) == field


def test_limits_are_inclusive():
    spec = rooms.validate_create(request(title="t" * 200, note="n" * 2000,
                                         asset_ids=[f"a-{i}" for i in range(50)]), NOW, 30)
    assert len(spec.asset_ids) == 50


def test_assets_are_checked_like_share_links():
    rooms.check_assets(["a-1", "a-2"], {"a-1": PUBLISHED, "a-2": PUBLISHED}, NOW)
    with pytest.raises(errors.NotFound):
        rooms.check_assets(["a-1", "a-2"], {"a-1": PUBLISHED}, NOW)
    with pytest.raises(errors.FailedPrecondition, match="draft"):
        rooms.check_assets(["a-1", "a-2"], {"a-1": PUBLISHED, "a-2": {"status": "draft"}}, NOW)
    expired = {"status": "published", "expires_at": model.iso(NOW - timedelta(days=1))}
    with pytest.raises(errors.FailedPrecondition, match="expired"):
        rooms.check_assets(["a-1"], {"a-1": expired}, NOW)


def test_a_room_records_one_valid_share_event_per_asset():
    spec = rooms.validate_create(request(account_id="acct-1"), NOW, 30)
    doc = rooms.room_document(spec, "room_abc", "rep-1", NOW)
    events = rooms.share_events(doc, NOW)
    assert [e["asset_id"] for e in events] == ["a-1", "a-2"]
    assert len({e["event_id"] for e in events}) == 2
    for event in events:
        parsed = usage_event.parse(event, NOW)
        assert (parsed["type"], parsed["room_id"], parsed["rep_id"], parsed["account_id"]) == \
            ("share", "room_abc", "rep-1", "acct-1")
        assert "opportunity_id" not in parsed and "share_id" not in parsed


def test_the_event_contract_takes_an_optional_room_id():
    base = {"event_id": "e1", "schema_version": 1, "occurred_at": "2026-03-04T09:00:00Z", "type": "customer_open",
            "asset_id": "a-1", "rep_id": "r"}
    assert "room_id" not in usage_event.parse(base, NOW)  # old producers keep working
    assert usage_event.parse(dict(base, room_id="room_1"), NOW)["room_id"] == "room_1"
    with pytest.raises(InvalidEvent) as err:
        usage_event.parse(dict(base, room_id="r" * 129), NOW)
    assert err.value.field == "room_id"
    stored = model.stored_document(dict(base, room_id="room_1"), received_at=base["occurred_at"], is_bot=False,
                                   bot_reason="", known_asset=True, ip_secret="s" * 32)
    assert stored["room_id"] == "room_1"


def test_only_the_owner_or_an_admin_manages_a_room():
    doc = {"rep_id": "rep-1"}
    assert rooms.may_manage(doc, auth.Principal("rep-1", auth.Role.REP))
    assert rooms.may_manage(doc, auth.Principal("boss", auth.Role.ADMIN))
    assert not rooms.may_manage(doc, auth.Principal("rep-2", auth.Role.REP))
    assert not rooms.may_manage(doc, auth.Principal("mk", auth.Role.MARKETER))


def test_room_totals_sum_the_assets():
    per_asset = {
        "a-1": {"customer_opens": 2, "bot_opens": 1, "seconds": 10.0, "first_opened_ms": 5.0, "last_opened_ms": 9.0},
        "a-2": {"customer_opens": 1, "bot_opens": 0, "seconds": 2.5, "first_opened_ms": 3.0, "last_opened_ms": 4.0},
    }
    assert rooms.totals(per_asset) == {"customer_opens": 3, "bot_opens": 1, "seconds": 12.5, "first_opened_ms": 3.0,
                                       "last_opened_ms": 9.0}
    assert rooms.totals({})["first_opened_ms"] is None


def room_open(n: int, asset: str, client: str = "c1", seconds: float = 0.0, room: str = "room_1") -> dict:
    at = NOW + timedelta(seconds=seconds)
    return {"event_id": f"e{n:03d}", "type": "customer_open", "room_id": room, "asset_id": asset, "ip_hash": client,
            "occurred_at": model.iso(at)}


def test_each_asset_of_a_room_is_capped_like_a_share_link():
    caps = bots.OpenCaps(per_client=2, per_link=100)
    opens = [room_open(1, "a-1", seconds=1), room_open(2, "a-1", seconds=2), room_open(3, "a-1", seconds=3),
             room_open(4, "a-2", seconds=4), room_open(5, "a-2", seconds=5)]
    assert bots.opens_over_cap(opens, caps) == {"e003"}  # a-1's third open of the client; a-2 has its own budget
    other_room = [room_open(6, "a-1", seconds=6, room="room_2")]
    assert bots.opens_over_cap(opens + other_room, caps) == {"e003"}


def test_cap_keys_of_rooms_and_share_links_never_meet():
    share_open = {"type": "customer_open", "share_id": "room_1", "asset_id": "a-1", "occurred_at": "2026-03-04T09:00:00Z"}
    in_room = dict(room_open(1, "a-1"))
    assert bots.open_cap_key(share_open) != bots.open_cap_key(in_room)
    assert bots.open_cap_key(in_room) == (("room", "room_1", "a-1"), "2026-03-04")
    assert bots.open_cap_key(dict(in_room, type="page_view")) is None
    assert bots.open_cap_key({"type": "customer_open", "asset_id": "a", "occurred_at": "2026-03-04"}) is None
