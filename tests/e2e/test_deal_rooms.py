"""Deal rooms end to end: a rep puts two assets in one room, the customer reads pages of both
without signing in, and the rep sees the engagement per asset and per page."""

from __future__ import annotations

import time
import urllib.request

import pytest

from services.common import topics
from tests.conftest import wait_consumed
from tests.e2e.conftest import DESKTOP_UA, screenshot, sign_in, wait_page_image, wait_until

pytestmark = pytest.mark.e2e

TITLE = "Acme <i>renewal</i> room"
NOTE = "Dana, the two documents we discussed: the platform first, then the case study."


def _tick(page, query: str, asset_id: str, position: int) -> None:
    """Search the picker, tick an asset and give it its position (earlier ticks survive the search)."""
    page.fill("#room-assets input[name=q]", query)
    page.click("#room-search")
    page.wait_for_selector(f"#room-picker input[name=asset][value='{asset_id}']")
    page.check(f"#room-picker input[name=asset][value='{asset_id}']")
    page.fill(f"#room-picker input[name='order-{asset_id}']", str(position))


def _read_pages(customer, dwell_ms: int) -> None:
    """Stay on page 1, turn to page 2, stay, and turn back: each turn reports the time on the page left."""
    wait_page_image(customer)
    customer.wait_for_timeout(dwell_ms)
    customer.click("[data-next]")
    wait_page_image(customer, "/pages/2.png")
    customer.wait_for_timeout(dwell_ms)
    customer.click("[data-prev]")
    wait_page_image(customer, "/pages/1.png")


def test_rep_creates_a_room_and_sees_engagement_per_asset_and_page(system, accounts, catalog, new_page):
    rep = new_page()
    sign_in(rep, accounts["rep"][0])
    rep.goto("/rooms")
    rep.click("#new-room")

    # The dialog refuses a room without assets, keeping what was typed.
    rep.fill("#room-form input[name=title]", TITLE)
    rep.click("#create-room")
    assert "Tick at least one asset" in rep.locator("#room-form .field-error").first.inner_text()
    assert rep.input_value("#room-form input[name=title]") == TITLE

    # Two assets, the deck first although the case study is ticked first.
    _tick(rep, "Healthcare ROI", catalog["roi"], 2)
    _tick(rep, "Platform Overview", catalog["deck"], 1)
    assert rep.is_checked(f"#room-picker input[name=asset][value='{catalog['roi']}']"), "ticks survive a search"
    rep.fill("#room-form textarea[name=note]", NOTE)
    rep.fill("#room-form input[name=opportunity_id]", "opp-room-e2e")
    rep.check("#room-form input[name=allow_download]")
    screenshot(rep, "room-dialog")
    rep.click("#create-room")
    room_url = rep.input_value("#room-url")
    created = time.monotonic()
    assert room_url.startswith(system.base_url + "/r/")
    assert [t.strip() for t in rep.locator(".room-asset-list li").all_inner_texts()] == [
        "Platform Overview Deck", "Healthcare ROI Case Study"]
    screenshot(rep, "room-created")

    # A link scanner fetches the room: no open.
    req = urllib.request.Request(room_url, headers={"User-Agent": "Mozilla/5.0 (compatible; Proofpoint URL Defense)"})
    with urllib.request.urlopen(req, timeout=10) as answer:
        assert answer.status == 200

    # The customer opens the room in an ordinary browser and reads pages of both documents.
    time.sleep(max(0.0, 1.5 - (time.monotonic() - created)))
    customer = new_page(user_agent=DESKTOP_UA)
    customer.goto(room_url)
    assert customer.locator("#room-title").inner_text() == TITLE, "the title is text, not HTML"
    assert customer.locator("#room-note").inner_text() == NOTE
    assert customer.locator("nav.nav").count() == 0, "customers see no portal navigation"
    assert [t.strip() for t in customer.locator("#room-assets li").all_inner_texts()] == [
        "Platform Overview Deck", "Healthcare ROI Case Study"]
    assert customer.locator("#room-doc-title").inner_text() == "Platform Overview Deck"
    _read_pages(customer, 1300)
    customer.click("#room-next")
    customer.wait_for_url(room_url + "/2")
    assert customer.locator("#room-doc-title").inner_text() == "Healthcare ROI Case Study"
    _read_pages(customer, 1300)
    screenshot(customer, "room-customer-view")
    token = room_url.rsplit("/", 1)[-1]
    assert customer.request.get(f"/r/{token}/3").status == 404, "only the room's assets are served"
    phone = new_page(width=390, height=844, user_agent=DESKTOP_UA, mobile=True)
    phone.goto(room_url + "/2")
    wait_page_image(phone)
    screenshot(phone, "room-customer-phone")
    phone.close()
    customer.close()  # pagehide: the time on the last page is sent

    # The rep follows the room: per asset and per page.
    def engaged() -> bool:
        rep.goto("/rooms")
        row = rep.locator("#rooms-table tbody tr", has_text="Acme").first
        return row.locator("td.opens").inner_text().split()[0] == "3"  # deck once, case study on desktop and phone

    wait_until(engaged, what="the customer's opens in My rooms", timeout_s=60, interval_s=1.5)
    wait_consumed(system.settings, system.settings.group("usage-consumer"), [topics.USAGE.name(system.settings)])
    rep.goto("/rooms")
    row = rep.locator("#rooms-table tbody tr", has_text="Acme").first
    assert row.locator("td.opens").inner_text().split()[0] == "3", "the scanner's fetch was not counted"
    screenshot(rep, "my-rooms")
    row.locator("a.room-title").click()

    def pages_of(asset_id: str) -> str:
        return rep.locator(f"#room-engagement tr[data-asset-id='{asset_id}'] td.room-pages").inner_text()

    def both_pages_read() -> bool:
        rep.reload()
        screenshot(rep, "room-engagement")  # the last state is kept when this times out
        return all("p.1" in pages_of(a) and "p.2" in pages_of(a) for a in (catalog["deck"], catalog["roi"]))

    wait_until(both_pages_read, what="pages of both assets on the room's page", timeout_s=60, interval_s=1.5)
    opens = {a: rep.locator(f"#room-engagement tr[data-asset-id='{a}'] td.opens").inner_text().split()[0]
             for a in (catalog["deck"], catalog["roi"])}
    assert opens == {catalog["deck"]: "1", catalog["roi"]: "2"}
    assert rep.locator("#room-engagement tbody tr").first.get_attribute("data-asset-id") == catalog["deck"]
    screenshot(rep, "room-engagement")

    # Revoked, the room is gone for the customer.
    rep.once("dialog", lambda dialog: dialog.accept())
    rep.click(".head-actions button.danger")
    rep.wait_for_url("**/rooms")
    gone = new_page(user_agent=DESKTOP_UA)
    response = gone.goto(room_url)
    assert response.status == 410 and "no longer available" in gone.locator("#link-gone").inner_text()
