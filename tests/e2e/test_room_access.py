"""Deal-room access end to end: a rep makes a room with a passcode, the customer's browser is
asked for it (a wrong one refused, the right one opens the room), and the rep copies the
room's link again from My rooms."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import DESKTOP_UA, screenshot, sign_in, wait_page_image, wait_until

pytestmark = pytest.mark.e2e

TITLE = "Globex pilot room"
PASSCODE = "Globex-Pilot-7"


def _create_passcode_room(rep, deck: str) -> str:
    """The room dialog with one asset and a passcode; returns the room's URL as the created page shows it."""
    rep.goto("/rooms/new")
    rep.fill("#room-form input[name=title]", TITLE)
    rep.fill("#room-assets input[name=q]", "Platform Overview")
    rep.click("#room-search")
    rep.wait_for_selector(f"#room-picker input[name=asset][value='{deck}']")
    rep.check(f"#room-picker input[name=asset][value='{deck}']")
    rep.fill("#room-form input[name=title]", TITLE)
    rep.fill("#share-passcode", PASSCODE)
    screenshot(rep, "room-access-dialog")
    rep.click("#create-room")
    return rep.input_value("#room-url")


def test_a_passcode_room_in_the_browser_and_copy_link_in_my_rooms(system, accounts, catalog, new_page):
    rep = new_page()
    sign_in(rep, accounts["rep"][0])
    room_url = _create_passcode_room(rep, catalog["deck"])
    assert room_url.startswith(system.base_url + "/r/")

    customer = new_page(user_agent=DESKTOP_UA)
    customer.goto(room_url)
    assert customer.locator("#access-gate").get_attribute("data-step") == "passcode"
    assert customer.locator("#room-doc-title").count() == 0, "nothing of the room before the passcode"
    token = room_url.rsplit("/", 1)[-1]
    assert customer.request.get(f"/r/{token}/1/pages/1.png").status == 403
    screenshot(customer, "room-access-gate")

    customer.fill("#gate-passcode", PASSCODE + "x")
    customer.click("#gate-form button[type=submit]")
    assert "not right" in customer.locator("#gate-error").inner_text()
    screenshot(customer, "room-access-wrong")

    customer.fill("#gate-passcode", PASSCODE)
    customer.click("#gate-form button[type=submit]")
    customer.wait_for_selector("#room-doc-title")
    assert customer.locator("#room-title").inner_text() == TITLE
    wait_page_image(customer)
    screenshot(customer, "room-access-viewer")
    customer.close()

    # My rooms: the room says it asks for a passcode, and Copy link gives the same URL again.
    rep.goto("/rooms")
    row = rep.locator("#rooms-table tbody tr", has_text=TITLE).first
    assert "passcode" in row.locator("td").first.inner_text()
    row.locator("[data-copy-share]").click()
    wait_until(lambda: row.locator("input.copy-url").input_value(), what="the copied room link")
    assert row.locator("input.copy-url").input_value() == room_url
    screenshot(rep, "room-access-copy-link")

    # The room's page offers the same button.
    row.locator("a.room-title").click()
    rep.wait_for_selector("#room-access")
    rep.locator(".head-actions [data-copy-share]").click()
    wait_until(lambda: rep.locator(".head-actions input.copy-url").input_value(), what="the copied room link")
    assert rep.locator(".head-actions input.copy-url").input_value() == room_url
    screenshot(rep, "room-access-detail")
