"""The bulk path (ImportAssets and the importer's batches) against the running service and the real stack."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2

from collateral.v1 import content_pb2
from services.common import topics
from services.content import importer

from tests.integration.content.content_helpers import PDF, code_of, make_pdf, read_topic

pytestmark = pytest.mark.integration


def write_metadata(folder: Path, rows: list[dict[str, str]]) -> Path:
    metadata = folder / "metadata.csv"
    with metadata.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return metadata


def test_bulk_import_lands_every_good_row_searchable_and_a_rerun_changes_nothing(
        tmp_path, stub, call_as, content, token, unique, stack):
    rows = []
    for i in range(30):
        (tmp_path / f"f{i}.pdf").write_bytes(make_pdf(f"quarterly {unique} review number{i}"))
        rows.append(dict(path=f"f{i}.pdf", external_id=f"{unique}-{i}", title=f"Bulk {i}", type="deck",
                         industries="healthcare", status="published"))
    rows.append(dict(path="f0.pdf", external_id=f"{unique}-bad", title="Bad industry", type="deck",
                     industries="atlantis", status="published"))
    metadata = write_metadata(tmp_path, rows)

    def run():
        return importer.run(tmp_path, metadata, content.address, token("admin", "importer"), workers=3,
                            show_progress=False, batch_size=7)

    first = run()
    assert first.outcomes == {"created": 30, "failed": 1}
    [(line, path, reason)] = first.failures
    assert (line, path) == (32, "f0.pdf") and "INVALID_ARGUMENT" in reason and "industries" in reason
    # Searchable when the run returns (one refresh at the end), found through the extracted text.
    found = stub.SearchAssets(content_pb2.SearchAssetsRequest(query=unique, page_size=50), metadata=call_as("rep"))
    assert found.total_size == 30
    assert {h.asset.title for h in found.hits} == {f"Bulk {i}" for i in range(30)}
    one = stub.SearchAssets(content_pb2.SearchAssetsRequest(query=f"{unique} number17"), metadata=call_as("rep"))
    assert one.hits[0].asset.title == "Bulk 17"

    ids = {importer.asset_id_for(f"{unique}-{i}", "") for i in range(30)}
    events = read_topic(stack, topics.CATALOG.name(stack), lambda e: e["asset_id"] in ids)
    assert sorted(e["event_type"] for e in events) == ["created"] * 30
    assert len({e["event_id"] for e in events}) == 30
    assert all(e["status"] == "published" and e["version"] == 1 and e["file_version"] == 1 for e in events)

    second = run()
    assert second.outcomes == {"unchanged": 30, "failed": 1}
    assert len(read_topic(stack, topics.CATALOG.name(stack), lambda e: e["asset_id"] in ids)) == 30

    (tmp_path / "f3.pdf").write_bytes(make_pdf(f"quarterly {unique} review number3 second edition"))
    rows[5]["title"] = "Bulk 5 renamed"
    write_metadata(tmp_path, rows)
    third = run()
    assert third.outcomes == {"unchanged": 28, "file_updated": 1, "updated": 1, "failed": 1}
    after = read_topic(stack, topics.CATALOG.name(stack), lambda e: e["asset_id"] in ids)
    assert Counter(e["event_type"] for e in after) == {"created": 30, "updated": 2}
    renamed = stub.SearchAssets(content_pb2.SearchAssetsRequest(query=f"{unique} renamed"), metadata=call_as("rep"))
    assert renamed.hits[0].asset.version == 2
    edited = stub.GetAsset(content_pb2.GetAssetRequest(asset_id=importer.asset_id_for(f"{unique}-3", "")),
                           metadata=call_as("admin")).asset
    assert len(edited.files) == 2 and edited.version == 2


def item(asset_id: str, text: str, **asset) -> content_pb2.ImportAssetItem:
    pdf = make_pdf(text)
    asset.setdefault("type", content_pb2.ASSET_TYPE_DECK)
    return content_pb2.ImportAssetItem(
        asset_id=asset_id, asset=content_pb2.Asset(**asset), status=content_pb2.ASSET_STATUS_PUBLISHED,
        file_content=pdf, file_name="doc.pdf", content_type=PDF, sha256=hashlib.sha256(pdf).hexdigest())


def test_each_item_fails_alone_with_its_own_status(stub, call_as, unique):
    good = item(f"{unique}-good", f"{unique} good", title="Good")
    bad_vocabulary = item(f"{unique}-vocab", unique, title="Bad", industries=["atlantis"])
    bad_sha = item(f"{unique}-sha", unique, title="Bad sha")
    bad_sha.sha256 = "0" * 64
    no_title = item(f"{unique}-title", unique)
    response = stub.ImportAssets(content_pb2.ImportAssetsRequest(
        items=[bad_vocabulary, good, bad_sha, no_title], refresh=True), metadata=call_as("marketer"))
    outcomes = [(r.asset_id, r.outcome, r.error.code, r.error.field) for r in response.results]
    invalid = grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert outcomes == [
        (f"{unique}-vocab", content_pb2.IMPORT_OUTCOME_FAILED, invalid, "asset.industries[0]"),
        (f"{unique}-good", content_pb2.IMPORT_OUTCOME_CREATED, 0, ""),
        (f"{unique}-sha", content_pb2.IMPORT_OUTCOME_FAILED, invalid, "sha256"),
        (f"{unique}-title", content_pb2.IMPORT_OUTCOME_FAILED, invalid, "asset.title"),
    ]
    landed = stub.GetAsset(content_pb2.GetAssetRequest(asset_id=f"{unique}-good"), metadata=call_as("rep")).asset
    assert landed.status == content_pb2.ASSET_STATUS_PUBLISHED and landed.files[0].page_count == 1
    code, _ = code_of(lambda: stub.GetAsset(content_pb2.GetAssetRequest(asset_id=f"{unique}-vocab"),
                                            metadata=call_as("admin")))
    assert code == grpc.StatusCode.NOT_FOUND


def test_reps_cannot_import_and_malformed_batches_are_refused(stub, call_as, unique):
    request = content_pb2.ImportAssetsRequest(items=[item(f"{unique}-rep", unique, title="Rep")])
    code, _ = code_of(lambda: stub.ImportAssets(request, metadata=call_as("rep")))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    code, violations = code_of(lambda: stub.ImportAssets(content_pb2.ImportAssetsRequest(),
                                                         metadata=call_as("marketer")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and [f for f, _ in violations] == ["items"]
    twice = content_pb2.ImportAssetsRequest(items=[item(f"{unique}-x", unique, title="X")] * 2)
    code, violations = code_of(lambda: stub.ImportAssets(twice, metadata=call_as("marketer")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and [f for f, _ in violations] == ["items[1].asset_id"]


def test_single_api_writes_are_searchable_when_the_call_returns(stub, call_as, unique):
    """The portal's CreateAsset/UpdateAsset keep read-your-writes (refresh=wait_for), unlike bulk batches."""
    m = call_as("marketer")
    created = stub.CreateAsset(content_pb2.CreateAssetRequest(asset=content_pb2.Asset(
        title=f"Fresh {unique}", type=content_pb2.ASSET_TYPE_DECK)), metadata=m).asset
    assert stub.SearchAssets(content_pb2.SearchAssetsRequest(query=unique), metadata=m).total_size == 1
    stub.UpdateAsset(content_pb2.UpdateAssetRequest(
        asset=content_pb2.Asset(asset_id=created.asset_id, title=f"Renamed {unique[::-1]}"),
        update_mask=field_mask_pb2.FieldMask(paths=["title"]), expected_version=created.version), metadata=m)
    assert stub.SearchAssets(content_pb2.SearchAssetsRequest(query=unique[::-1]), metadata=m).total_size == 1
    assert stub.SearchAssets(content_pb2.SearchAssetsRequest(query=unique), metadata=m).total_size == 0
