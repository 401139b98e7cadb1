"""The catalog page's routes: who may call them and what they ask the content service."""

from __future__ import annotations

from collateral.v1 import content_pb2

from tests.unit.portal.conftest import csrf_token, login_as


def test_reps_cannot_reach_bulk_actions_undo_or_thumbnails(client, backends):
    login_as(client, "rep")
    token = csrf_token(client, "/status")
    for path in ("/manage/assets/bulk", "/manage/assets/bulk/undo"):
        assert client.post(path, data={"csrf_token": token, "asset_id": "a1", "action": "retire"}).status_code == 403
    assert client.get("/manage/assets/a1/thumb-v1.png").status_code == 403
    assert backends.calls == []


def test_search_box_and_filters_go_to_search_assets(client, backends):
    login_as(client, "marketer")
    backends.handlers[("content", "SearchAssets")] = lambda r: content_pb2.SearchAssetsResponse(
        total_size=1, hits=[content_pb2.SearchHit(asset=content_pb2.Asset(asset_id="a1", title="ROI story"))])
    html = client.get("/manage/assets?q=roi&expiry=expired&status=retired").get_data(as_text=True)
    (request,) = [c[2] for c in backends.calls if c[1] == "SearchAssets"]
    assert request.query == "roi" and not [c for c in backends.calls if c[1] == "ListAssets"]
    assert request.filters.expiry == content_pb2.EXPIRY_WINDOW_EXPIRED
    assert "ROI story" in html and 'data-asset-id="a1"' in html
    assert "no preview" in html, "an asset without a file gets the placeholder"


def test_thumbnail_is_the_first_page_at_thumbnail_width_and_cacheable(client, backends):
    login_as(client, "marketer")
    backends.handlers[("content", "RenderPage")] = lambda r: content_pb2.RenderPageResponse(png=b"\x89PNG", page_count=3)
    response = client.get("/manage/assets/a1/thumb-v4.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "max-age=86400" in response.headers["Cache-Control"]
    (_, method, request, _, _), = backends.calls
    assert (method, request.asset_id, request.page, request.file_version, request.width) == \
        ("RenderPage", "a1", 1, 4, 240)


def test_bulk_action_without_a_selection_changes_nothing(client, backends):
    login_as(client, "marketer")
    token = csrf_token(client, "/status")
    response = client.post("/manage/assets/bulk", data={"csrf_token": token, "action": "retire"})
    assert response.status_code == 302 and backends.calls == []
    response = client.post("/manage/assets/bulk", data={"csrf_token": token, "action": "owner", "asset_id": "a1"})
    assert response.status_code == 302 and backends.calls == []
