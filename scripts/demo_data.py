"""Loads a demo data set through the public APIs: what `./dev up` shows in the portal.

A few hundred assets with real PDF files (text inside, so search finds words in them),
portal users (reps, a marketer, an admin), accounts and opportunities with outcomes, and a
few thousand usage events tied to them. Everything has a deterministic id, so running it
twice changes nothing. Some assets help win more often than others, so the win-rate and
attribution reports have a story to tell.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from tqdm import tqdm

from collateral.v1 import (
    common_pb2,
    content_pb2,
    content_pb2_grpc,
    feedback_pb2,
    feedback_pb2_grpc,
    usage_pb2,
    usage_pb2_grpc,
)
from services.common import auth, cli, config, grpc_server

SEED = 20261123
DEMO_PASSWORD = "demo-password"
INDUSTRIES = ["healthcare", "financial-services", "manufacturing", "retail", "software", "public-sector"]
REGIONS = ["na", "emea", "apac", "latam"]
PRODUCTS = ["analytics", "platform", "security", "integrations"]
PERSONAS = ["cfo", "cio", "vp-sales", "it-admin", "procurement", "end-user"]
TEAMS = ["enterprise", "mid-market", "smb"]
TOPICS = [
    ("Reducing churn", "retention cohorts renewal playbook churn signals"),
    ("Security review", "soc2 encryption audit compliance questionnaire"),
    ("ROI of analytics", "payback period savings productivity forecast"),
    ("Migration guide", "cutover rollback data migration timeline"),
    ("Competitive comparison", "competitor pricing feature gaps differentiation"),
    ("Customer story", "implementation results testimonial adoption"),
    ("Onboarding plan", "kickoff training success milestones adoption"),
    ("Integration overview", "api webhooks connectors salesforce hubspot"),
    ("Pricing and packaging", "tiers discounts licensing procurement"),
    ("Executive briefing", "strategy board priorities transformation"),
]
TYPES = [t for t in content_pb2.AssetType.values() if t != content_pb2.ASSET_TYPE_UNSPECIFIED]
STAGES = [s for s in common_pb2.BuyingStage.values() if s != common_pb2.BUYING_STAGE_UNSPECIFIED]


def pdf_bytes(title: str, body: str, pages: int) -> bytes:
    """A real PDF with text on every page (reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    for page in range(1, pages + 1):
        pdf.setFont("Helvetica-Bold", 22)
        pdf.drawString(60, 760, title[:60])
        pdf.setFont("Helvetica", 12)
        y = 720
        for line in (body + f" Page {page} of {pages}.").split(". "):
            pdf.drawString(60, y, line[:90])
            y -= 18
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def ts(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


class Demo:
    def __init__(self, settings: config.Settings, assets: int, deals: int, events: int) -> None:
        self.settings = settings
        self.rng = random.Random(SEED)
        self.n_assets, self.n_deals, self.n_events = assets, deals, events
        self.now = datetime.now(timezone.utc).replace(microsecond=0)
        self.reps = [f"rep{i:02d}@demo.local" for i in range(1, 21)]
        self.rep_team = {rep: TEAMS[i % len(TEAMS)] for i, rep in enumerate(self.reps)}
        self.rep_region = {rep: REGIONS[i % len(REGIONS)] for i, rep in enumerate(self.reps)}
        self._events_planned = 0
        self.admin = auth.bearer_metadata(auth.mint(settings, "demo-loader", "admin"))
        self.service = auth.bearer_metadata(auth.mint(settings, "demo-loader", "service"))

    # ---- assets ------------------------------------------------------------------------
    def load_assets(self) -> list[tuple[str, float]]:
        """Create and publish the assets; returns (asset_id, how much it helps win)."""
        stub = content_pb2_grpc.ContentServiceStub(grpc_server.channel(self.settings.content_addr, self.settings))
        plan = [self._asset_plan(i) for i in range(1, self.n_assets + 1)]
        # Every write waits for the index refresh (about a second): run them side by side.
        with ThreadPoolExecutor(max_workers=16) as pool, tqdm(total=len(plan), desc="assets", unit="asset") as bar:
            for _ in pool.map(lambda item: self._create_asset(stub, *item), plan):
                bar.update(1)
        return [(asset_id, lift) for asset_id, lift, *_ in plan]

    def _asset_plan(self, i: int) -> tuple[str, float, int, content_pb2.Asset, bytes]:
        topic, words = TOPICS[i % len(TOPICS)]
        industry = INDUSTRIES[i % len(INDUSTRIES)]
        asset_type = TYPES[i % len(TYPES)]
        type_name = content_pb2.AssetType.Name(asset_type).removeprefix("ASSET_TYPE_").replace("_", " ").lower()
        title = f"{topic} for {industry.replace('-', ' ')} ({type_name} {i})"
        body = (f"{title}. This {type_name} explains {words}. Written for {PERSONAS[i % len(PERSONAS)]} buyers "
                f"in {industry}. Covers {PRODUCTS[i % len(PRODUCTS)]} and {words.split()[0]} outcomes")
        lift = self.rng.choice([-0.15, 0.0, 0.0, 0.1, 0.25])
        expires = self.now + timedelta(days=365) if i % 37 else self.now - timedelta(days=3)
        asset = content_pb2.Asset(
            title=title,
            description=f"{topic}: {words}.",
            type=asset_type,
            tags=words.split()[:3],
            products=[PRODUCTS[i % len(PRODUCTS)]],
            buying_stages=[STAGES[i % len(STAGES)], STAGES[(i + 2) % len(STAGES)]],
            personas=[PERSONAS[i % len(PERSONAS)]],
            industries=[industry],
            regions=[REGIONS[i % len(REGIONS)]],
            language="en",
            owner="marketer@demo.local",
            expires_at=ts(expires),
            external_id=f"demo:{i}",
        )
        return f"demo-asset-{i:03d}", lift, i, asset, pdf_bytes(title, body, pages=1 + i % 4)

    def _create_asset(self, stub: Any, asset_id: str, _lift: float, i: int, asset: content_pb2.Asset,
                      content: bytes) -> None:
        """Create, then publish (most), retire (a few) or leave as draft (a few); re-runs are no-ops."""
        try:
            stub.CreateAsset(
                content_pb2.CreateAssetRequest(
                    asset_id=asset_id, asset=asset, file_content=content, file_name=f"{asset_id}.pdf",
                    content_type="application/pdf", sha256=hashlib.sha256(content).hexdigest()),
                metadata=self.admin, timeout=60)
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise
            return
        if i % 23 == 0:
            return  # left as a draft
        stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=asset_id), metadata=self.admin, timeout=30)
        if i % 41 == 0:
            stub.RetireAsset(content_pb2.RetireAssetRequest(asset_id=asset_id), metadata=self.admin, timeout=30)

    # ---- deals and usage ------------------------------------------------------------------
    def plan_deals(self, assets: list[tuple[str, float]]) -> tuple[list[dict[str, Any]], list[usage_pb2.UsageEvent]]:
        """Opportunities with outcomes, and the usage events that touched them."""
        used = assets[: int(len(assets) * 0.6)]  # the rest is never used: the unused report has a story
        deals: list[dict[str, Any]] = []
        events: list[usage_pb2.UsageEvent] = []
        for d in range(1, self.n_deals + 1):
            rep = self.reps[d % len(self.reps)]
            created = self.now - timedelta(days=self.rng.randint(20, 200))
            touched = self.rng.sample(used, k=self.rng.randint(0, 6))
            p_win = 0.3 + sum(lift for _, lift in touched) / max(1, len(touched)) + (0.05 if d % 5 == 0 else 0)
            closed = created + timedelta(days=self.rng.randint(10, 90))
            stage = "open" if closed > self.now - timedelta(days=2) else ("won" if self.rng.random() < p_win else "lost")
            deal = {
                "opportunity_id": f"demo-opp-{d:04d}",
                "account_id": f"demo-acct-{d % 120:03d}",
                "owner_rep_id": rep,
                "stage": stage,
                "amount": float(self.rng.choice([12_000, 25_000, 48_000, 90_000, 150_000])),
                "currency": "USD",
                "created_at": created,
                "closed_at": closed if stage != "open" else None,
                "industry": INDUSTRIES[d % len(INDUSTRIES)],
                "region": self.rep_region[rep],
                "team": self.rep_team[rep],
            }
            deals.append(deal)
            for asset_id, _ in touched:
                end = min(closed, self.now)
                for kind in self.rng.sample(["view", "download", "share", "customer_open"], k=self.rng.randint(1, 3)):
                    when = created + (end - created) * self.rng.random()
                    events.append(self._event(kind, asset_id, rep, when, deal))
        # Usage outside any deal (browsing), until the requested number of events.
        while len(events) < self.n_events:
            asset_id, _ = self.rng.choice(used)
            rep = self.rng.choice(self.reps)
            events.append(self._event(self.rng.choice(["view", "view", "download"]), asset_id, rep,
                                      self.now - timedelta(days=self.rng.randint(0, 120)), None))
        return deals, events

    def _event(self, kind: str, asset_id: str, rep: str, when: datetime, deal: dict[str, Any] | None) -> usage_pb2.UsageEvent:
        # The n-th planned event is the same logical event on every run (seeded plan), so its id is n.
        self._events_planned += 1
        event_id = f"demo-event-{self._events_planned:06d}"
        event = usage_pb2.UsageEvent(
            event_id=event_id, type=usage_pb2.UsageEventType.Value(f"USAGE_EVENT_TYPE_{kind.upper()}"),
            asset_id=asset_id, rep_id=rep, occurred_at=ts(when), channel="portal",
            team=self.rep_team[rep], region=self.rep_region[rep])
        if deal:
            event.opportunity_id = deal["opportunity_id"]
            event.account_id = deal["account_id"]
        if kind == "customer_open":
            event.user_agent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"
            event.channel = "share-link"
        return event

    def load_events(self, events: list[usage_pb2.UsageEvent]) -> None:
        stub = usage_pb2_grpc.UsageServiceStub(grpc_server.channel(self.settings.usage_addr, self.settings))
        with tqdm(total=len(events), desc="usage events", unit="event") as bar:
            for start in range(0, len(events), 500):
                batch = events[start:start + 500]
                stub.RecordEvents(usage_pb2.RecordEventsRequest(events=batch), metadata=self.service, timeout=60)
                bar.update(len(batch))

    def load_deals(self, deals: list[dict[str, Any]]) -> None:
        stub = feedback_pb2_grpc.FeedbackServiceStub(grpc_server.channel(self.settings.feedback_addr, self.settings))
        outcomes = []
        for deal in deals:
            updated = deal["closed_at"] or deal["created_at"]
            outcome = feedback_pb2.DealOutcome(
                event_id=f"{deal['opportunity_id']}@demo-v1",
                opportunity_id=deal["opportunity_id"], account_id=deal["account_id"],
                owner_rep_id=deal["owner_rep_id"],
                stage=feedback_pb2.DealStage.Value(f"DEAL_STAGE_{deal['stage'].upper()}"),
                amount=deal["amount"], currency=deal["currency"], created_at=ts(deal["created_at"]),
                updated_at=ts(updated), industry=deal["industry"], region=deal["region"], team=deal["team"],
                product_line=PRODUCTS[int(deal["opportunity_id"][-4:]) % len(PRODUCTS)],
                deal_size_band="enterprise" if deal["amount"] >= 90_000 else "mid" if deal["amount"] >= 40_000 else "smb",
            )
            if deal["closed_at"]:
                outcome.closed_at.CopyFrom(ts(deal["closed_at"]))
            if deal["stage"] == "lost":
                outcome.lost_reason = self.rng.choice(["price", "missing security documentation", "competitor",
                                                       "no roi case", "timing"])
            outcomes.append(outcome)
        with tqdm(total=len(outcomes), desc="deal outcomes", unit="deal") as bar:
            for start in range(0, len(outcomes), 500):
                batch = outcomes[start:start + 500]
                stub.RecordDealOutcomes(feedback_pb2.RecordDealOutcomesRequest(outcomes=batch),
                                        metadata=self.service, timeout=60)
                bar.update(len(batch))

    def load_users(self) -> None:
        from services.common import errors
        from services.portal.users import UserStore

        store = UserStore(self.settings)
        people = [(rep, f"Rep {rep[3:5]}", "rep") for rep in self.reps]
        people += [("marketer@demo.local", "Mara Marketer", "marketer"), ("admin@demo.local", "Ada Admin", "admin")]
        for email, name, role in people:
            try:
                store.add(email, name, role, DEMO_PASSWORD)
            except errors.AlreadyExists:
                pass


def _wait_for_services(settings: config.Settings, timeout_s: float) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout_s
    for address in (settings.content_addr, settings.usage_addr, settings.feedback_addr):
        while True:
            try:
                with grpc_server.channel(address, settings) as channel:
                    status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2).status
                if status == health_pb2.HealthCheckResponse.SERVING:
                    break
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"error: service at {address} is not serving after {timeout_s:.0f}s")
            time.sleep(1)


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.demo_data", description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=cli.positive_int, default=300, help="assets with PDF files (default 300)")
    parser.add_argument("--deals", type=cli.positive_int, default=600, help="opportunities with outcomes (default 600)")
    parser.add_argument("--events", type=cli.positive_int, default=4000, help="usage events (default 4000)")
    parser.add_argument("--wait", action="store_true", help="wait up to 5 minutes for the services")
    args = parser.parse_args(list(argv) if argv is not None else None)
    settings = config.load()
    _wait_for_services(settings, 300 if args.wait else 30)
    demo = Demo(settings, args.assets, args.deals, args.events)
    demo.load_users()
    assets = demo.load_assets()
    deals, events = demo.plan_deals(assets)
    demo.load_deals(deals)
    demo.load_events(events)
    print(f"demo data: {len(assets)} assets, {len(deals)} opportunities, {len(events)} usage events, "
          f"{len(demo.reps)} reps. Sign in with password {DEMO_PASSWORD!r} as rep01@demo.local, "
          "marketer@demo.local or admin@demo.local")


if __name__ == "__main__":
    main()
