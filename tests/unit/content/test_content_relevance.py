"""Relevance: query analysis, the cross-field text query, bounded signals, labels, suggestions,
nDCG, and the judged set's integrity."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from services.content import relevance, store

ROOT = Path(__file__).resolve().parents[3]
GENERATOR = ROOT / "bench" / "relevance" / "generate.py"


# ---- query analysis ---------------------------------------------------------------------------

def test_questions_keep_only_their_subject_words():
    words = store.query_words("Do we have a HIPAA compliance document?")
    assert words.required == ("hipaa", "compliance")
    assert words.optional == ("document",)
    assert words.question


def test_plain_queries_are_not_questions_and_keep_every_word():
    words = store.query_words("case study healthcare")
    assert words.required == ("case", "study", "healthcare") and not words.question and not words.optional


def test_quoted_phrases_are_kept_whole():
    words = store.query_words('"identity verification" financial services')
    assert words.phrases == ("identity verification",)
    assert words.required == ("financial", "services")


def test_a_query_of_stop_words_only_still_means_something():
    words = store.query_words("what do we have")
    assert words.required == ("what", "do", "we", "have") and not words.question


# ---- the text query -------------------------------------------------------------------------------

def _required_clause(query: str, fuzzy: bool = False) -> dict:
    return next(c for c in store.text_query(query, fuzzy)["bool"]["must"] if "bool" in c)["bool"]


def test_every_word_must_match_in_some_field():
    required = _required_clause("case study healthcare")
    assert required["minimum_should_match"] == store.MINIMUM_WORDS_MATCHED
    words = [c["multi_match"]["query"] for c in required["should"]]
    assert words == ["case", "study", "healthcare"]
    assert "labels^3" in required["should"][0]["multi_match"]["fields"]
    tolerant = _required_clause("case study healthcare", fuzzy=True)
    assert [c["dis_max"]["queries"][0]["multi_match"]["query"] for c in tolerant["should"]] == words
    fields = tolerant["should"][0]["dis_max"]["queries"][1]["multi_match"]["fields"]
    assert "labels^3" in fields and "body" in fields


def test_questions_may_miss_some_words():
    assert _required_clause("which customers use us for fraud detection")["minimum_should_match"] == \
        store.QUESTION_WORDS_MATCHED


def test_exact_words_outscore_typo_matches_and_short_words_are_exact():
    exact, fuzzy = store.word_query("cfo", fuzzy=True)["dis_max"]["queries"]
    assert exact["multi_match"]["boost"] == 2 and "fuzziness" not in exact["multi_match"]
    assert fuzzy["multi_match"]["fuzziness"] == "AUTO:4,7"  # CFO never matches CIO


def test_signals_are_a_bounded_factor():
    body = store.build_search("deck", {}, False, "relevance", 10)
    fs = body["rescore"]["query"]["rescore_query"]["function_score"]
    assert fs["max_boost"] == pytest.approx(1 + store.MAX_SIGNAL_BOOST) and fs["boost_mode"] == "multiply"
    assert fs["query"] == store.text_query("deck")  # the full text score times the factor
    alone = store.build_search("", {}, False, "relevance", 10)["rescore"]["query"]["rescore_query"]["function_score"]
    assert alone["query"] == {"match_all": {}} and alone["boost_mode"] == "replace"
    assert "function_score" not in json.dumps(store.build_search("deck", {}, False, "relevance", 10, signals=False))


def test_metadata_is_indexed_as_words():
    doc = store.indexable({"title": "T", "type": "case_study", "industries": ["healthcare"], "personas": ["CFO"],
                           "products": ["Vault"], "buying_stages": ["decision"]})
    assert doc["labels"][:2] == ["case study", "customer story"]
    assert {"healthcare", "CFO", "Vault", "decision"} <= set(doc["labels"])
    assert store.mappings()["properties"]["labels"]["type"] == "text"
    assert "labels" in store.SOURCE_EXCLUDES


# ---- suggestions ------------------------------------------------------------------------------------

def _option(asset_id: str, title: str, text: str, status: str = "published") -> dict:
    return {"_id": asset_id, "text": text, "_source": {"asset_id": asset_id, "title": title, "status": status}}


def test_suggestions_are_full_titles_once_per_asset_and_per_title():
    long_title = "Quarterly business review template for enterprise accounts (one pager 288)"
    options = [
        _option("a1", long_title, long_title[:50]),  # the completion input, cut short
        _option("a1", long_title, "template for enterprise accounts (one pager 288)"),  # same asset, inner words
        _option("a2", "Pricing guide", "Pricing guide"),
        _option("a3", "pricing  Guide", "pricing  Guide"),  # another asset, same title
        _option("a4", "Pricing deck", "pricing", status="draft"),
        _option("a5", "Pricing FAQ", "Pricing FAQ"),
    ]
    picked = store.pick_suggestions(options, 8, lambda source: source["status"] == "published")
    assert picked == [("a1", long_title), ("a2", "Pricing guide"), ("a5", "Pricing FAQ")]
    assert store.pick_suggestions(options, 2, lambda source: True) == [("a1", long_title), ("a2", "Pricing guide")]


def test_completion_inputs_are_not_cut_at_fifty_characters():
    assert store.mappings()["properties"]["suggest"]["max_input_length"] >= 300


# ---- nDCG -------------------------------------------------------------------------------------------

def test_ndcg_is_one_for_the_ideal_order_and_lower_otherwise():
    judgments = {"a": 3, "b": 2, "c": 1}
    assert relevance.ndcg(["a", "b", "c"], judgments) == pytest.approx(1.0)
    assert relevance.ndcg(["c", "b", "a"], judgments) < relevance.ndcg(["a", "c", "b"], judgments) < 1.0
    assert relevance.ndcg(["x", "y"], judgments) == 0.0
    assert relevance.ndcg(["a"], {}) == 0.0


def test_ndcg_counts_only_the_first_ten():
    judgments = {"hit": 3}
    assert relevance.ndcg([f"x{i}" for i in range(10)] + ["hit"], judgments) == 0.0


def test_report_averages_and_zero_result_rate():
    report = relevance.Report("r", [relevance.QueryResult("a", "single", 1.0, 3, []),
                                    relevance.QueryResult("b", "question", 0.5, 0, [])])
    assert report.ndcg == pytest.approx(0.75) and report.zero_result_rate == pytest.approx(0.5)
    assert report.by_class() == {"question": 0.5, "single": 1.0}


# ---- the judged set ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def judged() -> dict:
    return relevance.load_set(relevance.DEFAULT_SET)


def test_judged_set_is_large_varied_and_consistent(judged):
    ids = {a["asset_id"] for a in judged["assets"]}
    assert 500 <= len(ids) == len(judged["assets"]) <= 700
    queries = judged["queries"]
    assert len(queries) >= 50
    classes = {q["class"] for q in queries}
    assert {"single", "multi_term", "phrase", "misspelling", "question", "competitor", "persona", "known_item"} <= classes
    for q in queries:
        assert q["judgments"] and set(q["judgments"]) <= ids, q["query"]
        assert set(q["judgments"].values()) <= {1, 2, 3} and 3 in q["judgments"].values(), q["query"]


def test_judged_set_is_what_the_generator_writes():
    spec = importlib.util.spec_from_file_location("relevance_generate", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.dumps(module.build()) == relevance.DEFAULT_SET.read_text()


def test_grades_follow_the_stated_rule():
    spec = importlib.util.spec_from_file_location("relevance_generate", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    asset = {"primary": {"kind": ["case study"], "industry": ["healthcare"]}, "mentions": {"industry": ["retail"]}}
    intent = [["industry", "healthcare"], ["kind", "case study"]]
    assert module.grade(asset, intent) == 3
    assert module.grade(asset, [["industry", "retail"], ["kind", "case study"]]) == 2
    assert module.grade(asset, [["kind", "case study"], ["industry", "energy"]]) == 1
    assert module.grade(asset, [["industry", "energy"], ["kind", "case study"]]) == 0
    assert module.grade({**asset, "legacy": True}, intent) == 2
