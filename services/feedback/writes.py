"""Bulk writes of one consumer batch, each document serialised once with orjson.

The feedback consumer's stages write tens of thousands of documents per batch; the
standard json module encoding them inside the Elasticsearch client was a large share of
their CPU time. The documents written here hold only strings, finite numbers, booleans,
None and lists or objects of those with string keys, which orjson and json encode to the
same JSON values.

Each operation is kept as one right-sized bytes object holding its NDJSON lines: orjson
returns its bytes in the buffer it wrote them to (4 KiB at least), so keeping its results as
they are held 4-8 KiB per operation, tens of thousands per batch, on fresh pages every batch.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import orjson
from elasticsearch import Elasticsearch

from services.common import es as es_util

BULK_BYTES = 8 * 1024 * 1024  # one bulk request's body at most (Elasticsearch refuses 100 MB)


@dataclass
class Writes:
    """Bulk operations of one batch, serialised as they are added.

    `deletes` are the positions whose 404 (already gone) is the wanted state.
    """

    lines: list[bytes] = field(default_factory=list)  # per operation: its action and source lines, "\n"-ended
    deletes: set[int] = field(default_factory=set)

    def index(self, index: str, doc_id: str, doc: Mapping[str, Any] | bytes, version: int | None = None) -> None:
        """Index `doc` (or its encoding, as bytes); with `version`, as an external version (an equal
        or newer stored one is a 409)."""
        action: dict[str, Any] = {"_index": index, "_id": doc_id}
        if version is not None:
            action.update(version=version, version_type="external")
        self.lines.append(b"%b\n%b\n" % (orjson.dumps({"index": action}),
                                          doc if isinstance(doc, bytes) else orjson.dumps(doc)))

    def create(self, index: str, doc_id: str, doc: Mapping[str, Any]) -> None:
        self.lines.append(b"%b\n%b\n" % (orjson.dumps({"create": {"_index": index, "_id": doc_id}}), orjson.dumps(doc)))

    def delete(self, index: str, doc_id: str) -> None:
        self.deletes.add(len(self))
        self.lines.append(orjson.dumps({"delete": {"_index": index, "_id": doc_id}}) + b"\n")

    def __len__(self) -> int:
        """Operations added so far (their positions are 0 .. len - 1)."""
        return len(self.lines)

    def run(self, es: Elasticsearch) -> es_util.BulkOutcome:
        """Write everything, in requests of at most BULK_BYTES; positions are this batch's.

        Raises errors.Unavailable as es_util.bulk does (the caller retries the whole batch:
        every operation is idempotent).
        """
        return _run_lines(es, self.lines)

    def refused(self, outcome: es_util.BulkOutcome) -> list[tuple[int, str]]:
        """Rejections other than deleting what is not there (the wanted state)."""
        return [(i, reason) for i, reason in outcome.rejected if i not in self.deletes]


class OverlappedWrites(Writes):
    """Writes sent to Elasticsearch in chunks of `chunk` operations, on `sender`, as they are added.

    For a writer whose own computation is its critical path (the join stage, whose
    recomputation spent a third of its time waiting on its bulk requests): a chunk is written
    while the next one is computed. `run` sends the rest and returns once every chunk has completed, so a batch
    is never committed before all of its writes are stored; if computing fails midway,
    `abandon` waits for what was sent before the batch is retried. `sender` should have one
    thread: chunks are then written one at a time, in order.

    Only the lines not sent yet are kept (`lines`): a sent chunk's encoded documents are freed
    as soon as its request completes, so a batch of tens of thousands of documents never holds
    them all at once (freshly grown memory cost the process page faults on every batch).
    """

    def __init__(self, es: Elasticsearch, sender: Executor, chunk: int) -> None:
        super().__init__()
        self._es = es
        self._sender = sender
        self._chunk = chunk
        self._sent = 0  # lines handed to the sender so far (positions 0 .. _sent - 1)
        self._pending: list[tuple[int, Future[es_util.BulkOutcome]]] = []  # (first line, request)

    def __len__(self) -> int:
        return self._sent + len(self.lines)

    def index(self, index: str, doc_id: str, doc: Mapping[str, Any] | bytes, version: int | None = None) -> None:
        super().index(index, doc_id, doc, version)
        self._send_full_chunk()

    def create(self, index: str, doc_id: str, doc: Mapping[str, Any]) -> None:
        super().create(index, doc_id, doc)
        self._send_full_chunk()

    def delete(self, index: str, doc_id: str) -> None:
        super().delete(index, doc_id)
        self._send_full_chunk()

    def _send_full_chunk(self) -> None:
        if len(self.lines) >= self._chunk:
            self._send()

    def _send(self) -> None:
        if self.lines:
            chunk, self.lines = self.lines, []
            self._pending.append((self._sent, self._sender.submit(_run_lines, self._es, chunk)))
            self._sent += len(chunk)

    def run(self, es: Elasticsearch | None = None) -> es_util.BulkOutcome:
        """Send what is left and wait for every chunk; positions are this batch's (the client
        given at construction writes them all: `es` is accepted for the base class's callers).

        Raises the first chunk's error (errors.Unavailable: the caller retries the whole
        batch) only after every chunk has finished.
        """
        self._send()
        total = es_util.BulkOutcome()
        failure: BaseException | None = None
        pending, self._pending = self._pending, []
        for start, request in pending:
            try:
                _add(total, request.result(), start)
            except BaseException as exc:  # noqa: BLE001 - raised once every chunk has finished
                failure = failure or exc
        if failure is not None:
            raise failure
        return total

    def abandon(self) -> None:
        """Wait for the chunks already sent, ignoring their outcome (the batch failed and is retried)."""
        pending, self._pending = self._pending, []
        for _, request in pending:
            try:
                request.result()
            except BaseException:  # noqa: BLE001 - the batch's own failure is what the caller raises
                pass


def _run_lines(es: Elasticsearch, lines: Sequence[bytes]) -> es_util.BulkOutcome:
    """Bulk-write encoded operations, in requests of at most BULK_BYTES; positions are the lines'."""
    total = es_util.BulkOutcome()
    start = 0
    while start < len(lines):
        end, size = start, 0
        while end < len(lines) and (end == start or size < BULK_BYTES):
            size += len(lines[end])
            end += 1
        _add(total, es_util.bulk_encoded(es, b"".join(lines[start:end])), start)
        start = end
    return total


def _add(total: es_util.BulkOutcome, part: es_util.BulkOutcome, start: int) -> None:
    """Merge the outcome of lines[start:...] into `total` (positions shifted by `start`)."""
    total.written += [start + i for i in part.written]
    total.conflicts += [start + i for i in part.conflicts]
    total.rejected += [(start + i, reason) for i, reason in part.rejected]
