"""Marketers curate the catalog: upload, edit, publish, retire, restore (server-side role check)."""

from __future__ import annotations

import mimetypes
import re
import time
from datetime import datetime, timezone
from typing import Any, Iterator

import grpc
from flask import (Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from google.protobuf import field_mask_pb2

from collateral.v1 import common_pb2, content_pb2
from services.portal import bulk_actions, catalog_page, helpers, vocabularies
from services.portal.security import curator_required, rpc

bp = Blueprint("marketer", __name__, url_prefix="/manage")

INLINE_MAX = 32 * 1024 * 1024
CHUNK = 1024 * 1024
LIST_FIELDS = ("tags",)
# Picked from the managed vocabularies (checkbox lists); each value is a term's code.
TERM_FIELDS = vocabularies.LIST_FIELDS
TEXT_FIELDS = ("title", "description", "language", "owner", "external_id")
MASKABLE = ("title", "description", "type", "tags", "products", "buying_stages", "personas", "industries",
            "regions", "language", "owner", "expires_at", "external_id")
THUMB_WIDTH = 240  # catalog thumbnails: one cached rendition size for every row
STATUS_TABS = [("", "All"), ("draft", "Drafts"), ("published", "Published"), ("retired", "Retired")]


def split_list(raw: str) -> list[str]:
    return [v.strip() for v in re.split(r"[,\n]", raw or "") if v.strip()][:50]


def asset_from_form(form: Any) -> tuple[content_pb2.Asset, dict[str, str]]:
    """The Asset a form describes, and errors the portal can tell without asking the service."""
    errors: dict[str, str] = {}
    asset = content_pb2.Asset()
    for name in TEXT_FIELDS:
        setattr(asset, name, (form.get(name) or "").strip())
    for name in LIST_FIELDS:
        getattr(asset, name).extend(split_list(form.get(name, "")))
    for name in TERM_FIELDS:
        getattr(asset, name).extend(picked(form, name))
    kind = form.get("type") or ""
    try:
        asset.type = content_pb2.AssetType.Value("ASSET_TYPE_" + kind.upper()) if kind else 0
    except ValueError:
        errors["type"] = "Pick a type."
    for stage in form.getlist("buying_stages"):
        try:
            asset.buying_stages.append(common_pb2.BuyingStage.Value("BUYING_STAGE_" + stage.upper()))
        except ValueError:
            errors["buying_stages"] = "Unknown buying stage."
    expires = (form.get("expires_at") or "").strip()
    if expires:
        try:
            day = datetime.strptime(expires, "%Y-%m-%d").replace(tzinfo=timezone.utc)
            asset.expires_at.CopyFrom(helpers.timestamp(day))
        except ValueError:
            errors["expires_at"] = "Use a date like 2027-01-31."
    return asset, errors


def picked(form: Any, name: str) -> list[str]:
    """Codes checked in a term picker (a comma-separated value, as scripts may post, is split)."""
    return list(dict.fromkeys(v for raw in form.getlist(name) for v in split_list(raw)))[:50]


def form_from_asset(asset: Any) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(asset, name) for name in TEXT_FIELDS}
    for name in LIST_FIELDS:
        data[name] = ", ".join(getattr(asset, name))
    for name in TERM_FIELDS:
        data[name] = list(getattr(asset, name))
    data["type"] = content_pb2.AssetType.Name(asset.type)[len("ASSET_TYPE_"):].lower() if asset.type else ""
    data["buying_stages"] = [common_pb2.BuyingStage.Name(s)[len("BUYING_STAGE_"):].lower()
                             for s in asset.buying_stages]
    data["expires_at"] = asset.expires_at.ToDatetime().strftime("%Y-%m-%d") if asset.HasField("expires_at") else ""
    return data


def form_dict(form: Any) -> dict[str, Any]:
    data = {k: form.get(k, "") for k in form.keys()}
    data["buying_stages"] = form.getlist("buying_stages")
    for name in TERM_FIELDS:
        data[name] = picked(form, name)
    return data


def content_type_of(upload: Any) -> str:
    guessed = mimetypes.guess_type(upload.filename or "")[0]
    given = (upload.mimetype or "").split(";")[0].strip()
    if given and given != "application/octet-stream":
        return given
    return guessed or "application/octet-stream"


def upload_chunks(asset_id: str, upload: Any, expected_version: int) -> Iterator[content_pb2.UploadFileRequest]:
    yield content_pb2.UploadFileRequest(header=content_pb2.UploadFileHeader(
        asset_id=asset_id, file_name=(upload.filename or "file")[-200:], content_type=content_type_of(upload),
        expected_version=expected_version))
    while True:
        chunk = upload.stream.read(CHUNK)
        if not chunk:
            break
        yield content_pb2.UploadFileRequest(chunk=chunk)


def upload_file(asset_id: str, upload: Any, expected_version: int = 0) -> Any:
    from flask import current_app, g

    backends = current_app.extensions["collateral_backends"]
    return backends.stream("content", "UploadFile", upload_chunks(asset_id, upload, expected_version),
                           subject=g.user.email, role=g.user.role).asset


def _file_errors(exc: grpc.RpcError) -> dict[str, str]:
    found = helpers.violations(exc)
    out = {}
    for key, msg in found.items():
        out["file" if key in ("file_content", "content_type", "file_name", "chunk", "header", "size_bytes",
                              "sha256") else key] = msg
    return out


@bp.get("/assets")
@curator_required
def catalog() -> Any:
    query = catalog_page.CatalogQuery.from_args(request.args)
    method, backend_request = catalog_page.backend_call(query)
    page = catalog_page.page_of(rpc("content", method, backend_request))
    if helpers.wants_csv():
        return helpers.csv_response("catalog", ["asset_id", "title", "type", "status", "owner", "updated", "version"],
                                    [(a.asset_id, a.title, content_pb2.AssetType.Name(a.type),
                                      content_pb2.AssetStatus.Name(a.status), a.owner, a.update_time.ToJsonString(),
                                      a.version) for a in page.assets])
    return render_template("catalog.html", reply=page, query=query, status=query.status, tabs=STATUS_TABS,
                           content_pb2=content_pb2, catalog_page=catalog_page, has_preview=helpers.previewable,
                           preview_problem=helpers.preview_problem, undo=session_undo_offer(),
                           taxonomy_fields=bulk_actions.TAXONOMY_FIELDS)


@bp.get("/assets/<asset_id>/thumb-v<int:file_version>.png")
@curator_required
def thumbnail(asset_id: str, file_version: int) -> Response:
    """The first page at THUMB_WIDTH, rendered once and cached in S3 by the content service.

    The file version is in the URL, so the image never changes under it and browsers
    may keep it for a day without asking again.
    """
    if not helpers.ID_RE.match(asset_id) or not 1 <= file_version <= 100000:
        abort(404)
    reply = rpc("content", "RenderPage", content_pb2.RenderPageRequest(
        asset_id=asset_id, page=1, file_version=file_version, width=THUMB_WIDTH), timeout=30.0)
    return Response(reply.png, mimetype="image/png", headers={"Cache-Control": "private, max-age=86400, immutable"})


def _bulk_action(form: Any) -> bulk_actions.Action:
    return bulk_actions.Action(kind=form.get("action", ""), field=form.get("field", ""), mode=form.get("mode", ""),
                               values=tuple(split_list(form.get("values", ""))),
                               owner=(form.get("owner") or "").strip()[:128])


def _back_to_catalog() -> Any:
    back = request.form.get("back") or ""
    return redirect(back if back.startswith("/manage/assets") else url_for("marketer.catalog"))


def session_undo_offer() -> dict[str, str] | None:
    """The undo the page offers: the user's last bulk action, while its window lasts."""
    offer = session.get("bulk_undo")
    if not offer or time.time() - offer.get("at", 0) > bulk_actions.UNDO_WINDOW_S:
        return None
    return offer


@bp.post("/assets/bulk")
@curator_required
def bulk() -> Any:
    ids = bulk_actions.selected_ids(request.form.getlist("asset_id"), helpers.ID_RE)
    action = _bulk_action(request.form)
    problem = "Select at least one asset." if not ids else action.problem()
    if problem:
        flash(problem, "error")
        return _back_to_catalog()
    outcome = bulk_actions.apply(rpc, action, ids)
    flash(outcome.message(), "ok" if not outcome.failed else "error")
    if outcome.changes:
        undo_id = _undo_store().keep(g.user.email, action.kind, outcome.changes)
        session["bulk_undo"] = {"id": undo_id, "text": outcome.message().split(" Not changed")[0], "at": time.time()}
    return _back_to_catalog()


@bp.post("/assets/bulk/undo")
@curator_required
def bulk_undo() -> Any:
    undo_id = str(request.form.get("undo_id") or "")[:64]
    if (session.get("bulk_undo") or {}).get("id") == undo_id:
        session.pop("bulk_undo")
    taken = _undo_store().take(g.user.email, undo_id) if undo_id else None
    if taken is None:
        flash("Nothing to undo: the undo window has passed or it was used already.", "error")
        return _back_to_catalog()
    outcome = bulk_actions.undo(rpc, *taken)
    flash(outcome.message(), "ok" if not outcome.failed else "error")
    return _back_to_catalog()


def _undo_store() -> bulk_actions.UndoStore:
    """One store per app (its index is created on first use)."""
    if "collateral_bulk_undo" not in current_app.extensions:
        current_app.extensions["collateral_bulk_undo"] = bulk_actions.UndoStore(
            current_app.config["COLLATERAL"], client=current_app.extensions["collateral_users"].es)
    return current_app.extensions["collateral_bulk_undo"]


@bp.route("/assets/new", methods=["GET", "POST"])
@curator_required
def new_asset() -> Any:
    if request.method == "GET":
        return render_template("asset_form.html", form={"language": "en"}, errors={}, asset=None)
    asset, errors = asset_from_form(request.form)
    upload = request.files.get("file")
    has_file = upload is not None and bool(upload.filename)
    if errors:
        return render_template("asset_form.html", form=form_dict(request.form), errors=errors, asset=None), 400
    req = content_pb2.CreateAssetRequest(asset=asset)
    inline = False
    if has_file:
        data = upload.stream.read(INLINE_MAX + 1)
        if len(data) <= INLINE_MAX:
            req.file_content, req.file_name, req.content_type = data, upload.filename[-200:], content_type_of(upload)
            inline = True
        else:
            upload.stream.seek(0)
    try:
        created = rpc("content", "CreateAsset", req, timeout=60.0).asset
    except grpc.RpcError as exc:
        if helpers.is_invalid(exc):
            errs = _file_errors(exc)
            return render_template("asset_form.html", form=form_dict(request.form), errors=errs, asset=None), 400
        raise
    if has_file and not inline:
        try:
            created = upload_file(created.asset_id, upload)
        except grpc.RpcError as exc:
            if helpers.is_invalid(exc):
                flash("The asset was created but its file was refused: " + "; ".join(_file_errors(exc).values()),
                      "error")
                return redirect(url_for("marketer.edit_asset", asset_id=created.asset_id))
            raise
    flash("Draft created. Publish it when it is ready for reps.", "ok")
    return redirect(url_for("marketer.edit_asset", asset_id=created.asset_id))


def _get(asset_id: str) -> Any:
    if not helpers.ID_RE.match(asset_id):
        abort(404)
    return rpc("content", "GetAsset", content_pb2.GetAssetRequest(asset_id=asset_id)).asset


@bp.route("/assets/<asset_id>", methods=["GET", "POST"])
@curator_required
def edit_asset(asset_id: str) -> Any:
    current = _get(asset_id)
    if request.method == "GET":
        return render_template("asset_form.html", form=form_from_asset(current), errors={}, asset=current,
                               content_pb2=content_pb2)
    asset, errors = asset_from_form(request.form)
    if errors:
        return render_template("asset_form.html", form=form_dict(request.form), errors=errors, asset=current,
                               content_pb2=content_pb2), 400
    asset.asset_id = asset_id
    paths = [p for p in MASKABLE if p != "expires_at" or asset.HasField("expires_at")]
    try:
        expected = int(request.form.get("version") or 0)
    except ValueError:
        expected = 0
    try:
        rpc("content", "UpdateAsset", content_pb2.UpdateAssetRequest(
            asset=asset, update_mask=field_mask_pb2.FieldMask(paths=paths), expected_version=expected))
    except grpc.RpcError as exc:
        if helpers.is_invalid(exc):
            errs = helpers.violations(exc)
            if exc.code() == grpc.StatusCode.FAILED_PRECONDITION:
                errs = {"_form": "Someone changed this asset while you were editing. Reload to see their changes."}
            return render_template("asset_form.html", form=form_dict(request.form), errors=errs, asset=current,
                                   content_pb2=content_pb2), 400
        raise
    flash("Saved.", "ok")
    return redirect(url_for("marketer.edit_asset", asset_id=asset_id))


@bp.post("/assets/<asset_id>/file")
@curator_required
def new_file(asset_id: str) -> Any:
    current = _get(asset_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a file to upload.", "error")
        return redirect(url_for("marketer.edit_asset", asset_id=asset_id))
    try:
        upload_file(asset_id, upload, current.version)
    except grpc.RpcError as exc:
        if helpers.is_invalid(exc):
            return render_template("asset_form.html", form=form_from_asset(current), errors=_file_errors(exc),
                                   asset=current, content_pb2=content_pb2), 400
        raise
    flash("New file version uploaded.", "ok")
    return redirect(url_for("marketer.edit_asset", asset_id=asset_id))


def _transition(asset_id: str, method: str, req: Any, done: str) -> Any:
    try:
        rpc("content", method, req)
        flash(done, "ok")
    except grpc.RpcError as exc:
        if not helpers.is_invalid(exc):
            raise
        flash("; ".join(helpers.violations(exc).values()), "error")
    return redirect(request.form.get("back") if (request.form.get("back") or "").startswith("/manage/")
                    else url_for("marketer.edit_asset", asset_id=asset_id))


@bp.post("/assets/<asset_id>/publish")
@curator_required
def publish(asset_id: str) -> Any:
    return _transition(asset_id, "PublishAsset", content_pb2.PublishAssetRequest(asset_id=asset_id),
                       "Published: reps can find it now.")


@bp.post("/assets/<asset_id>/retire")
@curator_required
def retire(asset_id: str) -> Any:
    return _transition(asset_id, "RetireAsset", content_pb2.RetireAssetRequest(asset_id=asset_id),
                       "Retired: reps no longer see it.")


@bp.post("/assets/<asset_id>/restore")
@curator_required
def restore(asset_id: str) -> Any:
    return _transition(asset_id, "RestoreAsset", content_pb2.RestoreAssetRequest(asset_id=asset_id),
                       "Restored as a draft.")


@bp.post("/assets/retire")
@curator_required
def bulk_retire() -> Any:
    ids = [a for a in request.form.getlist("asset_id") if helpers.ID_RE.match(a)][:500]
    if not ids:
        flash("Select at least one asset.", "error")
        return redirect(url_for("reports.unused"))
    retired, failed = 0, []
    for asset_id in ids:
        try:
            rpc("content", "RetireAsset", content_pb2.RetireAssetRequest(asset_id=asset_id))
            retired += 1
        except grpc.RpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise
            failed.append(asset_id)
    flash(f"Retired {retired} asset{'s' if retired != 1 else ''}."
          + (f" Not retired: {', '.join(failed[:10])}." if failed else ""), "ok" if not failed else "error")
    return redirect(url_for("reports.unused"))


# ---- vocabularies --------------------------------------------------------------------------

def _vocabulary_page(errors: dict[str, str] | None = None, form: Any = None, status: int = 200) -> Any:
    reply = rpc("content", "ListVocabularies", content_pb2.ListVocabulariesRequest(include_retired=True))
    return render_template("vocabularies.html", vocabularies=reply.vocabularies, errors=errors or {},
                           form=form or {}), status


@bp.get("/vocabularies")
@curator_required
def vocabularies_page() -> Any:
    return _vocabulary_page()


_TERM_FIELDS = ("vocabulary", "code", "label", "description", "order")


def _term_field(field: str) -> str:
    key = field.removeprefix("term.")
    return key if key in _TERM_FIELDS else ""


def _term_errors(exc: grpc.RpcError) -> dict[str, str]:
    """Field violations keyed by the term field they name (code, label, ...)."""
    out = helpers.violations(exc, _term_field, fallback="The term was not accepted.")
    if exc.code() == grpc.StatusCode.ALREADY_EXISTS:
        out = {"code": exc.details() or "This code exists already."}
    return out


@bp.post("/vocabularies")
@curator_required
def add_term() -> Any:
    form = request.form
    term = content_pb2.Term(vocabulary=form.get("vocabulary", "")[:64], code=(form.get("code") or "").strip()[:100],
                            label=(form.get("label") or "")[:200], description=(form.get("description") or "")[:1000])
    try:
        rpc("content", "CreateTerm", content_pb2.CreateTermRequest(term=term))
    except grpc.RpcError as exc:
        if helpers.is_invalid(exc) or exc.code() == grpc.StatusCode.ALREADY_EXISTS:
            return _vocabulary_page(_term_errors(exc), form, 400)
        raise
    flash(f"Added {term.label.strip()}.", "ok")
    return redirect(url_for("marketer.vocabularies_page") + f"#vocab-{term.vocabulary}")


@bp.post("/vocabularies/<vocabulary>/<code>")
@curator_required
def rename_term(vocabulary: str, code: str) -> Any:
    term = content_pb2.Term(vocabulary=vocabulary[:64], code=code[:100], label=(request.form.get("label") or "")[:200])
    try:
        rpc("content", "UpdateTerm", content_pb2.UpdateTermRequest(
            term=term, update_mask=field_mask_pb2.FieldMask(paths=["label"])))
    except grpc.RpcError as exc:
        if helpers.is_invalid(exc):
            flash(f"{code}: " + "; ".join(helpers.violations(exc).values()), "error")
            return redirect(url_for("marketer.vocabularies_page") + f"#vocab-{vocabulary}")
        raise
    flash("Label saved.", "ok")
    return redirect(url_for("marketer.vocabularies_page") + f"#vocab-{vocabulary}")


@bp.post("/vocabularies/<vocabulary>/<code>/retire")
@curator_required
def retire_term(vocabulary: str, code: str) -> Any:
    try:
        rpc("content", "RetireTerm", content_pb2.RetireTermRequest(vocabulary=vocabulary[:64], code=code[:100]))
    except grpc.RpcError as exc:
        if helpers.is_invalid(exc):
            flash("; ".join(helpers.violations(exc).values()), "error")
            return redirect(url_for("marketer.vocabularies_page"))
        raise
    flash("Retired: assets keep it, new assets cannot pick it.", "ok")
    return redirect(url_for("marketer.vocabularies_page") + f"#vocab-{vocabulary}")
