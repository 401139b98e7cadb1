"""Zero-, poor- and good-result searches: which are content gaps, how they are stored, and how topics weigh them."""

from __future__ import annotations

import pytest

from services.common.contracts import search
from services.common.contracts.search import POOR_RESULT, ZERO_RESULT
from services.feedback import gap_topics, routing, stemming
from services.feedback.gap_topics import SEARCH, Phrasing


def a_search(result_count: int, query: str = "pricing deck") -> search.Search:
    return search.Search(event_id="e1", rep_id="r1", occurred_at="2026-01-05T10:00:00Z", query=query,
                         result_count=result_count, shown_asset_ids=[], filters={"industry": ["retail"]})


@pytest.mark.parametrize("poor_max, result_count, kind", [
    (2, 0, ZERO_RESULT), (2, 1, POOR_RESULT), (2, 2, POOR_RESULT), (2, 3, None), (2, 5, None),
    (5, 5, POOR_RESULT), (5, 6, None), (1, 2, None),
    (0, 0, ZERO_RESULT), (0, 1, None),  # 0: only zero-result searches are gaps
    (-1, 1, None),  # a negative bound is no bound below zero
])
def test_a_search_for_words_is_zero_poor_or_no_gap_by_its_result_count(poor_max, result_count, kind):
    assert a_search(result_count).gap_kind(poor_max) == kind


@pytest.mark.parametrize("result_count", [0, 1, 2])
def test_browsing_by_filters_alone_is_never_a_gap(result_count):
    assert a_search(result_count, query="   ").gap_kind(2) is None


def test_the_router_stores_zero_and_poor_result_searches_with_their_count():
    zero, poor, good = (routing._miss(a_search(n, " Pricing deck "), 2) for n in (0, 2, 3))
    assert zero.doc is not None and zero.doc["result_count"] == 0 and zero.doc["query"] == "Pricing deck"
    assert poor.doc is not None and poor.doc["result_count"] == 2
    assert good.doc is None and not routing.RouterProcessor.keep(good)


def phrasing(text: str, zero: int, poor: int, reps: frozenset[str] = frozenset()) -> Phrasing:
    return Phrasing(SEARCH, text, text, zero, reps, poor=poor)


def test_topic_totals_keep_zero_and_poor_result_searches_apart():
    found = gap_topics.group(gap_topics.stem_all(
        [phrasing("pricing deck", 2, 1, frozenset({"r1", "r2"})), phrasing("price decks", 0, 3)], stemming.Stemmer(None)))
    [topic] = found
    assert (topic.searches, topic.poor_searches, topic.reps) == (2, 4, 2)
    assert topic.name == "price decks"  # the most searched phrasing, zero- and poor-result alike


def test_a_poor_result_search_weighs_less_than_any_zero_result_search():
    def score(zero: int, poor: int, reps: int) -> float:
        return gap_topics.Topic("gt-x", "x", [], [], searches=zero, poor_searches=poor, reps=reps).score

    assert score(0, 1, 0) == pytest.approx(gap_topics.POOR_SEARCH_WEIGHT)
    assert score(0, 1, 0) < score(2, 0, 1) - score(1, 0, 1)  # below a rep's second zero-result search
    assert score(1, 1, 1) == pytest.approx(score(1, 0, 1) + gap_topics.POOR_SEARCH_WEIGHT)
