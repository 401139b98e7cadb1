"""Deal-room access controls (passcode, verified email) and copying a room's link again, through the real
usage server, Elasticsearch, Kafka and a real SMTP server process; the customer gate through the portal app."""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable, Iterator

import grpc
import pytest

from collateral.v1 import usage_pb2
from services.common import config
from services.usage import share_access, shares
from tests.integration.usage import catalog_view
from tests.integration.usage.conftest import wait_until
from tests.integration.usage.test_share_access import (_stub, beacon_open, code_in, gate_post, mail_env,  # noqa: F401
                                                       mail_server_stub, portal)

pytestmark = pytest.mark.integration

T = usage_pb2


@pytest.fixture(scope="module")
def rotated_room_stub(usage_env: config.Settings, start_service: Callable) -> Iterator[Any]:
    """A usage server of the same deployment under another share link secret (before a rotation)."""
    yield from _stub(dataclasses.replace(usage_env, share_link_secret="an-older-room-link-secret-" + "y" * 16),
                     start_service)


@pytest.fixture
def publish(usage_env, raw_producer, es, names, consumer) -> Callable[[list[str]], None]:
    return lambda assets: catalog_view.publish(usage_env, raw_producer, es, names, {a: "published" for a in assets})


def create_room(stub: Any, call_as: Callable, rep: str, assets: list[str], **fields: Any) -> Any:
    request = T.CreateRoomRequest(title="Acme renewal", asset_ids=assets, opportunity_id="opp-room", **fields)
    return stub.CreateRoom(request, metadata=call_as("rep", rep))


def refusal(call: Callable[[], Any]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code(), err.value.details() or ""


# ---- the usage service ------------------------------------------------------------------

def test_a_room_passcode_is_stored_as_a_hash_and_checked_by_the_service(stub, call_as, es, names, uid, publish,
                                                                       usage_env):
    rep, assets = f"rep-{uid}", [f"a-{uid}-1", f"a-{uid}-2"]
    publish(assets)
    created = create_room(stub, call_as, rep, assets, passcode="Blue-Falcon-42")
    assert created.room.passcode_required and not created.room.email_verification_required

    stored = es.get(index=names.rooms, id=shares.token_hash(created.token))["_source"]
    assert "Blue-Falcon-42" not in str(stored) and stored["passcode_hash"].startswith("scrypt:")
    assert created.token == share_access.derive_token(usage_env.share_link_secret, created.room.room_id,
                                                      share_access.DEAL_ROOM)
    portal_md = call_as("service", "portal")
    right = stub.ResolveRoom(T.ResolveRoomRequest(token=created.token, passcode="Blue-Falcon-42"), metadata=portal_md)
    wrong = stub.ResolveRoom(T.ResolveRoomRequest(token=created.token, passcode="blue-falcon-42"), metadata=portal_md)
    none = stub.ResolveRoom(T.ResolveRoomRequest(token=created.token), metadata=portal_md)
    assert (right.passcode_accepted, wrong.passcode_accepted, none.passcode_accepted) == (True, False, False)
    assert right.room.passcode_required

    code, details = refusal(lambda: create_room(stub, call_as, rep, assets, passcode="abc"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "passcode" in details
    code, _ = refusal(lambda: create_room(stub, call_as, rep, assets, require_email_verification=True))
    assert code == grpc.StatusCode.FAILED_PRECONDITION  # this server sends no email


def test_email_verification_with_domains_is_stored_on_the_room(mail_server_stub, call_as, uid, publish):
    stub, _ = mail_server_stub
    publish([f"a-{uid}"])
    created = create_room(stub, call_as, f"rep-{uid}", [f"a-{uid}"], require_email_verification=True,
                          allowed_email_domains=["@Acme.test", "acme.test", "acme.co.uk"])
    assert created.room.email_verification_required and not created.room.passcode_required
    assert list(created.room.allowed_email_domains) == ["acme.test", "acme.co.uk"]
    code, details = refusal(lambda: create_room(stub, call_as, f"rep-{uid}", [f"a-{uid}"],
                                                allowed_email_domains=["acme.test"]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "allowed_email_domains" in details


def test_the_owner_copies_an_active_room_again(stub, call_as, uid, publish):
    rep, assets = f"rep-{uid}", [f"a-{uid}"]
    publish(assets)
    created = create_room(stub, call_as, rep, assets)
    assert created.room.revealable
    reveal = T.RevealRoomLinkRequest(room_id=created.room.room_id)

    again = stub.RevealRoomLink(reveal, metadata=call_as("rep", rep))
    assert (again.token, again.url, again.room.room_id) == (created.token, created.url, created.room.room_id)
    assert stub.RevealRoomLink(reveal, metadata=call_as("admin", "boss")).token == created.token
    for other in (call_as("rep", f"other-{uid}"), call_as("marketer", f"m-{uid}")):
        assert refusal(lambda: stub.RevealRoomLink(reveal, metadata=other))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert refusal(lambda: stub.RevealRoomLink(T.RevealRoomLinkRequest(room_id=f"room_missing{uid}"),
                                               metadata=call_as("rep", rep)))[0] == grpc.StatusCode.NOT_FOUND
    assert refusal(lambda: stub.RevealRoomLink(T.RevealRoomLinkRequest(), metadata=call_as("rep", rep)))[0] == \
        grpc.StatusCode.INVALID_ARGUMENT

    stub.RevokeRoom(T.RevokeRoomRequest(room_id=created.room.room_id), metadata=call_as("rep", rep))
    code, details = refusal(lambda: stub.RevealRoomLink(reveal, metadata=call_as("rep", rep)))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "revoked" in details


def test_a_room_from_before_the_secret_changed_works_but_cannot_be_copied_again(stub, rotated_room_stub, call_as,
                                                                                 uid, publish):
    rep, assets = f"rep-{uid}", [f"a-{uid}"]
    publish(assets)
    old_stub, _ = rotated_room_stub
    created = create_room(old_stub, call_as, rep, assets)

    resolved = stub.ResolveRoom(T.ResolveRoomRequest(token=created.token), metadata=call_as("service", "p")).room
    assert resolved.room_id == created.room.room_id and not resolved.revealable
    code, details = refusal(lambda: stub.RevealRoomLink(T.RevealRoomLinkRequest(room_id=created.room.room_id),
                                                        metadata=call_as("rep", rep)))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "cannot be copied again" in details


def test_a_room_with_a_random_token_cannot_be_copied_again(stub, call_as, es, names, uid, publish):
    """Rooms made before room tokens were derived kept a random token, which exists nowhere now."""
    rep, assets = f"rep-{uid}", [f"a-{uid}"]
    publish(assets)
    created = create_room(stub, call_as, rep, assets)
    doc = es.get(index=names.rooms, id=shares.token_hash(created.token))["_source"]
    legacy_token, room_id = shares.new_token(), f"room_legacy{uid}"
    legacy = {k: v for k, v in doc.items() if k != "token_secret_id"} | {"room_id": room_id}
    es.index(index=names.rooms, id=shares.token_hash(legacy_token), document=legacy, refresh="wait_for")

    resolved = stub.ResolveRoom(T.ResolveRoomRequest(token=legacy_token), metadata=call_as("service", "p")).room
    assert resolved.room_id == room_id and not resolved.revealable
    code, details = refusal(lambda: stub.RevealRoomLink(T.RevealRoomLinkRequest(room_id=room_id),
                                                        metadata=call_as("rep", rep)))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "shown only once" in details


# ---- the customer gate, through the portal ------------------------------------------------

def image_status(client: Any, path: str) -> int:
    return client.get(f"{path}/pages/1.png").status_code


def download_status(client: Any, room: str, path: str) -> int:
    """A download posted with a valid CSRF token (from the gate page), so only the gate can refuse it."""
    html = client.get(room).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, html[:500]
    return client.post(f"{path}/download", data={"visit": "a" * 32, "csrf_token": token.group(1)}).status_code


def test_a_passcode_room_refuses_everything_until_the_passcode(portal, mail_server_stub, call_as, uid, publish):
    stub, _ = mail_server_stub
    assets = [f"a-{uid}-1", f"a-{uid}-2"]
    publish(assets)
    created = create_room(stub, call_as, f"rep-{uid}", assets, passcode="open-sesame", allow_download=True)
    room, first, second = f"/r/{created.token}", f"/r/{created.token}/1", f"/r/{created.token}/2"
    client = portal.test_client()

    page = client.get(room)
    assert page.status_code == 200 and 'data-step="passcode"' in page.get_data(as_text=True)
    assert 'data-step="passcode"' in client.get(second).get_data(as_text=True)
    assert image_status(client, first) == 403 and image_status(client, second) == 403
    assert beacon_open(client, first, "a" * 32) == 403
    assert download_status(client, room, first) == 403

    wrong = gate_post(client, room, step="passcode", passcode="open-sesame!")
    assert wrong.status_code == 403 and "not right" in wrong.get_data(as_text=True)
    assert beacon_open(client, second, "b" * 32) == 403

    right = gate_post(client, room, step="passcode", passcode="open-sesame")
    assert right.status_code == 303 and right.headers["Location"].endswith(room)
    # One passcode opens every asset of the room.
    assert beacon_open(client, first, "c" * 32) == 204 and beacon_open(client, second, "d" * 32) == 204
    assert beacon_open(portal.test_client(), first, "e" * 32) == 403  # another browser has not passed


def test_an_email_room_opens_after_the_code_and_records_the_viewer(portal, mail_server_stub, mail_server, call_as,
                                                                     consumer, es, names, uid, publish):
    stub, _ = mail_server_stub
    rep, assets = f"rep-{uid}", [f"a-{uid}-1", f"a-{uid}-2"]
    publish(assets)
    created = create_room(stub, call_as, rep, assets, require_email_verification=True,
                          allowed_email_domains=["acme.test"])
    room, second = f"/r/{created.token}", f"/r/{created.token}/2"
    client = portal.test_client()

    first = client.get(room)
    assert first.status_code == 200 and 'data-step="email"' in first.get_data(as_text=True)
    assert beacon_open(client, second, "a" * 32) == 403 and image_status(client, second) == 403

    refused = gate_post(client, room, step="email", email=f"dana-{uid}@elsewhere.test")
    assert refused.status_code == 400 and "acme.test" in refused.get_data(as_text=True)
    email = f"dana-{uid}@acme.test"
    sent = gate_post(client, room, step="email", email=email)
    assert sent.status_code == 200 and 'data-step="code"' in sent.get_data(as_text=True)
    [message] = wait_until(lambda: mail_server.messages(to=email), what="the one-time code email")
    code = code_in(message)

    wrong = gate_post(client, room, step="code", code=f"{(int(code) + 1) % 10 ** 6:06d}")
    assert wrong.status_code == 403 and "4 attempts left" in wrong.get_data(as_text=True)
    assert beacon_open(client, second, "b" * 32) == 403

    right = gate_post(client, room, step="code", code=code)
    assert right.status_code == 303 and right.headers["Location"].endswith(room)
    assert beacon_open(client, second, "c" * 32) == 204

    def opens_by_viewer() -> list[dict[str, Any]]:
        found = es.search(index=names.events, query={"bool": {"filter": [
            {"term": {"room_id": created.room.room_id}}, {"term": {"type": "customer_open"}}]}})
        return [h["_source"] for h in found["hits"]["hits"]]

    [event] = wait_until(opens_by_viewer, what="the room's customer open")
    assert (event["viewer_email"], event["asset_id"]) == (email, assets[1])

    def engagement() -> Any:
        return stub.GetRoomEngagement(T.GetRoomEngagementRequest(room_id=created.room.room_id),
                                      metadata=call_as("rep", rep))

    assert wait_until(lambda: list(engagement().viewer_emails) == [email], what="the verified viewer of the room")
    # Opened seconds after the room was made, the open is judged a link scanner's (fast_open): counted as a bot.
    assert wait_until(lambda: [a.customer_opens + a.bot_opens for a in engagement().assets] == [0, 1],
                      what="the open counted on the room's second asset")
