"""Content service benchmark: search latency under concurrency, and import rate.

    .venv/bin/python bench/content_search.py                 # 5,000 assets, 16 clients, 30 s
    .venv/bin/python bench/content_search.py --assets 100000 --record

1. Loads N synthetic assets (title, description, ~120 words of body text, facets and
   ranking signals) straight into a fresh namespace's index with bulk requests (the
   search dataset; loading 100k through the API would measure the importer, not search).
2. Starts `python -m services.content` as a separate process and measures, in interleaved
   rounds over --duration seconds each, with --clients threads (1-2 word queries, a filter on
   every other query, all sorts, facets, highlights, typo tolerance and signal ranking on):
   - the baseline: a bare `multi_match` over the same text fields straight to Elasticsearch;
   - the full search straight to Elasticsearch (`Store.search_assets`, what SearchAssets sends);
   - SearchAssets through gRPC.
   It prints p50/p90/p99 latency and searches/s of each, and the ratios the target is set in:
   `full / bare-match throughput: X.XX` and `full / bare-match p50: X.XX`.
3. --levers: also the search as one request (the design before: typo tolerance on every
   query, function_score, facets and an exact total in the hits request) and the full search
   without each part, so the cost of each part shows in the same run.
4. Import rate: --import-assets 1-page PDFs through `services.content.importer` (gRPC,
   sandboxed text extraction, S3, index, catalog events) with --import-workers workers,
   in batches of --import-batch (ImportAssets, one refresh at the end): `import: X.X assets/s`;
   then, as the reference in the same run, as many other PDFs row by row through the
   single-asset RPCs (every write waits for a refresh). --import-only skips 1-3.
5. Relevance of the same search code on the judged set (`services.content.relevance`, its
   own scratch index): `nDCG@10 with signals: X.XXX` and `nDCG@10 text only: X.XXX`, so a
   speed change that costs ranking shows in the same output (--no-relevance skips it).
The namespace's index is deleted at the end (unless --keep); --reuse NAMESPACE searches a
kept one instead of loading a new dataset (pass the same --assets and --vocabulary).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "gen" / "python")]

from collateral.v1 import content_pb2, content_pb2_grpc  # noqa: E402
from services.common import auth, config, grpc_server  # noqa: E402
from services.common import es as es_common  # noqa: E402
from services.content import importer, model, relevance, store  # noqa: E402

WORDS = ("pricing roi security compliance onboarding migration analytics forecast pipeline renewal expansion "
         "integration cloud platform healthcare retail banking insurance manufacturing logistics energy telecom "
         "automation governance dashboard benchmark churn adoption playbook objection competitor battlecard "
         "discovery demo proposal contract procurement legal finance cfo cio ciso vp director operations "
         "marketing sales enablement partner channel reseller quota territory account executive champion "
         "stakeholder budget timeline risk value outcome metric kpi latency uptime scalability api sdk mobile").split()
SYLLABLES = "ka lo mi ne ru sa ti vo ze pa de fi gu ho ja".split()
VOCABULARY = list(WORDS) + sorted({a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES})[:3000]
_ZIPF = [1.0 / (rank + 1) for rank in range(len(VOCABULARY))]
INDUSTRIES = ["healthcare", "retail", "banking", "insurance", "manufacturing", "energy", "telecom", "public"]
REGIONS = ["emea", "amer", "apac", "latam"]
PRODUCTS = ["Core", "Analytics", "Connect", "Guard"]
PERSONAS = ["CFO", "CIO", "CISO", "VP Sales", "Ops"]
TYPES = list(model.TYPE_NAMES.values())
STAGES = list(model.STAGE_NAMES.values())


def words(rng: random.Random, n: int) -> str:
    """n words; with --vocabulary zipf (default) drawn from ~3,100 words by a Zipf law, as in
    real text, so common words match many assets and rare ones few; with --vocabulary small
    from 90 words only (the worst case: every query matches nearly every asset)."""
    if SMALL_VOCABULARY:
        return " ".join(rng.choice(WORDS) for _ in range(n))
    return " ".join(rng.choices(VOCABULARY, weights=_ZIPF, k=n))


SMALL_VOCABULARY = False


def synthetic_doc(i: int, rng: random.Random) -> dict:
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    doc = {
        "asset_id": f"bench-{i:07d}", "external_id": "", "title": words(rng, 4).title(),
        "description": words(rng, 20), "type": rng.choice(TYPES), "tags": rng.sample(WORDS, 3),
        "products": rng.sample(PRODUCTS, 1), "buying_stages": rng.sample(STAGES, 2), "personas": rng.sample(PERSONAS, 2),
        "industries": rng.sample(INDUSTRIES, 2), "regions": rng.sample(REGIONS, 1), "language": "en",
        "owner": f"marketer-{i % 20}", "status": "published" if i % 10 else "draft", "expires_at": None,
        "created_at": now, "updated_at": now, "published_at": now, "version": 1, "files": [],
        "body": words(rng, 120), "page_count": 4,
        "signals": {"usage_score": rng.random() * 100, "win_rate_lower": rng.random() * 0.6,
                    "deals_closed": rng.randint(0, 80)},
    }
    return store.indexable(doc)


def load(settings: config.Settings, n: int) -> float:
    index = store.Store(settings)
    index.ensure()
    rng = random.Random(7)
    started = time.perf_counter()
    batch = []
    for i in range(n):
        doc = synthetic_doc(i, rng)
        batch.append({"action": {"index": {"_index": index.alias, "_id": doc["asset_id"]}}, "source": doc})
        if len(batch) == 1000:
            _bulk_retrying(index, batch)
            batch = []
    _bulk_retrying(index, batch)
    index.es.indices.refresh(index=index.alias)
    return n / (time.perf_counter() - started)


def _bulk_retrying(index: store.Store, batch: list) -> None:
    """The shared stack may restart Elasticsearch under us: wait and retry (ids are stable)."""
    from services.common import errors

    for attempt in range(60):
        try:
            es_common.bulk(index.es, batch, timeout_s=120)
            return
        except errors.Unavailable:
            print("  Elasticsearch unavailable, retrying the batch", flush=True)
            time.sleep(min(10, 1 + attempt))
    raise RuntimeError("Elasticsearch stayed unavailable")


def requests(rng: random.Random, count: int) -> list[content_pb2.SearchAssetsRequest]:
    out = []
    for i in range(count):
        filters = content_pb2.SearchFilters()
        if i % 2:
            filters.industries.append(rng.choice(INDUSTRIES))
        if i % 5 == 0:
            filters.buying_stages.append(rng.choice(list(model.STAGE_NAMES)))
        out.append(content_pb2.SearchAssetsRequest(query=words(rng, rng.choice((1, 2))), filters=filters,
                                                   sort=rng.choice((0, 0, 0, 2, 3, 4)), page_size=20))
    return out


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def hammer(clients: int, duration: float, call) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def worker(k: int) -> None:
        rng = random.Random(k)
        local = []
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                call(rng)
                local.append(time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001 - counted, the first one shown
                with lock:
                    errors[0] += 1
                    if errors[0] == 1:
                        print(f"  first error: {exc!r}"[:300], flush=True)
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0]


def make_pdf(text: str) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def import_rate(address: str, settings: config.Settings, n: int, workers: int, batch_size: int, prefix: str
                ) -> tuple[float, dict]:
    """Assets/s of importing n new 1-page PDFs (ids `prefix`-i) with the real importer."""
    rng = random.Random(f"{prefix}-{n}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lines = ["path,external_id,title,type,tags,industries,status"]
        for i in range(n):
            (folder / f"f{i}.pdf").write_bytes(make_pdf(words(rng, 30)))
            lines.append(f"f{i}.pdf,{prefix}-{i},{words(rng, 3)},deck,{rng.choice(WORDS)},"
                         f"{rng.choice(['healthcare', 'retail', 'manufacturing'])},published")
        (folder / "metadata.csv").write_text("\n".join(lines) + "\n")
        token = auth.mint(settings, "bench", auth.Role.ADMIN)
        started = time.perf_counter()
        summary = importer.run(folder, folder / "metadata.csv", address, token, workers=workers, show_progress=False,
                               batch_size=batch_size)
        return n / (time.perf_counter() - started), dict(summary.outcomes)


@dataclass
class Phase:
    """One way of searching, measured in every round: latencies and the seconds it ran."""

    name: str
    call: Callable[[random.Random], None]
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / max(1e-9, self.seconds)

    def line(self) -> str:
        return (f"- {self.name}: p50 {percentile(self.latencies, 50):.1f} ms, p90 {percentile(self.latencies, 90):.1f} ms, "
                f"p99 {percentile(self.latencies, 99):.1f} ms, {self.rate:.1f} searches/s, errors {self.errors}")


def run_rounds(phases: list[Phase], clients: int, duration: float, rounds: int) -> None:
    """Each phase runs duration/rounds seconds per round, phases interleaved, so a change in
    the machine's load (other work on the same cores) affects them alike."""
    for _ in range(rounds):
        for phase in phases:
            started = time.perf_counter()
            latencies, errors = hammer(clients, duration / rounds, phase.call)
            phase.seconds += time.perf_counter() - started
            phase.latencies += latencies
            phase.errors += errors


def request_filters(r: content_pb2.SearchAssetsRequest) -> dict[str, list[str]]:
    """The filters of a request as the service passes them to the store."""
    filters = {}
    if r.filters.industries:
        filters["industry"] = list(r.filters.industries)
    if r.filters.buying_stages:
        filters["buying_stage"] = [model.STAGE_NAMES[s] for s in r.filters.buying_stages]
    return filters


def bare_match_body(query: str) -> dict:
    """The baseline: one `multi_match` over the same text fields, the same page size and source."""
    return {"query": {"multi_match": {"query": query, "fields": store.TEXT_FIELDS}}, "size": 20,
            "_source": {"excludes": store.SOURCE_EXCLUDES}}


def one_request_body(query: str, filters: dict, sort: str) -> dict:
    """The search as one request, as it was before: typo tolerance on every query, signals
    through function_score around the query, facets and an exact total in the hits request."""
    hits = store.build_search(query, filters, False, sort, 20, signals=False, fuzzy=True)
    counts = store.build_counts(query, filters, False, fuzzy=True)
    factor = store.signal_factor()["function_score"]
    body = dict(hits, query={"function_score": dict(factor, query={"bool": {
        "must": [store.text_query(query, fuzzy=True)], "filter": store.visibility_filter(False)}},
        boost_mode="multiply")}, track_total_hits=True, aggs=counts.get("aggs", {}))
    body["sort"] = store.SORTS.get(sort, ["_score", {"asset_id": "asc"}])
    if sort != store.RELEVANCE:
        body["track_scores"] = True
    if "post_filter" in counts:
        body["post_filter"] = counts["post_filter"]
    return body


def lever_phases(index: store.Store, pool: list) -> list[Phase]:
    """The design before, and the full search without one part each (straight to Elasticsearch)."""

    def full_with(**options) -> Callable[[random.Random], None]:
        def call(rng: random.Random) -> None:
            r = rng.choice(pool)
            index.search_assets(r.query, request_filters(r), False, server_sort(r.sort), 20, **options)
        return call

    def before(rng: random.Random) -> None:
        r = rng.choice(pool)
        index.search(one_request_body(r.query, request_filters(r), server_sort(r.sort)))

    def without_highlights(rng: random.Random) -> None:
        r = rng.choice(pool)
        query, filters, sort = r.query, request_filters(r), server_sort(r.sort)
        hits = store.build_search(query, filters, False, sort, 20)
        hits.pop("highlight", None)
        index._msearch([(None, hits), (None, store.build_counts(query, filters, False))])

    return [
        Phase("before: one request (typo tolerance always, function_score, facets and exact total with the hits)",
              before),
        Phase("full, typo tolerance on every query (no exact-first)", full_with(fuzzy=True)),
        Phase("full, without facets", full_with(facets=False)),
        Phase("full, without signal rescore", full_with(signals=False)),
        Phase("full, without highlights", without_highlights),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds each search phase runs in all")
    parser.add_argument("--rounds", type=int, default=6, help="interleaved rounds the search phases are split into")
    parser.add_argument("--levers", action="store_true", help="also measure the design before and each part's cost")
    parser.add_argument("--import-assets", type=int, default=200)
    parser.add_argument("--import-workers", type=int, default=16,
                        help="importer workers: concurrent ImportAssets calls, and concurrent rows of the reference")
    parser.add_argument("--import-batch", type=int, default=importer.DEFAULT_BATCH, help="rows per ImportAssets call")
    parser.add_argument("--import-only", action="store_true", help="measure only the import rates (step 4)")
    parser.add_argument("--vocabulary", choices=["zipf", "small"], default="zipf",
                        help="text of the synthetic assets (see words())")
    parser.add_argument("--no-relevance", action="store_true", help="skip the nDCG@10 of the judged set (step 5)")
    parser.add_argument("--record", action="store_true", help="append the results to bench/RESULTS.md")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark index (its namespace is printed)")
    parser.add_argument("--reuse", metavar="NAMESPACE", help="search the index kept by an earlier --keep run")
    args = parser.parse_args()
    global SMALL_VOCABULARY
    SMALL_VOCABULARY = args.vocabulary == "small"

    namespace = args.reuse or f"bench{uuid.uuid4().hex[:6]}"
    settings = config.load(namespace=namespace, s3_bucket=f"{namespace}-files", log_format="text")
    port = 50000 + random.randint(1000, 5000)
    if args.import_only:
        args.assets = 0
    load_rate = 0.0
    if args.reuse:
        reused = store.Store(settings)
        args.assets = reused.es.count(index=reused.alias)["count"]
        print(f"namespace {namespace}: searching the kept index ({args.assets} assets)", flush=True)
    else:
        print(f"namespace {namespace}: loading {args.assets} assets ...", flush=True)
        try:
            load_rate = load(settings, args.assets)
        except BaseException:
            _drop(settings)
            raise
        print(f"  bulk load: {load_rate:.0f} docs/s")
    env = dict(os.environ, COLLATERAL_NAMESPACE=namespace, COLLATERAL_S3_BUCKET=settings.s3_bucket,
               COLLATERAL_GRPC_PORT=str(port), COLLATERAL_METRICS_PORT=str(port + 1000), COLLATERAL_LOG_LEVEL="WARNING")
    server = subprocess.Popen([sys.executable, "-m", "services.content"], cwd=ROOT, env=env)
    address = f"127.0.0.1:{port}"
    phases: list[Phase] = []
    levers: list[Phase] = []
    fallback_share = 0.0
    try:
        sys.path.insert(0, str(ROOT))
        from tests.conftest import wait_serving

        wait_serving(address, "collateral.v1.ContentService", timeout_s=60)
        channel = grpc_server.channel(address)
        stub = content_pb2_grpc.ContentServiceStub(channel)
        metadata = auth.bearer_metadata(auth.mint(settings, "bench-rep", auth.Role.REP))
        pool = requests(random.Random(3), 5000)
        index = store.Store(settings)
        for r in pool[:50]:  # warm up
            stub.SearchAssets(r, metadata=metadata, timeout=30)
        fallback_share = sum(index.search_assets(r.query, request_filters(r), False, server_sort(r.sort), 20).fuzzy
                             for r in pool[:200]) / 200

        def full(rng: random.Random) -> None:
            r = rng.choice(pool)
            index.search_assets(r.query, request_filters(r), False, server_sort(r.sort), 20)

        phases = [
            Phase("bare multi_match over the same fields, straight to Elasticsearch",
                  lambda rng: index.search(bare_match_body(rng.choice(pool).query))),
            Phase("full search (what SearchAssets sends), straight to Elasticsearch", full),
            Phase("SearchAssets via gRPC", lambda rng: stub.SearchAssets(rng.choice(pool), metadata=metadata, timeout=30)),
        ]
        levers = lever_phases(index, pool) if args.levers else []
        load_before = os.getloadavg()[0]
        duration = 0.0 if args.import_only else args.duration
        if duration:
            run_rounds(phases + levers, args.clients, duration, max(1, args.rounds))
        load_after = os.getloadavg()[0]
        rate, outcomes, single_rate, single_outcomes, import_load = 0.0, {}, 0.0, {}, (0.0, 0.0)
        if args.import_assets:
            import_started = os.getloadavg()[0]
            rate, outcomes = import_rate(address, settings, args.import_assets, args.import_workers,
                                         args.import_batch, "bulk")
            print(f"import: {rate:.1f} assets/s", flush=True)
            single_rate, single_outcomes = import_rate(address, settings, args.import_assets, args.import_workers,
                                                       0, "single")
            import_load = (import_started, os.getloadavg()[0])
        channel.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        if args.keep or args.reuse:
            print(f"index kept: --reuse {namespace}")
        else:
            _drop(settings)

    lines = []
    if not args.import_only:
        bare, full_search, grpc_search = phases
        lines = [
            f"- assets: {args.assets} ({args.assets * 9 // 10} published), vocabulary: {args.vocabulary}, "
            f"clients: {args.clients}, {args.duration:.0f} s per search phase in {args.rounds} interleaved rounds",
            *(phase.line() for phase in phases),
            f"- typo-tolerant fallback ran for {fallback_share:.0%} of the queries",
            *(phase.line() for phase in levers),
            f"full / bare-match throughput: {full_search.rate / max(1e-9, bare.rate):.2f}",
            f"full / bare-match p50: {percentile(full_search.latencies, 50) / percentile(bare.latencies, 50):.2f}",
            f"SearchAssets via gRPC / bare-match throughput: {grpc_search.rate / max(1e-9, bare.rate):.2f}",
            f"SearchAssets via gRPC / bare-match p50: "
            f"{percentile(grpc_search.latencies, 50) / percentile(bare.latencies, 50):.2f}",
            f"- machine load average (1 min) before/after the search phases: {load_before:.1f} / {load_after:.1f} "
            f"on {os.cpu_count()} cores",
        ]
        if load_rate:
            lines.append(f"- bulk load straight to the index (dataset setup): {load_rate:.0f} docs/s")
    if args.import_assets:
        lines += [
            f"- import: {rate:.1f} assets/s (importer, ImportAssets batches of {args.import_batch}, "
            f"{args.import_workers} workers, {args.import_assets} 1-page PDFs: {outcomes})",
            f"- reference, the single path in the same run: {single_rate:.1f} assets/s (row by row, "
            f"{args.import_workers} workers: {single_outcomes})",
            f"- machine load average (1 min) before/after the import phase: {import_load[0]:.1f} / "
            f"{import_load[1]:.1f} on {os.cpu_count()} cores",
        ]
    if not (args.no_relevance or args.import_only):
        reports = relevance.measure(relevance.scratch_settings(settings), relevance.load_set(relevance.DEFAULT_SET),
                                    rankings=("service", "text only"))
        lines += [f"nDCG@10 with signals: {reports['service'].ndcg:.3f}",
                  f"nDCG@10 text only: {reports['text only'].ndcg:.3f}",
                  f"- judged set: {relevance.DEFAULT_SET.relative_to(ROOT)}, zero-result rate "
                  f"{reports['service'].zero_result_rate:.1%}"]
    print("\n".join(lines))
    if args.record:
        when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        command = "bench/content_search.py " + " ".join(sys.argv[1:])
        with (ROOT / "bench" / "RESULTS.md").open("a") as out:
            out.write(f"\n### content search, {when}\n\n`.venv/bin/python {command.strip()}` "
                      f"(2-core shared machine, minimal Elasticsearch, local stack)\n\n" + "\n".join(lines) + "\n")


def _drop(settings: config.Settings) -> None:
    es = es_common.client(settings)
    es.options(ignore_status=404).indices.delete(index=f"{settings.index(store.ALIAS_NAME)}-*")


def server_sort(value: int) -> str:
    from services.content.server import SORT_NAMES

    return SORT_NAMES[value]


if __name__ == "__main__":
    main()
