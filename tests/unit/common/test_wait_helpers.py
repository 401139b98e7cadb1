"""The integration tests' waiting helpers: a dead consumer fails a wait at once, and a wait that
times out names what it was waiting for (which group, which partitions, how far behind)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from kafka.structs import TopicPartition

from services.common.consumer import LoopGroup
from tests.conftest import GiveUp, wait_until
from tests.integration.feedback.conftest import Behind


def test_give_up_fails_the_wait_at_once():
    calls = []

    def check():
        calls.append(1)
        raise GiveUp("consumer died: boom")

    started = time.monotonic()
    with pytest.raises(GiveUp, match="boom"):
        wait_until(check, timeout_s=30, interval_s=0.01)
    assert len(calls) == 1 and time.monotonic() - started < 5


def test_other_errors_still_mean_not_yet():
    answers = iter([KeyError("not indexed yet"), 0, "found"])

    def check():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_until(check, timeout_s=30, interval_s=0.01) == "found"


def test_a_timed_out_wait_names_the_lagging_partitions():
    behind = Behind("ns.feedback-join", {TopicPartition("ns.usage.v1", 1): (None, 7),
                                         TopicPartition("ns.deals.v1", 0): (3, 9)})
    with pytest.raises(AssertionError) as failed:
        wait_until(lambda: behind, timeout_s=0.05, interval_s=0.01, what="ns.feedback-join to catch up")
    message = str(failed.value)
    assert "ns.feedback-join behind on ns.deals.v1-0 (committed 3 of 9), ns.usage.v1-1 (committed nothing of 7)" in message
    assert Behind("g", {}) and not behind


def test_loop_group_names_loops_that_ended():
    class Loop:
        def __init__(self, name: str, stays: bool) -> None:
            self.processor = SimpleNamespace(name=name)
            self.stays = stays
            self.released = False

        def run(self) -> None:
            while self.stays and not self.released:
                time.sleep(0.01)

        def stop(self) -> None:
            self.released = True

    group = LoopGroup([Loop("ends", stays=False), Loop("runs", stays=True)], settings=None)  # type: ignore[arg-type]
    group.start()
    wait_until(lambda: group.stopped_loops() == ["ends"], timeout_s=10, interval_s=0.01)
    group.stop()
    group.join(10)
    assert group.stopped_loops() == ["ends", "runs"] and not group.errors
