"""Per-asset win-rate signals for the content service's ranking (topic signals.v1).

`python -m services.feedback.signals` publishes once; the consumer process publishes
every COLLATERAL_FEEDBACK_SIGNALS_INTERVAL_S. One event per touched asset, per
schemas/signal-event.v1.json with source "feedback": the content service keeps the
newest per (asset, source) by computed_at, and ranks by win_rate_lower (the Wilson
lower bound), which shrinks small samples toward zero by construction. `significant`
is judged on the Benjamini-Hochberg q-value over every ranked asset, as in the reports.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from services.common import config, es as es_util, events, kafka_io, metrics, topics
from services.feedback import model, reports, store

log = logging.getLogger(__name__)


def signal_events(rows: list[reports.WinRate], computed_at: datetime) -> list[dict]:
    stamp = model.iso(computed_at)
    out = []
    for row in rows:
        t = row.touched
        out.append({
            "event_id": f"feedback-{model.to_ms(computed_at)}-{row.asset_id}"[:128],
            "schema_version": 1,
            "occurred_at": stamp,
            "received_at": stamp,
            "asset_id": row.asset_id,
            "source": "feedback",
            "computed_at": stamp,
            "wins": {
                "deals_touched": t.total, "deals_closed": t.closed, "won": t.won,
                "win_rate": round(row.win_rate, 6), "win_rate_lower": round(row.lower, 6),
                "lift": round(row.lift, 6), "q_value": round(row.q_value, 6), "significant": row.significant,
            },
        })
    return out


class SignalPublisher:
    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings
        self.es = es_util.client(settings)
        self.reports = reports.Reports(self.es, settings, store.Names.of(settings))
        self.producer = kafka_io.Producer(settings, client_id="feedback-signals")
        self.topic = topics.SIGNALS.name(settings)

    def publish(self) -> int:
        _, rows = self.reports.win_rates(reports.Filters())
        batch = signal_events(rows, datetime.now(timezone.utc))
        for event in batch:
            events.validate("signal-event.v1.json", event)
        for i in range(0, len(batch), 500):
            self.producer.send_and_wait([kafka_io.Record(self.topic, e["asset_id"], json.dumps(e).encode())
                                         for e in batch[i:i + 500]])
        metrics.FEEDBACK_SIGNALS_PUBLISHED.inc(len(batch))
        log.info("win-rate signals published", extra={"assets": len(batch)})
        return len(batch)

    def close(self) -> None:
        self.producer.close()


def main(argv: list[str] | None = None) -> None:
    from services.common import cli, logs

    cli.parse_no_arguments("python -m services.feedback.signals", __doc__, argv)
    settings = config.load()
    logs.configure("feedback-signals", settings.log_level, "text")
    publisher = SignalPublisher(settings)
    try:
        print(f"published {publisher.publish()} win-rate signals to {publisher.topic}")
    finally:
        publisher.close()


if __name__ == "__main__":
    main()
