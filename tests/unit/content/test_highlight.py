"""Title and description highlights computed from the hits' source."""

from __future__ import annotations

from services.content import highlight, store


def terms(text: str) -> frozenset[str]:
    return highlight.query_terms(text, store.singular)


def test_a_title_is_highlighted_whole_case_insensitively_with_singulars_and_html_encoded():
    assert highlight.whole('Healthcare <Case> Studies & "ROI"', terms("case study healthcare roi"),
                           store.singular) == \
        '<em>Healthcare</em> &lt;<em>Case</em>&gt; <em>Studies</em> &amp; &quot;<em>ROI</em>&quot;'
    assert highlight.whole("Pricing deck", terms("case study"), store.singular) is None


def test_words_match_whole_words_only():
    assert highlight.whole("Roaming costs", terms("roam"), store.singular) is None


def test_a_description_gives_its_best_sentence():
    text = "Our platform helps. It covers healthcare. A healthcare case study with ROI figures! The end."
    assert highlight.passage(text, terms("healthcare case study"), store.singular) == \
        "A <em>healthcare</em> <em>case</em> <em>study</em> with ROI figures!"


def test_a_long_sentence_is_cut_around_its_first_match_at_word_boundaries():
    text = " ".join(["lorem"] * 60) + " the fraud detection story " + " ".join(["ipsum"] * 60)
    out = highlight.passage(text, terms("fraud"), store.singular)
    assert out is not None and "<em>fraud</em> detection story" in out
    plain = out.replace("<em>", "").replace("</em>", "")
    assert len(plain) <= highlight.FRAGMENT_SIZE + 10 and plain.split()[0] in ("lorem", "the")
    assert plain == plain.strip() and text.find(plain) >= 0  # whole words of the text, in order


def test_hits_get_title_and_description_highlights_only_where_a_word_matches():
    hits = [{"_source": {"title": "All about onboarding", "description": "Nothing here."}},
            {"_source": {"title": "Other", "description": "Onboarding made easy."}, "highlight": {"body": ["x"]}},
            {"_source": {"title": "None", "description": ""}}]
    highlight.add_to_hits(hits, "onboarding", store.singular)
    assert hits[0]["highlight"] == {"title": ["All about <em>onboarding</em>"]}
    assert hits[1]["highlight"] == {"body": ["x"], "description": ["<em>Onboarding</em> made easy."]}
    assert "highlight" not in hits[2]
