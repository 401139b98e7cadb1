"""A rep searches, filters, previews, downloads and shares; the customer opens the link
without signing in; the open shows in the rep's My shares and in the marketer's report."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import pytest

from services.common import topics
from tests.conftest import wait_consumed
from tests.e2e.conftest import CATALOG_TAG, DESKTOP_UA, screenshot, sign_in, wait_page_image, wait_until

pytestmark = pytest.mark.e2e


def _opens_cell(page, share_row_text: str) -> str:
    return page.locator("#shares-table tbody tr", has_text=share_row_text).first.locator("td.opens").inner_text()


def test_rep_search_download_share_and_customer_open(system, accounts, catalog, new_page):
    rep = new_page()
    sign_in(rep, accounts["rep"][0])

    # Search with highlights, then type-ahead.
    rep.goto(f"/search?tag={CATALOG_TAG}")
    rep.fill("#q", "onboarding")
    rep.press("#q", "Enter")
    rep.wait_for_url(re.compile(r"q=onboarding"))
    first = rep.locator("article.result").first
    assert "Healthcare ROI Case Study" in first.inner_text()
    assert rep.locator("article.result em").count() >= 1, "search highlights are shown"
    rep.fill("#q", "")
    rep.locator("#q").press_sequentially("Healt", delay=40)
    rep.wait_for_selector("#suggestions li", timeout=10_000)
    assert any("Healthcare" in t for t in rep.locator("#suggestions li").all_inner_texts())
    rep.keyboard.press("Escape")

    # Everything, then filter by a facet: only battle cards remain.
    rep.goto(f"/search?tag={CATALOG_TAG}")
    assert rep.locator("article.result").count() == 3
    assert rep.locator(f"fieldset.facet input[value={CATALOG_TAG}]").is_checked()
    screenshot(rep, "search")
    rep.locator("fieldset.facet label.check", has_text="Battle card").locator("input").check()
    rep.wait_for_url(re.compile(r"type=battle_card"))
    titles = rep.locator("article.result h3").all_inner_texts()
    assert titles == ["Competitive Battle Card: Acme"]
    rep.select_option("select[name=sort]", "newest")
    rep.wait_for_url(re.compile(r"sort=newest"))
    assert rep.locator("fieldset.facet input[value=battle_card]").is_checked()

    # Paginate: page size is 12, so a page token only appears with more assets; the link format is checked by
    # the next-page unit test. Open the asset page and page through the preview.
    rep.goto(f"/search?q=mercy&tag={CATALOG_TAG}")
    rep.locator("article.result h3 a").first.click()
    rep.wait_for_selector("[data-viewer] img")
    wait_page_image(rep)
    assert rep.locator(".viewer-count").inner_text().replace(" ", "") == "1/3"
    rep.click("[data-next]")
    assert rep.locator("[data-current]").inner_text() == "2"
    wait_page_image(rep, "/2.png")
    screenshot(rep, "asset")
    asset_url = rep.url.split("?")[0]
    asset_id = asset_url.rsplit("/", 1)[-1]
    assert asset_id == catalog["roi"]

    # Download: the portal records the event and redirects to the file.
    with rep.expect_download() as info:
        rep.click("#download")
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"%PDF")

    # Validation error from the form shown next to the field.
    rep.click("#share-form button[type=submit]")
    assert "opportunity" in rep.locator("#share-form .field-error").first.inner_text().lower()

    # Share with a customer.
    rep.fill("#share-form input[name=opportunity_id]", "opp-e2e-1")
    rep.fill("#share-form input[name=recipient_note]", "Dana <b>CFO</b>")
    rep.check("#share-form input[name=allow_download]")
    rep.click("#share-form button[type=submit]")
    share_url = rep.input_value("#share-url")
    created = time.monotonic()
    assert share_url.startswith(system.base_url + "/s/")
    screenshot(rep, "share-created")

    # Link scanners: a HEAD and a plain HTTP client fetch the link; neither counts as an open.
    for method, ua in (("HEAD", "Mozilla/5.0 (compatible; Proofpoint URL Defense)"), ("GET", "curl/8.5.0")):
        req = urllib.request.Request(share_url, method=method, headers={"User-Agent": ua})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200

    # The customer opens it in an ordinary browser, without signing in, a little after it was sent.
    time.sleep(max(0.0, 1.5 - (time.monotonic() - created)))
    customer = new_page(user_agent=DESKTOP_UA)
    customer.goto(share_url)
    assert customer.locator(".share-title").inner_text() == "Healthcare ROI Case Study"
    assert customer.locator("nav.nav").count() == 0, "customers see no portal navigation"
    wait_page_image(customer)
    customer.wait_for_timeout(1200)
    customer.click("[data-next]")
    customer.wait_for_timeout(1500)
    customer.click("[data-next]")
    customer.wait_for_timeout(600)
    screenshot(customer, "share-view")
    # Page images are bound to the token: another asset id cannot be reached through it.
    token = share_url.rsplit("/", 1)[-1]
    other = customer.request.get(f"/s/{token}/pages/1.png?asset_id={catalog['deck']}")
    assert other.ok and other.headers["content-type"] == "image/png"
    assert customer.request.get(f"/assets/{catalog['deck']}").url.endswith("/login?next=/assets/"
                                                                            + catalog["deck"])
    with customer.expect_download() as info:
        customer.click("#customer-download")
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF")
    customer.close()  # pagehide: the time on the last page is sent

    # The rep sees the open, when it happened and which pages were read.
    rep.goto("/shares")

    def opened() -> bool:
        rep.reload()
        row = rep.locator("#shares-table tbody tr", has_text="opp-e2e-1").first
        return row.locator("td.opens").inner_text().startswith("1") and "p.2" in row.locator(
            "td.pages-read").inner_text()

    wait_until(opened, what="the customer open in My shares", timeout_s=60, interval_s=1.5)
    # Count only once the usage consumer has committed everything produced so far: a scanner's open
    # still in flight would otherwise go unnoticed.
    wait_consumed(system.settings, system.settings.group("usage-consumer"), [topics.USAGE.name(system.settings)])
    rep.reload()
    row = rep.locator("#shares-table tbody tr", has_text="opp-e2e-1").first
    assert "Not opened" not in row.inner_text()
    assert "Dana <b>CFO</b>" in row.inner_text(), "user text is escaped, not rendered as HTML"
    assert "p.1" in row.locator("td.pages-read").inner_text()
    assert _opens_cell(rep, "opp-e2e-1").split()[0] == "1", "scanners and the HEAD request were not counted"
    screenshot(rep, "my-shares")

    # CSV export of the same table.
    csv = rep.request.get("/shares?format=csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "opp-e2e-1" in csv.text()

    # The marketer's per-asset report shows the customer open.
    marketer = new_page()
    sign_in(marketer, accounts["marketer"][0])
    marketer.goto(f"/reports/assets/{asset_id}")

    def reported() -> bool:
        marketer.reload()
        return int(marketer.locator("#kpi-customer_open").inner_text()) >= 1 and \
            int(marketer.locator("#kpi-download").inner_text()) >= 1

    wait_until(reported, what="the open in the marketer's report", timeout_s=60, interval_s=1.5)
    usage_bars = marketer.locator("#usage-chart svg.chart-wide rect > title").all_text_contents()
    assert any("customer open" in t for t in usage_bars) and any("download" in t for t in usage_bars), \
        "one day of use is drawn as bars, one segment per kind of event"
    assert "opp-e2e-1" in marketer.locator("#asset-shares").inner_text()
    screenshot(marketer, "report-asset-usage")


def test_revoked_link_shows_friendly_410(system, accounts, catalog, new_page):
    rep = new_page()
    sign_in(rep, accounts["rep2"][0])
    rep.goto(f"/assets/{catalog['deck']}")
    rep.fill("#share-form input[name=account_id]", "acct-revoke")
    rep.click("#share-form button[type=submit]")
    share_url = rep.input_value("#share-url")
    customer = new_page(user_agent=DESKTOP_UA)
    customer.goto(share_url)
    assert customer.locator("#customer-download").count() == 0, "download not allowed on this link"
    assert customer.request.post(share_url + "/download").status in (400, 403)
    rep.goto("/shares")
    rep.once("dialog", lambda d: d.accept())
    rep.locator("#shares-table tbody tr", has_text="acct-revoke").locator("button", has_text="Revoke").click()
    rep.wait_for_load_state()
    assert "no longer works" in rep.locator(".flash").inner_text()
    response = customer.goto(share_url)
    assert response.status == 410
    assert "no longer available" in customer.locator("h1").inner_text()
    screenshot(customer, "share-gone")
    bad = customer.goto(system.base_url + "/s/not-a-real-token-0123456789")
    assert bad.status == 404
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(system.base_url + "/s/" + "x" * 30, timeout=10)
    assert err.value.code == 404
    assert b"Traceback" not in err.value.read()


def test_expired_link_shows_friendly_410(system, accounts, catalog, new_page):
    from datetime import datetime, timedelta, timezone

    from google.protobuf import timestamp_pb2

    from collateral.v1 import usage_pb2, usage_pb2_grpc

    expires = timestamp_pb2.Timestamp()
    expires.FromDatetime((datetime.now(timezone.utc) + timedelta(seconds=2)).replace(tzinfo=None))
    stub = usage_pb2_grpc.UsageServiceStub(system.channel("usage"))
    reply = stub.CreateShareLink(usage_pb2.CreateShareLinkRequest(
        asset_id=catalog["roi"], account_id="acct-expiring", expires_at=expires),
        metadata=system.metadata(accounts["rep"][0], "rep"), timeout=30)
    customer = new_page(user_agent=DESKTOP_UA)

    def expired() -> bool:
        try:
            stub.ResolveShareLink(usage_pb2.ResolveShareLinkRequest(token=reply.token),
                                  metadata=system.metadata("portal", "service"), timeout=10)
        except grpc.RpcError as exc:
            return exc.code() == grpc.StatusCode.FAILED_PRECONDITION and "expired" in (exc.details() or "")
        return False

    wait_until(expired, timeout_s=30, interval_s=0.2, what="the usage service to report the link expired")
    response = customer.goto(f"/s/{reply.token}")
    assert response.status == 410
    assert "has expired" in customer.locator("#link-gone").inner_text()
