"""Portal page latency and throughput against the whole local system.

Starts content, usage, feedback, their consumers and the portal in a fresh namespace
(like the end-to-end tests), loads a few real PDFs, signs a rep in, then hammers each
page with N concurrent clients for a fixed time. Baselines measured in the same run:
`/healthz` (waitress + Flask with no backend call) and the same SearchAssets call made
straight over gRPC, so the portal's own overhead on search is the ratio of the two.

    .venv/bin/python bench/portal_pages.py --clients 8 --duration 10 [--record]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "gen" / "python"))

from collateral.v1 import content_pb2, content_pb2_grpc, usage_pb2, usage_pb2_grpc  # noqa: E402
from scripts.local_services import PROCESSES, Supervisor, free_port  # noqa: E402
from services.common import auth, config, grpc_server  # noqa: E402
from services.portal.users import UserStore  # noqa: E402


def make_pdf(title: str, pages: int) -> bytes:
    import io

    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for i in range(pages):
        c.setFont("Helvetica", 14)
        c.drawString(72, 720, f"{title}: page {i + 1}, onboarding results and pricing.")
        c.showPage()
    c.save()
    return buf.getvalue()


class Session:
    """One keep-alive HTTP connection with the signed-in session cookie."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port, self.cookie = port, cookie
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(self, path: str) -> int:
        try:
            self.conn.request("GET", path, headers={"Cookie": self.cookie, "User-Agent": "Mozilla/5.0 bench"})
            response = self.conn.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return 0


def sign_in(port: int, email: str, password: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login")
    r = conn.getresponse()
    html = r.read().decode()
    cookie = r.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token})
    conn.request("POST", "/login", body=body, headers={"Cookie": cookie,
                                                       "Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    r.read()
    assert r.status == 302, f"sign-in failed: {r.status}"
    return r.getheader("Set-Cookie").split(";")[0]


def run(name: str, clients: int, duration: float, make: Callable[[], Callable[[], int]]) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def worker() -> None:
        call = make()
        mine, bad = [], 0
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            status = call()
            mine.append(time.perf_counter() - t0)
            bad += status not in (200, 204)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    q = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000  # noqa: E731
    result = {"name": name, "n": len(latencies), "rps": len(latencies) / duration, "p50": q(0.5), "p95": q(0.95),
              "p99": q(0.99), "errors": errors[0]}
    print(f"{name:28} {result['rps']:7.1f} req/s  p50 {result['p50']:7.1f} ms  p95 {result['p95']:7.1f} ms  "
          f"p99 {result['p99']:7.1f} ms  errors {result['errors']}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--record", action="store_true", help="append the results to bench/RESULTS.md")
    args = parser.parse_args()

    namespace = f"bp{uuid.uuid4().hex[:6]}"
    settings = config.load(namespace=namespace, s3_bucket=f"{namespace}-files")
    ports = {p.name: free_port() for p in PROCESSES}
    env = dict(os.environ, COLLATERAL_NAMESPACE=namespace, COLLATERAL_S3_BUCKET=settings.s3_bucket,
               COLLATERAL_LOG_LEVEL="WARNING", COLLATERAL_PORTAL_PUBLIC_URL=f"http://127.0.0.1:{ports['portal']}")
    sup = Supervisor(Path(tempfile.mkdtemp(prefix="portal-bench-")), base_env=env, ports=ports,
                     metrics_ports={n: free_port() for n in ("content", "usage", "feedback")})
    sup.start(timeout_s=120)
    try:
        marketer = auth.bearer_metadata(auth.mint(settings, "bench-marketer", "marketer"))
        rep_md = auth.bearer_metadata(auth.mint(settings, "bench@example.com", "rep"))
        content = content_pb2_grpc.ContentServiceStub(grpc_server.channel(sup.address("content")))
        ids = []
        for i in range(5):
            asset = content.CreateAsset(content_pb2.CreateAssetRequest(
                asset=content_pb2.Asset(title=f"Bench ROI study {i}", type=content_pb2.ASSET_TYPE_CASE_STUDY,
                                        industries=["healthcare"], buying_stages=[2]),
                file_content=make_pdf(f"Bench {i}", 4), file_name=f"b{i}.pdf", content_type="application/pdf"),
                metadata=marketer, timeout=60).asset
            content.PublishAsset(content_pb2.PublishAssetRequest(asset_id=asset.asset_id), metadata=marketer,
                                 timeout=30)
            ids.append(asset.asset_id)
        UserStore(settings).add("bench@example.com", "Bench Rep", "rep", "bench-password-1", replace=True)
        usage = usage_pb2_grpc.UsageServiceStub(grpc_server.channel(sup.address("usage")))
        token = usage.CreateShareLink(usage_pb2.CreateShareLinkRequest(asset_id=ids[0], opportunity_id="opp-bench"),
                                      metadata=rep_md, timeout=30).token
        port = ports["portal"]
        cookie = sign_in(port, "bench@example.com", "bench-password-1")
        page = lambda path: (lambda: (lambda s: lambda: s.get(path))(Session(port, cookie)))  # noqa: E731
        search_req = content_pb2.SearchAssetsRequest(query="onboarding results", page_size=12)

        def direct() -> Callable[[], int]:
            channel = grpc_server.channel(sup.address("content"))
            stub = content_pb2_grpc.ContentServiceStub(channel)
            return lambda: (stub.SearchAssets(search_req, metadata=rep_md, timeout=30), 200)[1]

        print(f"clients {args.clients}, {args.duration:.0f} s per page", flush=True)
        results = [
            run("/healthz (baseline)", args.clients, args.duration, page("/healthz")),
            run("SearchAssets gRPC (baseline)", args.clients, args.duration, direct),
            run("/search?q=...", args.clients, args.duration, page("/search?q=onboarding+results")),
            run("/assets/<id>", args.clients, args.duration, page(f"/assets/{ids[1]}")),
            run("/s/<token>", args.clients, args.duration, page(f"/s/{token}")),
            run("/s/<token>/pages/2.png", args.clients, args.duration, page(f"/s/{token}/pages/2.png?w=1000")),
        ]
        ratio = results[2]["p50"] / results[1]["p50"] if results[1]["p50"] else float("nan")
        print(f"portal /search p50 / direct SearchAssets p50: {ratio:.2f}")
        if args.record:
            when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            lines = [f"\n### portal pages, {when}\n",
                     f"`.venv/bin/python bench/portal_pages.py --clients {args.clients} --duration "
                     f"{args.duration:g} --record` (2-core shared machine, whole system on the local stack, "
                     f"waitress {settings.portal_threads} threads)\n"]
            lines += [f"- {r['name']}: {r['rps']:.1f} req/s, p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, "
                      f"p99 {r['p99']:.1f} ms, errors {r['errors']}" for r in results]
            lines.append(f"- portal /search p50 / direct SearchAssets p50: {ratio:.2f}\n")
            with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as out:
                out.write("\n".join(lines))
    finally:
        sup.stop()


if __name__ == "__main__":
    main()
