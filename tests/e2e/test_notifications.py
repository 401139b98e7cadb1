"""A rep hears about a customer open in the portal without reloading: the bell's unread count
appears, the notifications page lists the open, marking it read clears the bell, and the
account page keeps the channel settings (with field errors for a bad webhook URL)."""

from __future__ import annotations

import time

from services.portal.users import UserStore
from tests.e2e.conftest import DESKTOP_UA, PASSWORD, screenshot, sign_in, wait_page_image, wait_until

REP = ("nora.notify@example.com", "Nora Notify")


def _bell(page) -> str:
    """The bell's visible count ("" while hidden)."""
    count = page.locator("#notify-count")
    return count.inner_text() if count.is_visible() else ""


def test_a_customer_open_lights_the_reps_bell_without_a_reload(system, catalog, new_page):
    UserStore(system.settings).add(REP[0], REP[1], "rep", PASSWORD, replace=True)
    rep = new_page()
    sign_in(rep, REP[0])
    rep.goto(f"/assets/{catalog['deck']}")
    assert _bell(rep) == "", "no notifications yet"
    rep.fill("#share-form input[name=account_id]", "acct-bell")
    rep.click("#share-form button[type=submit]")
    share_url = rep.input_value("#share-url")
    created = time.monotonic()

    # The customer opens it in another browser a little after it was sent (sooner is a link scanner).
    time.sleep(max(0.0, 1.5 - (time.monotonic() - created)))
    customer = new_page(user_agent=DESKTOP_UA)
    customer.goto(share_url)
    wait_page_image(customer)

    # The rep's page, never reloaded, shows the count.
    loaded_at = rep.evaluate("() => performance.timeOrigin")
    wait_until(lambda: _bell(rep) == "1", what="the unread count on the rep's bell", timeout_s=90)
    assert rep.evaluate("() => performance.timeOrigin") == loaded_at, "the page was not reloaded"
    assert rep.locator("#notify-bell").get_attribute("aria-label") == "Notifications: 1 unread"
    screenshot(rep, "notifications-bell", full_page=False)

    # On a phone the menu is folded, and the bell beside it carries the same count.
    phone = new_page(width=390, height=844, mobile=True)
    sign_in(phone, REP[0])
    phone.goto("/search")
    mobile_bell = phone.locator(".topbar .bell-mobile")
    wait_until(lambda: mobile_bell.locator(".bell-count").is_visible()
               and mobile_bell.locator(".bell-count").inner_text() == "1", what="the count on the phone's bell")
    assert not phone.locator(".topbar .nav").is_visible() and mobile_bell.get_attribute("aria-label") == \
        "Notifications: 1 unread"
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    screenshot(phone, "notifications-bell-phone", full_page=False)
    mobile_bell.click()
    phone.wait_for_load_state()
    assert phone.locator("#notification-list .notify-item.unread").count() == 1

    rep.click("#notify-bell")
    rep.wait_for_load_state()
    item = rep.locator("#notification-list .notify-item.unread")
    assert item.count() == 1
    text = item.inner_text()
    assert "Account acct-bell opened" in text and "Platform Overview Deck" in text and "First open" in text
    screenshot(rep, "notifications-list")
    rep.click("#mark-all-read")
    rep.wait_for_load_state()
    assert "1 notification marked read" in rep.locator(".flash").inner_text()
    assert rep.locator("#notification-list .notify-item.unread").count() == 0
    wait_until(lambda: _bell(rep) == "", what="the bell cleared")

    # Settings on the account page: a bad webhook URL is refused next to its field, a good one kept.
    rep.goto("/account")
    form = rep.locator("#notify-settings-form")
    assert form.locator("input[name=portal_enabled]").is_checked()
    form.locator("input[name=webhook_enabled]").check()
    form.locator("input[name=webhook_url]").fill("ftp://hooks.example.com/x")
    form.locator("button[type=submit]").click()
    rep.wait_for_load_state()
    assert "https://" in rep.locator("#notifications #err-webhook_url").inner_text()
    rep.evaluate("() => window.scrollTo(0, 0)")
    screenshot(rep, "notification-settings-error")
    form = rep.locator("#notify-settings-form")
    form.locator("input[name=webhook_url]").fill("https://hooks.slack.com/services/T000/B000/XXXX")
    form.locator("select[name=webhook_format]").select_option("teams")
    form.locator("select[name=email_delivery]").select_option("digest")
    form.locator("button[type=submit]").click()
    rep.wait_for_load_state()
    assert "Notification settings saved." in rep.locator(".flash").inner_text()
    form = rep.locator("#notify-settings-form")
    assert form.locator("input[name=webhook_enabled]").is_checked()
    assert form.locator("input[name=webhook_url]").input_value() == "https://hooks.slack.com/services/T000/B000/XXXX"
    assert form.locator("select[name=webhook_format]").input_value() == "teams"
    assert form.locator("select[name=email_delivery]").input_value() == "digest"
    rep.evaluate("() => window.scrollTo(0, 0)")  # the sticky top bar stays on top in the full-page capture
    screenshot(rep, "notification-settings")
