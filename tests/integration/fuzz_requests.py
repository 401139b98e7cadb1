"""Hypothesis strategies that build any request message of the API from its descriptor.

Driven by the protobuf descriptors rather than hand-written per RPC, so a new RPC, field
or message is fuzzed without touching this module. Values lean on the boundaries where
servers break: empty and 64 KB strings, int32/int64 extremes, unknown enum numbers,
Timestamps outside years 0001..9999, NaN and infinities, 10,000-element repeated and
map fields, signed page tokens carrying arbitrary JSON, and ids that exist (so calls get
past NOT_FOUND and into the code behind it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import strategies as st

from services.common import pagination

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
UINT32 = (0, 2**32 - 1)
UINT64 = (0, 2**64 - 1)
HUGE = 64 * 1024
MANY = 10_000
MAX_DEPTH = 4
TIMESTAMP_SECONDS = (-62_135_596_801, -62_135_596_800, 253_402_300_799, 253_402_300_800, 0, -1, *INT64)
TOKEN_FIELDS = frozenset({"page_token", "upload_id", "token"})
NOW = int(time.time())  # once: strategies must draw the same way every time within a run


@dataclass
class Seeds:
    """Values that exist on the servers, mixed into generated strings and bytes."""

    strings: list[str] = field(default_factory=list)
    blobs: list[bytes] = field(default_factory=list)
    secret: str = ""


def _strings(seeds: Seeds) -> st.SearchStrategy[str]:
    boundary = ["", " ", "x" * 128, "x" * 129, "é" * 600, "\x00", "../..", "*", "a:b", "rep-1", "DECK", "deck",
                "case_study", "healthcare", "emea"]
    return st.one_of(
        st.sampled_from(boundary + seeds.strings),
        st.text(max_size=24),
        st.sampled_from([HUGE, 32 * 1024, 4097, 1001]).map(lambda n: "s" * n),
        st.just("\U0001f600" * (HUGE // 4)),
    )


def _tokens(seeds: Seeds) -> st.SearchStrategy[str]:
    """Page tokens and upload ids: garbage, and validly signed cursors of every shape some RPC
    hands out (a client may send one RPC's token to another), with extreme values inside."""
    ids = st.one_of(st.text(max_size=12), st.sampled_from(seeds.strings or ["x"]))
    millis = st.one_of(st.integers(*INT64), st.integers(0, 2**42))
    sort_values = st.lists(st.one_of(millis, ids), min_size=1, max_size=4)
    issued = st.one_of(
        st.tuples(millis, ids).map(list),  # share links: [created ms, share id]
        sort_values,  # ratings, requests: search_after sort values
        st.fixed_dictionaries({"o": st.integers(*INT64)}),  # report offsets
        st.fixed_dictionaries({"f": st.text(max_size=8), "a": sort_values}),  # catalog list and search
        ids,  # unused assets: the last asset id
    )
    return st.one_of(
        _strings(seeds),
        st.binary(max_size=40).map(lambda b: b.hex()),
        issued.map(lambda cursor: pagination.encode(seeds.secret, cursor)),
    )


def _timestamp(cls: type) -> st.SearchStrategy[Any]:
    now = NOW
    seconds = st.one_of(st.sampled_from(TIMESTAMP_SECONDS), st.integers(*INT64),
                        st.integers(now - 800 * 86400, now + 400 * 86400),
                        st.sampled_from([now, now + 3600, now - 86400, now - 30 * 86400]))
    nanos = st.one_of(st.just(0), st.sampled_from([999_999_999, 1_000_000_000, -1, *INT32]), st.integers(*INT32))
    return st.builds(lambda s, n: cls(seconds=s, nanos=n), seconds, nanos)


def _scalar(fd: FieldDescriptor, seeds: Seeds) -> st.SearchStrategy[Any]:
    t = fd.type
    if t == FieldDescriptor.TYPE_STRING:
        return _tokens(seeds) if fd.name in TOKEN_FIELDS else _strings(seeds)
    if t == FieldDescriptor.TYPE_BYTES:
        return st.one_of(st.binary(max_size=64), st.sampled_from(seeds.blobs or [b""]))
    if t == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        width = 32 if t == FieldDescriptor.TYPE_FLOAT else 64
        return st.one_of(st.sampled_from([0.0, -1.0, 1.0, 7.0, 365.0, 365.0001, 1e308]),
                         st.floats(width=width, allow_nan=True, allow_infinity=True))
    if t == FieldDescriptor.TYPE_ENUM:
        known = [v.number for v in fd.enum_type.values]
        return st.one_of(st.sampled_from(known), st.sampled_from([-1, max(known) + 1, *INT32]), st.integers(*INT32))
    bounds = {
        FieldDescriptor.CPPTYPE_INT32: INT32, FieldDescriptor.CPPTYPE_INT64: INT64,
        FieldDescriptor.CPPTYPE_UINT32: UINT32, FieldDescriptor.CPPTYPE_UINT64: UINT64,
    }[fd.cpp_type]
    small = [v for v in (-1, 0, 1, 2, 5, 20, 100, 101, 200, 201, 500, 1000, 2001) if bounds[0] <= v <= bounds[1]]
    return st.one_of(st.sampled_from(small + list(bounds)), st.integers(*bounds))


def _small(fd: FieldDescriptor, seeds: Seeds) -> st.SearchStrategy[Any]:
    """Values of `fd` a few bytes long: what MANY copies are made of (10,000 x 64 KB would be 640 MB)."""
    if fd.type == FieldDescriptor.TYPE_MESSAGE:
        return st.just(message_factory.GetMessageClass(fd.message_type)())
    if fd.type == FieldDescriptor.TYPE_STRING:
        return st.sampled_from(["", "x", *(s for s in seeds.strings if len(s) <= 64)])
    if fd.type == FieldDescriptor.TYPE_BYTES:
        return st.just(b"x")
    return _scalar(fd, seeds)


def _repeated(element: st.SearchStrategy[Any], small: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    """A few elements, or one small element repeated MANY times (cheap to draw, large on the wire)."""
    return st.one_of(st.lists(element, max_size=3), small.map(lambda v: [v] * MANY))


def _map(fd: FieldDescriptor, seeds: Seeds) -> st.SearchStrategy[dict[Any, Any]]:
    key_fd, value_fd = fd.message_type.fields_by_name["key"], fd.message_type.fields_by_name["value"]
    keys, values = _scalar(key_fd, seeds), _value(value_fd, seeds, MAX_DEPTH)
    many = _small(value_fd, seeds).map(lambda v: {f"k{i}": v for i in range(MANY)})
    return st.one_of(st.dictionaries(keys, values, max_size=3),
                     many if key_fd.type == FieldDescriptor.TYPE_STRING else st.just({}))


def _value(fd: FieldDescriptor, seeds: Seeds, depth: int) -> st.SearchStrategy[Any]:
    if fd.type == FieldDescriptor.TYPE_MESSAGE:
        return messages(fd.message_type, seeds, depth + 1)
    return _scalar(fd, seeds)


def _set(msg: Any, fd: FieldDescriptor, value: Any) -> None:
    target = getattr(msg, fd.name)
    if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
        for k, v in value.items():
            if fd.message_type.fields_by_name["value"].type == FieldDescriptor.TYPE_MESSAGE:
                target[k].CopyFrom(v)
            else:
                target[k] = v
    elif fd.is_repeated:
        target.extend(value)
    elif fd.type == FieldDescriptor.TYPE_MESSAGE:
        target.CopyFrom(value)
    else:
        setattr(msg, fd.name, value)


def _field_strategy(fd: FieldDescriptor, seeds: Seeds, depth: int) -> st.SearchStrategy[Any]:
    if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
        return _map(fd, seeds)
    element = _value(fd, seeds, depth)
    return _repeated(element, _small(fd, seeds)) if fd.is_repeated else element


def _tame(fd: FieldDescriptor, seeds: Seeds, depth: int) -> st.SearchStrategy[Any]:
    """Plausible values of `fd`: the rest of a request around one hostile field, so the call gets
    past the first validation error and the hostile value reaches the code behind it."""
    if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
        return st.just({})
    if fd.type == FieldDescriptor.TYPE_MESSAGE:
        element = tame_messages(fd.message_type, seeds, depth + 1)
    elif fd.type == FieldDescriptor.TYPE_STRING:
        element = st.sampled_from(["x", "deck", "healthcare", "emea", "rep-1", *seeds.strings])
    elif fd.type == FieldDescriptor.TYPE_BYTES:
        element = st.sampled_from(seeds.blobs or [b"x"])
    elif fd.type == FieldDescriptor.TYPE_BOOL:
        element = st.booleans()
    elif fd.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        element = st.sampled_from([0.0, 1.0, 7.0, 100.0])
    elif fd.type == FieldDescriptor.TYPE_ENUM:
        element = st.sampled_from([v.number for v in fd.enum_type.values if v.number] or [0])
    else:
        element = st.sampled_from([0, 1, 5, 20])
    return st.lists(element, max_size=2) if fd.is_repeated else element


def tame_messages(desc: Descriptor, seeds: Seeds, depth: int = 0) -> st.SearchStrategy[Any]:
    """A plausible message of type `desc` (recent timestamps, existing ids, known enums)."""
    cls = message_factory.GetMessageClass(desc)
    if desc.full_name == "google.protobuf.Timestamp":
        return st.integers(NOW - 60 * 86400, NOW).map(lambda s: cls(seconds=s))
    if depth > MAX_DEPTH:
        return st.just(cls())
    return _build(cls, desc, lambda fd: _tame(fd, seeds, depth), None)


def _build(cls: type, desc: Descriptor, strategy: Callable[[FieldDescriptor], st.SearchStrategy[Any]],
           hostile: Callable[[FieldDescriptor], st.SearchStrategy[Any]] | None) -> st.SearchStrategy[Any]:
    """A message whose fields are each set or not (one member of each oneof at most); with
    `hostile`, one field drawn from it is always set and the others come from `strategy`."""

    @st.composite
    def build(draw: Callable[[st.SearchStrategy[Any]], Any]) -> Any:
        msg = cls()
        target = draw(st.sampled_from(list(desc.fields))) if hostile is not None and desc.fields else None
        chosen = {o.name: draw(st.sampled_from([None, *o.fields])) for o in desc.oneofs}
        if target is not None and target.containing_oneof is not None:
            chosen[target.containing_oneof.name] = target
        for fd in desc.fields:
            oneof = fd.containing_oneof
            if oneof is not None and chosen[oneof.name] is not fd:
                continue
            if fd is target:
                _set(msg, fd, draw(hostile(fd)))
            elif oneof is not None or draw(st.booleans()):
                _set(msg, fd, draw(strategy(fd)))
        return msg

    return build()


def messages(desc: Descriptor, seeds: Seeds, depth: int = 0) -> st.SearchStrategy[Any]:
    """Any message of type `desc`: every field hostile, or one hostile field in a plausible request."""
    cls = message_factory.GetMessageClass(desc)
    if desc.full_name == "google.protobuf.Timestamp":
        return _timestamp(cls)
    if depth > MAX_DEPTH:
        return st.just(cls())
    hostile = lambda fd: _field_strategy(fd, seeds, depth)  # noqa: E731
    return st.one_of(_build(cls, desc, hostile, None),
                     _build(cls, desc, lambda fd: _tame(fd, seeds, depth), hostile))
