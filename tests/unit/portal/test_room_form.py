"""The deal-room dialog's reading of the ticked assets and their order (pure form logic)."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from services.portal.views import rooms


def test_ticked_assets_follow_the_numbers_then_their_position():
    form = MultiDict([("asset", "roi"), ("asset", "deck"), ("asset", "card"), ("order-deck", "1"), ("order-roi", "2")])
    assert rooms.selected_assets(form) == ["deck", "roi", "card"]


def test_unnumbered_or_badly_numbered_assets_keep_their_position():
    form = MultiDict([("asset", "a"), ("asset", "b"), ("order-a", "x"), ("order-b", "")])
    assert rooms.selected_assets(form) == ["a", "b"]


def test_duplicates_and_invalid_ids_are_dropped():
    form = MultiDict([("asset", "a"), ("asset", "a"), ("asset", "bad id"), ("asset", "<b>")])
    assert rooms.selected_assets(form) == ["a"]


def test_more_than_the_limit_reaches_the_check_that_refuses_it():
    form = MultiDict([("asset", f"a{i}") for i in range(80)])
    assert len(rooms.selected_assets(form)) == rooms.MAX_ASSETS + 1


def test_violations_land_on_their_form_fields():
    assert rooms._form_field("asset_ids[3]") == "asset_ids"
    assert rooms._form_field("expires_in") == "expires_days"
    assert rooms._form_field("title") == "title"
    assert rooms._form_field("") == ""
