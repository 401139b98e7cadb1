"""Managed vocabularies through the gRPC API: roles, errors, asset values, retirement, facet labels."""

from __future__ import annotations

import csv

import grpc
import pytest
from google.protobuf import field_mask_pb2

from collateral.v1 import content_pb2
from services.content import importer, vocabulary

from tests.integration.content.content_helpers import code_of, make_pdf

pytestmark = pytest.mark.integration


def vocab(stub, metadata, name: str, include_retired: bool = False) -> dict[str, content_pb2.Term]:
    reply = stub.ListVocabularies(content_pb2.ListVocabulariesRequest(names=[name], include_retired=include_retired),
                                  metadata=metadata)
    return {t.code: t for t in reply.vocabularies[0].terms}


def add_term(stub, metadata, name: str, code: str, label: str) -> content_pb2.Term:
    return stub.CreateTerm(content_pb2.CreateTermRequest(
        term=content_pb2.Term(vocabulary=name, code=code, label=label)), metadata=metadata).term


def test_everyone_reads_the_seeded_vocabularies_with_labels(stub, call_as):
    reply = stub.ListVocabularies(content_pb2.ListVocabulariesRequest(), metadata=call_as("rep"))
    assert [v.name for v in reply.vocabularies] == [s.name for s in vocabulary.SPECS]
    by_name = {v.name: v for v in reply.vocabularies}
    assert len(by_name["type"].terms) == 13 and by_name["type"].fixed_codes
    industries = {t.code: t.label for t in by_name["industry"].terms}
    assert industries["financial-services"] == "Financial services"
    assert {t.code: t.label for t in by_name["region"].terms}["na"] == "North America"
    assert {t.code: t.label for t in by_name["persona"].terms}["cio"] == "CIO"


def test_only_curators_change_terms(stub, call_as, unique):
    rep = call_as("rep")
    for call in (lambda: add_term(stub, rep, "industry", unique, "Nope"),
                 lambda: stub.UpdateTerm(content_pb2.UpdateTermRequest(
                     term=content_pb2.Term(vocabulary="industry", code="retail", label="Shops"),
                     update_mask=field_mask_pb2.FieldMask(paths=["label"])), metadata=rep),
                 lambda: stub.RetireTerm(content_pb2.RetireTermRequest(vocabulary="industry", code="retail"),
                                         metadata=rep)):
        assert code_of(call)[0] == grpc.StatusCode.PERMISSION_DENIED
    assert "retail" in vocab(stub, rep, "industry") and vocab(stub, rep, "industry")["retail"].label == "Retail"


def test_term_errors_name_the_field(stub, call_as, unique):
    m = call_as("marketer")
    created = add_term(stub, m, "industry", unique, "Mining and metals")
    assert (created.version, created.retired) == (1, False)
    assert code_of(lambda: add_term(stub, m, "industry", unique, "Again"))[0] == grpc.StatusCode.ALREADY_EXISTS
    code, violations = code_of(lambda: add_term(stub, m, "industry", "Bad Code", "X"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and violations[0][0] == "term.code"
    code, violations = code_of(lambda: add_term(stub, m, "industry", unique + "x", " "))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and violations[0][0] == "term.label"
    code, violations = code_of(lambda: add_term(stub, m, "colour", "red", "Red"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and violations[0][0] == "term.vocabulary"
    code, violations = code_of(lambda: add_term(stub, m, "type", "poster", "Poster"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and violations[0][0] == "term.code"
    missing = content_pb2.UpdateTermRequest(term=content_pb2.Term(vocabulary="industry", code=unique + "zz", label="Z"),
                                            update_mask=field_mask_pb2.FieldMask(paths=["label"]))
    assert code_of(lambda: stub.UpdateTerm(missing, metadata=m))[0] == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: stub.RetireTerm(content_pb2.RetireTermRequest(vocabulary="region", code=unique + "zz"),
                                           metadata=m))[0] == grpc.StatusCode.NOT_FOUND
    stale = content_pb2.UpdateTermRequest(term=content_pb2.Term(vocabulary="industry", code=unique, label="Mining"),
                                          update_mask=field_mask_pb2.FieldMask(paths=["label"]), expected_version=7)
    assert code_of(lambda: stub.UpdateTerm(stale, metadata=m))[0] == grpc.StatusCode.FAILED_PRECONDITION
    renamed = stub.UpdateTerm(content_pb2.UpdateTermRequest(
        term=content_pb2.Term(vocabulary="industry", code=unique, label="Mining"),
        update_mask=field_mask_pb2.FieldMask(paths=["label"]), expected_version=1), metadata=m).term
    assert (renamed.label, renamed.version) == ("Mining", 2)


def test_unknown_values_are_refused_on_create_and_update(stub, call_as, new_asset, unique):
    m = call_as("marketer")
    code, violations = code_of(lambda: stub.CreateAsset(content_pb2.CreateAssetRequest(asset=content_pb2.Asset(
        title="T", type=content_pb2.ASSET_TYPE_DECK, industries=["healthcare", f"{unique}-land"])), metadata=m))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    field, message = violations[0]
    assert field == "asset.industries[1]" and f"{unique}-land" in message and "ListVocabularies" in message
    asset = new_asset("Vocab asset", publish=False, industries=["Financial services"], personas=["CIO"])
    assert (list(asset.industries), list(asset.personas)) == (["financial-services"], ["cio"])
    update = content_pb2.UpdateAssetRequest(asset=content_pb2.Asset(asset_id=asset.asset_id, regions=["atlantis"]),
                                            update_mask=field_mask_pb2.FieldMask(paths=["regions"]),
                                            expected_version=asset.version)
    code, violations = code_of(lambda: stub.UpdateAsset(update, metadata=m))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and violations[0][0] == "asset.regions[0]"


def test_a_retired_term_stays_on_its_assets_and_new_assets_cannot_pick_it(stub, call_as, new_asset, unique):
    m, rep = call_as("marketer"), call_as("rep")
    add_term(stub, m, "persona", unique, "Chief data officer")
    kept = new_asset("Keeps the persona", personas=[unique], tags=[unique])
    retired = stub.RetireTerm(content_pb2.RetireTermRequest(vocabulary="persona", code=unique), metadata=m).term
    assert retired.retired and retired.version == 2
    again = stub.RetireTerm(content_pb2.RetireTermRequest(vocabulary="persona", code=unique), metadata=m).term
    assert again.version == 2, "retiring twice changes nothing"
    assert unique not in vocab(stub, rep, "persona") and vocab(stub, rep, "persona", True)[unique].retired

    code, violations = code_of(lambda: stub.CreateAsset(content_pb2.CreateAssetRequest(asset=content_pb2.Asset(
        title="New", type=content_pb2.ASSET_TYPE_DECK, personas=[unique])), metadata=m))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "retired" in violations[0][1]
    # The asset that carries it can still be edited, the retired value included.
    edited = stub.UpdateAsset(content_pb2.UpdateAssetRequest(
        asset=content_pb2.Asset(asset_id=kept.asset_id, personas=[unique, "cfo"], title="Still valid"),
        update_mask=field_mask_pb2.FieldMask(paths=["personas", "title"]), expected_version=kept.version),
        metadata=m).asset
    assert list(edited.personas) == [unique, "cfo"]
    found = stub.SearchAssets(content_pb2.SearchAssetsRequest(filters=content_pb2.SearchFilters(tags=[unique])),
                              metadata=rep)
    assert [h.asset.asset_id for h in found.hits] == [kept.asset_id]
    persona = {v.value: v for f in found.facets if f.field == "persona" for v in f.values}
    assert (persona[unique].label, persona[unique].retired) == ("Chief data officer", True)
    assert (persona["cfo"].label, persona["cfo"].retired) == ("CFO", False)


def test_facets_return_every_value_with_labels(stub, call_as, new_asset, unique):
    industries = [code for code, _ in vocabulary.BY_NAME["industry"].defaults][:11]
    for i, industry in enumerate(industries):
        new_asset(f"Industry {i}", tags=[unique], industries=[industry])
    found = stub.SearchAssets(content_pb2.SearchAssetsRequest(filters=content_pb2.SearchFilters(tags=[unique])),
                              metadata=call_as("rep"))
    facet = next(f for f in found.facets if f.field == "industry")
    assert len(facet.values) == 11 > 8
    labels = {v.value: v.label for v in facet.values}
    assert labels["financial-services"] == "Financial services" and labels[industries[-1]]
    type_facet = next(f for f in found.facets if f.field == "type")
    assert type_facet.values[0].label == "Deck"
    tag_facet = next(f for f in found.facets if f.field == "tag")
    assert tag_facet.values[0].label == "", "free-text facets carry no label"
    picked = stub.SearchAssets(content_pb2.SearchAssetsRequest(filters=content_pb2.SearchFilters(
        tags=[unique], industries=[industries[10]])), metadata=call_as("rep"))
    assert [h.asset.title for h in picked.hits] == ["Industry 10"]


def test_the_importer_refuses_unknown_values_naming_the_field(tmp_path, content, token, unique):
    (tmp_path / "a.pdf").write_bytes(make_pdf(f"imported {unique}"))
    metadata = tmp_path / "metadata.csv"
    with metadata.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", "external_id", "title", "type", "tags", "industries",
                                                    "regions"])
        writer.writeheader()
        writer.writerow(dict(path="a.pdf", external_id=f"{unique}-1", title="Good", type="deck", tags=unique,
                             industries="Healthcare;financial-services", regions="North America"))
        writer.writerow(dict(path="a.pdf", external_id=f"{unique}-2", title="Bad", type="deck", tags=unique,
                             industries="healthcare;helthcare", regions="na"))
    result = importer.run(tmp_path, metadata, content.address, token("admin", "importer"), workers=1,
                          show_progress=False)
    assert result.outcomes == {"created": 1, "failed": 1}
    reason = result.failures[0][2]
    assert "asset.industries[1]" in reason and "helthcare" in reason and "ListVocabularies" in reason
