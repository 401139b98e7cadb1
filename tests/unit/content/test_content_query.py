"""Search request building: visibility, multi-select facets, ranking, pagination."""

from __future__ import annotations

import json

import pytest

from services.common import pagination
from services.common.errors import InvalidArgument
from services.content import store


def test_reps_only_see_published_unexpired():
    hits = store.build_search("roi", {}, curator=False, sort="relevance", size=10)
    counts = store.build_counts("roi", {}, curator=False)
    for filters in (hits["query"]["bool"]["filter"], counts["query"]["bool"]["filter"]):
        assert {"term": {"status": "published"}} in filters
        assert "expires_at" in json.dumps(filters)
    assert "status" not in counts["aggs"]


def test_curators_see_everything_and_get_status_facet():
    body = store.build_search("", {}, curator=True, sort="relevance", size=10, include_expired=True)
    assert body["query"]["bool"]["filter"] == []
    assert "status" in store.build_counts("", {}, curator=True, include_expired=True)["aggs"]
    assert "highlight" not in body  # nothing to highlight without a query


def test_hits_are_filtered_while_facets_exclude_their_own_filter():
    filters = {"type": ["deck"], "industry": ["healthcare"]}
    hits = store.build_search("deck", filters, False, "relevance", 10)
    assert {"terms": {"type": ["deck"]}} in hits["query"]["bool"]["filter"]
    assert {"terms": {"industries": ["healthcare"]}} in hits["query"]["bool"]["filter"]
    body = store.build_counts("deck", filters, False)
    post = body["post_filter"]["bool"]["filter"]
    assert {"terms": {"type": ["deck"]}} in post and {"terms": {"industries": ["healthcare"]}} in post
    type_facet = body["aggs"]["type"]["filter"]["bool"]["filter"]
    assert type_facet == [{"terms": {"industries": ["healthcare"]}}]
    region_facet = body["aggs"]["region"]["filter"]["bool"]["filter"]
    assert len(region_facet) == 2


def test_hits_request_neither_counts_nor_aggregates_so_elasticsearch_can_skip():
    hits = store.build_search("roi deck", {"industry": ["retail"]}, False, "relevance", 10)
    assert hits["track_total_hits"] is False and "aggs" not in hits and "post_filter" not in hits
    counts = store.build_counts("roi deck", {"industry": ["retail"]}, False)
    assert counts["size"] == 0 and counts["track_total_hits"] is True
    assert "must" not in counts["query"]["bool"]  # matched as a filter, never scored


def test_queries_are_exact_unless_typo_tolerant():
    exact = json.dumps(store.build_search("pricng", {}, False, "relevance", 10))
    assert "fuzziness" not in exact and "title^4" in exact and '"body"' in exact
    body = store.build_search("pricng", {}, False, "relevance", 10, fuzzy=True)
    assert f'"fuzziness": "{store.FUZZINESS}"' in json.dumps(body["query"])
    assert f'"fuzziness": "{store.FUZZINESS}"' in json.dumps(store.build_counts("pricng", {}, False, fuzzy=True))
    assert "highlight" in body and "body" in body["highlight"]["fields"]
    assert "fuzziness" not in json.dumps(body["highlight"]["highlight_query"])  # cheap exact highlighting


def test_signals_rescore_the_top_window_without_scripts():
    body = store.build_search("", {}, False, "relevance", 10)
    rescore = body["rescore"]
    assert rescore["window_size"] == store.RESCORE_WINDOW and rescore["query"]["score_mode"] == "multiply"
    fs = rescore["query"]["rescore_query"]["function_score"]
    fields = {f["field_value_factor"]["field"] for f in fs["functions"] if "field_value_factor" in f}
    assert fields == {"signals.usage_score", "signals.win_rate_lower", "signals.deals_closed"}
    assert "\"script" not in json.dumps(body)
    assert "function_score" not in json.dumps(body["query"])  # the main query keeps top-k skipping


def test_relevance_pages_by_offset():
    body = store.build_search("x", {}, False, "relevance", 10, offset=30)
    assert body["from"] == 30 and "sort" not in body and "search_after" not in body


@pytest.mark.parametrize("sort", list(store.SORTS))
def test_every_field_sort_ends_with_a_unique_tiebreaker(sort):
    body = store.build_search("", {}, True, sort, 5, search_after=[1, "a"])
    assert body["sort"][-1] == {"asset_id": "asc"}
    assert body["search_after"] == [1, "a"]
    assert "from" not in body and "rescore" not in body  # search_after, so paging is not capped at 10,000


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
    assert "aggs" not in store.build_counts("x", {}, False, facets=False)


def test_expiry_cutoff_is_the_next_whole_minute_so_assets_hide_early_never_late():
    from datetime import datetime, timezone

    assert store.expiry_cutoff(datetime(2026, 3, 1, 12, 0, 30, 500, tzinfo=timezone.utc)) == "2026-03-01T12:01:00Z"
    assert store.expiry_cutoff(datetime(2026, 3, 1, 23, 59, 0, tzinfo=timezone.utc)) == "2026-03-02T00:00:00Z"


def test_search_requests_never_read_now_so_counts_and_facets_stay_cacheable():
    """Elasticsearch's shard request cache skips any request that reads `now`."""
    bodies = [store.build_counts("pricing", {"type": ["case_study"]}, curator=False),
              store.build_search("pricing", {}, curator=False, sort="relevance", size=20)]
    for body in bodies:
        assert '"now' not in json.dumps(body)


# ---- facets from one field -----------------------------------------------------------------

def test_indexed_documents_carry_every_facet_value_in_one_field():
    doc = store.indexable({"type": "deck", "industries": ["healthcare", "retail"], "regions": [], "owner": "m@x",
                           "status": "published", "language": "", "tags": ["roi"], "title": "T"})
    assert doc[store.FACET_VALUES_FIELD] == ["type=deck", "industry=healthcare", "industry=retail", "tag=roi",
                                             "owner=m@x", "status=published"]


def test_one_field_counts_every_unfiltered_facet_in_one_aggregation():
    body = store.build_counts("roi", {}, curator=False, one_field=True)
    assert list(body["aggs"]) == [store.FACET_VALUES_FIELD]
    shared = body["aggs"][store.FACET_VALUES_FIELD]
    assert "filter" not in shared  # nothing to filter: a match_all filter would cost a pass
    assert shared["meta"]["facets"] == [f for f in store.FACETS if f != "status"]  # status: curators only
    assert shared["terms"] == {"field": store.FACET_VALUES_FIELD, "size": store.FACET_SIZE * len(store.FACETS)}


def test_one_field_keeps_multi_select_for_the_facets_a_search_filters_by():
    filters = {"type": ["deck"], "industry": ["healthcare"], "expiry": ["expired"]}
    body = store.build_counts("deck", filters, curator=True, one_field=True)
    shared = body["aggs"][store.FACET_VALUES_FIELD]
    assert "type" not in shared["meta"]["facets"] and "industry" not in shared["meta"]["facets"]
    assert len(shared["filter"]["bool"]["filter"]) == 3  # the others apply every filter
    own = body["aggs"]["type"]["filter"]["bool"]["filter"]
    assert {"terms": {"industries": ["healthcare"]}} in own and {"terms": {"type": ["deck"]}} not in own
    assert set(body["aggs"]) == {store.FACET_VALUES_FIELD, "type", "industry"}


def test_facet_counts_read_both_shapes_in_facet_order():
    aggregations = {
        store.FACET_VALUES_FIELD: {"meta": {"facets": ["region", "tag", "language"]}, "sum_other_doc_count": 0,
                                   "buckets": [{"key": "tag=roi", "doc_count": 9}, {"key": "region=emea", "doc_count": 5},
                                               {"key": "status=draft", "doc_count": 3},
                                               {"key": "tag=a=b", "doc_count": 2}]},
        "type": {"doc_count": 7, "values": {"buckets": [{"key": "deck", "doc_count": 7}]}},
    }
    assert store.facet_counts(aggregations) == [
        ("type", [("deck", 7)]), ("region", [("emea", 5)]), ("language", []), ("tag", [("roi", 9), ("a=b", 2)])]
    assert store.facets_complete(aggregations)
    aggregations[store.FACET_VALUES_FIELD]["sum_other_doc_count"] = 1
    assert not store.facets_complete(aggregations)
    assert store.facets_complete({"type": aggregations["type"]})


def test_the_body_is_highlighted_by_elasticsearch_with_the_words_and_their_singulars():
    body = store.build_search("Case studies", {}, False, "relevance", 10)
    assert list(body["highlight"]["fields"]) == ["body"]
    assert body["highlight"]["highlight_query"] == {"match": {"body": "case studies study"}}


def test_the_main_query_finds_candidates_cheaply_and_the_full_text_query_ranks_the_window():
    """Best field only (tie_breaker 0) and no phrase bonus let Elasticsearch skip documents;
    the rescore scores the window with the full query, so the ranking does not change."""
    body = store.build_search("case study healthcare", {"buying_stage": ["decision"]}, False, "relevance", 10)
    candidates = body["query"]["bool"]["must"][0]
    assert '"tie_breaker": 0.2' not in json.dumps(candidates) and '"phrase"' not in json.dumps(candidates)
    rescore = body["rescore"]
    assert rescore["window_size"] == store.RESCORE_WINDOW and rescore["query"]["query_weight"] == 0
    factor = rescore["query"]["rescore_query"]["function_score"]
    assert factor["boost_mode"] == "multiply" and factor["max_boost"] == 1 + store.MAX_SIGNAL_BOOST
    full = factor["query"]
    assert full["bool"]["must"] == [store.text_query("case study healthcare")]
    assert full["bool"]["should"] == [store.pin_boost({"buying_stage": ["decision"]})]  # pins stay first
    # Same matches: only the `must` words decide what matches, in both forms.
    assert store.text_query("case study healthcare", candidates=True)["bool"]["must"] == [
        {"bool": {**clause["bool"], "should": [store.word_query(w, False, 0.0) for w in ("case", "study", "healthcare")]}}
        for clause in store.text_query("case study healthcare")["bool"]["must"]]
    # Field sorts keep the full query (its score breaks ties); no query, nothing to rescore.
    assert "rescore" not in store.build_search("case", {}, False, "newest", 10)
    assert store.build_search("case", {}, False, "newest", 10)["query"]["bool"]["must"] == [store.text_query("case")]
    assert "rescore" not in store.build_search("", {}, False, "relevance", 10, signals=False)
    text_only = store.build_search("case", {}, False, "relevance", 10, signals=False)["rescore"]["query"]
    assert text_only["rescore_query"] == store.text_query("case")
