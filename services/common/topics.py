"""Every Kafka topic Collateral uses, its owner and its partition count, in one table.

Owners write; anyone may read. Names are namespaced by `COLLATERAL_NAMESPACE`, so the
defaults are `collateral.usage.v1` and so on. `python -m services.common.topics`
creates them all (idempotent); each service also ensures its own at start.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common import config, kafka_io


@dataclass(frozen=True)
class Topic:
    suffix: str
    owner: str
    doc: str
    partitions_setting: str | None = None  # a Settings field naming the count; None: COLLATERAL_KAFKA_TOPIC_PARTITIONS

    def name(self, settings: config.Settings) -> str:
        return settings.topic(self.suffix)

    def partitions(self, settings: config.Settings) -> int:
        if self.partitions_setting is None:
            return settings.kafka_topic_partitions
        return int(getattr(settings, self.partitions_setting))


CATALOG = Topic("catalog.v1", "content", "Asset lifecycle: created, updated, published, retired, restored. Key: asset_id.")
SEARCHES = Topic("search.v1", "content", "One event per rep search: query, filters, result count, shown asset ids. Key: rep_id.")
USAGE = Topic("usage.v1", "usage", "Usage events: view, download, share, customer_open, page_view, ... Key: asset_id.")
USAGE_CLASSIFIED = Topic(
    "usage.classified.v1", "usage",
    "Every stored usage event with the usage service's bot verdict (is_bot, bot_reason), re-published when the "
    "verdict changes (schemas/usage-classified.v1.json). Key: opportunity_id, else account_id, else asset_id.")
USAGE_DLQ = Topic("usage.dlq.v1", "usage", "Usage messages that failed validation, with reason headers and original bytes.")
DEALS = Topic("deals.v1", "feedback", "Deal outcomes from the CRM. Key: opportunity_id.")
DEALS_DLQ = Topic("deals.dlq.v1", "feedback", "Deal and usage messages the feedback consumer could not process.")
FEEDBACK_JOIN = Topic(
    "feedback.join.v1", "feedback",
    "Internal: the join's inputs (deal snapshots, usage events) re-keyed by opportunity_id, so one partition, "
    "hence one consumer process, owns each opportunity. Header `kind`: bundle (a JSON array of one partition's "
    "inputs, docs/feedback.md), or deal / event (one input keyed by its opportunity).",
    partitions_setting="feedback_join_partitions")
FEEDBACK_ROLLUP = Topic(
    "feedback.rollup.v1", "feedback",
    "Internal: the rollup keys (\"asset_id|YYYY-MM\") whose touches or credits the join stage wrote, one JSON array "
    "per record, each key in the partition Kafka's default partitioner gives it; the rollup stage recomputes them "
    "(docs/feedback.md, \"Rollups\"). Its partition count must not change without a rollup rebuild.",
    partitions_setting="feedback_join_partitions")
SIGNALS = Topic("signals.v1", "usage, feedback", "Per-asset ranking signals (usage, win rate) for the content index. Key: asset_id.")
CONTENT_DLQ = Topic("content.dlq.v1", "content", "Signal messages the content signals consumer could not process.")

ALL = (CATALOG, SEARCHES, USAGE, USAGE_CLASSIFIED, USAGE_DLQ, DEALS, DEALS_DLQ, FEEDBACK_JOIN, FEEDBACK_ROLLUP, SIGNALS, CONTENT_DLQ)


def ensure_all(settings: config.Settings) -> list[str]:
    """Create every topic that is missing (existing ones keep their partition count)."""
    by_count: dict[int, list[str]] = {}
    for topic in ALL:
        by_count.setdefault(topic.partitions(settings), []).append(topic.name(settings))
    for count, names in sorted(by_count.items()):
        kafka_io.ensure_topics(settings, names, partitions=count)
    return [t.name(settings) for t in ALL]


if __name__ == "__main__":
    from services.common import cli, logs

    cli.parse_no_arguments("python -m services.common.topics", __doc__)
    logs.configure("topics", fmt="text")
    print("\n".join(ensure_all(config.load())))
