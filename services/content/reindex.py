"""`python -m services.content.reindex`: move the catalog to a new index with the current mappings.

Needed after a mapping change (a new field, an analyzer switch when moving to a full
Elasticsearch distribution). Safe while the service and the signals consumer run: the
alias's write index moves to the new index first, live writes land there, and the
client-side copy (scan + bulk `create`) never overwrites them; the old index leaves the
alias at the end and is kept for rollback (delete it by hand).
"""

from __future__ import annotations

from typing import Any, Callable

from tqdm import tqdm

from services.common import cli, config, es as es_common, logs
from services.content import store


def run(settings: config.Settings, batch_size: int = 500, show_progress: bool = True,
        on_progress: Callable[[int, int], None] | None = None) -> str:
    """Copy the catalog into a new index and swap the alias; returns the new index."""
    index = store.Store(settings)
    index.ensure()
    bar = tqdm(total=0, unit="doc", desc=f"reindex {index.alias}", disable=not show_progress)

    def progress(copied: int, total: int) -> None:
        bar.total = total
        bar.n = copied
        bar.refresh()
        if on_progress:
            on_progress(copied, total)

    def transform(source: dict[str, Any]) -> dict[str, Any]:
        return store.indexable(source)  # recompute derived fields (completion inputs)

    try:
        return es_common.reindex(index.es, index.alias, store.index_body(settings, index.es), transform=transform,
                                 progress=progress, batch_size=batch_size)
    finally:
        bar.close()


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser("python -m services.content.reindex", __doc__)
    parser.add_argument("--batch-size", type=cli.positive_int, default=500, help="documents per scan page and bulk request")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    settings = config.load()
    logs.configure("content-reindex", settings.log_level, "text")
    new_index = run(settings, args.batch_size, not args.quiet)
    print(f"alias {settings.index(store.ALIAS_NAME)} now points at {new_index}")


if __name__ == "__main__":
    main()
