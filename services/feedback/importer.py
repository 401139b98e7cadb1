"""`python -m services.feedback.importer outcomes.csv`: import historical deal outcomes.

Each CSV row (header = the deal-outcome field names; `event_id`, `occurred_at` and
`received_at` optional) is validated with the same contract as the Kafka topic and
produced to deals.v1, so the consumer's versioned upsert and join treat it like any CRM
update (re-importing a file is harmless). Rows that fail are skipped and listed at the
end as `row N: field: reason`; the exit status is 1 when any row failed.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from datetime import datetime, timezone
from typing import Any, Iterator

from tqdm import tqdm

from services.common import config, kafka_io, topics
from services.common.consumer import InvalidEvent
from services.feedback import model

BATCH = 500
_UNSAFE = re.compile(r"[^A-Za-z0-9._:@/+=-]")
OPTIONAL = ("closed_at", "lost_reason", *model.SEGMENT_FIELDS, "event_id", "occurred_at", "received_at")


def row_to_event(row: dict[str, str], now: datetime) -> dict[str, Any]:
    """A CSV row as the JSON contract; empty cells are absent; raises InvalidEvent."""
    d: dict[str, Any] = {k.strip(): (v or "").strip() for k, v in row.items() if k}
    d = {k: v for k, v in d.items() if v != ""}
    if "amount" in d:
        try:
            d["amount"] = float(d["amount"].replace(",", ""))
        except ValueError:
            raise InvalidEvent("schema", f"amount: not a number: {d['amount']!r}") from None
    d["schema_version"] = model.SCHEMA_VERSION
    d.setdefault("occurred_at", d.get("updated_at", ""))
    d.setdefault("received_at", model.iso(now))
    if "event_id" not in d:
        d["event_id"] = _UNSAFE.sub("_", f"{d.get('opportunity_id', '')}@{d.get('updated_at', '')}")[:128]
    model.validate_deal(d, now)
    return d


def read(path: str) -> Iterator[tuple[int, dict[str, str]]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for number, row in enumerate(csv.DictReader(fh), start=2):  # row 1 is the header
            yield number, row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.feedback.importer", description=__doc__.splitlines()[0])
    parser.add_argument("csv_file")
    parser.add_argument("--dry-run", action="store_true", help="validate only, produce nothing")
    args = parser.parse_args(argv)
    settings = config.load()
    topic = topics.DEALS.name(settings)
    producer = None if args.dry_run else kafka_io.Producer(settings, client_id="feedback-importer")
    if producer:
        kafka_io.ensure_topics(settings, [topic])
    now = datetime.now(timezone.utc)
    errors: list[str] = []
    pending: list[kafka_io.Record] = []
    sent = 0
    with open(args.csv_file, encoding="utf-8-sig") as fh:
        total = max(0, sum(1 for _ in fh) - 1)
    for number, row in tqdm(read(args.csv_file), total=total, unit="row", desc="outcomes"):
        try:
            event = row_to_event(row, now)
        except InvalidEvent as exc:
            field, message = model.field_of(exc)
            errors.append(f"row {number}: {field or '(row)'}: {message}")
            continue
        pending.append(kafka_io.Record(topic, event["opportunity_id"], json.dumps(event).encode()))
        if len(pending) >= BATCH:
            if producer:
                producer.send_and_wait(pending, timeout_s=60)
            sent += len(pending)
            pending = []
    if pending:
        if producer:
            producer.send_and_wait(pending, timeout_s=60)
        sent += len(pending)
    if producer:
        producer.close()
    verb = "validated" if args.dry_run else f"produced to {topic}"
    print(f"{sent} outcomes {verb}; {len(errors)} rows rejected")
    for line in errors[:1000]:
        print(line, file=sys.stderr)
    if len(errors) > 1000:
        print(f"... and {len(errors) - 1000} more", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
