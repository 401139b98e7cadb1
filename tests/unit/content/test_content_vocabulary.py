"""Vocabulary validation: term codes and labels, and asset values checked against the terms."""

from __future__ import annotations

import pytest

from collateral.v1 import common_pb2, content_pb2
from services.common.errors import InvalidArgument
from services.content import model, store, vocabulary


def terms(*extra: dict) -> vocabulary.Terms:
    docs = [vocabulary.term_doc(spec, code, label) for spec in vocabulary.SPECS for code, label in spec.defaults]
    return vocabulary.Terms.of([*docs, *extra])


def retired(name: str, code: str, label: str) -> dict:
    return {**vocabulary.term_doc(vocabulary.BY_NAME[name], code, label), "retired": True}


def refusal(fn) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as info:
        fn()
    return info.value


def test_defaults_cover_the_codes_the_demo_data_uses_with_readable_labels():
    from scripts import demo_data

    known = terms()
    for name, codes in (("industry", demo_data.INDUSTRIES), ("region", demo_data.REGIONS),
                        ("product", demo_data.PRODUCTS), ("persona", demo_data.PERSONAS)):
        for code in codes:
            assert known.term(name, code) is not None, (name, code)
    assert known.label("industry", "financial-services") == "Financial services"
    assert known.label("region", "na") == "North America"
    assert known.label("persona", "cio") == "CIO"


def test_enum_vocabularies_hold_exactly_the_api_enum_values():
    assert set(dict(vocabulary.BY_NAME["type"].defaults)) == set(model.TYPE_NAMES.values())
    assert set(dict(vocabulary.BY_NAME["buying_stage"].defaults)) == set(model.STAGE_NAMES.values())
    assert {s.name for s in vocabulary.SPECS} <= set(store.FACETS)


@pytest.mark.parametrize("code", ["", "Has Caps", "spaces here", "-leading", "x" * 65, "dot.ted", "é"])
def test_bad_codes_are_refused_on_the_code_field(code):
    term = content_pb2.Term(vocabulary="industry", code=code, label="Label")
    assert refusal(lambda: vocabulary.new_term(term, "m")).field == "term.code"


@pytest.mark.parametrize("term, field", [
    (content_pb2.Term(vocabulary="industry", code="mining", label="   "), "term.label"),
    (content_pb2.Term(vocabulary="industry", code="mining", label="x" * 101), "term.label"),
    (content_pb2.Term(vocabulary="colour", code="red", label="Red"), "term.vocabulary"),
    (content_pb2.Term(vocabulary="", code="red", label="Red"), "term.vocabulary"),
    (content_pb2.Term(vocabulary="industry", code="mining", label="Mining", order=-1), "term.order"),
    (content_pb2.Term(vocabulary="industry", code="mining", label="Mining", description="\x00"), "term.description"),
    (content_pb2.Term(vocabulary="type", code="poster", label="Poster"), "term.code"),
])
def test_bad_terms_name_the_field(term, field):
    assert refusal(lambda: vocabulary.new_term(term, "m")).field == field


def test_a_good_term_is_normalised():
    doc = vocabulary.new_term(content_pb2.Term(vocabulary="industry", code="mining", label="  Mining  and metals "),
                              "mia")
    assert (doc["label"], doc["retired"], doc["version"], doc["updated_by"]) == ("Mining and metals", False, 1, "mia")


def test_update_mask_only_names_label_description_order():
    assert refusal(lambda: vocabulary.check_mask(["code"])).field == "update_mask"
    assert refusal(lambda: vocabulary.check_mask([])).field == "update_mask"
    doc = vocabulary.term_doc(vocabulary.BY_NAME["region"], "na", "North America")
    same = content_pb2.Term(label="North America")
    assert vocabulary.apply_term_mask(doc, same, ["label"], "m") is None
    renamed = vocabulary.apply_term_mask(doc, content_pb2.Term(label="US and Canada"), ["label"], "m")
    assert (renamed["label"], renamed["version"]) == ("US and Canada", 2)


def test_asset_values_resolve_by_code_or_label_to_codes():
    doc = {"type": "deck", "industries": ["Healthcare", "financial services"], "personas": ["CFO"],
           "regions": ["na"], "products": [], "buying_stages": ["decision"]}
    out = vocabulary.check_values(doc, terms(), vocabulary.BY_FIELD)
    assert out["industries"] == ["healthcare", "financial-services"]
    assert out["personas"] == ["cfo"]


def test_an_unknown_value_names_field_value_and_where_to_look():
    doc = {"industries": ["healthcare", "helthcare"]}
    error = refusal(lambda: vocabulary.check_values(doc, terms(), ["industries"]))
    assert error.field == "asset.industries[1]"
    assert "'helthcare'" in error.message and "healthcare" in error.message
    assert "ListVocabularies" in error.message


def test_a_retired_term_cannot_be_picked_but_an_asset_keeps_it():
    known = terms(retired("industry", "mining", "Mining"), retired("type", "video", "Video"))
    error = refusal(lambda: vocabulary.check_values({"industries": ["mining"]}, known, ["industries"]))
    assert error.field == "asset.industries[0]" and "retired" in error.message
    assert refusal(lambda: vocabulary.check_values({"type": "video"}, known, ["type"])).field == "asset.type"
    kept = vocabulary.check_values({"industries": ["mining", "retail"]}, known, ["industries"],
                                   previous={"industries": ["mining"]})
    assert kept["industries"] == ["mining", "retail"]
    assert vocabulary.check_values({"type": "video"}, known, ["type"], previous={"type": "video"})["type"] == "video"


def test_values_stored_before_vocabularies_stay_on_their_asset_only():
    legacy = {"industries": ["Fintech"]}
    assert vocabulary.check_values(dict(legacy), terms(), ["industries"], previous=legacy)["industries"] == ["Fintech"]
    with pytest.raises(InvalidArgument):
        vocabulary.check_values(dict(legacy), terms(), ["industries"], previous={"industries": []})


def test_fields_outside_the_vocabularies_are_not_checked():
    doc = {"tags": ["anything"], "industries": ["nope"]}
    assert vocabulary.check_values(doc, terms(), ["tags", "title"]) == doc


def test_enum_codes_are_valid_even_before_their_terms_are_stored():
    empty = vocabulary.Terms.of([])
    assert vocabulary.check_values({"type": "deck", "buying_stages": ["awareness"]}, empty,
                                   ["type", "buying_stages"]) == {"type": "deck", "buying_stages": ["awareness"]}
    assert empty.label("type", "case_study") == "Case study"
    assert common_pb2.BUYING_STAGE_AWARENESS  # the enum the codes come from


def test_terms_sort_by_order_then_label():
    spec = vocabulary.BY_NAME["product"]
    known = vocabulary.Terms.of([vocabulary.term_doc(spec, "b", "Beta", order=1),
                                 vocabulary.term_doc(spec, "a", "alpha", order=1),
                                 vocabulary.term_doc(spec, "z", "Zed", order=0)])
    assert [t["code"] for t in known.terms("product")] == ["z", "a", "b"]


def test_facets_ask_for_every_value_of_a_vocabulary():
    body = store.build_counts("", {}, False)
    sizes = {name: agg.get("aggs", {}).get("values", agg)["terms"]["size"] for name, agg in body["aggs"].items()}
    assert min(sizes.values()) >= 200 > 8
