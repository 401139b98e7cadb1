"""What the catalog page asks the content service for its search box, filters, sort and paging."""

from __future__ import annotations

from collateral.v1 import content_pb2
from services.portal import catalog_page
from services.portal.catalog_page import CatalogQuery


def test_a_plain_listing_uses_list_assets_with_status_and_owner():
    query = CatalogQuery.from_args({"status": "retired", "owner": " mia ", "page_token": "t"})
    method, request = catalog_page.backend_call(query)
    assert method == "ListAssets"
    assert list(request.statuses) == [content_pb2.ASSET_STATUS_RETIRED]
    assert (request.owner, request.page_token, request.page_size) == ("mia", "t", 25)


def test_words_type_expiry_or_sort_use_search_with_expired_assets_included():
    query = CatalogQuery.from_args({"q": " roi ", "type": "case_study", "expiry": "expiring_soon",
                                    "sort": "most_used", "status": "published", "owner": "mia", "page_size": "50"})
    method, request = catalog_page.backend_call(query)
    assert method == "SearchAssets"
    assert request.query == "roi" and request.sort == content_pb2.SEARCH_SORT_MOST_USED and request.page_size == 50
    f = request.filters
    assert list(f.types) == [content_pb2.ASSET_TYPE_CASE_STUDY] and f.expiry == content_pb2.EXPIRY_WINDOW_EXPIRING_SOON
    assert list(f.statuses) == [content_pb2.ASSET_STATUS_PUBLISHED] and list(f.owners) == ["mia"]
    assert f.include_expired


def test_unknown_values_mean_no_filter():
    query = CatalogQuery.from_args({"status": "deleted", "type": "spaceship", "expiry": "soonish", "sort": "random",
                                    "page_size": "7"})
    assert (query.status, query.type, query.expiry, query.sort, query.page_size) == ("", "", "", "", 25)
    assert catalog_page.backend_call(query)[0] == "ListAssets"


def test_links_keep_the_filters_but_not_the_page_token():
    query = CatalogQuery.from_args({"q": "roi", "status": "draft", "page_token": "abc"})
    assert query.args(status="retired") == {"q": "roi", "status": "retired"}
    assert query.args(status="") == {"q": "roi"}


def test_placeholder_initials_per_type():
    assert catalog_page.type_initials(content_pb2.Asset(type=content_pb2.ASSET_TYPE_CASE_STUDY)) == "CS"
    assert catalog_page.type_initials(content_pb2.Asset(type=content_pb2.ASSET_TYPE_DECK)) == "De"
    assert catalog_page.type_initials(content_pb2.Asset()) == "Ot"
