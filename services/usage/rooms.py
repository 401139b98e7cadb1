"""Deal rooms: one tracked link to several assets for one deal, with a title and a note.

A room is a share link that grants a list of assets instead of one, and it is kept the
same way (services/usage/shares.py, share_access.py): the token is an HMAC of the
public `room_id` under the share link secret, only its SHA-256 is stored (the room
document's `_id`), and the owner can copy it again (RevealRoomLink; rooms made before
tokens were derived had random tokens and cannot). The `room_id` names the room in
usage events, lists and revocation. A room may ask for a passcode and a verified email
exactly like a link (share_access.access_fields; hashes and flags on the document). Creating a room records
one `share` event per asset (carrying `room_id`), so the usage reports count a room's
assets as shared exactly like single links; every customer event in a room carries
`room_id` and the asset the customer was looking at, so opens and reading time are
counted per asset by the same pipeline, and bot rules treat a room's assets like links.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from elasticsearch import Elasticsearch, NotFoundError
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import usage_pb2
from services.common import auth, config, errors, mail, metrics, pagination, validation
from services.common.contracts import times
from services.usage import model, share_access, shares
from services.usage.store import Names

log = logging.getLogger(__name__)

MAX_TITLE_CHARS = 200
MAX_NOTE_CHARS = 2000
MAX_ASSETS = 50
MAX_TTL = shares.MAX_TTL
CHANNEL = "room"
ENGAGEMENT_TYPES = ("customer_open", "page_view")


def new_room_id() -> str:
    return "room_" + secrets.token_hex(12)


@dataclass(frozen=True)
class RoomSpec:
    """A validated CreateRoom request: what the room document is built from."""

    title: str
    note: str
    asset_ids: list[str]
    opportunity_id: str
    account_id: str
    expires_at: datetime
    allow_download: bool
    passcode: str = ""
    require_email: bool = False
    allowed_email_domains: tuple[str, ...] = ()


def asset_list(asset_ids: list[str]) -> list[str]:
    """The room's assets in the rep's order: 1 to MAX_ASSETS ids, each valid and listed once.

    A duplicate is refused rather than dropped: the rep chose an order, and silently
    removing an entry would show the customer something other than what was previewed.
    """
    if not asset_ids:
        raise errors.InvalidArgument("asset_ids", "at least one asset is required")
    if len(asset_ids) > MAX_ASSETS:
        raise errors.InvalidArgument("asset_ids", f"at most {MAX_ASSETS} assets")
    out: list[str] = []
    for i, raw in enumerate(asset_ids):
        asset_id = validation.identifier(raw, f"asset_ids[{i}]")
        if asset_id in out:
            raise errors.InvalidArgument(f"asset_ids[{i}]", f"asset {asset_id} is already in the room")
        out.append(asset_id)
    return out


def expiry(request: usage_pb2.CreateRoomRequest, now: datetime, default_ttl_days: int) -> datetime:
    """When the room stops working: `expires_in` from now (positive, at most 365 days) or the default."""
    if not request.HasField("expires_in"):
        return now + timedelta(days=default_ttl_days)
    ttl = validation.duration(request.expires_in, "expires_in")
    if ttl <= timedelta(0):
        raise errors.InvalidArgument("expires_in", "must be positive")
    if ttl > MAX_TTL:
        raise errors.InvalidArgument("expires_in", "at most 365 days")
    return now + ttl


def validate_create(request: usage_pb2.CreateRoomRequest, now: datetime, default_ttl_days: int) -> RoomSpec:
    """Every check of CreateRoom that needs no store, in field order (INVALID_ARGUMENT names the field)."""
    return RoomSpec(
        title=validation.text(request.title, "title", MAX_TITLE_CHARS, required=True),
        note=validation.text(request.note, "note", MAX_NOTE_CHARS),
        asset_ids=asset_list(list(request.asset_ids)),
        opportunity_id=validation.identifier(request.opportunity_id, "opportunity_id", required=False),
        account_id=validation.identifier(request.account_id, "account_id", required=False),
        expires_at=expiry(request, now, default_ttl_days),
        allow_download=request.allow_download,
        passcode=request.passcode,
        require_email=request.require_email_verification,
        allowed_email_domains=tuple(request.allowed_email_domains),
    )


def check_assets(asset_ids: list[str], catalog: Mapping[str, dict[str, Any]], now: datetime) -> None:
    """Refuse the room when any asset could not be shared alone (shares.check_shareable)."""
    for asset_id in asset_ids:
        shares.check_shareable(asset_id, catalog.get(asset_id), now)


def room_document(spec: RoomSpec, room_id: str, rep_id: str, now: datetime,
                  access: Mapping[str, Any] | None = None, token_secret_id: str = "") -> dict[str, Any]:
    """The stored room; `access` are share_access.access_fields (hashes and flags, never a passcode)."""
    doc: dict[str, Any] = {
        "room_id": room_id, "title": spec.title, "asset_ids": spec.asset_ids, "rep_id": rep_id,
        "allow_download": spec.allow_download, "created_at": model.iso(now), "expires_at": model.iso(spec.expires_at),
    }
    for name in ("note", "opportunity_id", "account_id"):
        if getattr(spec, name):
            doc[name] = getattr(spec, name)
    if token_secret_id:
        doc["token_secret_id"] = token_secret_id
    doc.update(access or {})
    return doc


def derived_token(secret: str, room_id: str) -> str:
    """A room's token: derived from its room_id like a share link's (share_access.derive_token)."""
    return share_access.derive_token(secret, room_id, share_access.DEAL_ROOM)


def share_events(doc: Mapping[str, Any], now: datetime) -> list[dict[str, Any]]:
    """One `share` usage event per asset of a new room; ids derived from the room, so a retry never counts twice."""
    events = []
    for i, asset_id in enumerate(doc["asset_ids"]):
        event = {k: doc[k] for k in ("rep_id", "room_id", "opportunity_id", "account_id") if k in doc}
        event.update(event_id=f"share-{doc['room_id']}-{i}", schema_version=model.SCHEMA_VERSION, type="share",
                     asset_id=asset_id, channel=CHANNEL, occurred_at=model.iso(now), received_at=model.iso(now))
        events.append(event)
    return events


def may_manage(doc: Mapping[str, Any], principal: auth.Principal) -> bool:
    """Reps (and marketers) manage their own rooms; admins manage every room."""
    return doc["rep_id"] == principal.subject or principal.role == auth.Role.ADMIN


def state_of(doc: Mapping[str, Any], now: datetime) -> str:
    """'revoked', 'expired' or 'active', as for share links."""
    return shares.state_of(dict(doc), now)


@dataclass
class RoomStore:
    es: Elasticsearch
    names: Names

    def create(self, doc_id: str, doc: dict[str, Any], timeout_s: float) -> None:
        self.es.options(request_timeout=timeout_s).index(
            index=self.names.rooms, id=doc_id, document=doc, op_type="create", refresh="wait_for")

    def delete(self, doc_id: str) -> None:
        self.es.delete(index=self.names.rooms, id=doc_id, refresh="wait_for")

    def get_by_token(self, token: str, timeout_s: float) -> dict[str, Any] | None:
        try:
            found = self.es.options(request_timeout=timeout_s).get(index=self.names.rooms, id=shares.token_hash(token))
        except NotFoundError:
            return None
        return found["_source"]

    def get_by_room_id(self, room_id: str, timeout_s: float) -> tuple[str, dict[str, Any], int, int] | None:
        """(doc id, source, seq_no, primary_term) of a room by its public id."""
        response = self.es.options(request_timeout=timeout_s).search(
            index=self.names.rooms, size=1, query={"term": {"room_id": room_id}}, seq_no_primary_term=True)
        hits = response["hits"]["hits"]
        if not hits:
            return None
        hit = hits[0]
        return hit["_id"], hit["_source"], hit["_seq_no"], hit["_primary_term"]

    def owned(self, room_id: str, principal: auth.Principal, timeout_s: float) -> tuple[str, dict[str, Any], int, int]:
        """The room, when the caller may manage it: NOT_FOUND, or PERMISSION_DENIED for another rep's room."""
        found = self.get_by_room_id(room_id, timeout_s)
        if found is None:
            raise errors.NotFound(f"room {room_id} not found")
        if not may_manage(found[1], principal):
            raise errors.PermissionDenied("only the rep who created a room or an admin may see or change it")
        return found

    def revoke(self, room_id: str, principal: auth.Principal, timeout_s: float) -> dict[str, Any]:
        return shares.mark_revoked(self.es, self.names.rooms, self.owned(room_id, principal, timeout_s), principal,
                                   timeout_s, "room")

    def reveal(self, room_id: str, principal: auth.Principal, secret: str, now: datetime,
               timeout_s: float) -> tuple[dict[str, Any], str]:
        """(document, token) of an active room, for its owner or an admin.

        FAILED_PRECONDITION for a revoked or expired room (copying it would hand out a dead
        link) and for a room whose token is not the derived one (made before rooms could be
        copied again, or before the secret was rotated): that token exists nowhere.
        """
        doc_id, doc, _, _ = self.owned(room_id, principal, timeout_s)
        state = state_of(doc, now)
        if state != "active":
            raise errors.FailedPrecondition(f"room {room_id} is {state}: only active rooms can be copied again")
        if not share_access.can_reveal(secret, doc_id, room_id, share_access.DEAL_ROOM):
            raise errors.FailedPrecondition(
                f"room {room_id} cannot be copied again: it was created before rooms could be copied again "
                "(or the share link secret changed since); its link was shown only once, when it was created")
        return doc, derived_token(secret, room_id)

    def list(self, query: dict[str, Any], size: int, search_after: list[Any] | None,
             timeout_s: float) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"search_after": search_after} if search_after else {}
        response = self.es.options(request_timeout=timeout_s).search(
            index=self.names.rooms, size=size, query=query,
            sort=[{"created_at": "desc"}, {"room_id": "asc"}], **kwargs)
        return [h["_source"] for h in response["hits"]["hits"]]

    def _engagement_search(self, room_ids: list[str], group_by_asset: bool, timeout_s: float) -> dict[str, Any]:
        """Customer opens and reading time of rooms from the raw events (one aggregation), optionally per asset."""
        by_page = {"terms": {"field": "page", "size": 1000, "order": {"_key": "asc"}},
                   "aggs": {"seconds": {"sum": {"field": "seconds"}}}}
        inner: dict[str, Any] = {
            "opens": {"filter": _events_of("customer_open", is_bot=False),
                      "aggs": {"first": {"min": {"field": "occurred_at"}}, "last": {"max": {"field": "occurred_at"}}}},
            "bot_opens": {"filter": _events_of("customer_open", is_bot=True)},
            "pages": {"filter": _events_of("page_view", is_bot=False),
                      "aggs": {"seconds": {"sum": {"field": "seconds"}}, "by_page": by_page}},
        }
        aggs = {"assets": {"terms": {"field": "asset_id", "size": MAX_ASSETS}, "aggs": inner}} if group_by_asset \
            else inner
        response = self.es.options(request_timeout=timeout_s).search(
            index=self.names.events, size=0, ignore_unavailable=True, allow_no_indices=True,
            query={"bool": {"filter": [{"terms": {"room_id": room_ids}}, {"terms": {"type": list(ENGAGEMENT_TYPES)}}]}},
            aggs={"rooms": {"terms": {"field": "room_id", "size": max(1, len(room_ids))}, "aggs": aggs}})
        return response.get("aggregations", {}).get("rooms", {})

    def stats(self, room_ids: list[str], timeout_s: float) -> dict[str, dict[str, Any]]:
        """Totals per room over all its assets."""
        if not room_ids:
            return {}
        found = self._engagement_search(room_ids, False, timeout_s)
        return {b["key"]: read_engagement(b) for b in found.get("buckets", [])}

    def viewer_emails(self, room_id: str, timeout_s: float) -> list[str]:
        """Verified addresses that opened the room, most recent first (as a share link's, shares.viewer_emails).

        Bot verdicts are not applied: only a person who passed the email check has a viewer_email.
        """
        response = self.es.options(request_timeout=timeout_s).search(
            index=self.names.events, size=0, ignore_unavailable=True, allow_no_indices=True,
            query={"bool": {"filter": [{"term": {"room_id": room_id}}, {"term": {"type": "customer_open"}},
                                       {"exists": {"field": "viewer_email"}}]}},
            aggs={"emails": {"terms": {"field": "viewer_email", "size": shares.MAX_VIEWER_EMAILS},
                             "aggs": {"last": {"max": {"field": "occurred_at"}}}}})
        return shares.viewer_emails(response.get("aggregations", {}).get("emails", {}).get("buckets", []))

    def engagement(self, room_id: str, timeout_s: float) -> dict[str, dict[str, Any]]:
        """Engagement per asset of one room (assets nobody opened are absent)."""
        found = self._engagement_search([room_id], True, timeout_s)
        buckets = found.get("buckets", [])
        if not buckets:
            return {}
        return {b["key"]: read_engagement(b) for b in buckets[0]["assets"]["buckets"]}


def _events_of(kind: str, is_bot: bool) -> dict[str, Any]:
    return {"bool": {"filter": [{"term": {"type": kind}}, {"term": {"is_bot": is_bot}}]}}


def read_engagement(bucket: Mapping[str, Any]) -> dict[str, Any]:
    """One aggregation bucket of _engagement_search as plain values."""
    opens = bucket["opens"]
    return {
        "customer_opens": opens["doc_count"],
        "bot_opens": bucket["bot_opens"]["doc_count"],
        "first_opened_ms": opens["first"]["value"] if opens["doc_count"] else None,
        "last_opened_ms": opens["last"]["value"] if opens["doc_count"] else None,
        "seconds": float(bucket["pages"]["seconds"]["value"] or 0.0),
        "pages": [(int(p["key"]), float(p["seconds"]["value"]), p["doc_count"])
                  for p in bucket["pages"]["by_page"]["buckets"]],
    }


# ---- RPCs (the usage server delegates CreateRoom, ResolveRoom, RevokeRoom, ListRooms, GetRoomEngagement,
# RevealRoomLink) ----

STATES = {"active": usage_pb2.SHARE_LINK_STATE_ACTIVE, "expired": usage_pb2.SHARE_LINK_STATE_EXPIRED,
          "revoked": usage_pb2.SHARE_LINK_STATE_REVOKED}
MAX_TOKEN_CHARS = 200


def _ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value.astimezone(timezone.utc))
    return out


def _ts_of_iso(value: str | None) -> Timestamp | None:
    return _ts(times.parse_stored(value)) if value else None


def _ts_of_ms(value: float | None) -> Timestamp | None:
    return _ts(datetime.fromtimestamp(value / 1000, timezone.utc)) if value is not None else None


def room_message(doc: Mapping[str, Any], now: datetime, secret: str = "") -> usage_pb2.DealRoom:
    """The room as the API shows it: access controls as flags and domains (share_access.public_fields), no hash."""
    return usage_pb2.DealRoom(
        room_id=doc["room_id"], title=doc["title"], note=doc.get("note", ""), asset_ids=doc["asset_ids"],
        rep_id=doc["rep_id"], opportunity_id=doc.get("opportunity_id", ""), account_id=doc.get("account_id", ""),
        allow_download=bool(doc.get("allow_download")), created_at=_ts_of_iso(doc["created_at"]),
        expires_at=_ts_of_iso(doc["expires_at"]), revoked_at=_ts_of_iso(doc.get("revoked_at")),
        state=STATES[state_of(doc, now)], revealable=bool(secret) and share_access.revealable(secret, dict(doc)),
        **share_access.public_fields(dict(doc)))


def stats_message(s: Mapping[str, Any]) -> usage_pb2.RoomStats:
    return usage_pb2.RoomStats(customer_opens=s["customer_opens"], bot_opens=s["bot_opens"], seconds=s["seconds"],
                               first_opened_at=_ts_of_ms(s["first_opened_ms"]),
                               last_opened_at=_ts_of_ms(s["last_opened_ms"]))


def _page_times(pages: list[tuple[int, float, int]]) -> list[usage_pb2.PageTime]:
    return [usage_pb2.PageTime(page=p, seconds=sec, views=n) for p, sec, n in pages]


def totals(per_asset: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A room's stats from its per-asset engagement (the same numbers ListRooms reports)."""
    rows = list(per_asset.values())
    firsts = [r["first_opened_ms"] for r in rows if r["first_opened_ms"] is not None]
    lasts = [r["last_opened_ms"] for r in rows if r["last_opened_ms"] is not None]
    return {"customer_opens": sum(r["customer_opens"] for r in rows), "bot_opens": sum(r["bot_opens"] for r in rows),
            "seconds": sum(r["seconds"] for r in rows), "first_opened_ms": min(firsts) if firsts else None,
            "last_opened_ms": max(lasts) if lasts else None}


@dataclass
class RoomRpcs:
    """The deal-room RPCs; `produce` sends usage events and waits for Kafka, `titles` reads the catalog view."""

    store: RoomStore
    settings: config.Settings
    produce: Callable[[list[dict[str, Any]]], None]
    catalog: Callable[[list[str], float], dict[str, dict[str, Any]]]

    def create(self, request: usage_pb2.CreateRoomRequest, timeout_s: float) -> usage_pb2.CreateRoomResponse:
        principal = auth.current_principal()
        now = datetime.now(timezone.utc)
        spec = validate_create(request, now, self.settings.usage_share_ttl_days)
        check_assets(spec.asset_ids, self.catalog(spec.asset_ids, timeout_s), now)
        access = share_access.access_fields(spec.passcode, spec.require_email, list(spec.allowed_email_domains),
                                            mail.enabled(self.settings))
        secret = self.settings.share_link_secret
        room_id = new_room_id()
        token = derived_token(secret, room_id)
        doc = room_document(spec, room_id, principal.subject, now, access, share_access.secret_id(secret))
        doc_id = shares.token_hash(token)
        self.store.create(doc_id, doc, timeout_s)
        try:
            self.produce(share_events(doc, now))
        except errors.Unavailable:
            try:  # no room without its share events: the client retries the whole call
                self.store.delete(doc_id)
            except Exception:  # noqa: BLE001
                log.warning("could not delete a room after its share events failed", exc_info=True)
            raise
        metrics.USAGE_SHARE_LINKS.labels("room_created").inc()
        return usage_pb2.CreateRoomResponse(room=self._message(doc, now), token=token, url=self._url(token))

    def _message(self, doc: Mapping[str, Any], now: datetime) -> usage_pb2.DealRoom:
        return room_message(doc, now, self.settings.share_link_secret)

    def _url(self, token: str) -> str:
        return f"{self.settings.portal_public_url.rstrip('/')}/r/{token}"

    def resolve(self, request: usage_pb2.ResolveRoomRequest, timeout_s: float) -> usage_pb2.ResolveRoomResponse:
        token = request.token.strip()
        if not token:
            raise errors.InvalidArgument("token", "is required")
        if len(token) > MAX_TOKEN_CHARS:
            raise errors.InvalidArgument("token", "too long")
        if len(request.passcode) > share_access.MAX_PASSCODE_CHARS:
            raise errors.InvalidArgument("passcode", f"at most {share_access.MAX_PASSCODE_CHARS} characters")
        doc = self.store.get_by_token(token, timeout_s)
        if doc is None:
            metrics.USAGE_SHARE_LINKS.labels("room_not_found").inc()
            raise errors.NotFound("room not found")
        now = datetime.now(timezone.utc)
        state = state_of(doc, now)
        if state != "active":
            metrics.USAGE_SHARE_LINKS.labels(f"room_{state}").inc()
            raise errors.FailedPrecondition(f"room {state}")
        metrics.USAGE_SHARE_LINKS.labels("room_resolved").inc()
        return usage_pb2.ResolveRoomResponse(room=self._message(doc, now),
                                             passcode_accepted=share_access.passcode_matches(doc, request.passcode))

    def revoke(self, request: usage_pb2.RevokeRoomRequest, timeout_s: float) -> usage_pb2.RevokeRoomResponse:
        room_id = validation.identifier(request.room_id, "room_id")
        doc = self.store.revoke(room_id, auth.current_principal(), timeout_s)
        metrics.USAGE_SHARE_LINKS.labels("room_revoked").inc()
        return usage_pb2.RevokeRoomResponse(room=self._message(doc, datetime.now(timezone.utc)))

    def reveal(self, request: usage_pb2.RevealRoomLinkRequest, timeout_s: float) -> usage_pb2.RevealRoomLinkResponse:
        room_id = validation.identifier(request.room_id, "room_id")
        now = datetime.now(timezone.utc)
        doc, token = self.store.reveal(room_id, auth.current_principal(), self.settings.share_link_secret, now,
                                       timeout_s)
        metrics.USAGE_SHARE_LINKS.labels("room_revealed").inc()
        return usage_pb2.RevealRoomLinkResponse(room=self._message(doc, now), token=token, url=self._url(token))

    def _list_query(self, request: usage_pb2.ListRoomsRequest, now: datetime) -> dict[str, Any]:
        principal = auth.current_principal()
        rep_id = validation.identifier(request.rep_id, "rep_id", required=False)
        filters: list[dict[str, Any]] = []
        if principal.role == auth.Role.ADMIN:
            if rep_id:
                filters.append({"term": {"rep_id": rep_id}})
        else:
            if rep_id and rep_id != principal.subject:
                raise errors.PermissionDenied("only admins list other reps' rooms")
            filters.append({"term": {"rep_id": principal.subject}})
        query: dict[str, Any] = {"bool": {"filter": filters}}
        if not request.include_inactive:
            filters.append({"range": {"expires_at": {"gt": model.iso(now)}}})
            query["bool"]["must_not"] = [{"exists": {"field": "revoked_at"}}]
        return query

    def _cursor(self, page_token: str) -> list[Any] | None:
        cursor = pagination.decode(self.settings.auth_secret, validation.page_token(page_token))
        if cursor is not None and not (isinstance(cursor, list) and len(cursor) == 2 and type(cursor[0]) is int
                                       and isinstance(cursor[1], str) and len(cursor[1]) <= validation.MAX_ID_CHARS):
            raise errors.InvalidArgument("page_token", "malformed page token")
        return cursor

    def list(self, request: usage_pb2.ListRoomsRequest, timeout_s: float) -> usage_pb2.ListRoomsResponse:
        size = pagination.clamp_page_size(request.page_size, default=20, maximum=100)
        cursor = self._cursor(request.page_token)
        now = datetime.now(timezone.utc)
        docs = self.store.list(self._list_query(request, now), size + 1, cursor, timeout_s)
        more, docs = len(docs) > size, docs[:size]
        stats = self.store.stats([d["room_id"] for d in docs], timeout_s)
        out = []
        for d in docs:
            message = self._message(d, now)
            if d["room_id"] in stats:
                message.stats.CopyFrom(stats_message(stats[d["room_id"]]))
            out.append(message)
        token = ""
        if more and docs:
            last = docs[-1]
            token = pagination.encode(self.settings.auth_secret,
                                      [int(times.epoch_s(last["created_at"]) * 1000), last["room_id"]])
        return usage_pb2.ListRoomsResponse(rooms=out, next_page_token=token)

    def engagement(self, request: usage_pb2.GetRoomEngagementRequest,
                   timeout_s: float) -> usage_pb2.GetRoomEngagementResponse:
        room_id = validation.identifier(request.room_id, "room_id")
        _, doc, _, _ = self.store.owned(room_id, auth.current_principal(), timeout_s)
        per_asset = self.store.engagement(room_id, timeout_s)
        catalog = self.catalog(doc["asset_ids"], timeout_s)
        room = self._message(doc, datetime.now(timezone.utc))
        room.stats.CopyFrom(stats_message(totals(per_asset)))
        viewers = self.store.viewer_emails(room_id, timeout_s) if doc.get("email_verification") else []
        assets = []
        for asset_id in doc["asset_ids"]:
            e = per_asset.get(asset_id)
            row = usage_pb2.RoomAssetEngagement(asset_id=asset_id, title=catalog.get(asset_id, {}).get("title", ""))
            if e:
                row.customer_opens, row.bot_opens, row.seconds = e["customer_opens"], e["bot_opens"], e["seconds"]
                if e["last_opened_ms"] is not None:
                    row.last_opened_at.CopyFrom(_ts_of_ms(e["last_opened_ms"]))
                row.pages.extend(_page_times(e["pages"]))
            assets.append(row)
        return usage_pb2.GetRoomEngagementResponse(room=room, assets=assets, viewer_emails=viewers)
