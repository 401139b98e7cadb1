"""`python -m services.feedback.consumer`: the join of usage with deal outcomes, and gap inputs.

One process runs three consumer loops side by side (each its own consumer group), so
routing and joining overlap and a process scales out as a unit:

- the router (`<ns>.feedback-router`, routing.py) reads deals.v1, usage.classified.v1
  (the usage service's stored events with its bot verdict), search.v1 and catalog.v1;
  it stores raw usage and gap inputs and re-keys every join input by opportunity_id
  into feedback.join.v1;
- the join stage (`<ns>.feedback-join`, join_stage.py) reads feedback.join.v1: one
  partition, hence one process, owns each opportunity; it stores deals (versioned),
  recomputes touches in memory and writes the ones that changed, then sends the rollup
  keys it changed to feedback.rollup.v1;
- the rollup stage (`<ns>.feedback-rollup`, rollups.py) reads feedback.rollup.v1 and
  recomputes those per (asset, month) rollups from the touches and credits.

Run as many processes as feedback.join.v1 has partitions (COLLATERAL_FEEDBACK_JOIN_PARTITIONS);
the result is exact with any number of them (docs/feedback.md, "Scaling out"). Invalid
messages go to deals.dlq.v1 with the reason. The process also publishes win-rate signals
every `COLLATERAL_FEEDBACK_SIGNALS_INTERVAL_S` seconds (signals.py) and recomputes the
Markov attribution every `COLLATERAL_FEEDBACK_MARKOV_INTERVAL_S` seconds (markov.py).
"""

from __future__ import annotations

import dataclasses

from services.common import cli, config, es as es_util, kafka_io, logs, topics
from services.common.consumer import ConsumerLoop, LoopGroup, run_process
from services.feedback import markov, rollups, signals, store
from services.feedback.join_stage import JoinProcessor
from services.feedback.routing import MAX_CATALOG_BYTES, MAX_SEARCH_BYTES, RouterProcessor

__all__ = ["MAX_CATALOG_BYTES", "MAX_SEARCH_BYTES", "Pipeline", "main"]

METRICS_PORT = 9468
STAGES = ("feedback-router", "feedback-join", "feedback-rollup")


class Pipeline(LoopGroup):
    """The router, the join stage and the rollup stage of one process, each a ConsumerLoop in its own thread."""

    def __init__(self, settings: config.Settings) -> None:
        self.router = RouterProcessor(settings)
        self.joiner = JoinProcessor(settings, self.router.es)
        self.rollups = rollups.RollupProcessor(settings, self.router.es)
        super().__init__((ConsumerLoop(self.router, settings), ConsumerLoop(self.joiner, settings),
                          ConsumerLoop(self.rollups, settings)), settings)

    def ensure(self) -> None:
        store.ensure(self.router.es, self.settings, self.router.names)
        rollups.mark_ready_if_empty(self.router.es, self.router.names)
        self.router._ensured = True


def main(argv: list[str] | None = None) -> None:
    cli.parse_no_arguments("python -m services.feedback.consumer", __doc__, argv)
    settings = config.load()
    settings = dataclasses.replace(settings, consumer_batch_size=settings.feedback_consumer_batch_size)
    logs.configure("feedback-consumer", settings.log_level, settings.log_format)
    kafka_io.retry_until_available(settings, lambda: topics.ensure_all(settings), "topics")  # waits, never crash-loops
    pipeline = Pipeline(settings)
    es_util.retry_until_available(pipeline.ensure)
    run_process("feedback consumer", pipeline, METRICS_PORT, [
        ("feedback-signals", settings.feedback_signals_interval_s, lambda: signals.SignalPublisher(settings)),
        ("feedback-markov", settings.feedback_markov_interval_s, lambda: markov.MarkovJob(settings)),
    ])


if __name__ == "__main__":
    main()
