"""The join stage's bulk writes go out in chunks while it computes, and a batch never outruns them.

Against the real Elasticsearch: every chunk is stored by the time `run` returns, outcomes carry
the batch's own positions (a refused document, a delete of what is already gone), and an
outage raises only once every chunk has finished (a retried batch never races its own
leftovers), as does abandoning a batch whose computation failed.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

import pytest

from services.common import errors, es as es_util
from services.feedback.writes import OverlappedWrites

pytestmark = pytest.mark.integration


class RecordingSender(ThreadPoolExecutor):
    """A one-thread executor that keeps every request it was given."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="test-bulk")
        self.requests: list[Future[Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        self.requests.append(future)
        return future


@pytest.fixture
def index(feedback_es, feedback_settings) -> str:
    name = f"{feedback_settings.namespace}-feedback-overlap-test"
    feedback_es.options(ignore_status=404).indices.delete(index=name)
    feedback_es.indices.create(index=name, mappings={"dynamic": "strict", "properties": {"n": {"type": "integer"}}})
    yield name
    feedback_es.options(ignore_status=404).indices.delete(index=name)


def test_every_chunk_is_stored_when_run_returns_with_the_batchs_positions(feedback_es, index):
    sender = RecordingSender()
    writes = OverlappedWrites(feedback_es, sender, chunk=3)
    for n in range(7):
        writes.index(index, f"d{n}", {"n": n})
    writes.delete(index, "never-written")  # position 7: 404, the wanted state
    writes.index(index, "bad", {"n": "not a number"})  # position 8: refused by the mapping
    for n in range(7, 10):
        writes.index(index, f"d{n}", {"n": n})
    sent_while_adding = len(sender.requests)

    outcome = writes.run(feedback_es)

    assert sent_while_adding == 4  # 12 operations in chunks of 3, all sent before run()
    assert all(r.done() for r in sender.requests)
    assert sorted(outcome.written) == [0, 1, 2, 3, 4, 5, 6, 9, 10, 11]
    assert [position for position, _ in outcome.rejected] == [7, 8]
    assert [position for position, _ in writes.refused(outcome)] == [8]
    found = feedback_es.mget(index=index, ids=[f"d{n}" for n in range(10)])["docs"]  # realtime: no refresh
    assert [d["_source"]["n"] for d in found] == list(range(10))
    sender.shutdown()


def test_an_outage_raises_only_after_every_chunk_finished(feedback_settings):
    down = es_util.client(dataclasses.replace(feedback_settings, es_url="http://127.0.0.1:9", es_request_timeout_s=2.0))
    sender = RecordingSender()
    writes = OverlappedWrites(down, sender, chunk=2)
    for n in range(5):
        writes.index("any", f"d{n}", {"n": n})

    with pytest.raises(errors.Unavailable):
        writes.run(down)

    assert len(sender.requests) == 3
    assert all(r.done() for r in sender.requests)
    sender.shutdown()


def test_abandoning_waits_for_what_was_sent(feedback_es, index):
    sender = RecordingSender()
    writes = OverlappedWrites(feedback_es, sender, chunk=2)
    for n in range(5):
        writes.index(index, f"d{n}", {"n": n})

    writes.abandon()  # the batch's computation failed after two chunks went out

    assert len(sender.requests) == 2 and all(r.done() for r in sender.requests)
    found = feedback_es.mget(index=index, ids=[f"d{n}" for n in range(5)])["docs"]
    assert [d.get("found") for d in found] == [True, True, True, True, False]  # the unsent fifth is not written
    sender.shutdown()

