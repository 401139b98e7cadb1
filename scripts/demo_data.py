"""Loads a demo data set through the services' own entry points: what `./dev up` shows in the portal.

A year of history (planned in `scripts/demo_story.py`): a few hundred assets with real PDF
files (text inside, so search finds words in them) created over the year, a few of them
drafts, retired or expired; portal users (reps in teams and regions, a marketer, an admin);
accounts and opportunities with outcomes and lost reasons; usage that follows each asset's
lifetime, with customer opens and page views on share links (a few of them preview bots);
searches with and without results; content requests. A long tail of the catalog is rarely
or never used, a handful of assets is used a lot, and three of them clearly help win.

Everything has a deterministic id, time and version, so running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import socket
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
from scripts import demo_story
from scripts.demo_story import INDUSTRIES, PERSONAS, PRODUCTS, REGIONS  # noqa: F401 - the demo's codes, used by tests
from services.common import audit, auth, cli, config, grpc_server, kafka_io, topics
from services.common.contracts import times
from services.content import publish as content_publish, store as content_store

DEMO_PASSWORD = "demo-password"
AUDIT_ACTOR = audit.system_actor("scripts.demo_data")
# CRM display names: account k is "<ACCOUNT_BASES[k // 6]> <its industry's suffix>" (an account's
# industry is INDUSTRIES[k % 6]), so the 120 demo accounts have 120 distinct, plausible names.
ACCOUNT_BASES = ["Northwind", "Contoso", "Bluewater", "Redwood", "Summit", "Harborview", "Ironbridge", "Lakeshore",
                 "Granite Peak", "Silverline", "Evergreen", "Brightpath", "Cedar Valley", "Oakmont", "Riverside",
                 "Skyline", "Westfield", "Pinecrest", "Meridian", "Crestview"]
INDUSTRY_SUFFIX = {"healthcare": "Health", "financial-services": "Bank", "manufacturing": "Manufacturing",
                   "retail": "Retail", "software": "Software", "public-sector": "County"}
OPPORTUNITY_KINDS = ["new business", "expansion", "renewal", "pilot"]


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


def account_name(account_index: int) -> str:
    """The CRM name of demo account `account_index` (0..119)."""
    industry = INDUSTRIES[account_index % len(INDUSTRIES)]
    return f"{ACCOUNT_BASES[account_index // len(INDUSTRIES) % len(ACCOUNT_BASES)]} {INDUSTRY_SUFFIX[industry]}"


def opportunity_name(deal_number: int, created: datetime) -> str:
    """The CRM name of demo opportunity `deal_number`, e.g. "Analytics expansion FY27"."""
    product = PRODUCTS[deal_number % len(PRODUCTS)].capitalize()
    kind = OPPORTUNITY_KINDS[deal_number // len(PRODUCTS) % len(OPPORTUNITY_KINDS)]
    return f"{product} {kind} FY{(created.year + 1) % 100:02d}"


def ts(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


class Demo:
    """Loads a `demo_story.Story` through the services' own entry points (gRPC, Kafka, the content store)."""

    def __init__(self, settings: config.Settings, assets: int, deals: int, events: int, searches: int) -> None:
        self.settings = settings
        self.sizes = (assets, deals, events, searches)
        self.reps = list(demo_story.REPS)
        self.admin = auth.bearer_metadata(auth.mint(settings, "demo-loader", "admin"))
        self.service = auth.bearer_metadata(auth.mint(settings, "demo-loader", "service"))

    def plan(self) -> demo_story.Story:
        """The story ending at the anchor day of the demo already loaded, else at today's start (UTC)."""
        assets, deals, events, searches = self.sizes
        return demo_story.plan(self._anchor(), assets, deals, events, searches)

    def _anchor(self) -> datetime:
        """Reloading the next day must not move the history: the first asset's creation time pins it."""
        today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        first = content_store.Store(self.settings).get(demo_story.asset_id(1), with_body=False)
        if first is None or not first.doc.get("created_at"):
            return today
        offset = today - demo_story.plan_assets(today, self.sizes[0])[0].created
        pinned = times.parse_stored(first.doc["created_at"]) + offset
        return pinned if pinned == pinned.replace(hour=0, minute=0, second=0) and pinned <= today else today

    # ---- assets ------------------------------------------------------------------------
    def load_assets(self, story: demo_story.Story) -> None:
        """Create, publish or retire each asset, then give it its place in the year (see `_History`)."""
        stub = content_pb2_grpc.ContentServiceStub(grpc_server.channel(self.settings.content_addr, self.settings))
        history = _History(self.settings)
        # Every write waits for the index refresh (about a second): run them side by side.
        with ThreadPoolExecutor(max_workers=16) as pool, tqdm(total=len(story.assets), desc="assets", unit="asset") as bar:
            changed = []
            for doc in pool.map(lambda plan: self._load_asset(stub, history, plan), story.assets):
                if doc is not None:
                    changed.append(doc)
                bar.update(1)
        history.store.refresh()
        publisher = content_publish.Publisher(self.settings)
        try:
            publisher.catalog_many([("updated", doc) for doc in changed], AUDIT_ACTOR.subject)
        finally:
            publisher.close()

    def _load_asset(self, stub: Any, history: "_History", plan: demo_story.AssetPlan) -> dict[str, Any] | None:
        content = pdf_bytes(plan.title, plan.body, plan.pages)
        try:
            stub.CreateAsset(
                content_pb2.CreateAssetRequest(
                    asset_id=plan.asset_id, asset=self._asset_proto(plan), file_content=content,
                    file_name=f"{plan.asset_id}.pdf", content_type="application/pdf",
                    sha256=hashlib.sha256(content).hexdigest()),
                metadata=self.admin, timeout=60)
            if plan.published is not None:
                stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=plan.asset_id), metadata=self.admin,
                                  timeout=30)
            if plan.retired is not None:
                stub.RetireAsset(content_pb2.RetireAssetRequest(asset_id=plan.asset_id), metadata=self.admin,
                                 timeout=30)
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise
        return history.backdate(plan)

    @staticmethod
    def _asset_proto(plan: demo_story.AssetPlan) -> content_pb2.Asset:
        return content_pb2.Asset(
            title=plan.title, description=plan.description,
            type=content_pb2.AssetType.Value(f"ASSET_TYPE_{plan.asset_type.upper()}"), tags=plan.tags,
            products=[plan.product],
            buying_stages=[common_pb2.BuyingStage.Value(f"BUYING_STAGE_{s.upper()}") for s in plan.stages],
            personas=[plan.persona], industries=[plan.industry], regions=[plan.region], language="en",
            owner=plan.owner, expires_at=ts(plan.expires), external_id=plan.external_id)

    # ---- deals, usage, searches, requests ----------------------------------------------------------
    def load_deals(self, story: demo_story.Story) -> None:
        stub = feedback_pb2_grpc.FeedbackServiceStub(grpc_server.channel(self.settings.feedback_addr, self.settings))
        outcomes = [self._outcome(deal) for deal in story.deals]
        with tqdm(total=len(outcomes), desc="deal outcomes", unit="deal") as bar:
            for start in range(0, len(outcomes), 500):
                batch = outcomes[start:start + 500]
                stub.RecordDealOutcomes(feedback_pb2.RecordDealOutcomesRequest(outcomes=batch),
                                        metadata=self.service, timeout=60)
                bar.update(len(batch))

    @staticmethod
    def _outcome(deal: demo_story.DealPlan) -> feedback_pb2.DealOutcome:
        """The CRM's snapshot of the deal; its version (updated_at) is fixed by the plan, so reloading is a no-op."""
        updated = (deal.closed or deal.created) + timedelta(milliseconds=3)
        outcome = feedback_pb2.DealOutcome(
            event_id=f"{deal.opportunity_id}@demo-v3",
            opportunity_id=deal.opportunity_id, account_id=f"demo-acct-{deal.account_index:03d}",
            opportunity_name=opportunity_name(deal.number, deal.created), account_name=account_name(deal.account_index),
            owner_rep_id=deal.owner_rep_id, stage=feedback_pb2.DealStage.Value(f"DEAL_STAGE_{deal.stage.upper()}"),
            amount=deal.amount, currency="USD", created_at=ts(deal.created), updated_at=ts(updated),
            industry=deal.industry, region=deal.region, team=deal.team,
            product_line=PRODUCTS[deal.number % len(PRODUCTS)],
            deal_size_band="enterprise" if deal.amount >= 90_000 else "mid" if deal.amount >= 40_000 else "smb",
        )
        if deal.closed:
            outcome.closed_at.CopyFrom(ts(deal.closed))
        if deal.lost_reason:
            outcome.lost_reason = deal.lost_reason
        return outcome

    def load_events(self, story: demo_story.Story) -> None:
        stub = usage_pb2_grpc.UsageServiceStub(grpc_server.channel(self.settings.usage_addr, self.settings))
        events = [self._event(plan) for plan in story.usage]
        with tqdm(total=len(events), desc="usage events", unit="event") as bar:
            for start in range(0, len(events), 500):
                batch = events[start:start + 500]
                stub.RecordEvents(usage_pb2.RecordEventsRequest(events=batch), metadata=self.service, timeout=60)
                bar.update(len(batch))

    @staticmethod
    def _event(plan: demo_story.UsagePlan) -> usage_pb2.UsageEvent:
        event = usage_pb2.UsageEvent(
            event_id=plan.event_id, type=usage_pb2.UsageEventType.Value(f"USAGE_EVENT_TYPE_{plan.kind.upper()}"),
            asset_id=plan.asset_id, rep_id=plan.rep_id, occurred_at=ts(plan.occurred), channel=plan.channel,
            team=demo_story.rep_team(plan.rep_id), region=demo_story.rep_region(plan.rep_id),
            opportunity_id=plan.opportunity_id, account_id=plan.account_id, share_id=plan.share_id,
            user_agent=plan.user_agent)
        if plan.kind == "page_view":
            event.page, event.seconds = plan.page, plan.seconds
        return event

    def load_searches(self, story: demo_story.Story) -> None:
        """The year's searches on the content service's search topic, as the content service words them.

        Searching through the API would stamp each search with the clock and a random id; these
        carry the planned time and a fixed id, which the consumers deduplicate on.
        """
        topic = topics.SEARCHES.name(self.settings)
        records = []
        for plan in story.searches:
            event = content_publish.search_event(plan.event_id, plan.rep_id, "rep", plan.query, {}, "relevance",
                                                 plan.result_count, plan.shown_asset_ids)
            event["occurred_at"] = event["received_at"] = times.format_iso(plan.occurred)
            records.append(kafka_io.Record(topic, plan.rep_id, json.dumps(event).encode(), (("schema_version", b"1"),)))
        producer = kafka_io.Producer(self.settings, client_id="demo-loader")
        try:
            for start in range(0, len(records), 500):
                producer.send_and_wait(records[start:start + 500])
        finally:
            producer.close()

    def load_requests(self) -> None:
        """Reps asking for what they could not find; fixed request ids make a second run return the stored ones."""
        stub = feedback_pb2_grpc.FeedbackServiceStub(grpc_server.channel(self.settings.feedback_addr, self.settings))

        def submit(numbered: tuple[int, tuple[str, str]]) -> None:
            n, (rep, description) = numbered
            stub.SubmitContentRequest(
                feedback_pb2.SubmitContentRequestRequest(description=description, request_id=f"demo-request-{n:02d}"),
                metadata=auth.bearer_metadata(auth.mint(self.settings, rep, "rep")), timeout=30)

        with ThreadPoolExecutor(max_workers=8) as pool:  # each waits for the index refresh
            list(pool.map(submit, enumerate(demo_story.CONTENT_REQUESTS, start=1)))

    def load_users(self) -> None:
        """The portal accounts; existing ones are left alone (hashing a password is deliberately slow)."""
        from services.common import errors
        from services.portal.users import UserStore

        store = UserStore(self.settings)
        people = [(rep, f"Rep {rep[3:5]}", "rep") for rep in self.reps]
        people += [("marketer@demo.local", "Mara Marketer", "marketer"), ("admin@demo.local", "Ada Admin", "admin")]

        def add(person: tuple[str, str, str]) -> None:
            email, name, role = person
            if store.get(email) is not None:
                return
            try:
                store.add(email, name, role, DEMO_PASSWORD)
            except errors.AlreadyExists:
                pass

        store.ensure()  # once, before the threads
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(add, people))


class _History:
    """Gives each demo asset its planned creation, publication and last-change times.

    The API stamps those times with the clock (rightly: nobody may rewrite history through
    it), so the year is written with the content service's own conditional store update,
    recorded in the audit log like any change made outside gRPC, and announced with the
    service's own catalog event (by the caller, in one batch). A second run finds the times
    in place and writes nothing, not even an audit entry.
    """

    def __init__(self, settings: config.Settings) -> None:
        self.store = content_store.Store(settings)
        self.audit_log = audit.AuditLog(settings)
        self.origin = audit.Origin(peer=f"host:{socket.gethostname()}")

    def backdate(self, plan: demo_story.AssetPlan) -> dict[str, Any] | None:
        """The changed document, or None when the asset already has its planned times."""
        wanted = {"created_at": times.format_iso(plan.created),
                  "published_at": times.format_iso(plan.published) if plan.published else None,
                  "updated_at": times.format_iso(plan.retired or plan.published or plan.created)}
        current = self.store.require(plan.asset_id).doc
        if all(current.get(name) == value for name, value in wanted.items()):
            return None

        def mutate(doc: dict[str, Any]) -> dict[str, Any]:
            doc.update(wanted)
            doc["version"] = int(doc.get("version", 0)) + 1
            return doc

        doc, _ = audit.record_change(
            self.audit_log, AUDIT_ACTOR, self.origin, "content", "content/demo_data.SetHistory", "asset",
            plan.asset_id, self._stored, lambda: self.store.update(plan.asset_id, mutate, refresh=False))
        return doc

    def _stored(self, asset_id: str) -> dict[str, Any] | None:
        found = self.store.get(asset_id, with_body=False)
        return found.doc if found else None


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
    parser.add_argument("--events", type=cli.positive_int, default=4000,
                        help="usage events at least (default 4000; deals' shares and customer opens may add more)")
    parser.add_argument("--searches", type=cli.positive_int, default=1500, help="rep searches (default 1500)")
    parser.add_argument("--wait", action="store_true", help="wait up to 5 minutes for the services")
    args = parser.parse_args(list(argv) if argv is not None else None)
    settings = config.load()
    _wait_for_services(settings, 300 if args.wait else 30)
    demo = Demo(settings, args.assets, args.deals, args.events, args.searches)
    demo.load_users()
    story = demo.plan()
    demo.load_assets(story)
    demo.load_deals(story)
    demo.load_events(story)
    demo.load_searches(story)
    demo.load_requests()
    print(f"demo data: {len(story.assets)} assets, {len(story.deals)} opportunities, {len(story.usage)} usage events, "
          f"{len(story.searches)} searches, {len(demo.reps)} reps, history up to {story.anchor:%Y-%m-%d}. Sign in with password {DEMO_PASSWORD!r} as rep01@demo.local, "
          "marketer@demo.local or admin@demo.local")


if __name__ == "__main__":
    main()
