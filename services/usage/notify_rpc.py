"""The notification RPCs of the usage service: preferences, the portal list, read marks.

Kept out of server.py so the servicer only delegates. A rep reads and changes their own
preferences and notifications; an admin may read and change anyone's preferences (to fix a
broken webhook, say), but the notification list is always the caller's own.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import usage_pb2
from services.common import auth, config, errors, pagination, validation
from services.common.contracts import times
from services.usage import notify_channels
from services.usage import notify_model as nm
from services.usage import notify_store

MAX_MARK_IDS = 100
DELIVERY_VALUES = {nm.IMMEDIATE: usage_pb2.NOTIFICATION_DELIVERY_IMMEDIATE,
                   nm.DIGEST: usage_pb2.NOTIFICATION_DELIVERY_DAILY_DIGEST}
DELIVERY_NAMES = {v: k for k, v in DELIVERY_VALUES.items()} | {usage_pb2.NOTIFICATION_DELIVERY_UNSPECIFIED: nm.IMMEDIATE}
FORMAT_VALUES = {nm.SLACK: usage_pb2.WEBHOOK_FORMAT_SLACK, nm.TEAMS: usage_pb2.WEBHOOK_FORMAT_TEAMS}
FORMAT_NAMES = {v: k for k, v in FORMAT_VALUES.items()} | {usage_pb2.WEBHOOK_FORMAT_UNSPECIFIED: nm.SLACK}
KIND_VALUES = {nm.FIRST_OPEN: usage_pb2.NOTIFICATION_KIND_FIRST_OPEN, nm.REOPEN: usage_pb2.NOTIFICATION_KIND_REOPEN}


def _ts(value: str | None) -> Timestamp | None:
    if not value:
        return None
    ts = Timestamp()
    ts.FromDatetime(times.parse_stored(value))
    return ts


def _visible(rep_id: str) -> list[dict[str, Any]]:
    """Filters of the notifications a rep sees in the portal."""
    return [{"term": {"rep_id": rep_id}}, {"term": {"portal": True}}, {"term": {"cancelled": False}}]


class NotificationApi:
    def __init__(self, es: Elasticsearch, settings: config.Settings) -> None:
        self.es = es
        self.settings = settings
        self.names = notify_store.Names.of(settings)

    # ---- preferences --------------------------------------------------------------------------
    def target_rep(self, rep_id: str, field: str) -> str:
        """Whose preferences a call is about: the caller's, or (admins only) the one named."""
        principal = auth.current_principal()
        if not rep_id or rep_id == principal.subject:
            return principal.subject
        rep_id = validation.identifier(rep_id, field)
        if principal.role != auth.Role.ADMIN:
            raise errors.PermissionDenied(f"{field}: only admins may see or change another user's notifications")
        return rep_id

    def load(self, rep_id: str, timeout_s: float) -> nm.Preferences:
        try:
            found = self.es.options(request_timeout=timeout_s).get(index=self.names.settings, id=rep_id)
        except NotFoundError:
            return nm.Preferences(rep_id=rep_id)
        return nm.Preferences.of(rep_id, found["_source"])

    def get_settings(self, request: usage_pb2.GetNotificationSettingsRequest, timeout_s: float) -> Any:
        return usage_pb2.GetNotificationSettingsResponse(
            settings=settings_message(self.load(self.target_rep(request.rep_id, "rep_id"), timeout_s)))

    def update_settings(self, request: usage_pb2.UpdateNotificationSettingsRequest, timeout_s: float) -> Any:
        given = request.settings
        rep_id = self.target_rep(given.rep_id, "settings.rep_id")
        if given.email_delivery not in DELIVERY_NAMES:
            raise errors.InvalidArgument("settings.email_delivery", "unknown delivery")
        if given.webhook_delivery not in DELIVERY_NAMES:
            raise errors.InvalidArgument("settings.webhook_delivery", "unknown delivery")
        if given.webhook_format not in FORMAT_NAMES:
            raise errors.InvalidArgument("settings.webhook_format", "unknown format")
        prefs = nm.validated(rep_id, {
            "portal_enabled": given.portal_enabled, "email_enabled": given.email_enabled, "email": given.email,
            "email_delivery": DELIVERY_NAMES[given.email_delivery], "webhook_enabled": given.webhook_enabled,
            "webhook_url": given.webhook_url, "webhook_format": FORMAT_NAMES[given.webhook_format],
            "webhook_delivery": DELIVERY_NAMES[given.webhook_delivery]}, self.settings.production, times.now_iso())
        self.es.options(request_timeout=timeout_s).index(index=self.names.settings, id=rep_id,
                                                         document=prefs.document(), refresh="wait_for")
        return usage_pb2.UpdateNotificationSettingsResponse(settings=settings_message(prefs))

    def stored_settings(self, rep_id: str) -> dict[str, Any] | None:
        """The stored preferences document (the audit log's before and after)."""
        try:
            return self.es.get(index=self.names.settings, id=rep_id)["_source"]
        except NotFoundError:
            return None

    # ---- the portal list ----------------------------------------------------------------------
    def unread(self, rep_id: str, timeout_s: float) -> int:
        return self.es.options(request_timeout=timeout_s).count(index=self.names.notifications, query={
            "bool": {"filter": [*_visible(rep_id), {"term": {"read": False}}]}})["count"]

    def list(self, request: usage_pb2.ListNotificationsRequest, timeout_s: float) -> Any:
        rep_id = auth.current_principal().subject
        size = pagination.clamp_page_size(request.page_size, default=20, maximum=100)
        cursor = pagination.decode(self.settings.auth_secret, request.page_token)
        if cursor is not None and not (isinstance(cursor, list) and len(cursor) == 2 and type(cursor[0]) is int
                                       and isinstance(cursor[1], str) and len(cursor[1]) <= validation.MAX_ID_CHARS):
            raise errors.InvalidArgument("page_token", "malformed page token")
        filters = _visible(rep_id) + ([{"term": {"read": False}}] if request.unread_only else [])
        kwargs: dict[str, Any] = {"search_after": cursor} if cursor else {}
        response = self.es.options(request_timeout=timeout_s).search(
            index=self.names.notifications, size=size + 1, query={"bool": {"filter": filters}},
            sort=[{"opened_at": "desc"}, {"notification_id": "desc"}], **kwargs)
        hits = response["hits"]["hits"]
        page = hits[:size]
        token = ""
        if len(hits) > size and page:
            token = pagination.encode(self.settings.auth_secret, [int(page[-1]["sort"][0]), page[-1]["sort"][1]])
        return usage_pb2.ListNotificationsResponse(
            notifications=[notification_message(h["_source"]) for h in page], next_page_token=token,
            unread_count=self.unread(rep_id, timeout_s))

    def mark_read(self, request: usage_pb2.MarkNotificationsReadRequest, timeout_s: float) -> Any:
        rep_id = auth.current_principal().subject
        ids = [] if request.all else validation.bounded(request.notification_ids, "notification_ids", MAX_MARK_IDS)
        for i, value in enumerate(ids):
            validation.identifier(value, f"notification_ids[{i}]")
        if not request.all and not ids:
            raise errors.InvalidArgument("notification_ids", "name at least one notification, or set all")
        filters = [*_visible(rep_id), {"term": {"read": False}}]
        if ids:
            filters.append({"ids": {"values": list(ids)}})
        es = self.es.options(request_timeout=timeout_s)
        es.indices.refresh(index=self.names.notifications)
        response = es.search(index=self.names.notifications, size=10_000, query={"bool": {"filter": filters}},
                             source=False)
        unread_ids = [h["_id"] for h in response["hits"]["hits"]]
        now = times.format_iso(datetime.now(timezone.utc))
        notify_store.update_all(es, self.names.notifications, {i: {"read": True, "read_at": now} for i in unread_ids},
                                refresh="wait_for")
        return usage_pb2.MarkNotificationsReadResponse(marked=len(unread_ids), unread_count=self.unread(rep_id, timeout_s))


def settings_message(prefs: nm.Preferences) -> usage_pb2.NotificationSettings:
    return usage_pb2.NotificationSettings(
        rep_id=prefs.rep_id, portal_enabled=prefs.portal_enabled, email_enabled=prefs.email_enabled,
        email=prefs.email, email_delivery=DELIVERY_VALUES[prefs.email_delivery],
        webhook_enabled=prefs.webhook_enabled, webhook_url=prefs.webhook_url,
        webhook_format=FORMAT_VALUES[prefs.webhook_format], webhook_delivery=DELIVERY_VALUES[prefs.webhook_delivery],
        updated_at=_ts(prefs.updated_at))


def notification_message(doc: dict[str, Any]) -> usage_pb2.Notification:
    return usage_pb2.Notification(
        notification_id=doc["notification_id"], kind=KIND_VALUES.get(doc["kind"], 0),
        share_id=doc.get("share_id", ""), room_id=doc.get("room_id", ""), asset_id=doc.get("asset_id", ""),
        opportunity_id=doc.get("opportunity_id", ""), account_id=doc.get("account_id", ""),
        opened_at=_ts(doc.get("opened_at")), created_at=_ts(doc.get("created_at")), read=bool(doc.get("read")),
        rep_id=doc["rep_id"], summary=notify_channels.summary(notify_channels.Open.of(doc)))
