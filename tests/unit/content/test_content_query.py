"""Search request building: visibility, multi-select facets, ranking, pagination."""

from __future__ import annotations

import json

import pytest

from services.common import pagination
from services.common.errors import InvalidArgument
from services.content import store


def test_reps_only_see_published_unexpired():
    body = store.build_search("roi", {}, curator=False, sort="relevance", size=10)
    filters = body["query"]["function_score"]["query"]["bool"]["filter"]
    assert {"term": {"status": "published"}} in filters
    assert "expires_at" in json.dumps(filters)
    assert "status" not in body["aggs"]


def test_curators_see_everything_and_get_status_facet():
    body = store.build_search("", {}, curator=True, sort="relevance", size=10, include_expired=True)
    assert body["query"]["function_score"]["query"]["bool"]["filter"] == []
    assert "status" in body["aggs"]
    assert "highlight" not in body  # nothing to highlight without a query


def test_filters_are_post_filters_and_facets_exclude_their_own_filter():
    body = store.build_search("deck", {"type": ["deck"], "industry": ["healthcare"]}, False, "relevance", 10)
    post = body["post_filter"]["bool"]["filter"]
    assert {"terms": {"type": ["deck"]}} in post and {"terms": {"industries": ["healthcare"]}} in post
    type_facet = body["aggs"]["type"]["filter"]["bool"]["filter"]
    assert type_facet == [{"terms": {"industries": ["healthcare"]}}]
    region_facet = body["aggs"]["region"]["filter"]["bool"]["filter"]
    assert len(region_facet) == 2


def test_text_query_is_fuzzy_boosted_multi_match():
    body = store.build_search("pricng", {}, False, "relevance", 10)
    text = json.dumps(body["query"])
    assert f'"fuzziness": "{store.FUZZINESS}"' in text and "title^4" in text and '"body"' in text
    assert "highlight" in body and "body" in body["highlight"]["fields"]
    assert "fuzziness" not in json.dumps(body["highlight"]["highlight_query"])  # cheap exact highlighting


def test_ranking_uses_function_score_without_scripts():
    body = store.build_search("x", {}, False, "relevance", 10)
    fs = body["query"]["function_score"]
    fields = {f["field_value_factor"]["field"] for f in fs["functions"] if "field_value_factor" in f}
    assert fields == {"signals.usage_score", "signals.win_rate_lower", "signals.deals_closed"}
    assert "\"script" not in json.dumps(body)


@pytest.mark.parametrize("sort", list(store.SORTS))
def test_every_sort_ends_with_a_unique_tiebreaker(sort):
    body = store.build_search("", {}, True, sort, 5, search_after=[1, "a"])
    assert body["sort"][-1] == {"asset_id": "asc"}
    assert body["search_after"] == [1, "a"]
    assert "from" not in body  # search_after, so paging is not capped at 10,000


def test_page_tokens_are_signed_and_bound_to_the_query():
    fp = store.fingerprint("search", "roi", {}, "relevance")
    token = pagination.encode("secret", {"f": fp, "a": [1.5, "zz"]})
    assert pagination.decode("secret", token)["a"] == [1.5, "zz"]
    with pytest.raises(InvalidArgument) as info:
        pagination.decode("secret", token[:-2] + "AA")
    assert info.value.field == "page_token"
    assert store.fingerprint("search", "roi", {}, "newest") != fp


def test_suggest_filters_by_status_context_for_reps():
    rep = store.build_suggest("pri", 5, curator=False)["suggest"]["titles"]["completion"]
    assert rep["contexts"] == {"status": ["published"]} and rep["fuzzy"]["fuzziness"] == "AUTO"
    curator = store.build_suggest("pri", 5, curator=True)["suggest"]["titles"]["completion"]
    assert curator["contexts"]["status"] == ["draft", "published", "retired"]


def test_suggest_inputs_cover_inner_words_and_tags():
    inputs = store.suggest_inputs({"title": "Enterprise pricing deck", "tags": ["roi"]})
    flat = [i for entry in inputs for i in entry["input"]]
    assert "pricing deck" in flat and "Enterprise pricing deck" in flat and "roi" in flat


def test_mappings_use_standard_or_english_analyzer():
    assert store.mappings()["properties"]["body"]["analyzer"] == "standard"
    assert store.mappings(english=True)["properties"]["title"]["analyzer"] == "english"
    assert store.mappings()["properties"]["suggest"]["type"] == "completion"


def test_dedupe_hits_keeps_first():
    hits = [{"_id": "a"}, {"_id": "b"}, {"_id": "a"}]
    assert [h["_id"] for h in store.dedupe_hits(hits)] == ["a", "b"]


def test_later_pages_skip_facets():
    assert "aggs" not in store.build_search("x", {}, False, "relevance", 10, search_after=[1.0, "a"], facets=False)
