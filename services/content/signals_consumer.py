"""`python -m services.content.signals_consumer`: ranking signals into the catalog index.

The usage and feedback services publish per-asset numbers (usage score, Wilson lower
bound of the win rate, deals closed) on the signals topic; this consumer copies them
onto the asset documents, where search's function_score reads them. Per asset and
source only the newest `computed_at` wins: older or replayed signals are skipped, so
the result does not depend on delivery order. Writes are partial `update`s with `doc`
(no scripts), conditional on the sequence number read, so a concurrent catalog edit
is never overwritten; a lost race is retried through the read-modify-write path.
Signals for unknown assets are counted and dropped (the asset may have been imported
under another id, or deleted from a test namespace); they are valid events, so they
are not dead-lettered.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from services.common import cli, config, errors, es as es_common, metrics, topics
from services.common.consumer import Message, Parsed, WriteResult, run_forever
from services.common.contracts import jsonbytes, signal as signal_contract, times
from services.common.contracts.signal import Signal
from services.content.store import Store

__all__ = ["MAX_MESSAGE_BYTES", "SCHEMA", "Signal", "SignalsProcessor", "is_newer", "newest_per_key", "signal_fields"]

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = signal_contract.MAX_BYTES
SCHEMA = signal_contract.SCHEMA


def signal_fields(signal: Signal) -> dict[str, Any]:
    """The `signals` sub-document one event sets."""
    if signal.source == "usage":
        return {"usage": signal.numbers, "usage_score": float(signal.numbers["usage_score"]),
                "usage_computed_at": signal.computed_at_raw}
    return {"wins": signal.numbers, "win_rate_lower": float(signal.numbers["win_rate_lower"]),
            "deals_closed": int(signal.numbers["deals_closed"]), "feedback_computed_at": signal.computed_at_raw}


def is_newer(signal: Signal, stored_signals: dict[str, Any] | None) -> bool:
    stored = (stored_signals or {}).get(f"{signal.source}_computed_at")
    if not stored:
        return True
    return signal.computed_at > times.parse_stored(stored)


def newest_per_key(signals: Sequence[Signal]) -> dict[tuple[str, str], Signal]:
    latest: dict[tuple[str, str], Signal] = {}
    for s in signals:
        key = (s.asset_id, s.source)
        if key not in latest or s.computed_at > latest[key].computed_at:
            latest[key] = s
    return latest


class SignalsProcessor:
    name = "content-signals"

    def __init__(self, settings: config.Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store or Store(settings)
        self.topics = [topics.SIGNALS.name(settings)]
        self.dead_letter_topic = topics.CONTENT_DLQ.name(settings)

    def parse(self, message: Message) -> Signal:
        return signal_contract.parse(jsonbytes.parse_json_object(message, MAX_MESSAGE_BYTES))

    def write(self, batch: Sequence[Parsed[Signal]]) -> WriteResult:
        latest = newest_per_key([p.event for p in batch])
        result = WriteResult(stale=len(batch) - len(latest))
        if batch:
            result.newest_event_time_s = max(p.event.computed_at.timestamp() for p in batch)
        located = self.store.get_many(sorted({a for a, _ in latest}))  # an outage: the loop's write step retries
        partials: dict[str, dict[str, Any]] = {}
        unknown = 0
        for (asset_id, _source), signal in latest.items():
            loc = located.get(asset_id)
            if loc is None:
                unknown += 1
                continue
            if not is_newer(signal, loc.doc.get("signals")):
                result.stale += 1
                continue
            partials.setdefault(asset_id, {}).update(signal_fields(signal))
        operations = []
        slow: list[str] = []
        for asset_id, partial in partials.items():
            loc = located[asset_id]
            if not loc.in_write_index:
                slow.append(asset_id)
                continue
            operations.append({"action": {"update": {"_index": self.store.alias, "_id": asset_id,
                                                     "if_seq_no": loc.seq_no, "if_primary_term": loc.primary_term}},
                               "source": {"doc": {"signals": partial}}})
        outcome = es_common.bulk(self.store.es, operations)
        slow += [operations[i]["action"]["update"]["_id"] for i in outcome.conflicts]
        slow += [operations[i]["action"]["update"]["_id"] for i, _ in outcome.rejected]
        written = len(outcome.written)
        for asset_id in slow:  # lost a race with a catalog edit, or mid-reindex: read-modify-write
            if self._apply_slow(asset_id, [s for (a, _), s in latest.items() if a == asset_id]):
                written += 1
            else:
                result.stale += 1
        result.written = written
        metrics.CONTENT_SIGNALS.labels("applied").inc(written)
        metrics.CONTENT_SIGNALS.labels("stale").inc(result.stale)
        metrics.CONTENT_SIGNALS.labels("unknown_asset").inc(unknown)
        if unknown:
            log.info("signals for unknown assets skipped", extra={"count": unknown})
        return result

    def _apply_slow(self, asset_id: str, signals: list[Signal]) -> bool:
        def mutate(doc: dict[str, Any]) -> dict[str, Any] | None:
            current = doc.get("signals") or {}
            fresh = [s for s in signals if is_newer(s, current)]
            if not fresh:
                return None
            for s in fresh:
                current.update(signal_fields(s))
            doc["signals"] = current
            return doc

        try:
            _, changed = self.store.update(asset_id, mutate, refresh=False)
            return changed
        except errors.NotFound:
            return False


def main(argv: list[str] | None = None) -> None:
    cli.parse_no_arguments("python -m services.content.signals_consumer", __doc__, argv)
    settings = config.load()
    processor = SignalsProcessor(settings)
    processor.store.ensure()
    run_forever(processor, settings, settings.metrics_port or 9469)


if __name__ == "__main__":
    main()
