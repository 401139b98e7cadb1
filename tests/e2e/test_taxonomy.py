"""Managed vocabularies in the browser: every facet value is reachable (beyond the first 8, by
keyboard), pages show labels instead of codes, and marketers pick values from the vocabularies."""

from __future__ import annotations

import uuid

import pytest

from collateral.v1 import content_pb2, content_pb2_grpc
from services.content import vocabulary
from tests.e2e.conftest import USERS, make_pdf, screenshot, sign_in, wait_until

pytestmark = pytest.mark.e2e

INDUSTRIES = ["healthcare", "financial-services", "insurance", "manufacturing", "retail", "software",
              "public-sector", "education", "energy", "life-sciences", "telecommunications", "media",
              "transportation"]


@pytest.fixture(scope="module")
def every_type(system) -> str:
    """One published asset per asset type (13), each in its own industry, under a fresh tag."""
    tag = "taxo" + uuid.uuid4().hex[:8]
    stub = content_pb2_grpc.ContentServiceStub(system.channel("content"))
    md = system.metadata(USERS["marketer"][0], "marketer")
    types = [v.number for v in content_pb2.AssetType.DESCRIPTOR.values if v.number]
    for kind, industry in zip(types, INDUSTRIES):
        name = content_pb2.AssetType.Name(kind)
        created = stub.CreateAsset(content_pb2.CreateAssetRequest(
            asset=content_pb2.Asset(title=f"Every type {name.lower()}", type=kind, industries=[industry],
                                    regions=["na"], tags=[tag]),
            file_content=make_pdf(name, ["page"]), file_name="f.pdf", content_type="application/pdf"),
            metadata=md, timeout=60).asset
        stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=created.asset_id), metadata=md, timeout=30)
    mine = content_pb2.SearchAssetsRequest(filters=content_pb2.SearchFilters(tags=[tag]))
    wait_until(lambda: stub.SearchAssets(mine, metadata=md, timeout=10).total_size == len(types),
               what="every type searchable")
    return tag


def test_show_all_reveals_facet_values_beyond_8_and_picking_one_filters(system, accounts, every_type, new_page):
    page = new_page()
    sign_in(page, accounts["rep"][0])
    page.goto(f"/search?tag={every_type}")
    facet = page.locator("fieldset.facet[data-facet=type]")
    assert facet.locator("label.check").count() == 13
    visible = [box for box in facet.locator("label.check").all() if box.is_visible()]
    assert len(visible) == 8, "the first 8 values show, the rest are folded"
    summary = facet.locator("details.facet-more > summary")
    assert summary.inner_text().strip() == "Show all 13"
    hidden = facet.locator("details.facet-more label.check").first
    assert not hidden.is_visible()
    hidden_label = hidden.locator("span").first.text_content().strip()
    screenshot(page, "facets-folded")

    # Keyboard only: focus the toggle and press Enter.
    summary.focus()
    page.keyboard.press("Enter")
    assert hidden.is_visible()
    assert summary.inner_text().strip() == "Show fewer"
    # Labels, not codes, in the industry facet and the result chips.
    industry = page.locator("fieldset.facet[data-facet=industry]")
    industry.locator("details.facet-more > summary").click()
    assert industry.locator("label.check", has_text="Financial services").count() == 1
    assert industry.locator("label.check span", has_text="financial-services").count() == 0
    chips = page.locator("article.result .chip").all_inner_texts()
    assert len(chips) == 12 and set(chips) <= set(dict(vocabulary.BY_NAME["industry"].defaults).values()), chips
    screenshot(page, "facets-show-all")

    hidden.locator("input").focus()
    page.keyboard.press("Space")  # checking submits the form (data-autosubmit)
    page.wait_for_url(lambda url: "type=" in url)
    results = page.locator("article.result")
    assert results.count() == 1
    assert results.first.locator(".result-type").text_content().strip() == hidden_label
    # The picked value stays reachable: its fold is open, and the chip names its label.
    assert page.locator("fieldset.facet[data-facet=type] details.facet-more").get_attribute("open") is not None
    assert page.locator(".filter-chips .chip-filter", has_text=f"Type: {hidden_label}").count() == 1
    screenshot(page, "facets-picked-ninth")


def test_marketer_picks_values_from_vocabularies_and_manages_them(system, accounts, catalog, new_page):
    code = "z" + uuid.uuid4().hex[:8]
    page = new_page()
    sign_in(page, accounts["marketer"][0])
    page.goto("/manage/assets")
    page.click("#vocabularies-link")
    page.select_option("#add-term select[name=vocabulary]", "industry")
    page.fill("#add-term input[name=code]", "Bad Code")
    page.fill("#add-term input[name=label]", "Bad")
    page.click("#add-term-submit")
    assert page.locator("#err-code").is_visible(), "the service's field violation is shown on the code"
    page.fill("#add-term input[name=code]", code)
    page.fill("#add-term input[name=label]", "Agritech")
    page.click("#add-term-submit")
    assert "Added Agritech" in page.locator(".flash").inner_text()
    row = page.locator(f"#vocab-industry tr[data-code={code}]")
    row.locator("input[name=label]").fill("Agriculture technology")
    row.locator("button", has_text="Rename").click()
    assert page.locator(f"#vocab-industry tr[data-code={code}] input[name=label]").input_value() == \
        "Agriculture technology"
    screenshot(page, "vocabularies")

    page.goto("/manage/assets/new")
    assert page.locator("input[name=industries][type=text]").count() == 0, "no free text for industries"
    page.fill("input[name=title]", "Agritech pitch")
    page.select_option("select[name=type]", "deck")
    page.locator("fieldset[data-vocabulary=industry] label.check", has_text="Agriculture technology").locator(
        "input").check()
    page.locator("fieldset[data-vocabulary=industry] label.check", has_text="Financial services").locator(
        "input").check()
    page.locator("fieldset[data-vocabulary=region] label.check", has_text="North America").locator("input").check()
    page.locator("fieldset[data-vocabulary=persona] label.check", has_text="CIO").locator("input").check()
    screenshot(page, "asset-form-vocabularies")
    page.click("#save-asset")
    assert "Draft created" in page.locator(".flash").inner_text()
    edit_url = page.url
    picked = page.locator("fieldset[data-vocabulary=industry] input:checked")
    assert sorted(picked.evaluate_all("els => els.map(e => e.value)")) == sorted([code, "financial-services"])

    # Retire the new term: the draft keeps it (marked), a new asset cannot pick it.
    page.goto("/manage/vocabularies")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#vocab-industry tr[data-code={code}] button", has_text="Retire").click()
    assert "Retired" in page.locator(".flash").inner_text()
    page.goto(edit_url)
    kept = page.locator("fieldset[data-vocabulary=industry] label.check", has_text="Agriculture technology")
    assert kept.locator("input").is_checked() and "(retired)" in kept.inner_text()
    page.goto("/manage/assets/new")
    assert page.locator("fieldset[data-vocabulary=industry] label.check",
                        has_text="Agriculture technology").count() == 0
