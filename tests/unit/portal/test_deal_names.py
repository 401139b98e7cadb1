"""CRM names instead of ids where reps look at their customers (hot accounts, rooms, a new link),
against stand-in backends: names with the id as tooltip, ids when the CRM sent no name, and the
pages still render when the feedback service is down."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from flask import g

from collateral.v1 import content_pb2, feedback_pb2, usage_pb2
from services.portal import opportunities
from services.portal.users import User
from tests.unit.portal.conftest import RpcFailure, csrf_token, login_as

OPPS = {"opp-1": "Fleet Renewal <2027>"}
ACCOUNTS = {"acct-1": "Acme & Sons"}
OPP_TIP = 'title="Opportunity opp-1">Fleet Renewal &lt;2027&gt;</span>'
ACCOUNT_TIP = 'title="Account acct-1">Acme &amp; Sons</span>'


def _get_opportunities(req: feedback_pb2.GetOpportunitiesRequest) -> feedback_pb2.GetOpportunitiesResponse:
    return feedback_pb2.GetOpportunitiesResponse(opportunities=[
        feedback_pb2.Opportunity(opportunity_id=i, opportunity_name=OPPS[i]) for i in req.opportunity_ids if i in OPPS])


def _get_accounts(req: feedback_pb2.GetAccountsRequest) -> feedback_pb2.GetAccountsResponse:
    return feedback_pb2.GetAccountsResponse(accounts=[
        feedback_pb2.CrmAccount(account_id=i, account_name=ACCOUNTS[i]) for i in req.account_ids if i in ACCOUNTS])


def _unavailable(req: Any) -> Any:
    raise RpcFailure(grpc.StatusCode.UNAVAILABLE)


@pytest.fixture
def named(backends: Any) -> Any:
    """The feedback service answering name lookups."""
    backends.handlers[("feedback", "GetOpportunities")] = _get_opportunities
    backends.handlers[("feedback", "GetAccounts")] = _get_accounts
    return backends


@pytest.fixture
def feedback_down(backends: Any) -> Any:
    backends.handlers[("feedback", "GetOpportunities")] = _unavailable
    backends.handlers[("feedback", "GetAccounts")] = _unavailable
    return backends


def lookups(backends: Any) -> list[tuple[str, list[str]]]:
    """The name lookups made, with the ids each asked for."""
    return [(method, list(getattr(req, "opportunity_ids", None) or getattr(req, "account_ids", None) or []))
            for service, method, req, _, _ in backends.calls if service == "feedback"]


# ---- the helper --------------------------------------------------------------------------------

def test_one_lookup_each_for_the_distinct_ids_of_a_page(app, named):
    with app.test_request_context():
        login_as_user(app)
        names = opportunities.deal_names(["opp-1", "", "opp-9", "opp-1"], ["acct-1", "acct-9", "acct-1", ""])
    assert (names.opportunity("opp-1"), names.opportunity("opp-9")) == ("Fleet Renewal <2027>", "")
    assert (names.account("acct-1"), names.account("acct-9")) == ("Acme & Sons", "")
    assert lookups(named) == [("GetOpportunities", ["opp-1", "opp-9"]), ("GetAccounts", ["acct-1", "acct-9"])]


def test_no_ids_means_no_lookup(app, named):
    with app.test_request_context():
        login_as_user(app)
        names = opportunities.deal_names([], ["", ""])
    assert names.account("") == "" and lookups(named) == []


def test_a_page_asks_for_at_most_one_batch_of_each(app, named):
    with app.test_request_context():
        login_as_user(app)
        opportunities.deal_names([f"opp-{i}" for i in range(150)], [f"acct-{i}" for i in range(150)])
    assert [(m, len(ids)) for m, ids in lookups(named)] == [("GetOpportunities", 100), ("GetAccounts", 100)]


def test_names_degrade_to_ids_when_the_feedback_service_is_down(app, backends):
    backends.handlers[("feedback", "GetOpportunities")] = _get_opportunities
    backends.handlers[("feedback", "GetAccounts")] = _unavailable  # e.g. a server without GetAccounts yet
    with app.test_request_context():
        login_as_user(app)
        names = opportunities.deal_names(["opp-1"], ["acct-1"])
    assert names.opportunity("opp-1") == "Fleet Renewal <2027>" and names.account("acct-1") == ""


def login_as_user(app: Any) -> None:
    """g.user for calling the helper outside a view: a rep."""
    g.user = User(email="rita@example.com", name="Rita", role="rep")


# ---- hot accounts --------------------------------------------------------------------------------

def _hot(req: usage_pb2.ListHotAccountsRequest) -> usage_pb2.ListHotAccountsResponse:
    return usage_pb2.ListHotAccountsResponse(accounts=[
        usage_pb2.HotAccount(account_id="acct-1", rank=1, engaged_seconds=90, opens=2),
        usage_pb2.HotAccount(opportunity_id="opp-1", rank=2, engaged_seconds=30, opens=1),
        usage_pb2.HotAccount(account_id="acct-9", rank=3, engaged_seconds=10, opens=1)])


def test_hot_accounts_show_account_and_opportunity_names_with_ids_as_tooltips(client, named):
    named.handlers[("usage", "ListHotAccounts")] = _hot
    login_as(client, "rep", "rita@example.com")
    html = client.get("/hot-accounts").get_data(as_text=True)
    assert f'<h2><span class="deal-name" {ACCOUNT_TIP}</h2>' in html
    assert f'<h2><span class="deal-name" {OPP_TIP}</h2>' in html
    assert '<h2><span class="mono">acct-9</span></h2>' in html
    # only the opportunity-only group's opportunity is looked up
    assert lookups(named) == [("GetOpportunities", ["opp-1"]), ("GetAccounts", ["acct-1", "acct-9"])]


def test_hot_accounts_show_ids_when_the_feedback_service_is_down(client, feedback_down):
    feedback_down.handlers[("usage", "ListHotAccounts")] = _hot
    login_as(client, "rep")
    response = client.get("/hot-accounts")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<h2><span class="mono">acct-1</span></h2>' in html and '<h2><span class="mono">opp-1</span></h2>' in html


# ---- rooms ---------------------------------------------------------------------------------------

def _room(room_id: str, opportunity_id: str = "opp-1", account_id: str = "acct-1") -> usage_pb2.DealRoom:
    return usage_pb2.DealRoom(room_id=room_id, title=f"Room {room_id}", asset_ids=["a1"], opportunity_id=opportunity_id,
                          account_id=account_id, state=usage_pb2.SHARE_LINK_STATE_ACTIVE)


@pytest.fixture
def rooms_backend(backends: Any) -> Any:
    backends.handlers[("content", "GetAsset")] = lambda req: content_pb2.GetAssetResponse(
        asset=content_pb2.Asset(asset_id=req.asset_id, title="Deck", status=content_pb2.ASSET_STATUS_PUBLISHED))
    backends.handlers[("usage", "ListRooms")] = lambda req: usage_pb2.ListRoomsResponse(
        rooms=[_room("r1"), _room("r2", "opp-9", "acct-9")])
    backends.handlers[("usage", "GetRoomEngagement")] = lambda req: usage_pb2.GetRoomEngagementResponse(
        room=_room(req.room_id))
    backends.handlers[("usage", "CreateRoom")] = lambda req: usage_pb2.CreateRoomResponse(
        room=_room("r3", req.opportunity_id, req.account_id), token="t" * 43)
    return backends


def test_my_rooms_show_names_and_ids_the_crm_has_not_named(client, rooms_backend, named):
    login_as(client, "rep")
    html = client.get("/rooms").get_data(as_text=True)
    assert OPP_TIP in html and ACCOUNT_TIP in html
    assert '<span class="mono" title="Opportunity id (no name from the CRM yet)">opp-9</span>' in html
    assert '<span class="mono" title="Account id (no name from the CRM yet)">acct-9</span>' in html
    assert len(lookups(named)) == 2


def test_my_rooms_show_ids_when_the_feedback_service_is_down(client, rooms_backend, feedback_down):
    login_as(client, "rep")
    response = client.get("/rooms")
    assert response.status_code == 200
    assert '<span class="mono" title="Opportunity id (no name from the CRM yet)">opp-1</span>' in response.get_data(
        as_text=True)


def test_room_detail_shows_the_names(client, rooms_backend, named):
    login_as(client, "rep")
    html = client.get("/rooms/r1").get_data(as_text=True)
    assert f"Opportunity <span class=\"deal-name opp-name\" {OPP_TIP}" in html
    assert f"Account <span class=\"deal-name account-name\" {ACCOUNT_TIP}" in html


def test_a_new_room_shows_the_names_of_its_deal(client, rooms_backend, named):
    login_as(client, "rep")
    token = csrf_token(client, "/rooms/new")
    response = client.post("/rooms", data={"csrf_token": token, "title": "Q3", "asset": ["a1"],
                                           "opportunity_id": "opp-1", "account_id": "acct-1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert f"<dd><span class=\"deal-name opp-name\" {OPP_TIP}</dd>" in html
    assert f"<dd><span class=\"deal-name account-name\" {ACCOUNT_TIP}</dd>" in html


# ---- a new share link ---------------------------------------------------------------------------

def test_a_new_share_link_shows_the_names_of_its_deal(client, backends, named):
    backends.handlers[("content", "GetAsset")] = lambda req: content_pb2.GetAssetResponse(asset=content_pb2.Asset(
        asset_id="a1", title="Deck", status=content_pb2.ASSET_STATUS_PUBLISHED))
    backends.handlers[("usage", "CreateShareLink")] = lambda req: usage_pb2.CreateShareLinkResponse(
        share=usage_pb2.ShareLink(share_id="s1", asset_id="a1", opportunity_id=req.opportunity_id,
                                  account_id=req.account_id), token="t" * 43)
    login_as(client, "rep")
    token = csrf_token(client, "/assets/a1")
    html = client.post("/assets/a1/share", data={"csrf_token": token, "opportunity_id": "opp-1",
                                                 "account_id": "acct-9"}).get_data(as_text=True)
    assert f"<dd><span class=\"deal-name opp-name\" {OPP_TIP}</dd>" in html
    assert '<dd><span class="mono" title="Account id (no name from the CRM yet)">acct-9</span></dd>' in html


# ---- notifications -------------------------------------------------------------------------------

def _notifications(req: usage_pb2.ListNotificationsRequest) -> usage_pb2.ListNotificationsResponse:
    return usage_pb2.ListNotificationsResponse(unread_count=2, notifications=[
        usage_pb2.Notification(notification_id="n1", kind=usage_pb2.NOTIFICATION_KIND_FIRST_OPEN, share_id="shr_1",
                               asset_id="a-1", opportunity_id="opp-1", account_id="acct-1",
                               summary="Account acct-1 opened \u201cPricing\u201d for the first time"),
        usage_pb2.Notification(notification_id="n2", kind=usage_pb2.NOTIFICATION_KIND_REOPEN, room_id="room_9",
                               asset_id="a-2", account_id="acct-9", summary="Account acct-9 opened deal room"),
    ])


def test_notifications_name_the_account_and_opportunity_and_link_to_the_room(client, named):
    named.handlers[("usage", "ListNotifications")] = _notifications
    login_as(client, "rep")
    page = client.get("/notifications").get_data(as_text=True)
    assert ACCOUNT_TIP in page and OPP_TIP in page
    assert 'title="Account id (no name from the CRM yet)">acct-9</span>' in page
    assert 'href="/rooms/room_9"' in page and 'href="/shares" title="Link shr_1"' in page
    assert lookups(named) == [("GetOpportunities", ["opp-1"]), ("GetAccounts", ["acct-1", "acct-9"])]


def test_notifications_show_ids_when_the_feedback_service_is_down(client, feedback_down):
    feedback_down.handlers[("usage", "ListNotifications")] = _notifications
    login_as(client, "rep")
    response = client.get("/notifications")
    assert response.status_code == 200 and 'title="Opportunity id (no name from the CRM yet)">opp-1</span>' in \
        response.get_data(as_text=True)
