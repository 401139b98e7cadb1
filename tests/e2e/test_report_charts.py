"""The report charts in a real browser: attribution, win rates and an asset's usage each draw
a chart with a text alternative (aria-label and a data table), near-identical long titles
stay distinguishable, tiny p-values read "< 0.001", and nothing scrolls sideways on a
390 px wide phone (top assets too)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from google.protobuf import timestamp_pb2

from tests.e2e.conftest import USERS, make_pdf, screenshot, sign_in, wait_until

pytestmark = pytest.mark.e2e

# Longer than two lines of a chart label on any screen, and equal up to the last words.
LONG_TITLE = ("Healthcare ROI Case Study: how the Mercy Health hospital network cut clinician onboarding time "
              "by forty percent, {} edition")
WINS = 14  # above the default of 10 closed deals with and without an asset before it is ranked


def _ts(dt: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(dt.replace(tzinfo=None))
    return ts


def _create_assets(system, run: str) -> dict[str, str]:
    """Two published assets whose titles differ only in their last words: edition -> asset id."""
    from collateral.v1 import content_pb2, content_pb2_grpc

    stub = content_pb2_grpc.ContentServiceStub(system.channel("content"))
    md = system.metadata(USERS["marketer"][0], "marketer")
    ids = {}
    for edition in ("2024", "2025"):
        title = LONG_TITLE.format(edition)
        asset = content_pb2.Asset(title=title, type=content_pb2.ASSET_TYPE_CASE_STUDY, industries=["healthcare"],
                                  description="Outcomes at a hospital network.", language="en", tags=[f"k-{run}"])
        created = stub.CreateAsset(content_pb2.CreateAssetRequest(
            asset=asset, file_content=make_pdf(f"Mercy Health {edition}", ["Onboarding results."]),
            file_name=f"mercy-{edition}.pdf", content_type="application/pdf"), metadata=md, timeout=60).asset
        stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=created.asset_id), metadata=md, timeout=30)
        ids[edition] = created.asset_id
    return ids


def _record_deals(system, run: str, industry: str, winner: str, loser: str) -> None:
    """`winner` was shared into WINS won deals, `loser` into WINS lost ones, all closed yesterday."""
    from collateral.v1 import feedback_pb2, feedback_pb2_grpc, usage_pb2, usage_pb2_grpc

    now = datetime.now(timezone.utc)
    rep = USERS["rep"][0]
    opps = {f"opp-{run}-w{i}": (winner, True) for i in range(WINS)} | \
        {f"opp-{run}-l{i}": (loser, False) for i in range(WINS)}
    events = [usage_pb2.UsageEvent(event_id=f"k-{opp}", type=usage_pb2.USAGE_EVENT_TYPE_SHARE, asset_id=asset,
                                   rep_id=rep, opportunity_id=opp, account_id=f"acct-{opp}", channel="email",
                                   occurred_at=_ts(now - timedelta(days=3 if won else 4)))
              for opp, (asset, won) in opps.items()]
    usage_pb2_grpc.UsageServiceStub(system.channel("usage")).RecordEvents(
        usage_pb2.RecordEventsRequest(events=events), metadata=system.metadata("crm", "service"), timeout=30)
    outcomes = [feedback_pb2.DealOutcome(
        opportunity_id=opp, account_id=f"acct-{opp}", owner_rep_id=rep,
        stage=feedback_pb2.DEAL_STAGE_WON if won else feedback_pb2.DEAL_STAGE_LOST, amount=10_000 + i * 1_000,
        currency="USD", created_at=_ts(now - timedelta(days=20)), closed_at=_ts(now - timedelta(days=1)),
        updated_at=_ts(now - timedelta(hours=1)), industry=industry)
        for i, (opp, (_, won)) in enumerate(opps.items())]
    feedback_pb2_grpc.FeedbackServiceStub(system.channel("feedback")).RecordDealOutcomes(
        feedback_pb2.RecordDealOutcomesRequest(outcomes=outcomes), metadata=system.metadata("crm", "service"),
        timeout=30)


def _chart_labels(page, figure: str, variant: str) -> list[str]:
    """The visible label text of each asset in one drawing of a chart (its lines joined)."""
    return page.locator(f"{figure} svg.chart-{variant} text:has(tspan)").evaluate_all(
        "els => els.map(el => Array.from(el.querySelectorAll('tspan')).map(t => t.textContent).join(' | '))")


def _check_chart(page, figure: str, wants_in_label: str) -> None:
    """One drawing visible, with role="img" and a spoken summary, and its numbers behind a <details> table."""
    visible = page.locator(f"{figure} svg.chart:visible")
    assert visible.count() == 1, f"exactly one drawing of {figure} shows"
    assert visible.get_attribute("role") == "img"
    assert wants_in_label in (visible.get_attribute("aria-label") or ""), visible.get_attribute("aria-label")
    page.locator(f"{figure} details.chart-data > summary").click()
    assert page.locator(f"{figure} details.chart-data table tbody tr").first.is_visible()


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url


def test_report_charts_have_text_alternatives_and_fit_a_phone(system, accounts, catalog, new_page):
    if not system.has("feedback") or not system.has("feedback-consumer"):
        pytest.skip("the feedback service and its consumer are not part of this build")
    run = uuid.uuid4().hex[:6]
    industry = f"charts-{run}"  # a segment of this test's deals alone
    ids = _create_assets(system, run)
    _record_deals(system, run, industry, winner=ids["2024"], loser=ids["2025"])

    desk = new_page()
    sign_in(desk, accounts["marketer"][0])

    def ranked() -> bool:
        desk.goto(f"/reports/win-rates?industry={industry}")
        rows = desk.locator("#win-rates-table tbody tr")
        return rows.count() == 2 and "too few closed deals" not in desk.locator("#win-rates-table").inner_text()

    wait_until(ranked, what="both assets ranked in the win-rate report", timeout_s=120, interval_s=2)
    _check_chart(desk, "#win-rate-chart", "Win rate and 95% interval of 2 assets")
    labels = _chart_labels(desk, "#win-rate-chart", "wide")
    assert len(labels) == 2 and labels[0] != labels[1], labels
    assert {label.rsplit(" ", 2)[-2] for label in labels} == {"2024", "2025"}, "the editions tell them apart"
    full = desk.locator("#win-rate-chart svg.chart-wide text:has(tspan) > title").all_text_contents()
    assert sorted(full) == [LONG_TITLE.format("2024"), LONG_TITLE.format("2025")], "full titles as tooltips"
    winner = desk.locator("#win-rates-table tbody tr", has_text="2024 edition")
    assert winner.locator('td[data-label="p"]').inner_text() == "< 0.001", winner.inner_text()
    assert winner.locator('td[data-label="q"]').inner_text() == "< 0.001"
    assert "0.000" not in desk.locator("#win-rates-table").inner_text()
    screenshot(desk, "charts-win-rates-desktop")

    def attributed() -> bool:
        desk.goto(f"/reports/attribution?industry={industry}")
        return desk.locator("#attribution-table tbody tr", has_text="2024 edition").count() == 1

    wait_until(attributed, what="the winning asset in the attribution report", timeout_s=60, interval_s=2)
    assets = desk.locator("#attribution-table tbody tr").count()
    _check_chart(desk, "#attribution-chart", f"top {assets} asset{'s' if assets > 1 else ''} under 6 models")
    bars = desk.locator("#attribution-chart svg.chart-wide rect > title").all_text_contents()
    won = [b for b in bars if b.startswith(LONG_TITLE.format("2024") + ", ")]
    assert len(bars) == 6 * assets and len(won) == 6, bars
    assert f"{LONG_TITLE.format('2024')}, Linear: {sum(10_000 + i * 1_000 for i in range(WINS)):,}" in won
    legend = desk.locator("#attribution-chart svg.chart-wide > text:not(:has(tspan))").all_text_contents()
    assert {"First touch", "Last touch", "Linear", "Time decay", "U-shaped", "W-shaped"} <= set(legend)
    screenshot(desk, "charts-attribution-desktop")

    shared_on = (datetime.now(timezone.utc) - timedelta(days=3)).date()

    def counted() -> list[str]:
        desk.goto(f"/reports/assets/{ids['2024']}")
        return desk.locator("#usage-chart svg.chart-wide rect > title").all_text_contents()

    wait_until(lambda: counted() == [f"{shared_on}: {WINS} shares"], what="the shares in the usage chart", interval_s=1)
    _check_chart(desk, "#usage-chart", f"Bar chart of the usage of {LONG_TITLE.format('2024')} per day")
    assert desk.locator("#usage-chart svg.chart-wide polyline").count() == 0, "a sparse series is not a line"
    screenshot(desk, "charts-asset-usage-desktop")

    phone = new_page(width=390, height=844, mobile=True)
    sign_in(phone, accounts["marketer"][0])
    for path, figure, name in ((f"/reports/win-rates?industry={industry}", "#win-rate-chart", "win-rates"),
                               (f"/reports/attribution?industry={industry}", "#attribution-chart", "attribution"),
                               (f"/reports/assets/{ids['2024']}", "#usage-chart", "asset-usage")):
        phone.goto(path)
        assert phone.locator(f"{figure} svg.chart-narrow").is_visible(), f"the phone drawing of {figure} shows"
        assert not phone.locator(f"{figure} svg.chart-wide").is_visible()
        _no_sideways_scroll(phone)
        phone.locator(f"{figure} details.chart-data > summary").click()
        _no_sideways_scroll(phone)
        screenshot(phone, f"charts-{name}-phone")
    phone.goto("/reports/top?measure=shares")
    assert phone.locator("svg.chart-narrow").is_visible() and not phone.locator("svg.chart-wide").is_visible()
    _no_sideways_scroll(phone)
    screenshot(phone, "charts-top-phone")
