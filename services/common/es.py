"""Elasticsearch helpers shared by every service.

Written for the minimal distribution the local stack runs (no painless scripts, no
`_reindex`/`_update_by_query`, no analysis-common) and a full one alike: state is
updated by bulk writes to deterministic ids, raw events with `op_type=create`, state
documents with external versions, and reindexing is done client-side (scan + bulk)
followed by an atomic alias swap.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import elastic_transport
import orjson
from elasticsearch import ApiError, Elasticsearch, NotFoundError, helpers
from elasticsearch.serializer import JsonSerializer

from services.common import config, errors, metrics

log = logging.getLogger(__name__)

RETRYABLE_STATUS = {429, 500, 502, 503, 504}


class OrjsonDecodingSerializer(JsonSerializer):
    """Decodes responses with orjson (3x faster on a report's 2,000-bucket aggregations);
    encodes requests with the standard library as before, so what is sent (and what
    Elasticsearch rejects, e.g. NaN) is unchanged."""

    def json_loads(self, data: bytes) -> Any:
        return orjson.loads(data)


def client(settings: config.Settings) -> Elasticsearch:
    """The one way to build an Elasticsearch client: every service, consumer, command and the
    portal goes through here, so the security settings (`connection_options`) apply everywhere."""
    return Elasticsearch(
        settings.es_hosts,
        request_timeout=settings.es_request_timeout_s,
        retry_on_timeout=True,
        max_retries=2,
        serializers={OrjsonDecodingSerializer.mimetype: OrjsonDecodingSerializer()},
        **connection_options(settings),
    )


def connection_options(settings: config.Settings) -> dict[str, Any]:
    """Authentication and TLS options of the client, from COLLATERAL_ES_* (validated in config).

    An API key or a user and password; for https URLs a CA bundle (`es_ca_certs`, else the
    system's CAs) and certificate verification unless `es_verify_certs` is off. Nothing
    for the plaintext local default.
    """
    options: dict[str, Any] = {}
    if settings.es_api_key:
        options["api_key"] = settings.es_api_key
    elif settings.es_username:
        options["basic_auth"] = (settings.es_username, settings.es_password)
    if any(host.lower().startswith("https://") for host in settings.es_hosts):
        options["verify_certs"] = settings.es_verify_certs
        if settings.es_ca_certs:
            options["ca_certs"] = settings.es_ca_certs
        if not settings.es_verify_certs:
            options["ssl_show_warn"] = False  # the setting is documented as unsafe; no warning per request
    return options


def reachable(es: Elasticsearch, timeout_s: float = 2.0) -> bool:
    """Health probe through `_cluster/health` (the minimal distribution may lack `GET /`).

    One request with no client retries and `timeout_s` as its whole budget: the shared
    client's retries (three attempts of ten seconds) would keep a hung cluster looking
    healthy for half a minute.
    """
    try:
        once = es.options(request_timeout=timeout_s, max_retries=0, retry_on_timeout=False)
        health = once.cluster.health(timeout=f"{max(1, int(timeout_s * 1000))}ms")
        return health.get("status") in {"green", "yellow"}
    except Exception:  # noqa: BLE001 - a health probe: any failure means down
        return False


def is_unavailable(exc: BaseException) -> bool:
    """True for failures that mean "Elasticsearch is down or overloaded, retry later"."""
    if isinstance(exc, (elastic_transport.ConnectionError, elastic_transport.ConnectionTimeout, ConnectionError)):
        return True
    if isinstance(exc, ApiError) and exc.meta.status in RETRYABLE_STATUS:
        return True
    return False


def timed(operation: str) -> Callable:
    """Decorator recording an Elasticsearch call's latency and failures."""

    def wrap(fn: Callable) -> Callable:
        def inner(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            except Exception:
                metrics.DEPENDENCY_ERRORS.labels("elasticsearch", operation).inc()
                raise
            finally:
                metrics.DEPENDENCY_DURATION.labels("elasticsearch", operation).observe(time.perf_counter() - started)

        inner.__name__ = fn.__name__
        inner.__doc__ = fn.__doc__
        return inner

    return wrap


# ---- indices behind aliases ------------------------------------------------------------

def index_body(settings: config.Settings, mappings: Mapping[str, Any], extra_settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    body_settings: dict[str, Any] = {
        "number_of_shards": settings.es_shards,
        "number_of_replicas": settings.es_replicas,
    }
    body_settings.update(extra_settings or {})
    return {"settings": body_settings, "mappings": dict(mappings)}


def ensure_alias(es: Elasticsearch, alias: str, body: Mapping[str, Any]) -> str:
    """Make sure `alias` exists, creating `<alias>-000001` behind it; returns the concrete index."""
    try:
        current = es.indices.get_alias(name=alias)
        return sorted(current.keys())[-1]
    except NotFoundError:
        pass
    first = f"{alias}-000001"
    try:
        es.indices.create(index=first, aliases={alias: {"is_write_index": True}}, **body)
    except ApiError as exc:
        if exc.meta.status != 400 or "resource_already_exists" not in str(exc):
            raise
    es.cluster.health(index=first, wait_for_status="yellow", timeout="30s")
    return first


def concrete_indices(es: Elasticsearch, alias: str) -> list[str]:
    try:
        return sorted(es.indices.get_alias(name=alias).keys())
    except NotFoundError:
        return []


def reindex(
    es: Elasticsearch,
    alias: str,
    body: Mapping[str, Any],
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = 1000,
    settle_s: float = 1.0,
) -> str:
    """Copy `alias` into a new index with `body`, then swap the alias to it.

    No write is lost: the alias's write index moves to the new index first, so live
    writes land there; the copy then uses `op_type=create`, so a document written live
    during the copy (newer) is never overwritten by its older copy. Only then is the old
    index detached from the alias (it is kept, for rollback, until deleted by hand).
    """
    old_indices = concrete_indices(es, alias)
    if not old_indices:
        raise errors.NotFound(f"alias {alias} does not exist")
    number = max(int(name.rsplit("-", 1)[-1]) for name in old_indices if name.rsplit("-", 1)[-1].isdigit()) + 1
    new_index = f"{alias}-{number:06d}"
    es.indices.create(index=new_index, **body)
    es.cluster.health(index=new_index, wait_for_status="yellow", timeout="30s")
    actions: list[dict[str, Any]] = [{"add": {"index": new_index, "alias": alias, "is_write_index": True}}]
    actions += [{"add": {"index": old, "alias": alias, "is_write_index": False}} for old in old_indices]
    es.indices.update_aliases(actions=actions)
    # A write that resolved the alias just before the move may still be landing in an old
    # index; the copy's scroll only sees refreshed data, so let such writes finish and
    # refresh before the snapshot is taken (otherwise they would be missed).
    time.sleep(settle_s)
    es.indices.refresh(index=",".join(old_indices))

    total = sum(es.count(index=old)["count"] for old in old_indices)
    copied = 0
    for old in old_indices:
        def creates() -> Iterable[dict[str, Any]]:
            for hit in helpers.scan(es, index=old, query={"query": {"match_all": {}}}, size=batch_size, preserve_order=False):
                source = transform(hit["_source"]) if transform else hit["_source"]
                yield {"_op_type": "create", "_index": new_index, "_id": hit["_id"], "_source": source}

        for ok, item in helpers.streaming_bulk(es, creates(), chunk_size=batch_size, raise_on_error=False, max_retries=3):
            status = next(iter(item.values())).get("status", 0)
            if not ok and status != 409:
                raise RuntimeError(f"reindex of {alias} failed on {item}")
            copied += 1
            if progress and copied % batch_size == 0:
                progress(copied, total)
    es.indices.refresh(index=new_index)
    es.indices.update_aliases(actions=[{"remove": {"index": old, "alias": alias}} for old in old_indices])
    if progress:
        progress(copied, total)
    log.info("reindexed", extra={"alias": alias, "index": new_index, "documents": copied})
    return new_index


# ---- bulk writes -------------------------------------------------------------------------

@dataclass
class BulkOutcome:
    """Per-item results of one bulk request, classified for idempotent consumers."""

    written: list[int] = field(default_factory=list)  # positions created or updated
    conflicts: list[int] = field(default_factory=list)  # 409: duplicate (create) or stale (external version)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # permanent per-item failures (bad document)


_BULK_ITEM_FIELDS = "items.*.status,items.*.error"


def bulk(es: Elasticsearch, operations: Sequence[Mapping[str, Any]], refresh: bool | str = False,
         timeout_s: float | None = None) -> BulkOutcome:
    """Run `operations` (each {"action": {...}, "source": {...}|None}) as one bulk request.

    Raises errors.Unavailable when Elasticsearch is down or any item failed with a
    retryable status, so the caller retries the whole batch (ids make that idempotent).
    """
    body: list[Mapping[str, Any]] = []
    for op in operations:
        body.append(op["action"])
        if op.get("source") is not None:
            body.append(op["source"])
    if not body:
        return BulkOutcome()
    # Lines the caller encoded already are joined here at once (the client would append them
    # to its buffer one by one, a cost per document on the consumers' hot path).
    payload: Any = b"\n".join(body) + b"\n" if all(type(line) is bytes for line in body) else body  # type: ignore[arg-type]
    return bulk_encoded(es, payload, refresh, timeout_s)


@timed("bulk")
def bulk_encoded(es: Elasticsearch, payload: bytes | Sequence[Mapping[str, Any]], refresh: bool | str = False,
                 timeout_s: float | None = None) -> BulkOutcome:
    """`bulk` of a request body encoded already (NDJSON bytes, or the client's list of lines)."""
    try:
        target = es.options(request_timeout=timeout_s) if timeout_s else es
        # Only what the outcome needs: the full per-item answer (index, id, version, shards,
        # sequence numbers) is most of the response, encoded by Elasticsearch and decoded here
        # for every document of every batch.
        response = target.bulk(operations=payload, refresh=refresh, filter_path=_BULK_ITEM_FIELDS)
    except Exception as exc:  # noqa: BLE001 - classified below
        if is_unavailable(exc):
            raise errors.Unavailable(f"Elasticsearch unavailable: {exc}") from exc
        raise
    outcome = BulkOutcome()
    retryable: list[str] = []
    for position, item in enumerate(response["items"]):
        result = next(iter(item.values()))
        status = result.get("status", 0)
        if status in (200, 201):
            outcome.written.append(position)
        elif status == 409:
            outcome.conflicts.append(position)
        elif status in RETRYABLE_STATUS:
            retryable.append(str(result.get("error")))
        else:
            outcome.rejected.append((position, str(result.get("error", {}).get("reason", result.get("error")))))
    if retryable:
        raise errors.Unavailable(f"Elasticsearch rejected {len(retryable)} items for now: {retryable[0]}")
    return outcome


def retry_until_available(step: Callable[[], Any], attempts: int = 60, max_delay_s: float = 5.0) -> Any:
    """Run `step` (index creation at start-up), retrying while Elasticsearch is not up yet.

    Processes start in any order (compose, Kubernetes); a consumer that starts before
    Elasticsearch waits here instead of crash-looping. Other errors are raised at once.
    """
    for attempt in range(attempts):
        try:
            return step()
        except Exception as exc:  # noqa: BLE001 - classified below
            if not is_unavailable(exc) or attempt == attempts - 1:
                raise
            log.info("waiting for Elasticsearch", extra={"attempt": attempt + 1, "error": str(exc)[:200]})
            time.sleep(min(max_delay_s, 0.5 * (attempt + 1)))
    return None


def composite_buckets(es: Elasticsearch, index: str, query: Mapping[str, Any], sources: Sequence[Mapping[str, Any]],
                      aggs: Mapping[str, Any] | None = None, page: int = 1000) -> Iterable[dict[str, Any]]:
    """Every bucket of a composite aggregation, page by page (`after_key`).

    The way reports group by asset: exact past 10,000 buckets, never pulling raw events
    into Python, and available on the minimal distribution (no bucket_sort needed).
    """
    after: Mapping[str, Any] | None = None
    while True:
        composite: dict[str, Any] = {"size": page, "sources": list(sources)}
        if after:
            composite["after"] = after
        aggregation: dict[str, Any] = {"composite": composite}
        if aggs:
            aggregation["aggs"] = dict(aggs)
        response = es.search(index=index, size=0, query=query, ignore_unavailable=True, allow_no_indices=True,
                             aggs={"c": aggregation}, track_total_hits=False)
        agg = response.get("aggregations", {}).get("c")
        if not agg:
            return
        yield from agg["buckets"]
        after = agg.get("after_key")
        if not after or len(agg["buckets"]) < page:
            return


def terms_source(field: str, name: str = "k") -> dict[str, Any]:
    """A composite source grouping by the values of `field`."""
    return {name: {"terms": {"field": field}}}
