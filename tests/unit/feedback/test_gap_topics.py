"""Content-gap topics: normalisation, the Porter stemmer fallback and single-link clustering."""

from __future__ import annotations

import random

import pytest

from services.feedback import gap_topics, stemming
from services.feedback.gap_topics import LOST, REQUEST, SEARCH, Phrasing


def stemmed(*texts: str, source: str = SEARCH, count: int = 1) -> list[Phrasing]:
    phrasings = [Phrasing(source, t, t, count, frozenset({f"rep-{i}"})) for i, t in enumerate(texts)]
    return gap_topics.stem_all(phrasings, stemming.Stemmer(None))


def test_words_drop_case_punctuation_stop_words_and_numbers():
    assert gap_topics.words("Pricing-Deck for RETAIL, 2024!") == ["pricing", "deck", "retail"]
    assert gap_topics.words("the_pricing deck") == ["pricing", "deck"]  # underscores split too
    assert gap_topics.display("  Pricing-Deck   for retail? ") == "pricing deck for retail"


@pytest.mark.parametrize("word, stem", [
    ("pricing", "price"), ("price", "price"), ("decks", "deck"), ("caresses", "caress"), ("ponies", "poni"),
    ("hopping", "hop"), ("filing", "file"), ("happy", "happi"), ("relational", "relat"), ("generalizations", "gener"),
    ("effective", "effect"), ("studies", "studi"), ("study", "studi"), ("controll", "control"), ("soc", "soc"),
    ("calculators", "calcul"), ("hipaa", "hipaa"),
])
def test_porter_stemmer_matches_the_published_algorithm(word, stem):
    assert stemming.porter_stem(word) == stem


def test_stemmer_without_a_server_uses_the_builtin_porter_stemmer():
    stemmer = stemming.Stemmer(None)
    assert stemmer.stems(["decks", "pricing"]) == {"decks": "deck", "pricing": "price"}
    assert stemmer.source == "builtin"


def test_similar_phrasings_form_one_topic_and_unrelated_ones_stay_apart():
    phrasings = stemmed("pricing deck", "price decks", "Pricing-Deck for retail", "SOC 2 report",
                        "security whitepaper", "retail case study")
    topics = {frozenset(p.text for p in t.phrasings) for t in gap_topics.group(phrasings)}
    assert frozenset({"pricing deck", "price decks", "Pricing-Deck for retail"}) in topics
    assert frozenset({"SOC 2 report"}) in topics
    assert frozenset({"security whitepaper"}) in topics
    assert frozenset({"retail case study"}) in topics  # shares only "retail" with the pricing decks
    assert len(topics) == 4


def test_clustering_is_single_link_and_threshold_bound():
    a, b, c = frozenset("ab"), frozenset("abc"), frozenset("bcd")
    assert gap_topics.cluster([a, b, c], 0.5) == [[0, 1, 2]]  # a~b (2/3), b~c (2/4): a and c joined through b
    assert gap_topics.cluster([a, b, c], 0.6) == [[0, 1], [2]]
    assert gap_topics.cluster([a, frozenset("xy")], 0.5) == [[0], [1]]


def test_topics_are_the_same_for_any_input_order():
    texts = ["pricing deck", "price decks", "Pricing-Deck for retail", "SOC 2 report", "soc2", "roi calculator",
             "ROI calculators healthcare", "kubernetes battle card"]
    first = [(t.topic_id, t.name, t.term_keys) for t in gap_topics.ranked(gap_topics.group(stemmed(*texts)))]
    for seed in range(5):
        shuffled = texts[:]
        random.Random(seed).shuffle(shuffled)
        again = [(t.topic_id, t.name, t.term_keys) for t in gap_topics.ranked(gap_topics.group(stemmed(*shuffled)))]
        assert again == first


def test_a_topic_is_named_by_its_most_frequent_phrasing_and_totals_every_source():
    searches = stemmed("price decks", "Pricing deck", "pricing deck?", count=2)
    searches[1].reps = searches[0].reps  # the same rep searched two phrasings
    requests = gap_topics.stem_all([Phrasing(REQUEST, "deck pricing", "deck pricing", 1)], stemming.Stemmer(None))
    lost = gap_topics.stem_all([Phrasing(LOST, "deck pricing", "No pricing deck", 2, amount=7000.0)],
                               stemming.Stemmer(None))
    [topic] = gap_topics.group([*searches, *requests, *lost])
    assert topic.name == "pricing deck"  # 4 searches phrased so, against 2 "price decks"
    assert (topic.searches, topic.reps, topic.requests, topic.lost_deals, topic.lost_revenue) == (6, 2, 1, 2, 7000.0)
    assert topic.score == pytest.approx(2 * 1.0 + 4 * 0.25 + 1 * 3.0 + 2 * 2.0)
    assert topic.normalized == "deck pricing"


def test_topic_id_survives_the_topic_growing():
    before = gap_topics.group(stemmed("pricing deck"))[0]
    after = gap_topics.group(stemmed("pricing deck", "pricing deck retail", "pricing deck retail template"))[0]
    assert after.topic_id == before.topic_id  # the smallest term set still names it


def test_status_is_found_by_id_or_by_a_shared_term_set():
    [pricing, soc] = gap_topics.ranked(gap_topics.group(stemmed("pricing deck", "soc report")))
    statuses = [{"topic_id": "gt-regrouped", "term_keys": soc.term_keys, "status": "planned"},
                {"topic_id": pricing.topic_id, "term_keys": [], "status": "answered", "asset_id": "a1"}]
    gap_topics.attach_statuses([pricing, soc], statuses)
    assert (pricing.status, soc.status) == ("answered", "planned")
    assert gap_topics.find([pricing, soc], "gt-regrouped", statuses) is soc
    assert gap_topics.find([pricing, soc], "gt-unknown", statuses) is None
