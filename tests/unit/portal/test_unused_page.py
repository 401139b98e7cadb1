"""The unused-collateral page: the request it sends, the summary and actions it shows, what actions report."""

from __future__ import annotations

from datetime import date, timedelta

import grpc

from collateral.v1 import common_pb2, content_pb2, usage_pb2
from services.portal import unused_actions
from services.portal.unused_report import View
from tests.unit.portal.conftest import RpcFailure, csrf_token, login_as

U = usage_pb2


def reply(n: int = 2) -> U.ListUnusedAssetsResponse:
    return U.ListUnusedAssetsResponse(
        assets=[U.UnusedAsset(asset_id=f"a{i}", title=f"Asset {i}", owner="o@example.com", type="deck",
                              reason=U.UNUSED_REASON_NEVER_USED, age_days=10 * i, impressions=i) for i in range(n)],
        total_size=n, next_page_token="next-tok", previous_page_token="prev-tok",
        reason_counts=[U.UnusedReasonCount(reason=U.UNUSED_REASON_NEVER_USED, count=n),
                       U.UnusedReasonCount(reason=U.UNUSED_REASON_EXPIRED, count=4)])


def test_url_arguments_become_the_backend_request():
    view = View.of({"reason": "expired", "owner": " o@example.com ", "type": "case_study", "age": "31-90",
                    "sort": "impressions", "dir": "asc", "page_size": "50", "page_token": "t", "days": "30"})
    req = view.request(common_pb2.TimeRange())
    assert list(req.reasons) == [U.UNUSED_REASON_EXPIRED] and req.owner == "o@example.com"
    assert list(req.asset_types) == ["case_study"] and (req.min_age_days, req.max_age_days) == (31, 90)
    assert (req.sort, req.descending, req.page_size, req.page_token) == (U.UNUSED_SORT_IMPRESSIONS, False, 50, "t")


def test_unknown_url_values_fall_back_to_the_defaults():
    view = View.of({"reason": "bogus", "type": "x", "age": "1-2", "sort": "title", "page_size": "7", "days": "9999"})
    assert (view.reason, view.type, view.age, view.sort, view.dir, view.page_size, view.days) == \
        ("", "", "", "age", "desc", 25, 90)


def test_sort_link_flips_the_direction_of_the_current_sort_only():
    view = View.of({"sort": "age", "dir": "desc", "page_token": "t"})
    assert "dir=asc" in view.sort_link("age") and "page_token" not in view.sort_link("age")
    assert "sort=owner" in view.sort_link("owner") and "dir=desc" in view.sort_link("owner")


def test_page_shows_counts_per_reason_sort_state_and_paging(client, backends):
    backends.handlers[("usage", "ListUnusedAssets")] = lambda req: reply()
    login_as(client, "marketer")
    html = client.get("/reports/unused?sort=age&dir=desc").get_data(as_text=True)
    assert 'data-reason="never_used"' in html and '<strong class="reason-count">2</strong>' in html
    assert '<strong class="reason-count">4</strong>' in html  # expired
    assert '<strong class="reason-count">6</strong>' in html  # all reasons
    assert 'aria-sort="descending"' in html
    assert "page_token=next-tok" in html and "page_token=prev-tok" in html
    # Email is not configured in unit tests: the notify action is disabled and says why.
    assert 'id="action-notify" disabled' in html and "Email is not configured" in html


def test_retire_reports_done_and_named_failures_and_keeps_the_view(client, backends):
    def retire(req):
        if req.asset_id == "bad":
            raise RpcFailure(grpc.StatusCode.FAILED_PRECONDITION, "asset bad is a draft")
        return content_pb2.RetireAssetResponse()

    backends.handlers[("content", "RetireAsset")] = retire
    backends.handlers[("usage", "ListUnusedAssets")] = lambda req: reply()
    login_as(client, "marketer")
    token = csrf_token(client, "/reports/unused")
    response = client.post("/reports/unused/retire", data={"csrf_token": token, "asset_id": ["a1", "bad"],
                                                           "reason": "never_used", "sort": "owner"})
    assert response.status_code == 302 and "reason=never_used" in response.headers["Location"]
    assert "sort=owner" in response.headers["Location"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Retired 1 asset. Failed: bad (asset bad is a draft)." in html


def test_extend_needs_a_future_date_and_sends_the_version_read(client, backends):
    backends.handlers[("content", "GetAsset")] = lambda req: content_pb2.GetAssetResponse(
        asset=content_pb2.Asset(asset_id=req.asset_id, version=7))
    sent = []
    backends.handlers[("content", "UpdateAsset")] = lambda req: sent.append(req) or content_pb2.UpdateAssetResponse()
    backends.handlers[("usage", "ListUnusedAssets")] = lambda req: reply()
    login_as(client, "marketer")
    token = csrf_token(client, "/reports/unused")
    client.post("/reports/unused/extend", data={"csrf_token": token, "asset_id": "a1", "expires_on": "2000-01-01"})
    assert not sent
    day = (date.today() + timedelta(days=30)).isoformat()
    client.post("/reports/unused/extend", data={"csrf_token": token, "asset_id": "a1", "expires_on": day})
    assert [(r.asset.asset_id, list(r.update_mask.paths), r.expected_version) for r in sent] == [
        ("a1", ["expires_at"], 7)]
    assert sent[0].asset.expires_at.ToDatetime().date().isoformat() == day


def test_notify_is_refused_without_email(client, backends):
    backends.handlers[("usage", "ListUnusedAssets")] = lambda req: reply()
    login_as(client, "marketer")
    token = csrf_token(client, "/reports/unused")
    response = client.post("/reports/unused/notify", data={"csrf_token": token, "asset_id": "a1"})
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Email is not configured" in html
    assert not [c for c in backends.calls if c[0] == "content"]


def test_promote_adds_the_stage_to_existing_pins(client, backends):
    backends.handlers[("content", "GetAsset")] = lambda req: content_pb2.GetAssetResponse(asset=content_pb2.Asset(
        asset_id=req.asset_id, version=3, pinned_stages=[common_pb2.BUYING_STAGE_AWARENESS]))
    sent = []
    backends.handlers[("content", "UpdateAsset")] = lambda req: sent.append(req) or content_pb2.UpdateAssetResponse()
    backends.handlers[("usage", "ListUnusedAssets")] = lambda req: reply()
    login_as(client, "marketer")
    token = csrf_token(client, "/reports/unused")
    client.post("/reports/unused/promote", data={"csrf_token": token, "asset_id": "a1", "stage": "decision"})
    assert list(sent[0].asset.pinned_stages) == [common_pb2.BUYING_STAGE_AWARENESS, common_pb2.BUYING_STAGE_DECISION]
    assert list(sent[0].update_mask.paths) == ["pinned_stages"]


def test_reps_cannot_run_unused_actions(client, backends):
    login_as(client, "rep")
    token = csrf_token(client, "/status")
    for action in ("retire", "extend", "notify", "promote"):
        assert client.post(f"/reports/unused/{action}", data={"csrf_token": token, "asset_id": "a1"}).status_code == 403
    assert backends.calls == []


def test_reasons_from_form_keep_ids_with_colons_and_drop_unknown_reasons():
    assert unused_actions.reasons_from_form(["demo:1:EXPIRED", "x:BOGUS", ":NEVER_USED"]) == {"demo:1": "EXPIRED"}


def test_owner_email_lists_each_asset_with_its_reason():
    listed = [unused_actions.Listed("a1", "Deck A", "o@example.com", "SHOWN_NOT_OPENED")]
    message = unused_actions.owners_mail("m@example.com", "o@example.com", listed, "http://portal/reports/unused")
    assert message.to == "o@example.com" and message.subject == "1 of your assets is unused"
    assert "Deck A (a1): Shown not opened, shown in search results, but no rep opened it." in message.text
