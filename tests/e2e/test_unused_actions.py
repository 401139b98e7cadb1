"""A marketer acts on the unused report: filters by reason, sorts by age, extends two assets'
expiry, retires one and emails the owner about the other (the mail arrives in the SMTP test server)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import content_pb2, content_pb2_grpc
from services.common import audit
from tests.e2e.conftest import USERS, make_pdf, screenshot, sign_in, wait_until

pytestmark = pytest.mark.e2e


def _create(stub, md, title: str, owner: str, expires: datetime) -> str:
    until = Timestamp()
    until.FromDatetime(expires)
    asset = content_pb2.Asset(title=title, type=content_pb2.ASSET_TYPE_ONE_PAGER, owner=owner, language="en",
                              expires_at=until)
    created = stub.CreateAsset(content_pb2.CreateAssetRequest(
        asset=asset, file_content=make_pdf(title, [f"{title}."]), file_name="a.pdf", content_type="application/pdf"),
        metadata=md, timeout=60).asset
    stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=created.asset_id), metadata=md, timeout=30)
    return created.asset_id


def _rows(page) -> list[str]:
    return page.locator("#unused-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.assetId)")


def test_marketer_filters_sorts_extends_retires_and_notifies(system, accounts, new_page, mail_server):
    uid = uuid.uuid4().hex[:8]
    owner = f"owner-{uid}@example.com"
    stub = content_pb2_grpc.ContentServiceStub(system.channel("content"))
    md = system.metadata(USERS["marketer"][0], "marketer")
    now = datetime.now(timezone.utc)
    expired = _create(stub, md, f"Old price list {uid}", owner, now - timedelta(days=2))
    unused = sorted(_create(stub, md, f"{name} {uid}", owner, now + timedelta(days=30))
                    for name in ("Security whitepaper", "Migration checklist"))
    retired, notified = unused
    page = new_page()
    sign_in(page, accounts["marketer"][0])

    def listed() -> bool:
        page.goto(f"/reports/unused?owner={owner}")
        return len(_rows(page)) == 3

    wait_until(listed, what="the new assets in the unused report", timeout_s=90, interval_s=2)
    assert page.locator("a[data-reason=expired] .reason-count").inner_text() == "1"
    assert page.locator("a[data-reason=never_used] .reason-count").inner_text() == "2"

    # Filter by a reason with its chip, then sort by age, oldest first (equal ages: by id).
    page.click("a[data-reason=never_used]")
    assert "reason=never_used" in page.url and sorted(_rows(page)) == unused
    assert page.locator("a[data-reason=never_used]").get_attribute("aria-current") == "true"
    page.click("a[data-sort=age]")
    assert page.locator("th:has(a[data-sort=age])").get_attribute("aria-sort") == "ascending"
    assert _rows(page) == unused
    screenshot(page, "unused-filtered-sorted")

    # Extend both: the action bar says what happened and the view (reason, sort) is kept.
    for asset_id in unused:
        page.check(f"tr[data-asset-id='{asset_id}'] input[name=asset_id]")
    assert page.locator("[data-selected-count]").inner_text() == "2 selected"
    new_expiry = (date.today() + timedelta(days=120)).isoformat()
    page.fill("#expires-on", new_expiry)
    page.click("#action-extend")
    assert page.locator(".flash").inner_text() == "Extended 2 assets."
    assert "reason=never_used" in page.url and "sort=age" in page.url
    for asset_id in unused:
        got = stub.GetAsset(content_pb2.GetAssetRequest(asset_id=asset_id), metadata=md).asset
        assert got.expires_at.ToDatetime().date().isoformat() == new_expiry

    def expiry_shown() -> bool:
        page.reload()
        return [page.locator(f"tr[data-asset-id='{a}'] .expires").inner_text() for a in unused] == [new_expiry] * 2

    wait_until(expiry_shown, what="the new expiry in the report", timeout_s=60, interval_s=1)

    # Retire one (after confirming).
    page.check(f"tr[data-asset-id='{retired}'] input[name=asset_id]")
    page.once("dialog", lambda d: d.accept())
    page.click("#bulk-retire")
    assert page.locator(".flash").inner_text() == "Retired 1 asset."
    got = stub.GetAsset(content_pb2.GetAssetRequest(asset_id=retired), metadata=md).asset
    assert got.status == content_pb2.ASSET_STATUS_RETIRED

    def gone() -> bool:
        page.reload()
        return _rows(page) == [notified]

    wait_until(gone, what="the retired asset off the report", timeout_s=60, interval_s=1)

    # Notify the owner about the other: one email listing it and why it is unused.
    page.check(f"tr[data-asset-id='{notified}'] input[name=asset_id]")
    page.click("#action-notify")
    assert page.locator(".flash").inner_text() == "Notified 1 owner."
    mails = wait_until(lambda: mail_server.messages(to=owner), what="the owner's email", timeout_s=30)
    assert len(mails) == 1
    body = mails[0].get_payload(decode=True).decode()
    assert f"Migration checklist {uid} ({notified}): Never used" in body or \
        f"Security whitepaper {uid} ({notified}): Never used" in body
    assert expired not in body and retired not in body
    log = audit.AuditLog(system.settings)
    notice = {"bool": {"filter": [{"term": {"action": "portal/unused.NotifyOwner"}}, {"term": {"target_id": owner}},
                                  {"term": {"phase": "final"}}]}}
    hits = wait_until(lambda: log.search(notice, 10, None)["hits"]["hits"], what="the notice in the audit log")
    record = hits[0]["_source"]
    assert (record["actor"], record["outcome"], record["after"]) == (USERS["marketer"][0], "OK",
                                                                     {"asset_ids": [notified]})
    log.close()
    screenshot(page, "unused-after-actions")

    # Readable at 390 px: the action bar and rows fit the width.
    phone = new_page(width=390, height=844, mobile=True)
    sign_in(phone, accounts["marketer"][0])
    phone.goto(f"/reports/unused?owner={owner}")
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width} px wide at 390 px"
    screenshot(phone, "unused-phone")
