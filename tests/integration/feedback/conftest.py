"""Fixtures of the feedback integration tests: the gRPC server and the join pipeline
in-process (threads running the real ConsumerLoops of the usage consumer and of the
feedback router and join stage against the real Kafka and Elasticsearch), plus helpers
to produce raw JSON to the topics as an integrator would."""

from __future__ import annotations

import dataclasses
import json
import threading
import traceback
from typing import Any, Callable, Iterable, Iterator

import pytest
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.structs import TopicPartition

from collateral.v1 import feedback_pb2_grpc
from services.common import config, es as es_util, grpc_server, kafka_io, topics
from services.common.consumer import ConsumerLoop
from services.feedback import store
from services.feedback.consumer import Pipeline
from services.feedback.server import build_spec
from services.usage.consumer import UsageProcessor
from tests.conftest import GiveUp, isolated, wait_serving, wait_until  # noqa: F401 - re-exported to the tests


class RunningConsumer:
    """The whole join pipeline in threads: the usage consumer (it stores usage and publishes its
    bot verdicts to usage.classified.v1) and the feedback consumer's router and join stage.
    `wait_idle()` blocks until every stage committed everything produced so far."""

    def __init__(self, settings: config.Settings, with_usage: bool = True) -> None:
        self.settings = settings
        self.pipeline = Pipeline(settings)
        self.pipeline.ensure()
        self.processor = self.pipeline.router
        self.usage_loop = ConsumerLoop(UsageProcessor(settings), settings) if with_usage else None
        self.error: BaseException | None = None
        self.thread = None
        if self.usage_loop is not None:
            self.thread = threading.Thread(target=self._run_usage, name="usage-consumer-test", daemon=True)
            self.thread.start()
        self.pipeline.start()

    def _run_usage(self) -> None:
        try:
            assert self.usage_loop is not None
            self.usage_loop.run()
        except BaseException as exc:  # noqa: BLE001 - surfaced by wait_idle
            self.error = exc

    @property
    def stages(self) -> list[tuple[str, tuple[str, ...]]]:
        """(group, topics) of every stage, upstream first."""
        stages = [(loop.group_id, tuple(loop.processor.topics)) for loop in self.pipeline.loops]
        if self.usage_loop is not None:
            stages.insert(0, (self.usage_loop.group_id, tuple(self.usage_loop.processor.topics)))
        return stages

    def wait_idle(self, timeout_s: float = 120.0) -> None:
        """Every message produced so far has been processed and committed by every stage, in order
        (a stage's input is final once the stage before it has caught up)."""
        for group, names in self.stages:
            wait_caught_up(self.settings, group, names, timeout_s, self._check_alive)
        self.processor.es.indices.refresh(index=",".join(dataclasses.astuple(self.processor.names)))

    def _check_alive(self) -> None:
        if (error := self.error or next(iter(self.pipeline.errors), None)) is not None:
            raise GiveUp("consumer died:\n" + "".join(traceback.format_exception(error)))
        stopped = self.pipeline.stopped_loops() + ([self.thread.name] if self.thread and not self.thread.is_alive() else [])
        if stopped:
            raise GiveUp(f"consumer threads ended without an error: {stopped}")

    def stop(self) -> None:
        self.pipeline.stop()
        if self.usage_loop is not None:
            self.usage_loop.stop()
        self.pipeline.join(30)
        if self.thread is not None:
            self.thread.join(30)


def wait_caught_up(settings: config.Settings, group: str, names: Iterable[str], timeout_s: float,
                   check_alive: Callable[[], None] = lambda: None) -> None:
    """`group` has committed, on every partition of `names`, the end offset read now."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","))
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap.split(","))
    try:
        parts = [TopicPartition(t, p) for t in names for p in (consumer.partitions_for_topic(t) or ())]
        ends = consumer.end_offsets(parts)

        def done() -> Behind:
            check_alive()
            committed = admin.list_group_offsets(group)
            committed = committed.get(group, committed)  # kafka-python 3: keyed by group
            return Behind(group, {tp: (committed[tp].offset if tp in committed else None, ends[tp]) for tp in parts
                                  if ends[tp] and (tp not in committed or committed[tp].offset < ends[tp])})

        wait_until(done, timeout_s, what=f"{group} to catch up")
    finally:
        consumer.close()
        admin.close()


@dataclasses.dataclass
class Behind:
    """The partitions a group has not committed to their end offsets yet: true once there are none,
    and a timed-out wait names them (which stage, which partitions, how far)."""

    group: str
    lagging: dict[TopicPartition, tuple[int | None, int]]  # partition: (committed offset or None, end offset)

    def __bool__(self) -> bool:
        return not self.lagging

    def __repr__(self) -> str:
        return f"{self.group} behind on " + ", ".join(
            f"{tp.topic}-{tp.partition} (committed {'nothing' if done is None else done} of {end})"
            for tp, (done, end) in sorted(self.lagging.items()))


def produce(settings: config.Settings, topic: topics.Topic, items: Iterable[tuple[str, Any]], one_by_one: bool = False,
            producer: kafka_io.Producer | None = None) -> None:
    """Produce (key, JSON object or raw bytes) to `topic` exactly as an external integrator would."""
    own = producer is None
    producer = producer or kafka_io.Producer(settings, client_id="feedback-test")
    records = [kafka_io.Record(topic.name(settings), key, v if isinstance(v, bytes) else json.dumps(v).encode())
               for key, v in items]
    try:
        if one_by_one:
            for r in records:
                producer.send_and_wait([r])
        else:
            for i in range(0, len(records), 500):
                producer.send_and_wait(records[i:i + 500])
    finally:
        if own:
            producer.close()


@pytest.fixture(scope="session")
def feedback_settings(stack: config.Settings) -> config.Settings:
    return isolated(stack, "f")


@pytest.fixture(scope="session")
def feedback_server(feedback_settings: config.Settings, start_service: Callable) -> Any:
    running = start_service(build_spec(feedback_settings))
    wait_serving(running.address, "collateral.v1.FeedbackService")
    return running


@pytest.fixture(scope="session")
def feedback(feedback_server: Any) -> Iterator[feedback_pb2_grpc.FeedbackServiceStub]:
    with grpc_server.channel(feedback_server.address) as channel:
        yield feedback_pb2_grpc.FeedbackServiceStub(channel)


@pytest.fixture(scope="session")
def feedback_consumer(feedback_settings: config.Settings) -> Iterator[RunningConsumer]:
    topics.ensure_all(feedback_settings)
    running = RunningConsumer(feedback_settings)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def feedback_es(feedback_settings: config.Settings) -> Iterator[Any]:
    es = es_util.client(feedback_settings)
    yield es
    # Leave the shared cluster as we found it (each run has its own namespace).
    es.options(ignore_status=404).indices.delete(index=f"{feedback_settings.namespace}-feedback-*")
    es.options(ignore_status=404).indices.delete(index=f"{feedback_settings.namespace}-usage-*")


@pytest.fixture(scope="session")
def feedback_names(feedback_settings: config.Settings) -> store.Names:
    return store.Names.of(feedback_settings)
