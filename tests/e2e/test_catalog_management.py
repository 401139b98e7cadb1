"""A marketer manages the catalog: searches it, filters by status, sees first-page thumbnails,
changes three assets' owner and undoes it, retires two and restores them, all in the browser."""

from __future__ import annotations

import uuid

import pytest

from collateral.v1 import content_pb2, content_pb2_grpc
from tests.e2e.conftest import USERS, make_pdf, screenshot, sign_in, wait_until

pytestmark = pytest.mark.e2e


def _create(stub, md, title: str, owner: str, publish: bool) -> str:
    asset = content_pb2.Asset(title=title, type=content_pb2.ASSET_TYPE_CASE_STUDY, owner=owner, language="en")
    created = stub.CreateAsset(content_pb2.CreateAssetRequest(
        asset=asset, file_content=make_pdf(title, [f"{title}: the first page."]), file_name="a.pdf",
        content_type="application/pdf"), metadata=md, timeout=60).asset
    if publish:
        stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=created.asset_id), metadata=md, timeout=30)
    return created.asset_id


def _rows(page) -> list[str]:
    return page.locator("#catalog-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.assetId)")


def _cells(page, ids: list[str], cls: str) -> list[str]:
    return [page.locator(f"tr[data-asset-id='{a}'] td.{cls}").inner_text().strip() for a in ids]


def _statuses(page, ids: list[str]) -> list[str]:
    return [page.locator(f"tr[data-asset-id='{a}'] td[data-label=Status]").inner_text().strip().lower() for a in ids]


def _select(page, ids: list[str]) -> None:
    for asset_id in ids:
        page.check(f"tr[data-asset-id='{asset_id}'] input.row-select")


def _flash(page) -> str:
    return " ".join(page.locator(".flash").all_inner_texts())


def test_marketer_searches_filters_bulk_edits_and_undoes(system, accounts, new_page):
    uid = uuid.uuid4().hex[:8]
    owner = f"owner-{uid}@example.com"
    stub = content_pb2_grpc.ContentServiceStub(system.channel("content"))
    md = system.metadata(USERS["marketer"][0], "marketer")
    published = sorted(_create(stub, md, f"Catalog story {uid} {n}", owner, True) for n in ("one", "two", "three"))
    draft = _create(stub, md, f"Catalog story {uid} draft", owner, False)
    page = new_page()
    sign_in(page, accounts["marketer"][0])

    # Full-text search from the search box, then the status filter.
    page.goto("/manage/assets")
    page.fill("#catalog-q", uid)
    page.click("#catalog-search-go")
    assert sorted(_rows(page)) == sorted(published + [draft])
    page.select_option("#catalog-status", "published")
    page.click("#catalog-search-go")
    assert "status=published" in page.url and sorted(_rows(page)) == published

    # Thumbnails: the first page of each asset, loaded lazily from the portal's cached rendition.
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    thumbs = page.locator("#catalog-table img.catalog-thumb")
    assert thumbs.count() == 3
    wait_until(lambda: all(thumbs.evaluate_all("imgs => imgs.map(i => i.complete && i.naturalWidth > 0)")),
               what="thumbnails loaded", timeout_s=60, interval_s=0.5)
    src = thumbs.first.get_attribute("src")
    reply = page.request.get(src)
    assert reply.status == 200 and "max-age=86400" in reply.headers["cache-control"]
    assert reply.headers["content-type"] == "image/png"
    screenshot(page, "catalog-search-thumbnails")

    # Change the owner of the three, then undo it.
    _select(page, published)
    page.fill("#bulk-owner", f"new-{uid}@example.com")
    page.click("#bulk-owner-go")
    assert "Changed the owner of 3 assets." in _flash(page)
    assert _cells(page, published, "catalog-owner") == [f"new-{uid}@example.com"] * 3
    assert page.locator("#bulk-undo").is_visible()
    screenshot(page, "catalog-owner-changed")
    page.click("#bulk-undo")
    assert "Undid the change of 3 assets." in _flash(page)
    assert _cells(page, published, "catalog-owner") == [owner] * 3
    assert page.locator("#bulk-undo").count() == 0
    screenshot(page, "catalog-owner-undone")

    # Retire two and restore them (any status, so the rows stay in view).
    page.select_option("#catalog-status", "")
    page.click("#catalog-search-go")
    two = published[:2]
    _select(page, two)
    page.click("#bulk-retire")
    assert "Retired 2 assets." in _flash(page)
    assert _statuses(page, two) == ["retired", "retired"]
    screenshot(page, "catalog-retired")
    _select(page, two)
    page.click("#bulk-restore")
    assert "Restored 2 assets." in _flash(page)
    assert _statuses(page, two) == ["draft", "draft"]
    assert _statuses(page, [published[2]]) == ["published"]
    screenshot(page, "catalog-restored")

    # Readable on a phone: the search bar and bulk actions wrap, nothing scrolls sideways.
    phone = new_page(width=390, height=844, mobile=True)
    sign_in(phone, accounts["marketer"][0])
    phone.goto(f"/manage/assets?q={uid}")
    assert sorted(_rows(phone)) == sorted(published + [draft])
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 392
    phone_thumbs = phone.locator("#catalog-table img.catalog-thumb")
    for i in range(phone_thumbs.count()):
        phone_thumbs.nth(i).scroll_into_view_if_needed()
    wait_until(lambda: all(phone_thumbs.evaluate_all("imgs => imgs.map(i => i.complete && i.naturalWidth > 0)")),
               what="thumbnails loaded on the phone", timeout_s=60, interval_s=0.5)
    screenshot(phone, "catalog-mobile")
