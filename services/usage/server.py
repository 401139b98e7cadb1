"""The usage gRPC service: ingest, share links, reports.

Ingest validates with the same contract the consumer applies to JSON written straight
to Kafka (model.validate), then produces and waits for the broker's acknowledgement;
it never writes Elasticsearch itself, so there is exactly one writer of the raw events
and every source of events is deduplicated and bot-filtered the same way.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import common_pb2, usage_pb2, usage_pb2_grpc
from services.common import (auth, config, errors, es as es_util, grpc_server, kafka_io, metrics, pagination, topics,
                             validation)
from services.common.contracts import times
from services.common import audit, mail
from services.common.grpc_server import remaining_timeout
from services.usage import model, reports, share_access, shares, store
from services.usage import rooms
from services.usage import hot_accounts
from services.usage import unused
from services.usage import adoption
from services.usage import notify_rpc, notify_store

log = logging.getLogger(__name__)

ES_TIMEOUT_S = 10.0
RETRY_HINT = ("Retrying with the same event_id values is safe: duplicates are dropped "
              "(an event sent without an event_id gets a new one on every call)")
MAX_REPORT_DAYS = 400
SERVICE_ROLES = frozenset({auth.Role.ADMIN, auth.Role.SERVICE})
STAGE_NAMES = {v: common_pb2.BuyingStage.Name(v).removeprefix("BUYING_STAGE_").lower()
               for v in common_pb2.BuyingStage.values() if v}
MEASURE_NAMES = {v: usage_pb2.UsageMeasure.Name(v).removeprefix("USAGE_MEASURE_").lower()
                 for v in usage_pb2.UsageMeasure.values() if v}
TYPE_NAMES = {v: usage_pb2.UsageEventType.Name(v).removeprefix("USAGE_EVENT_TYPE_").lower()
              for v in usage_pb2.UsageEventType.values() if v}
TYPE_VALUES = {name: value for value, name in TYPE_NAMES.items()}


def _ts(when: datetime | None) -> Timestamp | None:
    if when is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(when.astimezone(timezone.utc))
    return ts


def _ts_of_iso(value: str | None) -> Timestamp | None:
    if not value:
        return None
    return _ts(times.parse_stored(value))


def _ts_of_ms(value: float | None) -> Timestamp | None:
    if value is None:
        return None
    return _ts(datetime.fromtimestamp(value / 1000, timezone.utc))


def _id(value: str, field: str, required: bool = True) -> str:
    return validation.identifier(value, field, required)


def event_dict(ev: usage_pb2.UsageEvent, now: datetime, secret: str, field: str = "event") -> dict[str, Any]:
    """The JSON contract form of a proto event (then validated by model.validate).

    `field` is the event's path in the request (`events[3]`), for INVALID_ARGUMENT on its time.
    """
    occurred = validation.optional_timestamp(ev, "occurred_at", f"{field}.occurred_at") or now
    d: dict[str, Any] = {
        "event_id": ev.event_id or f"evt-{uuid.uuid4().hex}",
        "schema_version": model.SCHEMA_VERSION,
        "occurred_at": model.iso(occurred),
        "received_at": model.iso(now),
        "type": TYPE_NAMES.get(ev.type, ""),
        "asset_id": ev.asset_id,
        "rep_id": ev.rep_id,
    }
    for name in ("opportunity_id", "account_id", "share_id", "room_id", "channel", "user_agent", "team", "region",
                 "viewer_email"):
        value = getattr(ev, name)
        if value:
            d[name] = value
    if ev.page or d["type"] == "page_view":
        d["page"] = ev.page
    if ev.seconds or d["type"] == "page_view":
        d["seconds"] = ev.seconds
    if ev.ip:
        d["ip_hash"] = model.hash_ip(secret, ev.ip)  # hashed at the edge: the raw IP never reaches Kafka
    if ev.headers:
        d["headers"] = {k.lower(): v for k, v in ev.headers.items()}
    return d


class UsageServicer(usage_pb2_grpc.UsageServiceServicer):
    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings
        self.es = es_util.client(settings)
        self.names = store.Names.of(settings)
        self.producer = kafka_io.Producer(settings, client_id="usage-server")
        self.usage_topic = topics.USAGE.name(settings)
        self.shares = shares.ShareStore(self.es, self.names)
        self.notifications = notify_rpc.NotificationApi(self.es, settings)
        self.rooms = rooms.RoomRpcs(rooms.RoomStore(self.es, self.names), settings, self._produce_events,
                                    lambda ids, timeout: reports.titles(self.es, self.names, ids, timeout))

    def _produce_events(self, events: list[dict[str, Any]]) -> None:
        """Send contract-form usage events (keyed by asset) and wait for Kafka's acknowledgement."""
        self.producer.send_and_wait([kafka_io.Record(self.usage_topic, e["asset_id"], json.dumps(e).encode())
                                     for e in events])

    # ---- deal rooms (services/usage/rooms.py) ---------------------------------------
    def CreateRoom(self, request: usage_pb2.CreateRoomRequest, context: grpc.ServicerContext) -> Any:
        return self.rooms.create(request, remaining_timeout(ES_TIMEOUT_S))

    def ResolveRoom(self, request: usage_pb2.ResolveRoomRequest, context: grpc.ServicerContext) -> Any:
        return self.rooms.resolve(request, remaining_timeout(ES_TIMEOUT_S))

    def RevokeRoom(self, request: usage_pb2.RevokeRoomRequest, context: grpc.ServicerContext) -> Any:
        return self.rooms.revoke(request, remaining_timeout(ES_TIMEOUT_S))

    def ListRooms(self, request: usage_pb2.ListRoomsRequest, context: grpc.ServicerContext) -> Any:
        return self.rooms.list(request, remaining_timeout(ES_TIMEOUT_S))

    def GetRoomEngagement(self, request: usage_pb2.GetRoomEngagementRequest, context: grpc.ServicerContext) -> Any:
        return self.rooms.engagement(request, remaining_timeout(ES_TIMEOUT_S))

    def RevealRoomLink(self, request: usage_pb2.RevealRoomLinkRequest, context: grpc.ServicerContext) -> Any:
        return self.rooms.reveal(request, remaining_timeout(ES_TIMEOUT_S))

    # ---- ingest ---------------------------------------------------------------------
    def RecordEvents(self, request: usage_pb2.RecordEventsRequest, context: grpc.ServicerContext) -> Any:
        principal = auth.current_principal()
        if not request.events:
            raise errors.InvalidArgument("events", "at least one event is required")
        if len(request.events) > self.settings.usage_max_batch:
            raise errors.InvalidArgument("events", f"at most {self.settings.usage_max_batch} events per call")
        now = datetime.now(timezone.utc)
        records: list[kafka_io.Record] = []
        types: list[str] = []
        for i, ev in enumerate(request.events):
            if ev.type not in TYPE_NAMES:
                raise errors.InvalidArgument(f"events[{i}].type", "a known event type is required")
            d = event_dict(ev, now, self.settings.auth_secret, f"events[{i}]")
            try:
                d = model.validate(d, now)
            except model.EventError as exc:
                raise errors.InvalidArgument(f"events[{i}].{exc.field}", exc.message) from None
            if principal.role not in SERVICE_ROLES:
                if d["rep_id"] != principal.subject:
                    raise errors.PermissionDenied(f"events[{i}].rep_id: you may only record your own events")
                if d["type"] in model.CUSTOMER_TYPES:
                    raise errors.PermissionDenied(f"events[{i}].type: customer events are recorded by the portal")
            value = json.dumps(d, separators=(",", ":")).encode()
            if len(value) > model.MAX_EVENT_BYTES:
                raise errors.InvalidArgument(f"events[{i}]", f"event larger than {model.MAX_EVENT_BYTES} bytes")
            records.append(kafka_io.Record(self.usage_topic, d["asset_id"], value))
            types.append(d["type"])
        try:
            self.producer.send_and_wait(records)
        except errors.Unavailable as exc:
            raise errors.Unavailable(f"{exc.message}. {RETRY_HINT}") from None
        for kind in types:
            metrics.USAGE_EVENTS_RECORDED.labels(kind).inc()
        return usage_pb2.RecordEventsResponse(
            event_ids=[json.loads(r.value)["event_id"] for r in records], received_at=_ts(now))

    # ---- share links ----------------------------------------------------------------
    def _share_message(self, doc: dict[str, Any], now: datetime) -> usage_pb2.ShareLink:
        state = {"active": usage_pb2.SHARE_LINK_STATE_ACTIVE, "expired": usage_pb2.SHARE_LINK_STATE_EXPIRED,
                 "revoked": usage_pb2.SHARE_LINK_STATE_REVOKED}[shares.state_of(doc, now)]
        return usage_pb2.ShareLink(
            share_id=doc["share_id"], asset_id=doc["asset_id"], rep_id=doc["rep_id"],
            opportunity_id=doc.get("opportunity_id", ""), account_id=doc.get("account_id", ""),
            recipient_note=doc.get("recipient_note", ""), allow_download=bool(doc.get("allow_download")),
            created_at=_ts_of_iso(doc["created_at"]), expires_at=_ts_of_iso(doc["expires_at"]),
            revoked_at=_ts_of_iso(doc.get("revoked_at")), state=state,
            call_to_action=shares.CTA_VALUES.get(doc.get("call_to_action", ""), 0),
            meeting_url=doc.get("meeting_url", ""), customer_message=doc.get("customer_message", ""),
            revealable=share_access.revealable(self.settings.share_link_secret, doc), **share_access.public_fields(doc))

    def CreateShareLink(self, request: usage_pb2.CreateShareLinkRequest, context: grpc.ServicerContext) -> Any:
        principal = auth.current_principal()
        asset_id = _id(request.asset_id, "asset_id")
        opportunity_id = _id(request.opportunity_id, "opportunity_id", required=False)
        account_id = _id(request.account_id, "account_id", required=False)
        if not opportunity_id and not account_id:
            raise errors.InvalidArgument("opportunity_id", "opportunity_id or account_id is required")
        if len(request.recipient_note) > shares.MAX_NOTE_CHARS:
            raise errors.InvalidArgument("recipient_note", f"at most {shares.MAX_NOTE_CHARS} characters")
        if len(request.customer_message) > shares.MAX_MESSAGE_CHARS:
            raise errors.InvalidArgument("customer_message", f"at most {shares.MAX_MESSAGE_CHARS} characters")
        channel = _id(request.channel, "channel", required=False)[:64] or "portal"
        call_to_action = shares.call_to_action_fields(request.call_to_action, request.meeting_url, principal.subject)
        now = datetime.now(timezone.utc)
        if request.HasField("expires_at"):
            expires = validation.timestamp(request.expires_at, "expires_at")
            if expires <= now:
                raise errors.InvalidArgument("expires_at", "must be in the future")
            if expires - now > shares.MAX_TTL:
                raise errors.InvalidArgument("expires_at", "at most 365 days ahead")
        else:
            expires = now + timedelta(days=self.settings.usage_share_ttl_days)
        timeout = remaining_timeout(ES_TIMEOUT_S)
        shares.check_shareable(asset_id, reports.titles(self.es, self.names, [asset_id], timeout).get(asset_id), now)
        access = share_access.access_fields(request.passcode, request.require_email_verification,
                                            list(request.allowed_email_domains), mail.enabled(self.settings))
        share_id = shares.new_share_id()
        token = share_access.derive_token(self.settings.share_link_secret, share_id)
        doc: dict[str, Any] = {
            "share_id": share_id, "token_secret_id": share_access.secret_id(self.settings.share_link_secret), "asset_id": asset_id, "rep_id": principal.subject,
            "allow_download": request.allow_download, "channel": channel,
            "created_at": model.iso(now), "expires_at": model.iso(expires),
        }
        if opportunity_id:
            doc["opportunity_id"] = opportunity_id
        if account_id:
            doc["account_id"] = account_id
        if request.recipient_note:
            doc["recipient_note"] = request.recipient_note
        if request.customer_message:
            doc["customer_message"] = request.customer_message
        doc.update(call_to_action)
        doc.update(access)
        doc_id = shares.token_hash(token)
        self.shares.create(doc_id, doc, timeout)
        event = {k: doc[k] for k in ("asset_id", "rep_id", "share_id", "opportunity_id", "account_id", "channel")
                 if k in doc}
        event.update(event_id=f"share-{doc['share_id']}", schema_version=model.SCHEMA_VERSION, type="share",
                     occurred_at=model.iso(now), received_at=model.iso(now))
        try:
            self.producer.send_and_wait([kafka_io.Record(self.usage_topic, asset_id, json.dumps(event).encode())])
        except errors.Unavailable:
            try:  # no link without its share event: the client retries the whole call
                self.shares.delete(doc_id)
            except Exception:  # noqa: BLE001
                log.warning("could not delete share link after a failed share event", exc_info=True)
            raise
        metrics.USAGE_SHARE_LINKS.labels("created").inc()
        url = f"{self.settings.portal_public_url.rstrip('/')}/s/{token}"
        return usage_pb2.CreateShareLinkResponse(share=self._share_message(doc, now), token=token, url=url)

    def ResolveShareLink(self, request: usage_pb2.ResolveShareLinkRequest, context: grpc.ServicerContext) -> Any:
        token = request.token.strip()
        if not token:
            raise errors.InvalidArgument("token", "is required")
        if len(token) > 200:
            raise errors.InvalidArgument("token", "too long")
        passcode = request.passcode
        if len(passcode) > share_access.MAX_PASSCODE_CHARS:
            raise errors.InvalidArgument("passcode", f"at most {share_access.MAX_PASSCODE_CHARS} characters")
        doc = self.shares.get_by_token(token, remaining_timeout(ES_TIMEOUT_S))
        if doc is None:
            metrics.USAGE_SHARE_LINKS.labels("not_found").inc()
            raise errors.NotFound("share link not found")
        now = datetime.now(timezone.utc)
        state = shares.state_of(doc, now)
        if state != "active":
            metrics.USAGE_SHARE_LINKS.labels(state).inc()
            raise errors.FailedPrecondition(f"share link {state}")
        metrics.USAGE_SHARE_LINKS.labels("resolved").inc()
        return usage_pb2.ResolveShareLinkResponse(share=self._share_message(doc, now),
                                                  passcode_accepted=share_access.passcode_matches(doc, passcode))

    def RevokeShareLink(self, request: usage_pb2.RevokeShareLinkRequest, context: grpc.ServicerContext) -> Any:
        share_id = _id(request.share_id, "share_id")
        doc = self.shares.revoke(share_id, auth.current_principal(), remaining_timeout(ES_TIMEOUT_S))
        metrics.USAGE_SHARE_LINKS.labels("revoked").inc()
        return usage_pb2.RevokeShareLinkResponse(share=self._share_message(doc, datetime.now(timezone.utc)))

    def RevealShareLink(self, request: usage_pb2.RevealShareLinkRequest, context: grpc.ServicerContext) -> Any:
        share_id = _id(request.share_id, "share_id")
        now = datetime.now(timezone.utc)
        doc, token = self.shares.reveal(share_id, auth.current_principal(), self.settings.share_link_secret, now,
                                        remaining_timeout(ES_TIMEOUT_S))
        metrics.USAGE_SHARE_LINKS.labels("revealed").inc()
        url = f"{self.settings.portal_public_url.rstrip('/')}/s/{token}"
        return usage_pb2.RevealShareLinkResponse(share=self._share_message(doc, now), token=token, url=url)

    def ListShareLinks(self, request: usage_pb2.ListShareLinksRequest, context: grpc.ServicerContext) -> Any:
        principal = auth.current_principal()
        size = pagination.clamp_page_size(request.page_size, default=20, maximum=100)
        cursor = pagination.decode(self.settings.auth_secret, request.page_token)
        if cursor is not None and not (isinstance(cursor, list) and len(cursor) == 2 and type(cursor[0]) is int
                                       and isinstance(cursor[1], str) and len(cursor[1]) <= validation.MAX_ID_CHARS):
            raise errors.InvalidArgument("page_token", "malformed page token")
        now = datetime.now(timezone.utc)
        filters: list[dict[str, Any]] = []
        if principal.is_curator:
            if request.rep_id:
                filters.append({"term": {"rep_id": _id(request.rep_id, "rep_id")}})
        else:
            if request.rep_id and request.rep_id != principal.subject:
                raise errors.PermissionDenied("reps list only their own share links")
            filters.append({"term": {"rep_id": principal.subject}})
        if request.asset_id:
            filters.append({"term": {"asset_id": _id(request.asset_id, "asset_id")}})
        query: dict[str, Any] = {"bool": {"filter": filters}}
        if not request.include_inactive:
            filters.append({"range": {"expires_at": {"gt": model.iso(now)}}})
            query["bool"]["must_not"] = [{"exists": {"field": "revoked_at"}}]
        timeout = remaining_timeout(ES_TIMEOUT_S)
        docs = self.shares.list(query, size + 1, cursor, timeout)
        more = len(docs) > size
        docs = docs[:size]
        stats = self.shares.stats([d["share_id"] for d in docs], timeout)
        out = []
        for d in docs:
            message = self._share_message(d, now)
            s = stats.get(d["share_id"])
            if s:
                message.stats.CopyFrom(usage_pb2.ShareStats(
                    customer_opens=s["customer_opens"], bot_opens=s["bot_opens"],
                    first_opened_at=_ts_of_ms(s["first_opened_ms"]), last_opened_at=_ts_of_ms(s["last_opened_ms"]),
                    pages=[usage_pb2.PageTime(page=p, seconds=sec, views=n) for p, sec, n in s["pages"]],
                    viewer_emails=s["viewer_emails"]))
            out.append(message)
        token = ""
        if more and docs:
            last = docs[-1]
            created_ms = int(times.epoch_s(last["created_at"]) * 1000)
            token = pagination.encode(self.settings.auth_secret, [created_ms, last["share_id"]])
        return usage_pb2.ListShareLinksResponse(shares=out, next_page_token=token)

    # ---- notifications (notify_rpc.py) ---------------------------------------------------
    def GetNotificationSettings(self, request: usage_pb2.GetNotificationSettingsRequest,
                                context: grpc.ServicerContext) -> Any:
        return self.notifications.get_settings(request, remaining_timeout(ES_TIMEOUT_S))

    def UpdateNotificationSettings(self, request: usage_pb2.UpdateNotificationSettingsRequest,
                                   context: grpc.ServicerContext) -> Any:
        return self.notifications.update_settings(request, remaining_timeout(ES_TIMEOUT_S))

    def ListNotifications(self, request: usage_pb2.ListNotificationsRequest, context: grpc.ServicerContext) -> Any:
        return self.notifications.list(request, remaining_timeout(ES_TIMEOUT_S))

    def MarkNotificationsRead(self, request: usage_pb2.MarkNotificationsReadRequest,
                              context: grpc.ServicerContext) -> Any:
        return self.notifications.mark_read(request, remaining_timeout(ES_TIMEOUT_S))

    # ---- reports --------------------------------------------------------------------
    def _range(self, time_range: common_pb2.TimeRange, default_days: int, field: str) -> tuple[datetime, datetime]:
        now = datetime.now(timezone.utc)
        end = validation.optional_timestamp(time_range, "end", f"{field}.end") or now
        start = (validation.optional_timestamp(time_range, "start", f"{field}.start")
                 or validation.shift(end, -timedelta(days=default_days), f"{field}.end"))
        if start >= end:
            raise errors.InvalidArgument(f"{field}.start", "must be before the end")
        if end - start > timedelta(days=MAX_REPORT_DAYS):
            raise errors.InvalidArgument(field, f"at most {MAX_REPORT_DAYS} days wide")
        return start, end

    @staticmethod
    def _summary(s: dict[str, Any]) -> usage_pb2.UsageSummary:
        return usage_pb2.UsageSummary(
            counts=[usage_pb2.TypeCount(type=TYPE_VALUES[k], count=n) for k, n in sorted(s["counts"].items())
                    if k in TYPE_VALUES],
            unique_reps=s["unique_reps"], unique_accounts=s["unique_accounts"], customer_opens=s["customer_opens"],
            bot_events=s["bot_events"], seconds_read=s["seconds_read"], total_events=s["total_events"])

    def GetAssetUsage(self, request: usage_pb2.GetAssetUsageRequest, context: grpc.ServicerContext) -> Any:
        asset_id = _id(request.asset_id, "asset_id")
        start, end = self._range(request.time_range, 30, "time_range")
        interval = "week" if request.interval == usage_pb2.USAGE_INTERVAL_WEEK else "day"
        timeout = remaining_timeout(ES_TIMEOUT_S)
        result = reports.asset_usage(self.es, self.names, asset_id, start, end, interval, timeout)
        known = asset_id in reports.titles(self.es, self.names, [asset_id], timeout)
        return usage_pb2.GetAssetUsageResponse(
            asset_id=asset_id, totals=self._summary(result["totals"]), known_asset=known,
            buckets=[usage_pb2.UsageBucket(start=_ts_of_ms(key), summary=self._summary(s)) for key, s in result["buckets"]],
            pages=[usage_pb2.PageTime(page=p, seconds=sec, views=n) for p, sec, n in result["pages"]])

    def TopAssets(self, request: usage_pb2.TopAssetsRequest, context: grpc.ServicerContext) -> Any:
        measure = MEASURE_NAMES.get(request.measure or usage_pb2.USAGE_MEASURE_CUSTOMER_OPENS)
        if measure is None:
            raise errors.InvalidArgument("measure", "unknown measure")
        start, end = self._range(request.time_range, 30, "time_range")
        limit = pagination.clamp_page_size(request.limit, default=10, maximum=100, field="limit")
        seg = request.segment
        if seg.deal_size_bands:
            raise errors.InvalidArgument("segment.deal_size_bands", "usage reports cannot filter by deal size")
        teams, regions, industries, product_lines = (
            validation.labels(getattr(seg, name), f"segment.{name}")
            for name in ("teams", "regions", "industries", "product_lines"))
        event_filters: list[dict[str, Any]] = []
        if teams:
            event_filters.append({"terms": {"team": teams}})
        if regions:
            event_filters.append({"terms": {"region": regions}})
        asset_filters: list[dict[str, Any]] = []
        if industries:
            asset_filters.append({"terms": {"industries": industries}})
        if product_lines:
            asset_filters.append({"terms": {"products": product_lines}})
        if request.buying_stages:
            stages = []
            for i, stage in enumerate(validation.bounded(request.buying_stages, "buying_stages",
                                                         validation.MAX_FILTER_VALUES)):
                if stage not in STAGE_NAMES:
                    raise errors.InvalidArgument(f"buying_stages[{i}]", "unknown buying stage")
                stages.append(STAGE_NAMES[stage])
            asset_filters.append({"terms": {"buying_stages": stages}})
        if request.asset_types:
            asset_filters.append({"terms": {"type": [t.lower().removeprefix("asset_type_")
                                                     for t in validation.labels(request.asset_types, "asset_types")]}})
        timeout = remaining_timeout(30.0)
        asset_ids = reports.matching_assets(self.es, self.names, asset_filters, timeout) if asset_filters else None
        if asset_ids == []:
            return usage_pb2.TopAssetsResponse()
        ranked = reports.top_assets(self.es, self.names, measure, start, end, event_filters, asset_ids, limit, timeout)
        catalog = reports.titles(self.es, self.names, [a for a, _ in ranked], timeout)
        return usage_pb2.TopAssetsResponse(assets=[
            usage_pb2.TopAsset(asset_id=a, title=catalog.get(a, {}).get("title", ""), value=v, rank=i + 1)
            for i, (a, v) in enumerate(ranked)])

    def ListUnusedAssets(self, request: usage_pb2.ListUnusedAssetsRequest, context: grpc.ServicerContext) -> Any:
        start, end = self._range(request.window, 90, "window")
        return unused.answer(self.es, self.names, request, start, end, datetime.now(timezone.utc),
                             self.settings.auth_secret, remaining_timeout(30.0))

    def GetAdoptionOverview(self, request: usage_pb2.GetAdoptionOverviewRequest,
                            context: grpc.ServicerContext) -> Any:
        start, end = self._range(request.time_range, 90, "time_range")
        limit = pagination.clamp_page_size(request.movers_limit, default=5, maximum=50, field="movers_limit")
        return adoption.overview(self.es, self.names, start, end, limit, remaining_timeout(30.0))

    def ListHotAccounts(self, request: usage_pb2.ListHotAccountsRequest, context: grpc.ServicerContext) -> Any:
        return hot_accounts.answer(self.es, self.names, request, auth.current_principal(), self.settings.auth_secret,
                                   remaining_timeout(30.0))


WRITERS = auth.ANY_USER | {auth.Role.SERVICE}
ACCESS = {
    "RecordEvents": frozenset(WRITERS),
    "CreateShareLink": auth.ANY_USER,
    "RevokeShareLink": auth.ANY_USER,
    "ListShareLinks": auth.ANY_USER,
    "RevealShareLink": auth.ANY_USER,
    "ResolveShareLink": frozenset(SERVICE_ROLES),
    "GetAssetUsage": auth.CURATORS,
    "TopAssets": auth.CURATORS,
    "ListUnusedAssets": auth.CURATORS,
    "GetAdoptionOverview": auth.CURATORS,
    "CreateRoom": auth.ANY_USER,
    "RevokeRoom": auth.ANY_USER,
    "ListRooms": auth.ANY_USER,
    "GetRoomEngagement": auth.ANY_USER,
    "RevealRoomLink": auth.ANY_USER,
    "ResolveRoom": frozenset(SERVICE_ROLES),
    "ListHotAccounts": auth.ANY_USER,
    "GetNotificationSettings": auth.ANY_USER,
    "UpdateNotificationSettings": auth.ANY_USER,
    "ListNotifications": auth.ANY_USER,
    "MarkNotificationsRead": auth.ANY_USER,
}


def audited(servicer: UsageServicer) -> dict[str, audit.Audited]:
    """How each state-changing RPC is recorded in the audit log (RecordEvents is ingestion: audit.NOT_AUDITED)."""

    def share_link(share_id: str) -> dict[str, Any] | None:
        found = servicer.shares.get_by_share_id(share_id, ES_TIMEOUT_S)
        return found[1] if found else None

    def room(room_id: str) -> dict[str, Any] | None:
        found = servicer.rooms.store.get_by_room_id(room_id, ES_TIMEOUT_S)
        return found[1] if found else None

    return {
        "CreateShareLink": audit.Audited("share_link", share_link, lambda r: [],
                                         audit.response_field("share", "share_id")),
        "RevokeShareLink": audit.Audited("share_link", share_link, audit.field_of("share_id")),
        "RevealShareLink": audit.Audited("share_link", share_link, audit.field_of("share_id")),
        "CreateRoom": audit.Audited("deal_room", room, lambda r: [], audit.response_field("room", "room_id")),
        "RevokeRoom": audit.Audited("deal_room", room, audit.field_of("room_id")),
        "RevealRoomLink": audit.Audited("deal_room", room, audit.field_of("room_id")),
        "UpdateNotificationSettings": audit.Audited(
            "notification_settings", servicer.notifications.stored_settings,
            lambda r: [r.settings.rep_id or auth.current_principal().subject]),
        "MarkNotificationsRead": audit.Audited(
            "notifications", lambda rep: {"unread_count": servicer.notifications.unread(rep, ES_TIMEOUT_S)},
            lambda r: [auth.current_principal().subject]),
    }


# Health names `collateral.v1.UsageService/<capability>`; the server's status follows ingest,
# so replicas keep taking events while only Elasticsearch (reports, share links) is down.
CAPABILITIES = {
    "ingest": grpc_server.Capability.of({"kafka"}, {"RecordEvents"}),
    "shares": grpc_server.Capability.of({"elasticsearch", "kafka"},
                                        {"CreateShareLink", "RevokeShareLink", "ListShareLinks", "ResolveShareLink",
                                         "RevealShareLink"}),
    "rooms": grpc_server.Capability.of({"elasticsearch", "kafka"},
                                       {"CreateRoom", "ResolveRoom", "RevokeRoom", "ListRooms", "GetRoomEngagement",
                                        "RevealRoomLink"}),
    "reports": grpc_server.Capability.of({"elasticsearch"}, {"GetAssetUsage", "TopAssets", "ListUnusedAssets",
                                                            "ListHotAccounts", "GetAdoptionOverview"}),
    "notifications": grpc_server.Capability.of({"elasticsearch"}, {
        "GetNotificationSettings", "UpdateNotificationSettings", "ListNotifications", "MarkNotificationsRead"}),
}


def build_spec(settings: config.Settings) -> grpc_server.ServiceSpec:
    """The usage server; it contacts no dependency here (the health loop sets them up)."""
    servicer = UsageServicer(settings)
    kafka_probe = kafka_io.TopicsProbe(settings, [servicer.usage_topic], settings.health_probe_timeout_s)

    def register(server: grpc.Server) -> None:
        usage_pb2_grpc.add_UsageServiceServicer_to_server(servicer, server)

    return grpc_server.ServiceSpec(
        name="usage",
        full_name="collateral.v1.UsageService",
        register=register,
        access=ACCESS,
        audited=audited(servicer),
        default_port=50052,
        default_metrics_port=9465,
        probes={"elasticsearch": lambda: es_util.reachable(servicer.es, settings.health_probe_timeout_s),
                "kafka": kafka_probe},
        set_up={"kafka": lambda: topics.ensure_all(settings), "elasticsearch": lambda: (store.ensure(servicer.es, settings),
                                                                    notify_store.ensure(servicer.es, settings))},
        capabilities=CAPABILITIES,
        core="ingest",
        on_shutdown=[servicer.producer.close, kafka_probe.close],
    )
