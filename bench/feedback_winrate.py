"""Win-rate and attribution report latency at scale: `python bench/feedback_winrate.py --deals 100000 --touches 5000000`.

Bulk-loads synthetic deals, touches (some in the sourcing lookback before creation) and
the won deals' attribution credits (services.feedback.credits, as the join writes them)
straight into a bench namespace's indices (orjson-encoded bulk bodies of 8,000 documents,
three requests in flight, no refresh and asynchronous translog until the load ends: the
full size takes 15-20 minutes on a busy 2-core machine), then times the report queries the gRPC
methods run (reports.Reports, the same code path minus protobuf), each repeated, against
a baseline measured in the same run: one bare terms aggregation on asset_id over every
touch. Prints `ratio to bare terms aggregation X.XXX` per report; the targets are
GetAttribution over 12 months <= 3x and ListAssetWinRates <= 2x. Also times one run of
the background Markov job (services.feedback.markov) once.

Run by hand; results go to bench/RESULTS.md. `--skip-load` re-times an existing load;
`--drop` deletes the bench indices afterwards. The load ends with the service's rollup rebuild
(rollups.rebuild, as `python -m services.feedback.rollups --rebuild`); `--skip-load
--rebuild-rollups` rebuilds only the rollups, and `--exact` times the reports without them.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import dataclasses
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson  # noqa: E402

from services.common import config, es as es_util  # noqa: E402
from services.feedback import credits, markov, model, reports, rollups, store  # noqa: E402

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
INDUSTRIES = ["healthcare", "retail", "finance", "energy", "manufacturing", "public", "telecom", "media"]
REGIONS = ["emea", "amer", "apac"]
BANDS = ["smb", "mid", "enterprise"]


def synth_deal(i: int, rng: random.Random) -> dict:
    created = T0 + timedelta(days=rng.uniform(0, 700))
    stage = rng.choices(["won", "lost", "open"], [0.3, 0.5, 0.2])[0]
    closed = created + timedelta(days=rng.uniform(5, 120)) if stage != "open" else None
    return {
        "event_id": f"d{i}", "opportunity_id": f"opp-{i:07d}", "account_id": f"acct-{rng.randrange(30000)}",
        "owner_rep_id": f"rep-{rng.randrange(500)}", "stage": stage, "amount": float(rng.randrange(1, 500) * 1000),
        "currency": "USD", "created_at": model.iso(created), "closed_at": model.iso(closed) if closed else None,
        "updated_at": model.iso(closed or created), "version": model.to_ms(closed or created), "lost_reason": None,
        "lost_topic": None, "industry": rng.choice(INDUSTRIES), "region": rng.choice(REGIONS),
        "product_line": f"p{rng.randrange(5)}", "deal_size_band": rng.choice(BANDS), "team": f"team-{rng.randrange(40)}",
    }


LOOKBACK_S = 90 * 86400.0


def synth_touches(deal: dict, n: int, assets: int, rng: random.Random) -> dict[str, dict]:
    """{touch id: touch} of one deal; about a tenth of the touchpoints fall in the sourcing lookback."""
    created = model.parse_iso(deal["created_at"])
    end = model.parse_iso(deal["closed_at"]) if deal["closed_at"] else created + timedelta(days=60)
    span = max(1.0, (end - created).total_seconds())
    chosen = rng.sample(range(assets), min(n, assets))
    out = {}
    for a in chosen:
        k = rng.choice((1, 1, 1, 2, 3))
        times = sorted(created + timedelta(seconds=rng.uniform(-LOOKBACK_S, 0) if rng.random() < 0.1
                                           else rng.uniform(0, span)) for _ in range(k))
        sourcing = sum(1 for t in times if t < created)
        doc = {name: deal[name] for name in model.DEAL_FIELDS_ON_TOUCH}
        doc.update(asset_id=f"asset-{a:05d}", deal_version=deal["version"], first_touch_at=model.iso(times[0]),
                   last_touch_at=model.iso(times[-1]), touch_count=k, sourcing=sourcing > 0, sourcing_count=sourcing,
                   influencing=sourcing < k, influenced_amount=deal["amount"] if sourcing < k else 0.0,
                   counts={"view": k}, times=[model.iso(t) for t in times])
        out[model.touch_id(doc["asset_id"], deal["opportunity_id"])] = doc
    return out


LOAD_BATCH_DOCS = 8000
LOAD_THREADS = 3
# Bulk-load speed settings, restored after the load: no refresh, no fsync per request, no replica.
LOADING_SETTINGS = {"refresh_interval": "-1", "translog.durability": "async", "number_of_replicas": 0}
SERVING_SETTINGS = {"refresh_interval": "1s", "translog.durability": "request"}


def synth_documents(names: store.Names, n_deals: int, n_touches: int, assets: int, seed: int):
    """(index, _id, document) of every deal, touch and credit document, deterministic in the seed."""
    rng = random.Random(seed)
    per_deal = n_touches / n_deals
    for i in range(n_deals):
        deal = synth_deal(i, rng)
        yield names.deals, deal["opportunity_id"], deal
        # Poisson-ish spread around the mean, at least one touch.
        n = max(1, int(rng.expovariate(1 / per_deal) + 0.5))
        touches = synth_touches(deal, n, assets, rng)
        for tid, doc in touches.items():
            yield names.touches, tid, doc
        for cid, doc in credits.credit_documents(deal, touches).items():
            yield names.credits, cid, doc


def ndjson_batches(documents, batch_docs: int):
    """Bulk bodies of `batch_docs` index operations each, encoded once with orjson."""
    lines: list[bytes] = []
    for index, doc_id, doc in documents:
        lines.append(orjson.dumps({"index": {"_index": index, "_id": doc_id}}))
        lines.append(orjson.dumps(doc))
        if len(lines) >= 2 * batch_docs:
            yield len(lines) // 2, b"\n".join(lines) + b"\n"
            lines = []
    if lines:
        yield len(lines) // 2, b"\n".join(lines) + b"\n"


def send_bulk(es, body: bytes, attempts: int = 30) -> None:
    """One bulk request, retried while Elasticsearch is down or pushing back (429)."""
    for attempt in range(attempts):
        try:
            response = es.bulk(operations=body)
        except Exception as exc:  # noqa: BLE001 - retried below when it means "unavailable"
            if not es_util.is_unavailable(exc) or attempt == attempts - 1:
                raise
            time.sleep(min(30.0, 2.0 ** attempt))
            continue
        if not response["errors"]:
            return
        statuses = {item["index"]["status"] for item in response["items"] if item["index"].get("error")}
        if statuses - {429} or attempt == attempts - 1:
            raise RuntimeError(f"bulk rejected: {[i for i in response['items'] if i['index'].get('error')][:2]}")
        time.sleep(min(30.0, 2.0 ** attempt))  # re-sending the whole batch is idempotent (same ids)


def load(es, names: store.Names, n_deals: int, n_touches: int, assets: int, seed: int, replicas: int) -> dict:
    """Bulk-load the synthetic data: orjson-encoded bulk bodies sent by a few threads at once.

    Generating and encoding documents is Python work on this thread; the bulk requests
    wait on Elasticsearch, so LOAD_THREADS of them in flight keep both busy.
    """
    loaded = (names.deals, names.touches, names.credits)
    es.indices.put_settings(index=",".join(loaded), settings={"index": LOADING_SETTINGS})
    client = es.options(request_timeout=300)
    started = time.perf_counter()
    docs, reported = 0, 0
    in_flight: collections.deque = collections.deque()
    with concurrent.futures.ThreadPoolExecutor(LOAD_THREADS) as pool:
        for count, body in ndjson_batches(synth_documents(names, n_deals, n_touches, assets, seed), LOAD_BATCH_DOCS):
            while len(in_flight) >= LOAD_THREADS:
                in_flight.popleft().result()
            in_flight.append(pool.submit(send_bulk, client, body))
            docs += count
            if docs - reported >= 500_000:
                reported = docs
                print(f"  loaded {docs:,} docs in {time.perf_counter() - started:.0f}s", flush=True)
        for future in in_flight:
            future.result()
    es.indices.put_settings(index=",".join(loaded), settings={"index": {**SERVING_SETTINGS, "number_of_replicas": replicas}})
    es.indices.refresh(index=",".join(loaded))
    elapsed = time.perf_counter() - started
    return {"docs": docs, "seconds": elapsed}


def timed(fn, repeat: int, before=None) -> tuple[float, float]:
    fn()  # warm-up (global ordinals, page cache)
    runs = []
    for _ in range(repeat):
        if before:
            before()
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), max(runs)


def interleaved(cases, repeat: int, before) -> dict[str, list[float]]:
    """{label: [seconds per round]}: each round times every case once, in order, after a warm-up."""
    for _, fn in cases:
        fn()
    runs: dict[str, list[float]] = {label: [] for label, _ in cases}
    for _ in range(repeat):
        for label, fn in cases:
            before()
            started = time.perf_counter()
            fn()
            runs[label].append(time.perf_counter() - started)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--touches", type=int, default=5_000_000)
    parser.add_argument("--assets", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--namespace", default="benchfb")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--drop", action="store_true")
    parser.add_argument("--skip-markov", action="store_true", help="do not time one run of the background Markov job")
    parser.add_argument("--rebuild-rollups", action="store_true",
                        help="with --skip-load: rebuild the rollups of the existing load (the load always builds them)")
    parser.add_argument("--exact", action="store_true",
                        help="time the reports without the rollups (the exact path over touches and credits)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    settings = config.load(namespace=args.namespace, es_request_timeout_s=300.0)
    es = es_util.client(settings)
    names = store.Names.of(settings)
    if not args.skip_load:
        for alias in (names.deals, names.touches, names.credits, names.markov, names.rollups):
            for index in es_util.concrete_indices(es, alias):
                es.indices.delete(index=index)
    store.ensure(es, settings, names)
    if not args.skip_load:
        print(f"loading {args.deals:,} deals and ~{args.touches:,} touches over {args.assets:,} assets ...", flush=True)
        stats = load(es, names, args.deals, args.touches, args.assets, args.seed, settings.es_replicas)
        print(f"loaded {stats['docs']:,} docs in {stats['seconds']:.0f}s ({stats['docs'] / stats['seconds']:,.0f} docs/s)")
    if not args.skip_load or args.rebuild_rollups:
        started = time.perf_counter()
        built = rollups.rebuild(settings, es, names)  # the service's own rebuild (rollups --rebuild)
        print(f"rollups rebuilt: {built:,} documents in {time.perf_counter() - started:.0f}s")
    touches = es.count(index=names.touches)["count"]
    deals = es.count(index=names.deals)["count"]
    credit_docs = es.count(index=names.credits)["count"]
    size_mb = sum(s["primaries"]["store"]["size_in_bytes"] for s in
                  es.indices.stats(index=f"{names.deals},{names.touches},{names.credits}")["indices"].values()) / 1e6
    print(f"indexed: {deals:,} deals, {touches:,} touches, {credit_docs:,} credit documents, {size_mb:,.0f} MB on disk")

    rollup_docs = es.count(index=names.rollups)["count"]
    print(f"rollups: {rollup_docs:,} documents, {'complete' if rollups.ready(es, names) else 'NOT complete'}"
          f"{' (not used: --exact)' if args.exact else ''}")
    rep = reports.Reports(es, settings, names)
    if args.exact:
        rep.rollups_cover = lambda filters, timeout_s=None: False  # type: ignore[method-assign]
    year = reports.Filters(start=datetime(2024, 7, 1, tzinfo=timezone.utc), end=datetime(2025, 7, 1, tzinfo=timezone.utc))
    seg = reports.Filters(start=year.start, end=year.end, segment={"industry": ["healthcare", "finance"], "region": ["emea"]})
    month = reports.Filters(start=datetime(2025, 3, 1, tzinfo=timezone.utc), end=datetime(2025, 4, 1, tzinfo=timezone.utc),
                            segment={"industry": ["healthcare"]})
    some_assets = [f"asset-{i:05d}" for i in range(10)]
    cases = [
        ("baseline: one terms agg (asset_id) over all touches",
         lambda: es.search(index=names.touches, size=0, track_total_hits=False,
                           aggs={"a": {"terms": {"field": "asset_id", "size": args.assets}}})),
        ("ListAssetWinRates, all deals, all assets", lambda: rep.win_rates(reports.Filters())),
        ("ListAssetWinRates, 12-month close range", lambda: rep.win_rates(year)),
        ("ListAssetWinRates, 12 months + industry + region", lambda: rep.win_rates(seg)),
        ("GetWinRates, 10 assets (incl. rep-adjusted MH)",
         lambda: rep.rep_adjusted(reports.Filters(), rep.win_rates(reports.Filters(), some_assets)[1])),
        ("GetAttribution, one month, one industry", lambda: rep.attribution(month, 7.0)),
        ("GetAttribution, 12 months, all segments", lambda: rep.attribution(year, 7.0)),
        ("GetAttribution, all deals, all segments", lambda: rep.attribution(reports.Filters(), 7.0)),
    ]

    def clear_request_cache() -> None:
        # Size-0 aggregations are served from the shard request cache when nothing changed;
        # in production every refresh (each second while the consumer writes) invalidates it.
        es.indices.clear_cache(index=f"{names.deals},{names.touches},{names.credits},{names.rollups}", request=True)

    # Rounds interleave every case with the baseline, so a burst of load on this shared
    # machine slows the baseline and the reports alike instead of skewing their ratio.
    runs = interleaved(cases, args.repeat, clear_request_cache)
    results = []
    for label, _ in cases:
        median, worst = statistics.median(runs[label]), max(runs[label])
        results.append((label, median, worst))
        print(f"{label:55s} median {median * 1000:9.1f} ms   max {worst * 1000:9.1f} ms  (request cache cleared)",
              flush=True)
    for label, fn in cases[1:3]:
        median, _ = timed(fn, args.repeat)
        print(f"{label:55s} median {median * 1000:9.1f} ms  (request cache warm)", flush=True)
    base = results[0][1]
    print("\nratio to the bare terms aggregation in this run (median; targets: ListAssetWinRates <= 2, "
          "GetAttribution 12 months <= 3):")
    for label, median, _ in results[1:]:
        print(f"  {label:55s} ratio to bare terms aggregation {median / base:.3f}")
    for label, f in (("one month, one industry", month), ("12 months, all segments", year)):
        table = rep.attribution(f, 7.0)
        print(f"(attribution {label}: {table.won_deals:,} won deals, {len(table.assets):,} assets credited)")
    if not args.skip_markov:
        started = time.perf_counter()
        written = markov.MarkovJob(settings, es).publish(as_of=datetime(2025, 7, 1, tzinfo=timezone.utc))
        print(f"background Markov job: {written} scopes in {time.perf_counter() - started:.1f} s (once, not timed "
              f"against the baseline)")
    if args.drop:
        for alias in dataclasses.astuple(names):
            for index in es_util.concrete_indices(es, alias):
                es.indices.delete(index=index)


if __name__ == "__main__":
    main()
