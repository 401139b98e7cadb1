"""Bulk actions on catalog rows (taxonomy, owner, retire, restore) and their undo.

Every change goes asset by asset through the content service's audited RPCs (UpdateAsset,
RetireAsset, RestoreAsset, PublishAsset), so a bulk action is exactly as auditable as the
same edits made one by one. Before changing an asset the portal reads it (GetAsset) and keeps
what it needs to put it back, together with the version the change produced. Undo sends that
version back as `expected_version`: an asset someone changed in the meantime fails the
content service's optimistic check and is refused by name instead of silently overwritten.

The before-states live in a small Elasticsearch index (`portal-bulk-undo`), not in the
cookie: a few hundred assets do not fit in one, and every portal replica must find them.
A record is offered for UNDO_WINDOW_S after the action and deleted once used (records
past their window are dropped at the next bulk action).
"""

from __future__ import annotations

import json
import secrets
import time
import dataclasses
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable

import grpc
from elasticsearch import Elasticsearch, NotFoundError
from google.protobuf import field_mask_pb2

from collateral.v1 import content_pb2
from services.common import config, es as es_helpers

UNDO_WINDOW_S = 15 * 60
MAX_SELECTED = 200
TAXONOMY_FIELDS = ("industries", "personas", "products", "regions", "tags")
TAXONOMY_MODES = ("set", "add", "remove")
KINDS = ("taxonomy", "owner", "retire", "restore")
ABORTING = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "email": {"type": "keyword"},
        "created_at": {"type": "date", "format": "epoch_millis"},
        "payload": {"type": "keyword", "index": False, "doc_values": False},
    },
}

Rpc = Callable[[str, str, Any], Any]


@dataclass(frozen=True)
class Action:
    """One bulk action: `kind` is taxonomy (with field, mode, values), owner (with owner), retire or restore."""

    kind: str
    field: str = ""
    mode: str = ""
    values: tuple[str, ...] = ()
    owner: str = ""

    def problem(self) -> str:
        """Why the action cannot run, or "" (checked before any asset is touched)."""
        if self.kind not in KINDS:
            return "Pick an action."
        if self.kind == "taxonomy":
            if self.field not in TAXONOMY_FIELDS:
                return "Pick a vocabulary."
            if self.mode not in TAXONOMY_MODES:
                return "Pick set, add or remove."
            if not self.values and self.mode != "set":
                return "Pick at least one term."
        if self.kind == "owner" and not self.owner.strip():
            return "Enter the new owner."
        return ""

    def verb(self) -> str:
        return {"taxonomy": "Updated", "owner": "Changed the owner of", "retire": "Retired",
                "restore": "Restored"}[self.kind]


@dataclass
class Change:
    """How to put one asset back: its values before the action and the version the action left."""

    asset_id: str
    title: str
    after_version: int
    field: str = ""
    before_values: list[str] = dataclasses.field(default_factory=list)
    before_owner: str = ""
    before_status: int = 0


@dataclass
class Outcome:
    """What a bulk action or an undo did: assets `done`, `failed` as (asset, why), and the undo record."""

    verb: str
    done: int = 0
    failed: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    changes: list[Change] = dataclasses.field(default_factory=list)

    def message(self) -> str:
        text = f"{self.verb} {self.done} asset{'' if self.done == 1 else 's'}."
        if self.failed:
            text += " Not changed: " + "; ".join(f"{what} ({why})" for what, why in self.failed[:10])
            text += f" and {len(self.failed) - 10} more." if len(self.failed) > 10 else "."
        return text


def selected_ids(values: Iterable[str], id_pattern: Any) -> list[str]:
    """The selected asset ids, well-formed, deduplicated, at most MAX_SELECTED."""
    return list(dict.fromkeys(v for v in values if id_pattern.match(v)))[:MAX_SELECTED]


def new_values(current: Iterable[str], mode: str, values: Iterable[str]) -> list[str]:
    """The terms an asset carries after set/add/remove, in a stable order without duplicates."""
    wanted = list(dict.fromkeys(values))
    if mode == "set":
        return wanted
    if mode == "add":
        return list(dict.fromkeys([*current, *wanted]))
    return [v for v in current if v not in set(wanted)]


def _why(exc: grpc.RpcError) -> str:
    if exc.code() == grpc.StatusCode.FAILED_PRECONDITION and "version" in (exc.details() or ""):
        return "changed by someone else meanwhile"
    return exc.details() or exc.code().name.lower()


def _get(rpc: Rpc, asset_id: str) -> Any:
    return rpc("content", "GetAsset", content_pb2.GetAssetRequest(asset_id=asset_id)).asset


def _update(rpc: Rpc, asset_id: str, path: str, value: Any, expected_version: int) -> Any:
    asset = content_pb2.Asset(asset_id=asset_id)
    if path == "owner":
        asset.owner = value
    else:
        getattr(asset, path).extend(value)
    return rpc("content", "UpdateAsset", content_pb2.UpdateAssetRequest(
        asset=asset, update_mask=field_mask_pb2.FieldMask(paths=[path]), expected_version=expected_version)).asset


def _apply_one(rpc: Rpc, action: Action, before: Any) -> Change:
    """Change one asset (read just before) and say how to put it back."""
    change = Change(before.asset_id, before.title, 0, before_status=before.status)
    if action.kind == "taxonomy":
        change.field, change.before_values = action.field, list(getattr(before, action.field))
        after = _update(rpc, before.asset_id, action.field,
                        new_values(change.before_values, action.mode, action.values), before.version)
    elif action.kind == "owner":
        change.field, change.before_owner = "owner", before.owner
        after = _update(rpc, before.asset_id, "owner", action.owner.strip(), before.version)
    elif action.kind == "retire":
        after = rpc("content", "RetireAsset", content_pb2.RetireAssetRequest(
            asset_id=before.asset_id, expected_version=before.version)).asset
    else:
        after = rpc("content", "RestoreAsset", content_pb2.RestoreAssetRequest(
            asset_id=before.asset_id, expected_version=before.version)).asset
    change.after_version = after.version
    return change


def apply(rpc: Rpc, action: Action, ids: list[str]) -> Outcome:
    """Run `action` on each asset; one asset's failure never stops the others, an unreachable backend does."""
    outcome = Outcome(action.verb())
    for asset_id in ids:
        try:
            outcome.changes.append(_apply_one(rpc, action, _get(rpc, asset_id)))
            outcome.done += 1
        except grpc.RpcError as exc:
            if exc.code() in ABORTING:
                raise
            outcome.failed.append((asset_id, _why(exc)))
    return outcome


def _revert_one(rpc: Rpc, kind: str, change: Change) -> None:
    """Put one asset back, refusing (FAILED_PRECONDITION) if its version moved since the action."""
    version = change.after_version
    if kind == "taxonomy":
        _update(rpc, change.asset_id, change.field, change.before_values, version)
    elif kind == "owner":
        _update(rpc, change.asset_id, "owner", change.before_owner, version)
    elif kind == "retire":
        restored = rpc("content", "RestoreAsset", content_pb2.RestoreAssetRequest(
            asset_id=change.asset_id, expected_version=version)).asset
        if change.before_status == content_pb2.ASSET_STATUS_PUBLISHED:
            # Restore makes a draft; an asset that was live before the retire goes live again.
            rpc("content", "PublishAsset", content_pb2.PublishAssetRequest(
                asset_id=change.asset_id, expected_version=restored.version))
    else:
        rpc("content", "RetireAsset", content_pb2.RetireAssetRequest(
            asset_id=change.asset_id, expected_version=version))


def _moved_since(rpc: Rpc, change: Change) -> str:
    """Why undo must leave this asset alone ("" if it is as the action left it)."""
    current = _get(rpc, change.asset_id)
    if current.version == change.after_version:
        return ""
    when = current.update_time.ToDatetime().strftime("%Y-%m-%d %H:%M UTC")
    return f"changed by someone else since (or by a later action): now version {current.version}, updated {when}"


def undo(rpc: Rpc, kind: str, changes: list[Change]) -> Outcome:
    """Revert each change whose asset nobody touched since; name the ones refused."""
    outcome = Outcome("Undid the change of")
    for change in changes:
        label = f"{change.title or change.asset_id} [{change.asset_id}]"
        try:
            moved = _moved_since(rpc, change)
            if moved:
                outcome.failed.append((label, moved))
                continue
            _revert_one(rpc, kind, change)
            outcome.done += 1
        except grpc.RpcError as exc:
            if exc.code() in ABORTING:
                raise
            outcome.failed.append((label, _why(exc)))
    return outcome


class UndoStore:
    """Before-states of recent bulk actions, per user, for UNDO_WINDOW_S."""

    def __init__(self, settings: config.Settings, client: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = client or es_helpers.client(settings)
        self.alias = settings.index("portal-bulk-undo")
        self._ready = False

    def _ensure(self) -> None:
        if not self._ready:
            es_helpers.ensure_alias(self.es, self.alias, es_helpers.index_body(self.settings, MAPPINGS))
            self._ready = True

    def keep(self, email: str, kind: str, changes: list[Change]) -> str:
        """Store the before-states of one action; returns the undo id to offer."""
        self._ensure()
        self._forget_expired()
        undo_id = secrets.token_urlsafe(16)
        payload = json.dumps({"kind": kind, "changes": [asdict(c) for c in changes]})
        self.es.index(index=self.alias, id=undo_id, refresh=False, op_type="create",
                      document={"email": email.lower(), "created_at": int(time.time() * 1000), "payload": payload})
        return undo_id

    def _forget_expired(self) -> None:
        """Drop records past their window (bulk actions are rare: one cheap delete each time)."""
        cutoff = int((time.time() - UNDO_WINDOW_S) * 1000)
        hits = self.es.search(index=self.alias, query={"range": {"created_at": {"lt": cutoff}}}, size=500,
                              source=False)["hits"]["hits"]
        ops = [{"action": {"delete": {"_index": h["_index"], "_id": h["_id"]}}} for h in hits]
        if ops:
            es_helpers.bulk(self.es, ops)

    def take(self, email: str, undo_id: str) -> tuple[str, list[Change]] | None:
        """The action's kind and changes, once (the record is deleted); None if unknown,
        someone else's or older than UNDO_WINDOW_S."""
        self._ensure()
        try:
            src = self.es.get(index=self.alias, id=undo_id)["_source"]
        except NotFoundError:
            return None
        if src["email"] != email.lower():
            return None
        try:
            self.es.delete(index=self.alias, id=undo_id)
        except NotFoundError:
            return None  # taken by a concurrent request: undo runs once
        if time.time() * 1000 - src["created_at"] > UNDO_WINDOW_S * 1000:
            return None
        payload = json.loads(src["payload"])
        return payload["kind"], [Change(**c) for c in payload["changes"]]
