"""Type-ahead on the search page: full titles, no duplicates, keyboard navigation (combobox)."""

from __future__ import annotations

import re
import uuid
from urllib.parse import unquote_plus

import pytest

from collateral.v1 import content_pb2, content_pb2_grpc
from tests.e2e.conftest import USERS, make_pdf, screenshot, sign_in, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def typeahead_titles(system) -> list[str]:
    """Published assets sharing a made-up word: one long title, and two assets with the same title."""
    word = "Zephyrine" + uuid.uuid4().hex[:6]
    titles = [f"{word} quarterly business review template for enterprise accounts (one pager 288)",
              f"{word} pricing guide", f"{word} pricing guide", f"{word} renewal playbook"]
    stub = content_pb2_grpc.ContentServiceStub(system.channel("content"))
    md = system.metadata(USERS["marketer"][0], "marketer")
    for i, title in enumerate(titles):
        created = stub.CreateAsset(content_pb2.CreateAssetRequest(
            asset=content_pb2.Asset(title=title, type=content_pb2.ASSET_TYPE_ONE_PAGER),
            file_content=make_pdf(title, ["Type-ahead test page."]), file_name=f"t{i}.pdf",
            content_type="application/pdf"), metadata=md, timeout=60).asset
        stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=created.asset_id), metadata=md, timeout=30)
    rep_md = system.metadata("typeahead-rep", "rep")
    wait_until(lambda: len(stub.Suggest(content_pb2.SuggestRequest(prefix=word.lower()), metadata=rep_md,
                                        timeout=10).suggestions) == 3, what="suggestions indexed")
    return titles


def _active(page) -> str:
    return page.get_attribute("#q", "aria-activedescendant") or ""


def test_typeahead_full_titles_no_duplicates_and_keyboard(system, accounts, new_page, typeahead_titles):
    long_title = typeahead_titles[0]
    prefix = long_title.split()[0]
    rep = new_page(width=640)
    sign_in(rep, accounts["rep"][0])
    rep.goto("/search")
    rep.locator("#q").press_sequentially(prefix[:12], delay=30)
    rep.wait_for_selector("#suggestions li")
    options = rep.locator("#suggestions li[role=option]")
    wait_until(lambda: options.count() == 3, what="three suggestions")
    texts = options.all_inner_texts()
    assert long_title in texts, texts  # the full title, wrapped by CSS, not cut at 50 characters
    assert sorted(t.lower() for t in texts) == sorted({t.lower() for t in typeahead_titles})  # no duplicates
    assert all(options.nth(i).get_attribute("title") == texts[i] for i in range(3))
    assert rep.get_attribute("#q", "role") == "combobox" and rep.get_attribute("#q", "aria-expanded") == "true"
    assert rep.get_attribute("#suggestions", "role") == "listbox"
    long_box = rep.locator("#suggestions li", has_text=long_title).bounding_box()
    short_box = rep.locator("#suggestions li", has_text=typeahead_titles[-1]).bounding_box()
    assert long_box and short_box and long_box["height"] > 1.5 * short_box["height"], \
        "a long title wraps onto several lines instead of being cut"

    rep.keyboard.press("ArrowDown")
    assert _active(rep) == "sugg-0" and options.nth(0).get_attribute("aria-selected") == "true"
    rep.keyboard.press("ArrowDown")
    assert _active(rep) == "sugg-1" and options.nth(0).get_attribute("aria-selected") == "false"
    rep.keyboard.press("ArrowUp")
    rep.keyboard.press("ArrowUp")
    assert _active(rep) == "sugg-2", "ArrowUp from the first option wraps to the last"
    screenshot(rep, "typeahead", full_page=False)
    rep.keyboard.press("Escape")
    assert rep.locator("#suggestions").is_hidden() and _active(rep) == ""
    assert rep.get_attribute("#q", "aria-expanded") == "false"

    rep.locator("#q").press_sequentially(" ", delay=30)  # typing again reopens the list
    rep.wait_for_selector("#suggestions li")
    wait_until(lambda: options.count() == 3, what="suggestions again")
    rep.keyboard.press("ArrowDown")
    chosen = options.nth(0).inner_text()
    rep.keyboard.press("Enter")
    rep.wait_for_url(re.compile(r"[?&]q="))
    assert unquote_plus(rep.url.split("q=", 1)[1].split("&", 1)[0]) == chosen
    assert rep.locator("article.result h3").first.inner_text().strip() == chosen
