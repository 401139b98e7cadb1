"""A marketer reads catalog adoption on the reports overview, switches the period, exports
the overview as CSV and reads it on a phone."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta, timezone

from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import common_pb2, content_pb2, content_pb2_grpc, usage_pb2, usage_pb2_grpc
from tests.e2e.conftest import DESKTOP_UA, make_pdf, screenshot, sign_in, wait_until

pytestmark = pytest.mark.e2e

SCANNER = "Mimecast-URL-Protect/1.0"


def _ts(when: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(when)
    return out


def _falling_asset(system, title: str) -> str:
    """A published asset of this test's own, used only in the previous period (so it falls)."""
    stub = content_pb2_grpc.ContentServiceStub(system.channel("content"))
    md = system.metadata("mark.marketer@example.com", "marketer")
    created = stub.CreateAsset(content_pb2.CreateAssetRequest(
        asset=content_pb2.Asset(title=title, type=content_pb2.ASSET_TYPE_ONE_PAGER, language="en",
                                description="Used a lot last quarter, not since."),
        file_content=make_pdf(title, ["Last quarter's offer."]), file_name="falling.pdf",
        content_type="application/pdf"), metadata=md, timeout=60).asset
    stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=created.asset_id), metadata=md, timeout=30)
    return created.asset_id


def _record_usage(system, catalog, team: str) -> None:
    """Rep and customer use inside the last 30 days, rep use 30 to 90 days ago, a link scanner, and use
    90 to 180 days ago that makes an asset fall."""
    now = datetime.now(timezone.utc)
    T = usage_pb2

    def event(kind, asset, rep, days_ago, ua=DESKTOP_UA):
        return T.UsageEvent(type=kind, asset_id=catalog[asset], rep_id=rep, occurred_at=_ts(now - timedelta(days=days_ago)),
                            user_agent=ua, team=team, region="Overview North", account_id="acct-overview")

    events = [event(T.USAGE_EVENT_TYPE_VIEW, "roi", "ov-rep-a", 2), event(T.USAGE_EVENT_TYPE_SHARE, "roi", "ov-rep-a", 2),
              event(T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, "roi", "ov-rep-a", 1),
              event(T.USAGE_EVENT_TYPE_DOWNLOAD, "deck", "ov-rep-b", 45),
              event(T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, "battle", "ov-rep-b", 1, ua=SCANNER)]
    events += [event(T.USAGE_EVENT_TYPE_VIEW, "falling", "ov-rep-b", 120) for _ in range(3)]
    usage_pb2_grpc.UsageServiceStub(system.channel("usage")).RecordEvents(
        T.RecordEventsRequest(events=events), metadata=system.metadata("crm", "service"), timeout=30)


def _overview(system, days: int) -> usage_pb2.GetAdoptionOverviewResponse:
    start = datetime.now(timezone.utc) - timedelta(days=days)
    return usage_pb2_grpc.UsageServiceStub(system.channel("usage")).GetAdoptionOverview(
        usage_pb2.GetAdoptionOverviewRequest(time_range=common_pb2.TimeRange(start=_ts(start))),
        metadata=system.metadata("mark.marketer@example.com", "marketer"), timeout=30)


def _sentence(figures: usage_pb2.AdoptionFigures) -> str:
    share = 100.0 * figures.rep_used_assets / figures.published_assets if figures.published_assets else 0.0
    return f"{figures.rep_used_assets:,} of {figures.published_assets:,} published assets, {share:.0f}%"


def test_marketer_reads_adoption_switches_period_and_exports(system, accounts, catalog, new_page, tmp_path):
    uid = uuid.uuid4().hex[:4]
    team, falling = f"Overview East {uid}", f"Overview Falling Sheet {uid}"
    _record_usage(system, {**catalog, "falling": _falling_asset(system, falling)}, team)
    page = new_page()
    sign_in(page, accounts["marketer"][0])
    page.goto("/reports/")

    def team_row() -> list[str]:
        cells = page.locator("#teams tr", has_text=team).locator("td")
        return [cells.nth(i).inner_text().strip() for i in (1, 2)] if cells.count() else []

    def every_event_counted() -> bool:
        """The events sit on several partitions: the page is read once the last of them is counted."""
        page.goto("/reports/")
        return team_row() == ["2", "2"] and page.locator("#fallers", has_text=falling).count() == 1

    wait_until(every_event_counted, what="the recorded rep activity on the overview (both reps of the team active)",
               timeout_s=60, interval_s=1)
    assert page.locator(".segmented a.on").inner_text() == "90 days", "the overview opens on 90 days"
    reply = _overview(system, 90)
    assert _sentence(reply.current) in page.locator("#kpi-rep_adoption").inner_text()
    assert reply.current.customer_used_assets >= 1 and reply.current.rep_used_assets >= 2
    previous = 100.0 * reply.previous.rep_used_assets / max(1, reply.previous.published_assets)
    current = 100.0 * reply.current.rep_used_assets / max(1, reply.current.published_assets)
    arrow = "▲" if round(current - previous, 1) > 0 else "▼" if round(current - previous, 1) < 0 else "="
    assert arrow in page.locator("#kpi-rep_adoption").inner_text(), "the change against the previous 90 days"
    assert "-3 (-100%)" in page.locator("#fallers tr", has_text=falling).inner_text()
    chart = page.locator("#adoption-trend svg[role=img]").first
    assert "percent" in chart.get_attribute("aria-label")
    assert page.locator("#adoption-trend figcaption").count() == 1
    assert page.locator("#weekly-table tbody tr").count() == 13, "90 days: 12 weeks and a 6-day one"
    screenshot(page, "overview-90d")

    page.get_by_role("link", name="30 days").click()
    page.wait_for_load_state()
    assert "days=30" in page.url and page.locator(".segmented a.on").inner_text() == "30 days"
    assert "Last 30 days" in page.locator("main").inner_text()
    row = page.locator("#teams tr", has_text=team).locator("td").nth(1).inner_text()
    assert row.strip() == "1", "only the rep active in the last 30 days"
    assert page.locator("#weekly-table tbody tr").count() == 5
    screenshot(page, "overview-30d")

    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    download = info.value
    assert download.suggested_filename == "overview-30d.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["section", "name", "value"]
    by_key = {(r[0], r[1]): r for r in rows[1:]}
    assert {("headline", "rep_adoption"), ("headline", "customer_adoption"), ("headline", "active_reps")} <= set(by_key)
    assert by_key[("team", team)][2:4] == ["1", "2"]
    assert sum(1 for r in rows if r[0] == "week_reps") == 5

    phone = new_page(width=390, height=844, mobile=True)
    sign_in(phone, accounts["marketer"][0])
    phone.goto("/reports/?days=90")
    assert phone.locator("#kpi-rep_adoption").is_visible()
    assert phone.locator("html").evaluate("el => el.scrollWidth") <= 390, "no sideways scrolling at 390 px"
    phone.locator("#adoption-trend summary").click()
    assert phone.locator("#weekly-table").is_visible()
    screenshot(phone, "overview-phone")
