"""Catalog lifecycle through the gRPC API: roles, validation, concurrency, catalog events."""

from __future__ import annotations

import threading

import grpc
import pytest
from google.protobuf import field_mask_pb2

from collateral.v1 import common_pb2, content_pb2
from services.common import topics

from tests.integration.content.content_helpers import PDF, code_of, make_pdf, read_topic

pytestmark = pytest.mark.integration


def test_lifecycle_and_versions(stub, call_as, new_asset):
    m = call_as("marketer", "mia")
    asset = new_asset("Lifecycle deck", publish=False, owner="")
    assert asset.status == content_pb2.ASSET_STATUS_DRAFT and asset.version == 1
    assert asset.owner == "marketer-1"
    assert len(asset.files) == 1 and asset.files[0].sha256 and asset.files[0].page_count == 1
    assert asset.files[0].extraction_status == content_pb2.EXTRACTION_STATUS_OK
    published = stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=asset.asset_id), metadata=m).asset
    assert published.status == content_pb2.ASSET_STATUS_PUBLISHED and published.version == 2
    assert published.publish_time.seconds > 0
    retired = stub.RetireAsset(content_pb2.RetireAssetRequest(asset_id=asset.asset_id, expected_version=2),
                               metadata=m).asset
    assert retired.status == content_pb2.ASSET_STATUS_RETIRED
    code, _ = code_of(lambda: stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=asset.asset_id), metadata=m))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    restored = stub.RestoreAsset(content_pb2.RestoreAssetRequest(asset_id=asset.asset_id), metadata=m).asset
    assert restored.status == content_pb2.ASSET_STATUS_DRAFT and restored.version == 4


def test_publish_needs_a_file(stub, call_as):
    m = call_as("marketer")
    asset = stub.CreateAsset(content_pb2.CreateAssetRequest(
        asset=content_pb2.Asset(title="No file yet", type=content_pb2.ASSET_TYPE_OTHER)), metadata=m).asset
    assert not asset.files
    code, _ = code_of(lambda: stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=asset.asset_id), metadata=m))
    assert code == grpc.StatusCode.FAILED_PRECONDITION


def test_update_with_field_mask_and_stale_version(stub, call_as, new_asset):
    m = call_as("marketer")
    asset = new_asset("Masked", description="before", tags=["a"])
    updated = stub.UpdateAsset(content_pb2.UpdateAssetRequest(
        asset=content_pb2.Asset(asset_id=asset.asset_id, description="after", title="ignored"),
        update_mask=field_mask_pb2.FieldMask(paths=["description"]), expected_version=asset.version), metadata=m).asset
    assert updated.description == "after" and updated.title == "Masked" and updated.version == asset.version + 1
    code, _ = code_of(lambda: stub.UpdateAsset(content_pb2.UpdateAssetRequest(
        asset=content_pb2.Asset(asset_id=asset.asset_id, description="stale"),
        update_mask=field_mask_pb2.FieldMask(paths=["description"]), expected_version=asset.version), metadata=m))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    got = stub.GetAsset(content_pb2.GetAssetRequest(asset_id=asset.asset_id), metadata=m).asset
    assert got.description == "after"


def test_concurrent_updates_conflict_cleanly(stub, call_as, new_asset):
    m = call_as("marketer")
    asset = new_asset("Contended")
    results: list[grpc.StatusCode] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def edit(i: int) -> None:
        request = content_pb2.UpdateAssetRequest(
            asset=content_pb2.Asset(asset_id=asset.asset_id, description=f"writer {i}"),
            update_mask=field_mask_pb2.FieldMask(paths=["description"]), expected_version=asset.version)
        barrier.wait()
        try:
            stub.UpdateAsset(request, metadata=m)
            code = grpc.StatusCode.OK
        except grpc.RpcError as err:
            code = err.code()
        with lock:
            results.append(code)

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(grpc.StatusCode.OK) == 1
    assert results.count(grpc.StatusCode.FAILED_PRECONDITION) == 5
    final = stub.GetAsset(content_pb2.GetAssetRequest(asset_id=asset.asset_id), metadata=m).asset
    assert final.version == asset.version + 1


def test_client_chosen_id_and_already_exists(stub, call_as, unique):
    m = call_as("admin")
    request = content_pb2.CreateAssetRequest(asset_id=f"ext-{unique}",
                                             asset=content_pb2.Asset(title="Imported", type=content_pb2.ASSET_TYPE_OTHER))
    assert stub.CreateAsset(request, metadata=m).asset.asset_id == f"ext-{unique}"
    code, _ = code_of(lambda: stub.CreateAsset(request, metadata=m))
    assert code == grpc.StatusCode.ALREADY_EXISTS


def test_roles(stub, call_as, new_asset, content):
    rep = call_as("rep")
    code, _ = code_of(lambda: stub.CreateAsset(content_pb2.CreateAssetRequest(
        asset=content_pb2.Asset(title="Nope", type=content_pb2.ASSET_TYPE_DECK)), metadata=rep))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    draft = new_asset("Secret draft", publish=False)
    code, _ = code_of(lambda: stub.GetAsset(content_pb2.GetAssetRequest(asset_id=draft.asset_id), metadata=rep))
    assert code == grpc.StatusCode.NOT_FOUND
    code, _ = code_of(lambda: stub.GetDownloadUrl(content_pb2.GetDownloadUrlRequest(asset_id=draft.asset_id),
                                                  metadata=rep))
    assert code == grpc.StatusCode.NOT_FOUND
    code, _ = code_of(lambda: stub.GetAsset(content_pb2.GetAssetRequest(asset_id=draft.asset_id)))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    code, _ = code_of(lambda: stub.ListAssets(content_pb2.ListAssetsRequest(
        statuses=[content_pb2.ASSET_STATUS_DRAFT]), metadata=rep))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    listed = stub.ListAssets(content_pb2.ListAssetsRequest(page_size=100), metadata=rep)
    assert all(a.status == content_pb2.ASSET_STATUS_PUBLISHED for a in listed.assets)


BAD_CREATES = [
    (dict(asset=content_pb2.Asset(title=" ", type=content_pb2.ASSET_TYPE_DECK)), "asset.title"),
    (dict(asset=content_pb2.Asset(title="t", type=77)), "asset.type"),
    (dict(asset=content_pb2.Asset(title="t", type=1, buying_stages=[common_pb2.BUYING_STAGE_DECISION, 99])),
     "asset.buying_stages[1]"),
    (dict(asset_id="bad id!", asset=content_pb2.Asset(title="t", type=1)), "asset_id"),
    (dict(asset=content_pb2.Asset(title="t", type=1), file_content=b"MZ\x90\x00binary", file_name="x.pdf",
          content_type=PDF), "content_type"),
    (dict(asset=content_pb2.Asset(title="t", type=1), file_content=b"%PDF-1.4", file_name="x.exe",
          content_type="application/x-msdownload"), "content_type"),
    (dict(asset=content_pb2.Asset(title="t", type=1), file_content=make_pdf("x"), file_name="x.pdf",
          content_type=PDF, sha256="0" * 64), "sha256"),
]


@pytest.mark.parametrize("kwargs, field", BAD_CREATES)
def test_bad_create_input_names_the_field(stub, call_as, kwargs, field):
    code, violations = code_of(lambda: stub.CreateAsset(content_pb2.CreateAssetRequest(**kwargs),
                                                        metadata=call_as("marketer")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in violations] == [field]


def test_other_bad_inputs(stub, call_as):
    m = call_as("marketer")
    cases = [
        (lambda: stub.SearchAssets(content_pb2.SearchAssetsRequest(query="q" * 600), metadata=m), "query"),
        (lambda: stub.SearchAssets(content_pb2.SearchAssetsRequest(page_token="garbage!"), metadata=m), "page_token"),
        (lambda: stub.SearchAssets(content_pb2.SearchAssetsRequest(page_size=1000), metadata=m), "page_size"),
        (lambda: stub.SearchAssets(content_pb2.SearchAssetsRequest(
            filters=content_pb2.SearchFilters(types=[42])), metadata=m), "filters.types[0]"),
        (lambda: stub.UpdateAsset(content_pb2.UpdateAssetRequest(
            asset=content_pb2.Asset(asset_id="x"), update_mask=field_mask_pb2.FieldMask(paths=["title"])),
            metadata=m), "expected_version"),
        (lambda: stub.UpdateAsset(content_pb2.UpdateAssetRequest(
            asset=content_pb2.Asset(asset_id="x"), update_mask=field_mask_pb2.FieldMask(paths=["status"]),
            expected_version=1), metadata=m), "update_mask"),
        (lambda: stub.Suggest(content_pb2.SuggestRequest(prefix=""), metadata=m), "prefix"),
    ]
    for call, field in cases:
        code, violations = code_of(call)
        assert code == grpc.StatusCode.INVALID_ARGUMENT, field
        assert [f for f, _ in violations] == [field]
    code, _ = code_of(lambda: stub.GetAsset(content_pb2.GetAssetRequest(asset_id="does-not-exist"), metadata=m))
    assert code == grpc.StatusCode.NOT_FOUND


def test_catalog_events_follow_every_change(stub, call_as, new_asset, stack):
    asset = new_asset("Evented", publish=True, industries=["retail"])
    stub.RetireAsset(content_pb2.RetireAssetRequest(asset_id=asset.asset_id), metadata=call_as("admin"))
    events = read_topic(stack, topics.CATALOG.name(stack), lambda e: e["asset_id"] == asset.asset_id)
    assert [e["event_type"] for e in events] == ["created", "published", "retired"]
    assert [e["version"] for e in events] == [1, 2, 3]
    last = events[-1]
    assert last["status"] == "retired" and last["industries"] == ["retail"] and last["title"] == "Evented"
    assert last["type"] == "deck" and last["file_version"] == 1
    from services.common import events as contracts

    for event in events:
        contracts.validate("catalog-event.v1.json", event)


def test_list_assets_pages_by_owner(stub, call_as, new_asset, unique):
    m = call_as("marketer")
    made = {new_asset(f"Owned {i}", publish=i < 2, owner=unique).asset_id for i in range(3)}
    seen, token = [], ""
    while True:
        page = stub.ListAssets(content_pb2.ListAssetsRequest(owner=unique, page_size=2, page_token=token), metadata=m)
        assert page.total_size == 3
        seen += [a.asset_id for a in page.assets]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(made)
    drafts = stub.ListAssets(content_pb2.ListAssetsRequest(owner=unique, statuses=[content_pb2.ASSET_STATUS_DRAFT]),
                             metadata=m)
    assert len(drafts.assets) == 1
    rep_view = stub.ListAssets(content_pb2.ListAssetsRequest(owner=unique), metadata=call_as("rep"))
    assert rep_view.total_size == 2
