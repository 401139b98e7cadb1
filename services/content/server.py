"""The content gRPC service: catalog CRUD, files, search and suggestions.

Order of effects in every write, so nothing is half-written: validate everything, then
store the file in S3 (if any), then write the index document (on failure the new S3
object is deleted), then publish the catalog event (only after the index write
succeeded). Reps see published, unexpired assets only; an asset they may not see is
NOT_FOUND to them, so drafts do not leak.
"""

from __future__ import annotations

import io
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import grpc

from collateral.v1 import content_pb2, content_pb2_grpc
from services.common import auth, config, errors, kafka_io, metrics, pagination, topics, validation
from services.common import audit
from services.common import es as es_common
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from services.common import s3 as s3_common
from services.common.grpc_server import Capability, ServiceSpec
from services.content import bulk_import, convert, extract, files, model, publish, sandbox, store, vocabulary

log = logging.getLogger(__name__)

INLINE_MAX_BYTES = 32 * 1024 * 1024
IMPORT_WRITE_ATTEMPTS = 8  # re-plans of an item whose conditional write lost a race (as Store.update)
IMPORT_FILE_THREADS = 8  # files of import batches extracted (sandboxed workers) and put in S3 at once
MAX_SUGGEST_PREFIX = 100
SORT_NAMES = {0: "relevance", 1: "relevance", 2: "newest", 3: "most_used", 4: "best_win_rate"}
READERS = auth.ANY_USER | {auth.Role.SERVICE}


def _sees_all(principal: auth.Principal) -> bool:
    return principal.role in (auth.Role.MARKETER, auth.Role.ADMIN, auth.Role.SERVICE)


def _catalog_upkeep(curator: bool, filters: dict[str, list[str]], include_expired: bool) -> bool:
    """A curator's search of the catalog's drafts, retired or expired assets (the portal's catalog page).

    It is upkeep, not finding content for a customer: it publishes no search event, so it
    never counts as a search impression (unused report) nor as a missed search (content gaps).
    """
    return curator and (include_expired or "status" in filters or "expiry" in filters)


def _check_version(doc: dict[str, Any], expected: int) -> None:
    if expected < 0:
        raise InvalidArgument("expected_version", "must not be negative")
    if expected and doc.get("version") != expected:
        raise FailedPrecondition(
            f"asset {doc['asset_id']} is at version {doc.get('version')}, not {expected}: re-read and retry")


def _bump(doc: dict[str, Any]) -> dict[str, Any]:
    doc["version"] = int(doc.get("version", 0)) + 1
    doc["updated_at"] = model.now_iso()
    return doc


@dataclass
class Prepared:
    """What an upload yields before anything is stored: its text and, for Office files, its PDF."""

    extraction: extract.Extraction
    preview_status: str  # model.PREVIEW_VALUES: ready, none, unavailable
    preview_error: str = ""
    preview_pdf: bytes = b""


@dataclass
class ImportItem:
    """A checked item of ImportAssets; `key`/`prepared` once its file is stored, `stored` once indexed."""

    index: int
    asset_id: str
    desired: dict[str, Any]
    owner_given: bool
    status: str | None
    spooled: files.Spooled
    key: str = ""
    prepared: Prepared | None = None
    stored: bool = False


def _import_result(asset_id: str, outcome: int, version: int) -> content_pb2.ImportAssetResult:
    metrics.CONTENT_IMPORTED.labels(content_pb2.ImportOutcome.Name(outcome).removeprefix("IMPORT_OUTCOME_").lower()).inc()
    return content_pb2.ImportAssetResult(asset_id=asset_id, outcome=outcome, version=version)


def _import_failure(asset_id: str, exc: errors.ServiceError) -> content_pb2.ImportAssetResult:
    metrics.CONTENT_IMPORTED.labels("failed").inc()
    field = exc.field if isinstance(exc, InvalidArgument) and exc.field else ""
    return content_pb2.ImportAssetResult(asset_id=asset_id, outcome=bulk_import.FAILED, error=content_pb2.ImportItemError(
        code=exc.code.value[0], message=exc.message, field=field))


class ContentService(content_pb2_grpc.ContentServiceServicer):
    def __init__(self, settings: config.Settings, index: store.Store, file_store: files.FileStore,
                 publisher: publish.Publisher, processor: sandbox.FileProcessor | None = None,
                 converter: convert.OfficeConverter | None = None,
                 vocabularies: vocabulary.VocabularyStore | None = None) -> None:
        self.settings = settings
        self.store = index
        self.vocabularies = vocabularies or vocabulary.VocabularyStore(settings, index.es)
        self.files = file_store
        self.publisher = publisher
        self.processor = processor or sandbox.FileProcessor.from_settings(settings)
        self.converter = converter or convert.OfficeConverter.from_settings(settings)
        # Shared by every ImportAssets call: bounds concurrent S3 puts below the client's connection pool (10).
        self.import_files = ThreadPoolExecutor(max_workers=IMPORT_FILE_THREADS, thread_name_prefix="import-files")

    # ---- helpers ---------------------------------------------------------------------
    def _visible(self, asset_id: str) -> dict[str, Any]:
        model.check_asset_id(asset_id)
        loc = self.store.get(asset_id, with_body=False)
        if loc is None or not (_sees_all(auth.current_principal()) or model.visible_to_reps(loc.doc)):
            raise NotFound(f"asset {asset_id} not found")
        return loc.doc

    def _change(self, asset_id: str, event_type: str, mutate: Callable[[dict[str, Any]], dict[str, Any] | None]
                ) -> dict[str, Any]:
        model.check_asset_id(asset_id)
        doc, changed = self.store.update(asset_id, mutate)
        if changed:
            self.publisher.catalog(event_type, doc, auth.current_principal().subject)
        return doc

    def _file_entry(self, doc: dict[str, Any], spooled: files.Spooled, key: str,
                    prepared: Prepared, uploader: str) -> dict[str, Any]:
        extraction = prepared.extraction
        entry = {
            "version": len(doc.get("files") or []) + 1,
            "s3_key": key,
            "size_bytes": spooled.size,
            "content_type": spooled.content_type,
            "sha256": spooled.sha256,
            "uploaded_at": model.now_iso(),
            "uploaded_by": uploader,
            "page_count": extraction.page_count,
            "extraction_status": extraction.status,
            "extraction_error": extraction.error,
            "file_name": spooled.file_name,
            "preview_status": prepared.preview_status,
            "preview_error": prepared.preview_error,
        }
        if prepared.preview_pdf:
            entry["preview_key"] = files.FileStore.preview_key_for(key)
        doc.setdefault("files", []).append(entry)
        doc["body"] = extraction.text
        doc["page_count"] = extraction.page_count
        return doc

    def _extract(self, spooled: files.Spooled, file_field: str) -> extract.Extraction:
        """Text of the file, parsed in a sandboxed worker; a file breaking a limit is refused on `file_field`."""
        spooled.data.seek(0)
        result = self.processor.extract(spooled.content_type, spooled.data, file_field)
        spooled.data.seek(0)
        metrics.CONTENT_EXTRACTIONS.labels(result.status).inc()
        if result.status == "failed":
            log.info("text extraction failed", extra={"error": result.error})
        return result

    def _prepare(self, spooled: files.Spooled, file_field: str) -> Prepared:
        """Text of the file and, for an Office file, the PDF its preview is rendered from.

        A file that cannot be converted is stored all the same, marked with the reason;
        the converted PDF then stands in for the original wherever pages matter: its page
        count, and its text when the Office parser found none (spreadsheets, ODF).
        """
        extraction = self._extract(spooled, file_field)  # a refused file never reaches S3
        if spooled.content_type == extract.PDF:
            return Prepared(extraction, "ready")
        if not convert.convertible(spooled.content_type):
            return Prepared(extraction, "none")
        conversion = self.converter.convert(spooled.content_type, spooled.data)
        if conversion is None:
            metrics.CONTENT_OFFICE_CONVERSIONS.labels("busy").inc()
            raise errors.Unavailable("every Office conversion stayed busy for "
                                     f"{convert.format_seconds(self.settings.content_office_timeout_s)}; retry later")
        if conversion.status != convert.READY:
            log.info("office conversion failed", extra={"reason": conversion.reason})
            return Prepared(extraction, "unavailable", conversion.reason)
        return self._with_pdf(extraction, conversion.pdf)

    def _with_pdf(self, extraction: extract.Extraction, pdf: bytes) -> Prepared:
        """Page count (and text, when the original gave none) of a converted PDF, read in the sandbox."""
        try:
            pages = self.processor.extract(extract.PDF, io.BytesIO(pdf), "preview")
        except InvalidArgument as exc:  # the PDF breaks a limit: the original is still stored
            reason = exc.message.removeprefix("preview: the file is refused: ")
            return Prepared(extraction, "unavailable", f"the converted PDF is refused: {reason}")
        if pages.status != "ok" or pages.page_count < 1:
            return Prepared(extraction, "unavailable", f"the converted PDF cannot be read: {pages.error}")
        if extraction.status == "ok" and extraction.text.strip():
            merged = extract.Extraction("ok", extraction.text, pages.page_count)
        else:
            merged = extract.Extraction("ok", pages.text, pages.page_count)
        return Prepared(merged, "ready", preview_pdf=pdf)

    def _store_objects(self, key: str, spooled: files.Spooled, prepared: Prepared) -> None:
        """The original under `key` and, beside it, the converted PDF; nothing is left on failure."""
        self.files.put(key, spooled)
        if prepared.preview_pdf:
            try:
                self.files.put_bytes(files.FileStore.preview_key_for(key), prepared.preview_pdf, extract.PDF)
            except BaseException:
                self.files.delete(key)
                raise

    def _delete_objects(self, key: str) -> None:
        self.files.delete(key)
        self.files.delete(files.FileStore.preview_key_for(key))

    def _add_file(self, asset_id: str, spooled: files.Spooled, expected_version: int, file_field: str
                  ) -> dict[str, Any]:
        """Store a checked file as the asset's new current version (S3, then index)."""
        uploader = auth.current_principal().subject
        prepared = self._prepare(spooled, file_field)
        key = files.FileStore.key_for(asset_id, spooled.file_name)
        self._store_objects(key, spooled, prepared)
        try:
            def mutate(doc: dict[str, Any]) -> dict[str, Any]:
                _check_version(doc, expected_version)
                return _bump(self._file_entry(doc, spooled, key, prepared, uploader))

            doc, _ = self.store.update(asset_id, mutate)
        except BaseException:
            self._delete_objects(key)  # no orphan object without an asset pointing at it
            raise
        self.publisher.catalog("updated", doc, uploader)
        return doc

    # ---- catalog -----------------------------------------------------------------------
    def CreateAsset(self, request: content_pb2.CreateAssetRequest, context: grpc.ServicerContext
                    ) -> content_pb2.CreateAssetResponse:
        principal = auth.current_principal()
        asset_id = model.check_asset_id(request.asset_id) if request.asset_id else uuid.uuid4().hex
        doc = model.new_doc(asset_id, request.asset, principal.subject)
        vocabulary.check_values(doc, self.vocabularies.all_terms(), vocabulary.BY_FIELD)
        spooled = None
        if request.file_content:
            if len(request.file_content) > min(INLINE_MAX_BYTES, self.settings.content_max_file_bytes):
                raise InvalidArgument("file_content", f"inline files are limited to "
                                      f"{min(INLINE_MAX_BYTES, self.settings.content_max_file_bytes)} bytes; "
                                      "use UploadFile or CreateUploadUrl")
            content_type = extract.check_content_type(request.content_type)
            name = files.safe_name(request.file_name)
            sha = files.check_sha(request.sha256)
            spooled = files.spool([request.file_content], content_type, name, self.settings.content_max_file_bytes, sha)
        elif request.sha256 or request.content_type:
            raise InvalidArgument("file_content", "is empty but file metadata was given")
        try:
            if self.store.get(asset_id) is not None:
                raise errors.AlreadyExists(f"asset {asset_id} already exists")
            key = None
            if spooled is not None:
                prepared = self._prepare(spooled, "file_content")
                key = files.FileStore.key_for(asset_id, spooled.file_name)
                self._file_entry(doc, spooled, key, prepared, principal.subject)
                self._store_objects(key, spooled, prepared)
            try:
                self.store.create(doc)
            except BaseException:
                if key:
                    self._delete_objects(key)
                raise
        finally:
            if spooled is not None:
                spooled.close()
        self.publisher.catalog("created", doc, principal.subject)
        return content_pb2.CreateAssetResponse(asset=model.doc_to_proto(doc))

    def GetAsset(self, request: content_pb2.GetAssetRequest, context: grpc.ServicerContext
                 ) -> content_pb2.GetAssetResponse:
        return content_pb2.GetAssetResponse(asset=model.doc_to_proto(self._visible(request.asset_id)))

    def UpdateAsset(self, request: content_pb2.UpdateAssetRequest, context: grpc.ServicerContext
                    ) -> content_pb2.UpdateAssetResponse:
        asset_id = model.check_asset_id(request.asset.asset_id, "asset.asset_id")
        if request.expected_version <= 0:
            raise InvalidArgument("expected_version", "is required: the version you read")
        paths = list(request.update_mask.paths)
        model.apply_mask({"owner": "x"}, request.asset, paths)  # validate before reading
        terms = self.vocabularies.all_terms()

        def mutate(doc: dict[str, Any]) -> dict[str, Any] | None:
            _check_version(doc, request.expected_version)
            changed = vocabulary.check_values(model.apply_mask(doc, request.asset, paths), terms, paths, previous=doc)
            if all(changed.get(p) == doc.get(p) for p in paths):
                return None
            return _bump(changed)

        doc = self._change(asset_id, "updated", mutate)
        return content_pb2.UpdateAssetResponse(asset=model.doc_to_proto(doc))

    def PublishAsset(self, request: content_pb2.PublishAssetRequest, context: grpc.ServicerContext
                     ) -> content_pb2.PublishAssetResponse:
        def mutate(doc: dict[str, Any]) -> dict[str, Any] | None:
            _check_version(doc, request.expected_version)
            if doc["status"] == model.PUBLISHED:
                return None
            if doc["status"] == model.RETIRED:
                raise FailedPrecondition(f"asset {doc['asset_id']} is retired: restore it first")
            if not doc.get("files"):
                raise FailedPrecondition(f"asset {doc['asset_id']} has no file: upload one before publishing")
            doc["status"] = model.PUBLISHED
            doc["published_at"] = doc.get("published_at") or model.now_iso()
            return _bump(doc)

        doc = self._change(request.asset_id, "published", mutate)
        return content_pb2.PublishAssetResponse(asset=model.doc_to_proto(doc))

    def RetireAsset(self, request: content_pb2.RetireAssetRequest, context: grpc.ServicerContext
                    ) -> content_pb2.RetireAssetResponse:
        def mutate(doc: dict[str, Any]) -> dict[str, Any] | None:
            _check_version(doc, request.expected_version)
            if doc["status"] == model.RETIRED:
                return None
            doc["status"] = model.RETIRED
            return _bump(doc)

        doc = self._change(request.asset_id, "retired", mutate)
        return content_pb2.RetireAssetResponse(asset=model.doc_to_proto(doc))

    def RestoreAsset(self, request: content_pb2.RestoreAssetRequest, context: grpc.ServicerContext
                     ) -> content_pb2.RestoreAssetResponse:
        def mutate(doc: dict[str, Any]) -> dict[str, Any] | None:
            _check_version(doc, request.expected_version)
            if doc["status"] == model.DRAFT:
                return None
            if doc["status"] != model.RETIRED:
                raise FailedPrecondition(f"asset {doc['asset_id']} is {doc['status']}: only retired assets are restored")
            doc["status"] = model.DRAFT
            return _bump(doc)

        doc = self._change(request.asset_id, "restored", mutate)
        return content_pb2.RestoreAssetResponse(asset=model.doc_to_proto(doc))

    def ListAssets(self, request: content_pb2.ListAssetsRequest, context: grpc.ServicerContext
                   ) -> content_pb2.ListAssetsResponse:
        principal = auth.current_principal()
        curator = _sees_all(principal)
        size = pagination.clamp_page_size(request.page_size)
        statuses = [model.enum_name(s, model.STATUS_NAMES, f"statuses[{i}]")
                    for i, s in enumerate(validation.bounded(request.statuses, "statuses", validation.MAX_FILTER_VALUES))]
        if not curator and any(s != model.PUBLISHED for s in statuses):
            raise PermissionDenied("reps only see published assets")
        owner = validation.text(request.owner, "owner", model.MAX_ITEM_CHARS)
        fp = store.fingerprint("list", curator, sorted(statuses), owner)
        after = self._cursor(request.page_token, fp)
        result = self.store.search(store.build_list(curator, statuses, owner, size, after))
        hits = store.dedupe_hits(result["hits"]["hits"])
        raw = result["hits"]["hits"]
        token = pagination.encode(self.settings.auth_secret, {"f": fp, "a": raw[-1]["sort"]}) if len(raw) == size else ""
        return content_pb2.ListAssetsResponse(
            assets=[model.doc_to_proto(h["_source"]) for h in hits], next_page_token=token,
            total_size=result["hits"]["total"]["value"])

    def _cursor(self, token: str, fp: str) -> list[Any] | None:
        cursor = pagination.decode(self.settings.auth_secret, token)
        if cursor is None:
            return None
        if not isinstance(cursor, dict) or cursor.get("f") != fp or not isinstance(cursor.get("a"), list):
            raise InvalidArgument("page_token", "does not belong to this query; start again without a token")
        return cursor["a"]

    # ---- files -----------------------------------------------------------------------------
    def UploadFile(self, request_iterator: Iterator[content_pb2.UploadFileRequest], context: grpc.ServicerContext
                   ) -> content_pb2.UploadFileResponse:
        first = next(request_iterator, None)
        if first is None or first.WhichOneof("part") != "header":
            raise InvalidArgument("header", "the first message must carry the header")
        header = first.header
        asset_id = model.check_asset_id(header.asset_id, "header.asset_id")
        content_type = extract.check_content_type(header.content_type, "header.content_type")
        name = files.safe_name(header.file_name, "header.file_name")
        sha = files.check_sha(header.sha256, "header.sha256")
        limit = self.settings.content_max_file_bytes
        if header.size_bytes < 0 or header.size_bytes > limit:
            raise InvalidArgument("header.size_bytes", f"must be between 0 and {limit}")
        doc = self.store.require(asset_id).doc  # before reading megabytes for nothing
        _check_version(doc, header.expected_version)

        def chunks() -> Iterator[bytes]:
            for message in request_iterator:
                if message.WhichOneof("part") != "chunk":
                    raise InvalidArgument("chunk", "only chunks may follow the header")
                yield message.chunk

        spooled = files.spool(chunks(), content_type, name, limit, sha, header.size_bytes, field_prefix="header.")
        try:
            doc = self._add_file(asset_id, spooled, header.expected_version, "chunk")
        finally:
            spooled.close()
        return content_pb2.UploadFileResponse(asset=model.doc_to_proto(doc))

    def CreateUploadUrl(self, request: content_pb2.CreateUploadUrlRequest, context: grpc.ServicerContext
                        ) -> content_pb2.CreateUploadUrlResponse:
        asset_id = model.check_asset_id(request.asset_id)
        content_type = extract.check_content_type(request.content_type)
        name = files.safe_name(request.file_name)
        sha = files.check_sha(request.sha256)
        limit = self.settings.content_max_file_bytes
        if request.size_bytes <= 0 or request.size_bytes > limit:
            raise InvalidArgument("size_bytes", f"must be between 1 and {limit}")
        self.store.require(asset_id)
        key = files.FileStore.incoming_key(asset_id, uuid.uuid4().hex, name)
        ttl = self.settings.content_upload_url_ttl_s
        expires = int(time.time()) + ttl
        url = self.files.presign_put(key, content_type, ttl)
        upload_id = pagination.encode(self.settings.auth_secret, {
            "kind": "upload", "a": asset_id, "k": key, "ct": content_type, "n": name, "s": request.size_bytes,
            "h": sha, "exp": expires})
        response = content_pb2.CreateUploadUrlResponse(upload_url=url, upload_id=upload_id,
                                                       headers={"Content-Type": content_type})
        response.expire_time.FromSeconds(expires)
        return response

    def CompleteUpload(self, request: content_pb2.CompleteUploadRequest, context: grpc.ServicerContext
                       ) -> content_pb2.CompleteUploadResponse:
        if not request.upload_id:
            raise InvalidArgument("upload_id", "is required")
        ticket = pagination.decode(self.settings.auth_secret, request.upload_id, field="upload_id")
        if not isinstance(ticket, dict) or ticket.get("kind") != "upload":
            raise InvalidArgument("upload_id", "is not an upload id")
        asset_id, incoming = ticket["a"], ticket["k"]
        head = self.files.head(incoming)
        if head is None:
            raise FailedPrecondition("nothing was uploaded for this upload_id (or it was completed already)")
        try:
            if head["ContentLength"] != ticket["s"]:
                raise InvalidArgument("upload_id", f"uploaded {head['ContentLength']} bytes, declared {ticket['s']}")
            spooled = files.spool(self.files.stream(incoming), ticket["ct"], ticket["n"],
                                  self.settings.content_max_file_bytes, ticket["h"], ticket["s"])
            try:
                doc = self._add_file(asset_id, spooled, request.expected_version, "upload_id")
            finally:
                spooled.close()
        finally:
            self.files.delete(incoming)
        return content_pb2.CompleteUploadResponse(asset=model.doc_to_proto(doc))

    def _file(self, doc: dict[str, Any], version: int) -> dict[str, Any]:
        versions = doc.get("files") or []
        if not versions:
            raise FailedPrecondition(f"asset {doc['asset_id']} has no file")
        if version < 0 or version > len(versions):
            raise InvalidArgument("file_version", f"must be between 0 and {len(versions)}")
        return versions[version - 1] if version else versions[-1]

    def GetDownloadUrl(self, request: content_pb2.GetDownloadUrlRequest, context: grpc.ServicerContext
                       ) -> content_pb2.GetDownloadUrlResponse:
        doc = self._visible(request.asset_id)
        entry = self._file(doc, request.file_version)
        ttl = self.settings.content_download_url_ttl_s
        url = self.files.presign_get(entry["s3_key"], entry["file_name"], entry["content_type"], ttl)
        response = content_pb2.GetDownloadUrlResponse(url=url, file=model.file_to_proto(entry))
        response.expire_time.FromSeconds(int(time.time()) + ttl)
        return response

    def RenderPage(self, request: content_pb2.RenderPageRequest, context: grpc.ServicerContext
                   ) -> content_pb2.RenderPageResponse:
        doc = self._visible(request.asset_id)
        entry = self._file(doc, request.file_version)
        width = request.width or 1200
        if not 100 <= width <= 2000:
            raise InvalidArgument("width", "must be between 100 and 2000")
        source = _pages_source(entry)
        pages = int(entry.get("page_count") or 0)
        if request.page < 1 or (pages and request.page > pages):
            raise InvalidArgument("page", f"must be between 1 and {pages or 'the page count'}")
        cache_key = f"renders/{source}/w{width}/p{request.page}.png"
        png = self.files.read(cache_key)
        if png is None:
            pdf = self.files.read(source)
            if pdf is None:
                raise errors.Unavailable(f"file of asset {doc['asset_id']} is missing from storage")
            png, pages = self.processor.render(pdf, request.page, width, f"file version {entry['version']}")
            self.files.put_bytes(cache_key, png, "image/png")
        return content_pb2.RenderPageResponse(png=png, page_count=pages, file_version=entry["version"])

    # ---- search --------------------------------------------------------------------------------
    def _filters(self, f: content_pb2.SearchFilters, curator: bool) -> dict[str, list[str]]:
        out = {
            "type": [model.enum_name(v, model.TYPE_NAMES, f"filters.types[{i}]") for i, v in enumerate(f.types)],
            "buying_stage": [model.enum_name(v, model.STAGE_NAMES, f"filters.buying_stages[{i}]")
                             for i, v in enumerate(f.buying_stages)],
            "status": [model.enum_name(v, model.STATUS_NAMES, f"filters.statuses[{i}]") for i, v in enumerate(f.statuses)],
        }
        for facet, values, lower in (("industry", f.industries, True), ("region", f.regions, True),
                                     ("product", f.products, False), ("persona", f.personas, False),
                                     ("language", f.languages, True), ("tag", f.tags, True), ("owner", f.owners, False)):
            plural = {"industry": "industries", "region": "regions", "product": "products", "persona": "personas",
                      "language": "languages", "tag": "tags", "owner": "owners"}[facet]
            out[facet] = model.strings(values, f"filters.{plural}", lower)
        if f.expiry:
            out["expiry"] = [model.enum_name(f.expiry, model.EXPIRY_NAMES, "filters.expiry")]
        if not curator and (out["status"] or f.include_expired or f.expiry):
            raise PermissionDenied("reps only search published, unexpired assets")
        return {k: v for k, v in out.items() if v}

    def SearchAssets(self, request: content_pb2.SearchAssetsRequest, context: grpc.ServicerContext
                     ) -> content_pb2.SearchAssetsResponse:
        principal = auth.current_principal()
        curator = _sees_all(principal)
        query = model.check_query(request.query)
        size = pagination.clamp_page_size(request.page_size)
        if request.sort not in SORT_NAMES:
            raise InvalidArgument("sort", f"unknown value {request.sort}")
        sort = SORT_NAMES[request.sort]
        filters = self._filters(request.filters, curator)
        include_expired = curator and (request.filters.include_expired
                                       or request.filters.expiry == content_pb2.EXPIRY_WINDOW_EXPIRED)
        fp = store.fingerprint("search", query, filters, sort, curator, include_expired)
        page = _search_page(self.settings.auth_secret, request.page_token, fp, sort)
        # Facets describe the whole result set: computed for the first page only.
        # The vocabularies (facet labels) travel in the same `_msearch` as the first page.
        found = self.store.search_assets(query, filters, curator, sort, size, page.after, page.offset,
                                         include_expired, facets=page.first, fuzzy=page.fuzzy,
                                         also=[(self.vocabularies.alias, vocabulary.ALL_TERMS)] if page.first else [])
        raw = found.hits
        total = found.total
        response = content_pb2.SearchAssetsResponse(total_size=total, search_id=uuid.uuid4().hex)
        for hit in store.dedupe_hits(raw):
            highlight = hit.get("highlight", {})
            response.hits.add(asset=model.doc_to_proto(hit["_source"]), score=float(hit.get("_score") or 0.0),
                              title_highlights=highlight.get("title", []),
                              body_highlights=highlight.get("description", []) + highlight.get("body", []))
        terms = vocabulary.Terms.of(h["_source"] for a in found.also for h in a["hits"]["hits"])
        for facet, values in store.facet_counts(found.aggregations):
            response.facets.add(field=facet, values=[_facet_value(terms, facet, v, c) for v, c in values])
        if len(raw) == size and (sort != store.RELEVANCE or page.offset + 2 * size <= store.MAX_RESULT_WINDOW):
            cursor: dict[str, Any] = {"f": fp, "z": int(found.fuzzy)}
            if sort == store.RELEVANCE:
                cursor["o"] = page.offset + size
            else:
                cursor["a"] = raw[-1]["sort"]
            response.next_page_token = pagination.encode(self.settings.auth_secret, cursor)
        if page.first and not _catalog_upkeep(curator, filters, include_expired):
            metrics.CONTENT_SEARCHES.labels("found" if total else "zero_result").inc()
            self.publisher.search(publish.search_event(
                response.search_id, principal.subject, principal.role.value, query, filters, sort, total,
                [h.asset.asset_id for h in response.hits]))
        return response

    def Suggest(self, request: content_pb2.SuggestRequest, context: grpc.ServicerContext
                ) -> content_pb2.SuggestResponse:
        curator = _sees_all(auth.current_principal())
        prefix = request.prefix.strip()
        if not prefix:
            raise InvalidArgument("prefix", "is required")
        if len(prefix) > MAX_SUGGEST_PREFIX:
            raise InvalidArgument("prefix", f"at most {MAX_SUGGEST_PREFIX} characters")
        limit = pagination.clamp_page_size(request.limit, default=8, maximum=20, field="limit")
        result = self.store.search(store.build_suggest(prefix, limit, curator))
        options = result.get("suggest", {}).get("titles", [{}])[0].get("options", [])
        visible = (lambda source: True) if curator else model.visible_to_reps
        response = content_pb2.SuggestResponse()
        for asset_id, title in store.pick_suggestions(options, limit, visible):
            # The full title, never the matched completion input (a suffix, a tag, or cut short).
            response.suggestions.add(text=title, asset_id=asset_id, title=title)
        return response


    # ---- bulk import -----------------------------------------------------------------------------
    def ImportAssets(self, request: content_pb2.ImportAssetsRequest, context: grpc.ServicerContext
                     ) -> content_pb2.ImportAssetsResponse:
        """Create or update a batch of assets: the single path's checks per item, one bulk index write.

        Items fail one by one (their result carries the status); only a malformed batch is
        INVALID_ARGUMENT and an outage UNAVAILABLE as a whole. Writes use no refresh:
        `refresh` makes everything written so far searchable before the answer.
        """
        bulk_import.check_batch(request)
        subject = auth.current_principal().subject
        results: dict[int, content_pb2.ImportAssetResult] = {}
        items: list[ImportItem] = []
        try:
            for i, item in enumerate(request.items):
                try:
                    items.append(self._check_import_item(i, item, subject))
                except errors.ServiceError as exc:
                    results[i] = _import_failure(item.asset_id, exc)
            if items:
                self._import(items, subject, results)
        finally:
            for item in items:
                item.spooled.close()
                if item.key and not item.stored:
                    self._delete_objects(item.key)  # no orphan object without an asset pointing at it
        if request.refresh:
            self.store.refresh()
        return content_pb2.ImportAssetsResponse(results=[results[i] for i in range(len(request.items))])

    def _check_import_item(self, index: int, item: content_pb2.ImportAssetItem, subject: str) -> ImportItem:
        """Everything CreateAsset checks of an inline file and its metadata; raises on the first problem."""
        asset_id = model.check_asset_id(item.asset_id)
        desired = model.new_doc(asset_id, item.asset, subject)
        status = bulk_import.wanted_status(item.status)
        if not item.file_content:
            raise InvalidArgument("file_content", "is required")
        content_type = extract.check_content_type(item.content_type)
        name = files.safe_name(item.file_name)
        sha = files.check_sha(item.sha256)
        if not sha:
            raise InvalidArgument("sha256", "is required: it tells an unchanged file from a new one")
        spooled = files.spool([item.file_content], content_type, name, self.settings.content_max_file_bytes, sha)
        return ImportItem(index, asset_id, desired, bool(item.asset.owner.strip()), status, spooled)

    def _import(self, pending: list[ImportItem], subject: str, results: dict[int, content_pb2.ImportAssetResult]
                ) -> None:
        """Plan, store files, write the batch conditionally; re-plan the items that lost a race; then the events."""
        terms = self.vocabularies.all_terms()
        changes: list[tuple[str, dict[str, Any]]] = []
        for _ in range(IMPORT_WRITE_ATTEMPTS):
            current = self.store.get_many([item.asset_id for item in pending], with_body=True)
            writes = self._plan_imports(pending, current, terms, results)
            self._store_import_files([item for item, plan, _ in writes if plan.needs_file], results)
            writes = [(item, plan, loc) for item, plan, loc in writes if item.index not in results]
            for item, plan, _ in writes:
                if plan.needs_file:
                    assert item.prepared is not None
                    self._file_entry(plan.doc, item.spooled, item.key, item.prepared, subject)
            refused = self.store.write_many([(plan.doc, loc) for _, plan, loc in writes]) if writes else {}
            pending = []
            for item, plan, _ in writes:
                reason = refused.get(item.asset_id)
                if reason is None:
                    item.stored = plan.needs_file
                    results[item.index] = _import_result(item.asset_id, plan.outcome, plan.doc["version"])
                    changes.append((plan.event_type, plan.doc))
                elif reason == "conflict":
                    pending.append(item)
                else:
                    results[item.index] = _import_failure(item.asset_id, FailedPrecondition(
                        f"the index refused asset {item.asset_id}: {reason}"))
            if not pending:
                break
        for item in pending:
            results[item.index] = _import_failure(item.asset_id, errors.Unavailable(
                f"asset {item.asset_id} is changing too often; retry"))
        self.publisher.catalog_many(changes, subject)

    def _plan_imports(self, items: list[ImportItem], current: dict[str, store.Located], terms: vocabulary.Terms,
                      results: dict[int, content_pb2.ImportAssetResult]
                      ) -> list[tuple[ImportItem, bulk_import.Plan, store.Located | None]]:
        """The items that change something, each with its plan; the others get their result here."""
        writes = []
        for item in items:
            loc = current.get(item.asset_id)
            try:
                plan = bulk_import.plan(item.desired, item.owner_given, item.status, item.spooled.sha256,
                                        loc.doc if loc else None, terms)
            except errors.ServiceError as exc:
                results[item.index] = _import_failure(item.asset_id, exc)
                continue
            if plan.doc is None:
                assert loc is not None
                results[item.index] = _import_result(item.asset_id, plan.outcome, int(loc.doc.get("version", 0)))
                continue
            writes.append((item, plan, loc))
        return writes

    def _store_import_files(self, items: list[ImportItem], results: dict[int, content_pb2.ImportAssetResult]
                            ) -> None:
        """Extract (sandboxed workers) and store in S3 the items' files, several at once."""
        todo = [item for item in items if not item.key]  # an item re-planned after a lost race keeps its file
        if not todo:
            return
        outcomes = list(self.import_files.map(self._store_import_file, todo))
        for item, failure in zip(todo, outcomes):
            if failure is not None:
                results[item.index] = _import_failure(item.asset_id, failure)

    def _store_import_file(self, item: ImportItem) -> errors.ServiceError | None:
        """Prepare and store one item's file; a refused file is the item's failure, not the batch's."""
        try:
            prepared = self._prepare(item.spooled, "file_content")
            key = files.FileStore.key_for(item.asset_id, item.spooled.file_name)
            self._store_objects(key, item.spooled, prepared)
        except errors.ServiceError as exc:
            return exc
        item.key, item.prepared = key, prepared
        return None

    # ---- vocabularies ----------------------------------------------------------------------------
    def ListVocabularies(self, request: content_pb2.ListVocabulariesRequest, context: grpc.ServicerContext
                         ) -> content_pb2.ListVocabulariesResponse:
        names = list(dict.fromkeys(vocabulary.check_vocabulary(n, f"names[{i}]").name
                                   for i, n in enumerate(request.names[:100])))
        if len(request.names) > 100:
            raise InvalidArgument("names", "at most 100 values")
        terms = self.vocabularies.all_terms()
        response = content_pb2.ListVocabulariesResponse()
        for spec in vocabulary.SPECS:
            if names and spec.name not in names:
                continue
            response.vocabularies.add(
                name=spec.name, label=spec.label, asset_field=spec.asset_field, fixed_codes=spec.fixed_codes,
                terms=[vocabulary.term_to_proto(t) for t in terms.terms(spec.name, request.include_retired)])
        return response

    def CreateTerm(self, request: content_pb2.CreateTermRequest, context: grpc.ServicerContext
                   ) -> content_pb2.CreateTermResponse:
        doc = vocabulary.new_term(request.term, auth.current_principal().subject)
        return content_pb2.CreateTermResponse(term=vocabulary.term_to_proto(self.vocabularies.create(doc)))

    def UpdateTerm(self, request: content_pb2.UpdateTermRequest, context: grpc.ServicerContext
                   ) -> content_pb2.UpdateTermResponse:
        spec = vocabulary.check_vocabulary(request.term.vocabulary)
        code = vocabulary.check_code(request.term.code)
        paths = vocabulary.check_mask(list(request.update_mask.paths))
        if request.expected_version < 0:
            raise InvalidArgument("expected_version", "must not be negative")
        vocabulary.apply_term_mask({}, request.term, paths, "")  # validate before reading
        actor = auth.current_principal().subject

        def mutate(doc: dict[str, Any]) -> dict[str, Any] | None:
            if request.expected_version and doc.get("version") != request.expected_version:
                raise FailedPrecondition(f"term {code!r} is at version {doc.get('version')}, "
                                         f"not {request.expected_version}: re-read and retry")
            return vocabulary.apply_term_mask(doc, request.term, paths, actor)

        doc = self.vocabularies.update(spec.name, code, mutate)
        return content_pb2.UpdateTermResponse(term=vocabulary.term_to_proto(doc))

    def RetireTerm(self, request: content_pb2.RetireTermRequest, context: grpc.ServicerContext
                   ) -> content_pb2.RetireTermResponse:
        spec = vocabulary.check_vocabulary(request.vocabulary, "vocabulary")
        code = vocabulary.check_code(request.code, "code")
        actor = auth.current_principal().subject

        def mutate(doc: dict[str, Any]) -> dict[str, Any] | None:
            if doc.get("retired"):
                return None
            return {**doc, "retired": True, "version": int(doc.get("version", 0)) + 1,
                    "updated_at": model.now_iso(), "updated_by": actor}

        doc = self.vocabularies.update(spec.name, code, mutate)
        return content_pb2.RetireTermResponse(term=vocabulary.term_to_proto(doc))


@dataclass(frozen=True)
class SearchPage:
    """Where a SearchAssets page starts: after the sort values `after` (field sorts) or at
    `offset` (relevance), and whether the first page ran typo-tolerant (None: first page)."""

    after: list[Any] | None = None
    offset: int = 0
    fuzzy: bool | None = None

    @property
    def first(self) -> bool:
        return self.fuzzy is None


def _search_page(secret: str, token: str, fp: str, sort: str) -> SearchPage:
    """The page a SearchAssets token points at; INVALID_ARGUMENT for a token of another query."""
    cursor = pagination.decode(secret, token)
    if cursor is None:
        return SearchPage()
    if not isinstance(cursor, dict) or cursor.get("f") != fp or cursor.get("z") not in (0, 1):
        raise InvalidArgument("page_token", "does not belong to this query; start again without a token")
    if sort == store.RELEVANCE:
        offset = cursor.get("o")
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 < offset < store.MAX_RESULT_WINDOW:
            raise InvalidArgument("page_token", "does not belong to this query; start again without a token")
        return SearchPage(offset=offset, fuzzy=bool(cursor["z"]))
    if not isinstance(cursor.get("a"), list):
        raise InvalidArgument("page_token", "does not belong to this query; start again without a token")
    return SearchPage(after=cursor["a"], fuzzy=bool(cursor["z"]))


def _facet_value(terms: vocabulary.Terms, facet: str, value: str, count: int) -> content_pb2.FacetValue:
    """A facet bucket with its vocabulary label (empty for free-text facets and unknown values)."""
    term = terms.term(facet, value)
    return content_pb2.FacetValue(value=value, count=count, label=str(term["label"]) if term else "",
                                  retired=bool(term and term.get("retired")))


def _pages_source(entry: dict[str, Any]) -> str:
    """S3 key of the PDF a file version's pages are rendered from: the file, or its converted PDF."""
    status = model.preview_status(entry)
    if status == "ready":
        return str(entry.get("preview_key") or entry["s3_key"])
    if status == "unavailable":
        raise FailedPrecondition(f"file version {entry['version']} has no preview: "
                                 f"{entry.get('preview_error') or 'it could not be converted to PDF'}")
    raise FailedPrecondition(f"file version {entry['version']} is {entry['content_type']}, not a PDF "
                             "or an Office document: it has no page preview")


ACCESS = {
    "CreateAsset": auth.CURATORS,
    "UpdateAsset": auth.CURATORS,
    "PublishAsset": auth.CURATORS,
    "RetireAsset": auth.CURATORS,
    "RestoreAsset": auth.CURATORS,
    "UploadFile": auth.CURATORS,
    "CreateUploadUrl": auth.CURATORS,
    "CompleteUpload": auth.CURATORS,
    "GetAsset": READERS,
    "ListAssets": READERS,
    "GetDownloadUrl": auth.ANY_USER,
    "RenderPage": auth.ANY_USER,
    "SearchAssets": auth.ANY_USER,
    "Suggest": auth.ANY_USER,
    "ListVocabularies": READERS,
    "CreateTerm": auth.CURATORS,
    "UpdateTerm": auth.CURATORS,
    "RetireTerm": auth.CURATORS,
    "ImportAssets": auth.CURATORS,
}


def audited(servicer: ContentService) -> dict[str, audit.Audited]:
    """How each state-changing RPC is recorded in the audit log: its target and the stored document."""

    def asset(asset_id: str) -> dict[str, Any] | None:
        located = servicer.store.get(asset_id, with_body=False)
        return located.doc if located else None

    def term(term_id: str) -> dict[str, Any] | None:
        return servicer.vocabularies.es.get(index=servicer.vocabularies.alias, id=term_id)["_source"]

    def term_of(message: Any) -> list[str]:
        return [vocabulary.doc_id(message.vocabulary, message.code)] if message.vocabulary and message.code else []

    def import_results(request: Any, response: Any) -> list[tuple[str, str]]:
        return [(r.asset_id, content_pb2.ImportOutcome.Name(r.outcome).removeprefix("IMPORT_OUTCOME_"))
                for r in response.results]

    def upload_target(message: Any) -> list[str]:
        return [message.header.asset_id] if message.WhichOneof("part") == "header" else []

    def ticket_asset(request: Any) -> list[str]:
        ticket = pagination.decode(servicer.settings.auth_secret, request.upload_id, field="upload_id")
        return [str(ticket["a"])] if isinstance(ticket, dict) and ticket.get("a") else []

    by_asset_id = audit.field_of("asset_id")
    return {
        "CreateAsset": audit.Audited("asset", asset, by_asset_id, audit.response_field("asset", "asset_id")),
        "UpdateAsset": audit.Audited("asset", asset, audit.field_of("asset", "asset_id")),
        "PublishAsset": audit.Audited("asset", asset, by_asset_id),
        "RetireAsset": audit.Audited("asset", asset, by_asset_id),
        "RestoreAsset": audit.Audited("asset", asset, by_asset_id),
        "UploadFile": audit.Audited("asset", asset, upload_target, streaming=True),
        "CreateUploadUrl": audit.Audited("asset", asset, by_asset_id),
        "CompleteUpload": audit.Audited("asset", asset, ticket_asset),
        "ImportAssets": audit.Audited("asset", asset, lambda r: [i.asset_id for i in r.items], import_results),
        "CreateTerm": audit.Audited("term", term, lambda r: term_of(r.term)),
        "UpdateTerm": audit.Audited("term", term, lambda r: term_of(r.term)),
        "RetireTerm": audit.Audited("term", term, term_of),
    }


def ensure_resources(settings: config.Settings, index: store.Store, file_store: files.FileStore) -> None:
    """Index + alias, bucket and topics (idempotent; runs at every start)."""
    index.ensure()
    vocabulary.VocabularyStore(settings, index.es).ensure()
    file_store.ensure()
    kafka_io.ensure_topics(settings, [t.name(settings) for t in (topics.CATALOG, topics.SEARCHES, topics.SIGNALS,
                                                                 topics.CONTENT_DLQ)])


# Health names `collateral.v1.ContentService/<capability>`; the server's status follows
# search (finding and reading assets), which needs only Elasticsearch.
CAPABILITIES = {
    "search": Capability.of({"elasticsearch"}, {"SearchAssets", "Suggest", "GetAsset", "ListAssets", "GetDownloadUrl",
                                                 "ListVocabularies"}),
    "vocabularies": Capability.of({"elasticsearch"}, {"CreateTerm", "UpdateTerm", "RetireTerm"}),
    "catalog": Capability.of({"elasticsearch", "kafka"},
                             {"CreateAsset", "UpdateAsset", "PublishAsset", "RetireAsset", "RestoreAsset"}),
    "files": Capability.of({"elasticsearch", "s3", "kafka"},
                           {"UploadFile", "CreateUploadUrl", "CompleteUpload", "RenderPage", "ImportAssets"}),
}


def build_spec(settings: config.Settings) -> ServiceSpec:
    """The content server; it contacts no dependency here (the health loop sets them up)."""
    index = store.Store(settings)
    file_store = files.FileStore(settings)
    publisher = publish.Publisher(settings)
    processor = sandbox.FileProcessor.from_settings(settings)
    converter = convert.OfficeConverter.from_settings(settings)
    vocabularies = vocabulary.VocabularyStore(settings, index.es)
    servicer = ContentService(settings, index, file_store, publisher, processor, converter, vocabularies)
    timeout_s = settings.health_probe_timeout_s
    s3_probe = s3_common.probe_client(settings, timeout_s)
    kafka_probe = kafka_io.TopicsProbe(settings, [t.name(settings) for t in (topics.CATALOG, topics.SEARCHES)], timeout_s)
    return ServiceSpec(
        name="content",
        full_name="collateral.v1.ContentService",
        register=lambda server: content_pb2_grpc.add_ContentServiceServicer_to_server(servicer, server),
        access=ACCESS,
        audited=audited(servicer),
        default_port=50051,
        default_metrics_port=9464,
        probes={
            "elasticsearch": lambda: es_common.reachable(index.es, timeout_s),
            "s3": lambda: s3_common.reachable(s3_probe, settings.s3_bucket),
            "kafka": kafka_probe,
        },
        set_up={
            "elasticsearch": lambda: (index.ensure(), vocabularies.ensure()),
            "s3": file_store.ensure,
            "kafka": lambda: kafka_io.ensure_topics(settings, [t.name(settings) for t in (
                topics.CATALOG, topics.SEARCHES, topics.SIGNALS, topics.CONTENT_DLQ)]),
        },
        capabilities=CAPABILITIES,
        core="search",
        on_shutdown=[publisher.close, index.es.close, kafka_probe.close, processor.close, servicer.import_files.shutdown],
    )
