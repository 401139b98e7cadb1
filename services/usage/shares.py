"""Tracked share links: unguessable tokens, expiry, revocation, open statistics.

The token is never stored: the share document's `_id` is its SHA-256, so a leaked
index does not leak working links, and resolving a token is one realtime GET by id.
It is derived from the public `share_id` with a server secret (share_access.py), so
the link's owner can copy it again (`reveal`); the `share_id` names the link in usage
events, lists and revocation. Optional access controls (passcode, verified email) are
checked in share_access.py and stored as hashes only.
Creating a link also records a `share` usage event, so shares are counted by the same
pipeline as every other use.

A link may carry a call to action for the customer page: "reply by email" (to the rep
who created it) or "book a meeting" (an https URL the rep gives). Both are validated
here, at creation, because the customer page renders them as links as they are.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from elasticsearch import ApiError, Elasticsearch, NotFoundError

from collateral.v1 import usage_pb2
from services.common import auth, errors
from services.common.contracts import times
from services.usage import model, share_access
from services.usage.store import Names

MAX_TTL = timedelta(days=365)
MAX_NOTE_CHARS = 500  # the rep's private note about the recipient
MAX_MESSAGE_CHARS = 2000  # the rep's message on the customer page
MAX_ID_CHARS = 128
MAX_MEETING_URL_CHARS = 2048
# Stored names of the calls to action (the share document keeps names, not enum numbers).
CTA_NAMES = {usage_pb2.SHARE_CALL_TO_ACTION_REPLY_EMAIL: "reply_email",
             usage_pb2.SHARE_CALL_TO_ACTION_BOOK_MEETING: "book_meeting"}
CTA_VALUES = {name: value for value, name in CTA_NAMES.items()}
# A reply goes to the rep's id, so it must be a plain address that a mailto: link can carry.
REPLY_ADDRESS_RE = re.compile(r"^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def mark_revoked(es: Elasticsearch, index: str, found: tuple[str, dict[str, Any], int, int],
                 principal: auth.Principal, timeout_s: float, what: str) -> dict[str, Any]:
    """Revoke a share link's or room's document (found with its seq_no and primary term); idempotent.

    The write is conditional on the version read, so a concurrent change is UNAVAILABLE
    (the client retries) instead of one change silently undoing the other.
    """
    doc_id, doc, seq_no, primary_term = found
    if doc.get("revoked_at"):
        return doc
    doc = dict(doc, revoked_at=model.iso(datetime.now(timezone.utc)), revoked_by=principal.subject)
    try:
        es.options(request_timeout=timeout_s).index(index=index, id=doc_id, document=doc, if_seq_no=seq_no,
                                                    if_primary_term=primary_term, refresh="wait_for")
    except ApiError as exc:
        if exc.meta.status == 409:
            raise errors.Unavailable(f"{what} changed concurrently; retry") from None
        raise
    return doc


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A random token: what share links and deal rooms had before their tokens were derived (share_access)."""
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


def check_meeting_url(value: str) -> str:
    """The URL "book a meeting" leads to, or INVALID_ARGUMENT on `meeting_url`.

    Only https: the customer page links to it as it is, so javascript:, data: and
    plain-http URLs must never get there; a user name or password in the URL
    (`https://calendar.example@evil.example`) would disguise where the link goes.
    """
    if not value:
        raise errors.InvalidArgument("meeting_url", "is required with book a meeting")
    if len(value) > MAX_MEETING_URL_CHARS:
        raise errors.InvalidArgument("meeting_url", f"at most {MAX_MEETING_URL_CHARS} characters")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise errors.InvalidArgument("meeting_url", "must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise errors.InvalidArgument("meeting_url", "not a valid URL") from None
    if parts.scheme.lower() != "https":
        raise errors.InvalidArgument("meeting_url", "must be an https:// URL")
    if not parts.hostname:
        raise errors.InvalidArgument("meeting_url", "must name a host")
    if parts.username is not None or parts.password is not None:
        raise errors.InvalidArgument("meeting_url", "must not contain a user name or password")
    return value


def call_to_action_fields(kind: int, meeting_url: str, rep_id: str) -> dict[str, str]:
    """The share document's call-to-action fields for a CreateShareLink request (empty: none).

    Errors name the request field, so the rep's dialog shows them next to the right input.
    """
    meeting_url = meeting_url.strip()
    if kind == usage_pb2.SHARE_CALL_TO_ACTION_UNSPECIFIED:
        if meeting_url:
            raise errors.InvalidArgument("meeting_url", "only with book a meeting")
        return {}
    if kind not in CTA_NAMES:
        raise errors.InvalidArgument("call_to_action", f"unknown call to action {kind}")
    if kind == usage_pb2.SHARE_CALL_TO_ACTION_REPLY_EMAIL:
        if meeting_url:
            raise errors.InvalidArgument("meeting_url", "only with book a meeting")
        if not REPLY_ADDRESS_RE.match(rep_id):
            raise errors.InvalidArgument("call_to_action", "reply by email needs a sender whose id is an email "
                                                           "address")
        return {"call_to_action": CTA_NAMES[kind]}
    return {"call_to_action": CTA_NAMES[kind], "meeting_url": check_meeting_url(meeting_url)}


def state_of(doc: dict[str, Any], now: datetime) -> str:
    """'revoked', 'expired' or 'active'."""
    if doc.get("revoked_at"):
        return "revoked"
    if times.parse_stored(doc["expires_at"]) <= now:
        return "expired"
    return "active"


MAX_VIEWER_EMAILS = 20


def viewer_emails(buckets: list[dict[str, Any]]) -> list[str]:
    """Verified viewer emails of a link's opens, most recent open first."""
    ordered = sorted(buckets, key=lambda b: (-(b["last"]["value"] or 0), b["key"]))
    return [b["key"] for b in ordered]


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
        if found[1]["rep_id"] != principal.subject and principal.role not in (auth.Role.MARKETER, auth.Role.ADMIN):
            raise errors.PermissionDenied("only the rep who created a share link or a curator may revoke it")
        return mark_revoked(self.es, self.names.shares, found, principal, timeout_s, "share link")

    def reveal(self, share_id: str, principal: auth.Principal, secret: str, now: datetime,
               timeout_s: float) -> tuple[dict[str, Any], str]:
        """(document, token) of an active link, for its owner or an admin.

        FAILED_PRECONDITION for a revoked or expired link (copying it again would hand out
        a dead link) and for a link whose token is not the derived one (made before tokens
        were derived, or before the secret was rotated): that token exists nowhere.
        """
        found = self.get_by_share_id(share_id, timeout_s)
        if found is None:
            raise errors.NotFound(f"share link {share_id} not found")
        doc_id, doc, _, _ = found
        if doc["rep_id"] != principal.subject and principal.role != auth.Role.ADMIN:
            raise errors.PermissionDenied("only the rep who created a share link or an admin may copy it again")
        state = state_of(doc, now)
        if state != "active":
            raise errors.FailedPrecondition(f"share link {share_id} is {state}: only active links can be copied again")
        if not share_access.can_reveal(secret, doc_id, share_id):
            raise errors.FailedPrecondition(
                f"share link {share_id} cannot be copied again: it was created before links could be copied again "
                "(or the share link secret changed since); its link was shown only once, when it was created")
        return doc, share_access.derive_token(secret, share_id)

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
                # Bot verdicts are not applied: only a person who passed the email check has a viewer_email.
                "viewers": {"filter": {"bool": {"filter": [{"term": {"type": "customer_open"}},
                                                           {"exists": {"field": "viewer_email"}}]}},
                            "aggs": {"emails": {"terms": {"field": "viewer_email", "size": MAX_VIEWER_EMAILS},
                                                "aggs": {"last": {"max": {"field": "occurred_at"}}}}}},
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
                "viewer_emails": viewer_emails(b.get("viewers", {}).get("emails", {}).get("buckets", [])),
            }
        return out
