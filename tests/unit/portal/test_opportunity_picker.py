"""The opportunity picker's endpoint and the names in My shares, against stand-in backends."""

from __future__ import annotations

from collateral.v1 import feedback_pb2, usage_pb2
from tests.unit.portal.conftest import RpcFailure, login_as

import grpc

ACME = feedback_pb2.Opportunity(opportunity_id="opp-1", opportunity_name="Fleet Renewal <2027>", account_id="acct-1",
                                account_name="Acme & Sons")
UNNAMED = feedback_pb2.Opportunity(opportunity_id="opp-2", account_id="acct-2")


def test_options_are_labelled_by_name_and_fall_back_to_ids(client, backends):
    backends.handlers[("feedback", "ListOpportunities")] = lambda req: feedback_pb2.ListOpportunitiesResponse(
        opportunities=[ACME, UNNAMED])
    login_as(client, "rep", "rita@example.com")
    body = client.get("/api/opportunities?q=%20acme%20").get_json()
    assert [o["label"] for o in body["opportunities"]] == ["Fleet Renewal <2027> — Acme & Sons", "opp-2 — acct-2"]
    assert body["opportunities"][0]["opportunity_id"] == "opp-1" and body["opportunities"][0]["account_id"] == "acct-1"
    service, method, request, subject, role = backends.calls[-1]
    assert (method, request.query, subject, role) == ("ListOpportunities", "acme", "rita@example.com", "rep")


def test_no_options_when_the_feedback_service_does_not_answer(client, backends):
    login_as(client, "rep")
    assert client.get("/api/opportunities?q=acme").get_json() == {"opportunities": []}


def test_the_share_dialog_has_the_picker(client, backends):
    from collateral.v1 import content_pb2

    backends.handlers[("content", "GetAsset")] = lambda req: content_pb2.GetAssetResponse(asset=content_pb2.Asset(
        asset_id="a1", title="Deck", status=content_pb2.ASSET_STATUS_PUBLISHED))
    login_as(client, "rep")
    html = client.get("/assets/a1").get_data(as_text=True)
    assert 'data-opportunity-picker' in html and 'role="combobox"' in html and 'data-account-field="account_id"' in html
    assert 'name="opportunity_id"' in html


def _shares(req: usage_pb2.ListShareLinksRequest) -> usage_pb2.ListShareLinksResponse:
    return usage_pb2.ListShareLinksResponse(shares=[
        usage_pb2.ShareLink(share_id="s1", asset_id="a1", opportunity_id="opp-1", account_id="acct-1"),
        usage_pb2.ShareLink(share_id="s2", asset_id="a1", opportunity_id="opp-9", account_id="acct-9")])


def test_my_shares_show_names_with_ids_as_tooltips_and_ids_when_unknown(client, backends):
    backends.handlers[("usage", "ListShareLinks")] = _shares
    backends.handlers[("feedback", "GetOpportunities")] = lambda req: feedback_pb2.GetOpportunitiesResponse(
        opportunities=[o for o in (ACME,) if o.opportunity_id in req.opportunity_ids])
    login_as(client, "rep")
    html = client.get("/shares").get_data(as_text=True)
    assert 'title="Opportunity opp-1">Fleet Renewal &lt;2027&gt;</span>' in html  # escaped, id as tooltip
    assert 'title="Account acct-1">Acme &amp; Sons</div>' in html
    assert '<span class="mono" title="Opportunity id (no name from the CRM yet)">opp-9</span>' in html
    csv = client.get("/shares?format=csv").get_data(as_text=True).splitlines()
    assert csv[0].endswith(",opportunity_name,account_name") and csv[1].endswith(",Fleet Renewal <2027>,Acme & Sons")


def test_my_shares_still_work_without_the_feedback_service(client, backends):
    backends.handlers[("usage", "ListShareLinks")] = _shares
    backends.handlers[("feedback", "GetOpportunities")] = lambda req: (_ for _ in ()).throw(
        RpcFailure(grpc.StatusCode.UNAVAILABLE))
    login_as(client, "rep")
    response = client.get("/shares")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<span class="mono" title="Opportunity id (no name from the CRM yet)">opp-1</span>' in html
