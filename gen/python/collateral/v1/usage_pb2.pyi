import datetime

from collateral.v1 import common_pb2 as _common_pb2
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

class UsageEvent(_message.Message):
    __slots__ = ("event_id", "type", "asset_id", "rep_id", "occurred_at", "opportunity_id", "account_id", "share_id", "channel", "page", "seconds", "user_agent", "ip", "team", "region", "headers")
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
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[_Union[UsageEventType, str]] = ..., asset_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., opportunity_id: _Optional[str] = ..., account_id: _Optional[str] = ..., share_id: _Optional[str] = ..., channel: _Optional[str] = ..., page: _Optional[int] = ..., seconds: _Optional[float] = ..., user_agent: _Optional[str] = ..., ip: _Optional[str] = ..., team: _Optional[str] = ..., region: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ...) -> None: ...

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
    __slots__ = ("customer_opens", "bot_opens", "first_opened_at", "last_opened_at", "pages")
    CUSTOMER_OPENS_FIELD_NUMBER: _ClassVar[int]
    BOT_OPENS_FIELD_NUMBER: _ClassVar[int]
    FIRST_OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    customer_opens: int
    bot_opens: int
    first_opened_at: _timestamp_pb2.Timestamp
    last_opened_at: _timestamp_pb2.Timestamp
    pages: _containers.RepeatedCompositeFieldContainer[PageTime]
    def __init__(self, customer_opens: _Optional[int] = ..., bot_opens: _Optional[int] = ..., first_opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pages: _Optional[_Iterable[_Union[PageTime, _Mapping]]] = ...) -> None: ...

class ShareLink(_message.Message):
    __slots__ = ("share_id", "asset_id", "rep_id", "opportunity_id", "account_id", "recipient_note", "allow_download", "created_at", "expires_at", "revoked_at", "state", "stats")
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
    def __init__(self, share_id: _Optional[str] = ..., asset_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., account_id: _Optional[str] = ..., recipient_note: _Optional[str] = ..., allow_download: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[ShareLinkState, str]] = ..., stats: _Optional[_Union[ShareStats, _Mapping]] = ...) -> None: ...

class CreateShareLinkRequest(_message.Message):
    __slots__ = ("asset_id", "opportunity_id", "account_id", "expires_at", "allow_download", "recipient_note", "channel")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    ALLOW_DOWNLOAD_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_NOTE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    opportunity_id: str
    account_id: str
    expires_at: _timestamp_pb2.Timestamp
    allow_download: bool
    recipient_note: str
    channel: str
    def __init__(self, asset_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., account_id: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., allow_download: _Optional[bool] = ..., recipient_note: _Optional[str] = ..., channel: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ...) -> None: ...

class ResolveShareLinkResponse(_message.Message):
    __slots__ = ("share",)
    SHARE_FIELD_NUMBER: _ClassVar[int]
    share: ShareLink
    def __init__(self, share: _Optional[_Union[ShareLink, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("asset_id", "title", "owner", "type", "reason", "published_at", "age_days", "impressions", "rep_uses", "shares", "last_used_at")
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
    def __init__(self, asset_id: _Optional[str] = ..., title: _Optional[str] = ..., owner: _Optional[str] = ..., type: _Optional[str] = ..., reason: _Optional[_Union[UnusedReason, str]] = ..., published_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., age_days: _Optional[int] = ..., impressions: _Optional[int] = ..., rep_uses: _Optional[int] = ..., shares: _Optional[int] = ..., last_used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListUnusedAssetsRequest(_message.Message):
    __slots__ = ("window", "reasons", "owner", "page_size", "page_token")
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    window: _common_pb2.TimeRange
    reasons: _containers.RepeatedScalarFieldContainer[UnusedReason]
    owner: str
    page_size: int
    page_token: str
    def __init__(self, window: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., reasons: _Optional[_Iterable[_Union[UnusedReason, str]]] = ..., owner: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListUnusedAssetsResponse(_message.Message):
    __slots__ = ("assets", "next_page_token")
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    assets: _containers.RepeatedCompositeFieldContainer[UnusedAsset]
    next_page_token: str
    def __init__(self, assets: _Optional[_Iterable[_Union[UnusedAsset, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
