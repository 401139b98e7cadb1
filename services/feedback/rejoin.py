"""`python -m services.feedback.rejoin`: recompute every opportunity's touches and credits from source.

A repair tool: the join is exact with any number of consumer processes (docs/feedback.md,
"Scaling out"), but windows are applied when an input arrives, so changing
COLLATERAL_FEEDBACK_TOUCH_GRACE_DAYS or COLLATERAL_FEEDBACK_SOURCING_LOOKBACK_DAYS (the
window of every deal changes) needs a rejoin, and so does repairing touches after a paused
("zombie") consumer process. It then rebuilds the per (asset, month) rollups from the new
touches and credits (rollups.rebuild). It reads the same stored inputs as the join stage (deals, and
the usage events the router stored with the usage service's newest verdict), so it is safe
while consumers run; restart them afterwards so their in-memory join state is reloaded.
"""

from __future__ import annotations

from tqdm import tqdm

from services.common import cli, config, es as es_util, logs
from services.feedback import join, markov, rollups, store


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
    print(f"{total} deals recomputed: {written} touches written, {deleted} deleted (credits rewritten with them)")
    print(f"{rollups.rebuild(settings, es, names)} rollup documents recomputed")
    print(f"{markov.MarkovJob(settings, es).publish()} Markov attribution scopes recomputed")


if __name__ == "__main__":
    main()
