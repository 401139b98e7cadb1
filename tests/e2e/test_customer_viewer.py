"""A customer reads shared documents in the viewer: the sender card and message, the call to action,
Prev/Next at the ends, the keyboard, zoom, full screen, and a 390 px phone screen without horizontal
scrolling. The rep chooses the call to action in the share dialog."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import grpc
import pytest

from collateral.v1 import content_pb2, content_pb2_grpc, usage_pb2, usage_pb2_grpc
from tests.e2e.conftest import DESKTOP_UA, USERS, make_pdf, screenshot, sign_in, wait_page_image, wait_until

pytestmark = pytest.mark.e2e

MEETING = "https://cal.example.com/rita-rep/30min?source=share&lang=en"
MESSAGE = "Dana, pages 3 and 4 answer your <pricing> question."
ONE_PAGER = "Security One-Pager"
PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.5 Mobile/15E148 Safari/604.1")


@pytest.fixture(scope="module")
def one_pager(system) -> str:
    """A published one-page PDF (tagged apart from the catalog the other browser tests count)."""
    stub = content_pb2_grpc.ContentServiceStub(system.channel("content"))
    md = system.metadata(USERS["marketer"][0], "marketer")
    asset = content_pb2.Asset(title=ONE_PAGER, type=content_pb2.ASSET_TYPE_ONE_PAGER, description="One page.",
                              language="en", tags=["e2e-viewer"])
    created = stub.CreateAsset(content_pb2.CreateAssetRequest(
        asset=asset, file_content=make_pdf(ONE_PAGER, ["Encryption at rest and in transit."]),
        file_name="one-pager.pdf", content_type="application/pdf"), metadata=md, timeout=60).asset
    stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=created.asset_id), metadata=md, timeout=30)
    return created.asset_id


def share_as_rep(system, asset_id: str, **fields: Any) -> str:
    """A link created through the API as the rep; retried while the asset's catalog event is on its way."""
    stub = usage_pb2_grpc.UsageServiceStub(system.channel("usage"))
    request = usage_pb2.CreateShareLinkRequest(asset_id=asset_id, account_id="acct-viewer", **fields)

    def create() -> str | None:
        try:
            return stub.CreateShareLink(request, metadata=system.metadata(USERS["rep"][0], "rep"), timeout=30).url
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    return wait_until(create, timeout_s=60, what="the asset in the usage service's catalog view")


def indicator(page) -> str:
    return " ".join(page.locator(".viewer-count").inner_text().split())


def disabled(page, selector: str) -> bool:
    return page.locator(selector).is_disabled()


def image_width(page) -> float:
    return page.locator("[data-page-img]").bounding_box()["width"]


def fullscreen_state(page) -> str:
    """'api+class' when the browser shows the viewer in full screen and the viewer knows it, 'none' when neither;
    anything else names the mismatch (so a timeout says which half is missing)."""
    return page.locator("[data-viewer]").evaluate(
        "el => { const api = document.fullscreenElement === el, cls = el.classList.contains('is-fullscreen');"
        " return api && cls ? 'api+class' : (!api && !cls ? 'none' :"
        " `fullscreenElement=${document.fullscreenElement && document.fullscreenElement.className} class=${cls}`); }")


def no_horizontal_overflow(page, width: int) -> None:
    scroll_width = page.locator("html").evaluate("el => el.scrollWidth")
    assert scroll_width <= width, f"the page scrolls sideways: scrollWidth {scroll_width} > {width}"


def test_rep_chooses_a_meeting_and_the_customer_reads_with_keyboard_zoom_and_full_screen(
        system, accounts, catalog, new_page):
    rep = new_page()
    sign_in(rep, accounts["rep"][0])
    rep.goto(f"/assets/{catalog['deck']}")
    wait_page_image(rep)
    rep.click("[data-next]")
    assert indicator(rep) == "2 / 4", "the rep's preview is the same viewer"
    assert not rep.locator("#share-form input[name=meeting_url]").is_visible(), "shown only for Book a meeting"
    rep.fill("#share-form input[name=opportunity_id]", "opp-viewer-1")
    rep.fill("#share-form textarea[name=customer_message]", MESSAGE)
    rep.fill("#share-form input[name=recipient_note]", "Private: Dana, CFO")
    rep.select_option("#share-cta-choice", "book_meeting")
    rep.fill("#share-form input[name=meeting_url]", "http://cal.example.com/rita-rep")
    rep.click("#share-form button[type=submit]")
    assert "https" in rep.locator("#err-meeting_url").inner_text()
    rep.locator("#share").scroll_into_view_if_needed()
    screenshot(rep, "share-dialog-call-to-action", full_page=False)
    rep.fill("#share-form input[name=meeting_url]", MEETING)
    rep.click("#share-form button[type=submit]")
    share_url = rep.input_value("#share-url")

    customer = new_page(user_agent=DESKTOP_UA)
    customer.goto(share_url)
    wait_page_image(customer)

    # Who sent it, their message (as text, not markup) and the call to action.
    assert customer.locator("#sender-name").inner_text() == "Rita Rep"
    assert customer.locator("#sender-card .avatar").inner_text() == "RR"
    assert customer.locator("#sender-message").inner_text() == MESSAGE
    cta = customer.locator("#share-cta")
    assert cta.inner_text() == "Book a meeting"
    assert (cta.get_attribute("href"), cta.get_attribute("target")) == (MEETING, "_blank")

    # Prev/Next at the ends, the page indicator, the keyboard.
    assert indicator(customer) == "1 / 4"
    assert disabled(customer, "[data-prev]") and not disabled(customer, "[data-next]")
    customer.keyboard.press("ArrowRight")
    assert indicator(customer) == "2 / 4" and not disabled(customer, "[data-prev]")
    customer.keyboard.press("PageDown")
    assert indicator(customer) == "3 / 4"
    customer.keyboard.press("End")
    assert indicator(customer) == "4 / 4"
    assert disabled(customer, "[data-next]") and not disabled(customer, "[data-prev]")
    customer.keyboard.press("ArrowRight")
    assert indicator(customer) == "4 / 4", "no page after the last"
    customer.keyboard.press("PageUp")
    assert indicator(customer) == "3 / 4"
    customer.keyboard.press("ArrowLeft")
    assert indicator(customer) == "2 / 4"
    customer.keyboard.press("Home")
    assert indicator(customer) == "1 / 4" and disabled(customer, "[data-prev]")
    customer.click("[data-next]")
    assert indicator(customer) == "2 / 4" and customer.locator(".thumb.on").inner_text() == "2"
    wait_page_image(customer, "/2.png")

    # Zoom: + and - keys and the buttons scale the page; 0 fits it again.
    fitted = image_width(customer)
    customer.keyboard.press("+")
    assert customer.locator("[data-zoom-level]").inner_text() == "125%"
    assert image_width(customer) == pytest.approx(fitted * 1.25, abs=2)
    customer.click("[data-zoom-in]")
    assert customer.locator("[data-zoom-level]").inner_text() == "150%"
    assert image_width(customer) == pytest.approx(fitted * 1.5, abs=2)
    customer.keyboard.press("-")
    customer.click("[data-zoom-out]")
    customer.click("[data-zoom-out]")
    assert customer.locator("[data-zoom-level]").inner_text() == "75%"
    assert image_width(customer) == pytest.approx(fitted * 0.75, abs=2)
    customer.keyboard.press("0")
    assert image_width(customer) == pytest.approx(fitted, abs=2)
    screenshot(customer, "customer-viewer-desktop")

    # Full screen: the button asks the browser for it, F leaves it.
    customer.click("[data-fullscreen]")
    wait_until(lambda: fullscreen_state(customer) == "api+class", what="the viewer in full screen (last state shown)",
               timeout_s=20, interval_s=0.1)
    assert customer.locator("[data-fullscreen]").get_attribute("aria-pressed") == "true"
    customer.keyboard.press("ArrowRight")
    assert indicator(customer) == "3 / 4", "the keyboard works in full screen"
    wait_page_image(customer, "/3.png")
    screenshot(customer, "customer-viewer-fullscreen", full_page=False)
    customer.keyboard.press("f")
    wait_until(lambda: fullscreen_state(customer) == "none", what="full screen left (last state shown)", timeout_s=20,
               interval_s=0.1)


def test_one_page_share_with_reply_by_email(system, accounts, one_pager, new_page):
    url = share_as_rep(system, one_pager, call_to_action=usage_pb2.SHARE_CALL_TO_ACTION_REPLY_EMAIL)
    customer = new_page(user_agent=DESKTOP_UA)
    customer.goto(url)
    wait_page_image(customer)
    assert indicator(customer) == "1 / 1"
    assert disabled(customer, "[data-prev]") and disabled(customer, "[data-next]")
    customer.keyboard.press("ArrowRight")
    customer.keyboard.press("End")
    assert indicator(customer) == "1 / 1"
    assert customer.locator("#sender-name").inner_text() == "Rita Rep"
    assert customer.locator("#sender-message").count() == 0, "no message was written"
    cta = customer.locator("#share-cta")
    assert cta.inner_text() == "Reply by email"
    assert cta.get_attribute("href") == f"mailto:{USERS['rep'][0]}?subject={quote(ONE_PAGER, safe='')}"
    screenshot(customer, "customer-viewer-one-page")


def test_phone_layout_has_no_horizontal_overflow(system, accounts, catalog, new_page):
    url = share_as_rep(system, catalog["roi"], customer_message="Dana — the case study we discussed on Tuesday's "
                       "call, with the numbers from the pilot: https://example.com/a-very-long-link-that-must-wrap-"
                       "instead-of-widening-the-page", call_to_action=usage_pb2.SHARE_CALL_TO_ACTION_BOOK_MEETING,
                       meeting_url=MEETING)
    phone = new_page(width=390, height=844, user_agent=PHONE_UA, mobile=True)
    phone.goto(url)
    wait_page_image(phone)
    no_horizontal_overflow(phone, 390)
    for selector in ("[data-prev]", "[data-next]", "[data-zoom-in]", "[data-zoom-out]", "[data-fullscreen]",
                     "#share-cta", "#sender-name"):
        box = phone.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, f"{selector} fits the screen"
    phone.locator("[data-next]").tap()
    assert indicator(phone) == "2 / 3"
    wait_page_image(phone, "/2.png")
    screenshot(phone, "customer-viewer-phone")
    phone.locator("[data-zoom-in]").tap()
    phone.locator("[data-zoom-in]").tap()
    assert phone.locator("[data-zoom-level]").inner_text() == "150%"
    no_horizontal_overflow(phone, 390)  # a zoomed page scrolls inside the viewer, not the page
    screenshot(phone, "customer-viewer-phone-zoomed")
