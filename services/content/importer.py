"""`python -m services.content.importer <folder> <metadata.csv|json>`: bulk-load collateral.

Each metadata row names a file (`path`, relative to the folder) and its metadata; the
importer creates or updates one asset per row through the content service's gRPC API,
so imports get exactly the validation, roles, file checks, text extraction and catalog
events of the portal (nothing is written behind the service's back).

Re-running is safe: the asset id is derived from the row's `external_id` (or its path),
so a second run finds the assets of the first; a file whose SHA-256 equals the current
version's is not uploaded again, and metadata that did not change is not written (no
new version, no event).

Columns (CSV; in JSON the same keys, lists as arrays): path (required), external_id,
title (defaults to the file name), description, type (deck, case_study, one_pager, ...;
spaces allowed), tags, products, buying_stages, personas, industries, regions (lists
separated by ';' or '|'), language, owner, expires_at (RFC 3339), status (draft,
published, retired; default from --status).

Token: COLLATERAL_TOKEN, or one minted locally for subject `importer` with role admin
(needs COLLATERAL_AUTH_SECRET, as the servers do).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import mimetypes
import os
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import grpc
from google.protobuf import field_mask_pb2, timestamp_pb2
from tqdm import tqdm

from collateral.v1 import content_pb2, content_pb2_grpc
from services.common import auth, config, grpc_server
from services.common.errors import InvalidArgument
from services.content import extract, model

CHUNK = 2 * 1024 * 1024
INLINE_LIMIT = 16 * 1024 * 1024
LIST_FIELDS = ("tags", "products", "buying_stages", "personas", "industries", "regions")
EXTENSIONS = {
    ".pdf": extract.PDF, ".pptx": extract.PPTX, ".docx": extract.DOCX, ".xlsx": extract.XLSX, ".png": extract.PNG,
    ".jpg": extract.JPEG, ".jpeg": extract.JPEG, ".mp4": extract.MP4, ".txt": extract.TXT, ".csv": extract.CSV,
    ".md": extract.MARKDOWN,
}
COMPARED = ("title", "description", "type", "tags", "products", "buying_stages", "personas", "industries",
            "regions", "language", "owner", "expires_at", "external_id")


class RowError(Exception):
    """A row that cannot be imported; the message says why."""


@dataclass
class Row:
    number: int
    path: str
    values: dict[str, Any]


@dataclass
class Summary:
    outcomes: Counter = field(default_factory=Counter)
    failures: list[tuple[int, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1

    def fail(self, row: Row, reason: str) -> None:
        with self.lock:
            self.outcomes["failed"] += 1
            self.failures.append((row.number, row.path, reason))


def asset_id_for(external_id: str, path: str) -> str:
    """Deterministic id: the same row imports into the same asset on every run."""
    key = f"ext:{external_id.strip()}" if external_id.strip() else f"path:{Path(path).as_posix().lstrip('./')}"
    return "imp-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def read_rows(metadata: Path) -> list[Row]:
    if metadata.suffix.lower() == ".json":
        data = json.loads(metadata.read_text())
        items = data.get("assets", []) if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise SystemExit(f"{metadata}: expected a list of objects or {{\"assets\": [...]}}")
        return [Row(i + 1, str(item.get("path", "")), item) for i, item in enumerate(items) if isinstance(item, dict)]
    with metadata.open(newline="", encoding="utf-8-sig") as handle:
        return [Row(i + 2, row.get("path", "") or "", dict(row)) for i, row in enumerate(csv.DictReader(handle))]


def _list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).replace("|", ";").split(";") if v.strip()]


def _enum(value: str, values: dict[str, int], prefix: str, column: str) -> int:
    key = value.strip().lower().replace(" ", "_").replace("-", "_")
    if key.upper().startswith(prefix):
        key = key[len(prefix):].lower()
    if key not in values:
        raise RowError(f"{column}: unknown value {value!r} (one of {', '.join(sorted(values))})")
    return values[key]


def to_asset(row: Row) -> content_pb2.Asset:
    v = row.values
    asset = content_pb2.Asset(
        title=str(v.get("title") or Path(row.path).stem.replace("_", " ").replace("-", " ")),
        description=str(v.get("description") or ""),
        type=_enum(str(v.get("type") or "other"), model.TYPE_VALUES, "ASSET_TYPE_", "type"),
        tags=_list(v.get("tags")), products=_list(v.get("products")), personas=_list(v.get("personas")),
        industries=_list(v.get("industries")), regions=_list(v.get("regions")),
        buying_stages=[_enum(s, model.STAGE_VALUES, "BUYING_STAGE_", "buying_stages") for s in _list(v.get("buying_stages"))],
        language=str(v.get("language") or ""), owner=str(v.get("owner") or ""),
        external_id=str(v.get("external_id") or ""),
    )
    if v.get("expires_at"):
        try:
            parsed = datetime.fromisoformat(str(v["expires_at"]).replace("Z", "+00:00"))
        except ValueError:
            raise RowError(f"expires_at: not an RFC 3339 time: {v['expires_at']!r}") from None
        if parsed.tzinfo is None:
            raise RowError("expires_at: needs a zone (Z or +hh:mm)")
        asset.expires_at.CopyFrom(timestamp_pb2.Timestamp(seconds=int(parsed.timestamp())))
    try:  # the same checks as the server, so a bad row fails before any upload
        for name in COMPARED:
            model.field_value(asset, name)
    except InvalidArgument as exc:
        raise RowError(exc.message) from None
    return asset


def changed_fields(desired: content_pb2.Asset, current: content_pb2.Asset) -> list[str]:
    out = []
    for name in COMPARED:
        if name == "owner" and not desired.owner:
            continue
        if model.field_value(desired, name) != model.field_value(current, name):
            out.append(name)
    return out


class Importer:
    def __init__(self, stub: content_pb2_grpc.ContentServiceStub, metadata: tuple[tuple[str, str], ...],
                 folder: Path, default_status: str, timeout_s: float = 120.0) -> None:
        self.stub = stub
        self.metadata = metadata
        self.folder = folder
        self.default_status = default_status
        self.timeout_s = timeout_s

    def _call(self, method: Any, request: Any) -> Any:
        return method(request, metadata=self.metadata, timeout=self.timeout_s)

    def import_row(self, row: Row) -> str:
        if not row.path:
            raise RowError("path: is required")
        file_path = (self.folder / row.path).resolve()
        if not file_path.is_file():
            raise RowError(f"path: no such file {file_path}")
        content_type = EXTENSIONS.get(file_path.suffix.lower()) or (mimetypes.guess_type(file_path.name)[0] or "")
        if content_type not in extract.ALLOWED:
            raise RowError(f"path: file type {file_path.suffix or '?'} is not allowed")
        desired = to_asset(row)
        status = str(row.values.get("status") or self.default_status).strip().lower()
        if status not in (model.DRAFT, model.PUBLISHED, model.RETIRED):
            raise RowError(f"status: unknown value {status!r}")
        payload = file_path.read_bytes()
        sha = hashlib.sha256(payload).hexdigest()
        asset_id = asset_id_for(desired.external_id, row.path)
        try:
            current = self._call(self.stub.GetAsset, content_pb2.GetAssetRequest(asset_id=asset_id)).asset
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.NOT_FOUND:
                raise
            current = None
        outcome = "unchanged"
        if current is None:
            current = self._create(asset_id, desired, payload, file_path.name, content_type, sha)
            outcome = "created"
        else:
            if not current.files or current.files[-1].sha256 != sha:
                current = self._upload(asset_id, payload, file_path.name, content_type, sha, current.version)
                outcome = "file_updated"
            paths = changed_fields(desired, current)
            if paths:
                current = self._call(self.stub.UpdateAsset, content_pb2.UpdateAssetRequest(
                    asset=_with_id(desired, asset_id),
                    update_mask=field_mask_pb2.FieldMask(paths=paths), expected_version=current.version)).asset
                outcome = "updated" if outcome == "unchanged" else outcome
        current_status = model.STATUS_NAMES.get(current.status, "")
        if status != current_status:
            if status == model.PUBLISHED:
                if current_status == model.RETIRED:
                    self._call(self.stub.RestoreAsset, content_pb2.RestoreAssetRequest(asset_id=asset_id))
                self._call(self.stub.PublishAsset, content_pb2.PublishAssetRequest(asset_id=asset_id))
            elif status == model.RETIRED:
                self._call(self.stub.RetireAsset, content_pb2.RetireAssetRequest(asset_id=asset_id))
            elif current_status == model.RETIRED:
                self._call(self.stub.RestoreAsset, content_pb2.RestoreAssetRequest(asset_id=asset_id))
            if outcome == "unchanged":
                outcome = "updated"
        return outcome

    def _create(self, asset_id: str, desired: content_pb2.Asset, payload: bytes, name: str, content_type: str,
                sha: str) -> content_pb2.Asset:
        inline = len(payload) <= INLINE_LIMIT
        request = content_pb2.CreateAssetRequest(asset_id=asset_id, asset=desired)
        if inline:
            request.file_content = payload
            request.file_name = name
            request.content_type = content_type
            request.sha256 = sha
        asset = self._call(self.stub.CreateAsset, request).asset
        if not inline:
            asset = self._upload(asset_id, payload, name, content_type, sha, asset.version)
        return asset

    def _upload(self, asset_id: str, payload: bytes, name: str, content_type: str, sha: str, version: int
                ) -> content_pb2.Asset:
        def messages() -> Iterator[content_pb2.UploadFileRequest]:
            yield content_pb2.UploadFileRequest(header=content_pb2.UploadFileHeader(
                asset_id=asset_id, file_name=name, content_type=content_type, size_bytes=len(payload), sha256=sha,
                expected_version=version))
            for i in range(0, len(payload), CHUNK):
                yield content_pb2.UploadFileRequest(chunk=payload[i:i + CHUNK])

        return self.stub.UploadFile(messages(), metadata=self.metadata, timeout=self.timeout_s).asset


def _with_id(asset: content_pb2.Asset, asset_id: str) -> content_pb2.Asset:
    copy = content_pb2.Asset()
    copy.CopyFrom(asset)
    copy.asset_id = asset_id
    return copy


def _reason(exc: BaseException) -> str:
    if isinstance(exc, grpc.RpcError):
        violations = grpc_server.field_violations(exc)
        detail = "; ".join(f"{f}: {d}" for f, d in violations) or exc.details()
        return f"{exc.code().name}: {detail}"
    return str(exc)


def run(folder: Path, metadata_file: Path, address: str, token: str, workers: int = 4, default_status: str = "draft",
        show_progress: bool = True) -> Summary:
    rows = read_rows(metadata_file)
    summary = Summary()
    channel = grpc_server.channel(address)
    try:
        importer = Importer(content_pb2_grpc.ContentServiceStub(channel), auth.bearer_metadata(token), folder,
                            default_status)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool, \
                tqdm(total=len(rows), unit="asset", desc="import", disable=not show_progress) as bar:
            futures = {pool.submit(importer.import_row, row): row for row in rows}
            for future in as_completed(futures):
                row = futures[future]
                try:
                    summary.add(future.result())
                except (RowError, grpc.RpcError, OSError) as exc:
                    summary.fail(row, _reason(exc))
                bar.update(1)
    finally:
        channel.close()
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.content.importer",
                                     description="Bulk-import collateral files with their metadata.")
    parser.add_argument("folder", type=Path, help="folder holding the files named by the metadata's `path`")
    parser.add_argument("metadata", type=Path, help="metadata.csv or metadata.json")
    parser.add_argument("--addr", default=None, help="content service address (default COLLATERAL_CONTENT_ADDR)")
    parser.add_argument("--workers", type=int, default=4, help="parallel imports (default 4)")
    parser.add_argument("--status", default="draft", choices=["draft", "published", "retired"],
                        help="status of rows without a status column (default draft)")
    args = parser.parse_args(argv)
    settings = config.load()
    token = os.environ.get("COLLATERAL_TOKEN") or auth.mint(settings, "importer", auth.Role.ADMIN)
    summary = run(args.folder, args.metadata, args.addr or settings.content_addr, token, args.workers, args.status)
    print("\n" + ", ".join(f"{k}: {v}" for k, v in sorted(summary.outcomes.items())) or "nothing to import")
    for number, path, reason in sorted(summary.failures):
        print(f"  row {number} ({path or 'no path'}): {reason}", file=sys.stderr)
    sys.exit(1 if summary.failures else 0)


if __name__ == "__main__":
    main()
