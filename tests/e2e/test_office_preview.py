"""Office previews in the browser: a PPTX deck converted by LibreOffice is paged through by a
rep and by a customer through a share link, and the usage report shows the time per slide.

A deck that cannot be converted shows the reason, as text, to the marketer in the catalog
and on its asset page, never an error page.
"""

from __future__ import annotations

import time

import pytest

from collateral.v1 import content_pb2, content_pb2_grpc
from tests.conftest import skip_or_fail
from tests.e2e.conftest import DESKTOP_UA, USERS, screenshot, sign_in, wait_page_image, wait_until
from tests.office_documents import PPTX, corrupt_pptx, make_pptx, soffice

pytestmark = pytest.mark.e2e

OFFICE_TAG = "e2e-office"
SLIDES = ["Onboarding plan for Northwind", "Pricing tiers and discounts", "Rollout timeline by quarter"]


def _image_loaded(page, selector: str) -> bool:
    return page.locator(selector).first.evaluate("el => el.complete && el.naturalWidth > 0")


@pytest.fixture(scope="module")
def decks(system) -> dict[str, str]:
    """A converted three-slide deck and an unconvertible one, published: key -> asset id."""
    if soffice() is None:
        skip_or_fail("LibreOffice (soffice) is not installed: ./dev test installs it")
    stub = content_pb2_grpc.ContentServiceStub(system.channel("content"))
    md = system.metadata(USERS["marketer"][0], "marketer")
    ids = {}
    for key, title, payload in (("deck", "Northwind Rollout Deck", make_pptx(SLIDES)),
                                ("broken", "Broken Partner Deck", corrupt_pptx())):
        created = stub.CreateAsset(content_pb2.CreateAssetRequest(
            asset=content_pb2.Asset(title=title, type=content_pb2.ASSET_TYPE_DECK, tags=[OFFICE_TAG],
                                    description=f"{title} for reps.", language="en"),
            file_content=payload, file_name=f"{key}.pptx", content_type=PPTX), metadata=md, timeout=120).asset
        stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=created.asset_id), metadata=md, timeout=30)
        ids[key] = created.asset_id
    mine = content_pb2.SearchAssetsRequest(query="", filters=content_pb2.SearchFilters(tags=[OFFICE_TAG]))
    wait_until(lambda: stub.SearchAssets(mine, metadata=md, timeout=10).total_size == len(ids),
               what="office decks searchable")
    return ids


def test_rep_and_customer_page_through_a_pptx_and_the_report_shows_time_per_slide(system, accounts, decks,
                                                                                   new_page):
    rep = new_page()
    sign_in(rep, accounts["rep"][0])

    # Search finds the deck by the words on its slides, with the first slide as thumbnail.
    rep.fill("#q", "rollout timeline northwind")
    rep.press("#q", "Enter")
    result = rep.locator("article.result", has=rep.locator(f"a[href*='{decks['deck']}']"))
    result.wait_for()
    wait_until(lambda: _image_loaded(result, "img.result-thumb"), what="search thumbnail loaded", timeout_s=30)
    screenshot(rep, "office-search")

    # The rep pages through the three slides.
    result.locator("h3 a").click()
    wait_page_image(rep)
    assert rep.locator(".viewer-count").inner_text().replace(" ", "") == "1/3"
    screenshot(rep, "office-rep-slide-1")
    for number in (2, 3):
        rep.click("[data-next]")
        assert rep.locator("[data-current]").inner_text() == str(number)
        wait_page_image(rep, f"/{number}.png")
        screenshot(rep, f"office-rep-slide-{number}")

    # The rep shares it; the customer opens the link and reads every slide.
    rep.fill("#share-form input[name=opportunity_id]", "opp-e2e-office")
    rep.click("#share-form button[type=submit]")
    share_url = rep.input_value("#share-url")
    created = time.monotonic()
    time.sleep(max(0.0, 1.5 - (time.monotonic() - created)))  # a real reader, not a link scanner
    customer = new_page(user_agent=DESKTOP_UA)
    customer.goto(share_url)
    wait_page_image(customer)
    assert customer.locator(".viewer-count").inner_text().replace(" ", "") == "1/3"
    screenshot(customer, "office-customer-slide-1")
    for number, dwell_ms in ((2, 1500), (3, 1200)):
        customer.wait_for_timeout(dwell_ms)  # time spent reading the previous slide
        customer.click("[data-next]")
        wait_page_image(customer, f"/{number}.png")
    customer.wait_for_timeout(1000)
    screenshot(customer, "office-customer-slide-3")
    customer.close()  # pagehide: the time on the last slide is sent

    # The marketer's usage report shows time on each of the three slides.
    marketer = new_page()
    sign_in(marketer, accounts["marketer"][0])
    marketer.goto(f"/reports/assets/{decks['deck']}")
    pages = marketer.locator("section.card", has_text="Pages customers read").locator("tbody tr")

    def slides_reported() -> bool:
        marketer.reload()
        return pages.count() == 3

    wait_until(slides_reported, what="time per slide in the usage report", timeout_s=60, interval_s=1.5)
    rows = [pages.nth(i).locator("td").all_inner_texts() for i in range(3)]
    assert [row[0] for row in rows] == ["1", "2", "3"]
    assert all(row[2].strip() not in ("", "0 s", "0s") for row in rows), rows
    screenshot(marketer, "office-report-per-slide")


def test_unconvertible_deck_shows_the_reason_to_the_marketer(system, accounts, decks, new_page):
    marketer = new_page()
    sign_in(marketer, accounts["marketer"][0])
    marketer.goto("/manage/assets")
    broken = marketer.locator("#catalog-table tbody tr", has_text="Broken Partner Deck")
    assert "Preview unavailable: LibreOffice could not convert it" in broken.inner_text()
    converted = marketer.locator("#catalog-table tbody tr", has_text="Northwind Rollout Deck")
    wait_until(lambda: _image_loaded(converted, "img.catalog-thumb"), what="catalog thumbnail loaded", timeout_s=30)
    screenshot(marketer, "office-catalog")

    response = marketer.goto(f"/assets/{decks['broken']}")
    assert response.status == 200
    assert "Preview unavailable: LibreOffice could not convert it" in marketer.locator("#preview-unavailable").inner_text()
    assert marketer.locator("#download").count() == 1, "the original can still be downloaded"
    screenshot(marketer, "office-unavailable")
