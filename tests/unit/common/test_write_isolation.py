"""A write that fails for one message dead-letters that message, not the batch or the process."""

from __future__ import annotations

import logging
from typing import Any, Sequence

import pytest

from services.common import errors
from services.common.consumer import WRITE_FAILED, Message, Parsed, WriteResult, WriteStep


class _RefusesSome:
    """Writes everything, unless the batch holds a message its store cannot take (raises for the whole batch)."""

    name = "test-consumer"

    def __init__(self, refused: set[int], unavailable_once: bool = False) -> None:
        self.refused = refused
        self.unavailable_once = unavailable_once
        self.stored: set[int] = set()
        self.calls = 0

    def write(self, batch: Sequence[Parsed[Any]]) -> WriteResult:
        self.calls += 1
        if self.unavailable_once:
            self.unavailable_once = False
            raise errors.Unavailable("store down")
        offsets = [p.message.offset for p in batch]
        if self.refused & set(offsets):
            raise ValueError(f"store refused the request ({len(offsets)} documents)")
        self.stored.update(offsets)
        return WriteResult(written=len(offsets), newest_event_time_s=float(max(offsets)))


def _step(processor: Any) -> WriteStep:
    return WriteStep(processor.write)


def _batch(n: int) -> list[Parsed[Any]]:
    return [Parsed(Message("t", 0, i, None, b"{}", 0), {}) for i in range(n)]


def test_the_failing_messages_are_isolated_and_the_rest_written(caplog: pytest.LogCaptureFixture) -> None:
    processor = _RefusesSome(refused={3, 17})
    with caplog.at_level(logging.WARNING, logger="services.common.consumer"):
        result = _step(processor)(_batch(40))
    assert processor.stored == set(range(40)) - {3, 17}
    assert result.written == 38
    assert [(m.offset, exc.reason) for m, exc in result.rejected] == [(3, WRITE_FAILED), (17, WRITE_FAILED)]
    assert all(exc.detail.startswith("ValueError: store refused") for _, exc in result.rejected)
    assert result.newest_event_time_s == 39.0
    assert processor.calls < 40  # halving, not one write per message
    assert sum(1 for r in caplog.records if r.exc_info) == 2  # each traceback kept for the fix


def test_a_batch_that_writes_is_written_once() -> None:
    processor = _RefusesSome(refused=set())
    result = _step(processor)(_batch(10))
    assert (result.written, result.rejected, processor.calls) == (10, [], 1)


def test_an_outage_is_not_isolated_but_raised_for_the_backoff() -> None:
    processor = _RefusesSome(refused={2}, unavailable_once=True)
    with pytest.raises(errors.Unavailable):
        _step(processor)(_batch(8))
    assert processor.stored == set()
