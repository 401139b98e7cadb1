"""Tracked share links: unguessable tokens, expiry, revocation, open statistics.

The token (`secrets.token_urlsafe(32)`, 256 bits) is returned once and never stored:
the share document's `_id` is its SHA-256, so a leaked index does not leak working
links, and resolving a token is one realtime GET by id. The public `share_id` (random,
unrelated to the token) names the link in usage events, lists and revocation.
Creating a link also records a `share` usage event, so shares are counted by the same
pipeline as every other use.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError

from services.common import auth, errors
from services.common.contracts import times
from services.usage import model
from services.usage.store import Names

MAX_TTL = timedelta(days=365)
MAX_NOTE_CHARS = 500
MAX_ID_CHARS = 128


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_share_id() -> str:
    return "shr_" + secrets.token_hex(12)


def check_shareable(asset_id: str, catalog_doc: dict[str, Any] | None, now: datetime) -> None:
    """Refuse a link to an asset a customer must not get, judged by the service's catalog view.

    Unknown ids are NOT_FOUND (a link to nothing would record share and open events for
    an asset nobody can see). The view is fed by the catalog topic, so an asset
    published a moment ago is unknown until its event arrives (normally within
    seconds); the message says so because a retry then succeeds. Drafts, retired and
    expired assets exist but are not for customers: FAILED_PRECONDITION.
    """
    if catalog_doc is None:
        raise errors.NotFound(f"asset {asset_id} not found in the catalog (an asset published moments ago "
                              "can be shared once its catalog event has arrived, normally within seconds)")
    status = catalog_doc.get("status", "")
    if status != "published":
        raise errors.FailedPrecondition(f"asset {asset_id} is {status or 'not published'}: "
                                        "only published assets can be shared")
    expires = catalog_doc.get("expires_at")
    if expires and times.parse_stored(expires) <= now:
        raise errors.FailedPrecondition(f"asset {asset_id} expired at {expires}: expired assets cannot be shared")


def state_of(doc: dict[str, Any], now: datetime) -> str:
    """'revoked', 'expired' or 'active'."""
    if doc.get("revoked_at"):
        return "revoked"
    if times.parse_stored(doc["expires_at"]) <= now:
        return "expired"
    return "active"


@dataclass
class ShareStore:
    es: Elasticsearch
    names: Names

    def create(self, doc_id: str, doc: dict[str, Any], timeout_s: float) -> None:
        self.es.options(request_timeout=timeout_s).index(
            index=self.names.shares, id=doc_id, document=doc, op_type="create", refresh="wait_for")

    def delete(self, doc_id: str) -> None:
        self.es.delete(index=self.names.shares, id=doc_id, refresh="wait_for")

    def get_by_token(self, token: str, timeout_s: float) -> dict[str, Any] | None:
        try:
            found = self.es.options(request_timeout=timeout_s).get(index=self.names.shares, id=token_hash(token))
        except NotFoundError:
            return None
        return found["_source"]

    def get_by_share_id(self, share_id: str, timeout_s: float) -> tuple[str, dict[str, Any], int, int] | None:
        """(doc id, source, seq_no, primary_term) of a link by its public id."""
        response = self.es.options(request_timeout=timeout_s).search(
            index=self.names.shares, size=1, query={"term": {"share_id": share_id}}, seq_no_primary_term=True)
        hits = response["hits"]["hits"]
        if not hits:
            return None
        hit = hits[0]
        return hit["_id"], hit["_source"], hit["_seq_no"], hit["_primary_term"]

    def revoke(self, share_id: str, principal: auth.Principal, timeout_s: float) -> dict[str, Any]:
        found = self.get_by_share_id(share_id, timeout_s)
        if found is None:
            raise errors.NotFound(f"share link {share_id} not found")
        doc_id, doc, seq_no, primary_term = found
        if doc["rep_id"] != principal.subject and principal.role not in (auth.Role.MARKETER, auth.Role.ADMIN):
            raise errors.PermissionDenied("only the rep who created a share link or a curator may revoke it")
        if doc.get("revoked_at"):
            return doc  # idempotent
        doc = dict(doc, revoked_at=model.iso(datetime.now(timezone.utc)), revoked_by=principal.subject)
        try:
            self.es.options(request_timeout=timeout_s).index(
                index=self.names.shares, id=doc_id, document=doc, if_seq_no=seq_no, if_primary_term=primary_term,
                refresh="wait_for")
        except ApiError as exc:
            if exc.meta.status == 409:
                raise errors.Unavailable("share link changed concurrently; retry") from None
            raise
        return doc

    def list(self, query: dict[str, Any], size: int, search_after: list[Any] | None,
             timeout_s: float) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {}
        if search_after:
            kwargs["search_after"] = search_after
        response = self.es.options(request_timeout=timeout_s).search(
            index=self.names.shares, size=size, query=query,
            sort=[{"created_at": "desc"}, {"share_id": "asc"}], **kwargs)
        return [h["_source"] for h in response["hits"]["hits"]]

    def stats(self, share_ids: list[str], timeout_s: float) -> dict[str, dict[str, Any]]:
        """Open statistics per share link, from the raw usage events (one aggregation)."""
        if not share_ids:
            return {}
        response = self.es.options(request_timeout=timeout_s).search(
            index=self.names.events, size=0, ignore_unavailable=True, allow_no_indices=True,
            query={"bool": {"filter": [{"terms": {"share_id": share_ids}},
                                       {"terms": {"type": ["customer_open", "page_view"]}}]}},
            aggs={"shares": {"terms": {"field": "share_id", "size": len(share_ids)}, "aggs": {
                "opens": {"filter": {"bool": {"filter": [{"term": {"type": "customer_open"}},
                                                         {"term": {"is_bot": False}}]}},
                          "aggs": {"first": {"min": {"field": "occurred_at"}},
                                   "last": {"max": {"field": "occurred_at"}}}},
                "bot_opens": {"filter": {"bool": {"filter": [{"term": {"type": "customer_open"}},
                                                             {"term": {"is_bot": True}}]}}},
                "pages": {"filter": {"bool": {"filter": [{"term": {"type": "page_view"}},
                                                         {"term": {"is_bot": False}}]}},
                          "aggs": {"by_page": {"terms": {"field": "page", "size": 1000, "order": {"_key": "asc"}},
                                               "aggs": {"seconds": {"sum": {"field": "seconds"}}}}}},
            }}},
        )
        out: dict[str, dict[str, Any]] = {}
        for b in response.get("aggregations", {}).get("shares", {}).get("buckets", []):
            opens = b["opens"]
            out[b["key"]] = {
                "customer_opens": opens["doc_count"],
                "bot_opens": b["bot_opens"]["doc_count"],
                "first_opened_ms": opens["first"]["value"] if opens["doc_count"] else None,
                "last_opened_ms": opens["last"]["value"] if opens["doc_count"] else None,
                "pages": [(int(p["key"]), float(p["seconds"]["value"]), p["doc_count"])
                          for p in b["pages"]["by_page"]["buckets"]],
            }
        return out
