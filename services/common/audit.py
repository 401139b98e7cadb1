"""The audit log: who changed what, when, from where, and what it was before.

One writer for every process. Each state-changing RPC is declared once per service as an
`Audited` entry (the kind of object it changes, how to find the object's id in the
request or the response, and how to load the stored object); the gRPC bootstrap runs
every call of those RPCs through `Auditor.call`, so no handler carries audit code.

Guarantee (see docs/audit.md): before the change runs, an *attempt* entry (caller,
origin, action, targets, state before) is written; when it cannot be written the call
answers UNAVAILABLE and changes nothing. After the call, one *final* entry per target
records the outcome and the state after. Entries are created with `op_type=create` under
fresh ids; this module has no update or delete path.

Portal-side changes (accounts and roles, made by the portal's command-line tool) go
through the same `AuditLog.append` with `system_actor`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import grpc
from elasticsearch import Elasticsearch
from google.protobuf.message import Message

from collateral.v1 import audit_pb2, audit_pb2_grpc
from services.common import auth, config, errors, metrics, pagination
from services.common import es as es_common

log = logging.getLogger(__name__)

SERVICE_NAME = "collateral.v1.AuditService"
ALIAS_NAME = "audit"
READERS = frozenset({auth.Role.ADMIN})
ACCESS = {"ListAuditRecords": READERS}
FORWARDED_FOR = "x-forwarded-for"  # metadata key the portal fills with its end user's address
ATTEMPT, FINAL = "attempt", "final"
ATTEMPTED = "attempted"
OK = "OK"
# Stored fields left out of before/after: large (extracted text, suggester input) or secret.
OMITTED_FIELDS = frozenset({"body", "suggest", "password_hash", "passcode_hash"})
MAX_ID_CHARS = 512
MAX_TARGETS = 2000
DEFAULT_PAGE, MAX_PAGE = 50, 500
ES_TIMEOUT_S = 10.0

# RPCs that change state but are data ingestion, not administrative changes: recording
# them would copy every event stream into the audit log. See docs/audit.md.
NOT_AUDITED: Mapping[str, str] = {
    "collateral.v1.UsageService/RecordEvents": "usage events are ingested data, kept in Kafka and usage-events",
    "collateral.v1.FeedbackService/RecordDealOutcomes": "CRM deal outcomes are ingested data, versioned in deals",
}
# Method name prefixes of read-only RPCs; every other RPC changes state and must be audited.
READ_PREFIXES = ("Get", "List", "Search", "Suggest", "Render", "Top", "Resolve")

MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        **{name: {"type": "keyword"} for name in (
            "id", "change_id", "phase", "actor", "actor_role", "peer", "forwarded_for", "service", "action",
            "target_kind", "target_id", "outcome")},
        "time": {"type": "date"},
        "before": {"type": "object", "enabled": False},
        "after": {"type": "object", "enabled": False},
    },
}

Loader = Callable[[str], Mapping[str, Any] | None]


def is_state_changing(method_name: str) -> bool:
    """The naming rule: an RPC is a read when its name starts with a read verb."""
    return not method_name.startswith(READ_PREFIXES)


def state_changing_rpcs() -> set[str]:
    """`collateral.v1.<Service>/<Rpc>` of every RPC of the three services that is not a read,
    from the proto descriptors: what the audit log must record, less NOT_AUDITED."""
    from collateral.v1 import content_pb2, feedback_pb2, usage_pb2  # the services' contracts, not needed otherwise

    found = set()
    for module in (content_pb2, usage_pb2, feedback_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            found |= {f"{service.full_name}/{m.name}" for m in service.methods if is_state_changing(m.name)}
    return found


@dataclass(frozen=True)
class Audited:
    """How one state-changing RPC is recorded.

    `ids(request)` names the objects the request is about (for a client stream, the
    first message); `results(request, response)` the (id, outcome) pairs after success,
    one final entry each (imports: one per item); `load(id)` reads the stored object.
    """

    kind: str
    load: Loader
    ids: Callable[[Any], Sequence[str]]
    results: Callable[[Any, Any], Sequence[tuple[str, str]]] | None = None
    streaming: bool = False


def field_of(*path: str) -> Callable[[Any], list[str]]:
    """ids(...) reading one string field (a dotted path) of the request; empty when unset."""

    def ids(message: Any) -> list[str]:
        value = message
        for name in path:
            value = getattr(value, name)
        return [str(value)] if value else []

    return ids


def response_field(*path: str) -> Callable[[Any, Any], list[tuple[str, str]]]:
    """results(...) reading the changed object's id from one field of the response."""
    read = field_of(*path)
    return lambda _request, response: [(i, OK) for i in read(response)]


@dataclass(frozen=True)
class Origin:
    """Where a call came from: the gRPC peer, and the end user's address a portal forwarded."""

    peer: str = ""
    forwarded_for: str = ""

    @classmethod
    def of_call(cls, context: grpc.ServicerContext, metadata: Mapping[str, str]) -> "Origin":
        return cls(peer=(context.peer() or "")[:200], forwarded_for=str(metadata.get(FORWARDED_FOR, ""))[:200])


@dataclass(frozen=True)
class Actor:
    subject: str
    role: str

    @classmethod
    def of(cls, principal: auth.Principal) -> "Actor":
        return cls(principal.subject, principal.role.value)


def system_actor(tool: str) -> Actor:
    """The actor of a command-line tool run by an operator on a host (no token)."""
    return Actor(f"cli:{tool}", "system")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sanitized(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The stored object minus large or secret fields (see OMITTED_FIELDS)."""
    if doc is None:
        return None
    return {k: v for k, v in doc.items() if k not in OMITTED_FIELDS}


@dataclass
class Entry:
    """One audit entry as stored (field names are the index's)."""

    change_id: str
    phase: str
    actor: Actor
    origin: Origin
    service: str
    action: str
    target_kind: str
    target_id: str
    outcome: str
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    time: str = field(default_factory=now_iso)

    def document(self) -> dict[str, Any]:
        return {
            "id": self.id, "change_id": self.change_id, "phase": self.phase, "time": self.time,
            "actor": self.actor.subject, "actor_role": self.actor.role, "peer": self.origin.peer,
            "forwarded_for": self.origin.forwarded_for, "service": self.service, "action": self.action,
            "target_kind": self.target_kind, "target_id": self.target_id[:MAX_ID_CHARS * 4],
            "outcome": self.outcome, "before": sanitized(self.before), "after": sanitized(self.after),
        }


class AuditLog:
    """The append-only audit index `<namespace>-audit` (alias); created on first use."""

    def __init__(self, settings: config.Settings, client: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = client or es_common.client(settings)
        self.alias = settings.index(ALIAS_NAME)
        self._ready = False
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Create the index behind its alias (idempotent; retried on the next write after a failure)."""
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                es_common.ensure_alias(self.es, self.alias, es_common.index_body(self.settings, MAPPINGS))
                self._ready = True

    def append(self, entry: Entry) -> None:
        """Write `entry` under its fresh id; raises errors.Unavailable when it is not stored."""
        try:
            self.ensure()
            self.es.options(request_timeout=ES_TIMEOUT_S).create(index=self.alias, id=entry.id,
                                                                 document=entry.document())
        except Exception as exc:  # noqa: BLE001 - any failure means the entry is not stored
            metrics.AUDIT_WRITE_FAILURES.labels(entry.service, entry.phase).inc()
            raise errors.Unavailable(f"the audit log cannot be written: {exc}"[:300]) from exc
        metrics.AUDIT_ENTRIES.labels(entry.service, entry.phase).inc()

    def search(self, query: Mapping[str, Any], size: int, after: list[Any] | None) -> dict[str, Any]:
        self.ensure()
        kwargs: dict[str, Any] = {"index": self.alias, "query": dict(query), "size": size,
                                  "sort": [{"time": "desc"}, {"id": "desc"}], "track_total_hits": 10000}
        if after:
            kwargs["search_after"] = after
        return self.es.options(request_timeout=ES_TIMEOUT_S).search(**kwargs)

    def close(self) -> None:
        self.es.close()


class Auditor:
    """Runs a server's audited RPCs: attempt entry, the call, final entries."""

    def __init__(self, audit_log: AuditLog, service: str, full_name: str, audited: Mapping[str, Audited],
                 code_of: Callable[[BaseException], grpc.StatusCode]) -> None:
        self.log = audit_log
        self.service = service
        self.full_name = full_name
        self.audited = dict(audited)
        self.code_of = code_of

    def call(self, method: str, fn: Callable[[Any, grpc.ServicerContext], Any], request: Any,
             context: grpc.ServicerContext, metadata: Mapping[str, str]) -> Any:
        spec = self.audited.get(method)
        if spec is None:
            return fn(request, context)
        probe: Any = request
        if spec.streaming:
            iterator = iter(request)
            first = next(iterator, None)
            request = _chain(first, iterator)
            probe = first
        if not isinstance(probe, Message):
            return fn(request, context)  # undecodable: refused as INVALID_ARGUMENT, nothing changes
        ids = _bounded(_safely(lambda: spec.ids(probe), []))
        befores = {i: _safely(lambda i=i: spec.load(i), None) for i in ids}
        base = dict(actor=Actor.of(auth.current_principal()), origin=Origin.of_call(context, metadata),
                    service=self.service, action=f"{self.full_name}/{method}", target_kind=spec.kind)
        change_id = uuid.uuid4().hex
        self.log.append(Entry(change_id, ATTEMPT, target_id=",".join(ids), outcome=ATTEMPTED,
                              before=befores[ids[0]] if len(ids) == 1 else None, **base))
        try:
            response = fn(request, context)
        except BaseException as exc:
            code = context.code() if _is_abort(exc) else self.code_of(exc)
            self._finish(change_id, base, spec, [(i, (code or grpc.StatusCode.UNKNOWN).name) for i in ids] or
                         [("", (code or grpc.StatusCode.UNKNOWN).name)], befores)
            raise
        results = spec.results(probe, response) if spec.results else [(i, OK) for i in ids]
        self._finish(change_id, base, spec, results or [("", OK)], befores)
        return response

    def _finish(self, change_id: str, base: Mapping[str, Any], spec: Audited, results: Sequence[tuple[str, str]],
                befores: Mapping[str, Any]) -> None:
        """One final entry per target; a failure is logged and counted: the attempt entry stands."""
        for target_id, outcome in results[:MAX_TARGETS]:
            after = _safely(lambda: spec.load(target_id), None) if target_id else None
            _append_final(self.log, Entry(change_id, FINAL, target_id=target_id[:MAX_ID_CHARS], outcome=outcome,
                                          before=befores.get(target_id), after=after, **base))


def _append_final(audit_log: AuditLog, entry: Entry) -> None:
    """The final entry of a change that already happened: if the store refuses it now, the change
    is not undone and its caller must not be told it failed; the attempt entry stands, and
    the final one goes to the log instead."""
    try:
        audit_log.append(entry)
    except errors.Unavailable:
        log.error("audit final entry not stored; its attempt entry stands",
                  extra={"audit_entry": json.dumps(entry.document(), default=str)[:20000]})


def record_change(audit_log: AuditLog, actor: Actor, origin: Origin, service: str, action: str, kind: str,
                  target_id: str, load: Loader, change: Callable[[], Any]) -> Any:
    """Run `change()` with the same guarantee as an audited RPC, for changes made outside gRPC
    (the portal's account tool and account page): attempt entry first (raises errors.Unavailable,
    nothing changed), then the change, then the final entry with the outcome and the state after
    (logged, never raised, if the store refuses it: the change happened)."""
    base = dict(actor=actor, origin=origin, service=service, action=action, target_kind=kind)
    change_id = uuid.uuid4().hex
    before = _safely(lambda: load(target_id), None)
    audit_log.append(Entry(change_id, ATTEMPT, target_id=target_id, outcome=ATTEMPTED, before=before, **base))
    outcome = OK
    try:
        return change()
    except errors.ServiceError as exc:
        outcome = exc.code.name
        raise
    except BaseException:
        outcome = "FAILED"
        raise
    finally:
        _append_final(audit_log, Entry(change_id, FINAL, target_id=target_id, outcome=outcome, before=before,
                                       after=_safely(lambda: load(target_id), None), **base))


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    if first is not None:
        yield first
    yield from rest


def _bounded(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(str(i)[:MAX_ID_CHARS] for i in ids if i))[:MAX_TARGETS]


def _safely(read: Callable[[], Any], default: Any) -> Any:
    """A before/after read that never fails the call: hostile ids simply find nothing."""
    try:
        return read()
    except Exception:  # noqa: BLE001 - the attempt write decides whether the store is usable
        log.debug("audit read failed", exc_info=True)
        return default


def _is_abort(exc: BaseException) -> bool:
    return type(exc) is Exception and exc.args == ()


# ---- reading ------------------------------------------------------------------------------------

def _time_filter(request: audit_pb2.ListAuditRecordsRequest) -> dict[str, Any] | None:
    bounds: dict[str, Any] = {}
    window = request.time_range
    for name, op in (("start", "gte"), ("end", "lt")):
        if window.HasField(name):
            ts = getattr(window, name)
            if not 0 <= ts.seconds <= 253402300799 or not 0 <= ts.nanos < 10**9:
                raise errors.InvalidArgument(f"time_range.{name}", "out of range")
            bounds[op] = ts.ToMilliseconds()
    return {"range": {"time": {**bounds, "format": "epoch_millis"}}} if bounds else None


def build_query(request: audit_pb2.ListAuditRecordsRequest) -> dict[str, Any]:
    """The Elasticsearch query of a ListAuditRecords request (validated)."""
    filters: list[dict[str, Any]] = []
    for name in ("actor", "action", "target_kind", "target_id", "outcome"):
        value = getattr(request, name)
        if len(value) > MAX_ID_CHARS * 4:
            raise errors.InvalidArgument(name, f"at most {MAX_ID_CHARS * 4} characters")
        if value:
            filters.append({"term": {name: value}})
    if not request.include_attempts:
        filters.append({"term": {"phase": FINAL}})
    window = _time_filter(request)
    if window:
        filters.append(window)
    return {"bool": {"filter": filters}}


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, default=str)


def record_of(source: Mapping[str, Any]) -> audit_pb2.AuditRecord:
    phase = audit_pb2.AUDIT_PHASE_ATTEMPT if source.get("phase") == ATTEMPT else audit_pb2.AUDIT_PHASE_FINAL
    text = {name: str(source.get(name) or "") for name in (
        "id", "change_id", "time", "actor", "actor_role", "peer", "forwarded_for", "service", "action",
        "target_kind", "target_id", "outcome")}
    return audit_pb2.AuditRecord(phase=phase, before_json=_json(source.get("before")),
                                 after_json=_json(source.get("after")), **text)


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    """ListAuditRecords over the shared audit index (served by every gRPC server)."""

    def __init__(self, settings: config.Settings, audit_log: AuditLog) -> None:
        self.settings = settings
        self.log = audit_log

    def ListAuditRecords(self, request: audit_pb2.ListAuditRecordsRequest, context: grpc.ServicerContext
                         ) -> audit_pb2.ListAuditRecordsResponse:
        size = pagination.clamp_page_size(request.page_size, default=DEFAULT_PAGE, maximum=MAX_PAGE)
        query = build_query(request)
        fingerprint = hashlib.sha256(json.dumps(query, sort_keys=True).encode()).hexdigest()[:24]
        after = self._cursor(request.page_token, fingerprint)
        result = self.log.search(query, size + 1, after)
        hits = result["hits"]["hits"]
        more = len(hits) > size
        hits = hits[:size]
        token = pagination.encode(self.settings.auth_secret, {"q": fingerprint, "a": hits[-1]["sort"]}) \
            if more and hits else ""
        return audit_pb2.ListAuditRecordsResponse(records=[record_of(h["_source"]) for h in hits],
                                                  next_page_token=token, total_size=result["hits"]["total"]["value"])

    def _cursor(self, token: str, fingerprint: str) -> list[Any] | None:
        cursor = pagination.decode(self.settings.auth_secret, token)
        if cursor is None:
            return None
        if not (isinstance(cursor, dict) and cursor.get("q") == fingerprint and isinstance(cursor.get("a"), list)
                and len(cursor["a"]) == 2):
            raise errors.InvalidArgument("page_token", "does not belong to this query; start again without a token")
        return cursor["a"]


def add_to_server(server: grpc.Server, settings: config.Settings, audit_log: AuditLog) -> None:
    audit_pb2_grpc.add_AuditServiceServicer_to_server(AuditServicer(settings, audit_log), server)
