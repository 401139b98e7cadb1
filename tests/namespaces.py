"""Test namespaces: one per session, dropped at its end, and leftovers reaped.

Every session writes under its own namespace (`t` + 8 hex digits): topics, indices, index
templates, buckets. The local stack keeps its data between runs, so without cleanup every
run leaves ~100 indices behind and Elasticsearch's default of 1,000 shards per node is
reached after a handful of runs; from then on every test that creates an index fails.
A session drops its own namespace when it ends; sessions that were killed before that
leave theirs, which the next session reaps once they are older than `STALE_AFTER_S`
(old enough that no live session can still be using them).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Iterable

from services.common import config

log = logging.getLogger(__name__)

TEST_NAMESPACE = re.compile(r"^t[0-9a-f]{8}")
STALE_AFTER_S = 2 * 3600  # a full suite run takes under 30 minutes


def new_namespace() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


def drop(settings: config.Settings, namespaces: Iterable[str]) -> None:
    """Delete every topic, index, index template and bucket whose name starts with one of `namespaces`.

    Best effort: a server that is down (a fault test's leftover, a unit-only run) is logged and skipped.
    """
    prefixes = tuple(sorted(set(namespaces)))
    if not prefixes:
        return
    for step in (_drop_indices, _drop_topics, _drop_buckets):
        try:
            step(settings, prefixes)
        except Exception as exc:  # noqa: BLE001 - cleanup must never fail a run
            log.warning("cleanup step %s failed: %s", step.__name__, exc)


def reap_stale(settings: config.Settings, max_age_s: float = STALE_AFTER_S) -> set[str]:
    """Drop the namespaces of earlier sessions whose indices or buckets are older than `max_age_s`."""
    stale: set[str] = set()
    cutoff_ms = (time.time() - max_age_s) * 1000
    try:
        from services.common import es as es_io

        es = es_io.client(settings).options(request_timeout=10)
        for row in es.cat.indices(h="index,creation.date", format="json"):
            match = TEST_NAMESPACE.match(row["index"])
            if match and int(row["creation.date"]) < cutoff_ms:
                stale.add(match.group(0))
    except Exception as exc:  # noqa: BLE001
        log.warning("listing stale test indices failed: %s", exc)
    try:
        from services.common import s3 as s3_io

        for bucket in s3_io.client(settings).list_buckets().get("Buckets", []):
            match = TEST_NAMESPACE.match(bucket["Name"])
            if match and bucket["CreationDate"].timestamp() * 1000 < cutoff_ms:
                stale.add(match.group(0))
    except Exception as exc:  # noqa: BLE001
        log.warning("listing stale test buckets failed: %s", exc)
    drop(settings, stale)
    return stale


def _owned(name: str, prefixes: tuple[str, ...]) -> bool:
    return name.lower().startswith(prefixes)


def _drop_indices(settings: config.Settings, prefixes: tuple[str, ...]) -> None:
    from services.common import es as es_io

    es = es_io.client(settings).options(request_timeout=60)
    # Deleting by wildcard is refused by default (action.destructive_requires_name), so names are listed first.
    indices = [row["index"] for row in es.cat.indices(h="index", format="json") if _owned(row["index"], prefixes)]
    for start in range(0, len(indices), 50):
        es.indices.delete(index=",".join(indices[start:start + 50]), ignore_unavailable=True)
    templates = es.indices.get_index_template().get("index_templates", [])
    for template in templates:
        if _owned(template["name"], prefixes):
            es.indices.delete_index_template(name=template["name"])


def _drop_topics(settings: config.Settings, prefixes: tuple[str, ...]) -> None:
    from services.common import kafka_io

    admin = kafka_io.admin_client(settings, client_id="tests-cleanup", timeout_ms=30_000)
    try:
        topics = sorted(t for t in admin.list_topics() if _owned(t, prefixes))
        for start in range(0, len(topics), 100):
            admin.delete_topics(topics[start:start + 100], timeout_ms=30_000)
    finally:
        admin.close()


def _drop_buckets(settings: config.Settings, prefixes: tuple[str, ...]) -> None:
    from services.common import s3 as s3_io

    s3 = s3_io.client(settings)
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        if not _owned(name, prefixes):
            continue
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            doomed = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if doomed:
                s3.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})
        s3.delete_bucket(Bucket=name)
