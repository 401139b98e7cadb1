"""Catalog bulk actions and their undo against the real content service and Elasticsearch."""

from __future__ import annotations

import re
import time

import grpc
import pytest
from google.protobuf import field_mask_pb2

from collateral.v1 import content_pb2
from services.common import config
from services.portal import bulk_actions
from services.portal.bulk_actions import Action

pytestmark = pytest.mark.integration

ID_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")


@pytest.fixture
def rpc(stub, call_as):
    """The portal's rpc(service, method, request) signature, calling as a marketer."""
    metadata = call_as("marketer", "bulk-marketer")

    def call(service: str, method: str, request):
        assert service == "content"
        return getattr(stub, method)(request, metadata=metadata)

    return call


def _get(rpc, asset_id: str) -> content_pb2.Asset:
    return rpc("content", "GetAsset", content_pb2.GetAssetRequest(asset_id=asset_id)).asset


def test_owner_change_is_undone(rpc, new_asset, unique):
    assets = [new_asset(f"Owner {unique} {i}", owner=f"old-{i}") for i in range(3)]
    ids = [a.asset_id for a in assets]
    done = bulk_actions.apply(rpc, Action("owner", owner="new-owner"), ids)
    assert (done.done, done.failed) == (3, [])
    assert [_get(rpc, i).owner for i in ids] == ["new-owner"] * 3
    undone = bulk_actions.undo(rpc, "owner", done.changes)
    assert (undone.done, undone.failed) == (3, [])
    assert [_get(rpc, i).owner for i in ids] == ["old-0", "old-1", "old-2"]


def test_taxonomy_set_add_remove_and_undo(rpc, new_asset, unique):
    asset = new_asset(f"Terms {unique}", tags=["alpha", "beta"])
    added = bulk_actions.apply(rpc, Action("taxonomy", field="tags", mode="add", values=("gamma", "alpha")),
                               [asset.asset_id])
    assert list(_get(rpc, asset.asset_id).tags) == ["alpha", "beta", "gamma"]
    removed = bulk_actions.apply(rpc, Action("taxonomy", field="tags", mode="remove", values=("alpha",)),
                                 [asset.asset_id])
    assert list(_get(rpc, asset.asset_id).tags) == ["beta", "gamma"]
    assert bulk_actions.undo(rpc, "taxonomy", removed.changes).done == 1
    assert list(_get(rpc, asset.asset_id).tags) == ["alpha", "beta", "gamma"]
    # The older action's undo would overwrite the newer change: refused.
    stale = bulk_actions.undo(rpc, "taxonomy", added.changes)
    assert stale.done == 0 and "changed by someone else since" in stale.failed[0][1]
    assert list(_get(rpc, asset.asset_id).tags) == ["alpha", "beta", "gamma"]
    replaced = bulk_actions.apply(rpc, Action("taxonomy", field="tags", mode="set", values=("delta",)),
                                  [asset.asset_id])
    assert list(_get(rpc, asset.asset_id).tags) == ["delta"]
    assert bulk_actions.undo(rpc, "taxonomy", replaced.changes).done == 1
    assert list(_get(rpc, asset.asset_id).tags) == ["alpha", "beta", "gamma"]


def test_retire_then_undo_republishes_and_restore_undo_retires(rpc, new_asset, unique):
    live = new_asset(f"Live {unique}")
    draft = new_asset(f"Draft {unique}", publish=False)
    retired = bulk_actions.apply(rpc, Action("retire"), [live.asset_id, draft.asset_id])
    assert retired.done == 2
    assert {_get(rpc, a).status for a in (live.asset_id, draft.asset_id)} == {content_pb2.ASSET_STATUS_RETIRED}
    assert bulk_actions.undo(rpc, "retire", retired.changes).done == 2
    assert _get(rpc, live.asset_id).status == content_pb2.ASSET_STATUS_PUBLISHED
    assert _get(rpc, draft.asset_id).status == content_pb2.ASSET_STATUS_DRAFT

    bulk_actions.apply(rpc, Action("retire"), [live.asset_id])
    restored = bulk_actions.apply(rpc, Action("restore"), [live.asset_id])
    assert _get(rpc, live.asset_id).status == content_pb2.ASSET_STATUS_DRAFT
    assert bulk_actions.undo(rpc, "restore", restored.changes).done == 1
    assert _get(rpc, live.asset_id).status == content_pb2.ASSET_STATUS_RETIRED


def test_undo_refuses_an_asset_changed_meanwhile_and_names_it(rpc, new_asset, unique):
    mine = new_asset(f"Untouched {unique}", owner="before")
    theirs = new_asset(f"Edited meanwhile {unique}", owner="before")
    done = bulk_actions.apply(rpc, Action("owner", owner="after"), [mine.asset_id, theirs.asset_id])
    current = _get(rpc, theirs.asset_id)
    rpc("content", "UpdateAsset", content_pb2.UpdateAssetRequest(
        asset=content_pb2.Asset(asset_id=theirs.asset_id, description="someone else's edit"),
        update_mask=field_mask_pb2.FieldMask(paths=["description"]), expected_version=current.version))
    undone = bulk_actions.undo(rpc, "owner", done.changes)
    assert undone.done == 1
    assert len(undone.failed) == 1 and theirs.asset_id in undone.failed[0][0]
    assert "changed by someone else" in undone.failed[0][1]
    assert _get(rpc, mine.asset_id).owner == "before"
    assert _get(rpc, theirs.asset_id).owner == "after"
    assert theirs.asset_id in undone.message() and "changed by someone else" in undone.message()


def test_failures_are_named_and_do_not_stop_the_others(rpc, new_asset, unique):
    live = new_asset(f"Not retired {unique}")
    outcome = bulk_actions.apply(rpc, Action("restore"), [live.asset_id, "no-such-asset-" + unique])
    assert outcome.done == 0 and [a for a, _ in outcome.failed] == [live.asset_id, "no-such-asset-" + unique]
    assert "only retired assets are restored" in outcome.failed[0][1]
    assert outcome.changes == []


def test_undo_store_hands_a_record_out_once_and_only_to_its_user(stack: config.Settings):
    from tests.conftest import isolated

    store = bulk_actions.UndoStore(isolated(stack, "bulk"))
    change = bulk_actions.Change("a-1", "Deck", 7, field="owner", before_owner="x")
    undo_id = store.keep("Mia@Example.com", "owner", [change])
    assert store.take("someone@example.com", undo_id) is None
    assert store.take("mia@example.com", undo_id) == ("owner", [change])
    assert store.take("mia@example.com", undo_id) is None
    # Past its window: refused, and dropped at the next bulk action.
    old = {"email": "mia@example.com", "created_at": int((time.time() - bulk_actions.UNDO_WINDOW_S - 60) * 1000),
           "payload": '{"kind": "retire", "changes": []}'}
    store.es.index(index=store.alias, id="stale-1", document=old, refresh=True)
    store.es.index(index=store.alias, id="stale-2", document=old, refresh=True)
    assert store.take("mia@example.com", "stale-1") is None
    store.keep("mia@example.com", "retire", [change])
    assert not store.es.exists(index=store.alias, id="stale-2")
    store.es.indices.delete(index=",".join(store.es.indices.get_alias(name=store.alias)))


def test_action_problems_are_found_before_touching_anything():
    assert Action("taxonomy", field="tags", mode="add").problem() == "Pick at least one term."
    assert Action("taxonomy", field="status", mode="set").problem() == "Pick a vocabulary."
    assert Action("owner", owner="  ").problem() == "Enter the new owner."
    assert Action("explode").problem() == "Pick an action."
    assert Action("retire").problem() == ""
    assert bulk_actions.new_values(["a", "b"], "add", ["b", "c"]) == ["a", "b", "c"]
    assert bulk_actions.new_values(["a", "b"], "remove", ["a"]) == ["b"]
    assert bulk_actions.new_values(["a", "b"], "set", ["c", "c"]) == ["c"]
    assert bulk_actions.selected_ids(["a", "a", "bad id", "b"], ID_RE) == ["a", "b"]
