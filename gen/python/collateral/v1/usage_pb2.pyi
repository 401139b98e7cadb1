import datetime

from collateral.v1 import common_pb2 as _common_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UsageEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USAGE_EVENT_TYPE_UNSPECIFIED: _ClassVar[UsageEventType]
    USAGE_EVENT_TYPE_VIEW: _ClassVar[UsageEventType]
    USAGE_EVENT_TYPE_DOWNLOAD: _ClassVar[UsageEventType]
    USAGE_EVENT_TYPE_SHARE: _ClassVar[UsageEventType]
    USAGE_EVENT_TYPE_CUSTOMER_OPEN: _ClassVar[UsageEventType]
    USAGE_EVENT_TYPE_PAGE_VIEW: _ClassVar[UsageEventType]
    USAGE_EVENT_TYPE_SEARCH_CLICK: _ClassVar[UsageEventType]
    USAGE_EVENT_TYPE_EMAIL_ATTACH: _ClassVar[UsageEventType]
    USAGE_EVENT_TYPE_PRESENT: _ClassVar[UsageEventType]
    USAGE_EVENT_TYPE_CUSTOMER_DOWNLOAD: _ClassVar[UsageEventType]

class ShareLinkState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHARE_LINK_STATE_UNSPECIFIED: _ClassVar[ShareLinkState]
    SHARE_LINK_STATE_ACTIVE: _ClassVar[ShareLinkState]
    SHARE_LINK_STATE_EXPIRED: _ClassVar[ShareLinkState]
    SHARE_LINK_STATE_REVOKED: _ClassVar[ShareLinkState]

class ShareCallToAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHARE_CALL_TO_ACTION_UNSPECIFIED: _ClassVar[ShareCallToAction]
    SHARE_CALL_TO_ACTION_REPLY_EMAIL: _ClassVar[ShareCallToAction]
    SHARE_CALL_TO_ACTION_BOOK_MEETING: _ClassVar[ShareCallToAction]

class UsageInterval(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USAGE_INTERVAL_UNSPECIFIED: _ClassVar[UsageInterval]
    USAGE_INTERVAL_DAY: _ClassVar[UsageInterval]
    USAGE_INTERVAL_WEEK: _ClassVar[UsageInterval]

class UsageMeasure(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USAGE_MEASURE_UNSPECIFIED: _ClassVar[UsageMeasure]
    USAGE_MEASURE_VIEWS: _ClassVar[UsageMeasure]
    USAGE_MEASURE_DOWNLOADS: _ClassVar[UsageMeasure]
    USAGE_MEASURE_SHARES: _ClassVar[UsageMeasure]
    USAGE_MEASURE_CUSTOMER_OPENS: _ClassVar[UsageMeasure]
    USAGE_MEASURE_UNIQUE_REPS: _ClassVar[UsageMeasure]
    USAGE_MEASURE_UNIQUE_ACCOUNTS: _ClassVar[UsageMeasure]
    USAGE_MEASURE_SECONDS_READ: _ClassVar[UsageMeasure]
    USAGE_MEASURE_PRESENTS: _ClassVar[UsageMeasure]
    USAGE_MEASURE_TOTAL_EVENTS: _ClassVar[UsageMeasure]

class UnusedReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNUSED_REASON_UNSPECIFIED: _ClassVar[UnusedReason]
    UNUSED_REASON_NEVER_USED: _ClassVar[UnusedReason]
    UNUSED_REASON_NEVER_SHOWN_IN_SEARCH: _ClassVar[UnusedReason]
    UNUSED_REASON_SHOWN_NOT_OPENED: _ClassVar[UnusedReason]
    UNUSED_REASON_DOWNLOADED_NOT_SHARED: _ClassVar[UnusedReason]
    UNUSED_REASON_SHARED_NOT_OPENED_BY_CUSTOMER: _ClassVar[UnusedReason]
    UNUSED_REASON_EXPIRED: _ClassVar[UnusedReason]

class UnusedSort(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNUSED_SORT_UNSPECIFIED: _ClassVar[UnusedSort]
    UNUSED_SORT_AGE: _ClassVar[UnusedSort]
    UNUSED_SORT_OWNER: _ClassVar[UnusedSort]
    UNUSED_SORT_TYPE: _ClassVar[UnusedSort]
    UNUSED_SORT_LAST_USED: _ClassVar[UnusedSort]
    UNUSED_SORT_IMPRESSIONS: _ClassVar[UnusedSort]

class NotificationDelivery(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_DELIVERY_UNSPECIFIED: _ClassVar[NotificationDelivery]
    NOTIFICATION_DELIVERY_IMMEDIATE: _ClassVar[NotificationDelivery]
    NOTIFICATION_DELIVERY_DAILY_DIGEST: _ClassVar[NotificationDelivery]

class WebhookFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WEBHOOK_FORMAT_UNSPECIFIED: _ClassVar[WebhookFormat]
    WEBHOOK_FORMAT_SLACK: _ClassVar[WebhookFormat]
    WEBHOOK_FORMAT_TEAMS: _ClassVar[WebhookFormat]

class NotificationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_KIND_UNSPECIFIED: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_FIRST_OPEN: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_REOPEN: _ClassVar[NotificationKind]
USAGE_EVENT_TYPE_UNSPECIFIED: UsageEventType
USAGE_EVENT_TYPE_VIEW: UsageEventType
USAGE_EVENT_TYPE_DOWNLOAD: UsageEventType
USAGE_EVENT_TYPE_SHARE: UsageEventType
USAGE_EVENT_TYPE_CUSTOMER_OPEN: UsageEventType
USAGE_EVENT_TYPE_PAGE_VIEW: UsageEventType
USAGE_EVENT_TYPE_SEARCH_CLICK: UsageEventType
USAGE_EVENT_TYPE_EMAIL_ATTACH: UsageEventType
USAGE_EVENT_TYPE_PRESENT: UsageEventType
USAGE_EVENT_TYPE_CUSTOMER_DOWNLOAD: UsageEventType
SHARE_LINK_STATE_UNSPECIFIED: ShareLinkState
SHARE_LINK_STATE_ACTIVE: ShareLinkState
SHARE_LINK_STATE_EXPIRED: ShareLinkState
SHARE_LINK_STATE_REVOKED: ShareLinkState
SHARE_CALL_TO_ACTION_UNSPECIFIED: ShareCallToAction
SHARE_CALL_TO_ACTION_REPLY_EMAIL: ShareCallToAction
SHARE_CALL_TO_ACTION_BOOK_MEETING: ShareCallToAction
USAGE_INTERVAL_UNSPECIFIED: UsageInterval
USAGE_INTERVAL_DAY: UsageInterval
USAGE_INTERVAL_WEEK: UsageInterval
USAGE_MEASURE_UNSPECIFIED: UsageMeasure
USAGE_MEASURE_VIEWS: UsageMeasure
USAGE_MEASURE_DOWNLOADS: UsageMeasure
USAGE_MEASURE_SHARES: UsageMeasure
USAGE_MEASURE_CUSTOMER_OPENS: UsageMeasure
USAGE_MEASURE_UNIQUE_REPS: UsageMeasure
USAGE_MEASURE_UNIQUE_ACCOUNTS: UsageMeasure
USAGE_MEASURE_SECONDS_READ: UsageMeasure
USAGE_MEASURE_PRESENTS: UsageMeasure
USAGE_MEASURE_TOTAL_EVENTS: UsageMeasure
UNUSED_REASON_UNSPECIFIED: UnusedReason
UNUSED_REASON_NEVER_USED: UnusedReason
UNUSED_REASON_NEVER_SHOWN_IN_SEARCH: UnusedReason
UNUSED_REASON_SHOWN_NOT_OPENED: UnusedReason
UNUSED_REASON_DOWNLOADED_NOT_SHARED: UnusedReason
UNUSED_REASON_SHARED_NOT_OPENED_BY_CUSTOMER: UnusedReason
UNUSED_REASON_EXPIRED: UnusedReason
UNUSED_SORT_UNSPECIFIED: UnusedSort
UNUSED_SORT_AGE: UnusedSort
UNUSED_SORT_OWNER: UnusedSort
UNUSED_SORT_TYPE: UnusedSort
UNUSED_SORT_LAST_USED: UnusedSort
UNUSED_SORT_IMPRESSIONS: UnusedSort
NOTIFICATION_DELIVERY_UNSPECIFIED: NotificationDelivery
NOTIFICATION_DELIVERY_IMMEDIATE: NotificationDelivery
NOTIFICATION_DELIVERY_DAILY_DIGEST: NotificationDelivery
WEBHOOK_FORMAT_UNSPECIFIED: WebhookFormat
WEBHOOK_FORMAT_SLACK: WebhookFormat
WEBHOOK_FORMAT_TEAMS: WebhookFormat
NOTIFICATION_KIND_UNSPECIFIED: NotificationKind
NOTIFICATION_KIND_FIRST_OPEN: NotificationKind
NOTIFICATION_KIND_REOPEN: NotificationKind

class UsageEvent(_message.Message):
    __slots__ = ("event_id", "type", "asset_id", "rep_id", "occurred_at", "opportunity_id", "account_id", "share_id", "channel", "page", "seconds", "user_agent", "ip", "team", "region", "headers", "room_id", "viewer_email")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SHARE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    type: UsageEventType
    asset_id: str
    rep_id: str
    occurred_at: _timestamp_pb2.Timestamp
    opportunity_id: str
    account_id: str
    share_id: str
    channel: str
    page: int
    seconds: float
    user_agent: str
    ip: str
    team: str
    region: str
    headers: _containers.ScalarMap[str, str]
    room_id: str
    viewer_email: str
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[_Union[UsageEventType, str]] = ..., asset_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., opportunity_id: _Optional[str] = ..., account_id: _Optional[str] = ..., share_id: _Optional[str] = ..., channel: _Optional[str] = ..., page: _Optional[int] = ..., seconds: _Optional[float] = ..., user_agent: _Optional[str] = ..., ip: _Optional[str] = ..., team: _Optional[str] = ..., region: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., room_id: _Optional[str] = ..., viewer_email: _Optional[str] = ...) -> None: ...

class RecordEventsRequest(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[UsageEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[UsageEvent, _Mapping]]] = ...) -> None: ...

class RecordEventsResponse(_message.Message):
    __slots__ = ("event_ids", "received_at")
    EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    event_ids: _containers.RepeatedScalarFieldContainer[str]
    received_at: _timestamp_pb2.Timestamp
    def __init__(self, event_ids: _Optional[_Iterable[str]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PageTime(_message.Message):
    __slots__ = ("page", "seconds", "views")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    VIEWS_FIELD_NUMBER: _ClassVar[int]
    page: int
    seconds: float
    views: int
    def __init__(self, page: _Optional[int] = ..., seconds: _Optional[float] = ..., views: _Optional[int] = ...) -> None: ...

class ShareStats(_message.Message):
    __slots__ = ("customer_opens", "bot_opens", "first_opened_at", "last_opened_at", "pages", "viewer_emails")
    CUSTOMER_OPENS_FIELD_NUMBER: _ClassVar[int]
    BOT_OPENS_FIELD_NUMBER: _ClassVar[int]
    FIRST_OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    VIEWER_EMAILS_FIELD_NUMBER: _ClassVar[int]
    customer_opens: int
    bot_opens: int
    first_opened_at: _timestamp_pb2.Timestamp
    last_opened_at: _timestamp_pb2.Timestamp
    pages: _containers.RepeatedCompositeFieldContainer[PageTime]
    viewer_emails: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, customer_opens: _Optional[int] = ..., bot_opens: _Optional[int] = ..., first_opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pages: _Optional[_Iterable[_Union[PageTime, _Mapping]]] = ..., viewer_emails: _Optional[_Iterable[str]] = ...) -> None: ...

class ShareLink(_message.Message):
    __slots__ = ("share_id", "asset_id", "rep_id", "opportunity_id", "account_id", "recipient_note", "allow_download", "created_at", "expires_at", "revoked_at", "state", "stats", "passcode_required", "email_verification_required", "allowed_email_domains", "revealable", "call_to_action", "meeting_url", "customer_message")
    SHARE_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_NOTE_FIELD_NUMBER: _ClassVar[int]
    ALLOW_DOWNLOAD_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    PASSCODE_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    EMAIL_VERIFICATION_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_EMAIL_DOMAINS_FIELD_NUMBER: _ClassVar[int]
    REVEALABLE_FIELD_NUMBER: _ClassVar[int]
    CALL_TO_ACTION_FIELD_NUMBER: _ClassVar[int]
    MEETING_URL_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    share_id: str
    asset_id: str
    rep_id: str
    opportunity_id: str
    account_id: str
    recipient_note: str
    allow_download: bool
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    revoked_at: _timestamp_pb2.Timestamp
    state: ShareLinkState
    stats: ShareStats
    passcode_required: bool
    email_verification_required: bool
    allowed_email_domains: _containers.RepeatedScalarFieldContainer[str]
    revealable: bool
    call_to_action: ShareCallToAction
    meeting_url: str
    customer_message: str
    def __init__(self, share_id: _Optional[str] = ..., asset_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., account_id: _Optional[str] = ..., recipient_note: _Optional[str] = ..., allow_download: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[ShareLinkState, str]] = ..., stats: _Optional[_Union[ShareStats, _Mapping]] = ..., passcode_required: _Optional[bool] = ..., email_verification_required: _Optional[bool] = ..., allowed_email_domains: _Optional[_Iterable[str]] = ..., revealable: _Optional[bool] = ..., call_to_action: _Optional[_Union[ShareCallToAction, str]] = ..., meeting_url: _Optional[str] = ..., customer_message: _Optional[str] = ...) -> None: ...

class CreateShareLinkRequest(_message.Message):
    __slots__ = ("asset_id", "opportunity_id", "account_id", "expires_at", "allow_download", "recipient_note", "channel", "passcode", "require_email_verification", "allowed_email_domains", "call_to_action", "meeting_url", "customer_message")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    ALLOW_DOWNLOAD_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_NOTE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PASSCODE_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_EMAIL_VERIFICATION_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_EMAIL_DOMAINS_FIELD_NUMBER: _ClassVar[int]
    CALL_TO_ACTION_FIELD_NUMBER: _ClassVar[int]
    MEETING_URL_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    opportunity_id: str
    account_id: str
    expires_at: _timestamp_pb2.Timestamp
    allow_download: bool
    recipient_note: str
    channel: str
    passcode: str
    require_email_verification: bool
    allowed_email_domains: _containers.RepeatedScalarFieldContainer[str]
    call_to_action: ShareCallToAction
    meeting_url: str
    customer_message: str
    def __init__(self, asset_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., account_id: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., allow_download: _Optional[bool] = ..., recipient_note: _Optional[str] = ..., channel: _Optional[str] = ..., passcode: _Optional[str] = ..., require_email_verification: _Optional[bool] = ..., allowed_email_domains: _Optional[_Iterable[str]] = ..., call_to_action: _Optional[_Union[ShareCallToAction, str]] = ..., meeting_url: _Optional[str] = ..., customer_message: _Optional[str] = ...) -> None: ...

class CreateShareLinkResponse(_message.Message):
    __slots__ = ("share", "token", "url")
    SHARE_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    share: ShareLink
    token: str
    url: str
    def __init__(self, share: _Optional[_Union[ShareLink, _Mapping]] = ..., token: _Optional[str] = ..., url: _Optional[str] = ...) -> None: ...

class ResolveShareLinkRequest(_message.Message):
    __slots__ = ("token", "passcode")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PASSCODE_FIELD_NUMBER: _ClassVar[int]
    token: str
    passcode: str
    def __init__(self, token: _Optional[str] = ..., passcode: _Optional[str] = ...) -> None: ...

class ResolveShareLinkResponse(_message.Message):
    __slots__ = ("share", "passcode_accepted")
    SHARE_FIELD_NUMBER: _ClassVar[int]
    PASSCODE_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    share: ShareLink
    passcode_accepted: bool
    def __init__(self, share: _Optional[_Union[ShareLink, _Mapping]] = ..., passcode_accepted: _Optional[bool] = ...) -> None: ...

class RevealShareLinkRequest(_message.Message):
    __slots__ = ("share_id",)
    SHARE_ID_FIELD_NUMBER: _ClassVar[int]
    share_id: str
    def __init__(self, share_id: _Optional[str] = ...) -> None: ...

class RevealShareLinkResponse(_message.Message):
    __slots__ = ("share", "token", "url")
    SHARE_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    share: ShareLink
    token: str
    url: str
    def __init__(self, share: _Optional[_Union[ShareLink, _Mapping]] = ..., token: _Optional[str] = ..., url: _Optional[str] = ...) -> None: ...

class RevokeShareLinkRequest(_message.Message):
    __slots__ = ("share_id",)
    SHARE_ID_FIELD_NUMBER: _ClassVar[int]
    share_id: str
    def __init__(self, share_id: _Optional[str] = ...) -> None: ...

class RevokeShareLinkResponse(_message.Message):
    __slots__ = ("share",)
    SHARE_FIELD_NUMBER: _ClassVar[int]
    share: ShareLink
    def __init__(self, share: _Optional[_Union[ShareLink, _Mapping]] = ...) -> None: ...

class ListShareLinksRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "asset_id", "rep_id", "include_inactive")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_INACTIVE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    asset_id: str
    rep_id: str
    include_inactive: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., asset_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., include_inactive: _Optional[bool] = ...) -> None: ...

class ListShareLinksResponse(_message.Message):
    __slots__ = ("shares", "next_page_token")
    SHARES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    shares: _containers.RepeatedCompositeFieldContainer[ShareLink]
    next_page_token: str
    def __init__(self, shares: _Optional[_Iterable[_Union[ShareLink, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class TypeCount(_message.Message):
    __slots__ = ("type", "count")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    type: UsageEventType
    count: int
    def __init__(self, type: _Optional[_Union[UsageEventType, str]] = ..., count: _Optional[int] = ...) -> None: ...

class UsageSummary(_message.Message):
    __slots__ = ("counts", "unique_reps", "unique_accounts", "customer_opens", "bot_events", "seconds_read", "total_events")
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_REPS_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_OPENS_FIELD_NUMBER: _ClassVar[int]
    BOT_EVENTS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_READ_FIELD_NUMBER: _ClassVar[int]
    TOTAL_EVENTS_FIELD_NUMBER: _ClassVar[int]
    counts: _containers.RepeatedCompositeFieldContainer[TypeCount]
    unique_reps: int
    unique_accounts: int
    customer_opens: int
    bot_events: int
    seconds_read: float
    total_events: int
    def __init__(self, counts: _Optional[_Iterable[_Union[TypeCount, _Mapping]]] = ..., unique_reps: _Optional[int] = ..., unique_accounts: _Optional[int] = ..., customer_opens: _Optional[int] = ..., bot_events: _Optional[int] = ..., seconds_read: _Optional[float] = ..., total_events: _Optional[int] = ...) -> None: ...

class UsageBucket(_message.Message):
    __slots__ = ("start", "summary")
    START_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    summary: UsageSummary
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., summary: _Optional[_Union[UsageSummary, _Mapping]] = ...) -> None: ...

class GetAssetUsageRequest(_message.Message):
    __slots__ = ("asset_id", "time_range", "interval")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    time_range: _common_pb2.TimeRange
    interval: UsageInterval
    def __init__(self, asset_id: _Optional[str] = ..., time_range: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., interval: _Optional[_Union[UsageInterval, str]] = ...) -> None: ...

class GetAssetUsageResponse(_message.Message):
    __slots__ = ("asset_id", "totals", "buckets", "pages", "known_asset")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    KNOWN_ASSET_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    totals: UsageSummary
    buckets: _containers.RepeatedCompositeFieldContainer[UsageBucket]
    pages: _containers.RepeatedCompositeFieldContainer[PageTime]
    known_asset: bool
    def __init__(self, asset_id: _Optional[str] = ..., totals: _Optional[_Union[UsageSummary, _Mapping]] = ..., buckets: _Optional[_Iterable[_Union[UsageBucket, _Mapping]]] = ..., pages: _Optional[_Iterable[_Union[PageTime, _Mapping]]] = ..., known_asset: _Optional[bool] = ...) -> None: ...

class TopAssetsRequest(_message.Message):
    __slots__ = ("measure", "time_range", "segment", "buying_stages", "asset_types", "limit")
    MEASURE_FIELD_NUMBER: _ClassVar[int]
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    BUYING_STAGES_FIELD_NUMBER: _ClassVar[int]
    ASSET_TYPES_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    measure: UsageMeasure
    time_range: _common_pb2.TimeRange
    segment: _common_pb2.SegmentFilter
    buying_stages: _containers.RepeatedScalarFieldContainer[_common_pb2.BuyingStage]
    asset_types: _containers.RepeatedScalarFieldContainer[str]
    limit: int
    def __init__(self, measure: _Optional[_Union[UsageMeasure, str]] = ..., time_range: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., segment: _Optional[_Union[_common_pb2.SegmentFilter, _Mapping]] = ..., buying_stages: _Optional[_Iterable[_Union[_common_pb2.BuyingStage, str]]] = ..., asset_types: _Optional[_Iterable[str]] = ..., limit: _Optional[int] = ...) -> None: ...

class TopAsset(_message.Message):
    __slots__ = ("asset_id", "title", "value", "rank")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    title: str
    value: float
    rank: int
    def __init__(self, asset_id: _Optional[str] = ..., title: _Optional[str] = ..., value: _Optional[float] = ..., rank: _Optional[int] = ...) -> None: ...

class TopAssetsResponse(_message.Message):
    __slots__ = ("assets",)
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    assets: _containers.RepeatedCompositeFieldContainer[TopAsset]
    def __init__(self, assets: _Optional[_Iterable[_Union[TopAsset, _Mapping]]] = ...) -> None: ...

class UnusedAsset(_message.Message):
    __slots__ = ("asset_id", "title", "owner", "type", "reason", "published_at", "age_days", "impressions", "rep_uses", "shares", "last_used_at", "expires_at")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    AGE_DAYS_FIELD_NUMBER: _ClassVar[int]
    IMPRESSIONS_FIELD_NUMBER: _ClassVar[int]
    REP_USES_FIELD_NUMBER: _ClassVar[int]
    SHARES_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    title: str
    owner: str
    type: str
    reason: UnusedReason
    published_at: _timestamp_pb2.Timestamp
    age_days: int
    impressions: int
    rep_uses: int
    shares: int
    last_used_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, asset_id: _Optional[str] = ..., title: _Optional[str] = ..., owner: _Optional[str] = ..., type: _Optional[str] = ..., reason: _Optional[_Union[UnusedReason, str]] = ..., published_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., age_days: _Optional[int] = ..., impressions: _Optional[int] = ..., rep_uses: _Optional[int] = ..., shares: _Optional[int] = ..., last_used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UnusedReasonCount(_message.Message):
    __slots__ = ("reason", "count")
    REASON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    reason: UnusedReason
    count: int
    def __init__(self, reason: _Optional[_Union[UnusedReason, str]] = ..., count: _Optional[int] = ...) -> None: ...

class ListUnusedAssetsRequest(_message.Message):
    __slots__ = ("window", "reasons", "owner", "page_size", "page_token", "asset_types", "min_age_days", "max_age_days", "sort", "descending")
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ASSET_TYPES_FIELD_NUMBER: _ClassVar[int]
    MIN_AGE_DAYS_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_DAYS_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    DESCENDING_FIELD_NUMBER: _ClassVar[int]
    window: _common_pb2.TimeRange
    reasons: _containers.RepeatedScalarFieldContainer[UnusedReason]
    owner: str
    page_size: int
    page_token: str
    asset_types: _containers.RepeatedScalarFieldContainer[str]
    min_age_days: int
    max_age_days: int
    sort: UnusedSort
    descending: bool
    def __init__(self, window: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., reasons: _Optional[_Iterable[_Union[UnusedReason, str]]] = ..., owner: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., asset_types: _Optional[_Iterable[str]] = ..., min_age_days: _Optional[int] = ..., max_age_days: _Optional[int] = ..., sort: _Optional[_Union[UnusedSort, str]] = ..., descending: _Optional[bool] = ...) -> None: ...

class ListUnusedAssetsResponse(_message.Message):
    __slots__ = ("assets", "next_page_token", "previous_page_token", "total_size", "reason_counts")
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    REASON_COUNTS_FIELD_NUMBER: _ClassVar[int]
    assets: _containers.RepeatedCompositeFieldContainer[UnusedAsset]
    next_page_token: str
    previous_page_token: str
    total_size: int
    reason_counts: _containers.RepeatedCompositeFieldContainer[UnusedReasonCount]
    def __init__(self, assets: _Optional[_Iterable[_Union[UnusedAsset, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., previous_page_token: _Optional[str] = ..., total_size: _Optional[int] = ..., reason_counts: _Optional[_Iterable[_Union[UnusedReasonCount, _Mapping]]] = ...) -> None: ...

class DealRoom(_message.Message):
    __slots__ = ("room_id", "title", "note", "asset_ids", "rep_id", "opportunity_id", "account_id", "allow_download", "created_at", "expires_at", "revoked_at", "state", "stats", "passcode_required", "email_verification_required", "allowed_email_domains", "revealable")
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ASSET_IDS_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOW_DOWNLOAD_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    PASSCODE_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    EMAIL_VERIFICATION_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_EMAIL_DOMAINS_FIELD_NUMBER: _ClassVar[int]
    REVEALABLE_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    title: str
    note: str
    asset_ids: _containers.RepeatedScalarFieldContainer[str]
    rep_id: str
    opportunity_id: str
    account_id: str
    allow_download: bool
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    revoked_at: _timestamp_pb2.Timestamp
    state: ShareLinkState
    stats: RoomStats
    passcode_required: bool
    email_verification_required: bool
    allowed_email_domains: _containers.RepeatedScalarFieldContainer[str]
    revealable: bool
    def __init__(self, room_id: _Optional[str] = ..., title: _Optional[str] = ..., note: _Optional[str] = ..., asset_ids: _Optional[_Iterable[str]] = ..., rep_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., account_id: _Optional[str] = ..., allow_download: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[ShareLinkState, str]] = ..., stats: _Optional[_Union[RoomStats, _Mapping]] = ..., passcode_required: _Optional[bool] = ..., email_verification_required: _Optional[bool] = ..., allowed_email_domains: _Optional[_Iterable[str]] = ..., revealable: _Optional[bool] = ...) -> None: ...

class RoomStats(_message.Message):
    __slots__ = ("customer_opens", "bot_opens", "seconds", "first_opened_at", "last_opened_at")
    CUSTOMER_OPENS_FIELD_NUMBER: _ClassVar[int]
    BOT_OPENS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    FIRST_OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    customer_opens: int
    bot_opens: int
    seconds: float
    first_opened_at: _timestamp_pb2.Timestamp
    last_opened_at: _timestamp_pb2.Timestamp
    def __init__(self, customer_opens: _Optional[int] = ..., bot_opens: _Optional[int] = ..., seconds: _Optional[float] = ..., first_opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateRoomRequest(_message.Message):
    __slots__ = ("title", "note", "asset_ids", "opportunity_id", "account_id", "expires_in", "allow_download", "passcode", "require_email_verification", "allowed_email_domains")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ASSET_IDS_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_FIELD_NUMBER: _ClassVar[int]
    ALLOW_DOWNLOAD_FIELD_NUMBER: _ClassVar[int]
    PASSCODE_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_EMAIL_VERIFICATION_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_EMAIL_DOMAINS_FIELD_NUMBER: _ClassVar[int]
    title: str
    note: str
    asset_ids: _containers.RepeatedScalarFieldContainer[str]
    opportunity_id: str
    account_id: str
    expires_in: _duration_pb2.Duration
    allow_download: bool
    passcode: str
    require_email_verification: bool
    allowed_email_domains: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, title: _Optional[str] = ..., note: _Optional[str] = ..., asset_ids: _Optional[_Iterable[str]] = ..., opportunity_id: _Optional[str] = ..., account_id: _Optional[str] = ..., expires_in: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., allow_download: _Optional[bool] = ..., passcode: _Optional[str] = ..., require_email_verification: _Optional[bool] = ..., allowed_email_domains: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateRoomResponse(_message.Message):
    __slots__ = ("room", "token", "url")
    ROOM_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    room: DealRoom
    token: str
    url: str
    def __init__(self, room: _Optional[_Union[DealRoom, _Mapping]] = ..., token: _Optional[str] = ..., url: _Optional[str] = ...) -> None: ...

class ResolveRoomRequest(_message.Message):
    __slots__ = ("token", "passcode")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PASSCODE_FIELD_NUMBER: _ClassVar[int]
    token: str
    passcode: str
    def __init__(self, token: _Optional[str] = ..., passcode: _Optional[str] = ...) -> None: ...

class ResolveRoomResponse(_message.Message):
    __slots__ = ("room", "passcode_accepted")
    ROOM_FIELD_NUMBER: _ClassVar[int]
    PASSCODE_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    room: DealRoom
    passcode_accepted: bool
    def __init__(self, room: _Optional[_Union[DealRoom, _Mapping]] = ..., passcode_accepted: _Optional[bool] = ...) -> None: ...

class RevealRoomLinkRequest(_message.Message):
    __slots__ = ("room_id",)
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    def __init__(self, room_id: _Optional[str] = ...) -> None: ...

class RevealRoomLinkResponse(_message.Message):
    __slots__ = ("room", "token", "url")
    ROOM_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    room: DealRoom
    token: str
    url: str
    def __init__(self, room: _Optional[_Union[DealRoom, _Mapping]] = ..., token: _Optional[str] = ..., url: _Optional[str] = ...) -> None: ...

class RevokeRoomRequest(_message.Message):
    __slots__ = ("room_id",)
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    def __init__(self, room_id: _Optional[str] = ...) -> None: ...

class RevokeRoomResponse(_message.Message):
    __slots__ = ("room",)
    ROOM_FIELD_NUMBER: _ClassVar[int]
    room: DealRoom
    def __init__(self, room: _Optional[_Union[DealRoom, _Mapping]] = ...) -> None: ...

class ListRoomsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "rep_id", "include_inactive")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_INACTIVE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    rep_id: str
    include_inactive: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., rep_id: _Optional[str] = ..., include_inactive: _Optional[bool] = ...) -> None: ...

class ListRoomsResponse(_message.Message):
    __slots__ = ("rooms", "next_page_token")
    ROOMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    rooms: _containers.RepeatedCompositeFieldContainer[DealRoom]
    next_page_token: str
    def __init__(self, rooms: _Optional[_Iterable[_Union[DealRoom, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetRoomEngagementRequest(_message.Message):
    __slots__ = ("room_id",)
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    def __init__(self, room_id: _Optional[str] = ...) -> None: ...

class RoomAssetEngagement(_message.Message):
    __slots__ = ("asset_id", "title", "customer_opens", "bot_opens", "seconds", "last_opened_at", "pages")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_OPENS_FIELD_NUMBER: _ClassVar[int]
    BOT_OPENS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    LAST_OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    title: str
    customer_opens: int
    bot_opens: int
    seconds: float
    last_opened_at: _timestamp_pb2.Timestamp
    pages: _containers.RepeatedCompositeFieldContainer[PageTime]
    def __init__(self, asset_id: _Optional[str] = ..., title: _Optional[str] = ..., customer_opens: _Optional[int] = ..., bot_opens: _Optional[int] = ..., seconds: _Optional[float] = ..., last_opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pages: _Optional[_Iterable[_Union[PageTime, _Mapping]]] = ...) -> None: ...

class GetRoomEngagementResponse(_message.Message):
    __slots__ = ("room", "assets", "viewer_emails")
    ROOM_FIELD_NUMBER: _ClassVar[int]
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    VIEWER_EMAILS_FIELD_NUMBER: _ClassVar[int]
    room: DealRoom
    assets: _containers.RepeatedCompositeFieldContainer[RoomAssetEngagement]
    viewer_emails: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, room: _Optional[_Union[DealRoom, _Mapping]] = ..., assets: _Optional[_Iterable[_Union[RoomAssetEngagement, _Mapping]]] = ..., viewer_emails: _Optional[_Iterable[str]] = ...) -> None: ...

class ListHotAccountsRequest(_message.Message):
    __slots__ = ("window_days", "rep_id", "page_size", "page_token")
    WINDOW_DAYS_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    window_days: int
    rep_id: str
    page_size: int
    page_token: str
    def __init__(self, window_days: _Optional[int] = ..., rep_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class HotAccountAsset(_message.Message):
    __slots__ = ("asset_id", "title", "engaged_seconds", "opens", "pages")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    ENGAGED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OPENS_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    title: str
    engaged_seconds: float
    opens: int
    pages: _containers.RepeatedCompositeFieldContainer[PageTime]
    def __init__(self, asset_id: _Optional[str] = ..., title: _Optional[str] = ..., engaged_seconds: _Optional[float] = ..., opens: _Optional[int] = ..., pages: _Optional[_Iterable[_Union[PageTime, _Mapping]]] = ...) -> None: ...

class HotAccount(_message.Message):
    __slots__ = ("account_id", "opportunity_id", "display_name", "engaged_seconds", "opens", "distinct_viewers", "last_opened_at", "last_active_at", "assets", "rank", "rep_ids")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ENGAGED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OPENS_FIELD_NUMBER: _ClassVar[int]
    DISTINCT_VIEWERS_FIELD_NUMBER: _ClassVar[int]
    LAST_OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVE_AT_FIELD_NUMBER: _ClassVar[int]
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    REP_IDS_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    opportunity_id: str
    display_name: str
    engaged_seconds: float
    opens: int
    distinct_viewers: int
    last_opened_at: _timestamp_pb2.Timestamp
    last_active_at: _timestamp_pb2.Timestamp
    assets: _containers.RepeatedCompositeFieldContainer[HotAccountAsset]
    rank: int
    rep_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, account_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., display_name: _Optional[str] = ..., engaged_seconds: _Optional[float] = ..., opens: _Optional[int] = ..., distinct_viewers: _Optional[int] = ..., last_opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_active_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., assets: _Optional[_Iterable[_Union[HotAccountAsset, _Mapping]]] = ..., rank: _Optional[int] = ..., rep_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListHotAccountsResponse(_message.Message):
    __slots__ = ("accounts", "next_page_token", "window")
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[HotAccount]
    next_page_token: str
    window: _common_pb2.TimeRange
    def __init__(self, accounts: _Optional[_Iterable[_Union[HotAccount, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., window: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ...) -> None: ...

class NotificationSettings(_message.Message):
    __slots__ = ("rep_id", "portal_enabled", "email_enabled", "email", "email_delivery", "webhook_enabled", "webhook_url", "webhook_format", "webhook_delivery", "updated_at")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    PORTAL_ENABLED_FIELD_NUMBER: _ClassVar[int]
    EMAIL_ENABLED_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    EMAIL_DELIVERY_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ENABLED_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_URL_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_FORMAT_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_DELIVERY_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    portal_enabled: bool
    email_enabled: bool
    email: str
    email_delivery: NotificationDelivery
    webhook_enabled: bool
    webhook_url: str
    webhook_format: WebhookFormat
    webhook_delivery: NotificationDelivery
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, rep_id: _Optional[str] = ..., portal_enabled: _Optional[bool] = ..., email_enabled: _Optional[bool] = ..., email: _Optional[str] = ..., email_delivery: _Optional[_Union[NotificationDelivery, str]] = ..., webhook_enabled: _Optional[bool] = ..., webhook_url: _Optional[str] = ..., webhook_format: _Optional[_Union[WebhookFormat, str]] = ..., webhook_delivery: _Optional[_Union[NotificationDelivery, str]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetNotificationSettingsRequest(_message.Message):
    __slots__ = ("rep_id",)
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    def __init__(self, rep_id: _Optional[str] = ...) -> None: ...

class UpdateNotificationSettingsRequest(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: NotificationSettings
    def __init__(self, settings: _Optional[_Union[NotificationSettings, _Mapping]] = ...) -> None: ...

class GetNotificationSettingsResponse(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: NotificationSettings
    def __init__(self, settings: _Optional[_Union[NotificationSettings, _Mapping]] = ...) -> None: ...

class UpdateNotificationSettingsResponse(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: NotificationSettings
    def __init__(self, settings: _Optional[_Union[NotificationSettings, _Mapping]] = ...) -> None: ...

class Notification(_message.Message):
    __slots__ = ("notification_id", "kind", "share_id", "room_id", "asset_id", "opportunity_id", "account_id", "opened_at", "created_at", "read", "rep_id", "summary")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SHARE_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    READ_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    kind: NotificationKind
    share_id: str
    room_id: str
    asset_id: str
    opportunity_id: str
    account_id: str
    opened_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    read: bool
    rep_id: str
    summary: str
    def __init__(self, notification_id: _Optional[str] = ..., kind: _Optional[_Union[NotificationKind, str]] = ..., share_id: _Optional[str] = ..., room_id: _Optional[str] = ..., asset_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., account_id: _Optional[str] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., read: _Optional[bool] = ..., rep_id: _Optional[str] = ..., summary: _Optional[str] = ...) -> None: ...

class ListNotificationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "unread_only")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    UNREAD_ONLY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    unread_only: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., unread_only: _Optional[bool] = ...) -> None: ...

class ListNotificationsResponse(_message.Message):
    __slots__ = ("notifications", "next_page_token", "unread_count")
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    notifications: _containers.RepeatedCompositeFieldContainer[Notification]
    next_page_token: str
    unread_count: int
    def __init__(self, notifications: _Optional[_Iterable[_Union[Notification, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., unread_count: _Optional[int] = ...) -> None: ...

class MarkNotificationsReadRequest(_message.Message):
    __slots__ = ("notification_ids", "all")
    NOTIFICATION_IDS_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    notification_ids: _containers.RepeatedScalarFieldContainer[str]
    all: bool
    def __init__(self, notification_ids: _Optional[_Iterable[str]] = ..., all: _Optional[bool] = ...) -> None: ...

class MarkNotificationsReadResponse(_message.Message):
    __slots__ = ("marked", "unread_count")
    MARKED_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    marked: int
    unread_count: int
    def __init__(self, marked: _Optional[int] = ..., unread_count: _Optional[int] = ...) -> None: ...

class GetAdoptionOverviewRequest(_message.Message):
    __slots__ = ("time_range", "movers_limit")
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    MOVERS_LIMIT_FIELD_NUMBER: _ClassVar[int]
    time_range: _common_pb2.TimeRange
    movers_limit: int
    def __init__(self, time_range: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., movers_limit: _Optional[int] = ...) -> None: ...

class AdoptionFigures(_message.Message):
    __slots__ = ("start", "end", "published_assets", "rep_used_assets", "customer_used_assets", "active_reps", "known_reps")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_ASSETS_FIELD_NUMBER: _ClassVar[int]
    REP_USED_ASSETS_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_USED_ASSETS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_REPS_FIELD_NUMBER: _ClassVar[int]
    KNOWN_REPS_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    published_assets: int
    rep_used_assets: int
    customer_used_assets: int
    active_reps: int
    known_reps: int
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., published_assets: _Optional[int] = ..., rep_used_assets: _Optional[int] = ..., customer_used_assets: _Optional[int] = ..., active_reps: _Optional[int] = ..., known_reps: _Optional[int] = ...) -> None: ...

class AdoptionWeek(_message.Message):
    __slots__ = ("start", "end", "published_assets", "rep_used_assets", "customer_used_assets")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_ASSETS_FIELD_NUMBER: _ClassVar[int]
    REP_USED_ASSETS_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_USED_ASSETS_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    published_assets: int
    rep_used_assets: int
    customer_used_assets: int
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., published_assets: _Optional[int] = ..., rep_used_assets: _Optional[int] = ..., customer_used_assets: _Optional[int] = ...) -> None: ...

class RepGroup(_message.Message):
    __slots__ = ("name", "active_reps", "known_reps", "previous_active_reps", "previous_known_reps")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_REPS_FIELD_NUMBER: _ClassVar[int]
    KNOWN_REPS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_ACTIVE_REPS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_KNOWN_REPS_FIELD_NUMBER: _ClassVar[int]
    name: str
    active_reps: int
    known_reps: int
    previous_active_reps: int
    previous_known_reps: int
    def __init__(self, name: _Optional[str] = ..., active_reps: _Optional[int] = ..., known_reps: _Optional[int] = ..., previous_active_reps: _Optional[int] = ..., previous_known_reps: _Optional[int] = ...) -> None: ...

class AssetMover(_message.Message):
    __slots__ = ("asset_id", "title", "uses", "previous_uses", "change", "change_percent", "new_in_period")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    USES_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_USES_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    CHANGE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    NEW_IN_PERIOD_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    title: str
    uses: int
    previous_uses: int
    change: int
    change_percent: float
    new_in_period: bool
    def __init__(self, asset_id: _Optional[str] = ..., title: _Optional[str] = ..., uses: _Optional[int] = ..., previous_uses: _Optional[int] = ..., change: _Optional[int] = ..., change_percent: _Optional[float] = ..., new_in_period: _Optional[bool] = ...) -> None: ...

class GetAdoptionOverviewResponse(_message.Message):
    __slots__ = ("current", "previous", "weeks", "teams", "regions", "risers", "fallers")
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    WEEKS_FIELD_NUMBER: _ClassVar[int]
    TEAMS_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    RISERS_FIELD_NUMBER: _ClassVar[int]
    FALLERS_FIELD_NUMBER: _ClassVar[int]
    current: AdoptionFigures
    previous: AdoptionFigures
    weeks: _containers.RepeatedCompositeFieldContainer[AdoptionWeek]
    teams: _containers.RepeatedCompositeFieldContainer[RepGroup]
    regions: _containers.RepeatedCompositeFieldContainer[RepGroup]
    risers: _containers.RepeatedCompositeFieldContainer[AssetMover]
    fallers: _containers.RepeatedCompositeFieldContainer[AssetMover]
    def __init__(self, current: _Optional[_Union[AdoptionFigures, _Mapping]] = ..., previous: _Optional[_Union[AdoptionFigures, _Mapping]] = ..., weeks: _Optional[_Iterable[_Union[AdoptionWeek, _Mapping]]] = ..., teams: _Optional[_Iterable[_Union[RepGroup, _Mapping]]] = ..., regions: _Optional[_Iterable[_Union[RepGroup, _Mapping]]] = ..., risers: _Optional[_Iterable[_Union[AssetMover, _Mapping]]] = ..., fallers: _Optional[_Iterable[_Union[AssetMover, _Mapping]]] = ...) -> None: ...
