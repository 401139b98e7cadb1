import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BuyingStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BUYING_STAGE_UNSPECIFIED: _ClassVar[BuyingStage]
    BUYING_STAGE_AWARENESS: _ClassVar[BuyingStage]
    BUYING_STAGE_CONSIDERATION: _ClassVar[BuyingStage]
    BUYING_STAGE_DECISION: _ClassVar[BuyingStage]
    BUYING_STAGE_ONBOARDING: _ClassVar[BuyingStage]
    BUYING_STAGE_EXPANSION: _ClassVar[BuyingStage]
BUYING_STAGE_UNSPECIFIED: BuyingStage
BUYING_STAGE_AWARENESS: BuyingStage
BUYING_STAGE_CONSIDERATION: BuyingStage
BUYING_STAGE_DECISION: BuyingStage
BUYING_STAGE_ONBOARDING: BuyingStage
BUYING_STAGE_EXPANSION: BuyingStage

class TimeRange(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SegmentFilter(_message.Message):
    __slots__ = ("industries", "regions", "product_lines", "teams", "deal_size_bands")
    INDUSTRIES_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_LINES_FIELD_NUMBER: _ClassVar[int]
    TEAMS_FIELD_NUMBER: _ClassVar[int]
    DEAL_SIZE_BANDS_FIELD_NUMBER: _ClassVar[int]
    industries: _containers.RepeatedScalarFieldContainer[str]
    regions: _containers.RepeatedScalarFieldContainer[str]
    product_lines: _containers.RepeatedScalarFieldContainer[str]
    teams: _containers.RepeatedScalarFieldContainer[str]
    deal_size_bands: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, industries: _Optional[_Iterable[str]] = ..., regions: _Optional[_Iterable[str]] = ..., product_lines: _Optional[_Iterable[str]] = ..., teams: _Optional[_Iterable[str]] = ..., deal_size_bands: _Optional[_Iterable[str]] = ...) -> None: ...
