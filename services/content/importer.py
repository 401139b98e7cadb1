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

Rows travel in batches (--batch-size, default 50) through ImportAssets: the service
checks and stores each row as it would one at a time, but writes the index once per
batch and refreshes once at the end, so the assets are searchable when the run ends.
`--batch-size 0` sends one row at a time through CreateAsset/UpdateAsset/UploadFile and
the status RPCs (each write waits for a refresh: slow, the reference path). Files too
large for a batch take that path too.

Token: COLLATERAL_TOKEN, or one minted locally for subject `importer` with role admin
(needs COLLATERAL_AUTH_SECRET, as the servers do).

A metadata file that cannot be read (missing, not UTF-8 text, malformed JSON, a CSV
header without `path` or with unknown columns) stops the import before anything is
written, naming the file and line. A bad row is skipped and reported with every problem
found in it; the run ends with a summary and exits 1 when anything failed.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
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
from services.common import auth, cli, config, grpc_server
from services.common.errors import InvalidArgument
from services.content import extract, model

CHUNK = 2 * 1024 * 1024
INLINE_LIMIT = 16 * 1024 * 1024
BATCH_BYTES = 24 * 1024 * 1024  # under the service's 32 MiB of files per ImportAssets call
MAX_BATCH = 100  # the service's limit of items per ImportAssets call
DEFAULT_BATCH = 50
STATUS_VALUES = {model.DRAFT: content_pb2.ASSET_STATUS_DRAFT, model.PUBLISHED: content_pb2.ASSET_STATUS_PUBLISHED,
                 model.RETIRED: content_pb2.ASSET_STATUS_RETIRED}
OUTCOME_NAMES = {content_pb2.IMPORT_OUTCOME_CREATED: "created", content_pb2.IMPORT_OUTCOME_UPDATED: "updated",
                 content_pb2.IMPORT_OUTCOME_FILE_UPDATED: "file_updated",
                 content_pb2.IMPORT_OUTCOME_UNCHANGED: "unchanged"}
CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}
LIST_FIELDS = ("tags", "products", "buying_stages", "personas", "industries", "regions")
EXTENSIONS = {
    ".pdf": extract.PDF, ".pptx": extract.PPTX, ".docx": extract.DOCX, ".xlsx": extract.XLSX, ".png": extract.PNG,
    ".jpg": extract.JPEG, ".jpeg": extract.JPEG, ".mp4": extract.MP4, ".txt": extract.TXT, ".csv": extract.CSV,
    ".md": extract.MARKDOWN,
}
COMPARED = ("title", "description", "type", "tags", "products", "buying_stages", "personas", "industries",
            "regions", "language", "owner", "expires_at", "external_id")


KNOWN_COLUMNS = ("path", "external_id", "title", "description", "type", *LIST_FIELDS, "language", "owner",
                 "expires_at", "status")


class MetadataError(cli.InputFileError):
    """The metadata file as a whole cannot be used; the message names the file and the line."""


class RowError(Exception):
    """A row that cannot be imported; carries every problem found in it, each as `column: reason`."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


@dataclass
class Row:
    number: int  # CSV: the line the row starts on (the header is line 1); JSON: the item's position, from 1
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
    """Every row of a metadata file; raises cli.InputFileError (MetadataError) when the file as a whole is unusable."""
    text = cli.read_text_file(metadata, "the metadata as CSV or JSON in UTF-8")
    if metadata.suffix.lower() == ".json":
        return _json_rows(metadata, text)
    return _csv_rows(metadata, text)


def _json_rows(metadata: Path, text: str) -> list[Row]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MetadataError(f"{metadata}: line {exc.lineno} column {exc.colno}: not valid JSON: {exc.msg}") from None
    items = data.get("assets") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise MetadataError(f"{metadata}: expected a list of objects or {{\"assets\": [...]}}")
    not_objects = [str(i + 1) for i, item in enumerate(items) if not isinstance(item, dict)]
    if not_objects:
        raise MetadataError(f"{metadata}: item {', '.join(not_objects[:10])}: not an object")
    unknown = sorted({key for item in items for key in item} - set(KNOWN_COLUMNS))
    if unknown:
        raise MetadataError(f"{metadata}: unknown key {', '.join(map(repr, unknown))} "
                            f"(known: {', '.join(KNOWN_COLUMNS)})")
    return [Row(i + 1, str(item.get("path") or ""), item) for i, item in enumerate(items)]


def _csv_rows(metadata: Path, text: str) -> list[Row]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    start = 1  # the line the record being read starts on
    try:
        header = [name.strip() for name in reader.fieldnames or []]
        _check_header(metadata, header)
        reader.fieldnames = header
        rows = []
        start = reader.line_num + 1
        for values in reader:
            extra = values.pop(None, None)  # cells beyond the header
            if extra and any(cell.strip() for cell in extra):
                raise MetadataError(f"{metadata}: line {start}: {len(header) + len(extra)} cells but the header "
                                    f"has {len(header)} columns")
            rows.append(Row(start, (values.get("path") or "").strip(), dict(values)))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise MetadataError(f"{metadata}: line {start}: not valid CSV: {exc}") from None
    return rows


def _check_header(metadata: Path, header: list[str]) -> None:
    if not any(header):
        raise MetadataError(f"{metadata}: line 1: no header (the first line names the columns, `path` among them)")
    if "path" not in header:
        raise MetadataError(f"{metadata}: line 1: missing column 'path' (header: {', '.join(header)})")
    unknown = [name for name in header if name not in KNOWN_COLUMNS]
    if unknown:
        raise MetadataError(f"{metadata}: line 1: unknown column {', '.join(map(repr, unknown))} "
                            f"(known: {', '.join(KNOWN_COLUMNS)})")


def _list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).replace("|", ";").split(";") if v.strip()]


def _enum(value: str, values: dict[str, int], prefix: str, column: str, problems: list[str]) -> int:
    """The enum number of `value`, or 0 with the problem appended (so the row's other checks still run)."""
    key = value.strip().lower().replace(" ", "_").replace("-", "_")
    if key.upper().startswith(prefix):
        key = key[len(prefix):].lower()
    if key not in values:
        problems.append(f"{column}: unknown value {value!r} (one of {', '.join(sorted(values))})")
        return 0
    return values[key]


def _expires_at(value: Any, problems: list[str]) -> timestamp_pb2.Timestamp | None:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"expires_at: not an RFC 3339 time: {value!r}")
        return None
    if parsed.tzinfo is None:
        problems.append("expires_at: needs a zone (Z or +hh:mm)")
        return None
    return timestamp_pb2.Timestamp(seconds=int(parsed.timestamp()))


def to_asset(row: Row) -> content_pb2.Asset:
    """The row as an Asset; raises RowError listing every bad column, not just the first."""
    v = row.values
    problems: list[str] = []
    stages = [_enum(s, model.STAGE_VALUES, "BUYING_STAGE_", "buying_stages", problems) for s in _list(v.get("buying_stages"))]
    asset = content_pb2.Asset(
        title=str(v.get("title") or Path(row.path).stem.replace("_", " ").replace("-", " ")),
        description=str(v.get("description") or ""),
        type=_enum(str(v.get("type") or "other"), model.TYPE_VALUES, "ASSET_TYPE_", "type", problems),
        tags=_list(v.get("tags")), products=_list(v.get("products")), personas=_list(v.get("personas")),
        industries=_list(v.get("industries")), regions=_list(v.get("regions")),
        buying_stages=[s for s in stages if s], language=str(v.get("language") or ""), owner=str(v.get("owner") or ""),
        external_id=str(v.get("external_id") or ""),
    )
    if v.get("expires_at"):
        expires = _expires_at(v["expires_at"], problems)
        if expires is not None:
            asset.expires_at.CopyFrom(expires)
    reported = {p.split(":", 1)[0] for p in problems}
    for name in COMPARED:  # the same checks as the server, so a bad row fails before any upload
        if name in reported:
            continue
        try:
            model.field_value(asset, name)
        except InvalidArgument as exc:
            problems.append(exc.message.removeprefix("asset."))
    if problems:
        raise RowError(problems)
    return asset


def check_file(folder: Path, path: str) -> tuple[Path | None, str, list[str]]:
    """(resolved file, content type, problems) of a row's `path`."""
    if not path:
        return None, "", ["path: is required"]
    file_path = (folder / path).resolve()
    if not file_path.is_file():
        return None, "", [f"path: no such file {file_path}"]
    content_type = EXTENSIONS.get(file_path.suffix.lower()) or (mimetypes.guess_type(file_path.name)[0] or "")
    if content_type not in extract.ALLOWED:
        return None, "", [f"path: file type {file_path.suffix or '?'} is not allowed"]
    return file_path, content_type, []


def check_status(row: Row, default_status: str) -> tuple[str, list[str]]:
    status = str(row.values.get("status") or default_status).strip().lower()
    if status not in (model.DRAFT, model.PUBLISHED, model.RETIRED):
        return status, [f"status: unknown value {status!r} (one of draft, published, retired)"]
    return status, []


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

    def check(self, row: Row) -> tuple[content_pb2.Asset, Path, str, str]:
        """(asset, file, content type, status) of a valid row; RowError lists every problem of a bad one."""
        file_path, content_type, problems = check_file(self.folder, row.path)
        status, status_problems = check_status(row, self.default_status)
        problems += status_problems
        try:
            desired = to_asset(row)
        except RowError as exc:
            problems += exc.problems
        if problems or file_path is None:
            raise RowError(problems)
        return desired, file_path, content_type, status

    def import_row(self, row: Row) -> str:
        desired, file_path, content_type, status = self.check(row)
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


@dataclass
class Staged:
    """A checked row: one item of an ImportAssets batch, its file read only when the batch is sent."""

    row: Row
    item: content_pb2.ImportAssetItem  # without the file
    file_path: Path
    size: int

    def with_file(self) -> content_pb2.ImportAssetItem:
        payload = self.file_path.read_bytes()
        item = content_pb2.ImportAssetItem()
        item.CopyFrom(self.item)
        item.file_content = payload
        item.sha256 = hashlib.sha256(payload).hexdigest()
        return item


class BatchImporter:
    """Rows in batches through ImportAssets; every result is mapped back to its row."""

    def __init__(self, importer: Importer, summary: Summary) -> None:
        self.importer = importer
        self.summary = summary
        self.sent = False  # whether any batch reached the service (then a final refresh is due)

    def stage(self, row: Row) -> Staged | None:
        """The row as a batch item; None when its file is too large for a batch (it goes one by one)."""
        desired, file_path, content_type, status = self.importer.check(row)
        size = file_path.stat().st_size
        if size > INLINE_LIMIT:
            return None
        explicit = str(row.values.get("status") or "").strip() or self.importer.default_status != model.DRAFT
        item = content_pb2.ImportAssetItem(
            asset_id=asset_id_for(desired.external_id, row.path), asset=desired,
            status=STATUS_VALUES[status] if explicit else content_pb2.ASSET_STATUS_UNSPECIFIED,
            file_name=file_path.name, content_type=content_type)
        return Staged(row, item, file_path, size)

    def send(self, batch: list[Staged]) -> None:
        """One ImportAssets call; a failure of the whole call fails each of its rows with that reason."""
        try:
            response = self.importer._call(self.importer.stub.ImportAssets,
                                           content_pb2.ImportAssetsRequest(items=[s.with_file() for s in batch]))
        except (grpc.RpcError, OSError) as exc:
            for staged in batch:
                self.summary.fail(staged.row, _reason(exc))
            return
        self.sent = True
        for staged, result in zip(batch, response.results):
            if result.outcome == content_pb2.IMPORT_OUTCOME_FAILED:
                self.summary.fail(staged.row, f"{CODE_NAMES.get(result.error.code, result.error.code)}: "
                                              f"{result.error.message}")
            else:
                self.summary.add(OUTCOME_NAMES[result.outcome])

    def refresh(self) -> None:
        """Make the run's writes searchable before the importer reports success."""
        if not self.sent:
            return
        try:
            self.importer._call(self.importer.stub.ImportAssets, content_pb2.ImportAssetsRequest(refresh=True))
        except grpc.RpcError as exc:  # the rows are stored; only their visibility waits for the next refresh
            print(f"warning: the final index refresh failed ({_reason(exc)}); the imported assets become "
                  "searchable within about a second", file=sys.stderr)


def batches(staged: list[Staged], size: int) -> Iterator[list[Staged]]:
    """Consecutive batches of at most `size` items and BATCH_BYTES of files."""
    batch: list[Staged] = []
    total = 0
    for item in staged:
        length = item.size
        if batch and (len(batch) >= size or total + length > BATCH_BYTES):
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += length
    if batch:
        yield batch


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
        show_progress: bool = True, rows: list[Row] | None = None, batch_size: int = DEFAULT_BATCH,
        settings: config.Settings | None = None) -> Summary:
    """Import every row (read from `metadata_file` unless given); raises cli.InputFileError for an unusable file.

    `batch_size` rows per ImportAssets call (at most MAX_BATCH); 0 imports row by row. `settings`
    (default: the environment's) decide the channel's TLS.
    """
    rows = read_rows(metadata_file) if rows is None else rows
    summary = Summary()
    channel = grpc_server.channel(address, settings)
    try:
        importer = Importer(content_pb2_grpc.ContentServiceStub(channel), auth.bearer_metadata(token), folder,
                            default_status)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool, \
                tqdm(total=len(rows), unit="asset", desc="import", disable=not show_progress) as bar:
            if batch_size:
                _run_batched(importer, rows, min(batch_size, MAX_BATCH), pool, bar, summary)
            else:
                _run_single(importer, rows, pool, bar, summary)
    finally:
        channel.close()
    return summary


def _run_single(importer: Importer, rows: list[Row], pool: ThreadPoolExecutor, bar: tqdm, summary: Summary) -> None:
    """Row by row through the single-asset RPCs (also the path of files too large for a batch)."""
    futures = {pool.submit(importer.import_row, row): row for row in rows}
    for future in as_completed(futures):
        row = futures[future]
        try:
            summary.add(future.result())
        except (RowError, grpc.RpcError, OSError) as exc:
            summary.fail(row, _reason(exc))
        bar.update(1)


def _run_batched(importer: Importer, rows: list[Row], batch_size: int, pool: ThreadPoolExecutor, bar: tqdm,
                 summary: Summary) -> None:
    """Check every row, send the good ones in batches (`workers` calls in flight), then refresh once."""
    batcher = BatchImporter(importer, summary)
    staged: list[Staged] = []
    large: list[Row] = []
    for row in rows:
        try:
            item = batcher.stage(row)
        except (RowError, OSError) as exc:
            summary.fail(row, _reason(exc))
            bar.update(1)
            continue
        if item is None:
            large.append(row)
        else:
            staged.append(item)
    futures = {pool.submit(batcher.send, batch): len(batch) for batch in batches(staged, batch_size)}
    for future in as_completed(futures):
        future.result()
        bar.update(futures[future])
    if large:
        _run_single(importer, large, pool, bar, summary)
    batcher.refresh()


def report(summary: Summary, metadata: Path, rows: int) -> str:
    """The closing summary: rows read, imported by outcome, failed."""
    imported = sum(n for outcome, n in summary.outcomes.items() if outcome != "failed")
    detail = ", ".join(f"{k} {v}" for k, v in sorted(summary.outcomes.items()) if k != "failed")
    return (f"{metadata}: {rows} rows, {imported} imported" + (f" ({detail})" if detail else "")
            + f", {summary.outcomes.get('failed', 0)} failed")


def _batch_size(value: str) -> int:
    """--batch-size: 0 (row by row) to MAX_BATCH."""
    try:
        size = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("not a whole number") from None
    if not 0 <= size <= MAX_BATCH:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_BATCH}")
    return size


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser("python -m services.content.importer", __doc__)
    parser.add_argument("folder", type=Path, help="folder holding the files named by the metadata's `path`")
    parser.add_argument("metadata", type=Path, help="metadata.csv or metadata.json")
    parser.add_argument("--addr", default=None, help="content service address (default COLLATERAL_CONTENT_ADDR)")
    parser.add_argument("--workers", type=cli.positive_int, default=4, help="parallel imports (default 4)")
    parser.add_argument("--batch-size", type=_batch_size, default=DEFAULT_BATCH,
                        help=f"rows per ImportAssets call, 1-{MAX_BATCH} (default {DEFAULT_BATCH}); "
                             "0 imports row by row through the single-asset RPCs")
    parser.add_argument("--status", default="draft", choices=["draft", "published", "retired"],
                        help="status of rows without a status column (default draft)")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        cli.fail(f"{args.folder}: no such folder")
    try:
        rows = read_rows(args.metadata)
    except cli.InputFileError as exc:  # MetadataError, or the file unreadable as text
        cli.fail(str(exc))
    if not rows:
        cli.fail(f"{args.metadata}: no rows to import")
    settings = config.load()
    token = os.environ.get("COLLATERAL_TOKEN") or auth.mint(settings, "importer", auth.Role.ADMIN)
    summary = run(args.folder, args.metadata, args.addr or settings.content_addr, token, args.workers, args.status,
                  rows=rows, batch_size=args.batch_size, settings=settings)
    where = "line" if args.metadata.suffix.lower() != ".json" else "item"
    for number, path, reason in sorted(summary.failures):
        print(f"{args.metadata}: {where} {number} ({path or 'no path'}): {reason}", file=sys.stderr)
    print(report(summary, args.metadata, len(rows)))
    sys.exit(cli.INPUT_ERROR if summary.failures else 0)


if __name__ == "__main__":
    main()
