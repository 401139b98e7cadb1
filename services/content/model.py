"""The asset document: validation of client input and conversion between proto and index.

The index stores enums as short lower-case names ("deck", "awareness", "published")
so facets, catalog events and other services read plain words, while the API speaks
proto enums. Everything a client sends is validated here, before anything is written,
and every error names the offending field.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Iterable

from google.protobuf import timestamp_pb2

from collateral.v1 import common_pb2, content_pb2
from services.common import validation
from services.common.contracts import times
from services.common.errors import InvalidArgument

ASSET_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
MAX_TITLE = 300
MAX_DESCRIPTION = 10_000
MAX_LIST_ITEMS = 50
MAX_ITEM_CHARS = 100
MAX_QUERY_CHARS = 512


def _enum_names(enum: Any, prefix: str) -> dict[int, str]:
    return {v.number: v.name[len(prefix):].lower() for v in enum.DESCRIPTOR.values if v.number != 0}


TYPE_NAMES = _enum_names(content_pb2.AssetType, "ASSET_TYPE_")
STAGE_NAMES = _enum_names(common_pb2.BuyingStage, "BUYING_STAGE_")
STATUS_NAMES = _enum_names(content_pb2.AssetStatus, "ASSET_STATUS_")
EXPIRY_NAMES = _enum_names(content_pb2.ExpiryWindow, "EXPIRY_WINDOW_")
EXTRACTION_NAMES = _enum_names(content_pb2.ExtractionStatus, "EXTRACTION_STATUS_")
TYPE_VALUES = {v: k for k, v in TYPE_NAMES.items()}
STAGE_VALUES = {v: k for k, v in STAGE_NAMES.items()}
STATUS_VALUES = {v: k for k, v in STATUS_NAMES.items()}
EXTRACTION_VALUES = {v: k for k, v in EXTRACTION_NAMES.items()}

DRAFT, PUBLISHED, RETIRED = "draft", "published", "retired"

# Fields UpdateAsset may change (FieldMask paths).
MUTABLE_FIELDS = (
    "title", "description", "type", "tags", "products", "buying_stages", "personas",
    "industries", "regions", "language", "owner", "expires_at", "external_id",
)
# Curation a marketer sets in the portal, which UpdateAsset changes but imports never touch
# (a source system knows nothing of pins, so re-importing must not clear them).
CURATION_FIELDS = ("pinned_stages",)
UPDATABLE_FIELDS = MUTABLE_FIELDS + CURATION_FIELDS


# ---- time ---------------------------------------------------------------------------

def now_iso() -> str:
    return times.now_iso()


def ts_to_iso(ts: timestamp_pb2.Timestamp, field: str) -> str:
    """A request Timestamp as stored; INVALID_ARGUMENT on `field` outside the Timestamp range."""
    return times.format_iso(validation.timestamp(ts, field))


def iso_to_ts(value: str | None) -> timestamp_pb2.Timestamp | None:
    if not value:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(times.parse_stored(value))
    return ts


def is_expired(doc: dict[str, Any], now: datetime | None = None) -> bool:
    expires = doc.get("expires_at")
    if not expires:
        return False
    now = now or datetime.now(timezone.utc)
    return times.parse_stored(expires) <= now


def visible_to_reps(doc: dict[str, Any]) -> bool:
    return doc.get("status") == PUBLISHED and not is_expired(doc)


# ---- validation -------------------------------------------------------------------------

def check_asset_id(value: str, field: str = "asset_id") -> str:
    if not value:
        raise InvalidArgument(field, "is required")
    if not ASSET_ID_RE.match(value):
        raise InvalidArgument(field, "must be 1-128 characters of A-Z a-z 0-9 . _ : -")
    return value


def strings(values: Iterable[str], field: str, lower: bool) -> list[str]:
    out: list[str] = []
    values = list(values)
    if len(values) > MAX_LIST_ITEMS:
        raise InvalidArgument(field, f"at most {MAX_LIST_ITEMS} values")
    for i, raw in enumerate(values):
        value = raw.strip()
        if not value:
            raise InvalidArgument(f"{field}[{i}]", "must not be empty")
        if len(value) > MAX_ITEM_CHARS:
            raise InvalidArgument(f"{field}[{i}]", f"at most {MAX_ITEM_CHARS} characters")
        value = value.lower() if lower else value
        if value not in out:
            out.append(value)
    return out


def enum_name(value: int, names: dict[int, str], field: str) -> str:
    if value == 0:
        raise InvalidArgument(field, "is required")
    if value not in names:
        raise InvalidArgument(field, f"unknown value {value}")
    return names[value]


def field_value(asset: content_pb2.Asset, name: str, prefix: str = "asset") -> Any:
    """The validated index value of one mutable field of `asset`."""
    f = f"{prefix}.{name}"
    if name == "title":
        title = asset.title.strip()
        if not title:
            raise InvalidArgument(f, "must not be empty")
        if len(title) > MAX_TITLE:
            raise InvalidArgument(f, f"at most {MAX_TITLE} characters")
        return title
    if name == "description":
        if len(asset.description) > MAX_DESCRIPTION:
            raise InvalidArgument(f, f"at most {MAX_DESCRIPTION} characters")
        return asset.description.strip()
    if name == "type":
        return enum_name(asset.type, TYPE_NAMES, f)
    if name in ("buying_stages", "pinned_stages"):
        return list(dict.fromkeys(enum_name(v, STAGE_NAMES, f"{f}[{i}]") for i, v in enumerate(getattr(asset, name))))
    if name in ("tags", "industries", "regions"):
        return strings(getattr(asset, name), f, lower=True)
    if name in ("products", "personas"):
        return strings(getattr(asset, name), f, lower=False)
    if name == "language":
        lang = asset.language.strip().lower()
        if lang and not re.match(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$", lang):
            raise InvalidArgument(f, "must be a language code such as 'en' or 'pt-br'")
        return lang or "en"
    if name == "owner":
        owner = asset.owner.strip()
        if len(owner) > MAX_ITEM_CHARS:
            raise InvalidArgument(f, f"at most {MAX_ITEM_CHARS} characters")
        return owner
    if name == "expires_at":
        return ts_to_iso(asset.expires_at, f) if asset.HasField("expires_at") else None
    if name == "external_id":
        if len(asset.external_id) > 256:
            raise InvalidArgument(f, "at most 256 characters")
        return asset.external_id.strip()
    raise InvalidArgument("update_mask", f"unknown or read-only field {name!r}")


def new_doc(asset_id: str, asset: content_pb2.Asset, creator: str) -> dict[str, Any]:
    """The index document of a new draft asset."""
    now = now_iso()
    doc: dict[str, Any] = {name: field_value(asset, name) for name in UPDATABLE_FIELDS}
    doc["owner"] = doc["owner"] or creator
    doc.update(
        asset_id=asset_id,
        status=DRAFT,
        created_at=now,
        updated_at=now,
        published_at=None,
        version=1,
        files=[],
        body="",
        page_count=0,
    )
    return doc


def apply_mask(doc: dict[str, Any], asset: content_pb2.Asset, paths: Iterable[str]) -> dict[str, Any]:
    paths = list(paths)
    if not paths:
        raise InvalidArgument("update_mask", "name at least one field to change")
    changed = dict(doc)
    for path in paths:
        if path not in UPDATABLE_FIELDS:
            raise InvalidArgument("update_mask", f"unknown or read-only field {path!r}")
        changed[path] = field_value(asset, path)
    if not changed.get("owner"):
        raise InvalidArgument("asset.owner", "must not be empty")
    return changed


def check_query(query: str) -> str:
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidArgument("query", f"at most {MAX_QUERY_CHARS} characters")
    return query.strip()


# ---- index document -> proto -------------------------------------------------------------

PREVIEW_VALUES = {v: k for k, v in _enum_names(content_pb2.PreviewStatus, "PREVIEW_STATUS_").items()}


def preview_status(f: dict[str, Any]) -> str:
    """A file version's preview status; versions stored before previews existed get one from their type."""
    if f.get("preview_status"):
        return str(f["preview_status"])
    if f.get("content_type") == "application/pdf":
        return "ready"
    return "none"


def file_to_proto(f: dict[str, Any]) -> content_pb2.FileVersion:
    out = content_pb2.FileVersion(
        version=f.get("version", 0),
        s3_key=f.get("s3_key", ""),
        size_bytes=f.get("size_bytes", 0),
        content_type=f.get("content_type", ""),
        sha256=f.get("sha256", ""),
        uploaded_by=f.get("uploaded_by", ""),
        page_count=f.get("page_count", 0) or 0,
        extraction_status=EXTRACTION_VALUES.get(f.get("extraction_status", ""), 0),
        extraction_error=f.get("extraction_error", "") or "",
        file_name=f.get("file_name", ""),
        preview_status=PREVIEW_VALUES[preview_status(f)],
        preview_error=f.get("preview_error", "") or "",
    )
    if ts := iso_to_ts(f.get("uploaded_at")):
        out.uploaded_at.CopyFrom(ts)
    return out


def doc_to_proto(doc: dict[str, Any]) -> content_pb2.Asset:
    signals = doc.get("signals") or {}
    usage = signals.get("usage") or {}
    wins = signals.get("wins") or {}
    asset = content_pb2.Asset(
        asset_id=doc["asset_id"],
        title=doc.get("title", ""),
        description=doc.get("description", ""),
        type=TYPE_VALUES.get(doc.get("type", ""), 0),
        tags=doc.get("tags", []),
        products=doc.get("products", []),
        buying_stages=[STAGE_VALUES[s] for s in doc.get("buying_stages", []) if s in STAGE_VALUES],
        pinned_stages=[STAGE_VALUES[s] for s in doc.get("pinned_stages") or [] if s in STAGE_VALUES],
        personas=doc.get("personas", []),
        industries=doc.get("industries", []),
        regions=doc.get("regions", []),
        language=doc.get("language", ""),
        owner=doc.get("owner", ""),
        status=STATUS_VALUES.get(doc.get("status", ""), 0),
        version=doc.get("version", 0),
        files=[file_to_proto(f) for f in doc.get("files", [])],
        external_id=doc.get("external_id", "") or "",
        signals=content_pb2.AssetSignals(
            usage_score=float(signals.get("usage_score") or 0),
            win_rate_lower=float(signals.get("win_rate_lower") or 0),
            deals_closed=int(signals.get("deals_closed") or 0),
            win_rate=float(wins.get("win_rate") or 0),
            views_30d=int(usage.get("views_30d") or 0),
            downloads_30d=int(usage.get("downloads_30d") or 0),
            shares_30d=int(usage.get("shares_30d") or 0),
        ),
    )
    for field, key in (("expires_at", "expires_at"), ("create_time", "created_at"),
                       ("update_time", "updated_at"), ("publish_time", "published_at")):
        if ts := iso_to_ts(doc.get(key)):
            getattr(asset, field).CopyFrom(ts)
    return asset


def snapshot(doc: dict[str, Any]) -> dict[str, Any]:
    """The asset as catalog events carry it (schemas/catalog-event.v1.json `asset`)."""
    current = (doc.get("files") or [None])[-1]
    return {
        "asset_id": doc["asset_id"],
        "title": doc.get("title", ""),
        "type": doc.get("type", ""),
        "status": doc.get("status", ""),
        "owner": doc.get("owner", ""),
        "buying_stages": doc.get("buying_stages", []),
        "industries": doc.get("industries", []),
        "regions": doc.get("regions", []),
        "products": doc.get("products", []),
        "personas": doc.get("personas", []),
        "tags": doc.get("tags", []),
        "language": doc.get("language", ""),
        "created_at": doc.get("created_at"),
        "updated_at": doc.get("updated_at"),
        "published_at": doc.get("published_at"),
        "expires_at": doc.get("expires_at"),
        "version": doc.get("version", 0),
        "file_version": current["version"] if current else 0,
        "page_count": doc.get("page_count", 0) or 0,
    }
