"""Share links with a call to action, through the real usage server: stored, resolved, listed, refused."""

from __future__ import annotations

import grpc
import pytest

from collateral.v1 import usage_pb2
from services.common import grpc_server
from services.usage import shares
from tests.integration.usage import catalog_view

pytestmark = pytest.mark.integration

MEETING = "https://cal.example.com/rita/30min?ref=share"


@pytest.fixture
def asset(usage_env, raw_producer, es, names, consumer, uid) -> str:
    """A published asset of the usage service's catalog view (links are only made to those)."""
    asset_id = f"cta-{uid}"
    catalog_view.publish(usage_env, raw_producer, es, names, {asset_id: "published"})
    return asset_id


def create(stub, call_as, rep: str, asset_id: str, **fields) -> usage_pb2.CreateShareLinkResponse:
    request = usage_pb2.CreateShareLinkRequest(asset_id=asset_id, opportunity_id="opp-cta", **fields)
    return stub.CreateShareLink(request, metadata=call_as("rep", rep))


def resolve(stub, call_as, token: str) -> usage_pb2.ShareLink:
    return stub.ResolveShareLink(usage_pb2.ResolveShareLinkRequest(token=token),
                                 metadata=call_as("service", "portal")).share


def test_book_a_meeting_is_stored_resolved_and_listed(stub, call_as, es, names, asset, uid):
    rep = f"rep-{uid}@example.com"
    created = create(stub, call_as, rep, asset, recipient_note="Dana, CFO", customer_message="Dana, the numbers we discussed",
                     call_to_action=usage_pb2.SHARE_CALL_TO_ACTION_BOOK_MEETING, meeting_url=MEETING)
    assert created.share.call_to_action == usage_pb2.SHARE_CALL_TO_ACTION_BOOK_MEETING
    assert created.share.meeting_url == MEETING

    stored = es.get(index=names.shares, id=shares.token_hash(created.token))["_source"]
    assert stored["call_to_action"] == "book_meeting" and stored["meeting_url"] == MEETING

    resolved = resolve(stub, call_as, created.token)
    assert (resolved.call_to_action, resolved.meeting_url, resolved.customer_message, resolved.recipient_note) == \
        (usage_pb2.SHARE_CALL_TO_ACTION_BOOK_MEETING, MEETING, "Dana, the numbers we discussed", "Dana, CFO")

    listed = stub.ListShareLinks(usage_pb2.ListShareLinksRequest(asset_id=asset), metadata=call_as("rep", rep)).shares
    assert [(s.share_id, s.meeting_url) for s in listed] == [(created.share.share_id, MEETING)]


def test_reply_by_email_and_none(stub, call_as, es, names, asset, uid):
    rep = f"rep-{uid}@example.com"
    reply = create(stub, call_as, rep, asset, call_to_action=usage_pb2.SHARE_CALL_TO_ACTION_REPLY_EMAIL)
    resolved = resolve(stub, call_as, reply.token)
    assert resolved.call_to_action == usage_pb2.SHARE_CALL_TO_ACTION_REPLY_EMAIL and resolved.meeting_url == ""
    assert es.get(index=names.shares, id=shares.token_hash(reply.token))["_source"]["call_to_action"] == "reply_email"

    plain = create(stub, call_as, rep, asset)
    assert resolve(stub, call_as, plain.token).call_to_action == usage_pb2.SHARE_CALL_TO_ACTION_UNSPECIFIED
    assert "call_to_action" not in es.get(index=names.shares, id=shares.token_hash(plain.token))["_source"]


@pytest.mark.parametrize("fields, path", [
    ({"call_to_action": usage_pb2.SHARE_CALL_TO_ACTION_BOOK_MEETING}, "meeting_url"),
    ({"call_to_action": usage_pb2.SHARE_CALL_TO_ACTION_BOOK_MEETING, "meeting_url": "http://cal.example.com/x"},
     "meeting_url"),
    ({"call_to_action": usage_pb2.SHARE_CALL_TO_ACTION_BOOK_MEETING, "meeting_url": "javascript:alert(1)"},
     "meeting_url"),
    ({"call_to_action": usage_pb2.SHARE_CALL_TO_ACTION_BOOK_MEETING,
      "meeting_url": "https://cal.example.com/" + "x" * 2030}, "meeting_url"),
    ({"meeting_url": MEETING}, "meeting_url"),
    ({"call_to_action": 9}, "call_to_action"),
    ({"customer_message": "x" * 2001}, "customer_message"),
])
def test_bad_call_to_action_is_invalid_argument_with_field_path(stub, call_as, asset, uid, fields, path):
    with pytest.raises(grpc.RpcError) as err:
        create(stub, call_as, f"rep-{uid}@example.com", asset, **fields)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert grpc_server.field_violations(err.value)[0][0] == path


def test_reply_by_email_needs_a_sender_with_an_email_address(stub, call_as, asset, uid):
    with pytest.raises(grpc.RpcError) as err:
        create(stub, call_as, f"rep-{uid}", asset, call_to_action=usage_pb2.SHARE_CALL_TO_ACTION_REPLY_EMAIL)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert grpc_server.field_violations(err.value)[0][0] == "call_to_action"
