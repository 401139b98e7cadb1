"""The reindex command under live writes: nothing written during the copy is lost."""

from __future__ import annotations

import threading
import time

import pytest
from google.protobuf import field_mask_pb2

from collateral.v1 import content_pb2
from services.common import es as es_common
from services.content import model, reindex, store

pytestmark = pytest.mark.integration


def test_reindex_loses_no_writes(stub, call_as, new_asset, stack, unique, content):
    m = call_as("marketer")
    index = store.Store(stack)
    seeded = []
    operations = []
    for i in range(400):
        doc = model.new_doc(f"{unique}-{i:04d}", content_pb2.Asset(
            title=f"Seed {i}", type=content_pb2.ASSET_TYPE_OTHER, tags=[unique]), "seeder")
        seeded.append(doc["asset_id"])
        operations.append({"action": {"index": {"_index": index.alias, "_id": doc["asset_id"]}},
                           "source": store.indexable(doc)})
    es_common.bulk(index.es, operations, refresh=True)
    before = es_common.concrete_indices(index.es, index.alias)

    stop = threading.Event()
    copying = threading.Event()
    created: list[str] = []
    updated: dict[str, str] = {}
    failures: list[str] = []

    def writer(k: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                asset = stub.CreateAsset(content_pb2.CreateAssetRequest(asset=content_pb2.Asset(
                    title=f"Live {n}", type=content_pb2.ASSET_TYPE_DECK, tags=[unique])), metadata=m).asset
                created.append(asset.asset_id)
                target = seeded[(2 * n + k) % len(seeded)]  # writers never share a target
                current = stub.GetAsset(content_pb2.GetAssetRequest(asset_id=target), metadata=m).asset
                stub.UpdateAsset(content_pb2.UpdateAssetRequest(
                    asset=content_pb2.Asset(asset_id=target, description=f"edit {n}"),
                    update_mask=field_mask_pb2.FieldMask(paths=["description"]),
                    expected_version=current.version), metadata=m)
                updated[target] = f"edit {n}"
            except Exception as exc:  # noqa: BLE001 - recorded and asserted below
                failures.append(repr(exc))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    writes_during_copy = []

    def slow_progress(copied: int, total: int) -> None:
        copying.set()
        writes_during_copy.append(len(created))
        time.sleep(0.15)  # widen the window so live writes overlap the copy

    time.sleep(0.5)
    new_index = reindex.run(stack, batch_size=25, show_progress=False, on_progress=slow_progress)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()

    assert not failures, failures[:3]
    assert writes_during_copy[-1] > writes_during_copy[0], "no write overlapped the copy"
    assert es_common.concrete_indices(index.es, index.alias) == [new_index] and new_index not in before
    index.es.indices.refresh(index=index.alias)
    docs = {hit["_id"]: hit["_source"] for hit in
            index.es.search(index=index.alias, query={"term": {"tags": unique}}, size=2000)["hits"]["hits"]}
    assert set(seeded) | set(created) == set(docs)
    for asset_id, description in updated.items():
        assert docs[asset_id]["description"] == description
    result = stub.SearchAssets(content_pb2.SearchAssetsRequest(
        filters=content_pb2.SearchFilters(tags=[unique]), page_size=1), metadata=m)
    assert result.total_size == len(seeded) + len(created)
