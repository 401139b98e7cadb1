"""The portal shows each asset's q-value beside its p-value, on the page and in the CSV export."""

from __future__ import annotations

import csv
import io

import pytest

from collateral.v1 import feedback_pb2, usage_pb2
from services.portal import filters
from tests.unit.portal.conftest import login_as


@pytest.mark.parametrize("value, shown", [
    (0.0004, "< 0.001"), (0.0, "< 0.001"), (0.001, "0.00100"), (0.0123456, "0.0123"), (0.2, "0.200"),
    (0.99999, "1.00"), (1.0, "1.00"),
])
def test_p_and_q_values_read_to_three_significant_figures(value, shown):
    assert filters.p_value(value) == shown
    assert filters.p_value(value, relation=True) == (shown if shown.startswith("<") else f"= {shown}")


def _rates() -> list[feedback_pb2.AssetWinRate]:
    common = dict(deals_touched=60, won=40, lost=20, closed=60, win_rate=0.667, ranked=True, lift=0.2)
    return [
        feedback_pb2.AssetWinRate(asset_id="strong", p_value=0.0004, q_value=0.0123, significant=True, **common),
        feedback_pb2.AssetWinRate(asset_id="lucky", p_value=0.0312, q_value=0.2, significant=False, **common),
    ]


def _overall() -> feedback_pb2.WinRateBaseline:
    return feedback_pb2.WinRateBaseline(deals=500, won=200, lost=250, win_rate=0.444, min_closed_deals=10,
                                        significance_level=0.05)


def test_win_rate_table_and_csv_show_q_beside_p(client, backends):
    backends.handlers[("feedback", "ListAssetWinRates")] = lambda req: feedback_pb2.ListAssetWinRatesResponse(
        rates=_rates(), overall=_overall(), total_size=2)
    login_as(client, "marketer")
    html = client.get("/reports/win-rates").get_data(as_text=True)
    header = html.split('id="win-rates-table"')[1].split("</thead>")[0]
    assert '<th class="num">p</th><th class="num">q</th>' in header
    strong, lucky = html.split('href="/reports/assets/strong"')[1], html.split('href="/reports/assets/lucky"')[1]
    assert '<td data-label="p" class="num">&lt; 0.001</td>' in strong
    assert '<td data-label="q" class="num">0.0123</td>' in strong
    assert '<td data-label="p" class="num">0.0312</td>' in lucky and '<td data-label="q" class="num">0.200</td>' in lucky
    assert "0.000<" not in html

    rows = list(csv.DictReader(io.StringIO(client.get("/reports/win-rates?format=csv").get_data(as_text=True))))
    assert [(r["asset_id"], float(r["p_value"]), float(r["q_value"]), r["significant"]) for r in rows] == [
        ("strong", pytest.approx(0.0004), pytest.approx(0.0123), "True"),
        ("lucky", pytest.approx(0.0312), pytest.approx(0.2), "False")]


def test_asset_usage_page_shows_p_and_q_of_the_lift(client, backends):
    lucky = _rates()[1]
    backends.handlers[("usage", "GetAssetUsage")] = lambda req: usage_pb2.GetAssetUsageResponse(known_asset=True)
    backends.handlers[("usage", "ListShareLinks")] = lambda req: usage_pb2.ListShareLinksResponse()
    backends.handlers[("feedback", "GetWinRates")] = lambda req: feedback_pb2.GetWinRatesResponse(
        rates=[lucky], overall=_overall())
    backends.handlers[("feedback", "GetAssetScorecards")] = lambda req: feedback_pb2.GetAssetScorecardsResponse()
    login_as(client, "marketer")
    html = client.get("/reports/assets/lucky").get_data(as_text=True)
    assert "Lift, not significant" in html
    assert '<span id="lift-p">p = 0.0312</span>' in html and '<span id="lift-q">q = 0.200</span>' in html
