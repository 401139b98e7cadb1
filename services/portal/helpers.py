"""Small helpers shared by the views: proto conversions, highlights, CSV, form errors."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Sequence

import grpc
from flask import Response, request
from google.protobuf import timestamp_pb2
from markupsafe import Markup, escape

from services.common import grpc_server

_EM = re.compile(r"(</?em>)")
ID_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")


def highlight(fragment: str) -> Markup:
    """A search highlight with only <em> kept as markup; everything else is escaped.

    Works whether the search engine HTML-encoded the fragment or not: the text between
    the tags is decoded, then escaped once.
    """
    out = []
    for part in _EM.split(fragment or ""):
        if part in ("<em>", "</em>"):
            out.append(part)
        else:
            out.append(str(escape(html.unescape(part))))
    return Markup("".join(out))


def timestamp(dt: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(dt.astimezone(timezone.utc).replace(tzinfo=None))
    return ts


def days_ago(days: int) -> timestamp_pb2.Timestamp:
    return timestamp(datetime.now(timezone.utc) - timedelta(days=days))


def _asset_field(field: str) -> str:
    """`asset.industries[1]` -> `industries`: the form field a violation belongs to."""
    return re.split(r"[.\[]", field.split("asset.", 1)[-1])[0] if field else ""


def violations(exc: grpc.RpcError, form_field: Callable[[str], str] = _asset_field,
               fallback: str = "The request was not accepted.") -> dict[str, str]:
    """form field -> message from an INVALID_ARGUMENT's BadRequest detail.

    `form_field` maps a violation's field path to the form field that shows it ("" or an
    unknown name: the form-level message `_form`).
    """
    out: dict[str, str] = {}
    try:
        pairs = grpc_server.field_violations(exc)
    except Exception:  # noqa: BLE001 - a status without details has no violations
        pairs = []
    for field, message in pairs:
        key = form_field(field)
        if field and message.startswith(field + ":"):
            message = message[len(field) + 1:].strip()
        out.setdefault(key or "_form", message[:1].upper() + message[1:])
    if not out:
        out["_form"] = exc.details() or fallback
    return out


def is_invalid(exc: grpc.RpcError) -> bool:
    return exc.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
                          grpc.StatusCode.ALREADY_EXISTS)


def wants_csv() -> bool:
    return request.args.get("format") == "csv"


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: a cell starting with = + - @ is shown as text.
    if text and text[0] in "=+-@\t\r" and not re.fullmatch(r"-?\d+(\.\d+)?", text):
        text = "'" + text
    return text


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return Response(buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{safe}.csv"'})


def current_file(asset: Any) -> Any:
    return asset.files[-1] if len(asset.files) else None


PREVIEW_READY = 1  # content_pb2.PREVIEW_STATUS_READY: a PDF, or an Office file converted to PDF
PREVIEW_UNAVAILABLE = 3  # content_pb2.PREVIEW_STATUS_UNAVAILABLE: conversion failed, preview_error says why


def previewable(asset: Any) -> bool:
    """True when the current file's pages can be shown: a PDF, or an Office file converted to one."""
    f = current_file(asset)
    return f is not None and f.preview_status == PREVIEW_READY and f.page_count > 0


def preview_problem(asset: Any) -> str:
    """Why the current file has no preview although it should (an Office file that failed to convert)."""
    f = current_file(asset)
    if f is None or f.preview_status != PREVIEW_UNAVAILABLE:
        return ""
    return f.preview_error or "the file could not be converted"


def client_ip() -> str:
    """The client's address, believing X-Forwarded-For only as far as trusted proxies wrote it.

    Walking the hops from the right (the nearest) and stopping at the first address that
    is not a trusted proxy gives the client as the outermost trusted proxy saw it; hops
    further left were written by the client itself and could be anything. Sign-in
    limits per address depend on this: behind a proxy that is not trusted, every client
    has the proxy's address.
    """
    from services.portal import security

    peer = request.remote_addr or ""
    if not security.trusted_proxy(peer):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("X-Forwarded-For")).split(",") if h.strip()]
    client = peer
    for hop in reversed(hops):
        client = hop[:64]
        if not security.trusted_proxy(hop):
            break
    return client


def int_arg(name: str, default: int, lo: int, hi: int) -> int:
    try:
        value = int(request.values.get(name, default))
    except (TypeError, ValueError):
        return default
    return max(lo, min(hi, value))
