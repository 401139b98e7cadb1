"""The whole system for end-to-end tests: every service, consumer and the portal as
subprocesses in the test session's namespace, plus a headless Chromium.

Each process gets free ports and the session's namespace and bucket, so a run never
touches the demo data or another run. Processes are started through the same
`Supervisor` that `./dev up` uses and are stopped (SIGTERM, then SIGKILL) at the end.
"""

from __future__ import annotations

import importlib.util
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import grpc
import pytest

from collateral.v1 import content_pb2, content_pb2_grpc
from scripts.local_services import PROCESSES, Supervisor, free_port
from services.common import auth, config, grpc_server
from services.portal.users import UserStore
from tests.conftest import isolated, skip_or_fail, wait_until  # noqa: F401 - re-exported to the tests

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Customers open share links in ordinary browsers; headless Chromium announces itself as
# "HeadlessChrome", which the usage service (rightly) classifies as a bot.
DESKTOP_UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")
PASSWORD = "correct-horse-battery"
# Tags the assets the end-to-end tests create, so searches and counts see only them even
# when other suites share the session's namespace.
CATALOG_TAG = "e2e-portal"

USERS = {
    "rep": ("rita.rep@example.com", "Rita Rep"),
    "rep2": ("ravi.rep@example.com", "Ravi Rep"),
    "marketer": ("mark.marketer@example.com", "Mark Marketer"),
    "admin": ("ada.admin@example.com", "Ada Admin"),
}


@dataclass
class System:
    settings: config.Settings
    supervisor: Supervisor
    base_url: str
    missing: list[str] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return name not in self.missing

    def channel(self, name: str) -> grpc.Channel:
        return grpc_server.channel(self.supervisor.address(name))

    def metadata(self, subject: str, role: str) -> tuple[tuple[str, str], ...]:
        return auth.bearer_metadata(auth.mint(self.settings, subject, role))


def _module_present(module: str) -> bool:
    """Whether `python -m module` can run (a module, or a package with __main__)."""
    try:
        spec = importlib.util.find_spec(module)
        if spec is None:
            return False
        if spec.submodule_search_locations is not None:
            return importlib.util.find_spec(module + ".__main__") is not None
        return True
    except ModuleNotFoundError:
        return False


@pytest.fixture(scope="session")
def system(stack: config.Settings, tmp_path_factory: pytest.TempPathFactory, mail_server: Any) -> Iterator[System]:
    settings = isolated(stack, "e")
    ports = {p.name: free_port() for p in PROCESSES}
    metrics_ports = {name: free_port() for name in ("content", "usage", "feedback", "portal")}
    env = dict(os.environ)
    env.update({
        "COLLATERAL_NAMESPACE": settings.namespace,
        "COLLATERAL_S3_BUCKET": settings.s3_bucket,
        "COLLATERAL_HEALTH_CHECK_INTERVAL_S": "0.5",
        "COLLATERAL_GRPC_SHUTDOWN_GRACE_S": "2",
        "COLLATERAL_CONSUMER_MAX_BACKOFF_S": "2",
        "COLLATERAL_LOG_FORMAT": "text",
        "COLLATERAL_USAGE_BOT_FAST_OPEN_S": "1",
        "COLLATERAL_USAGE_SIGNALS_INTERVAL_S": "5",
        "COLLATERAL_PORTAL_PUBLIC_URL": f"http://127.0.0.1:{ports['portal']}",
        "COLLATERAL_PORTAL_SECRET_KEY": "e2e-portal-secret-" + settings.namespace,
        "COLLATERAL_AUTH_SECRET": settings.auth_secret,
        # Email (one-time codes, notifications) goes to the session's SMTP test server.
        "COLLATERAL_SMTP_HOST": mail_server.host,
        "COLLATERAL_SMTP_PORT": str(mail_server.port),
        "COLLATERAL_SMTP_SECURITY": "none",
    })
    state = tmp_path_factory.mktemp("system")
    sup = Supervisor(state, base_env=env, ports=ports, metrics_ports=metrics_ports)
    present = [p.name for p in PROCESSES if _module_present(p.module)]
    missing = [p.name for p in PROCESSES if p.name not in present]
    try:
        sup.start(present, timeout_s=120)
    except RuntimeError:
        sup.stop()
        raise
    system = System(settings, sup, f"http://127.0.0.1:{ports['portal']}", missing)
    try:
        yield system
    finally:
        sup.stop()
        for name in present:
            log = sup.log_path(name)
            if log.exists():
                dest = ROOT / "test-artifacts" / "logs"
                dest.mkdir(parents=True, exist_ok=True)
                (dest / f"{name}.log").write_bytes(log.read_bytes()[-500_000:])


@pytest.fixture(scope="session")
def accounts(system: System) -> dict[str, tuple[str, str]]:
    """role key -> (email, password) of portal accounts created in the session's user index."""
    store = UserStore(system.settings)
    out = {}
    for key, (email, name) in USERS.items():
        role = "rep" if key.startswith("rep") else key
        store.add(email, name, role, PASSWORD, replace=True)
        out[key] = (email, PASSWORD)
    return out


def make_pdf(title: str, pages: list[str]) -> bytes:
    """A small real PDF whose pages carry `pages` text (searchable after extraction)."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.setTitle(title)
    for i, text in enumerate(pages, 1):
        c.setFillColorRGB(0.11, 0.3, 0.85)
        c.rect(0, 720, 612, 72, fill=1, stroke=0)
        c.setFillColorRGB(1, 1, 1)
        c.setFont("Helvetica-Bold", 24)
        c.drawString(48, 745, title)
        c.setFillColorRGB(0.1, 0.1, 0.1)
        c.setFont("Helvetica", 14)
        y = 660
        for line in text.split("\n"):
            c.drawString(48, y, line)
            y -= 22
        c.setFont("Helvetica", 10)
        c.drawString(48, 40, f"Page {i} of {len(pages)}")
        c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture(scope="session")
def catalog(system: System) -> dict[str, str]:
    """A few published assets, created through the content API as a marketer: key -> asset id."""
    stub = content_pb2_grpc.ContentServiceStub(system.channel("content"))
    md = system.metadata(USERS["marketer"][0], "marketer")
    specs = {
        "roi": ("Healthcare ROI Case Study", content_pb2.ASSET_TYPE_CASE_STUDY, ["healthcare"], [2, 3],
                ["How Mercy Health cut onboarding time by 40 percent.", "Results: 3.1x return in year one.",
                 "Quotes from the CFO and the CIO."]),
        "battle": ("Competitive Battle Card: Acme", content_pb2.ASSET_TYPE_BATTLE_CARD, ["retail", "healthcare"],
                   [3], ["Where we win against Acme: integrations and analytics.", "Objection handling."]),
        "deck": ("Platform Overview Deck", content_pb2.ASSET_TYPE_DECK, ["retail"], [1],
                 ["The platform in ten minutes.", "Architecture.", "Security and compliance.", "Pricing."]),
    }
    ids = {}
    for key, (title, kind, industries, stages, pages) in specs.items():
        asset = content_pb2.Asset(title=title, type=kind, industries=industries, buying_stages=stages,
                                  description=f"{title} for reps.", language="en", personas=["cfo"],
                                  tags=[CATALOG_TAG])
        created = stub.CreateAsset(content_pb2.CreateAssetRequest(
            asset=asset, file_content=make_pdf(title, pages), file_name=f"{key}.pdf",
            content_type="application/pdf"), metadata=md, timeout=60).asset
        stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=created.asset_id), metadata=md, timeout=30)
        ids[key] = created.asset_id
    mine = content_pb2.SearchAssetsRequest(query="", filters=content_pb2.SearchFilters(tags=[CATALOG_TAG]))
    wait_until(lambda: stub.SearchAssets(mine, metadata=md, timeout=10).total_size == len(specs),
               what="catalog searchable")
    return ids


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"{CHROMIUM} is not installed (./dev test installs it; or apt-get install -y chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def new_page(browser: Any, system: System) -> Iterator[Callable[..., Any]]:
    """new_page(viewport=..., user_agent=...) -> a page in a fresh browser context (own cookies)."""
    contexts = []
    problems: list[str] = []

    def make(width: int = 1366, height: int = 900, user_agent: str | None = None, mobile: bool = False) -> Any:
        ctx = browser.new_context(viewport={"width": width, "height": height}, base_url=system.base_url,
                                  user_agent=user_agent, is_mobile=mobile, has_touch=mobile, accept_downloads=True)
        ctx.set_default_timeout(20_000)
        contexts.append(ctx)
        page = ctx.new_page()
        # The portal's own scripts and markup must run under its Content-Security-Policy.
        page.on("console", lambda msg: problems.append(msg.text)
                if msg.type == "error" and "Content Security Policy" in msg.text else None)
        page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    assert not problems, f"browser reported: {problems}"


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"sign-in failed for {email}"


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def wait_page_image(page: Any, contains: str = "") -> None:
    """Wait until the viewer's page image (optionally one whose src contains `contains`) has loaded.

    Polls with locator.evaluate: the portal's Content-Security-Policy forbids the eval
    that page.wait_for_function relies on, and the tests keep that policy on.
    """
    img = page.locator("[data-page-img]")
    wait_until(lambda: img.evaluate("(el, part) => el.complete && el.naturalWidth > 0 && el.src.includes(part)",
                                    contains), what=f"page image {contains or ''} loaded", timeout_s=30, interval_s=0.2)
