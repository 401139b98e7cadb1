"""`python -m services.feedback.rejoin`: recompute every opportunity's touches from source.

Needed after changing COLLATERAL_FEEDBACK_TOUCH_GRACE_DAYS (the window of every deal
changes) or to repair touches after running several consumer processes concurrently
(see docs/feedback.md, "Scaling out"). Safe to run while the consumer runs: every
write is a deterministic recomputation from stored inputs.
"""

from __future__ import annotations

from tqdm import tqdm

from services.common import cli, config, es as es_util, logs
from services.feedback import join, store


def main(argv: list[str] | None = None) -> None:
    cli.parse_no_arguments("python -m services.feedback.rejoin", __doc__, argv)
    settings = config.load()
    logs.configure("feedback-rejoin", settings.log_level, "text")
    es = es_util.client(settings)
    names = store.ensure(es, settings)
    joiner = join.Joiner(es, settings, names)
    total = es.count(index=names.deals)["count"]
    with tqdm(total=total, unit="deal", desc="rejoin") as bar:
        written, deleted = joiner.recompute_all(progress=bar.update)
    print(f"{total} deals recomputed: {written} touches written, {deleted} deleted")


if __name__ == "__main__":
    main()
