"""Planning the items of ImportAssets: what each one changes, before anything is stored.

The bulk path must behave exactly like CreateAsset + UploadFile + UpdateAsset +
Publish/Retire/RestoreAsset one asset at a time (same validation, same versions, no
write and no event when nothing differs); only the index writes are batched. This module
holds the pure part: checking a batch's shape and deciding, per item, the new document,
the catalog event and the outcome from the stored document (or its absence).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from collateral.v1 import content_pb2
from services.common.errors import FailedPrecondition, InvalidArgument
from services.content import model, vocabulary

MAX_ITEMS = 100
MAX_BATCH_FILE_BYTES = 32 * 1024 * 1024  # the request stays well under the server's 64 MiB message limit

CREATED = content_pb2.IMPORT_OUTCOME_CREATED
UPDATED = content_pb2.IMPORT_OUTCOME_UPDATED
FILE_UPDATED = content_pb2.IMPORT_OUTCOME_FILE_UPDATED
UNCHANGED = content_pb2.IMPORT_OUTCOME_UNCHANGED
FAILED = content_pb2.IMPORT_OUTCOME_FAILED

# (current status, wanted status) -> the catalog event the single path would end with.
TRANSITIONS = {
    (model.DRAFT, model.PUBLISHED): "published",
    (model.DRAFT, model.RETIRED): "retired",
    (model.PUBLISHED, model.RETIRED): "retired",
    (model.RETIRED, model.DRAFT): "restored",
    (model.RETIRED, model.PUBLISHED): "published",  # restore, then publish
}


def check_batch(request: content_pb2.ImportAssetsRequest) -> None:
    """INVALID_ARGUMENT for a request that is wrong as a whole (size, duplicates); items are checked one by one."""
    items = request.items
    if not items and not request.refresh:
        raise InvalidArgument("items", "at least one item (or set refresh)")
    if len(items) > MAX_ITEMS:
        raise InvalidArgument("items", f"at most {MAX_ITEMS} items per call")
    total = sum(len(item.file_content) for item in items)
    if total > MAX_BATCH_FILE_BYTES:
        raise InvalidArgument("items", f"files total {total} bytes; at most {MAX_BATCH_FILE_BYTES} per call "
                                       "(send large files through UploadFile)")
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.asset_id and item.asset_id in seen:
            raise InvalidArgument(f"items[{i}].asset_id", f"repeats items[{seen[item.asset_id]}]")
        seen[item.asset_id] = i


def wanted_status(value: int) -> str | None:
    """The status an item asks for, or None (unspecified: draft when new, unchanged otherwise)."""
    if value == content_pb2.ASSET_STATUS_UNSPECIFIED:
        return None
    return model.enum_name(value, model.STATUS_NAMES, "status")


@dataclass
class Plan:
    """What one item changes: the document to write (None: nothing), its event and outcome."""

    doc: dict[str, Any] | None
    event_type: str
    outcome: int
    needs_file: bool


def plan(desired: dict[str, Any], owner_given: bool, status: str | None, sha256: str,
         current: Mapping[str, Any] | None, terms: vocabulary.Terms) -> Plan:
    """The change `desired` (a model.new_doc, unchecked vocabularies) makes to `current`.

    Raises InvalidArgument (a vocabulary value) or FailedPrecondition (a status the asset
    cannot move to), as the single-asset RPCs would.
    """
    if current is None:
        return _plan_new(desired, status, terms)
    doc = json.loads(json.dumps(current))
    fields = [f for f in model.MUTABLE_FIELDS if f != "owner" or owner_given]
    merged = vocabulary.check_values({**doc, **{f: desired[f] for f in fields}}, terms, fields, previous=doc)
    metadata_changed = any(merged.get(f) != doc.get(f) for f in fields)
    files = doc.get("files") or []
    needs_file = not files or files[-1].get("sha256") != sha256
    event = _transition(doc, status)
    if not (metadata_changed or needs_file or event):
        return Plan(None, "", UNCHANGED, False)
    if event:
        _apply_status(merged, status or doc["status"])
    merged["version"] = int(doc.get("version", 0)) + 1
    merged["updated_at"] = model.now_iso()
    return Plan(merged, event or "updated", FILE_UPDATED if needs_file else UPDATED, needs_file)


def _plan_new(desired: dict[str, Any], status: str | None, terms: vocabulary.Terms) -> Plan:
    doc = vocabulary.check_values(copy.deepcopy(desired), terms, vocabulary.BY_FIELD)  # re-planned after a race
    if status and status != model.DRAFT:
        _apply_status(doc, status)
    return Plan(doc, "created", CREATED, True)


def _transition(doc: Mapping[str, Any], status: str | None) -> str:
    """The event of moving `doc` to `status` ("" when it is there already or none is asked)."""
    if status is None or status == doc["status"]:
        return ""
    event = TRANSITIONS.get((doc["status"], status))
    if event is None:
        raise FailedPrecondition(f"asset {doc['asset_id']} is {doc['status']}: it cannot go back to {status} "
                                 "(retire it instead)")
    return event


def _apply_status(doc: dict[str, Any], status: str) -> None:
    doc["status"] = status
    if status == model.PUBLISHED:
        doc["published_at"] = doc.get("published_at") or model.now_iso()


def results_in_order(results: Mapping[int, content_pb2.ImportAssetResult], count: int
                     ) -> Sequence[content_pb2.ImportAssetResult]:
    return [results[i] for i in range(count)]
