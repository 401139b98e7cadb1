"""Bulk writes of one consumer batch, each document serialised once with orjson.

The feedback consumer's stages write tens of thousands of documents per batch; the
standard json module encoding them inside the Elasticsearch client was a large share of
their CPU time. The documents written here hold only strings, finite numbers, booleans,
None and lists or objects of those with string keys, which orjson and json encode to the
same JSON values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import orjson
from elasticsearch import Elasticsearch

from services.common import es as es_util

BULK_BYTES = 8 * 1024 * 1024  # one bulk request's body at most (Elasticsearch refuses 100 MB)


@dataclass
class Writes:
    """Bulk operations of one batch, serialised as they are added.

    `deletes` are the positions whose 404 (already gone) is the wanted state.
    """

    lines: list[tuple[bytes, bytes | None]] = field(default_factory=list)
    deletes: set[int] = field(default_factory=set)

    def index(self, index: str, doc_id: str, doc: Mapping[str, Any]) -> None:
        self.lines.append((orjson.dumps({"index": {"_index": index, "_id": doc_id}}), orjson.dumps(doc)))

    def create(self, index: str, doc_id: str, doc: Mapping[str, Any]) -> None:
        self.lines.append((orjson.dumps({"create": {"_index": index, "_id": doc_id}}), orjson.dumps(doc)))

    def delete(self, index: str, doc_id: str) -> None:
        self.deletes.add(len(self.lines))
        self.lines.append((orjson.dumps({"delete": {"_index": index, "_id": doc_id}}), None))

    def __len__(self) -> int:
        return len(self.lines)

    def run(self, es: Elasticsearch) -> es_util.BulkOutcome:
        """Write everything, in requests of at most BULK_BYTES; positions are this batch's.

        Raises errors.Unavailable as es_util.bulk does (the caller retries the whole batch:
        every operation is idempotent).
        """
        total = es_util.BulkOutcome()
        start = 0
        while start < len(self.lines):
            end, size = start, 0
            while end < len(self.lines) and (end == start or size < BULK_BYTES):
                action, source = self.lines[end]
                size += len(action) + (len(source) if source is not None else 0) + 2
                end += 1
            ops = [{"action": action, "source": source} for action, source in self.lines[start:end]]
            part = es_util.bulk(es, ops)
            total.written += [start + i for i in part.written]
            total.conflicts += [start + i for i in part.conflicts]
            total.rejected += [(start + i, reason) for i, reason in part.rejected]
            start = end
        return total

    def refused(self, outcome: es_util.BulkOutcome) -> list[tuple[int, str]]:
        """Rejections other than deleting what is not there (the wanted state)."""
        return [(i, reason) for i, reason in outcome.rejected if i not in self.deletes]
