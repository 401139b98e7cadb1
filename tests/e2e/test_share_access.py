"""Share links with access controls, in the browser: a passcode link, an email-verified link whose
one-time code arrives by real SMTP, the verified viewer in My shares, and copying a link again."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.conftest import DESKTOP_UA, screenshot, sign_in, wait_page_image, wait_until

pytestmark = pytest.mark.e2e

TITLES = {"battle": "Competitive Battle Card: Acme", "deck": "Platform Overview Deck"}


def create_link(rep, asset_id: str, opportunity: str, passcode: str = "", email_domains: str | None = None) -> str:
    """Fill the share dialog of an asset; the link's URL."""
    rep.goto(f"/assets/{asset_id}")
    rep.fill("#share-form input[name=opportunity_id]", opportunity)
    if passcode:
        rep.fill("#share-passcode", passcode)
    if email_domains is not None:
        rep.check("#share-require-email")
        rep.fill("#share-email-domains", email_domains)
    rep.click("#share-form button[type=submit]")
    return rep.input_value("#share-url")


def test_a_passcode_link_shows_the_viewer_only_after_the_right_passcode(system, accounts, catalog, new_page):
    rep = new_page()
    sign_in(rep, *accounts["rep"])
    opportunity = f"opp-pass-{uuid.uuid4().hex[:6]}"
    share_url = create_link(rep, catalog["battle"], opportunity, passcode="Blue-Falcon-42")
    assert "Passcode" in rep.locator("#share-access-summary").inner_text()
    screenshot(rep, "share-access-created-passcode")
    token = share_url.rsplit("/", 1)[-1]

    customer = new_page(user_agent=DESKTOP_UA)
    customer.goto(share_url)
    assert customer.locator("#access-gate").get_attribute("data-step") == "passcode"
    assert customer.locator(".share-title").count() == 0, "nothing of the asset before the passcode"
    assert customer.request.get(f"/s/{token}/pages/1.png").status == 403
    screenshot(customer, "share-access-passcode-form")

    customer.fill("#gate-passcode", "blue-falcon-42")
    customer.click("#gate-form button[type=submit]")
    assert "not right" in customer.locator("#gate-error").inner_text()
    assert customer.locator(".share-title").count() == 0
    screenshot(customer, "share-access-passcode-wrong")

    customer.fill("#gate-passcode", "Blue-Falcon-42")
    customer.click("#gate-form button[type=submit]")
    assert customer.locator(".share-title").inner_text() == TITLES["battle"]
    wait_page_image(customer)
    screenshot(customer, "share-access-passcode-viewer")


def test_an_email_verified_link_records_who_opened_it_and_the_rep_copies_it_again(
        system, accounts, catalog, new_page, mail_server):
    rep = new_page()
    rep.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=system.base_url)
    sign_in(rep, *accounts["rep"])
    opportunity = f"opp-mail-{uuid.uuid4().hex[:6]}"
    rep.goto(f"/assets/{catalog['deck']}")
    screenshot(rep, "share-access-dialog")
    share_url = create_link(rep, catalog["deck"], opportunity, email_domains="acme.test")
    assert "Verified email at acme.test" in rep.locator("#share-access-summary").inner_text()

    customer = new_page(user_agent=DESKTOP_UA)
    customer.goto(share_url)
    assert customer.locator("#access-gate").get_attribute("data-step") == "email"
    customer.fill("#gate-email-input", "dana@elsewhere.test")
    customer.click("#gate-form button[type=submit]")
    assert "acme.test" in customer.locator("#gate-error").inner_text()

    email = f"dana.{uuid.uuid4().hex[:6]}@acme.test"
    customer.fill("#gate-email-input", email)
    customer.click("#gate-form button[type=submit]")
    assert customer.locator("#access-gate").get_attribute("data-step") == "code"
    screenshot(customer, "share-access-code-form")
    [message] = wait_until(lambda: mail_server.messages(to=email), what="the one-time code email", timeout_s=30)
    code = re.search(r"\b(\d{6})\b", message.get_payload(decode=True).decode()).group(1)

    customer.fill("#gate-code", f"{(int(code) + 1) % 10 ** 6:06d}")
    customer.click("#gate-form button[type=submit]")
    assert "4 attempts left" in customer.locator("#gate-error").inner_text()
    customer.fill("#gate-code", code)
    customer.click("#gate-form button[type=submit]")
    assert customer.locator(".share-title").inner_text() == TITLES["deck"]
    wait_page_image(customer)
    screenshot(customer, "share-access-email-viewer")

    # My shares: the open carries the verified address.
    rep.goto("/shares")
    row = rep.locator("#shares-table tbody tr", has_text=opportunity).first

    def viewer_shown() -> bool:
        rep.reload()
        return email in row.locator("td.opens").inner_text()

    wait_until(viewer_shown, what="the verified viewer in My shares", timeout_s=60, interval_s=1.5)

    # Copy the active link again: the same URL, and it opens.
    row.locator(".copy-share-button").click()
    wait_until(lambda: row.locator(".copy-share-button").inner_text() == "Copied", what="the Copied state",
               timeout_s=10, interval_s=0.2)
    copied = row.locator("input.copy-url").input_value()
    assert copied == share_url
    assert rep.evaluate("navigator.clipboard.readText()") == share_url
    screenshot(rep, "share-access-my-shares-copied")

    again = new_page(user_agent=DESKTOP_UA)
    assert again.goto(copied).status == 200
    assert again.locator("#access-gate").get_attribute("data-step") == "email", "a new browser verifies again"
