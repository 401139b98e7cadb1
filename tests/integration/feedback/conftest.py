"""Fixtures of the feedback integration tests: the gRPC server and the consumer loop
in-process (a thread running the real ConsumerLoop against the real Kafka and
Elasticsearch), plus helpers to produce raw JSON to the topics as an integrator would."""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any, Callable, Iterable, Iterator

import grpc
import pytest
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.structs import TopicPartition

from collateral.v1 import feedback_pb2_grpc
from services.common import config, es as es_util, kafka_io, topics
from services.common.consumer import ConsumerLoop
from services.feedback import store
from services.feedback.consumer import FeedbackProcessor
from services.feedback.server import build_spec
from tests.conftest import isolated, wait_serving, wait_until  # noqa: F401 - re-exported to the tests


class RunningConsumer:
    """The feedback consumer loop in a thread; `wait_idle()` blocks until it committed everything."""

    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings
        self.processor = FeedbackProcessor(settings)
        self.processor.ensure()
        self.loop = ConsumerLoop(self.processor, settings)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="feedback-consumer-test", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.loop.run()
        except BaseException as exc:  # noqa: BLE001 - surfaced by wait_idle
            self.error = exc

    def wait_idle(self, timeout_s: float = 120.0) -> None:
        """Every message produced so far to the consumer's topics has been processed and committed."""
        names = list(self.processor.topics)
        admin = KafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap.split(","))
        consumer = KafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap.split(","))
        try:
            parts = [TopicPartition(t, p) for t in names for p in (consumer.partitions_for_topic(t) or ())]
            ends = consumer.end_offsets(parts)

            def done() -> bool:
                if self.error is not None:
                    raise AssertionError(f"consumer died: {self.error!r}")
                committed = admin.list_group_offsets(self.loop.group_id)
                committed = committed.get(self.loop.group_id, committed)  # kafka-python 3: keyed by group
                return all(ends[tp] == 0 or (tp in committed and committed[tp].offset >= ends[tp]) for tp in parts)

            wait_until(done, timeout_s, what="the feedback consumer to catch up")
        finally:
            consumer.close()
            admin.close()
        self.processor.es.indices.refresh(index=",".join(dataclasses.astuple(self.processor.names)))

    def stop(self) -> None:
        self.loop.stop()
        self.thread.join(30)


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
    with grpc.insecure_channel(feedback_server.address) as channel:
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


@pytest.fixture(scope="session")
def feedback_names(feedback_settings: config.Settings) -> store.Names:
    return store.Names.of(feedback_settings)
