"""Content tied to wins: deal outcomes joined with shares show up in the win-rate and
attribution reports, with intervals, baselines and every model side by side."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from google.protobuf import timestamp_pb2

from tests.e2e.conftest import USERS, screenshot, sign_in, wait_until

pytestmark = pytest.mark.e2e


def _ts(dt: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(dt.replace(tzinfo=None))
    return ts


def test_win_rates_and_attribution_reports(system, accounts, catalog, new_page):
    if not system.has("feedback") or not system.has("feedback-consumer"):
        pytest.skip("the feedback service and its consumer are not part of this build")
    from collateral.v1 import feedback_pb2, feedback_pb2_grpc, usage_pb2, usage_pb2_grpc

    now = datetime.now(timezone.utc)
    run = uuid.uuid4().hex[:6]
    rep = USERS["rep"][0]
    touches = {catalog["roi"]: ["w1", "w2", "w3", "l1"], catalog["battle"]: ["w1", "l1", "l2"]}
    events = [usage_pb2.UsageEvent(event_id=f"e2e-{run}-{asset}-{opp}", type=usage_pb2.USAGE_EVENT_TYPE_SHARE,
                                   asset_id=asset, rep_id=rep, opportunity_id=f"opp-{run}-{opp}",
                                   account_id=f"acct-{run}-{opp}", channel="email",
                                   occurred_at=_ts(now - timedelta(days=3)))
              for asset, opps in touches.items() for opp in opps]
    usage = usage_pb2_grpc.UsageServiceStub(system.channel("usage"))
    usage.RecordEvents(usage_pb2.RecordEventsRequest(events=events), metadata=system.metadata("crm", "service"),
                       timeout=30)
    amounts = {"w1": 50_000, "w2": 20_000, "w3": 8_000, "l1": 30_000, "l2": 12_000, "l3": 5_000}
    outcomes = [feedback_pb2.DealOutcome(
        opportunity_id=f"opp-{run}-{opp}", account_id=f"acct-{run}-{opp}", owner_rep_id=rep,
        stage=feedback_pb2.DEAL_STAGE_WON if opp.startswith("w") else feedback_pb2.DEAL_STAGE_LOST,
        amount=amount, currency="USD", created_at=_ts(now - timedelta(days=20)),
        closed_at=_ts(now - timedelta(days=1)), updated_at=_ts(now - timedelta(hours=1)), industry="healthcare",
        lost_reason="" if opp.startswith("w") else "no security whitepaper")
        for opp, amount in amounts.items()]
    feedback = feedback_pb2_grpc.FeedbackServiceStub(system.channel("feedback"))
    feedback.RecordDealOutcomes(feedback_pb2.RecordDealOutcomesRequest(outcomes=outcomes),
                                metadata=system.metadata("crm", "service"), timeout=30)

    page = new_page()
    sign_in(page, accounts["marketer"][0])

    def win_rows() -> bool:
        page.goto("/reports/win-rates")
        table = page.locator("#win-rates-table")
        return table.count() == 1 and "Healthcare ROI Case Study" in table.inner_text() and \
            "Competitive Battle Card" in table.inner_text()

    wait_until(win_rows, what="assets in the win-rate report", timeout_s=90, interval_s=2)
    row = page.locator("#win-rates-table tbody tr", has_text="Healthcare ROI Case Study")
    assert row.locator("td").nth(2).inner_text().startswith("3 / 1"), row.inner_text()
    assert "75.0%" in row.inner_text(), "3 of 4 closed deals won"
    assert "too few closed deals" in row.inner_text(), "small samples are not ranked"
    assert page.locator("svg.chart circle").count() >= 2
    screenshot(page, "report-win-rates")
    csv = page.request.get("/reports/win-rates?format=csv").text()
    assert catalog["roi"] in csv and "win_rate_lower" in csv.splitlines()[0]

    def attributed() -> bool:
        page.goto("/reports/attribution")
        return page.locator("#attribution-table tbody tr").count() >= 2

    wait_until(attributed, what="assets in the attribution report", timeout_s=60, interval_s=2)
    row = page.locator("#attribution-table tbody tr", has_text="Healthcare ROI Case Study")
    assert "78,000" in row.inner_text(), "influenced revenue: 50k + 20k + 8k won with the asset"
    screenshot(page, "report-attribution")

    # The asset's own report puts its outcomes next to its usage.
    page.goto(f"/reports/assets/{catalog['roi']}")
    outcomes = page.locator("#outcomes").inner_text()
    assert "75.0%" in outcomes and "78,000" in outcomes and "too few deals to tell" in outcomes
    screenshot(page, "report-asset-outcomes")
