"""Validation and conversion of asset metadata."""

from __future__ import annotations

import pytest
from google.protobuf import timestamp_pb2

from collateral.v1 import common_pb2, content_pb2
from services.common.errors import InvalidArgument
from services.content import model


def asset(**kw) -> content_pb2.Asset:
    base = dict(title="Pricing deck", type=content_pb2.ASSET_TYPE_DECK)
    base.update(kw)
    return content_pb2.Asset(**base)


def field_of(fn, *args):
    with pytest.raises(InvalidArgument) as info:
        fn(*args)
    return info.value.field


def test_new_doc_normalises_and_defaults_owner():
    doc = model.new_doc("a1", asset(tags=[" Pricing", "pricing", "ROI"], industries=["Healthcare"],
                                    buying_stages=[common_pb2.BUYING_STAGE_DECISION] * 2, language="EN"), "mia")
    assert doc["tags"] == ["pricing", "roi"]
    assert doc["industries"] == ["healthcare"]
    assert doc["buying_stages"] == ["decision"]
    assert doc["language"] == "en"
    assert doc["owner"] == "mia"
    assert doc["status"] == "draft" and doc["version"] == 1 and doc["type"] == "deck"


@pytest.mark.parametrize("bad, field", [
    (dict(title="  "), "asset.title"),
    (dict(title="x" * 301), "asset.title"),
    (dict(type=0), "asset.type"),
    (dict(type=99), "asset.type"),
    (dict(buying_stages=[42]), "asset.buying_stages[0]"),
    (dict(tags=[""]), "asset.tags[0]"),
    (dict(tags=["t"] * 51), "asset.tags"),
    (dict(language="english!"), "asset.language"),
])
def test_bad_metadata_names_the_field(bad, field):
    assert field_of(model.new_doc, "a1", asset(**bad), "mia") == field


@pytest.mark.parametrize("asset_id", ["", "a/b", "x" * 129, "sp ace"])
def test_bad_asset_ids(asset_id):
    assert field_of(model.check_asset_id, asset_id) == "asset_id"


def test_apply_mask_changes_only_masked_fields_and_rejects_unknown_paths():
    doc = model.new_doc("a1", asset(description="old"), "mia")
    changed = model.apply_mask(doc, asset(title="New", description="new"), ["description"])
    assert changed["description"] == "new" and changed["title"] == "Pricing deck"
    assert field_of(model.apply_mask, doc, asset(), ["status"]) == "update_mask"
    assert field_of(model.apply_mask, doc, asset(), []) == "update_mask"


def test_query_length_limit():
    assert model.check_query("  roi ") == "roi"
    assert field_of(model.check_query, "q" * 513) == "query"


def test_round_trip_to_proto_and_expiry():
    expires = timestamp_pb2.Timestamp(seconds=1_000_000_000)
    doc = model.new_doc("a1", asset(expires_at=expires, buying_stages=[common_pb2.BUYING_STAGE_AWARENESS]), "mia")
    proto = model.doc_to_proto(doc)
    assert proto.expires_at.seconds == 1_000_000_000
    assert list(proto.buying_stages) == [common_pb2.BUYING_STAGE_AWARENESS]
    assert proto.status == content_pb2.ASSET_STATUS_DRAFT
    assert model.is_expired(doc)
    doc["status"] = "published"
    assert not model.visible_to_reps(doc)
    doc["expires_at"] = None
    assert model.visible_to_reps(doc)
    snap = model.snapshot(doc)
    assert snap["asset_id"] == "a1" and snap["version"] == 1 and snap["file_version"] == 0
