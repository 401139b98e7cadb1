"""Share links: create, resolve, expire, revoke, list with open statistics, roles."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import usage_pb2
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


@pytest.fixture(autouse=True)
def _catalog(usage_env, raw_producer, es, names, consumer):
    """Links are only for assets of the catalog view: create() publishes its asset first."""
    global PUBLISH
    PUBLISH = lambda asset: catalog_view.publish(usage_env, raw_producer, es, names, {asset: "published"})  # noqa: E731


def create(stub, call_as, rep, asset, **kw):
    PUBLISH(asset)
    request = usage_pb2.CreateShareLinkRequest(asset_id=asset, opportunity_id=kw.pop("opportunity_id", "opp-1"), **kw)
    return stub.CreateShareLink(request, metadata=call_as("rep", rep))


def test_share_link_lifecycle(stub, consumer, call_as, es, names, uid):
    rep, asset = f"rep-{uid}", f"a-{uid}"
    created = create(stub, call_as, rep, asset, allow_download=True, recipient_note="Dana, CFO")
    assert len(created.token) >= 43 and created.url.endswith("/s/" + created.token)
    share = created.share
    assert share.state == T.SHARE_LINK_STATE_ACTIVE and share.rep_id == rep and share.opportunity_id == "opp-1"
    expires_in = share.expires_at.ToDatetime(tzinfo=timezone.utc) - datetime.now(timezone.utc)
    assert timedelta(days=29, hours=23) < expires_in <= timedelta(days=30)

    # Only the token's hash is stored.
    stored = es.get(index=names.shares, id=shares.token_hash(created.token))["_source"]
    assert created.token not in str(stored) and stored["share_id"] == share.share_id

    resolved = stub.ResolveShareLink(usage_pb2.ResolveShareLinkRequest(token=created.token),
                                     metadata=call_as("service", "portal")).share
    assert (resolved.asset_id, resolved.share_id, resolved.rep_id, resolved.opportunity_id, resolved.allow_download) == \
        (asset, share.share_id, rep, "opp-1", True)

    # The share itself is a usage event.
    wait_until(lambda: count_events(es, names, {"bool": {"filter": [{"term": {"share_id": share.share_id}},
                                                                    {"term": {"type": "share"}}]}}) == 1)

    with pytest.raises(grpc.RpcError) as err:
        stub.ResolveShareLink(usage_pb2.ResolveShareLinkRequest(token=created.token + "x"),
                              metadata=call_as("service", "portal"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as err:  # reps cannot resolve tokens
        stub.ResolveShareLink(usage_pb2.ResolveShareLinkRequest(token=created.token), metadata=call_as("rep", rep))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED

    with pytest.raises(grpc.RpcError) as err:  # another rep cannot revoke it
        stub.RevokeShareLink(usage_pb2.RevokeShareLinkRequest(share_id=share.share_id), metadata=call_as("rep", "other"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    revoked = stub.RevokeShareLink(usage_pb2.RevokeShareLinkRequest(share_id=share.share_id),
                                   metadata=call_as("rep", rep)).share
    assert revoked.state == T.SHARE_LINK_STATE_REVOKED and revoked.HasField("revoked_at")
    with pytest.raises(grpc.RpcError) as err:
        stub.ResolveShareLink(usage_pb2.ResolveShareLinkRequest(token=created.token), metadata=call_as("service", "p"))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "revoked" in err.value.details()

    # A curator may revoke anyone's link.
    other = create(stub, call_as, rep, asset)
    stub.RevokeShareLink(usage_pb2.RevokeShareLinkRequest(share_id=other.share.share_id), metadata=call_as("marketer"))
    with pytest.raises(grpc.RpcError) as err:
        stub.RevokeShareLink(usage_pb2.RevokeShareLinkRequest(share_id="shr_nope"), metadata=call_as("marketer"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_share_link_expires(stub, call_as, uid):
    created = create(stub, call_as, f"rep-{uid}", f"a-{uid}",
                     expires_at=ts(datetime.now(timezone.utc) + timedelta(seconds=2)))
    resolve = usage_pb2.ResolveShareLinkRequest(token=created.token)
    stub.ResolveShareLink(resolve, metadata=call_as("service", "p"))  # valid until its expiry

    def refusal() -> tuple[grpc.StatusCode, str] | None:
        try:
            stub.ResolveShareLink(resolve, metadata=call_as("service", "p"))
        except grpc.RpcError as exc:
            return exc.code(), exc.details()
        return None

    code, details = wait_until(refusal, timeout_s=30, interval_s=0.2, what="the link to expire")
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "expired" in details


def test_share_link_validation(stub, call_as, uid):
    cases = [
        (usage_pb2.CreateShareLinkRequest(opportunity_id="o"), "asset_id"),
        (usage_pb2.CreateShareLinkRequest(asset_id="a"), "opportunity_id"),
        (usage_pb2.CreateShareLinkRequest(asset_id="a", account_id="c", recipient_note="x" * 501), "recipient_note"),
        (usage_pb2.CreateShareLinkRequest(asset_id="a", account_id="c",
                                          expires_at=ts(datetime.now(timezone.utc) - timedelta(seconds=1))), "expires_at"),
        (usage_pb2.CreateShareLinkRequest(asset_id="a", account_id="c",
                                          expires_at=ts(datetime.now(timezone.utc) + timedelta(days=400))), "expires_at"),
    ]
    for request, field in cases:
        with pytest.raises(grpc.RpcError) as err:
            stub.CreateShareLink(request, metadata=call_as("rep", "r"))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert grpc_server.field_violations(err.value)[0][0] == field
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateShareLink(usage_pb2.CreateShareLinkRequest(asset_id="a", account_id="c"),
                             metadata=call_as("service", "p"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_list_share_links_with_open_statistics(stub, consumer, call_as, es, names, uid):
    rep = f"rep-{uid}"
    links = [create(stub, call_as, rep, f"a-{uid}-{i}", account_id=f"acct-{i}") for i in range(3)]
    create(stub, call_as, f"other-{uid}", f"a-{uid}-x")
    first = links[0].share
    created_at = first.created_at.ToDatetime(tzinfo=timezone.utc)
    opened = created_at + timedelta(minutes=5)
    portal = call_as("service", "portal")

    def customer(kind, when, ua=CHROME, **kw):
        return usage_pb2.UsageEvent(type=kind, asset_id=first.asset_id, rep_id=rep, share_id=first.share_id,
                                    occurred_at=ts(when), user_agent=ua, **kw)

    stub.RecordEvents(usage_pb2.RecordEventsRequest(events=[
        customer(T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, created_at + timedelta(seconds=2)),  # scanner: 2 s after sharing
        customer(T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, created_at + timedelta(seconds=3), ua="Mozilla/5.0 Proofpoint"),
        customer(T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, opened),
        customer(T.USAGE_EVENT_TYPE_PAGE_VIEW, opened + timedelta(seconds=10), page=1, seconds=10),
        customer(T.USAGE_EVENT_TYPE_PAGE_VIEW, opened + timedelta(seconds=40), page=2, seconds=30),
        customer(T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, opened + timedelta(minutes=3)),
        customer(T.USAGE_EVENT_TYPE_PAGE_VIEW, opened + timedelta(minutes=4), page=2, seconds=15.5),
    ]), metadata=portal)
    wait_until(lambda: count_events(es, names, {"term": {"share_id": first.share_id}}) == 8)  # 7 + the share

    listed = stub.ListShareLinks(usage_pb2.ListShareLinksRequest(page_size=2), metadata=call_as("rep", rep))
    assert len(listed.shares) == 2 and listed.next_page_token
    rest = stub.ListShareLinks(usage_pb2.ListShareLinksRequest(page_size=2, page_token=listed.next_page_token),
                               metadata=call_as("rep", rep))
    all_links = list(listed.shares) + list(rest.shares)
    assert not rest.next_page_token
    assert sorted(s.share_id for s in all_links) == sorted(link.share.share_id for link in links)  # own links only
    stats = next(s for s in all_links if s.share_id == first.share_id).stats
    assert stats.customer_opens == 2 and stats.bot_opens == 2
    assert stats.first_opened_at.ToDatetime(tzinfo=timezone.utc) == opened
    assert stats.last_opened_at.ToDatetime(tzinfo=timezone.utc) == opened + timedelta(minutes=3)
    assert [(p.page, p.seconds, p.views) for p in stats.pages] == [(1, 10.0, 1), (2, 45.5, 2)]

    # Curators see everyone's links; reps may not ask for another rep's.
    everyone = stub.ListShareLinks(usage_pb2.ListShareLinksRequest(page_size=100), metadata=call_as("marketer"))
    assert {s.rep_id for s in everyone.shares} >= {rep, f"other-{uid}"}
    with pytest.raises(grpc.RpcError) as err:
        stub.ListShareLinks(usage_pb2.ListShareLinksRequest(rep_id=f"other-{uid}"), metadata=call_as("rep", rep))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # Revoked links leave the default list but stay available on request.
    stub.RevokeShareLink(usage_pb2.RevokeShareLinkRequest(share_id=links[1].share.share_id), metadata=call_as("rep", rep))
    active = stub.ListShareLinks(usage_pb2.ListShareLinksRequest(), metadata=call_as("rep", rep))
    assert links[1].share.share_id not in {s.share_id for s in active.shares}
    every = stub.ListShareLinks(usage_pb2.ListShareLinksRequest(include_inactive=True), metadata=call_as("rep", rep))
    assert links[1].share.share_id in {s.share_id for s in every.shares}
