"""A customer opens a rep's link and reads two pages; the rep then finds the account on the
Hot accounts page with its reading time, the asset and the pages read (also on a 390 px phone),
another rep does not, and an admin finds it by picking the rep."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.e2e.conftest import DESKTOP_UA, screenshot, sign_in, wait_page_image, wait_until

pytestmark = pytest.mark.e2e

PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.5 Mobile/15E148 Safari/604.1")


def share_for_account(page, asset_id: str, account_id: str) -> str:
    page.goto(f"/assets/{asset_id}")
    page.fill("#share-form input[name=account_id]", account_id)
    page.click("#share-form button[type=submit]")
    return page.input_value("#share-url")


def read_two_pages(customer, share_url: str) -> None:
    """Open the link like a person: the first page for a while, then the second."""
    customer.goto(share_url)
    wait_page_image(customer)
    customer.wait_for_timeout(1500)
    customer.click("[data-next]")
    wait_page_image(customer, "/2.png")
    customer.wait_for_timeout(1500)
    customer.click("[data-next]")  # leaving page 2 sends its time
    customer.wait_for_timeout(500)
    customer.close()  # pagehide: the time on the last page is sent


def test_rep_sees_the_account_their_customer_read(system, accounts, catalog, new_page):
    account_id = f"acct-hot-{uuid.uuid4().hex[:8]}"
    rep = new_page()
    sign_in(rep, *accounts["rep2"])
    share_url = share_for_account(rep, catalog["deck"], account_id)
    sent = time.monotonic()
    time.sleep(max(0.0, 1.5 - (time.monotonic() - sent)))  # later than a link scanner would open it
    read_two_pages(new_page(user_agent=DESKTOP_UA), share_url)

    card = rep.locator(f"li.hot-account[data-account-id='{account_id}']")

    def listed_with_pages() -> bool:
        rep.goto("/hot-accounts?days=7")
        pages = card.locator(".hot-pages").inner_text() if card.count() else ""
        return "p.1" in pages and "p.2" in pages

    wait_until(listed_with_pages, what="the account with both pages on Hot accounts", timeout_s=60, interval_s=1.5)
    assert rep.locator("nav.nav a.active").inner_text() == "Hot accounts"
    assert card.locator("h2").inner_text() == account_id
    assert card.locator(".hot-opens").inner_text() == "1"
    assert card.locator(".hot-seconds").inner_text() != "0 s"
    assert card.locator(".hot-assets li").first.locator("a").inner_text() == "Platform Overview Deck"
    screenshot(rep, "hot-accounts")

    # The same page on a 390 px phone: nothing wider than the screen.
    phone = new_page(width=390, height=844, user_agent=PHONE_UA, mobile=True)
    sign_in(phone, *accounts["rep2"])
    phone.goto("/hot-accounts?days=14")
    assert phone.locator(f"li.hot-account[data-account-id='{account_id}']").count() == 1
    assert phone.locator("html").evaluate("el => el.scrollWidth") <= 390
    screenshot(phone, "hot-accounts-phone")

    # Another rep's customers are not this rep's accounts.
    other = new_page()
    sign_in(other, *accounts["rep"])
    other.goto("/hot-accounts?days=30")
    assert other.locator(f"li.hot-account[data-account-id='{account_id}']").count() == 0

    # An admin picks the rep (or sees every rep) and finds the account with the rep named.
    admin = new_page()
    sign_in(admin, *accounts["admin"])
    admin.goto("/hot-accounts")
    admin.select_option("#hot-filters select[name=rep]", accounts["rep2"][0])
    admin.wait_for_url("**rep=*")
    found = admin.locator(f"li.hot-account[data-account-id='{account_id}']")
    assert found.count() == 1 and accounts["rep2"][0] in found.inner_text()
    screenshot(admin, "hot-accounts-admin")
