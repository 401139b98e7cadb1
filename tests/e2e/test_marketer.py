"""A marketer uploads a PDF and finds it by a word inside it, curates it, and reads the
reports; reps cannot reach marketer pages; feedback flows from reps to marketers."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import make_pdf, screenshot, sign_in, wait_until

pytestmark = pytest.mark.e2e


def test_marketer_uploads_publishes_and_finds_by_inner_word(system, accounts, catalog, new_page, tmp_path):
    word = "zorblax" + uuid.uuid4().hex[:6]
    pdf = tmp_path / "pricing-guide.pdf"
    pdf.write_bytes(make_pdf("Pricing Guide 2027", [f"Our {word} pricing model explained.", "Discount rules."]))
    page = new_page()
    sign_in(page, accounts["marketer"][0])
    assert page.url.endswith("/reports/")
    page.goto("/manage/assets")
    page.click("#new-asset")

    # A title of spaces passes the browser's `required` but not the content service: the field shows why.
    page.fill("input[name=title]", "   ")
    page.select_option("select[name=type]", "one_pager")
    page.set_input_files("input[name=file]", str(pdf))
    page.click("#save-asset")
    assert page.locator("#err-title").is_visible(), "the service's field violation is shown next to the title"
    screenshot(page, "asset-form-error")

    page.fill("input[name=title]", "Pricing Guide 2027")
    page.fill("textarea[name=description]", "How we price, with <script>alert(1)</script> examples.")
    page.check("input[name=buying_stages][value=decision]")
    page.check("input[name=industries][value=healthcare]")
    page.check("input[name=industries][value=retail]")
    page.check("input[name=personas][value=cfo]")
    page.set_input_files("input[name=file]", str(pdf))
    page.click("#save-asset")
    assert "Draft created" in page.locator(".flash").inner_text()
    asset_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert page.locator(".versions li").count() == 1
    screenshot(page, "asset-edit")
    page.click("#publish")
    assert "Published" in page.locator(".flash").inner_text()

    # Found by a word that only appears inside the PDF.
    def found() -> bool:
        page.goto(f"/search?q={word}")
        return page.locator("article.result h3", has_text="Pricing Guide 2027").count() == 1

    wait_until(found, what="the new asset searchable by its text", timeout_s=30, interval_s=1)
    assert page.locator("article.result .snippet em").first.inner_text().lower() == word
    page.locator("article.result h3 a").first.click()
    assert page.locator("#asset-title").inner_text() == "Pricing Guide 2027"
    assert "<script>" in page.locator(".asset-side").inner_text(), "user text is escaped"

    # Edit metadata, then retire and restore.
    page.goto(f"/manage/assets/{asset_id}")
    page.fill("input[name=tags]", "pricing, 2027")
    page.click("#save-asset")
    assert "Saved" in page.locator(".flash").inner_text()
    assert page.input_value("input[name=tags]") == "pricing, 2027"
    page.once("dialog", lambda d: d.accept())
    page.click("#retire")
    assert "Retired" in page.locator(".flash").inner_text()
    page.click("#restore")
    assert "draft" in page.locator(".flash").inner_text()
    page.click("#publish")
    page.goto("/manage/assets")
    assert page.locator("#catalog-table tr", has_text="Pricing Guide 2027").count() == 1
    screenshot(page, "catalog")
    csv = page.request.get("/manage/assets?format=csv")
    assert "Pricing Guide 2027" in csv.text()

    # Nobody used it: it shows in the unused report with a reason, and can be retired in bulk.
    def unused() -> bool:
        page.goto("/reports/unused")
        return page.locator("#unused-table tr", has_text="Pricing Guide 2027").count() == 1

    wait_until(unused, what="the new asset in the unused report", timeout_s=60, interval_s=2)
    assert page.locator("#unused-table tr", has_text="Pricing Guide 2027").locator(".badge-reason").inner_text()
    screenshot(page, "report-unused")
    assert "Pricing Guide 2027" in page.request.get("/reports/unused?format=csv").text()
    page.locator("#unused-table tr", has_text="Pricing Guide 2027").locator("input[name=asset_id]").check()
    page.once("dialog", lambda d: d.accept())
    page.click("#bulk-retire")
    assert "Retired 1 asset" in page.locator(".flash").inner_text()
    page.goto("/manage/assets?status=retired")
    assert page.locator("#catalog-table tr", has_text="Pricing Guide 2027").count() == 1


def test_rep_cannot_reach_marketer_pages(system, accounts, catalog, new_page):
    page = new_page()
    sign_in(page, accounts["rep"][0])
    assert page.locator("nav.nav a", has_text="Reports").count() == 0
    for path in ("/manage/assets", "/manage/assets/new", f"/manage/assets/{catalog['deck']}", "/reports/",
                 "/reports/unused", "/reports/win-rates", f"/reports/assets/{catalog['deck']}?format=csv"):
        response = page.goto(path)
        assert response.status == 403, path
        assert page.locator("h1").inner_text() == "Not allowed"
    screenshot(page, "forbidden")
    # A forged POST without the CSRF token is refused before the role check even matters.
    assert page.request.post(f"/manage/assets/{catalog['deck']}/retire").status == 400


def test_feedback_from_reps_reaches_marketer_reports(system, accounts, catalog, new_page):
    if not system.has("feedback"):
        pytest.skip("the feedback service is not part of this build")
    rep = new_page()
    sign_in(rep, accounts["rep2"][0])
    rep.goto(f"/assets/{catalog['battle']}")
    rep.locator("#rating-form label[for=star4]").click()
    rep.fill("#rating-form textarea[name=comment]", "Great for the Acme bake-off")
    rep.click("#rating-form button[type=submit]")
    assert "Thanks" in rep.locator(".flash").inner_text()

    missing = "xylophonic quasarware zeppelinade"
    rep.goto(f"/search?q={missing.replace(' ', '+')}")
    assert rep.locator("#no-results").is_visible()
    screenshot(rep, "search-no-results")
    rep.click("#request-link")
    rep.select_option("#request select[name=buying_stage]", "decision")
    rep.fill("#request input[name=persona]", "cfo")
    rep.click("#request button[type=submit]")
    assert "Request sent" in rep.locator(".flash").inner_text()
    assert rep.locator("#requests-table", has_text=missing).count() == 1
    screenshot(rep, "my-requests")

    marketer = new_page()
    sign_in(marketer, accounts["marketer"][0])

    def rated() -> bool:
        marketer.goto("/reports/feedback")
        return marketer.locator("#feedback-table", has_text="Great for the Acme bake-off").count() == 1

    wait_until(rated, what="the rating in rep feedback", timeout_s=30, interval_s=1)
    screenshot(marketer, "report-feedback")
    marketer.goto(f"/assets/{catalog['battle']}")
    assert "4.0 ★ average from 1 rating" in marketer.locator("#feedback").inner_text()
    assert "Great for the Acme bake-off" in marketer.locator("#feedback .comments").inner_text()
    assert marketer.locator("#rating-form").count() == 0, "marketers read ratings; reps give them"

    def gap() -> bool:
        marketer.goto("/reports/gaps?days=7")
        return marketer.locator("#gaps-table", has_text="quasarware").count() >= 1

    wait_until(gap, what="the request in content gaps", timeout_s=60, interval_s=2)
    screenshot(marketer, "report-gaps")
    for path in ("/reports/win-rates", "/reports/attribution", "/reports/top", "/reports/unused", "/reports/"):
        response = marketer.goto(path)
        assert response.status == 200, path
        assert "Not available" not in marketer.locator("main").inner_text(), path
        screenshot(marketer, "report-" + (path.strip("/").split("/")[-1] or "index"))
    csv = marketer.request.get("/reports/gaps?days=7&format=csv")
    assert csv.headers["content-type"].startswith("text/csv") and "quasarware" in csv.text()


def test_phone_layout(system, accounts, catalog, new_page):
    page = new_page(width=390, height=844, mobile=True)
    sign_in(page, accounts["rep"][0])
    page.goto("/search?q=case")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "no horizontal scroll"
    assert not page.locator("nav.nav").is_visible()
    page.locator("label.nav-burger").click()
    assert page.locator("nav.nav a", has_text="My shares").is_visible()
    assert not page.locator("aside.facets").is_visible(), "filters fold away on a phone"
    page.locator("label.filters-button").click()
    assert page.locator("aside.facets").is_visible()
    screenshot(page, "phone-search")
    page.goto(f"/assets/{catalog['roi']}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(page, "phone-asset")
