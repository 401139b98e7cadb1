"""Poison messages never stop a consumer.

The three real consumers run as OS processes (`python -m services.usage.consumer`, parsing
in a worker process, `services.feedback.consumer` and `services.content.signals_consumer`,
parsing in their own) against the real Kafka and Elasticsearch. Every topic they read gets the CATALOGUE below: each poison message is
followed by a valid marker event. The test then checks that

- every process is still alive (a poison message that escapes the parse step ends the process,
  and it would end again on the same offset after every restart);
- every marker reached its consumer's Elasticsearch index (the partition kept flowing);
- every poison message is on the consumer's dead-letter topic with the expected `dlq.reason`
  and its original bytes, and nothing the catalogue calls valid was dead-lettered;
- every consumer group committed up to the end of every topic.

`python -m tests.integration.test_poison` prints the catalogue as a Markdown table.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from services.common import config, topics
from services.content import signals_consumer
from services.feedback import consumer as feedback_consumer, model as feedback_model
from services.usage import consumer as usage_consumer, model as usage_model

ROOT = Path(__file__).resolve().parents[2]

USAGE_C, FEEDBACK_C, SIGNALS_C = "usage-consumer", "feedback-router", "content-signals"
STORED = "(stored)"  # valid: must reach the consumer's index, never the DLQ
SKIPPED = "(skipped)"  # valid but not stored by design (a search that found something): never the DLQ

READERS: dict[str, tuple[str, ...]] = {
    "usage": (USAGE_C,),  # the feedback consumer reads the usage service's classified events instead
    "deals": (FEEDBACK_C,),
    "catalog": (USAGE_C, FEEDBACK_C),
    "search": (USAGE_C, FEEDBACK_C),
    "signals": (SIGNALS_C,),
}
TOPICS = {"usage": topics.USAGE, "deals": topics.DEALS, "catalog": topics.CATALOG, "search": topics.SEARCHES,
          "signals": topics.SIGNALS}
DLQS = {USAGE_C: topics.USAGE_DLQ, FEEDBACK_C: topics.DEALS_DLQ, SIGNALS_C: topics.CONTENT_DLQ}
# The largest limit among a topic's readers: one byte more is too large for all of them.
LIMITS = {
    "usage": max(usage_model.MAX_EVENT_BYTES, feedback_model.MAX_USAGE_BYTES),
    "deals": feedback_model.MAX_DEAL_BYTES,
    "catalog": max(usage_consumer.MAX_CATALOG_BYTES, feedback_consumer.MAX_CATALOG_BYTES),
    "search": max(usage_consumer.MAX_SEARCH_BYTES, feedback_consumer.MAX_SEARCH_BYTES),
    "signals": signals_consumer.MAX_MESSAGE_BYTES,
}
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _ts(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


# ---- valid events, one builder per topic ----------------------------------------------------

def valid(topic: str, tag: str) -> dict[str, Any]:
    """A valid event of `topic` whose store key (see key_of) contains `tag`."""
    recent, earlier = _ts(NOW - timedelta(minutes=1)), _ts(NOW - timedelta(days=3))
    if topic == "usage":
        return {"event_id": f"{tag}-ev", "schema_version": 1, "occurred_at": recent, "type": "present",
                "asset_id": f"{tag}-asset", "rep_id": "rep-poison", "account_id": f"{tag}-acct", "page": 2,
                "seconds": 12.5, "channel": "web"}
    if topic == "deals":
        return {"event_id": f"{tag}-deal", "schema_version": 1, "occurred_at": recent, "opportunity_id": f"{tag}-opp",
                "account_id": f"{tag}-acct", "owner_rep_id": "rep-poison", "stage": "open", "amount": 1200.0,
                "currency": "EUR", "created_at": earlier, "updated_at": recent, "industry": "healthcare"}
    if topic == "catalog":
        return {"event_id": f"{tag}-cat", "schema_version": 1, "occurred_at": recent, "received_at": recent,
                "event_type": "published", "asset_id": f"{tag}-asset", "title": "Poison-proof deck", "type": "deck",
                "status": "published", "owner": "mkt-1", "buying_stages": ["decision"], "industries": ["retail"],
                "regions": [], "products": [], "personas": [], "tags": ["t"], "language": "en", "created_at": earlier,
                "published_at": recent, "version": 3}
    if topic == "search":
        return {"event_id": f"{tag}-search", "schema_version": 1, "occurred_at": recent, "received_at": recent,
                "search_id": f"{tag}-s", "rep_id": "rep-poison", "role": "rep", "query": "zebra pricing calculator",
                "filters": {"industries": ["retail"]}, "sort": "relevance", "result_count": 0, "shown_asset_ids": []}
    if topic == "signals":
        return {"event_id": f"{tag}-sig", "schema_version": 1, "occurred_at": recent, "asset_id": f"{tag}-asset",
                "source": "usage", "computed_at": recent, "usage": {"views_30d": 4, "usage_score": 2.5}}
    raise KeyError(topic)


def key_of(topic: str, event: dict[str, Any]) -> str:
    """The document id the event gets in its consumers' indices."""
    return event["opportunity_id"] if topic == "deals" else event["asset_id"] if topic in ("catalog", "signals") \
        else event["event_id"]


# ---- the catalogue ------------------------------------------------------------------------

@dataclass(frozen=True)
class Poison:
    topic: str
    name: str
    value: bytes | None
    outcome: dict[str, str]  # consumer -> expected dlq.reason, or STORED / SKIPPED
    event: dict[str, Any] | None = None  # the parsed event of a valid row (its store key)


def _dump(event: Any) -> bytes:
    return json.dumps(event).encode()


def _splice(event: dict[str, Any], raw_field: bytes) -> bytes:
    """The event's JSON with one more member written as raw bytes (for what json.dumps cannot write)."""
    return _dump(event)[:-1] + b"," + raw_field + b"}"


def _nested(depth: int) -> Any:
    node: Any = "x"
    for _ in range(depth):
        node = [node]
    return node


def _every(topic: str, reason: str) -> dict[str, str]:
    return {consumer: reason for consumer in READERS[topic]}


def generic_rows(topic: str, tag: Callable[[str], str]) -> list[Poison]:
    """Poison that fails before any contract is looked at: the same reason on every topic."""
    base = valid(topic, tag("base"))
    text = json.dumps(base)

    def row(name: str, value: bytes | None, reason: str) -> Poison:
        return Poison(topic, name, value, _every(topic, reason))

    def deep(name: str, value: bytes) -> Poison:  # the size limit is checked first (deals: 16 KiB)
        return row(name, value, "too_large" if len(value) > LIMITS[topic] else "too_deep")

    bom_event = valid(topic, tag("bom"))
    return [
        deep("5,000 nested objects", b'{"a":' * 5000),
        deep("3,000 nested objects", b'{"a":' * 3000),
        deep("5,000 nested arrays", b"[" * 5000),
        row("nesting 65 deep in an extra field", _splice(base, b'"deep":' + b"[" * 65 + b"]" * 65), "too_deep"),
        row("empty value (zero bytes)", b"", "empty"),
        row("tombstone (no value)", None, "empty"),
        row("over the size limit", _dump({**base, "pad": "x" * LIMITS[topic]}), "too_large"),
        row("invalid UTF-8 in a string", _splice(base, b'"x":"\xc3\x28"'), "bad_encoding"),
        row("overlong UTF-8", _splice(base, b'"x":"\xc0\xaf"'), "bad_encoding"),
        row("valid JSON in UTF-16 with BOM", text.encode("utf-16"), "bad_encoding"),
        row("valid JSON in UTF-16-LE", text.encode("utf-16-le"), "bad_encoding"),
        row("valid JSON in UTF-32", text.encode("utf-32"), "bad_encoding"),
        row("lone surrogate \\ud800 in a value", _splice(base, b'"x":"\\ud800"'), "bad_encoding"),
        row("lone surrogate \\udc00 in a key", _splice(base, b'"\\udc00":1'), "bad_encoding"),
        row("NaN", _splice(base, b'"n":NaN'), "bad_number"),
        row("Infinity", _splice(base, b'"n":Infinity'), "bad_number"),
        row("-Infinity", _splice(base, b'"n":-Infinity'), "bad_number"),
        row("1e400 (overflows a double)", _splice(base, b'"n":1e400'), "bad_number"),
        row("10**400 as an integer literal", _splice(base, b'"n":1' + b"0" * 400), "bad_number"),
        row("2**63 (outside 64 bits)", _splice(base, b'"n":9223372036854775808'), "bad_number"),
        row("top-level array", _dump([base]), "bad_json"),
        row("top-level string", _dump(text), "bad_json"),
        row("top-level number", b"42", "bad_json"),
        row("top-level null", b"null", "bad_json"),
        row("not JSON", b"{not json", "bad_json"),
        row("truncated JSON", _dump(base)[:-7], "bad_json"),
        row("raw NUL byte in a string", _splice(base, b'"x":"a\x00b"'), "bad_json"),
        row("two JSON objects", _dump(base) + b" " + _dump(base), "bad_json"),
        Poison(topic, "valid, with a UTF-8 BOM (tolerated)", b"\xef\xbb\xbf" + _dump(bom_event),
               _every(topic, STORED), bom_event),
    ]


def usage_rows(tag: Callable[[str], str]) -> list[Poison]:
    def row(name: str, changes: dict[str, Any], usage: str, feedback: str | None = None,
            drop: tuple[str, ...] = ()) -> Poison:
        event = {k: v for k, v in {**valid("usage", tag(name)), **changes}.items() if k not in drop}
        outcome = {c: r for c, r in {USAGE_C: usage, FEEDBACK_C: feedback or usage}.items() if c in READERS["usage"]}
        return Poison("usage", name, _dump(event), outcome, event if usage == STORED else None)

    def raw(name: str, field: bytes, reason: str) -> Poison:
        event = {k: v for k, v in valid("usage", tag(name)).items() if k != field.split(b'"')[1].decode()}
        return Poison("usage", name, _splice(event, field), _every("usage", reason))

    return [
        row("type: unknown enum value", {"type": "teleport"}, "unknown_type", "schema"),
        row("type: a number", {"type": 5}, "schema"),
        row("event_id: a number", {"event_id": 7}, "schema"),
        row("event_id: empty", {"event_id": ""}, "schema"),
        row("event_id: escaped NUL", {"event_id": "a\u0000b"}, "schema"),
        row("schema_version: a string", {"schema_version": "1"}, "schema"),
        row("schema_version: 2", {"schema_version": 2}, "schema"),
        row("occurred_at: a number", {"occurred_at": 1_700_000_000}, "schema"),
        row("asset_id: null", {"asset_id": None}, "schema"),
        row("asset_id: missing", {}, "schema", drop=("asset_id",)),
        row("page: missing on page_view", {"type": "page_view"}, "schema", drop=("page",)),
        row("page: a string", {"page": "3"}, "schema"),
        row("page: a float", {"page": 1.5}, "schema"),
        row("page: 0", {"page": 0}, "schema"),
        row("seconds: a string", {"seconds": "3"}, "schema"),
        row("seconds: negative", {"seconds": -1}, "schema"),
        row("seconds: above a day", {"seconds": 90_000}, "schema"),
        raw("seconds: NaN", b'"seconds":NaN', "bad_number"),
        raw("seconds: Infinity", b'"seconds":Infinity', "bad_number"),
        raw("seconds: -Infinity", b'"seconds":-Infinity', "bad_number"),
        raw("seconds: 1e400", b'"seconds":1e400', "bad_number"),
        raw("page: 10**400", b'"page":1' + b"0" * 400, "bad_number"),
        row("headers: an array", {"headers": []}, "schema"),
        row("headers: a nested object", {"headers": {"a": {"b": 1}}}, "schema"),
        row("headers: nested 60 deep", {"headers": {"a": _nested(60)}}, "schema"),
        row("is_bot: a string", {"is_bot": "yes"}, "schema"),
        row("unknown field", {"colour": "red"}, "schema"),
        row("user_agent: 60,000 characters", {"user_agent": "x" * 60_000}, "schema"),
        row("occurred_at: year 0", {"occurred_at": "0000-01-01T00:00:00Z"}, "schema"),
        row("occurred_at: year 10000", {"occurred_at": "10000-01-01T00:00:00Z"}, "schema"),
        row("occurred_at: year 1 at +01:00 (before year 1 in UTC)", {"occurred_at": "0001-01-01T00:00:00+01:00"},
            "schema"),
        row("occurred_at: year 9999 at -14:00 (after 9999 in UTC)", {"occurred_at": "9999-12-31T23:59:59-14:00"},
            "schema"),
        row("occurred_at: year 9999", {"occurred_at": "9999-12-31T23:59:59Z"}, "future_event_time"),
        row("occurred_at: 30 February", {"occurred_at": "2026-02-30T00:00:00Z"}, "schema"),
        row("occurred_at: no zone", {"occurred_at": "2026-01-01T00:00:00"}, "schema"),
        row("occurred_at: nanoseconds (valid, truncated)", {"occurred_at": _ts(NOW - timedelta(hours=1))[:-1]
                                                            + ".123456789Z"}, STORED),
    ]


def deal_rows(tag: Callable[[str], str]) -> list[Poison]:
    def row(name: str, changes: dict[str, Any], reason: str, drop: tuple[str, ...] = ()) -> Poison:
        event = {k: v for k, v in {**valid("deals", tag(name)), **changes}.items() if k not in drop}
        return Poison("deals", name, _dump(event), {FEEDBACK_C: reason})

    def raw(name: str, field: bytes, reason: str) -> Poison:
        event = {k: v for k, v in valid("deals", tag(name)).items() if k != field.split(b'"')[1].decode()}
        return Poison("deals", name, _splice(event, field), {FEEDBACK_C: reason})

    ancient = {"created_at": "0001-01-01T00:00:00Z", "occurred_at": "0001-01-02T00:00:00Z",
               "updated_at": "0001-01-02T00:00:00Z"}
    return [
        row("stage: unknown enum value", {"stage": "closed"}, "schema"),
        row("stage: won without closed_at", {"stage": "won"}, "schema"),
        row("closed_at before created_at", {"stage": "lost", "closed_at": _ts(NOW - timedelta(days=30))}, "schema"),
        row("amount: a string", {"amount": "1200"}, "schema"),
        row("amount: negative", {"amount": -1}, "schema"),
        row("amount: above 1e13", {"amount": 1e14}, "schema"),
        raw("amount: NaN", b'"amount":NaN', "bad_number"),
        raw("amount: 1e400", b'"amount":1e400', "bad_number"),
        raw("amount: 10**400", b'"amount":1' + b"0" * 400, "bad_number"),
        row("currency: lower case", {"currency": "eur"}, "schema"),
        row("opportunity_id: a number", {"opportunity_id": 5}, "schema"),
        row("event_id: null", {"event_id": None}, "schema"),
        row("schema_version: 2", {"schema_version": 2}, "schema"),
        row("unknown field", {"colour": "red"}, "schema"),
        row("account_id: missing", {}, "schema", drop=("account_id",)),
        row("industry: nested 60 deep", {"industry": _nested(60)}, "schema"),
        row("lost_reason: 15,000 characters", {"lost_reason": "x" * 15_000}, "schema"),
        row("updated_at: year 1 (a negative version)", ancient, "schema"),
        row("updated_at: year 1 at +01:00", {"updated_at": "0001-01-01T00:00:00+01:00"}, "schema"),
        row("updated_at: year 10000", {"updated_at": "10000-01-01T00:00:00Z"}, "schema"),
        row("updated_at: in two hours", {"updated_at": _ts(NOW + timedelta(hours=2))}, "future_event_time"),
    ]


def catalog_rows(tag: Callable[[str], str]) -> list[Poison]:
    def row(name: str, changes: dict[str, Any], reason: str, drop: tuple[str, ...] = ()) -> Poison:
        event = {k: v for k, v in {**valid("catalog", tag(name)), **changes}.items() if k not in drop}
        return Poison("catalog", name, _dump(event), _every("catalog", reason))

    return [
        row("event_type: unknown enum value", {"event_type": "exploded"}, "schema"),
        row("type: unknown enum value", {"type": "hologram"}, "schema"),
        row("status: a number", {"status": 1}, "schema"),
        row("buying_stages: unknown enum value", {"buying_stages": ["nope"]}, "schema"),
        row("tags: a number inside", {"tags": [5]}, "schema"),
        row("tags: nested 60 deep", {"tags": _nested(60)}, "schema"),
        row("tags: 51 items", {"tags": [f"t{i}" for i in range(51)]}, "schema"),
        row("title: empty", {"title": ""}, "schema"),
        row("title: 200,000 characters", {"title": "x" * 200_000}, "schema"),
        row("title: missing", {}, "schema", drop=("title",)),
        row("version: a string", {"version": "3"}, "schema"),
        row("version: 0", {"version": 0}, "schema"),
        row("version: a float", {"version": 2.5}, "schema"),
        row("created_at: year 1 at +01:00", {"created_at": "0001-01-01T00:00:00+01:00"}, "schema"),
        row("published_at: a number", {"published_at": 12}, "schema"),
        row("published_at: not a time", {"published_at": "yesterday"}, "schema"),
    ]


def search_rows(tag: Callable[[str], str]) -> list[Poison]:
    def row(name: str, changes: dict[str, Any], usage: str, feedback: str | None = None) -> Poison:
        event = {**valid("search", tag(name)), **changes}
        stored = STORED in (usage, feedback)
        return Poison("search", name, _dump(event), {USAGE_C: usage, FEEDBACK_C: feedback or usage},
                      event if stored else None)

    return [
        row("role: unknown enum value", {"role": "god"}, "schema"),
        row("sort: unknown enum value", {"sort": "random"}, "schema"),
        row("result_count: a string", {"result_count": "0"}, "schema"),
        row("result_count: negative", {"result_count": -1}, "schema"),
        row("result_count: 2**40 (beyond the index's integer)", {"result_count": 2**40}, "rejected_by_store",
            SKIPPED),
        row("shown_asset_ids: a string", {"shown_asset_ids": "a"}, "schema"),
        row("shown_asset_ids: 101 items", {"shown_asset_ids": [f"a{i}" for i in range(101)]}, "schema"),
        row("filters: a string value", {"filters": {"industries": "retail"}}, "schema"),
        row("filters: nested 60 deep", {"filters": {"industries": _nested(60)}}, "schema"),
        row("query: 100,000 characters", {"query": "x" * 100_000}, "schema"),
        row("occurred_at: year 1 at +01:00", {"occurred_at": "0001-01-01T00:00:00+01:00"}, "schema"),
        row("occurred_at: not a time", {"occurred_at": "soon"}, "schema"),
        row("occurred_at: in two hours (only usage checks)", {"occurred_at": _ts(NOW + timedelta(hours=2))},
            "future_event_time", STORED),
    ]


def signal_rows(tag: Callable[[str], str]) -> list[Poison]:
    def row(name: str, changes: dict[str, Any], reason: str, drop: tuple[str, ...] = ()) -> Poison:
        event = {k: v for k, v in {**valid("signals", tag(name)), **changes}.items() if k not in drop}
        return Poison("signals", name, _dump(event), {SIGNALS_C: reason})

    def raw(name: str, number: bytes) -> Poison:
        event = {k: v for k, v in valid("signals", tag(name)).items() if k != "usage"}
        return Poison("signals", name, _splice(event, b'"usage":{"usage_score":' + number + b"}"),
                      {SIGNALS_C: "bad_number"})

    return [
        row("source: unknown enum value", {"source": "oracle"}, "schema"),
        row("usage: missing for source usage", {}, "schema", drop=("usage",)),
        row("usage.usage_score: a string", {"usage": {"usage_score": "high"}}, "schema"),
        row("usage.usage_score: negative", {"usage": {"usage_score": -1}}, "schema"),
        row("usage: nested 60 deep", {"usage": {"usage_score": 1, "x": _nested(60)}}, "schema"),
        row("wins.win_rate_lower: 7", {"source": "feedback", "wins": {"deals_closed": 3, "win_rate_lower": 7}},
            "schema"),
        row("wins.deals_closed: a float", {"source": "feedback", "wins": {"deals_closed": 1.5,
                                                                          "win_rate_lower": 0.2}}, "schema"),
        raw("usage.usage_score: NaN", b"NaN"),
        raw("usage.usage_score: 1e400", b"1e400"),
        raw("usage.usage_score: 10**400", b"1" + b"0" * 400),
        row("asset_id: 60,000 characters", {"asset_id": "x" * 60_000}, "schema"),
        row("schema_version: a string", {"schema_version": "1"}, "schema"),
        row("computed_at: not a time", {"computed_at": "yesterday"}, "schema"),
        row("computed_at: year 1 at +01:00", {"computed_at": "0001-01-01T00:00:00+01:00"}, "schema"),
        row("computed_at: in two hours", {"computed_at": _ts(NOW + timedelta(hours=2))}, "future_event_time"),
    ]


def catalogue(uid: str) -> list[Poison]:
    """Every poison message, topic by topic, with the reason each reader must dead-letter it for."""
    rows: list[Poison] = []
    builders = {"usage": usage_rows, "deals": deal_rows, "catalog": catalog_rows, "search": search_rows,
                "signals": signal_rows}
    for topic, specific in builders.items():
        counter = iter(range(10_000))

        def tag(_name: str, topic: str = topic) -> str:
            return f"{uid}-{topic}-{next(counter)}"

        rows += generic_rows(topic, tag) + specific(tag)
    return rows


def markdown(rows: list[Poison]) -> str:
    head = f"| Topic | Message | {USAGE_C} | {FEEDBACK_C} | {SIGNALS_C} |\n|---|---|---|---|---|\n"
    return head + "".join(
        f"| {r.topic} | {r.name} | " + " | ".join(r.outcome.get(c, "") for c in (USAGE_C, FEEDBACK_C, SIGNALS_C))
        + " |\n" for r in rows)


# ---- running the real consumers ---------------------------------------------------------------

class Consumers:
    """The three consumer processes of one namespace; their logs go to `logs`."""

    MODULES = {USAGE_C: "services.usage.consumer", FEEDBACK_C: "services.feedback.consumer",
               SIGNALS_C: "services.content.signals_consumer"}

    def __init__(self, settings: config.Settings, logs: Path) -> None:
        from scripts.local_services import free_port
        from tests.conftest import process_env

        self.settings = settings
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        for name, module in self.MODULES.items():
            env = process_env(settings, COLLATERAL_METRICS_PORT=str(free_port()), COLLATERAL_LOG_FORMAT="text",
                              COLLATERAL_USAGE_SIGNALS_INTERVAL_S="0", COLLATERAL_FEEDBACK_SIGNALS_INTERVAL_S="0",
                              COLLATERAL_CONSUMER_SESSION_TIMEOUT_S="6", PYTHONUNBUFFERED="1",
                              # The usage consumer parses in a worker process (its default, explicit here;
                              # the others in their own): both parse paths meet the whole catalogue.
                              COLLATERAL_USAGE_CONSUMER_PARSE_PROCESSES="1")
            with open(logs / f"{name}.log", "ab") as log:
                self.procs[name] = subprocess.Popen([sys.executable, "-m", module], cwd=ROOT, env=env, stdout=log,
                                                    stderr=subprocess.STDOUT)

    def any_exited(self) -> bool:
        return any(p.poll() is not None for p in self.procs.values())

    def check_alive(self) -> None:
        dead = {name: p.returncode for name, p in self.procs.items() if p.poll() is not None}
        if dead:
            tails = {name: (self.logs / f"{name}.log").read_text(errors="replace")[-3000:] for name in dead}
            raise AssertionError(f"consumer process(es) exited: {dead}\n" +
                                 "\n".join(f"--- {n} ---\n{t}" for n, t in tails.items()))

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


@pytest.fixture(scope="module")
def poison_env(stack: config.Settings) -> config.Settings:
    from services.common import es as es_util
    from services.feedback import store as feedback_store
    from services.usage import store as usage_store
    from tests.conftest import isolated

    settings = isolated(stack, "p")
    topics.ensure_all(settings)
    es = es_util.client(settings)
    try:
        usage_store.ensure(es, settings)
        feedback_store.ensure(es, settings)
    finally:
        es.close()
    return settings


@pytest.fixture(scope="module")
def uid() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def rows(uid: str) -> list[Poison]:
    return catalogue(uid)


@pytest.fixture(scope="module")
def content_assets(poison_env: config.Settings, rows: list[Poison], uid: str) -> Iterator[None]:
    """Catalog documents for the signal markers to land on (signals for unknown assets are dropped)."""
    from collateral.v1 import content_pb2
    from services.content import model as content_model
    from services.content.store import Store

    store = Store(poison_env)
    store.ensure()
    for key in _signal_asset_keys(rows, uid):
        store.create(content_model.new_doc(key, content_pb2.Asset(title=f"Poison target {key}",
                                                                  type=content_pb2.ASSET_TYPE_DECK), "poison-test"),
                     refresh=False)
    store.es.indices.refresh(index=store.alias)
    yield
    store.es.options(ignore_status=404).indices.delete(index=f"{poison_env.namespace}-*")


def _signal_asset_keys(rows: list[Poison], uid: str) -> list[str]:
    markers = [key_of("signals", valid("signals", _marker_tag(uid, "signals", i)))
               for i, r in enumerate(rows) if r.topic == "signals"]
    return markers + [key_of("signals", r.event) for r in rows if r.topic == "signals" and r.event]


def _marker_tag(uid: str, topic: str, index: int) -> str:
    return f"{uid}-{topic}-marker-{index}"


@pytest.fixture(scope="module")
def consumers(poison_env: config.Settings, content_assets: None,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Consumers]:
    running = Consumers(poison_env, tmp_path_factory.mktemp("poison"))
    yield running
    running.stop()


@dataclass
class Sent:
    row: Poison
    source: str  # topic/partition/offset, as the dlq.source header names it
    marker_key: str


def produce_catalogue(settings: config.Settings, rows: list[Poison], uid: str) -> list[Sent]:
    """Each row then its marker, one key per topic (so one partition, in order)."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap.split(","), acks="all", linger_ms=5,
                             max_request_size=4 * 1024 * 1024)
    try:
        pending = []
        for i, row in enumerate(rows):
            name = TOPICS[row.topic].name(settings)
            key = f"{uid}-{row.topic}".encode()
            marker = valid(row.topic, _marker_tag(uid, row.topic, i))
            poison_future = producer.send(name, key=key, value=row.value)
            producer.send(name, key=key, value=_dump(marker))
            pending.append((row, poison_future, key_of(row.topic, marker)))
        producer.flush()
        sent = []
        for row, future, marker_key in pending:
            meta = future.get(timeout=30)
            sent.append(Sent(row, f"{meta.topic}/{meta.partition}/{meta.offset}", marker_key))
        return sent
    finally:
        producer.close()


def stored_keys(settings: config.Settings, es: Any, consumer: str, topic: str, keys: list[str]) -> set[str]:
    """Which of `keys` are documents in the index `consumer` keeps for `topic`."""
    from services.content.store import Store
    from services.feedback import store as feedback_store
    from services.usage import store as usage_store

    usage_names, feedback_names = usage_store.Names.of(settings), feedback_store.Names.of(settings)
    extra: list[dict[str, Any]] = []
    if consumer == SIGNALS_C:
        index = Store(settings).alias
        extra = [{"exists": {"field": "signals.usage_computed_at"}}]  # a signal was applied
    else:
        index = {
            (USAGE_C, "usage"): f"{usage_names.events}*", (USAGE_C, "catalog"): usage_names.catalog,
            (USAGE_C, "search"): usage_names.searches, (FEEDBACK_C, "usage"): feedback_names.usage,
            (FEEDBACK_C, "deals"): feedback_names.deals, (FEEDBACK_C, "catalog"): feedback_names.catalog,
            (FEEDBACK_C, "search"): feedback_names.misses,
        }[(consumer, topic)]
    es.indices.refresh(index=index, ignore_unavailable=True, allow_no_indices=True)
    response = es.search(index=index, size=len(keys), source=False, ignore_unavailable=True, allow_no_indices=True,
                         query={"bool": {"filter": [{"ids": {"values": keys}}, *extra]}})
    return {hit["_id"] for hit in response["hits"]["hits"]}


def read_dead_letters(settings: config.Settings) -> dict[tuple[str, str], tuple[str, bytes]]:
    """{(dlq.consumer, dlq.source): (dlq.reason, value)} of every record on the three DLQ topics."""
    from kafka import KafkaConsumer
    from kafka.structs import TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap.split(","), enable_auto_commit=False)
    try:
        names = [DLQS[c].name(settings) for c in (USAGE_C, FEEDBACK_C, SIGNALS_C)]
        parts = [TopicPartition(t, p) for t in names for p in (consumer.partitions_for_topic(t) or ())]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        found: dict[tuple[str, str], tuple[str, bytes]] = {}
        deadline = time.monotonic() + 30
        while any(consumer.position(tp) < ends[tp] for tp in parts) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    h = {k: v.decode() for k, v in r.headers if k in ("dlq.consumer", "dlq.source", "dlq.reason")}
                    found[(h["dlq.consumer"], h["dlq.source"])] = (h["dlq.reason"], r.value)
        return found
    finally:
        consumer.close()


def committed_to_the_end(settings: config.Settings) -> bool:
    from kafka import KafkaAdminClient, KafkaConsumer
    from kafka.structs import TopicPartition

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","))
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap.split(","))
    try:
        for name in (USAGE_C, FEEDBACK_C, SIGNALS_C):
            read = [TOPICS[t].name(settings) for t, readers in READERS.items() if name in readers]
            parts = [TopicPartition(t, p) for t in read for p in (consumer.partitions_for_topic(t) or ())]
            ends = consumer.end_offsets(parts)
            group = settings.group(name)
            committed = admin.list_group_offsets(group)
            committed = committed.get(group, committed)  # kafka-python 3: keyed by group
            if not all(ends[tp] == 0 or (tp in committed and committed[tp].offset >= ends[tp]) for tp in parts):
                return False
        return True
    finally:
        consumer.close()
        admin.close()


# ---- the test -------------------------------------------------------------------------------

def test_poison_messages_are_dead_lettered_and_never_stop_a_consumer(poison_env: config.Settings, consumers: Consumers,
                                                                    rows: list[Poison], uid: str) -> None:
    from services.common import es as es_util
    from tests.conftest import wait_until

    sent = produce_catalogue(poison_env, rows, uid)
    es = es_util.client(poison_env)
    try:
        expect_stored: dict[tuple[str, str], set[str]] = {}
        for s in sent:
            for consumer in READERS[s.row.topic]:
                wanted = expect_stored.setdefault((consumer, s.row.topic), set())
                wanted.add(s.marker_key)
                if s.row.outcome[consumer] == STORED:
                    wanted.add(key_of(s.row.topic, s.row.event or {}))

        missing: dict[tuple[str, str], list[str]] = {}

        def all_stored_or_a_consumer_exited() -> bool:
            if consumers.any_exited():
                return True  # fail now, with the process's log, rather than at the deadline
            missing.clear()
            for where, keys in expect_stored.items():
                absent = keys - stored_keys(poison_env, es, *where, sorted(keys))
                if absent:
                    missing[where] = sorted(absent)[:5]
            return not missing

        try:
            wait_until(all_stored_or_a_consumer_exited, timeout_s=240, interval_s=2,
                       what="every marker (and every valid row) in its consumer's index")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; still missing (consumer, topic): keys {missing}") from None
        consumers.check_alive()
    finally:
        es.close()

    expected = {(c, s.source): (reason, s.row.value or b"", s.row.name) for s in sent
                for c, reason in s.row.outcome.items() if reason not in (STORED, SKIPPED)}

    wait_until(lambda: consumers.any_exited() or set(expected) <= set(read_dead_letters(poison_env)),
               timeout_s=120, interval_s=2, what="every poison message on its DLQ")
    consumers.check_alive()
    wait_until(lambda: consumers.any_exited() or committed_to_the_end(poison_env), timeout_s=120, interval_s=1,
               what="every consumer group to commit to the end of its topics")
    found = read_dead_letters(poison_env)
    consumers.check_alive()

    wrong = {f"{c} {name!r}": (got[0] if got else None, reason) for (c, source), (reason, _, name) in expected.items()
             if (got := found.get((c, source))) is None or got[0] != reason}
    assert wrong == {}, "(got, expected) dlq.reason per consumer and message"
    assert all(found[key][1] == value for key, (_, value, _) in expected.items()), "original bytes kept"
    valid_sources = {(c, s.source) for s in sent for c, outcome in s.row.outcome.items() if outcome in (STORED, SKIPPED)}
    marker_sources = {(c, f"{s.source.rsplit('/', 1)[0]}/{int(s.source.rsplit('/', 1)[1]) + 1}")
                      for s in sent for c in READERS[s.row.topic]}
    assert not (valid_sources | marker_sources) & set(found), "valid events were dead-lettered"
    usage_log = (consumers.logs / f"{USAGE_C}.log").read_text(errors="replace")
    assert "parse workers started" in usage_log, "the usage consumer parsed in its own process, not in a worker"


if __name__ == "__main__":
    print(markdown(catalogue("uid")))
