"""What reading a topic costs each Python Kafka client (run by hand against the local stack).

    .venv/bin/python bench/kafka_clients.py [--events 200000] [--rounds 2]

The consumers' polling thread is part of every consumer's CPU per event (the shared
ConsumerLoop reads with kafka-python). This bench tells how much of it is the client: N usage
events (the same as bench/usage_pipeline.py's) are produced once to a fresh topic of the
usage topics' partition count, then read to the end, in alternating rounds, by

- kafka-python (`KafkaConsumer.poll`, the loop's settings: 5,000 records a poll, 200 ms fetch wait);
- confluent-kafka (`Consumer.consume`, 5,000 messages a call; librdkafka fetches and decodes in
  its own threads, in C).

Each reads as its own new group from the earliest offset, values not decoded. Printed per
round: wall time (group join included), messages/s and the process's CPU per message (both
clients run in this process, so CPU time counts their background threads too). The topic is
deleted at the end.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import confluent_kafka  # noqa: E402
from kafka import KafkaProducer  # noqa: E402

from services.common import config, kafka_io  # noqa: E402
from usage_pipeline import make_events, produce  # noqa: E402

BATCH = 5000


def read_kafka_python(settings: config.Settings, topic: str, n: int) -> None:
    consumer = kafka_io.new_consumer(settings, topic, group_id=f"{topic}.kp.{uuid.uuid4().hex[:4]}",
                                     auto_offset_reset="earliest", enable_auto_commit=False,
                                     max_poll_records=BATCH, fetch_max_wait_ms=200)
    seen = 0
    while seen < n:
        seen += sum(len(records) for records in consumer.poll(timeout_ms=500, max_records=BATCH).values())
    consumer.close()


def read_confluent(settings: config.Settings, topic: str, n: int) -> None:
    consumer = confluent_kafka.Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                                         "group.id": f"{topic}.ck.{uuid.uuid4().hex[:4]}",
                                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    seen = 0
    while seen < n:
        messages = consumer.consume(BATCH, 0.5)
        for m in messages:
            m.value()
        seen += len(messages)
    consumer.close()


def measure(read: Callable[[config.Settings, str, int], None], settings: config.Settings, topic: str,
            n: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    read(settings, topic, n)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = config.load(namespace=f"bench{uuid.uuid4().hex[:6]}")
    topic = settings.topic("bench.clients.v1")
    kafka_io.ensure_topics(settings, [topic])
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=5, batch_size=256 * 1024)
    produce(producer, topic, make_events(args.events, "clients"))
    producer.close()
    print(f"{args.events} usage events in {topic}")
    try:
        for round_ in range(1, args.rounds + 1):
            for name, read in (("kafka-python", read_kafka_python), ("confluent-kafka", read_confluent)):
                wall, cpu = measure(read, settings, topic, args.events)
                print(f"round {round_} {name:16} {wall:5.2f} s, {args.events / wall:8.0f} msg/s, "
                      f"{1e6 * cpu / args.events:5.1f} µs of CPU per message")
    finally:
        admin = kafka_io.admin_client(settings, "bench-clients")
        admin.delete_topics([topic])
        admin.close()


if __name__ == "__main__":
    main()
