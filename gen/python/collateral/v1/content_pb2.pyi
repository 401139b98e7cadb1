import datetime

from collateral.v1 import common_pb2 as _common_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AssetType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSET_TYPE_UNSPECIFIED: _ClassVar[AssetType]
    ASSET_TYPE_DECK: _ClassVar[AssetType]
    ASSET_TYPE_CASE_STUDY: _ClassVar[AssetType]
    ASSET_TYPE_ONE_PAGER: _ClassVar[AssetType]
    ASSET_TYPE_BATTLE_CARD: _ClassVar[AssetType]
    ASSET_TYPE_VIDEO: _ClassVar[AssetType]
    ASSET_TYPE_WHITEPAPER: _ClassVar[AssetType]
    ASSET_TYPE_EMAIL_TEMPLATE: _ClassVar[AssetType]
    ASSET_TYPE_ROI_CALCULATOR: _ClassVar[AssetType]
    ASSET_TYPE_DATASHEET: _ClassVar[AssetType]
    ASSET_TYPE_OTHER: _ClassVar[AssetType]
    ASSET_TYPE_WEBINAR: _ClassVar[AssetType]
    ASSET_TYPE_DEMO_SCRIPT: _ClassVar[AssetType]
    ASSET_TYPE_PROPOSAL_TEMPLATE: _ClassVar[AssetType]

class AssetStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSET_STATUS_UNSPECIFIED: _ClassVar[AssetStatus]
    ASSET_STATUS_DRAFT: _ClassVar[AssetStatus]
    ASSET_STATUS_PUBLISHED: _ClassVar[AssetStatus]
    ASSET_STATUS_RETIRED: _ClassVar[AssetStatus]

class ExtractionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXTRACTION_STATUS_UNSPECIFIED: _ClassVar[ExtractionStatus]
    EXTRACTION_STATUS_OK: _ClassVar[ExtractionStatus]
    EXTRACTION_STATUS_FAILED: _ClassVar[ExtractionStatus]
    EXTRACTION_STATUS_UNSUPPORTED: _ClassVar[ExtractionStatus]

class SearchSort(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEARCH_SORT_UNSPECIFIED: _ClassVar[SearchSort]
    SEARCH_SORT_RELEVANCE: _ClassVar[SearchSort]
    SEARCH_SORT_NEWEST: _ClassVar[SearchSort]
    SEARCH_SORT_MOST_USED: _ClassVar[SearchSort]
    SEARCH_SORT_BEST_WIN_RATE: _ClassVar[SearchSort]

class PreviewStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PREVIEW_STATUS_UNSPECIFIED: _ClassVar[PreviewStatus]
    PREVIEW_STATUS_READY: _ClassVar[PreviewStatus]
    PREVIEW_STATUS_NONE: _ClassVar[PreviewStatus]
    PREVIEW_STATUS_UNAVAILABLE: _ClassVar[PreviewStatus]

class ImportOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMPORT_OUTCOME_UNSPECIFIED: _ClassVar[ImportOutcome]
    IMPORT_OUTCOME_CREATED: _ClassVar[ImportOutcome]
    IMPORT_OUTCOME_UPDATED: _ClassVar[ImportOutcome]
    IMPORT_OUTCOME_FILE_UPDATED: _ClassVar[ImportOutcome]
    IMPORT_OUTCOME_UNCHANGED: _ClassVar[ImportOutcome]
    IMPORT_OUTCOME_FAILED: _ClassVar[ImportOutcome]

class ExpiryWindow(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPIRY_WINDOW_UNSPECIFIED: _ClassVar[ExpiryWindow]
    EXPIRY_WINDOW_EXPIRING_SOON: _ClassVar[ExpiryWindow]
    EXPIRY_WINDOW_EXPIRED: _ClassVar[ExpiryWindow]
    EXPIRY_WINDOW_NO_EXPIRY: _ClassVar[ExpiryWindow]
ASSET_TYPE_UNSPECIFIED: AssetType
ASSET_TYPE_DECK: AssetType
ASSET_TYPE_CASE_STUDY: AssetType
ASSET_TYPE_ONE_PAGER: AssetType
ASSET_TYPE_BATTLE_CARD: AssetType
ASSET_TYPE_VIDEO: AssetType
ASSET_TYPE_WHITEPAPER: AssetType
ASSET_TYPE_EMAIL_TEMPLATE: AssetType
ASSET_TYPE_ROI_CALCULATOR: AssetType
ASSET_TYPE_DATASHEET: AssetType
ASSET_TYPE_OTHER: AssetType
ASSET_TYPE_WEBINAR: AssetType
ASSET_TYPE_DEMO_SCRIPT: AssetType
ASSET_TYPE_PROPOSAL_TEMPLATE: AssetType
ASSET_STATUS_UNSPECIFIED: AssetStatus
ASSET_STATUS_DRAFT: AssetStatus
ASSET_STATUS_PUBLISHED: AssetStatus
ASSET_STATUS_RETIRED: AssetStatus
EXTRACTION_STATUS_UNSPECIFIED: ExtractionStatus
EXTRACTION_STATUS_OK: ExtractionStatus
EXTRACTION_STATUS_FAILED: ExtractionStatus
EXTRACTION_STATUS_UNSUPPORTED: ExtractionStatus
SEARCH_SORT_UNSPECIFIED: SearchSort
SEARCH_SORT_RELEVANCE: SearchSort
SEARCH_SORT_NEWEST: SearchSort
SEARCH_SORT_MOST_USED: SearchSort
SEARCH_SORT_BEST_WIN_RATE: SearchSort
PREVIEW_STATUS_UNSPECIFIED: PreviewStatus
PREVIEW_STATUS_READY: PreviewStatus
PREVIEW_STATUS_NONE: PreviewStatus
PREVIEW_STATUS_UNAVAILABLE: PreviewStatus
IMPORT_OUTCOME_UNSPECIFIED: ImportOutcome
IMPORT_OUTCOME_CREATED: ImportOutcome
IMPORT_OUTCOME_UPDATED: ImportOutcome
IMPORT_OUTCOME_FILE_UPDATED: ImportOutcome
IMPORT_OUTCOME_UNCHANGED: ImportOutcome
IMPORT_OUTCOME_FAILED: ImportOutcome
EXPIRY_WINDOW_UNSPECIFIED: ExpiryWindow
EXPIRY_WINDOW_EXPIRING_SOON: ExpiryWindow
EXPIRY_WINDOW_EXPIRED: ExpiryWindow
EXPIRY_WINDOW_NO_EXPIRY: ExpiryWindow

class FileVersion(_message.Message):
    __slots__ = ("version", "s3_key", "size_bytes", "content_type", "sha256", "uploaded_at", "uploaded_by", "page_count", "extraction_status", "extraction_error", "file_name", "preview_status", "preview_error")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    S3_KEY_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_AT_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_BY_FIELD_NUMBER: _ClassVar[int]
    PAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    EXTRACTION_STATUS_FIELD_NUMBER: _ClassVar[int]
    EXTRACTION_ERROR_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_STATUS_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_ERROR_FIELD_NUMBER: _ClassVar[int]
    version: int
    s3_key: str
    size_bytes: int
    content_type: str
    sha256: str
    uploaded_at: _timestamp_pb2.Timestamp
    uploaded_by: str
    page_count: int
    extraction_status: ExtractionStatus
    extraction_error: str
    file_name: str
    preview_status: PreviewStatus
    preview_error: str
    def __init__(self, version: _Optional[int] = ..., s3_key: _Optional[str] = ..., size_bytes: _Optional[int] = ..., content_type: _Optional[str] = ..., sha256: _Optional[str] = ..., uploaded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., uploaded_by: _Optional[str] = ..., page_count: _Optional[int] = ..., extraction_status: _Optional[_Union[ExtractionStatus, str]] = ..., extraction_error: _Optional[str] = ..., file_name: _Optional[str] = ..., preview_status: _Optional[_Union[PreviewStatus, str]] = ..., preview_error: _Optional[str] = ...) -> None: ...

class AssetSignals(_message.Message):
    __slots__ = ("usage_score", "win_rate_lower", "deals_closed", "win_rate", "views_30d", "downloads_30d", "shares_30d")
    USAGE_SCORE_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_LOWER_FIELD_NUMBER: _ClassVar[int]
    DEALS_CLOSED_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    VIEWS_30D_FIELD_NUMBER: _ClassVar[int]
    DOWNLOADS_30D_FIELD_NUMBER: _ClassVar[int]
    SHARES_30D_FIELD_NUMBER: _ClassVar[int]
    usage_score: float
    win_rate_lower: float
    deals_closed: int
    win_rate: float
    views_30d: int
    downloads_30d: int
    shares_30d: int
    def __init__(self, usage_score: _Optional[float] = ..., win_rate_lower: _Optional[float] = ..., deals_closed: _Optional[int] = ..., win_rate: _Optional[float] = ..., views_30d: _Optional[int] = ..., downloads_30d: _Optional[int] = ..., shares_30d: _Optional[int] = ...) -> None: ...

class Asset(_message.Message):
    __slots__ = ("asset_id", "title", "description", "type", "tags", "products", "buying_stages", "personas", "industries", "regions", "language", "owner", "status", "expires_at", "create_time", "update_time", "publish_time", "version", "files", "signals", "external_id", "pinned_stages")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    BUYING_STAGES_FIELD_NUMBER: _ClassVar[int]
    PERSONAS_FIELD_NUMBER: _ClassVar[int]
    INDUSTRIES_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    PINNED_STAGES_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    title: str
    description: str
    type: AssetType
    tags: _containers.RepeatedScalarFieldContainer[str]
    products: _containers.RepeatedScalarFieldContainer[str]
    buying_stages: _containers.RepeatedScalarFieldContainer[_common_pb2.BuyingStage]
    personas: _containers.RepeatedScalarFieldContainer[str]
    industries: _containers.RepeatedScalarFieldContainer[str]
    regions: _containers.RepeatedScalarFieldContainer[str]
    language: str
    owner: str
    status: AssetStatus
    expires_at: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    publish_time: _timestamp_pb2.Timestamp
    version: int
    files: _containers.RepeatedCompositeFieldContainer[FileVersion]
    signals: AssetSignals
    external_id: str
    pinned_stages: _containers.RepeatedScalarFieldContainer[_common_pb2.BuyingStage]
    def __init__(self, asset_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., type: _Optional[_Union[AssetType, str]] = ..., tags: _Optional[_Iterable[str]] = ..., products: _Optional[_Iterable[str]] = ..., buying_stages: _Optional[_Iterable[_Union[_common_pb2.BuyingStage, str]]] = ..., personas: _Optional[_Iterable[str]] = ..., industries: _Optional[_Iterable[str]] = ..., regions: _Optional[_Iterable[str]] = ..., language: _Optional[str] = ..., owner: _Optional[str] = ..., status: _Optional[_Union[AssetStatus, str]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., files: _Optional[_Iterable[_Union[FileVersion, _Mapping]]] = ..., signals: _Optional[_Union[AssetSignals, _Mapping]] = ..., external_id: _Optional[str] = ..., pinned_stages: _Optional[_Iterable[_Union[_common_pb2.BuyingStage, str]]] = ...) -> None: ...

class CreateAssetRequest(_message.Message):
    __slots__ = ("asset_id", "asset", "file_content", "file_name", "content_type", "sha256")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    FILE_CONTENT_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    asset: Asset
    file_content: bytes
    file_name: str
    content_type: str
    sha256: str
    def __init__(self, asset_id: _Optional[str] = ..., asset: _Optional[_Union[Asset, _Mapping]] = ..., file_content: _Optional[bytes] = ..., file_name: _Optional[str] = ..., content_type: _Optional[str] = ..., sha256: _Optional[str] = ...) -> None: ...

class CreateAssetResponse(_message.Message):
    __slots__ = ("asset",)
    ASSET_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ...) -> None: ...

class ImportAssetItem(_message.Message):
    __slots__ = ("asset_id", "asset", "status", "file_content", "file_name", "content_type", "sha256")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FILE_CONTENT_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    asset: Asset
    status: AssetStatus
    file_content: bytes
    file_name: str
    content_type: str
    sha256: str
    def __init__(self, asset_id: _Optional[str] = ..., asset: _Optional[_Union[Asset, _Mapping]] = ..., status: _Optional[_Union[AssetStatus, str]] = ..., file_content: _Optional[bytes] = ..., file_name: _Optional[str] = ..., content_type: _Optional[str] = ..., sha256: _Optional[str] = ...) -> None: ...

class ImportAssetsRequest(_message.Message):
    __slots__ = ("items", "refresh")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    REFRESH_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ImportAssetItem]
    refresh: bool
    def __init__(self, items: _Optional[_Iterable[_Union[ImportAssetItem, _Mapping]]] = ..., refresh: _Optional[bool] = ...) -> None: ...

class ImportItemError(_message.Message):
    __slots__ = ("code", "message", "field")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    field: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., field: _Optional[str] = ...) -> None: ...

class ImportAssetResult(_message.Message):
    __slots__ = ("asset_id", "outcome", "version", "error")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    outcome: ImportOutcome
    version: int
    error: ImportItemError
    def __init__(self, asset_id: _Optional[str] = ..., outcome: _Optional[_Union[ImportOutcome, str]] = ..., version: _Optional[int] = ..., error: _Optional[_Union[ImportItemError, _Mapping]] = ...) -> None: ...

class ImportAssetsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ImportAssetResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ImportAssetResult, _Mapping]]] = ...) -> None: ...

class GetAssetRequest(_message.Message):
    __slots__ = ("asset_id",)
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    def __init__(self, asset_id: _Optional[str] = ...) -> None: ...

class GetAssetResponse(_message.Message):
    __slots__ = ("asset",)
    ASSET_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ...) -> None: ...

class UpdateAssetRequest(_message.Message):
    __slots__ = ("asset", "update_mask", "expected_version")
    ASSET_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    update_mask: _field_mask_pb2.FieldMask
    expected_version: int
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., expected_version: _Optional[int] = ...) -> None: ...

class UpdateAssetResponse(_message.Message):
    __slots__ = ("asset",)
    ASSET_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ...) -> None: ...

class PublishAssetRequest(_message.Message):
    __slots__ = ("asset_id", "expected_version")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    expected_version: int
    def __init__(self, asset_id: _Optional[str] = ..., expected_version: _Optional[int] = ...) -> None: ...

class PublishAssetResponse(_message.Message):
    __slots__ = ("asset",)
    ASSET_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ...) -> None: ...

class RetireAssetRequest(_message.Message):
    __slots__ = ("asset_id", "expected_version")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    expected_version: int
    def __init__(self, asset_id: _Optional[str] = ..., expected_version: _Optional[int] = ...) -> None: ...

class RetireAssetResponse(_message.Message):
    __slots__ = ("asset",)
    ASSET_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ...) -> None: ...

class RestoreAssetRequest(_message.Message):
    __slots__ = ("asset_id", "expected_version")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    expected_version: int
    def __init__(self, asset_id: _Optional[str] = ..., expected_version: _Optional[int] = ...) -> None: ...

class RestoreAssetResponse(_message.Message):
    __slots__ = ("asset",)
    ASSET_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ...) -> None: ...

class ListAssetsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "statuses", "owner")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    statuses: _containers.RepeatedScalarFieldContainer[AssetStatus]
    owner: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[AssetStatus, str]]] = ..., owner: _Optional[str] = ...) -> None: ...

class ListAssetsResponse(_message.Message):
    __slots__ = ("assets", "next_page_token", "total_size")
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    assets: _containers.RepeatedCompositeFieldContainer[Asset]
    next_page_token: str
    total_size: int
    def __init__(self, assets: _Optional[_Iterable[_Union[Asset, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class UploadFileHeader(_message.Message):
    __slots__ = ("asset_id", "file_name", "content_type", "size_bytes", "sha256", "expected_version")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    expected_version: int
    def __init__(self, asset_id: _Optional[str] = ..., file_name: _Optional[str] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., expected_version: _Optional[int] = ...) -> None: ...

class UploadFileRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: UploadFileHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[UploadFileHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadFileResponse(_message.Message):
    __slots__ = ("asset",)
    ASSET_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ...) -> None: ...

class CreateUploadUrlRequest(_message.Message):
    __slots__ = ("asset_id", "file_name", "content_type", "size_bytes", "sha256")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    def __init__(self, asset_id: _Optional[str] = ..., file_name: _Optional[str] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class CreateUploadUrlResponse(_message.Message):
    __slots__ = ("upload_url", "upload_id", "headers", "expire_time")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    UPLOAD_URL_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    upload_url: str
    upload_id: str
    headers: _containers.ScalarMap[str, str]
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, upload_url: _Optional[str] = ..., upload_id: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CompleteUploadRequest(_message.Message):
    __slots__ = ("upload_id", "expected_version")
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    expected_version: int
    def __init__(self, upload_id: _Optional[str] = ..., expected_version: _Optional[int] = ...) -> None: ...

class CompleteUploadResponse(_message.Message):
    __slots__ = ("asset",)
    ASSET_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ...) -> None: ...

class GetDownloadUrlRequest(_message.Message):
    __slots__ = ("asset_id", "file_version")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_VERSION_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    file_version: int
    def __init__(self, asset_id: _Optional[str] = ..., file_version: _Optional[int] = ...) -> None: ...

class GetDownloadUrlResponse(_message.Message):
    __slots__ = ("url", "expire_time", "file")
    URL_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    url: str
    expire_time: _timestamp_pb2.Timestamp
    file: FileVersion
    def __init__(self, url: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., file: _Optional[_Union[FileVersion, _Mapping]] = ...) -> None: ...

class RenderPageRequest(_message.Message):
    __slots__ = ("asset_id", "page", "file_version", "width")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    FILE_VERSION_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    page: int
    file_version: int
    width: int
    def __init__(self, asset_id: _Optional[str] = ..., page: _Optional[int] = ..., file_version: _Optional[int] = ..., width: _Optional[int] = ...) -> None: ...

class RenderPageResponse(_message.Message):
    __slots__ = ("png", "page_count", "file_version")
    PNG_FIELD_NUMBER: _ClassVar[int]
    PAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    FILE_VERSION_FIELD_NUMBER: _ClassVar[int]
    png: bytes
    page_count: int
    file_version: int
    def __init__(self, png: _Optional[bytes] = ..., page_count: _Optional[int] = ..., file_version: _Optional[int] = ...) -> None: ...

class SearchFilters(_message.Message):
    __slots__ = ("types", "buying_stages", "industries", "regions", "products", "personas", "languages", "tags", "owners", "statuses", "include_expired", "expiry")
    TYPES_FIELD_NUMBER: _ClassVar[int]
    BUYING_STAGES_FIELD_NUMBER: _ClassVar[int]
    INDUSTRIES_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    PERSONAS_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    OWNERS_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EXPIRED_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_FIELD_NUMBER: _ClassVar[int]
    types: _containers.RepeatedScalarFieldContainer[AssetType]
    buying_stages: _containers.RepeatedScalarFieldContainer[_common_pb2.BuyingStage]
    industries: _containers.RepeatedScalarFieldContainer[str]
    regions: _containers.RepeatedScalarFieldContainer[str]
    products: _containers.RepeatedScalarFieldContainer[str]
    personas: _containers.RepeatedScalarFieldContainer[str]
    languages: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.RepeatedScalarFieldContainer[str]
    owners: _containers.RepeatedScalarFieldContainer[str]
    statuses: _containers.RepeatedScalarFieldContainer[AssetStatus]
    include_expired: bool
    expiry: ExpiryWindow
    def __init__(self, types: _Optional[_Iterable[_Union[AssetType, str]]] = ..., buying_stages: _Optional[_Iterable[_Union[_common_pb2.BuyingStage, str]]] = ..., industries: _Optional[_Iterable[str]] = ..., regions: _Optional[_Iterable[str]] = ..., products: _Optional[_Iterable[str]] = ..., personas: _Optional[_Iterable[str]] = ..., languages: _Optional[_Iterable[str]] = ..., tags: _Optional[_Iterable[str]] = ..., owners: _Optional[_Iterable[str]] = ..., statuses: _Optional[_Iterable[_Union[AssetStatus, str]]] = ..., include_expired: _Optional[bool] = ..., expiry: _Optional[_Union[ExpiryWindow, str]] = ...) -> None: ...

class SearchAssetsRequest(_message.Message):
    __slots__ = ("query", "filters", "sort", "page_size", "page_token")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    query: str
    filters: SearchFilters
    sort: SearchSort
    page_size: int
    page_token: str
    def __init__(self, query: _Optional[str] = ..., filters: _Optional[_Union[SearchFilters, _Mapping]] = ..., sort: _Optional[_Union[SearchSort, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("asset", "score", "title_highlights", "body_highlights")
    ASSET_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TITLE_HIGHLIGHTS_FIELD_NUMBER: _ClassVar[int]
    BODY_HIGHLIGHTS_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    score: float
    title_highlights: _containers.RepeatedScalarFieldContainer[str]
    body_highlights: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ..., score: _Optional[float] = ..., title_highlights: _Optional[_Iterable[str]] = ..., body_highlights: _Optional[_Iterable[str]] = ...) -> None: ...

class FacetValue(_message.Message):
    __slots__ = ("value", "count", "label", "retired")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    RETIRED_FIELD_NUMBER: _ClassVar[int]
    value: str
    count: int
    label: str
    retired: bool
    def __init__(self, value: _Optional[str] = ..., count: _Optional[int] = ..., label: _Optional[str] = ..., retired: _Optional[bool] = ...) -> None: ...

class Facet(_message.Message):
    __slots__ = ("field", "values")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    field: str
    values: _containers.RepeatedCompositeFieldContainer[FacetValue]
    def __init__(self, field: _Optional[str] = ..., values: _Optional[_Iterable[_Union[FacetValue, _Mapping]]] = ...) -> None: ...

class SearchAssetsResponse(_message.Message):
    __slots__ = ("hits", "total_size", "facets", "next_page_token", "search_id")
    HITS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    FACETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SEARCH_ID_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SearchHit]
    total_size: int
    facets: _containers.RepeatedCompositeFieldContainer[Facet]
    next_page_token: str
    search_id: str
    def __init__(self, hits: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ..., total_size: _Optional[int] = ..., facets: _Optional[_Iterable[_Union[Facet, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., search_id: _Optional[str] = ...) -> None: ...

class SuggestRequest(_message.Message):
    __slots__ = ("prefix", "limit")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    limit: int
    def __init__(self, prefix: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class Suggestion(_message.Message):
    __slots__ = ("text", "asset_id", "title")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    text: str
    asset_id: str
    title: str
    def __init__(self, text: _Optional[str] = ..., asset_id: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class SuggestResponse(_message.Message):
    __slots__ = ("suggestions",)
    SUGGESTIONS_FIELD_NUMBER: _ClassVar[int]
    suggestions: _containers.RepeatedCompositeFieldContainer[Suggestion]
    def __init__(self, suggestions: _Optional[_Iterable[_Union[Suggestion, _Mapping]]] = ...) -> None: ...

class Term(_message.Message):
    __slots__ = ("vocabulary", "code", "label", "description", "order", "retired", "version", "update_time")
    VOCABULARY_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    RETIRED_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    vocabulary: str
    code: str
    label: str
    description: str
    order: int
    retired: bool
    version: int
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, vocabulary: _Optional[str] = ..., code: _Optional[str] = ..., label: _Optional[str] = ..., description: _Optional[str] = ..., order: _Optional[int] = ..., retired: _Optional[bool] = ..., version: _Optional[int] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Vocabulary(_message.Message):
    __slots__ = ("name", "label", "asset_field", "fixed_codes", "terms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_FIELD_NUMBER: _ClassVar[int]
    FIXED_CODES_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    name: str
    label: str
    asset_field: str
    fixed_codes: bool
    terms: _containers.RepeatedCompositeFieldContainer[Term]
    def __init__(self, name: _Optional[str] = ..., label: _Optional[str] = ..., asset_field: _Optional[str] = ..., fixed_codes: _Optional[bool] = ..., terms: _Optional[_Iterable[_Union[Term, _Mapping]]] = ...) -> None: ...

class ListVocabulariesRequest(_message.Message):
    __slots__ = ("names", "include_retired")
    NAMES_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_RETIRED_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    include_retired: bool
    def __init__(self, names: _Optional[_Iterable[str]] = ..., include_retired: _Optional[bool] = ...) -> None: ...

class ListVocabulariesResponse(_message.Message):
    __slots__ = ("vocabularies",)
    VOCABULARIES_FIELD_NUMBER: _ClassVar[int]
    vocabularies: _containers.RepeatedCompositeFieldContainer[Vocabulary]
    def __init__(self, vocabularies: _Optional[_Iterable[_Union[Vocabulary, _Mapping]]] = ...) -> None: ...

class CreateTermRequest(_message.Message):
    __slots__ = ("term",)
    TERM_FIELD_NUMBER: _ClassVar[int]
    term: Term
    def __init__(self, term: _Optional[_Union[Term, _Mapping]] = ...) -> None: ...

class CreateTermResponse(_message.Message):
    __slots__ = ("term",)
    TERM_FIELD_NUMBER: _ClassVar[int]
    term: Term
    def __init__(self, term: _Optional[_Union[Term, _Mapping]] = ...) -> None: ...

class UpdateTermRequest(_message.Message):
    __slots__ = ("term", "update_mask", "expected_version")
    TERM_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    term: Term
    update_mask: _field_mask_pb2.FieldMask
    expected_version: int
    def __init__(self, term: _Optional[_Union[Term, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., expected_version: _Optional[int] = ...) -> None: ...

class UpdateTermResponse(_message.Message):
    __slots__ = ("term",)
    TERM_FIELD_NUMBER: _ClassVar[int]
    term: Term
    def __init__(self, term: _Optional[_Union[Term, _Mapping]] = ...) -> None: ...

class RetireTermRequest(_message.Message):
    __slots__ = ("vocabulary", "code")
    VOCABULARY_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    vocabulary: str
    code: str
    def __init__(self, vocabulary: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class RetireTermResponse(_message.Message):
    __slots__ = ("term",)
    TERM_FIELD_NUMBER: _ClassVar[int]
    term: Term
    def __init__(self, term: _Optional[_Union[Term, _Mapping]] = ...) -> None: ...
