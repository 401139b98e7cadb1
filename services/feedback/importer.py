"""`python -m services.feedback.importer outcomes.csv`: import historical deal outcomes.

Each CSV row (header = the deal-outcome field names; `event_id`, `occurred_at` and
`received_at` optional) is validated with the same contract as the Kafka topic and
produced to deals.v1, so the consumer's versioned upsert and join treat it like any CRM
update (re-importing a file is harmless).

A file that cannot be read (missing, not UTF-8 text, a header without the required
columns or with unknown ones) stops the import before anything is produced, naming the
file and line. Rows that fail are skipped and listed at the end with every problem found
in them, as `outcomes.csv:LINE: row N: field: reason`; the exit status is 1 when any row
failed.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from tqdm import tqdm

from services.common import cli, config, events, kafka_io, topics
from services.common.consumer import InvalidEvent
from services.feedback import model

BATCH = 500
MAX_LISTED = 1000
_UNSAFE = re.compile(r"[^A-Za-z0-9._:@/+=-]")
OPTIONAL = ("closed_at", "lost_reason", *model.SEGMENT_FIELDS, *model.NAME_FIELDS, "event_id", "occurred_at",
            "received_at")
GENERATED = ("event_id", "schema_version", "occurred_at", "received_at")  # filled in when a row lacks them
TIME_FIELDS = ("created_at", "closed_at", "updated_at", "occurred_at", "received_at")


class FileError(cli.InputFileError):
    """The CSV as a whole cannot be imported; the message names the file and the line."""


class RowErrors(InvalidEvent):
    """Every problem of one row, each as (field, message); an InvalidEvent like the topic's own rejections."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("schema", "; ".join(f"{f}: {m}" for f, m in problems))
        self.problems = problems


@dataclass
class CsvRow:
    number: int  # the row's number counting the header as row 1 (what a spreadsheet shows)
    line: int  # the line of the file the row starts on (differs from number after multi-line cells)
    values: dict[str, str]


def contract_columns() -> tuple[set[str], set[str]]:
    """(required, known) CSV columns, from the deal-outcome JSON Schema."""
    schema = events.validator(model.DEAL_SCHEMA).schema
    known = set(schema["properties"]) - {"schema_version"}
    return set(schema.get("required", ())) - set(GENERATED), known


def _problems_of(d: dict[str, Any], now: datetime) -> list[tuple[str, str]]:
    """Every contract violation of one event: schema errors, then bad or future timestamps."""
    problems: list[tuple[str, str]] = []
    for error in sorted(events.validator(model.DEAL_SCHEMA).iter_errors(d), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path) or "(root)"
        problems.append(model.field_of(InvalidEvent("schema", f"{path}: {error.message[:300]}")))
    named = {field for field, _ in problems}
    for name in TIME_FIELDS:
        if name in named or not isinstance(d.get(name), str):
            continue
        try:
            when = events.parse_time(d[name], name)
            if name in ("updated_at", "occurred_at"):
                events.check_not_future(when, name, now)
        except InvalidEvent as exc:
            problems.append(model.field_of(exc))
    return list(dict.fromkeys(problems))


def row_to_event(row: dict[str, str], now: datetime) -> dict[str, Any]:
    """A CSV row as the JSON contract; empty cells are absent; raises RowErrors naming every bad field."""
    d: dict[str, Any] = {k.strip(): (v or "").strip() for k, v in row.items() if k}
    d = {k: v for k, v in d.items() if v != ""}
    problems: list[tuple[str, str]] = []
    if "amount" in d:
        try:
            d["amount"] = float(d["amount"].replace(",", ""))
        except ValueError:
            problems.append(("amount", f"not a number: {d['amount']!r}"))
    derived = {name for name in ("occurred_at", "event_id") if name not in d}  # copies of other cells
    d["schema_version"] = model.SCHEMA_VERSION
    d.setdefault("occurred_at", d.get("updated_at", ""))
    d.setdefault("received_at", model.iso(now))
    if "event_id" not in d:
        d["event_id"] = _UNSAFE.sub("_", f"{d.get('opportunity_id', '')}@{d.get('updated_at', '')}")[:128]
    checked = dict(d, amount=0.0) if problems else d  # a bad amount is reported once, not again by the schema
    problems += [p for p in _problems_of(checked, now) if p[0] not in derived]  # reported under their source
    if not problems:
        try:  # cross-field rules (closed_at after created_at, ...) once every field is valid on its own
            model.validate_deal(d, now)
        except InvalidEvent as exc:
            problems.append(model.field_of(exc))
    if problems:
        raise RowErrors(problems)
    return d


def check_header(path: Path, header: list[str]) -> None:
    required, known = contract_columns()
    if not any(header):
        raise FileError(f"{path}: line 1: no header (the first line names the columns: {', '.join(sorted(required))})")
    missing = sorted(required - set(header))
    if missing:
        raise FileError(f"{path}: line 1: missing column {', '.join(map(repr, missing))} (header: {', '.join(header)})")
    unknown = [name for name in header if name not in known]
    if unknown:
        raise FileError(f"{path}: line 1: unknown column {', '.join(map(repr, unknown))} "
                        f"(known: {', '.join(sorted(known))})")


def read(path: Path) -> list[CsvRow]:
    """Every row of the file; raises FileError when the file as a whole is unusable."""
    reader = csv.DictReader(io.StringIO(cli.read_text_file(path, "the outcomes as CSV in UTF-8"), newline=""), strict=True)
    line = 1
    rows: list[CsvRow] = []
    try:
        header = [name.strip() for name in reader.fieldnames or []]
        check_header(path, header)
        reader.fieldnames = header
        line = reader.line_num + 1
        for number, values in enumerate(reader, start=2):  # row 1 is the header
            extra = values.pop(None, None)  # cells beyond the header
            if extra and any(cell.strip() for cell in extra):
                raise FileError(f"{path}: line {line}: {len(header) + len(extra)} cells but the header has "
                                f"{len(header)} columns")
            rows.append(CsvRow(number, line, values))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise FileError(f"{path}: line {line}: not valid CSV: {exc}") from None
    return rows


def _batches(records: Iterator[kafka_io.Record]) -> Iterator[list[kafka_io.Record]]:
    batch: list[kafka_io.Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser("python -m services.feedback.importer", __doc__)
    parser.add_argument("csv_file", type=Path, help="CSV file whose header names deal-outcome fields")
    parser.add_argument("--dry-run", action="store_true", help="validate only, produce nothing")
    args = parser.parse_args(argv)
    try:
        rows = read(args.csv_file)
    except cli.InputFileError as exc:  # FileError, or the file unreadable as text
        cli.fail(str(exc))
    if not rows:
        cli.fail(f"{args.csv_file}: no rows to import")
    settings = config.load()
    topic = topics.DEALS.name(settings)
    now = datetime.now(timezone.utc)
    errors: list[str] = []

    def valid_records() -> Iterator[kafka_io.Record]:
        for row in tqdm(rows, unit="row", desc="outcomes"):
            try:
                event = row_to_event(row.values, now)
            except RowErrors as exc:
                errors.extend(f"{args.csv_file}:{row.line}: row {row.number}: {field or '(row)'}: {message}"
                              for field, message in exc.problems)
                continue
            yield kafka_io.Record(topic, event["opportunity_id"], json.dumps(event).encode())

    producer = None if args.dry_run else kafka_io.Producer(settings, client_id="feedback-importer")
    sent = 0
    try:
        if producer:
            kafka_io.ensure_topics(settings, [topic])
        for batch in _batches(valid_records()):
            if producer:
                producer.send_and_wait(batch, timeout_s=60)
            sent += len(batch)
    finally:
        if producer:
            producer.close()
    for line in errors[:MAX_LISTED]:
        print(line, file=sys.stderr)
    if len(errors) > MAX_LISTED:
        print(f"... and {len(errors) - MAX_LISTED} more", file=sys.stderr)
    failed = len(rows) - sent
    verb = "validated" if args.dry_run else f"produced to {topic}"
    print(f"{args.csv_file}: {len(rows)} rows: {sent} outcomes {verb}; {failed} rows rejected")
    return cli.INPUT_ERROR if failed else 0


if __name__ == "__main__":
    sys.exit(main())
