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

class DealStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEAL_STAGE_UNSPECIFIED: _ClassVar[DealStage]
    DEAL_STAGE_OPEN: _ClassVar[DealStage]
    DEAL_STAGE_WON: _ClassVar[DealStage]
    DEAL_STAGE_LOST: _ClassVar[DealStage]

class WinRateOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WIN_RATE_ORDER_UNSPECIFIED: _ClassVar[WinRateOrder]
    WIN_RATE_ORDER_LIFT: _ClassVar[WinRateOrder]
    WIN_RATE_ORDER_WIN_RATE_LOWER: _ClassVar[WinRateOrder]
    WIN_RATE_ORDER_DEALS_TOUCHED: _ClassVar[WinRateOrder]
    WIN_RATE_ORDER_INFLUENCED_REVENUE: _ClassVar[WinRateOrder]

class AttributionModel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ATTRIBUTION_MODEL_UNSPECIFIED: _ClassVar[AttributionModel]
    ATTRIBUTION_MODEL_FIRST_TOUCH: _ClassVar[AttributionModel]
    ATTRIBUTION_MODEL_LAST_TOUCH: _ClassVar[AttributionModel]
    ATTRIBUTION_MODEL_LINEAR: _ClassVar[AttributionModel]
    ATTRIBUTION_MODEL_TIME_DECAY: _ClassVar[AttributionModel]
    ATTRIBUTION_MODEL_U_SHAPED: _ClassVar[AttributionModel]
    ATTRIBUTION_MODEL_W_SHAPED: _ClassVar[AttributionModel]
    ATTRIBUTION_MODEL_MARKOV: _ClassVar[AttributionModel]

class GapStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GAP_STATUS_UNSPECIFIED: _ClassVar[GapStatus]
    GAP_STATUS_NEW: _ClassVar[GapStatus]
    GAP_STATUS_PLANNED: _ClassVar[GapStatus]
    GAP_STATUS_ANSWERED: _ClassVar[GapStatus]
DEAL_STAGE_UNSPECIFIED: DealStage
DEAL_STAGE_OPEN: DealStage
DEAL_STAGE_WON: DealStage
DEAL_STAGE_LOST: DealStage
WIN_RATE_ORDER_UNSPECIFIED: WinRateOrder
WIN_RATE_ORDER_LIFT: WinRateOrder
WIN_RATE_ORDER_WIN_RATE_LOWER: WinRateOrder
WIN_RATE_ORDER_DEALS_TOUCHED: WinRateOrder
WIN_RATE_ORDER_INFLUENCED_REVENUE: WinRateOrder
ATTRIBUTION_MODEL_UNSPECIFIED: AttributionModel
ATTRIBUTION_MODEL_FIRST_TOUCH: AttributionModel
ATTRIBUTION_MODEL_LAST_TOUCH: AttributionModel
ATTRIBUTION_MODEL_LINEAR: AttributionModel
ATTRIBUTION_MODEL_TIME_DECAY: AttributionModel
ATTRIBUTION_MODEL_U_SHAPED: AttributionModel
ATTRIBUTION_MODEL_W_SHAPED: AttributionModel
ATTRIBUTION_MODEL_MARKOV: AttributionModel
GAP_STATUS_UNSPECIFIED: GapStatus
GAP_STATUS_NEW: GapStatus
GAP_STATUS_PLANNED: GapStatus
GAP_STATUS_ANSWERED: GapStatus

class DealOutcome(_message.Message):
    __slots__ = ("event_id", "opportunity_id", "account_id", "owner_rep_id", "stage", "amount", "currency", "created_at", "closed_at", "updated_at", "lost_reason", "industry", "region", "product_line", "deal_size_band", "team", "opportunity_name", "account_name")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_REP_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    LOST_REASON_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_LINE_FIELD_NUMBER: _ClassVar[int]
    DEAL_SIZE_BAND_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_NAME_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NAME_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    opportunity_id: str
    account_id: str
    owner_rep_id: str
    stage: DealStage
    amount: float
    currency: str
    created_at: _timestamp_pb2.Timestamp
    closed_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    lost_reason: str
    industry: str
    region: str
    product_line: str
    deal_size_band: str
    team: str
    opportunity_name: str
    account_name: str
    def __init__(self, event_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., account_id: _Optional[str] = ..., owner_rep_id: _Optional[str] = ..., stage: _Optional[_Union[DealStage, str]] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lost_reason: _Optional[str] = ..., industry: _Optional[str] = ..., region: _Optional[str] = ..., product_line: _Optional[str] = ..., deal_size_band: _Optional[str] = ..., team: _Optional[str] = ..., opportunity_name: _Optional[str] = ..., account_name: _Optional[str] = ...) -> None: ...

class RecordDealOutcomesRequest(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[DealOutcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[DealOutcome, _Mapping]]] = ...) -> None: ...

class RecordDealOutcomesResponse(_message.Message):
    __slots__ = ("event_ids", "received_at")
    EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    event_ids: _containers.RepeatedScalarFieldContainer[str]
    received_at: _timestamp_pb2.Timestamp
    def __init__(self, event_ids: _Optional[_Iterable[str]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AssetWinRate(_message.Message):
    __slots__ = ("asset_id", "title", "deals_touched", "won", "lost", "open", "closed", "win_rate", "win_rate_lower", "win_rate_upper", "baseline_closed", "baseline_won", "baseline_win_rate", "lift", "lift_ratio", "z", "p_value", "significant", "ranked", "influenced_revenue", "rep_adjusted_odds_ratio", "rep_adjusted_p_value", "q_value")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DEALS_TOUCHED_FIELD_NUMBER: _ClassVar[int]
    WON_FIELD_NUMBER: _ClassVar[int]
    LOST_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_LOWER_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_UPPER_FIELD_NUMBER: _ClassVar[int]
    BASELINE_CLOSED_FIELD_NUMBER: _ClassVar[int]
    BASELINE_WON_FIELD_NUMBER: _ClassVar[int]
    BASELINE_WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    LIFT_FIELD_NUMBER: _ClassVar[int]
    LIFT_RATIO_FIELD_NUMBER: _ClassVar[int]
    Z_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    SIGNIFICANT_FIELD_NUMBER: _ClassVar[int]
    RANKED_FIELD_NUMBER: _ClassVar[int]
    INFLUENCED_REVENUE_FIELD_NUMBER: _ClassVar[int]
    REP_ADJUSTED_ODDS_RATIO_FIELD_NUMBER: _ClassVar[int]
    REP_ADJUSTED_P_VALUE_FIELD_NUMBER: _ClassVar[int]
    Q_VALUE_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    title: str
    deals_touched: int
    won: int
    lost: int
    open: int
    closed: int
    win_rate: float
    win_rate_lower: float
    win_rate_upper: float
    baseline_closed: int
    baseline_won: int
    baseline_win_rate: float
    lift: float
    lift_ratio: float
    z: float
    p_value: float
    significant: bool
    ranked: bool
    influenced_revenue: float
    rep_adjusted_odds_ratio: float
    rep_adjusted_p_value: float
    q_value: float
    def __init__(self, asset_id: _Optional[str] = ..., title: _Optional[str] = ..., deals_touched: _Optional[int] = ..., won: _Optional[int] = ..., lost: _Optional[int] = ..., open: _Optional[int] = ..., closed: _Optional[int] = ..., win_rate: _Optional[float] = ..., win_rate_lower: _Optional[float] = ..., win_rate_upper: _Optional[float] = ..., baseline_closed: _Optional[int] = ..., baseline_won: _Optional[int] = ..., baseline_win_rate: _Optional[float] = ..., lift: _Optional[float] = ..., lift_ratio: _Optional[float] = ..., z: _Optional[float] = ..., p_value: _Optional[float] = ..., significant: _Optional[bool] = ..., ranked: _Optional[bool] = ..., influenced_revenue: _Optional[float] = ..., rep_adjusted_odds_ratio: _Optional[float] = ..., rep_adjusted_p_value: _Optional[float] = ..., q_value: _Optional[float] = ...) -> None: ...

class WinRateBaseline(_message.Message):
    __slots__ = ("deals", "won", "lost", "open", "win_rate", "min_closed_deals", "significance_level")
    DEALS_FIELD_NUMBER: _ClassVar[int]
    WON_FIELD_NUMBER: _ClassVar[int]
    LOST_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    MIN_CLOSED_DEALS_FIELD_NUMBER: _ClassVar[int]
    SIGNIFICANCE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    deals: int
    won: int
    lost: int
    open: int
    win_rate: float
    min_closed_deals: int
    significance_level: float
    def __init__(self, deals: _Optional[int] = ..., won: _Optional[int] = ..., lost: _Optional[int] = ..., open: _Optional[int] = ..., win_rate: _Optional[float] = ..., min_closed_deals: _Optional[int] = ..., significance_level: _Optional[float] = ...) -> None: ...

class GetWinRatesRequest(_message.Message):
    __slots__ = ("asset_ids", "time_range", "segment")
    ASSET_IDS_FIELD_NUMBER: _ClassVar[int]
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    asset_ids: _containers.RepeatedScalarFieldContainer[str]
    time_range: _common_pb2.TimeRange
    segment: _common_pb2.SegmentFilter
    def __init__(self, asset_ids: _Optional[_Iterable[str]] = ..., time_range: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., segment: _Optional[_Union[_common_pb2.SegmentFilter, _Mapping]] = ...) -> None: ...

class GetWinRatesResponse(_message.Message):
    __slots__ = ("rates", "overall")
    RATES_FIELD_NUMBER: _ClassVar[int]
    OVERALL_FIELD_NUMBER: _ClassVar[int]
    rates: _containers.RepeatedCompositeFieldContainer[AssetWinRate]
    overall: WinRateBaseline
    def __init__(self, rates: _Optional[_Iterable[_Union[AssetWinRate, _Mapping]]] = ..., overall: _Optional[_Union[WinRateBaseline, _Mapping]] = ...) -> None: ...

class ListAssetWinRatesRequest(_message.Message):
    __slots__ = ("time_range", "segment", "order_by", "significant_positive_only", "ranked_only", "page_size", "page_token")
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    SIGNIFICANT_POSITIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    RANKED_ONLY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    time_range: _common_pb2.TimeRange
    segment: _common_pb2.SegmentFilter
    order_by: WinRateOrder
    significant_positive_only: bool
    ranked_only: bool
    page_size: int
    page_token: str
    def __init__(self, time_range: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., segment: _Optional[_Union[_common_pb2.SegmentFilter, _Mapping]] = ..., order_by: _Optional[_Union[WinRateOrder, str]] = ..., significant_positive_only: _Optional[bool] = ..., ranked_only: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAssetWinRatesResponse(_message.Message):
    __slots__ = ("rates", "overall", "total_size", "next_page_token")
    RATES_FIELD_NUMBER: _ClassVar[int]
    OVERALL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    rates: _containers.RepeatedCompositeFieldContainer[AssetWinRate]
    overall: WinRateBaseline
    total_size: int
    next_page_token: str
    def __init__(self, rates: _Optional[_Iterable[_Union[AssetWinRate, _Mapping]]] = ..., overall: _Optional[_Union[WinRateBaseline, _Mapping]] = ..., total_size: _Optional[int] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AssetAttribution(_message.Message):
    __slots__ = ("asset_id", "title", "first_touch", "last_touch", "linear", "time_decay", "u_shaped", "w_shaped", "influenced_revenue", "won_deals", "markov", "sourced_revenue", "sourced_deals")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    FIRST_TOUCH_FIELD_NUMBER: _ClassVar[int]
    LAST_TOUCH_FIELD_NUMBER: _ClassVar[int]
    LINEAR_FIELD_NUMBER: _ClassVar[int]
    TIME_DECAY_FIELD_NUMBER: _ClassVar[int]
    U_SHAPED_FIELD_NUMBER: _ClassVar[int]
    W_SHAPED_FIELD_NUMBER: _ClassVar[int]
    INFLUENCED_REVENUE_FIELD_NUMBER: _ClassVar[int]
    WON_DEALS_FIELD_NUMBER: _ClassVar[int]
    MARKOV_FIELD_NUMBER: _ClassVar[int]
    SOURCED_REVENUE_FIELD_NUMBER: _ClassVar[int]
    SOURCED_DEALS_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    title: str
    first_touch: float
    last_touch: float
    linear: float
    time_decay: float
    u_shaped: float
    w_shaped: float
    influenced_revenue: float
    won_deals: int
    markov: float
    sourced_revenue: float
    sourced_deals: int
    def __init__(self, asset_id: _Optional[str] = ..., title: _Optional[str] = ..., first_touch: _Optional[float] = ..., last_touch: _Optional[float] = ..., linear: _Optional[float] = ..., time_decay: _Optional[float] = ..., u_shaped: _Optional[float] = ..., w_shaped: _Optional[float] = ..., influenced_revenue: _Optional[float] = ..., won_deals: _Optional[int] = ..., markov: _Optional[float] = ..., sourced_revenue: _Optional[float] = ..., sourced_deals: _Optional[int] = ...) -> None: ...

class GetAttributionRequest(_message.Message):
    __slots__ = ("time_range", "segment", "half_life_days", "order_by", "page_size", "page_token")
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    HALF_LIFE_DAYS_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    time_range: _common_pb2.TimeRange
    segment: _common_pb2.SegmentFilter
    half_life_days: float
    order_by: AttributionModel
    page_size: int
    page_token: str
    def __init__(self, time_range: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., segment: _Optional[_Union[_common_pb2.SegmentFilter, _Mapping]] = ..., half_life_days: _Optional[float] = ..., order_by: _Optional[_Union[AttributionModel, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetAttributionResponse(_message.Message):
    __slots__ = ("assets", "won_deals", "attributed_total", "half_life_days", "total_size", "next_page_token", "markov_paths", "markov_as_of", "markov_scope", "markov_attributed_total")
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    WON_DEALS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    HALF_LIFE_DAYS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MARKOV_PATHS_FIELD_NUMBER: _ClassVar[int]
    MARKOV_AS_OF_FIELD_NUMBER: _ClassVar[int]
    MARKOV_SCOPE_FIELD_NUMBER: _ClassVar[int]
    MARKOV_ATTRIBUTED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    assets: _containers.RepeatedCompositeFieldContainer[AssetAttribution]
    won_deals: int
    attributed_total: float
    half_life_days: float
    total_size: int
    next_page_token: str
    markov_paths: int
    markov_as_of: _timestamp_pb2.Timestamp
    markov_scope: str
    markov_attributed_total: float
    def __init__(self, assets: _Optional[_Iterable[_Union[AssetAttribution, _Mapping]]] = ..., won_deals: _Optional[int] = ..., attributed_total: _Optional[float] = ..., half_life_days: _Optional[float] = ..., total_size: _Optional[int] = ..., next_page_token: _Optional[str] = ..., markov_paths: _Optional[int] = ..., markov_as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., markov_scope: _Optional[str] = ..., markov_attributed_total: _Optional[float] = ...) -> None: ...

class AssetScorecard(_message.Message):
    __slots__ = ("asset_id", "title", "uses_90d", "reps_90d", "win_rate", "ratings", "average_rating", "updated_at", "age_days", "usage_score", "win_score", "rating_score", "freshness_score", "score", "status", "sourced_revenue", "influenced_revenue")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    USES_90D_FIELD_NUMBER: _ClassVar[int]
    REPS_90D_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    RATINGS_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_RATING_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    AGE_DAYS_FIELD_NUMBER: _ClassVar[int]
    USAGE_SCORE_FIELD_NUMBER: _ClassVar[int]
    WIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    RATING_SCORE_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_SCORE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SOURCED_REVENUE_FIELD_NUMBER: _ClassVar[int]
    INFLUENCED_REVENUE_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    title: str
    uses_90d: int
    reps_90d: int
    win_rate: AssetWinRate
    ratings: int
    average_rating: float
    updated_at: _timestamp_pb2.Timestamp
    age_days: float
    usage_score: float
    win_score: float
    rating_score: float
    freshness_score: float
    score: float
    status: str
    sourced_revenue: float
    influenced_revenue: float
    def __init__(self, asset_id: _Optional[str] = ..., title: _Optional[str] = ..., uses_90d: _Optional[int] = ..., reps_90d: _Optional[int] = ..., win_rate: _Optional[_Union[AssetWinRate, _Mapping]] = ..., ratings: _Optional[int] = ..., average_rating: _Optional[float] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., age_days: _Optional[float] = ..., usage_score: _Optional[float] = ..., win_score: _Optional[float] = ..., rating_score: _Optional[float] = ..., freshness_score: _Optional[float] = ..., score: _Optional[float] = ..., status: _Optional[str] = ..., sourced_revenue: _Optional[float] = ..., influenced_revenue: _Optional[float] = ...) -> None: ...

class GetAssetScorecardsRequest(_message.Message):
    __slots__ = ("asset_ids",)
    ASSET_IDS_FIELD_NUMBER: _ClassVar[int]
    asset_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, asset_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetAssetScorecardsResponse(_message.Message):
    __slots__ = ("scorecards",)
    SCORECARDS_FIELD_NUMBER: _ClassVar[int]
    scorecards: _containers.RepeatedCompositeFieldContainer[AssetScorecard]
    def __init__(self, scorecards: _Optional[_Iterable[_Union[AssetScorecard, _Mapping]]] = ...) -> None: ...

class SubmitRatingRequest(_message.Message):
    __slots__ = ("asset_id", "rating", "comment", "opportunity_id")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    rating: int
    comment: str
    opportunity_id: str
    def __init__(self, asset_id: _Optional[str] = ..., rating: _Optional[int] = ..., comment: _Optional[str] = ..., opportunity_id: _Optional[str] = ...) -> None: ...

class Rating(_message.Message):
    __slots__ = ("asset_id", "rep_id", "rating", "comment", "opportunity_id", "rated_at")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    RATED_AT_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    rep_id: str
    rating: int
    comment: str
    opportunity_id: str
    rated_at: _timestamp_pb2.Timestamp
    def __init__(self, asset_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., rating: _Optional[int] = ..., comment: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., rated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SubmitRatingResponse(_message.Message):
    __slots__ = ("rating",)
    RATING_FIELD_NUMBER: _ClassVar[int]
    rating: Rating
    def __init__(self, rating: _Optional[_Union[Rating, _Mapping]] = ...) -> None: ...

class SubmitContentRequestRequest(_message.Message):
    __slots__ = ("description", "buying_stage", "persona", "product", "lost_opportunity_id", "request_id")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BUYING_STAGE_FIELD_NUMBER: _ClassVar[int]
    PERSONA_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    LOST_OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    description: str
    buying_stage: _common_pb2.BuyingStage
    persona: str
    product: str
    lost_opportunity_id: str
    request_id: str
    def __init__(self, description: _Optional[str] = ..., buying_stage: _Optional[_Union[_common_pb2.BuyingStage, str]] = ..., persona: _Optional[str] = ..., product: _Optional[str] = ..., lost_opportunity_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ContentRequest(_message.Message):
    __slots__ = ("request_id", "rep_id", "description", "buying_stage", "persona", "product", "lost_opportunity_id", "created_at", "topic")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BUYING_STAGE_FIELD_NUMBER: _ClassVar[int]
    PERSONA_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    LOST_OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    rep_id: str
    description: str
    buying_stage: _common_pb2.BuyingStage
    persona: str
    product: str
    lost_opportunity_id: str
    created_at: _timestamp_pb2.Timestamp
    topic: str
    def __init__(self, request_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., description: _Optional[str] = ..., buying_stage: _Optional[_Union[_common_pb2.BuyingStage, str]] = ..., persona: _Optional[str] = ..., product: _Optional[str] = ..., lost_opportunity_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., topic: _Optional[str] = ...) -> None: ...

class SubmitContentRequestResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ContentRequest
    def __init__(self, request: _Optional[_Union[ContentRequest, _Mapping]] = ...) -> None: ...

class RatingSummary(_message.Message):
    __slots__ = ("asset_id", "count", "average", "distribution")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_FIELD_NUMBER: _ClassVar[int]
    DISTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    count: int
    average: float
    distribution: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, asset_id: _Optional[str] = ..., count: _Optional[int] = ..., average: _Optional[float] = ..., distribution: _Optional[_Iterable[int]] = ...) -> None: ...

class ListFeedbackRequest(_message.Message):
    __slots__ = ("asset_id", "with_comment_only", "page_size", "page_token")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    WITH_COMMENT_ONLY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    with_comment_only: bool
    page_size: int
    page_token: str
    def __init__(self, asset_id: _Optional[str] = ..., with_comment_only: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListFeedbackResponse(_message.Message):
    __slots__ = ("ratings", "summary", "next_page_token")
    RATINGS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ratings: _containers.RepeatedCompositeFieldContainer[Rating]
    summary: RatingSummary
    next_page_token: str
    def __init__(self, ratings: _Optional[_Iterable[_Union[Rating, _Mapping]]] = ..., summary: _Optional[_Union[RatingSummary, _Mapping]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListContentRequestsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListContentRequestsResponse(_message.Message):
    __slots__ = ("requests", "next_page_token")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[ContentRequest]
    next_page_token: str
    def __init__(self, requests: _Optional[_Iterable[_Union[ContentRequest, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ContentGap(_message.Message):
    __slots__ = ("topic", "example", "zero_result_searches", "searching_reps", "requests", "lost_deals", "lost_revenue", "score", "topic_id", "name", "phrasings", "status", "answer", "weekly", "poor_result_searches")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_FIELD_NUMBER: _ClassVar[int]
    ZERO_RESULT_SEARCHES_FIELD_NUMBER: _ClassVar[int]
    SEARCHING_REPS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    LOST_DEALS_FIELD_NUMBER: _ClassVar[int]
    LOST_REVENUE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TOPIC_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PHRASINGS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    WEEKLY_FIELD_NUMBER: _ClassVar[int]
    POOR_RESULT_SEARCHES_FIELD_NUMBER: _ClassVar[int]
    topic: str
    example: str
    zero_result_searches: int
    searching_reps: int
    requests: int
    lost_deals: int
    lost_revenue: float
    score: float
    topic_id: str
    name: str
    phrasings: int
    status: GapStatus
    answer: GapAnswer
    weekly: _containers.RepeatedCompositeFieldContainer[WeekCount]
    poor_result_searches: int
    def __init__(self, topic: _Optional[str] = ..., example: _Optional[str] = ..., zero_result_searches: _Optional[int] = ..., searching_reps: _Optional[int] = ..., requests: _Optional[int] = ..., lost_deals: _Optional[int] = ..., lost_revenue: _Optional[float] = ..., score: _Optional[float] = ..., topic_id: _Optional[str] = ..., name: _Optional[str] = ..., phrasings: _Optional[int] = ..., status: _Optional[_Union[GapStatus, str]] = ..., answer: _Optional[_Union[GapAnswer, _Mapping]] = ..., weekly: _Optional[_Iterable[_Union[WeekCount, _Mapping]]] = ..., poor_result_searches: _Optional[int] = ...) -> None: ...

class WeekCount(_message.Message):
    __slots__ = ("week_start", "count")
    WEEK_START_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    week_start: _timestamp_pb2.Timestamp
    count: int
    def __init__(self, week_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., count: _Optional[int] = ...) -> None: ...

class GapAnswer(_message.Message):
    __slots__ = ("asset_id", "asset_title", "published_at", "searches_before", "searches_after", "before_per_week", "after_per_week", "weeks")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_TITLE_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    SEARCHES_BEFORE_FIELD_NUMBER: _ClassVar[int]
    SEARCHES_AFTER_FIELD_NUMBER: _ClassVar[int]
    BEFORE_PER_WEEK_FIELD_NUMBER: _ClassVar[int]
    AFTER_PER_WEEK_FIELD_NUMBER: _ClassVar[int]
    WEEKS_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    asset_title: str
    published_at: _timestamp_pb2.Timestamp
    searches_before: int
    searches_after: int
    before_per_week: float
    after_per_week: float
    weeks: _containers.RepeatedCompositeFieldContainer[WeekCount]
    def __init__(self, asset_id: _Optional[str] = ..., asset_title: _Optional[str] = ..., published_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., searches_before: _Optional[int] = ..., searches_after: _Optional[int] = ..., before_per_week: _Optional[float] = ..., after_per_week: _Optional[float] = ..., weeks: _Optional[_Iterable[_Union[WeekCount, _Mapping]]] = ...) -> None: ...

class GapSearch(_message.Message):
    __slots__ = ("query", "rep_id", "occurred_at", "result_count")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    RESULT_COUNT_FIELD_NUMBER: _ClassVar[int]
    query: str
    rep_id: str
    occurred_at: _timestamp_pb2.Timestamp
    result_count: int
    def __init__(self, query: _Optional[str] = ..., rep_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., result_count: _Optional[int] = ...) -> None: ...

class GapLostDeal(_message.Message):
    __slots__ = ("opportunity_id", "opportunity_name", "account_name", "amount", "currency", "lost_reason", "closed_at")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_NAME_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NAME_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    LOST_REASON_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    opportunity_name: str
    account_name: str
    amount: float
    currency: str
    lost_reason: str
    closed_at: _timestamp_pb2.Timestamp
    def __init__(self, opportunity_id: _Optional[str] = ..., opportunity_name: _Optional[str] = ..., account_name: _Optional[str] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., lost_reason: _Optional[str] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetGapTopicRequest(_message.Message):
    __slots__ = ("topic_id", "time_range", "evidence_limit")
    TOPIC_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    topic_id: str
    time_range: _common_pb2.TimeRange
    evidence_limit: int
    def __init__(self, topic_id: _Optional[str] = ..., time_range: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., evidence_limit: _Optional[int] = ...) -> None: ...

class GetGapTopicResponse(_message.Message):
    __slots__ = ("topic", "searches", "requests", "lost_deals", "phrasings")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    SEARCHES_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    LOST_DEALS_FIELD_NUMBER: _ClassVar[int]
    PHRASINGS_FIELD_NUMBER: _ClassVar[int]
    topic: ContentGap
    searches: _containers.RepeatedCompositeFieldContainer[GapSearch]
    requests: _containers.RepeatedCompositeFieldContainer[ContentRequest]
    lost_deals: _containers.RepeatedCompositeFieldContainer[GapLostDeal]
    phrasings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, topic: _Optional[_Union[ContentGap, _Mapping]] = ..., searches: _Optional[_Iterable[_Union[GapSearch, _Mapping]]] = ..., requests: _Optional[_Iterable[_Union[ContentRequest, _Mapping]]] = ..., lost_deals: _Optional[_Iterable[_Union[GapLostDeal, _Mapping]]] = ..., phrasings: _Optional[_Iterable[str]] = ...) -> None: ...

class SetGapStatusRequest(_message.Message):
    __slots__ = ("topic_id", "status", "asset_id", "time_range")
    TOPIC_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    topic_id: str
    status: GapStatus
    asset_id: str
    time_range: _common_pb2.TimeRange
    def __init__(self, topic_id: _Optional[str] = ..., status: _Optional[_Union[GapStatus, str]] = ..., asset_id: _Optional[str] = ..., time_range: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ...) -> None: ...

class SetGapStatusResponse(_message.Message):
    __slots__ = ("topic",)
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    topic: ContentGap
    def __init__(self, topic: _Optional[_Union[ContentGap, _Mapping]] = ...) -> None: ...

class GetContentGapsRequest(_message.Message):
    __slots__ = ("time_range", "limit")
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    time_range: _common_pb2.TimeRange
    limit: int
    def __init__(self, time_range: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class GetContentGapsResponse(_message.Message):
    __slots__ = ("gaps",)
    GAPS_FIELD_NUMBER: _ClassVar[int]
    gaps: _containers.RepeatedCompositeFieldContainer[ContentGap]
    def __init__(self, gaps: _Optional[_Iterable[_Union[ContentGap, _Mapping]]] = ...) -> None: ...

class Opportunity(_message.Message):
    __slots__ = ("opportunity_id", "opportunity_name", "account_id", "account_name", "amount", "currency", "stage", "created_at", "owner_rep_id")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_NAME_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NAME_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    OWNER_REP_ID_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    opportunity_name: str
    account_id: str
    account_name: str
    amount: float
    currency: str
    stage: DealStage
    created_at: _timestamp_pb2.Timestamp
    owner_rep_id: str
    def __init__(self, opportunity_id: _Optional[str] = ..., opportunity_name: _Optional[str] = ..., account_id: _Optional[str] = ..., account_name: _Optional[str] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., stage: _Optional[_Union[DealStage, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., owner_rep_id: _Optional[str] = ...) -> None: ...

class ListOpportunitiesRequest(_message.Message):
    __slots__ = ("query", "stages", "rep_id", "page_size", "page_token")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    query: str
    stages: _containers.RepeatedScalarFieldContainer[DealStage]
    rep_id: str
    page_size: int
    page_token: str
    def __init__(self, query: _Optional[str] = ..., stages: _Optional[_Iterable[_Union[DealStage, str]]] = ..., rep_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOpportunitiesResponse(_message.Message):
    __slots__ = ("opportunities", "next_page_token")
    OPPORTUNITIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    opportunities: _containers.RepeatedCompositeFieldContainer[Opportunity]
    next_page_token: str
    def __init__(self, opportunities: _Optional[_Iterable[_Union[Opportunity, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetOpportunitiesRequest(_message.Message):
    __slots__ = ("opportunity_ids",)
    OPPORTUNITY_IDS_FIELD_NUMBER: _ClassVar[int]
    opportunity_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, opportunity_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetOpportunitiesResponse(_message.Message):
    __slots__ = ("opportunities",)
    OPPORTUNITIES_FIELD_NUMBER: _ClassVar[int]
    opportunities: _containers.RepeatedCompositeFieldContainer[Opportunity]
    def __init__(self, opportunities: _Optional[_Iterable[_Union[Opportunity, _Mapping]]] = ...) -> None: ...

class CrmAccount(_message.Message):
    __slots__ = ("account_id", "account_name", "name_updated_at")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NAME_FIELD_NUMBER: _ClassVar[int]
    NAME_UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    account_name: str
    name_updated_at: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., account_name: _Optional[str] = ..., name_updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetAccountsRequest(_message.Message):
    __slots__ = ("account_ids",)
    ACCOUNT_IDS_FIELD_NUMBER: _ClassVar[int]
    account_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, account_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetAccountsResponse(_message.Message):
    __slots__ = ("accounts",)
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[CrmAccount]
    def __init__(self, accounts: _Optional[_Iterable[_Union[CrmAccount, _Mapping]]] = ...) -> None: ...
