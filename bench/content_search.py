"""Content service benchmark: search latency under concurrency, and import rate.

    .venv/bin/python bench/content_search.py                 # 5,000 assets, 16 clients, 30 s
    .venv/bin/python bench/content_search.py --assets 100000 --record

1. Loads N synthetic assets (title, description, ~120 words of body text, facets and
   ranking signals) straight into a fresh namespace's index with bulk requests (the
   search dataset; loading 100k through the API would measure the importer, not search).
2. Starts `python -m services.content` as a separate process and runs --clients threads
   calling SearchAssets (1-2 word queries, a filter on every other query, all sorts, facets
   and highlighting on) for --duration seconds: p50/p90/p99 latency and searches/s.
3. Baseline in the same run: the same request bodies sent straight to Elasticsearch by the
   same number of threads, so the ratio shows the service's own overhead.
4. Import rate: --import-assets 1-page PDFs through `services.content.importer` (gRPC,
   sandboxed text extraction, S3, index, catalog events) with --import-workers workers,
   in batches of --import-batch (ImportAssets, one refresh at the end): `import: X.X assets/s`;
   then, as the reference in the same run, as many other PDFs row by row through the
   single-asset RPCs (every write waits for a refresh). --import-only skips 1-3.
The namespace's index is deleted at the end (unless --keep).
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
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "gen" / "python")]

from collateral.v1 import content_pb2, content_pb2_grpc  # noqa: E402
from services.common import auth, config, grpc_server  # noqa: E402
from services.common import es as es_common  # noqa: E402
from services.content import importer, model, store  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--import-assets", type=int, default=200)
    parser.add_argument("--import-workers", type=int, default=16,
                        help="importer workers: concurrent ImportAssets calls, and concurrent rows of the reference")
    parser.add_argument("--import-batch", type=int, default=importer.DEFAULT_BATCH, help="rows per ImportAssets call")
    parser.add_argument("--import-only", action="store_true", help="measure only the import rates (step 4)")
    parser.add_argument("--vocabulary", choices=["zipf", "small"], default="zipf",
                        help="text of the synthetic assets (see words())")
    parser.add_argument("--record", action="store_true", help="append the results to bench/RESULTS.md")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark index")
    args = parser.parse_args()
    global SMALL_VOCABULARY
    SMALL_VOCABULARY = args.vocabulary == "small"

    namespace = f"bench{uuid.uuid4().hex[:6]}"
    settings = config.load(namespace=namespace, s3_bucket=f"{namespace}-files", log_format="text")
    port = 50000 + random.randint(1000, 5000)
    if args.import_only:
        args.assets = 0
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
    try:
        sys.path.insert(0, str(ROOT))
        from tests.conftest import wait_serving

        wait_serving(address, "collateral.v1.ContentService", timeout_s=60)
        channel = grpc_server.channel(address)
        stub = content_pb2_grpc.ContentServiceStub(channel)
        metadata = auth.bearer_metadata(auth.mint(settings, "bench-rep", auth.Role.REP))
        pool = requests(random.Random(3), 5000)
        for r in pool[:50]:  # warm up
            stub.SearchAssets(r, metadata=metadata, timeout=30)

        load_before = os.getloadavg()[0]
        duration = 0.0 if args.import_only else args.duration
        latencies, errors = hammer(args.clients, duration,
                                   lambda rng: stub.SearchAssets(rng.choice(pool), metadata=metadata, timeout=30))
        index = store.Store(settings)

        def direct(rng: random.Random) -> None:
            r = rng.choice(pool)
            filters = {}
            if r.filters.industries:
                filters["industry"] = list(r.filters.industries)
            if r.filters.buying_stages:
                filters["buying_stage"] = [model.STAGE_NAMES[s] for s in r.filters.buying_stages]
            index.search(store.build_search(r.query, filters, False, server_sort(r.sort), 20))

        load_after = os.getloadavg()[0]
        base, base_errors = hammer(args.clients, min(duration, 15.0), direct)
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
        if not args.keep:
            _drop(settings)

    qps = len(latencies) / max(1e-9, duration)
    lines = [] if args.import_only else [
        f"- assets: {args.assets} ({args.assets * 9 // 10} published), vocabulary: {args.vocabulary}, "
        f"clients: {args.clients}, duration: {args.duration:.0f} s",
        f"- SearchAssets via gRPC: p50 {percentile(latencies, 50):.1f} ms, p90 {percentile(latencies, 90):.1f} ms, "
        f"p99 {percentile(latencies, 99):.1f} ms, {qps:.0f} searches/s, errors {errors}",
        f"- baseline, same bodies straight to Elasticsearch: p50 {percentile(base, 50):.1f} ms, "
        f"p99 {percentile(base, 99):.1f} ms, {len(base) / min(args.duration, 15.0):.0f} searches/s, errors {base_errors}",
        f"- service / baseline p50 ratio: {percentile(latencies, 50) / max(1e-9, percentile(base, 50)):.2f}",
        f"- bulk load straight to the index (dataset setup): {load_rate:.0f} docs/s",
        f"- machine load average (1 min) before/after the search phase: {load_before:.1f} / {load_after:.1f} "
        f"on {os.cpu_count()} cores",
    ]
    if args.import_assets:
        lines += [
            f"- import: {rate:.1f} assets/s (importer, ImportAssets batches of {args.import_batch}, "
            f"{args.import_workers} workers, {args.import_assets} 1-page PDFs: {outcomes})",
            f"- reference, the single path in the same run: {single_rate:.1f} assets/s (row by row, "
            f"{args.import_workers} workers: {single_outcomes})",
            f"- machine load average (1 min) before/after the import phase: {import_load[0]:.1f} / "
            f"{import_load[1]:.1f} on {os.cpu_count()} cores",
        ]
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
