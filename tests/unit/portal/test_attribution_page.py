"""The attribution page: every model side by side, sourced and influenced revenue, the chart and
the Markov model's as-of time (or why there is none)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import feedback_pb2
from tests.unit.portal.conftest import login_as


def _reply(with_markov: bool) -> feedback_pb2.GetAttributionResponse:
    rows = [feedback_pb2.AssetAttribution(asset_id="deck", title="Deck", first_touch=600, last_touch=100, linear=400,
                                          time_decay=300, u_shaped=450, w_shaped=420, markov=700 if with_markov else 0,
                                          sourced_revenue=1000, sourced_deals=1, influenced_revenue=900, won_deals=2),
            feedback_pb2.AssetAttribution(asset_id="case", title="Case study", first_touch=400, last_touch=900,
                                          linear=600, time_decay=700, u_shaped=550, w_shaped=580,
                                          markov=300 if with_markov else 0, influenced_revenue=1000, won_deals=2)]
    reply = feedback_pb2.GetAttributionResponse(assets=rows, won_deals=2, attributed_total=1000, half_life_days=7,
                                                total_size=2)
    if with_markov:
        as_of = Timestamp()
        as_of.FromDatetime(datetime(2026, 11, 29, 17, 0, tzinfo=timezone.utc))
        reply.markov_as_of.CopyFrom(as_of)
        reply.markov_scope = "last-365d"
        reply.markov_paths = 5
    return reply


def test_attribution_page_shows_the_markov_as_of_time_and_a_chart(client, backends):
    requests = []
    backends.handlers[("feedback", "GetAttribution")] = lambda req: requests.append(req) or _reply(True)
    login_as(client, "marketer")
    html = client.get("/reports/attribution").get_data(as_text=True)
    assert "Markov model as of 2026-11-29 17:00 UTC" in html and "last-365d" in html
    chart = html.split('<svg class="chart chart-wide"')[1].split("</svg>")[0]
    assert "Deck, Markov: 700" in chart and "Case study, Last touch: 900" in chart
    header = html.split('id="attribution-table"')[1].split("</thead>")[0]
    assert '<th class="num">Markov</th>' in header and '<th class="num">Sourced</th><th class="num">Influenced</th>' in header
    rows = list(csv.DictReader(io.StringIO(client.get("/reports/attribution?format=csv").get_data(as_text=True))))
    assert [(r["asset_id"], float(r["markov"]), float(r["sourced_revenue"]), float(r["influenced_revenue"]))
            for r in rows] == [("deck", 700.0, 1000.0, 900.0), ("case", 300.0, 0.0, 1000.0)]
    assert requests[0].HasField("time_range") and not requests[0].time_range.HasField("end")


def test_attribution_page_says_when_no_markov_result_matches(client, backends):
    backends.handlers[("feedback", "GetAttribution")] = lambda req: _reply(False)
    login_as(client, "marketer")
    html = client.get("/reports/attribution?industry=retail").get_data(as_text=True)
    assert "Markov model: not precomputed for these filters" in html
    chart = html.split('<svg class="chart chart-wide"')[1].split("</svg>")[0]
    assert ", Markov:" not in chart and "Deck, Linear: 400" in chart
