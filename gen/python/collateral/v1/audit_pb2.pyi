from collateral.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuditPhase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIT_PHASE_UNSPECIFIED: _ClassVar[AuditPhase]
    AUDIT_PHASE_ATTEMPT: _ClassVar[AuditPhase]
    AUDIT_PHASE_FINAL: _ClassVar[AuditPhase]
AUDIT_PHASE_UNSPECIFIED: AuditPhase
AUDIT_PHASE_ATTEMPT: AuditPhase
AUDIT_PHASE_FINAL: AuditPhase

class AuditRecord(_message.Message):
    __slots__ = ("id", "change_id", "phase", "time", "actor", "actor_role", "peer", "forwarded_for", "service", "action", "target_kind", "target_id", "before_json", "after_json", "outcome")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHANGE_ID_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ROLE_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    FORWARDED_FOR_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_KIND_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    BEFORE_JSON_FIELD_NUMBER: _ClassVar[int]
    AFTER_JSON_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    id: str
    change_id: str
    phase: AuditPhase
    time: str
    actor: str
    actor_role: str
    peer: str
    forwarded_for: str
    service: str
    action: str
    target_kind: str
    target_id: str
    before_json: str
    after_json: str
    outcome: str
    def __init__(self, id: _Optional[str] = ..., change_id: _Optional[str] = ..., phase: _Optional[_Union[AuditPhase, str]] = ..., time: _Optional[str] = ..., actor: _Optional[str] = ..., actor_role: _Optional[str] = ..., peer: _Optional[str] = ..., forwarded_for: _Optional[str] = ..., service: _Optional[str] = ..., action: _Optional[str] = ..., target_kind: _Optional[str] = ..., target_id: _Optional[str] = ..., before_json: _Optional[str] = ..., after_json: _Optional[str] = ..., outcome: _Optional[str] = ...) -> None: ...

class ListAuditRecordsRequest(_message.Message):
    __slots__ = ("time_range", "actor", "action", "target_kind", "target_id", "include_attempts", "outcome", "page_size", "page_token")
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_KIND_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    time_range: _common_pb2.TimeRange
    actor: str
    action: str
    target_kind: str
    target_id: str
    include_attempts: bool
    outcome: str
    page_size: int
    page_token: str
    def __init__(self, time_range: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., actor: _Optional[str] = ..., action: _Optional[str] = ..., target_kind: _Optional[str] = ..., target_id: _Optional[str] = ..., include_attempts: _Optional[bool] = ..., outcome: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAuditRecordsResponse(_message.Message):
    __slots__ = ("records", "next_page_token", "total_size")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[AuditRecord]
    next_page_token: str
    total_size: int
    def __init__(self, records: _Optional[_Iterable[_Union[AuditRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...
