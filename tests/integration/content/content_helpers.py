"""Helpers of the content integration tests: documents, Kafka reads, status codes."""

from __future__ import annotations

import json
import time
from typing import Any, Callable

import grpc
from kafka import KafkaConsumer, TopicPartition

from services.common import config, grpc_server
from tests.documents import make_docx, make_pdf, make_pptx  # noqa: F401 - used by the content tests

PDF = "application/pdf"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def read_topic(settings: config.Settings, topic: str, predicate: Callable[[dict[str, Any]], bool],
               timeout_s: float = 30.0) -> list[dict[str, Any]]:
    """Events on `topic` (from the beginning) matching `predicate`; waits until at least one."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap.split(","), enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    event = json.loads(record.value)
                    if predicate(event):
                        found.append(event)
            if found and all(consumer.position(tp) >= consumer.end_offsets([tp])[tp] for tp in partitions):
                return found
        return found
    finally:
        consumer.close()


def code_of(call: Callable[[], Any]) -> tuple[grpc.StatusCode, list[tuple[str, str]]]:
    try:
        call()
    except grpc.RpcError as err:
        return err.code(), grpc_server.field_violations(err)
    raise AssertionError("call succeeded")


def read_raw(settings: config.Settings, topic: str, predicate: Callable[[Any], bool], timeout_s: float = 30.0
             ) -> list[Any]:
    """Raw records on `topic` (from the beginning) matching `predicate`; waits until at least one."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap.split(","), enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout_s
        found: list[Any] = []
        while time.monotonic() < deadline and not found:
            for records in consumer.poll(timeout_ms=500).values():
                found += [r for r in records if predicate(r)]
        return found
    finally:
        consumer.close()
