"""ImportAssets planning: each item changes exactly what the single-asset RPCs would, and nothing when unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from collateral.v1 import content_pb2
from services.common.errors import FailedPrecondition, InvalidArgument
from services.content import bulk_import, model, vocabulary

SHA = "a" * 64


def terms() -> vocabulary.Terms:
    return vocabulary.Terms.of([vocabulary.term_doc(spec, code, label)
                                for spec in vocabulary.SPECS for code, label in spec.defaults])


def desired(**fields) -> dict:
    asset = content_pb2.Asset(**{"title": "Pricing deck", "type": content_pb2.ASSET_TYPE_DECK,
                                 "industries": ["healthcare"], **fields})
    return model.new_doc("imp-1", asset, "importer")


def stored(status: str = model.DRAFT, sha: str = SHA, **fields) -> dict:
    doc = vocabulary.check_values(desired(**fields), terms(), vocabulary.BY_FIELD)
    doc.update(status=status, version=3, files=[{"version": 1, "sha256": sha}], body="old text")
    return doc


def test_a_new_asset_is_created_with_its_status_and_the_created_event():
    plan = bulk_import.plan(desired(), False, model.PUBLISHED, SHA, None, terms())
    assert (plan.outcome, plan.event_type, plan.needs_file) == (bulk_import.CREATED, "created", True)
    assert plan.doc["status"] == model.PUBLISHED and plan.doc["published_at"] and plan.doc["version"] == 1


def test_a_new_asset_without_a_status_is_a_draft():
    plan = bulk_import.plan(desired(), False, None, SHA, None, terms())
    assert plan.doc["status"] == model.DRAFT and plan.doc["published_at"] is None


def test_same_metadata_same_file_same_status_writes_nothing():
    plan = bulk_import.plan(desired(), False, model.DRAFT, SHA, stored(), terms())
    assert (plan.doc, plan.outcome, plan.needs_file) == (None, bulk_import.UNCHANGED, False)


def test_unspecified_status_keeps_the_current_one():
    plan = bulk_import.plan(desired(), False, None, SHA, stored(model.PUBLISHED), terms())
    assert plan.outcome == bulk_import.UNCHANGED


def test_changed_metadata_is_one_new_version_keeping_the_body():
    plan = bulk_import.plan(desired(description="new"), False, None, SHA, stored(), terms())
    assert (plan.outcome, plan.event_type, plan.needs_file) == (bulk_import.UPDATED, "updated", False)
    assert plan.doc["version"] == 4 and plan.doc["description"] == "new" and plan.doc["body"] == "old text"


def test_a_different_file_needs_a_new_file_version():
    plan = bulk_import.plan(desired(), False, None, "b" * 64, stored(), terms())
    assert (plan.outcome, plan.needs_file, plan.doc["version"]) == (bulk_import.FILE_UPDATED, True, 4)


def test_owner_is_kept_unless_given():
    current = stored(owner="mia")
    assert bulk_import.plan(desired(), False, None, SHA, current, terms()).outcome == bulk_import.UNCHANGED
    plan = bulk_import.plan(desired(owner="noa"), True, None, SHA, current, terms())
    assert plan.doc["owner"] == "noa"


@pytest.mark.parametrize(("current", "wanted", "event"), [
    (model.DRAFT, model.PUBLISHED, "published"), (model.PUBLISHED, model.RETIRED, "retired"),
    (model.RETIRED, model.DRAFT, "restored"), (model.RETIRED, model.PUBLISHED, "published")])
def test_status_changes_name_their_event(current, wanted, event):
    plan = bulk_import.plan(desired(), False, wanted, SHA, stored(current), terms())
    assert (plan.event_type, plan.doc["status"], plan.outcome) == (event, wanted, bulk_import.UPDATED)


def test_a_published_asset_cannot_go_back_to_draft():
    with pytest.raises(FailedPrecondition):
        bulk_import.plan(desired(), False, model.DRAFT, SHA, stored(model.PUBLISHED), terms())


def test_unknown_vocabulary_values_are_refused_with_their_field():
    with pytest.raises(InvalidArgument) as info:
        bulk_import.plan(desired(industries=["no-such-industry"]), False, None, SHA, None, terms())
    assert info.value.field == "asset.industries[0]"


def test_a_value_the_asset_already_carries_may_stay_although_retired():
    current = stored()
    current["industries"] = ["legacy-industry"]
    plan = bulk_import.plan(desired(industries=["legacy-industry"]), False, None, SHA, current, terms())
    assert plan.outcome == bulk_import.UNCHANGED


def item(asset_id: str, size: int = 10) -> content_pb2.ImportAssetItem:
    return content_pb2.ImportAssetItem(asset_id=asset_id, file_content=b"x" * size)


@pytest.mark.parametrize(("request_", "field"), [
    (content_pb2.ImportAssetsRequest(), "items"),
    (content_pb2.ImportAssetsRequest(items=[item(f"a{i}") for i in range(bulk_import.MAX_ITEMS + 1)]), "items"),
    (content_pb2.ImportAssetsRequest(items=[item("a"), item("b"), item("a")]), "items[2].asset_id"),
    (content_pb2.ImportAssetsRequest(items=[item("a", bulk_import.MAX_BATCH_FILE_BYTES), item("b")]), "items"),
])
def test_malformed_batches_are_refused_as_a_whole(request_, field):
    with pytest.raises(InvalidArgument) as info:
        bulk_import.check_batch(request_)
    assert info.value.field == field


def test_a_refresh_alone_is_a_valid_request():
    bulk_import.check_batch(content_pb2.ImportAssetsRequest(refresh=True))


# ---- the importer's side: batches and the status it asks for ---------------------------------------

def staged(size: int):
    from services.content import importer

    return importer.Staged(importer.Row(1, "a.pdf", {}), content_pb2.ImportAssetItem(), Path("a.pdf"), size)


def test_batches_respect_the_item_count_and_the_byte_bound():
    from services.content import importer

    assert [len(b) for b in importer.batches([staged(10) for _ in range(7)], 3)] == [3, 3, 1]
    big = importer.BATCH_BYTES // 2 + 1
    assert [len(b) for b in importer.batches([staged(big), staged(big), staged(10)], 50)] == [1, 2]


def test_rows_without_a_status_leave_an_existing_asset_s_status_alone(tmp_path):
    from services.content import importer

    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4 test")
    batcher = importer.BatchImporter(importer.Importer(None, (), tmp_path, "draft"), importer.Summary())
    unspecified = batcher.stage(importer.Row(2, "a.pdf", {"path": "a.pdf", "title": "A", "type": "deck"}))
    explicit = batcher.stage(importer.Row(3, "a.pdf", {"path": "a.pdf", "title": "A", "type": "deck",
                                                       "status": "published"}))
    assert unspecified.item.status == content_pb2.ASSET_STATUS_UNSPECIFIED
    assert explicit.item.status == content_pb2.ASSET_STATUS_PUBLISHED
    assert not explicit.item.file_content  # read when its batch is sent, not all at once
    sent = explicit.with_file()
    assert sent.file_content == b"%PDF-1.4 test" and sent.sha256 == hashlib.sha256(b"%PDF-1.4 test").hexdigest()


def test_a_re_planned_new_asset_starts_from_the_request_again():
    """After a lost race the item is planned anew: what the first attempt attached must not leak into it."""
    wanted = desired()
    first = bulk_import.plan(wanted, False, None, SHA, None, terms())
    first.doc["files"].append({"version": 1})
    again = bulk_import.plan(wanted, False, None, SHA, None, terms())
    assert again.doc["files"] == [] and wanted["files"] == []
